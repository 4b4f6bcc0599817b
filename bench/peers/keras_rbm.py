"""TensorFlow 2.x peer of genlab's RBM workload (Keras has no RBM layer; the same CD-1 as bench/peers/rbm.py in
a compiled tf.function per batch): BernoulliRBM 784x500, CD-1, batch 100, SGD lr 0.1; the reconstruction error on
one batch per epoch, the last full one (genlab's default `measureEvery: 'epoch'`)."""
from keras_common import load, parse_args, run  # first: it sets TensorFlow's environment (oneDNN off) before the import

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def main():
    args = parse_args()
    x = load(args.data)
    n_v, n_h, lr, batch = x.shape[1], 500, 0.1, 100
    W = tf.Variable(tf.random.normal((n_v, n_h)) * 0.01)
    p = np.clip(x.mean(0), 1e-3, 1 - 1e-3)
    a = tf.Variable(np.log(p / (1 - p)).astype("float32"))  # visible biases from the data
    b = tf.Variable(tf.zeros(n_h))

    @tf.function
    def step(v0, measure):  # measure: a Python bool, so two graphs, one of them without the monitor
        B = tf.cast(tf.shape(v0)[0], tf.float32)
        ph0 = tf.sigmoid(v0 @ W + b)
        h0 = tf.cast(tf.random.uniform(tf.shape(ph0)) < ph0, tf.float32)
        pv1 = tf.sigmoid(tf.matmul(h0, W, transpose_b=True) + a)
        v1 = tf.cast(tf.random.uniform(tf.shape(pv1)) < pv1, tf.float32)
        ph1 = tf.sigmoid(v1 @ W + b)
        recon = tf.reduce_sum(tf.square(v0 - tf.sigmoid(tf.matmul(ph0, W, transpose_b=True) + a))) / B if measure else 0.0
        W.assign_add(lr * (tf.matmul(v0, ph0, transpose_a=True) - tf.matmul(v1, ph1, transpose_a=True)) / B)
        a.assign_add(lr * (tf.reduce_sum(v0, 0) - tf.reduce_sum(v1, 0)) / B)
        b.assign_add(lr * (tf.reduce_sum(ph0, 0) - tf.reduce_sum(ph1, 0)) / B)
        return recon

    def epoch(x):
        n = x.shape[0]
        order = np.random.permutation(n)
        measured = (n // min(batch, n) - 1) * batch  # first row of the last full batch
        recon = float("nan")
        for s in range(0, n, batch):
            r = step(tf.constant(x[order[s:s + batch]]), s == measured)
            if s == measured:
                recon = float(r)
        assert all(bool(tf.reduce_all(tf.math.is_finite(t))) for t in (W, a, b))
        return recon

    run(epoch, x, args, "TensorFlow CD-1 tf.function (bench/peers/keras_rbm.py)")


if __name__ == "__main__":
    main()
