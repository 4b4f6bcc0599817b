/**
 * Quality check of the Gaussian-Bernoulli RBM with learned sigma against a PyTorch twin (issue #25 item 7): on
 * held-out mixtures of four separated 2-D clusters, the exact mass the trained model puts on each cluster, for
 * several training seeds, in genlab and in the same algorithm written with torch ops (bench/quality/gbrbm.py).
 *
 * "Held-out": the mixtures used here were not used to choose the recipe (seeds 1-3 were). Seeds 101-103 held out from
 * the first recipe, whose failure on 101 led to the scaled hidden-bias steps of lib/rbm/gaussian.ts; seeds 104-106
 * (`--mixtures 6`) were first trained on only after that change was settled.
 *
 * Run (from the repository root):
 *   node scripts/build.js && node dist/bench/quality/gbrbm.js [--seeds 5] [--mixtures 3] [--baseline] [--write]
 * `--baseline` also trains the lecture's former recipe (CD-1, 4 hidden units) for the "before" column.
 * `--write` rewrites bench/quality/RESULTS-gbrbm.md. PyTorch: the first Python with torch of GENLAB_PEER_PYTHON,
 * GENLAB_TORCH_PYTHON, .venv-peers, .venv (bench/peer-python.ts), on one thread.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { peerPython } from '../peer-python';
import { tf, ready } from '../../lib/engine/backend';
import { GaussianBernoulliRBM, type GaussianBernoulliRBMOptions, type GaussianRBMFitOptions } from '../../lib/rbm/gaussian';
import { arg, mean, publishReport, runMain, runTwin } from './common';
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
  /** Largest |hidden bias|: the units' thresholds (lib/rbm/gaussian.ts, scaled hidden-bias steps). */
  largestBias: number;
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
  const largestBias = Math.max(...Array.from(w.hiddenBias.dataSync(), Math.abs));
  tf.dispose([x, ...Object.values(w)]);
  rbm.dispose();
  return { ...mass, mixture: m.seed, seed, sigma, largestBias, seconds };
}

/** A run holds when every cluster has 15-35 % of the mass and at most 20 % is away from every cluster. */
const holds = (r: { shares: number[]; away: number }) => r.shares.every((s) => s > 0.15 && s < 0.35) && r.away < 0.2;

function rows(name: string, runs: Run[]): string[] {
  return runs.map((r) => `| ${name} | ${r.mixture} | ${r.seed} | ${r.shares.map((s) => s.toFixed(3)).join(', ')} | ${r.away.toFixed(3)} | ` +
    `${r.sigma.map((s) => s.toFixed(3)).join(', ')} | ${r.largestBias.toFixed(1)} | ${holds(r) ? 'yes' : '**no**'} |`);
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
  const torchRuns: Run[] = (runTwin('gbrbm.py', [job]).runs as Run[]).map((r) => ({ ...r, total: NaN }));
  fs.rmSync(dir, { recursive: true });

  const header = '| implementation | mixture | seed | mass per cluster | away | learned sigma | largest abs(b) | 15-35 % each, away < 20 % |\n|---|---|---|---|---|---|---|---|';
  const sumHeader = '| recipe | runs that hold | smallest cluster share | largest | mean away | largest away | seconds per fit |\n|---|---|---|---|---|---|---|';
  const report = `# Gaussian-Bernoulli RBM with learned sigma: mass per cluster, genlab vs PyTorch

Generated by \`bench/quality/gbrbm.ts\` on ${new Date().toISOString().slice(0, 10)} (genlab backend: ${backend}). Reproduce:

\`\`\`sh
node scripts/build.js && node dist/bench/quality/gbrbm.js --seeds ${seeds.length} --mixtures ${mixtures.length}${baseline.length ? ' --baseline' : ''} --write
\`\`\`

**Mixtures** (bench/quality/gbrbm-mixtures.ts): 4 equal clusters of std 0.12, centres uniform in [-1, 1]^2 at least
0.8 apart, 1000 points, standardised per coordinate; seeds ${mixtures.map((m) => m.seed).join(', ')} (held out: the recipe was chosen on
seeds 1-3; see the notes for 101 and 104-106). **Mass**: p(v) = exp(-F(v) - log Z), log Z exact (2^nH hidden states), summed on a ${MASS_GRID.n} x ${MASS_GRID.n} grid
of step ${MASS_GRID.step} over [-4, 4]^2 (standardised units); a cluster's share is the mass within 3 cluster std of its
centre. The truth: 0.247 per cluster, 0.011 away.

**Recipe** (both implementations, \`bench/quality/gbrbm-recipe.ts\`): \`${JSON.stringify(GBRBM_RECIPE.model)}\`,
fit \`${JSON.stringify(GBRBM_RECIPE.fit)}\`. PyTorch: \`bench/quality/gbrbm.py\` (the same algorithm written with torch
ops, its own random numbers), torch ${'{torch}'}.

## Summary

${sumHeader}
${summary('genlab', genlab)}
${summary('PyTorch', torchRuns)}
${mixtures.flatMap((m) => [['genlab', genlab], ['PyTorch', torchRuns]].map(([name, runs]) => summary(`${name}, mixture ${m.seed}`, (runs as Run[]).filter((r) => r.mixture === m.seed)))).join('\n')}
${baseline.length ? summary('before (CD-1, 4 hidden)', baseline) : ''}

## Notes

- **What went wrong on mixture 101, and the fix.** The previous recipe failed there on every seed in both
  implementations (one cluster 8-9 % of the mass, 36-40 % away, sigma 0.34 / 0.22). Its trained models (PyTorch twin,
  seed 1): 11 of the 16 weight columns were near-copies, +-(0.14, 0.07), along the line through the two outer
  clusters; all hidden biases stayed within +-1.5; two complementary codes of 8 units each put 0.20 and 0.09 of the
  mass on the two outer clusters, and the two middle clusters were drawn by many partial codes of at most 0.03 each,
  a binomial smear along that line, which sigma grew to twice the clusters' width to cover (log-likelihood -1.67 per
  point; the true mixture's is -0.74). During training the cluster shares swung widely (0.56 of the mass on one
  cluster at epoch 15, 0.49 on another at epoch 30) and sigma went from 0.3 to 0.41 in x before slowly shrinking. The model can do far better:
  maximising the exact log-likelihood (log Z enumerated) with Adam reached -0.78 with 8 hidden units and 3 % away,
  using hidden biases of -18 to +8. The exact gradient with the recipe's own steps failed like PCD did (-1.69): the
  step sizes, not the sampler nor the model, were at fault. The hidden biases must offset the coupling
  (v / sigma^2) W, which grows as 1 / sigma^2 as sigma shrinks, yet took plain steps of at most the learning rate;
  scaling their step by the mean precision mean_i 1 / sigma_i^2 (now GaussianBernoulliRBM's rule with learnSigma,
  lib/rbm/gaussian.ts, and the twin's) fixed 101 with the recipe otherwise unchanged.
- Levers tried on mixture 101 (PyTorch twin, 2 seeds each) before that, none of which helped (away 0.25-0.54):
  sigma started at 0.15 or 0.1, a 75-epoch warm-up, sigma held at 0.17, W's columns set to random training points
  (with biases matched to them or not), 8 or 20 hidden units, learning rate 0.01 for 300 epochs, batches of 20,
  no tempering. The previous report's explanation (component means a + W h cannot fit four centres far from a
  parallelogram) was wrong: the exact-likelihood fit above puts a component on each of 101's centres. Nor is its code
  one unit per cluster (biases cannot keep two units with roughly parallel weights from switching on together: the
  weight of that pair's component carries a factor exp(W_j . W_k / sigma^2)): the four codes were {0, 2, 5, 6, 7},
  {1, 3, 4}, {3, 6} and {1, 2, 3}, with 0.22-0.29 of the mass each and no other code above 0.003.
- Mixtures 104-106 were first trained on after the rule was settled (only their centres had been printed); they were
  not used to choose anything. Seeds 1-3 were the tuning mixtures of the first recipe. One run misses the criterion:
  genlab on 104 with seed 4 leaves one cluster 0.140 of the mass (another has 0.324; 3.8 % away). That is an error in
  the weights of well-placed components, not 101's smear; 104 has the narrowest clusters of the six (std 0.137 in
  standardised units along y), and the twin's smallest share there is 0.159, also near the bound. It was left as is:
  changing the recipe for it would be tuning on 104.
- Both implementations give the same figures, layout by layout.
- Seconds per fit are wall-clock on a machine shared by several jobs.

## Every run

${header}
${rows('genlab', genlab).join('\n')}
${rows('PyTorch', torchRuns).join('\n')}
${baseline.length ? rows('before', baseline).join('\n') : ''}
`;
  const torchVersion = spawnSync(peerPython() ?? 'python3', ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' }).stdout.trim();
  publishReport(report.replace('{torch}', torchVersion), 'RESULTS-gbrbm.md');
}

runMain(main);
