/** Contract entry for the DDPM: a small MLP denoiser on 2-D points. */
import { Random } from '../../lib/engine/random';
import { tf } from '../../lib/engine/backend';
import { DDPM } from '../../lib/diffusion/ddpm';
import type { ContractCase, ContractModel } from './case';

export const ddpm: ContractCase = {
  name: 'DDPM',
  build: (seed) => new DDPM({ dataShape: [2], timesteps: 20, seed }) as unknown as ContractModel,
  load: async (dir) => (await DDPM.load(dir)) as unknown as ContractModel,
  data: () => tf.tensor2d(new Random(9).normalArray(40 * 2), [40, 2]),
  fitOptions: { batchSize: 10 },
  generative: true,
};
