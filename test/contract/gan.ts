/** Contract entry for the GAN: a small dense GAN on 2-D points (linear output). */
import { Random } from '../../lib/engine/random';
import { tf } from '../../lib/engine/backend';
import { GAN } from '../../lib/gan/gan';
import type { ContractCase, ContractModel } from './case';

export const gan: ContractCase = {
  name: 'GAN',
  build: (seed) =>
    new GAN({ dataShape: [2], latentDim: 2, generatorUnits: [8], discriminatorUnits: [8], outputActivation: 'linear', batchNorm: false, dropout: 0, seed }) as unknown as ContractModel,
  load: async (dir) => (await GAN.load(dir)) as unknown as ContractModel,
  data: () => tf.tensor2d(new Random(9).normalArray(40 * 2), [40, 2]),
  fitOptions: { batchSize: 10 },
  generative: true,
};
