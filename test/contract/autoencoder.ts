/** Contract entry for the Autoencoder: a small dense model on values in [0, 1]. */
import { Random } from '../../lib/engine/random';
import { tf } from '../../lib/engine/backend';
import { Autoencoder } from '../../lib/autoencoder/autoencoder';
import type { ContractCase, ContractModel } from './case';

export const autoencoder: ContractCase = {
  name: 'Autoencoder',
  build: (seed) => new Autoencoder({ dataShape: [12], hiddenUnits: [8], codeDim: 2, seed }) as unknown as ContractModel,
  load: async (dir) => (await Autoencoder.load(dir)) as unknown as ContractModel,
  data: () => tf.tensor2d(new Random(9).uniformArray(40 * 12), [40, 12]),
  fitOptions: { batchSize: 10 },
  generative: false,
};
