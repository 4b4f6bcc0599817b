/** Variational autoencoders: the model, its ELBO and IWAE, and the closed-form Gaussian KL. */
export * from './kl';
export * from './vae';
