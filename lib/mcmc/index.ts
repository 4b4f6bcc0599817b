/**
 * Markov-chain Monte Carlo: samplers, chain diagnostics, annealed importance sampling and the Ising model.
 * Internal here: chainStart / chainEnd (the continueFrom plumbing new samplers in this folder use) and the AIS
 * engine the RBMs drive (runAIS and its helpers).
 */
export { metropolisHastings, gibbsBivariateGaussian, bivariateGaussianSamples, gibbsSampler } from './samplers';
export type {
  ChainEnd,
  ContinuableResult,
  Proposal,
  ProposalFunction,
  MetropolisHastingsOptions,
  MetropolisHastingsResult,
  GibbsBivariateGaussianOptions,
  GibbsBivariateGaussianResult,
  BivariateGaussianSamplesOptions,
  FullConditional,
  GibbsSamplerOptions,
  GibbsSamplerResult,
} from './samplers';
export * from './diagnostics';
export { aisSchedule } from './ais';
export type { AISOptions, AISResult, AISSchedulePreset } from './ais';
export * from './ising';
export * from './gradient';
