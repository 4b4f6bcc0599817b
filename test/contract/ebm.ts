/** Contract entry for the EnergyModel: a small dense energy on 2-D points. */
import { Random } from '../../lib/engine/random';
import { tf } from '../../lib/engine/backend';
import { EnergyModel } from '../../lib/ebm/energy-model';
import type { ContractCase } from './case';

export const energyModel: ContractCase = {
  name: 'EnergyModel',
  build: (seed) => new EnergyModel({ dataShape: [2], hiddenUnits: [8], seed }),
  load: (dir) => EnergyModel.load(dir),
  data: () => tf.tensor2d(new Random(9).normalArray(40 * 2), [40, 2]),
  fitOptions: { batchSize: 10, langevin: { steps: 3 } },
  generative: true,
};
