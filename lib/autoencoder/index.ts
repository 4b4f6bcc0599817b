/** Deterministic autoencoders: dense encoder/decoder trained on reconstruction error; PCA to compare with. */
export { Autoencoder } from './autoencoder';
export type { AutoencoderOptions, AutoencoderFitOptions, AutoencoderEpochLogs, Corruption, LinearMaps } from './autoencoder';
export { pca, principalAngles } from './pca'; // symmetricEigen stays internal (tested directly)
export type { PCAOptions, PCAResult } from './pca';
