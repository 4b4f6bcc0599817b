/** Deterministic autoencoders: dense encoder/decoder trained on reconstruction error. */
export * from './autoencoder';
