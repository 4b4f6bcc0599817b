/**
 * Restricted Boltzmann machines: the shared model (base.ts), the contrastive-divergence update that trains them
 * (contrastive-divergence.ts), Bernoulli and Gaussian-Bernoulli visible units.
 * The helpers the classes share (ownedVariable, bernoulli, binaryStates, ...) stay internal to this folder.
 */
export { RBM, MAX_ENUMERATED_UNITS } from './base';
export type { RBMOptions, RBMFitOptions, RBMEpochLogs, RBMWeights, RBMWeightsInput, RBMSampleOptions, RBMGibbsOptions, RBMStats } from './base';
export { BernoulliRBM, RBM_LOG_ODDS_EPS } from './bernoulli';
export type { PseudoLikelihoodOptions } from './bernoulli';
export * from './gaussian';
