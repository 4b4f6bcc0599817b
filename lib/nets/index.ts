/** Network factories the models share (dense and convolutional encoders and decoders) and the Gaussian latent layer. */
export * from './factories';
export * from './latent';
