import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf, ready } from '../lib/engine/backend';
import { BernoulliRBM, GaussianBernoulliRBM, aisSchedule } from '../lib/rbm/bernoulli';
import { summariseLogWeights } from '../lib/mcmc/ais';
import { Random } from '../lib/engine/random';
import { assertClose } from './helpers';
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
  const r = summariseLogWeights([1, 2, 3, 4].map((w) => 100 + Math.log(w)), 5);
  assertClose(r.logZ, 105 + Math.log(2.5), 1e-12, 'logZ');
  assertClose(r.stderr, Math.sqrt(5 / 3) / 2 / 2.5, 1e-12, 'stderr');
  assert.throws(() => summariseLogWeights([1, NaN], 0), /non-finite/);
});

test('AIS agrees with the exact log Z of a 20x15 Bernoulli RBM with large weights, within its error bars', async () => {
  await ready();
  const m = randomRBM(20, 15, 2, 3); // weights N(0, 2^2): a rugged, multimodal model
  const rbm = new BernoulliRBM({ nVisible: 20, nHidden: 15, seed: 1 });
  rbm.setWeights({ W: m.W, visibleBias: m.a, hiddenBias: m.b });
  const exact = rbm.logPartition();
  const ais = await rbm.logPartitionAIS({ runs: 100, betas: 'fast', seed: 4 });
  assert.ok(ais.stderr > 0 && ais.stderr < 0.2, `stderr ${ais.stderr}`);
  assert.ok(Math.abs(ais.logZ - exact) < 3 * ais.stderr, `AIS ${ais.logZ} +- ${ais.stderr} vs exact ${exact}`);
  assert.equal(ais.logWeights.length, 100);
  // Without annealing (2 betas: plain importance sampling from the base model) the estimate is far off: the test has power.
  const naive = await rbm.logPartitionAIS({ runs: 100, betas: [0, 1], seed: 4 });
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
  const ais = await rbm.logPartitionAIS({ runs: 100, betas: 'fast', seed: 1, data });
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
  const gAis = await g.logPartitionAIS({ runs: 100, betas: 'fast', seed: 3 });
  assert.ok(Math.abs(gAis.logZ - gExact) < 3 * gAis.stderr, `Gaussian AIS ${gAis.logZ} +- ${gAis.stderr} vs ${gExact}`);
  g.dispose();
});
