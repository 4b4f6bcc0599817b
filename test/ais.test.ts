import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf, ready } from '../lib/engine/backend';
import { BernoulliRBM, GaussianBernoulliRBM, aisSchedule } from '../lib/rbm/bernoulli';
import { summariseLogWeights } from '../lib/mcmc/ais';
import { Random } from '../lib/engine/random';
import { assertClose, assertNoLeak } from './helpers';
import { randomRBM } from './rbm-brute';

test('the default schedule is Salakhutdinov & Murray (2008); presets and validation', () => {
  const b = aisSchedule();
  assert.equal(b.length, 14501);
  assert.equal(b[0], 0);
  assert.equal(b[500], 0.5);
  assert.equal(b[4500], 0.9);
  assert.equal(b[14500], 1);
  assert.ok(b.every((x, i) => i === 0 || x > b[i - 1]), 'strictly increasing');
  assert.equal(aisSchedule('fast').length, 1451);
  const custom = aisSchedule(100);
  assert.equal(custom.length, 101);
  assert.equal(custom[100], 1);
  assert.throws(() => aisSchedule(1), /betas must be/);
});

test('log-mean-exp and delta-method stderr of the importance weights', () => {
  // Weights 1, 2, 3, 4 (times e^100): mean 2.5, sample std 1.291, stderr(log) = 1.291 / (2 * 2.5).
  const r = summariseLogWeights([1, 2, 3, 4].map((w) => 100 + Math.log(w)), 5, 2);
  assertClose(r.logZ, 105 + Math.log(2.5), 1e-12, 'logZ');
  assertClose(r.deltaStderr, Math.sqrt(5 / 3) / 2 / 2.5, 1e-12, "deltaStderr");
  assert.throws(() => summariseLogWeights([1, NaN], 0, 2), /non-finite/);
});

test('AIS agrees with the exact log Z of a 20x15 Bernoulli RBM with large weights, within its error bars', async () => {
  await ready();
  const m = randomRBM(20, 15, 2, 3); // weights N(0, 2^2): a rugged, multimodal model
  const rbm = new BernoulliRBM({ nVisible: 20, nHidden: 15, seed: 1 });
  rbm.setWeights({ W: m.W, visibleBias: m.a, hiddenBias: m.b });
  const exact = rbm.logPartition();
  const ais = await rbm.logPartitionAIS({ runs: 20, batches: 5, betas: 'fast', seed: 4 });
  assert.ok(ais.stderr > 0 && ais.stderr < 0.2, `stderr ${ais.stderr}`);
  assert.ok(Math.abs(ais.logZ - exact) < 3 * ais.stderr, `AIS ${ais.logZ} +- ${ais.stderr} vs exact ${exact}`);
  assert.equal(ais.logWeights.length, 100);
  // Without annealing (2 betas: plain importance sampling from the base model) the estimate is far off: the test has power.
  const naive = await rbm.logPartitionAIS({ runs: 20, batches: 5, betas: [0, 1], seed: 4 });
  assert.ok(exact - naive.logZ > 1, `plain importance sampling ${naive.logZ} vs exact ${exact}`);
  rbm.dispose();
});

test('AIS with a data base rate, and for a Gaussian-Bernoulli RBM, agrees with exact log Z', async () => {
  await ready();
  const r = new Random(8);
  // Bernoulli, base rate from (made-up) data.
  const m = randomRBM(16, 12, 1, 6);
  const rbm = new BernoulliRBM({ nVisible: 16, nHidden: 12, seed: 1 });
  rbm.setWeights({ W: m.W, visibleBias: m.a, hiddenBias: m.b });
  const data = tf.tensor2d(Array.from({ length: 50 }, () => Array.from({ length: 16 }, () => (r.next() < 0.3 ? 1 : 0))));
  const exact = rbm.logPartition();
  const ais = await rbm.logPartitionAIS({ runs: 20, batches: 5, betas: 'fast', seed: 1, data });
  assert.ok(Math.abs(ais.logZ - exact) < Math.max(3 * ais.stderr, 0.01), `Bernoulli AIS ${ais.logZ} +- ${ais.stderr} vs ${exact}`);
  data.dispose();
  rbm.dispose();
  // Gaussian-Bernoulli, 10 visible, 14 hidden.
  const g = new GaussianBernoulliRBM({ nVisible: 10, nHidden: 14, seed: 2 });
  g.setWeights({
    W: Array.from({ length: 10 }, () => Array.from({ length: 14 }, () => 0.4 * r.normal())),
    visibleBias: Array.from({ length: 10 }, () => r.normal()),
    hiddenBias: Array.from({ length: 14 }, () => 0.5 * r.normal()),
    sigma: Array.from({ length: 10 }, () => 0.5 + r.next()),
  });
  const gExact = g.logPartition();
  const gAis = await g.logPartitionAIS({ runs: 20, batches: 5, betas: 'fast', seed: 3 });
  assert.ok(Math.abs(gAis.logZ - gExact) < 3 * gAis.stderr, `Gaussian AIS ${gAis.logZ} +- ${gAis.stderr} vs ${gExact}`);
  g.dispose();
});

/** Student t quantile t_{0.975, 9} (10 batches). */
const T975_9 = 2.2622;

test('AIS error bars from independent batches: 95 % intervals cover the exact log Z at about the nominal rate over 200 seeds', async (t) => {
  await ready();
  // A 12x8 RBM with weights N(0, 1.5^2): multimodal enough that the importance weights vary widely.
  const m = randomRBM(12, 8, 1.5, 11);
  const rbm = new BernoulliRBM({ nVisible: 12, nHidden: 8, seed: 1 });
  rbm.setWeights({ W: m.W, visibleBias: m.a, hiddenBias: m.b });
  const exact = rbm.logPartition();
  const seeds = 200;
  let covered = 0;
  let coveredDelta = 0;
  let below = 0;
  for (let s = 0; s < seeds; s++) {
    // A deliberately short schedule (60 steps) and 10 batches of 10 runs: heavy-tailed weights.
    const r = await rbm.logPartitionAIS({ runs: 10, batches: 10, betas: 60, seed: 1000 + s });
    if (Math.abs(r.logZ - exact) <= T975_9 * r.stderr) covered++;
    if (Math.abs(r.logZ - exact) <= 1.96 * r.deltaStderr) coveredDelta++;
    if (r.logZ < exact) below++;
    assert.ok(r.ess >= 1 && r.ess <= 100, `ESS ${r.ess}`);
  }
  rbm.dispose();
  t.diagnostic(`AIS 95 % t-intervals (10 batches): ${covered}/${seeds} cover; pooled delta-method intervals: ${coveredDelta}/${seeds}; estimate below exact in ${below}/${seeds}`);
  // Binomial sd at 95 % over 200 seeds: 1.5 %. Accept 90-99 %.
  assert.ok(covered >= 180 && covered <= 198, `coverage ${covered}/${seeds}`);
});

test('logLikelihoodBounds: lower (RAISE) <= exact log-likelihood <= upper (forward AIS) over 40 seeds; AIS ESS and batch spread reported', async (t) => {
  await ready();
  const m = randomRBM(12, 8, 1.5, 12);
  const rbm = new BernoulliRBM({ nVisible: 12, nHidden: 8, seed: 1 });
  rbm.setWeights({ W: m.W, visibleBias: m.a, hiddenBias: m.b });
  // Test rows: samples from the model itself (a long Gibbs run), 20 of them.
  const x = await rbm.sample(20, { steps: 200, seed: 3 });
  const exact = rbm.logLikelihood(x);
  const seeds = 40;
  let inside = 0;
  let width = 0;
  let raiseBelow = 0;
  for (let s = 0; s < seeds; s++) {
    const b = await rbm.logLikelihoodBounds(x, { runs: 5, batches: 5, betas: 300, seed: 500 + s });
    if (!(b.lower <= exact && exact <= b.upper)) t.diagnostic(`seed ${s}: exact ${exact.toFixed(3)} outside [${b.lower.toFixed(3)}, ${b.upper.toFixed(3)}] (RAISE ${b.raise.toFixed(3)} +- ${b.raiseStderr.toFixed(3)}, AIS ${b.estimate.toFixed(3)} +- ${b.estimateStderr.toFixed(3)})`);
    assert.ok(b.lower <= b.raise && b.estimate <= b.upper, 'lower <= raise, estimate <= upper');
    if (b.lower <= exact && exact <= b.upper) inside++;
    if (b.raise <= exact) raiseBelow++;
    width += b.upper - b.lower;
  }
  t.diagnostic(`exact inside [lower, upper] for ${inside}/${seeds} seeds; RAISE below exact ${raiseBelow}/${seeds}; mean width ${(width / seeds).toFixed(3)} nats`);
  assert.ok(inside >= 38, `exact inside for ${inside}/${seeds}`);
  x.dispose();
  rbm.dispose();
});

test('AIS options are checked: batches >= 2, unknown names, and a Gaussian-Bernoulli sandwich holds the exact value', async () => {
  await ready();
  const r = new Random(3);
  const rbm = new BernoulliRBM({ nVisible: 6, nHidden: 4, seed: 1 });
  await assert.rejects(rbm.logPartitionAIS({ batches: 1 }), /batches must be an integer >= 2/);
  await assert.rejects(rbm.logPartitionAIS({ run: 5 } as never), /unknown option 'run'.*did you mean 'runs'/);
  const x = tf.tensor2d([[1, 0, 1, 0, 1, 0]]);
  await assert.rejects(rbm.logLikelihoodBounds(x, { batch: 2 } as never), /unknown option 'batch'/);
  x.dispose();
  rbm.dispose();
  const g = new GaussianBernoulliRBM({ nVisible: 5, nHidden: 6, seed: 2 });
  g.setWeights({
    W: Array.from({ length: 5 }, () => Array.from({ length: 6 }, () => 0.5 * r.normal())),
    visibleBias: Array.from({ length: 5 }, () => r.normal()),
    hiddenBias: Array.from({ length: 6 }, () => 0.5 * r.normal()),
    sigma: Array.from({ length: 5 }, () => 0.5 + r.next()),
  });
  const data = await g.sample(10, { steps: 100, seed: 4 });
  const exact = g.logLikelihood(data);
  const b = await g.logLikelihoodBounds(data, { runs: 5, batches: 4, betas: 200, seed: 6 });
  assert.ok(b.lower <= exact && exact <= b.upper, `Gaussian: exact ${exact} outside [${b.lower}, ${b.upper}]`);
  await assertNoLeak(() => g.logLikelihoodBounds(data, { runs: 2, batches: 2, betas: 10, seed: 1 }), 'logLikelihoodBounds');
  data.dispose();
  g.dispose();
});
