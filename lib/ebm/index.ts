/**
 * Deep energy-based models: an energy network trained by maximum likelihood with short-run Langevin negatives
 * from a replay buffer (Du & Mordatch 2019).
 */
export * from './energy-model';
