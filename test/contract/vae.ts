/** Contract entry for the VAE: a small dense model on binary vectors. */
import { Random } from '../../lib/engine/random';
import { tf } from '../../lib/engine/backend';
import { VAE } from '../../lib/vae/vae';
import type { ContractCase, ContractModel } from './case';

export const vae: ContractCase = {
  name: 'VAE',
  build: (seed) => new VAE({ dataShape: [12], hiddenUnits: [8], latentDim: 2, seed }) as unknown as ContractModel,
  load: async (dir) => (await VAE.load(dir)) as unknown as ContractModel,
  data: () => tf.tensor2d(new Random(9).uniformArray(40 * 12).map((u) => (u < 0.3 ? 1 : 0)), [40, 12]),
  fitOptions: { batchSize: 10 },
  generative: true,
};
