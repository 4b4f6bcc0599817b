/**
 * Quality check of the Gaussian-Bernoulli RBM with learned sigma against a PyTorch twin (issue #25 item 7): on
 * held-out mixtures of four separated 2-D clusters, the exact mass the trained model puts on each cluster, for
 * several training seeds, in genlab and in the same algorithm written with torch ops (bench/quality/gbrbm.py).
 *
 * "Held-out": the mixtures used here (seeds 101-103) were not used to choose the recipe; those were seeds 1-3.
 *
 * Run (from the repository root):
 *   node scripts/build.js && node dist/bench/quality/gbrbm.js [--seeds 5] [--mixtures 3] [--baseline] [--write]
 * `--baseline` also trains the lecture's former recipe (CD-1, 4 hidden units) for the "before" column.
 * `--write` rewrites bench/quality/RESULTS-gbrbm.md. Needs /usr/bin/python3 with torch (Debian's python3-torch).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { tf, ready } from '../../lib/engine/backend';
import { GaussianBernoulliRBM, type GaussianBernoulliRBMOptions, type GaussianRBMFitOptions } from '../../lib/rbm/gaussian';
import { arg, mean, publishReport, runMain } from './common';
import { clusterMass, clusterMixture, MASS_GRID, type ClusterMass, type ClusterMixture } from './gbrbm-mixtures';
import { GBRBM_RECIPE } from './gbrbm-recipe';

/** The lecture's recipe before issue #25 (CD-1, 4 hidden units, sigma held for 15 epochs): the "before". */
const BASELINE: { model: Omit<GaussianBernoulliRBMOptions, 'nVisible'>; fit: GaussianRBMFitOptions } = {
  model: { nHidden: 4, sigma: 0.5, learnSigma: true },
  fit: { epochs: 40, batchSize: 50, learningRate: 0.01, k: 1, sigmaWarmupEpochs: 15 },
};

interface Run extends ClusterMass {
  mixture: number;
  seed: number;
  sigma: number[];
  seconds: number;
}

/** Trains one model of `recipe` on `m` with `seed` and measures its exact cluster masses. */
async function genlabRun(m: ClusterMixture, seed: number, recipe: typeof BASELINE): Promise<Run> {
  const x = tf.tensor2d(m.train);
  const rbm = new GaussianBernoulliRBM({ nVisible: 2, ...recipe.model, seed });
  const t0 = Date.now();
  await rbm.fit(x, { ...recipe.fit, seed: 100 + seed, progress: false });
  const seconds = (Date.now() - t0) / 1000;
  const mass = clusterMass(rbm, m);
  const w = rbm.getWeights();
  const sigma = Array.from(w.sigma.dataSync());
  tf.dispose([x, ...Object.values(w)]);
  rbm.dispose();
  return { ...mass, mixture: m.seed, seed, sigma, seconds };
}

/** A run holds when every cluster has 15-35 % of the mass and at most 20 % is away from every cluster. */
const holds = (r: { shares: number[]; away: number }) => r.shares.every((s) => s > 0.15 && s < 0.35) && r.away < 0.2;

function rows(name: string, runs: Run[]): string[] {
  return runs.map((r) => `| ${name} | ${r.mixture} | ${r.seed} | ${r.shares.map((s) => s.toFixed(3)).join(', ')} | ${r.away.toFixed(3)} | ` +
    `${r.sigma.map((s) => s.toFixed(3)).join(', ')} | ${holds(r) ? 'yes' : '**no**'} |`);
}

function summary(name: string, runs: Run[]): string {
  const all = runs.flatMap((r) => r.shares);
  return `| ${name} | ${runs.filter(holds).length} / ${runs.length} | ${Math.min(...all).toFixed(3)} | ${Math.max(...all).toFixed(3)} | ` +
    `${mean(runs.map((r) => r.away)).toFixed(3)} | ${Math.max(...runs.map((r) => r.away)).toFixed(3)} | ${mean(runs.map((r) => r.seconds)).toFixed(1)} |`;
}

async function main(): Promise<void> {
  const backend = await ready();
  const seeds = Array.from({ length: arg('seeds', 5) }, (_, i) => i + 1);
  const mixtures = Array.from({ length: arg('mixtures', 3) }, (_, i) => clusterMixture(101 + i));
  const genlab: Run[] = [];
  const baseline: Run[] = [];
  for (const m of mixtures) {
    for (const seed of seeds) {
      genlab.push(await genlabRun(m, seed, GBRBM_RECIPE));
      console.log(rows('genlab', genlab.slice(-1))[0]);
      if (process.argv.includes('--baseline')) {
        baseline.push(await genlabRun(m, seed, BASELINE));
        console.log(rows('before', baseline.slice(-1))[0]);
      }
    }
  }
  // The PyTorch twin: the same mixtures (points, centres, standardisation), seeds, recipe and grid.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-gbrbm-'));
  const job = path.join(dir, 'job.json');
  const { model, fit } = GBRBM_RECIPE;
  const config = {
    nHidden: model.nHidden, sigma: model.sigma, weightStd: model.weightStd, chains: fit.chains, temperatures: fit.parallelTempering,
    epochs: fit.epochs, batchSize: fit.batchSize, learningRate: fit.learningRate, finalLearningRate: fit.finalLearningRate,
    sigmaLearningRate: fit.sigmaLearningRate, warmup: fit.sigmaWarmupEpochs,
  };
  fs.writeFileSync(job, JSON.stringify({ mixtures, seeds, config, grid: MASS_GRID }));
  const py = spawnSync('/usr/bin/python3', [path.join(__dirname, '..', '..', '..', 'bench', 'quality', 'gbrbm.py'), job], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (py.status !== 0) throw new Error(`gbrbm.py failed: ${py.stderr}`);
  const torchRuns: Run[] = JSON.parse(py.stdout).runs.map((r: Run) => ({ ...r, total: NaN }));
  fs.rmSync(dir, { recursive: true });

  const header = '| implementation | mixture | seed | mass per cluster | away | learned sigma | 15-35 % each, away < 20 % |\n|---|---|---|---|---|---|---|';
  const sumHeader = '| recipe | runs that hold | smallest cluster share | largest | mean away | largest away | seconds per fit |\n|---|---|---|---|---|---|---|';
  const report = `# Gaussian-Bernoulli RBM with learned sigma: mass per cluster, genlab vs PyTorch

Generated by \`bench/quality/gbrbm.ts\` on ${new Date().toISOString().slice(0, 10)} (genlab backend: ${backend}). Reproduce:

\`\`\`sh
node scripts/build.js && node dist/bench/quality/gbrbm.js --seeds ${seeds.length} --mixtures ${mixtures.length}${baseline.length ? ' --baseline' : ''} --write
\`\`\`

**Mixtures** (bench/quality/gbrbm-mixtures.ts): 4 equal clusters of std 0.12, centres uniform in [-1, 1]^2 at least
0.8 apart, 1000 points, standardised per coordinate; seeds ${mixtures.map((m) => m.seed).join(', ')} (held out: the recipe was chosen on
seeds 1-3). **Mass**: p(v) = exp(-F(v) - log Z), log Z exact (2^nH hidden states), summed on a ${MASS_GRID.n} x ${MASS_GRID.n} grid
of step ${MASS_GRID.step} over [-4, 4]^2 (standardised units); a cluster's share is the mass within 3 cluster std of its
centre. The truth: 0.247 per cluster, 0.011 away.

**Recipe** (both implementations, \`bench/quality/gbrbm-recipe.ts\`): \`${JSON.stringify(GBRBM_RECIPE.model)}\`,
fit \`${JSON.stringify(GBRBM_RECIPE.fit)}\`. PyTorch: \`bench/quality/gbrbm.py\` (the same algorithm written with torch
ops, its own random numbers), torch ${'{torch}'}.

## Summary

${sumHeader}
${summary('genlab', genlab)}
${summary('PyTorch', torchRuns)}
${baseline.length ? summary('before (CD-1, 4 hidden)', baseline) : ''}

## Notes

- Both implementations give the same figures, layout by layout: the algorithm, not its implementation, decides the
  outcome. The recipe gives every cluster its share with 2 % of the mass away on mixtures 102 and 103, but not on
  101 (one cluster under 10 %, 35-40 % away, sigma twice the clusters' width in one coordinate), in genlab and
  PyTorch alike: its four centres are far from a parallelogram, and the RBM's component means a + W h (sums of
  weight columns) fit such layouts badly; a larger shared sigma is then the likelier model.
- On the tuning mixtures the steps that paid were, in order: a step decaying linearly to 0 (the cluster weights
  drifted by +-0.2 between epochs with a constant step under PCD with tempering), parallel tempering for the
  negative chains, sigma started below the clusters' width with W at 0.1 (started at 0.5 with W at 0.01, sigma grew
  towards the data's spread before W broke the symmetry on some mixtures and seeds), and 16 hidden units with
  150 epochs.
- Seconds per fit are wall-clock on a machine shared by several jobs (load average 13-17 on 2 cores).

## Every run

${header}
${rows('genlab', genlab).join('\n')}
${rows('PyTorch', torchRuns).join('\n')}
${baseline.length ? rows('before', baseline).join('\n') : ''}
`;
  const torchVersion = spawnSync('/usr/bin/python3', ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' }).stdout.trim();
  publishReport(report.replace('{torch}', torchVersion), 'RESULTS-gbrbm.md');
}

runMain(main);
