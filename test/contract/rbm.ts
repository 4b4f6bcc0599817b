/** Contract entries for the RBMs: binary digits-like data for the Bernoulli RBM, Gaussian clusters for the GB-RBM. */
import { Random } from '../../lib/engine/random';
import { tf } from '../../lib/engine/backend';
import { BernoulliRBM } from '../../lib/rbm/bernoulli';
import { GaussianBernoulliRBM } from '../../lib/rbm/gaussian';
import type { ContractCase, ContractModel } from './case';

export const bernoulliRBM: ContractCase = {
  name: 'BernoulliRBM',
  build: (seed) => new BernoulliRBM({ dataShape: [12], nHidden: 4, seed }) as unknown as ContractModel,
  load: async (dir) => (await BernoulliRBM.load(dir)) as unknown as ContractModel,
  data: () => tf.tensor2d(new Random(9).uniformArray(40 * 12).map((u) => (u < 0.3 ? 1 : 0)), [40, 12]),
  fitOptions: { batchSize: 10 },
  generative: true,
};

export const gaussianBernoulliRBM: ContractCase = {
  name: 'GaussianBernoulliRBM',
  build: (seed) => new GaussianBernoulliRBM({ dataShape: [3], nHidden: 4, seed }) as unknown as ContractModel,
  load: async (dir) => (await GaussianBernoulliRBM.load(dir)) as unknown as ContractModel,
  data: () => tf.tensor2d(new Random(9).normalArray(40 * 3), [40, 3]),
  fitOptions: { batchSize: 10 },
  generative: true,
};
