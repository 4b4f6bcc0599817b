/**
 * genlab: generative modelling for the physical sciences on TensorFlow.js.
 *
 * One barrel for the public API, one folder per idea (see lib/README.md). `tf` is the engine genlab runs on:
 * import it from here so notebooks and the library share one engine and one backend.
 */
export * from './engine'; //      tf, backend selection, seeded random numbers, fast kernels
export * from './core'; //        checkpoints
export * from './train'; //       the training loop
export * from './mcmc'; //        samplers, diagnostics, AIS, the Ising model
export * from './rbm'; //         BernoulliRBM, GaussianBernoulliRBM
export * from './nets'; //        encoder and decoder factories
export * from './vae'; //         VAE, klDiagonalGaussian, klDivergence, jsDivergence
export * from './autoencoder'; // Autoencoder (dense, conv, denoising), pca
export * from './embed'; //       embedding: UMAP, t-SNE, PCA maps
export * from './ebm'; //         EnergyModel (deep energy-based models, Langevin training)
export * from './gan'; //         GAN
export * from './diffusion'; //   DDPM, NoiseSchedule, noise-prediction networks
export * from './metrics'; //     energyDistance, mmd, medianBandwidth, modeCoverage
export * from './judge'; //       DigitClassifier, digitQuality, digitQualityTable, frechetDistance
export * from './pretrained'; //  pretrained, pretrainedInfo, listPretrained
export * from './display'; //     figures, images, tables, progress, showEnvironment
export * from '../datasets'; //   loadMnist, loadFashionMnist, readIdx, synthetic sets
