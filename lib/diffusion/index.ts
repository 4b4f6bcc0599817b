/**
 * Diffusion models: the DDPM (Ho et al. 2020) with ancestral and DDIM samplers, its noise schedule (betas,
 * alphaBar, posterior and step maths, apart from any network) and its noise-prediction networks (an MLP with a
 * sinusoidal time embedding for vectors, a small residual U-Net with GroupNorm for images).
 */
export * from './schedule'; //  NoiseSchedule, makeBetas, BetaSchedule
export * from './networks'; //  sinusoidalEmbedding, NoiseNetwork, MlpNetworkOptions, UNetOptions
export * from './ddpm'; //      DDPM
export * from './latent'; //    LatentDiffusion: a DDPM on a VAE's codes, decoded
