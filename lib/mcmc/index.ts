/**
 * Markov-chain Monte Carlo: samplers, chain diagnostics, annealed importance sampling and the Ising model.
 */
export * from './samplers';
export * from './diagnostics';
export * from './ais';
export * from './ising';
export * from './gradient';
