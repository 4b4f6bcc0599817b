/** Generative adversarial networks: dense and DCGAN-style, non-saturating or minimax loss, label smoothing. */
export * from './gan';
