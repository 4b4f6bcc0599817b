/** Variational autoencoders: the model, its ELBO and IWAE, the closed-form Gaussian KL, discrete KL and Jensen-Shannon. */
export { klDiagonalGaussian, klDivergence, jsDivergence } from './kl'; // klDiagonalGaussianUnchecked stays internal (no argument checks)
export type { DiscreteDistribution, DivergenceOptions } from './kl';
export * from './vae';
