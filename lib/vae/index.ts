/** Variational autoencoders: the model, its ELBO and IWAE, and the closed-form Gaussian KL. */
export { klDiagonalGaussian } from './kl'; // klDiagonalGaussianUnchecked stays internal (no argument checks)
export * from './vae';
