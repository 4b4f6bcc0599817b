"""Keras 3 (TensorFlow 2.x) peer of genlab's dense VAE workload: 784-512-512-20 (mirror decoder), ReLU,
Bernoulli, Adam 1e-3, batch 128."""
from keras_common import load, parse_args, run, vae_trainer


def main():
    args = parse_args()
    import keras
    from keras import layers

    x = load(args.data)
    keras.utils.set_random_seed(args.seed)
    inp = keras.Input((784,))
    h = layers.Dense(512, activation="relu")(layers.Dense(512, activation="relu")(inp))
    encoder = keras.Model(inp, [layers.Dense(20)(h), layers.Dense(20)(h)])
    z = keras.Input((20,))
    g = layers.Dense(512, activation="relu")(layers.Dense(512, activation="relu")(z))
    decoder = keras.Model(z, layers.Dense(784)(g))
    run(vae_trainer(encoder, decoder, 20, 128), x, args, "Keras 3 dense VAE (bench/peers/keras_dense_vae.py)")


if __name__ == "__main__":
    main()
