/** Network factories the models share: dense and convolutional encoders and decoders. */
export * from './factories';
