/**
 * How good is a student's default AIS call? Trains (or loads from .cache/) a 784-16 Bernoulli RBM on binarised
 * Fashion-MNIST (60k training images, PCD-1, 100 chains, lr 0.01, batch 100, 10 epochs), computes its exact
 * log Z by enumerating the 2^16 hidden states, then runs logPartitionAIS with several settings and seeds and
 * prints error, stderr, ESS and time per call. The defaults in lib/mcmc/ais.ts (AIS_DEFAULTS) come from this.
 *
 *   npm run build && node dist/bench/ais-defaults.js [--seeds 3] [--settings default,fast]
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { ready } from '../lib/engine/backend';
import { registerFastKernels } from '../lib/engine/kernels';
import { BernoulliRBM } from '../lib/rbm';
import { loadFashionMnist } from '../datasets';
import type { AISOptions } from '../lib/mcmc/ais';

const SETTINGS: Record<string, AISOptions> = {
  default: {},
  'paper-10x10': { betas: 'salakhutdinov2008', runs: 10, batches: 10 },
  'fast-10x20': { betas: 'fast', runs: 20, batches: 10 },
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seeds: { type: 'string', default: '3' }, first: { type: 'string', default: '1' }, settings: { type: 'string', default: 'default' } } });
  await ready();
  registerFastKernels();
  const dir = '.cache/ais-defaults';
  fs.mkdirSync(dir, { recursive: true });
  let rbm: BernoulliRBM;
  const train = await loadFashionMnist({ split: 'train', binarize: 'threshold' });
  if (fs.existsSync(`${dir}/rbm/`)) {
    rbm = await BernoulliRBM.load(`${dir}/rbm`);
  } else {
    rbm = new BernoulliRBM({ nVisible: 784, nHidden: 16, seed: 1 });
    const t0 = Date.now();
    await rbm.fit(train.images, { epochs: 10, persistent: true, chains: 100, k: 1, learningRate: 0.01, batchSize: 100, progress: false });
    console.log(`trained in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await rbm.save(`${dir}/rbm`);
  }
  const t1 = Date.now();
  const exact = rbm.logPartition();
  console.log(`exact log Z = ${exact.toFixed(4)} (enumeration of 2^16 hidden states, ${((Date.now() - t1) / 1000).toFixed(1)} s)`);
  const seeds = Number(values.seeds);
  for (const name of String(values.settings).split(',')) {
    const opts = SETTINGS[name];
    if (!opts) throw new Error(`unknown setting ${name}; one of ${Object.keys(SETTINGS).join(', ')}`);
    for (let s = Number(values.first); s < Number(values.first) + seeds; s++) {
      const t = Date.now();
      const r = await rbm.logPartitionAIS({ ...opts, seed: s, data: train.images });
      const sec = (Date.now() - t) / 1000;
      console.log(
        `${name.padEnd(28)} seed ${s}: logZ ${r.logZ.toFixed(3)}  error ${(r.logZ - exact).toFixed(3)}  stderr ${r.stderr.toFixed(3)}  ` +
          `delta ${r.deltaStderr.toFixed(3)}  ESS ${r.ess.toFixed(1)} of ${r.runs * r.batches}  batches [${r.batchLogZ.map((b) => (b - exact).toFixed(2)).join(' ')}]  ${sec.toFixed(1)} s`,
      );
    }
  }
  train.images.dispose();
  rbm.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
