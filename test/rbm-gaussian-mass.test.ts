/**
 * Issue #25 item 7: a Gaussian-Bernoulli RBM with learned sigma gives every cluster of a mixture of separated 2-D
 * Gaussians its share of the probability mass, on every training seed. The mass is exact: p(v) = exp(-F(v)) / Z with
 * log Z enumerated, integrated on a fine grid (bench/quality/gbrbm-mixtures.ts), so the check does not depend on
 * Gibbs chains (which cross between clusters too rarely to measure cluster weights).
 *
 * Mixture 101: held out from the choice of the recipe (bench/quality/gbrbm-recipe.ts; chosen on mixtures 1-3), and
 * the layout on which it failed on every seed, in genlab and in the PyTorch twin alike, until the hidden biases' steps
 * were scaled by the mean precision (lib/rbm/gaussian.ts): with plain bias steps the units stay soft, line up as
 * clones along the line through the outer clusters and smear the middle two (35-40 % of the mass away from every
 * cluster; RESULTS-gbrbm.md). So this check fails if that scaling is lost.
 * Thresholds, from the truth: each cluster holds (1 - e^{-9/2}) / 4 = 0.247 of the true mass within 3 cluster std of
 * its centre, 0.011 lies elsewhere. A share in (0.15, 0.35) is the truth within +-40 %: the failure the issue
 * reports left two clusters under 0.04. Away from every cluster < 0.2, i.e. more than 80 % of the model's mass within
 * 3 cluster std of some centre: the RBM's components share one sigma (0.05-0.09 away here, 0.01-0.09 on the other
 * layouts of RESULTS-gbrbm.md), while a model stuck as one broad Gaussian has 0.5-0.6 away. The former recipe (CD-1,
 * 4 hidden units, constant step) is shown to fail the same criterion too.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf, ready } from '../lib/engine/backend';
import { GaussianBernoulliRBM, type GaussianRBMFitOptions } from '../lib/rbm/gaussian';
import { clusterMass, clusterMixture, type ClusterMass } from '../bench/quality/gbrbm-mixtures';
import { GBRBM_RECIPE } from '../bench/quality/gbrbm-recipe';
import { sameEngineRerun } from './helpers';

const mixture = clusterMixture(101);

/** Every cluster 15-35 % of the exact mass, under 20 % away from all clusters. */
function fair(m: ClusterMass): boolean {
  return m.shares.every((s) => s > 0.15 && s < 0.35) && m.away < 0.2;
}
const describe = (m: ClusterMass) => `shares ${m.shares.map((s) => s.toFixed(3)).join(', ')}, away ${m.away.toFixed(3)}, grid total ${m.total.toFixed(4)}`;

async function train(model: typeof GBRBM_RECIPE.model | { nHidden: number; sigma: number; learnSigma: boolean }, fit: GaussianRBMFitOptions, seed: number): Promise<ClusterMass> {
  const x = tf.tensor2d(mixture.train);
  const rbm = new GaussianBernoulliRBM({ nVisible: 2, ...model, seed });
  try {
    await rbm.fit(x, { ...fit, seed: 100 + seed, progress: false });
    return clusterMass(rbm, mixture);
  } finally {
    rbm.dispose();
    x.dispose();
  }
}

test('learned sigma, PCD with parallel tempering and a decaying step: every cluster gets its share of the exact mass on 5 seeds', { skip: sameEngineRerun() }, async () => {
  await ready();
  const before = tf.memory().numTensors;
  const lines: string[] = [];
  for (const seed of [1, 2, 3, 4, 5]) {
    const m = await train(GBRBM_RECIPE.model, GBRBM_RECIPE.fit, seed);
    lines.push(`seed ${seed}: ${describe(m)}`);
    assert.ok(Math.abs(m.total - 1) < 0.01, `the grid sum of p(v) should be 1 (log Z and the grid's extent); seed ${seed}: ${describe(m)}`);
    assert.ok(fair(m), `every cluster 15-35 % of the mass, < 20 % away; seed ${seed}: ${describe(m)}`);
  }
  assert.equal(tf.memory().numTensors, before, 'fit and clusterMass leaked tensors');
  console.log(`# ${lines.join('\n# ')}`);
});

test('the former recipe (CD-1, 4 hidden units, constant step) fails the same check on the same mixture', async () => {
  await ready();
  const m = await train({ nHidden: 4, sigma: 0.5, learnSigma: true }, { epochs: 40, batchSize: 50, learningRate: 0.01, k: 1, sigmaWarmupEpochs: 15 }, 1);
  assert.ok(!fair(m), `CD-1 with 4 hidden units was expected to miss a cluster or leave mass between them; ${describe(m)}`);
});

test('finalLearningRate: the step decays linearly to it over the fit (a last step of 0 changes nothing)', async () => {
  await ready();
  const x = tf.tensor2d(mixture.train.slice(0, 100));
  const opts = { batchSize: 100, learningRate: 0.1, k: 1, seed: 7, progress: false as const };
  const decayed = new GaussianBernoulliRBM({ nVisible: 2, nHidden: 3, sigma: 0.5, seed: 1 });
  const once = new GaussianBernoulliRBM({ nVisible: 2, nHidden: 3, sigma: 0.5, seed: 1 });
  try {
    await assert.rejects(decayed.fit(x, { ...opts, finalLearningRate: -0.1 }), /finalLearningRate must be in \[0, inf\); got -0\.1/);
    // One update per epoch: 2 epochs decaying from 0.1 to 0 take steps 0.1 and 0; one epoch at 0.1 takes the first.
    await decayed.fit(x, { ...opts, epochs: 2, finalLearningRate: 0 });
    await once.fit(x, { ...opts, epochs: 1 });
    const [wd, wo] = [decayed.getWeights(), once.getWeights()];
    assert.deepEqual(Array.from(wd.W.dataSync()), Array.from(wo.W.dataSync()), 'the last update, at step 0, must leave W as the first left it');
    tf.dispose([...Object.values(wd), ...Object.values(wo)]);
    // Three epochs: steps 0.1, 0.05, 0 -- the second update moves W (unlike a last one at 0).
    const third = new GaussianBernoulliRBM({ nVisible: 2, nHidden: 3, sigma: 0.5, seed: 1 });
    await third.fit(x, { ...opts, epochs: 3, finalLearningRate: 0 });
    const w3 = third.getWeights();
    const w1 = once.getWeights();
    assert.notDeepEqual(Array.from(w3.W.dataSync()), Array.from(w1.W.dataSync()), 'the middle update (step 0.05) moves W');
    tf.dispose([...Object.values(w3), ...Object.values(w1)]);
    third.dispose();
  } finally {
    x.dispose();
    decayed.dispose();
    once.dispose();
  }
});
