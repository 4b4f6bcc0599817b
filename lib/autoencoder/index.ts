/** Deterministic autoencoders: dense encoder/decoder trained on reconstruction error; PCA to compare with. */
export { Autoencoder, pca, principalAngles } from './autoencoder'; // symmetricEigen stays internal (tested directly)
export type { AutoencoderOptions, AutoencoderFitOptions, Corruption, LinearMaps, PCAOptions, PCAResult } from './autoencoder';
