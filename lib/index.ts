/**
 * genlab: generative modelling for the physical sciences on TensorFlow.js.
 *
 * One barrel for the public API. `tf` is the engine genlab runs on: import it from here so notebooks and the
 * library share one engine and one backend.
 */
export * from './backend'; // tf, backend selection, describeEnvironment   (platform)
export * from './random'; // seeded generator                                (shared)
export * from './validate'; // argument checks                               (shared)
export * from './progress'; // training progress                             (display)
export * from './plot'; // plotly figures, show, figureHtml                  (display)
export * from './images'; // imageGrid, showImages                           (display)
export * from './table'; // tableHtml, table                                 (display)
export * from './mcmc'; // Metropolis-Hastings, Gibbs samplers               (MCMC)
export * from './ising'; // IsingModel                                       (MCMC)
export * from './diagnostics'; // autocorrelation time, ESS, R-hat           (MCMC)
export * from './rbm'; // BernoulliRBM, GaussianBernoulliRBM, AIS            (RBM)
export * from './checkpoint'; // atomic model files                          (RBM, shared with VAE)
export * from './kl'; // klDiagonalGaussian                                  (VAE)
export * from './vae'; // VAE                                                (VAE)
export * from './vae-factories'; // denseEncoder, convEncoder, ...              (VAE)
export * from './wasm-conv-grad'; // conv gradient kernels for WASM           (VAE)
export * from './autoencoder'; // Autoencoder                                (VAE)
// faster kernels registered on the backends (performance); listed by name: kernels.ts also has internal helpers
export { FUSED_ADAM_KERNEL, FusedAdamOptimizer, fusedAdam, registerFastKernels, unregisterFastKernels, fastKernelReport } from './kernels';
export type { FastKernelOptions, FastKernelReport } from './kernels';
export * from '../datasets'; // loadMnist, loadFashionMnist, readIdx, synthetic sets (display/datasets)
