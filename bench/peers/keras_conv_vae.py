"""Keras 3 (TensorFlow 2.x) peer of genlab's conv VAE workload: the Keras lecture model itself (latent 2):
Conv 32 -> Conv 64 (3x3, stride 2, same, ReLU) -> Dense 16 -> (mu, log_var); Dense 7*7*64 -> ConvT 64 ->
ConvT 32 (stride 2) -> ConvT 1 logits. Bernoulli likelihood, Adam 1e-3, batch 128."""
from keras_common import load, parse_args, run, vae_trainer


def main():
    args = parse_args()
    import keras
    from keras import layers

    x = load(args.data)
    keras.utils.set_random_seed(args.seed)
    inp = keras.Input((784,))
    h = layers.Reshape((28, 28, 1))(inp)
    h = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(h)
    h = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(h)
    h = layers.Dense(16, activation="relu")(layers.Flatten()(h))
    encoder = keras.Model(inp, [layers.Dense(2)(h), layers.Dense(2)(h)])
    z = keras.Input((2,))
    g = layers.Reshape((7, 7, 64))(layers.Dense(7 * 7 * 64, activation="relu")(z))
    g = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(g)
    g = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(g)
    g = layers.Conv2DTranspose(1, 3, padding="same")(g)
    decoder = keras.Model(z, layers.Reshape((784,))(g))
    run(vae_trainer(encoder, decoder, 2, 128), x, args, "Keras 3 conv VAE (bench/peers/keras_conv_vae.py)")


if __name__ == "__main__":
    main()
