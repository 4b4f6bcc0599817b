"""Keras 3 / TensorFlow 2.x's part of the peers' harness (common.py has the shared part; bench/engines.ts runs these
peers with the project's .venv Python, where pip's tensorflow-cpu brings Keras 3).

Threads: `--threads N` (0 = TensorFlow's default, one per core) sets TensorFlow's intra- and inter-op pools before
anything runs. oneDNN is off, as in genlab's tensorflow backend, so both run the same Eigen kernels.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["TF_ENABLE_ONEDNN_OPTS"] = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import common  # noqa: E402
from common import load  # noqa: E402,F401  (the data as a numpy array, as Keras takes it)


def parse_args():
    """The shared arguments; sets TensorFlow's threads and seed from them."""
    args = common.parse_args(0, "0: TensorFlow's default (one per core)")
    if args.threads > 0:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    tf.random.set_seed(args.seed)
    return args


def run(train_epoch, x, args, implementation):
    """Times `train_epoch(x) -> loss` (common.run)."""
    import keras

    common.run(train_epoch, x, args, implementation,
               {"tensorflow": tf.__version__, "keras": keras.__version__, "threads": args.threads})


def neg_elbo(x, logits, mu, log_var):
    """Bernoulli negative ELBO averaged over the batch: sum BCE(logits, x) + KL(N(mu, e^lv) || N(0, I))."""
    rec = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=1)
    kl = -0.5 * tf.reduce_sum(1 + log_var - tf.square(mu) - tf.exp(log_var), axis=1)
    return tf.reduce_mean(rec + kl)


def vae_trainer(encoder, decoder, latent, batch_size):
    """An epoch function for a Keras encoder (x -> [mu, log_var]) and decoder (z -> logits): Adam 1e-3, one
    compiled tf.function step per batch (Keras 3's own train_step does the same with model.fit)."""
    import keras

    opt = keras.optimizers.Adam(1e-3)
    weights = encoder.trainable_weights + decoder.trainable_weights

    @tf.function
    def step(xb):
        eps = tf.random.normal((tf.shape(xb)[0], latent))
        with tf.GradientTape() as tape:
            mu, log_var = encoder(xb, training=True)
            z = mu + tf.exp(0.5 * log_var) * eps  # reparameterisation
            loss = neg_elbo(xb, decoder(z, training=True), mu, log_var)
        opt.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return loss

    def epoch(x):
        n = x.shape[0]
        order = np.random.permutation(n)
        total = 0.0
        for s in range(0, n, batch_size):
            xb = tf.constant(x[order[s:s + batch_size]])
            total += float(step(xb)) * xb.shape[0]
        return total / n

    return epoch
