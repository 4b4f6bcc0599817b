/**
 * The training recipe of the Gaussian-Bernoulli RBM with learned sigma that puts every cluster's share of the mass
 * on separated 2-D clusters (issue #25 item 7; measured in RESULTS-gbrbm.md, checked in
 * test/rbm-gaussian-mass.test.ts, taught in lecture 06). Data standardised per coordinate.
 */
import type { GaussianBernoulliRBMOptions, GaussianRBMFitOptions } from '../../lib/rbm/gaussian';

export const GBRBM_RECIPE = {
  model: { nHidden: 16, sigma: 0.3, weightStd: 0.1, learnSigma: true } satisfies Omit<GaussianBernoulliRBMOptions, 'nVisible'>,
  fit: {
    epochs: 150, batchSize: 50, learningRate: 0.05, finalLearningRate: 0, sigmaLearningRate: 0.05, sigmaWarmupEpochs: 10,
    k: 1, persistent: true, chains: 100, parallelTempering: 8,
  } satisfies GaussianRBMFitOptions,
};
