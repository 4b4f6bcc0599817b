import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, ready } from '../lib/engine/backend';
import { GaussianBernoulliRBM } from '../lib/rbm/bernoulli';
import { Random } from '../lib/engine/random';
import { assertClose, assertNoLeak, readArray } from './helpers';
import { allStates, compareVectors, logSumExp } from './rbm-brute';

/** A tiny Gaussian-Bernoulli RBM as plain arrays. */
interface SmallGRBM {
  W: number[][];
  a: number[];
  b: number[];
  sigma: number[];
}

const tiny: SmallGRBM = {
  W: [
    [1.2, -0.8, 0.5],
    [-0.4, 1.0, 0.9],
  ],
  a: [0.3, -0.5],
  b: [-0.2, 0.4, -1.0],
  sigma: [0.7, 1.3],
};

/** -E(v, h) = -sum (v - a)^2 / (2 sigma^2) + b.h + sum_ij v_i W_ij h_j / sigma_i^2 */
function negEnergy(m: SmallGRBM, v: number[], h: number[]): number {
  let e = 0;
  for (let i = 0; i < v.length; i++) e -= (v[i] - m.a[i]) ** 2 / (2 * m.sigma[i] ** 2);
  for (let j = 0; j < h.length; j++) e += m.b[j] * h[j];
  for (let i = 0; i < v.length; i++) for (let j = 0; j < h.length; j++) e += (v[i] * m.W[i][j] * h[j]) / m.sigma[i] ** 2;
  return e;
}

function modelFrom(m: SmallGRBM, learnSigma = false): GaussianBernoulliRBM {
  const rbm = new GaussianBernoulliRBM({ nVisible: m.a.length, nHidden: m.b.length, seed: 1, learnSigma });
  rbm.setWeights({ W: m.W, visibleBias: m.a, hiddenBias: m.b, sigma: m.sigma });
  return rbm;
}

test('free energy and log Z match brute force and numerical integration over v', async () => {
  await ready();
  const rbm = modelFrom(tiny);
  const hs = allStates(3);
  const points = [
    [0, 0],
    [1.5, -2],
    [-3, 0.7],
  ];
  const x = tf.tensor2d(points);
  const f = readArray(rbm.freeEnergy(x));
  points.forEach((v, i) => assertClose(f[i], -logSumExp(hs.map((h) => negEnergy(tiny, v, h))), 1e-4, `F(${v})`));
  x.dispose();
  // Z = sum_h integral exp(-E(v, h)) dv on a fine grid (midpoint rule; the integrand is smooth and decays fast).
  const step = 0.025;
  let z = 0;
  for (let v0 = -10; v0 < 10; v0 += step) {
    for (let v1 = -10; v1 < 10; v1 += step) {
      const v = [v0 + step / 2, v1 + step / 2];
      for (const h of hs) z += Math.exp(negEnergy(tiny, v, h));
    }
  }
  const logZGrid = Math.log(z * step * step);
  assertClose(rbm.logPartition(), logZGrid, 1e-4, 'log Z: closed form vs grid');
  rbm.dispose();
});

test('gradient of the log-likelihood: CD-50 update matches finite differences of the exact log-likelihood (all parameters, learnSigma)', async () => {
  await ready();
  const r = new Random(5);
  // Data: a two-component mixture, 2000 rows.
  const data = Array.from({ length: 2000 }, () => {
    const c = r.next() < 0.4;
    return [(c ? 1.5 : -1) + 0.6 * r.normal(), (c ? -1 : 1) + 0.8 * r.normal()];
  });
  const x = tf.tensor2d(data);
  // Exact gradient of L = mean log p(v) by central differences of the exact log-likelihood.
  const params = (m: SmallGRBM): number[] => [...m.W.flat(), ...m.a, ...m.b, ...m.sigma.map((s) => 2 * Math.log(s))];
  const fromParams = (p: number[]): SmallGRBM => ({
    W: [p.slice(0, 3), p.slice(3, 6)],
    a: p.slice(6, 8),
    b: p.slice(8, 11),
    sigma: p.slice(11, 13).map((z) => Math.exp(z / 2)),
  });
  const base = params(tiny);
  const ll = (p: number[]): number => {
    const m = modelFrom(fromParams(p));
    const v = m.logLikelihood(x);
    m.dispose();
    return v;
  };
  const h = 1e-2;
  const exact = base.map((_, i) => {
    const plus = base.slice();
    const minus = base.slice();
    plus[i] += h;
    minus[i] -= h;
    return (ll(plus) - ll(minus)) / (2 * h);
  });
  // genlab's CD-50 update on the whole data set as one batch, divided by the step size. With learnSigma the steps
  // of row i of W and of a_i are preconditioned by sigma_i^2 and those of b by mean_i 1 / sigma_i^2 (see
  // lib/rbm/gaussian.ts); sigma learns from the first update here (no warm-up) with the same learning rate.
  const rbm = modelFrom(tiny, true);
  const lr = 1e-3;
  await rbm.fit(x, { epochs: 1, batchSize: 2000, learningRate: lr, k: 50, progress: false, seed: 3, sigmaWarmupEpochs: 0 });
  const w = rbm.getWeights();
  const after = [...readArray(w.W), ...readArray(w.visibleBias), ...readArray(w.hiddenBias), ...readArray(w.sigma).map((s) => 2 * Math.log(s))];
  const s2 = tiny.sigma.map((s) => s * s);
  const meanPrecision = (1 / s2[0] + 1 / s2[1]) / 2;
  const stepOf = [...s2.flatMap((v) => [v, v, v]), ...s2, ...[0, 1, 2].map(() => meanPrecision), 1, 1].map((f) => f * lr); // W [2, 3] row-major, a, b, z
  const estimate = after.map((v, i) => (v - base[i]) / stepOf[i]);
  const cmp = compareVectors(estimate, exact);
  assert.ok(cmp.cosine > 0.98 && cmp.relError < 0.2, `CD-50 vs exact: ${JSON.stringify(cmp)}\n${estimate.map((e, i) => `${e.toFixed(3)}/${exact[i].toFixed(3)}`).join(' ')}`);
  x.dispose();
  rbm.dispose();
});

test('Gibbs samples reproduce the exact mean and covariance of the Gaussian mixture p(v)', async () => {
  await ready();
  // p(v) = sum_h p(h) N(a + W h, sigma^2), p(h) proportional to exp(b.h + sum_i (2 a_i m_i + m_i^2) / (2 sigma_i^2)), m = W h.
  const hs = allStates(3);
  const logW = hs.map((h) => {
    let s = tiny.b.reduce((acc, bj, j) => acc + bj * h[j], 0);
    for (let i = 0; i < 2; i++) {
      const m = tiny.W[i].reduce((acc, wij, j) => acc + wij * h[j], 0);
      s += (2 * tiny.a[i] * m + m * m) / (2 * tiny.sigma[i] ** 2);
    }
    return s;
  });
  const lz = logSumExp(logW);
  const ph = logW.map((l) => Math.exp(l - lz));
  const means = hs.map((h) => [0, 1].map((i) => tiny.a[i] + tiny.W[i].reduce((acc, wij, j) => acc + wij * h[j], 0)));
  const mean = [0, 1].map((i) => ph.reduce((acc, p, k) => acc + p * means[k][i], 0));
  const cov = [0, 1].map((i) =>
    [0, 1].map((j) => ph.reduce((acc, p, k) => acc + p * (means[k][i] * means[k][j] + (i === j ? tiny.sigma[i] ** 2 : 0)), 0) - mean[i] * mean[j]),
  );
  const rbm = modelFrom(tiny);
  const n = 20000;
  const s = await rbm.sample(n, { steps: 40, seed: 9 });
  const rows = s.arraySync();
  s.dispose();
  const m = [0, 1].map((i) => rows.reduce((acc, v) => acc + v[i], 0) / n);
  const c = [0, 1].map((i) => [0, 1].map((j) => rows.reduce((acc, v) => acc + (v[i] - m[i]) * (v[j] - m[j]), 0) / (n - 1)));
  for (let i = 0; i < 2; i++) {
    assertClose(m[i], mean[i], 4 * Math.sqrt(cov[i][i] / n) + 0.01, `mean[${i}]`);
    for (let j = 0; j < 2; j++) assertClose(c[i][j], cov[i][j], 0.06 * Math.sqrt(cov[i][i] * cov[j][j]), `cov[${i}][${j}]`);
  }
  // Parallel tempering (tempered Gaussian conditionals N(a + W h, sigma^2 / beta)) targets the same distribution.
  const nPt = 5000;
  const ptRows = await assertNoLeak(async () => {
    const pt = await rbm.sample(nPt, { steps: 20, seed: 4, parallelTempering: [1, 0.7, 0.4] });
    const out = pt.arraySync();
    pt.dispose();
    return out;
  }, 'tempered sample');
  for (let i = 0; i < 2; i++) {
    const mi = ptRows.reduce((acc, v) => acc + v[i], 0) / nPt;
    assertClose(mi, mean[i], 4 * Math.sqrt(cov[i][i] / nPt) + 0.01, `tempered mean[${i}]`);
  }
  rbm.dispose();
});

test('training raises the exact log-likelihood; no leaks; save/load keeps sigma', async () => {
  await ready();
  const r = new Random(2);
  const data = Array.from({ length: 400 }, () => {
    const c = r.next() < 0.5;
    return [(c ? 1.5 : -1.5) + 0.4 * r.normal(), (c ? 1.5 : -1.5) + 0.4 * r.normal()];
  });
  const x = tf.tensor2d(data);
  const rbm = new GaussianBernoulliRBM({ nVisible: 2, nHidden: 4, seed: 3, learnSigma: true });
  const before = rbm.logLikelihood(x);
  // Persistent chains with parallel tempering: once the learned sigma has shrunk to the clusters' width, plain PCD
  // chains cannot cross between the two clusters and the negative phase drives one cluster's weight to zero (the
  // log-likelihood fell from -4.2 to -29 here); tempered replicas cross, and sigma ends near the clusters' 0.4.
  const opts = {
    epochs: 30,
    batchSize: 20,
    learningRate: 0.02,
    k: 1,
    persistent: true,
    parallelTempering: 5,
    momentum: 0.5,
    progress: false as const,
    onEpoch: () => ({ logLikelihood: rbm.logLikelihood(x) }),
  };
  const hist = await rbm.fit(x, opts);
  const ll = hist.logLikelihood;
  assert.ok(ll[29] > before + 0.3, `log-likelihood ${before} -> ${ll[29]}`);
  // The PCD chains and momentum velocities live on for the next fit (it resumes): a second fit leaks nothing.
  await assertNoLeak(() => rbm.fit(x, { ...opts, epochs: 2 }), 'fit (PCD, learnSigma, momentum)');
  await assertNoLeak(() => rbm.transform(x).dispose(), 'transform');
  await assertNoLeak(() => rbm.freeEnergy(x).dispose(), 'freeEnergy');
  await assertNoLeak(() => rbm.reconstructionError(x), 'reconstructionError');
  await assertNoLeak(() => rbm.logLikelihood(x), 'logLikelihood');
  await assertNoLeak(() => rbm.logPartitionAIS({ runs: 5, betas: 10, data: x }), 'logPartitionAIS');
  await assertNoLeak(async () => (await rbm.sample(4, { steps: 3 })).dispose(), 'sample');
  await assertNoLeak(() => rbm.gibbs(x, 2).dispose(), 'gibbs');
  await assertNoLeak(() => tf.dispose(Object.values(rbm.getWeights())), 'getWeights');

  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-grbm-')), 'm');
  await rbm.save(dir);
  const back = await GaussianBernoulliRBM.load(dir);
  assert.equal(back.learnSigma, true);
  const [s1, s2] = [rbm.getWeights().sigma, back.getWeights().sigma];
  assert.deepEqual(readArray(s2), readArray(s1));
  assert.notDeepEqual(readArray(back.getWeights().sigma), [1, 1], 'sigma was learned');
  assertClose(back.logLikelihood(x), rbm.logLikelihood(x), 1e-5, 'log-likelihood after load');
  fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  x.dispose();
  rbm.dispose();
  back.dispose();
});

test('invalid arguments are named', async () => {
  await ready();
  assert.throws(() => new GaussianBernoulliRBM({ nVisible: 2, nHidden: 3, sigma: 0 }), /sigma must be in \(0, inf\); got 0/);
  assert.throws(() => new GaussianBernoulliRBM({ nVisible: 2, nHidden: 3, sigma: [1, -1] }), /sigma\[1\]/);
  assert.throws(() => new GaussianBernoulliRBM({ nVisible: 2, nHidden: 3, sigma: [1, 1, 1] }), /array of nVisible = 2/);
  assert.throws(() => new GaussianBernoulliRBM({ nVisible: 2, nHidden: 0 }), /nHidden must be a positive integer; got 0/);
  const rbm = new GaussianBernoulliRBM({ nVisible: 2, nHidden: 3, seed: 0 });
  const nan = tf.tensor2d([[NaN, 1]]);
  await assert.rejects(rbm.fit(nan, { progress: false }), /x must contain only finite values/);
  assert.throws(() => rbm.setWeights({ sigma: [1, 0] }), /sigma must be 2 finite positive numbers/);
  const big = new GaussianBernoulliRBM({ nVisible: 2, nHidden: 30, seed: 0 });
  assert.throws(() => big.logPartition(), /2\^30 states \(the hidden layer has 30 units\).*logPartitionAIS/);
  // Unscaled data and a huge learning rate diverge: the run stops with a clear error.
  const wild = tf.tensor2d(Array.from({ length: 50 }, (_, i) => [1e3 * i, -1e3 * i]));
  await assert.rejects(rbm.fit(wild, { epochs: 20, batchSize: 5, learningRate: 1e3, progress: false }), /GaussianBernoulliRBM\.fit diverged/);
  tf.dispose([nan, wild]);
  rbm.dispose();
  big.dispose();
});

test('reconstruct is the conditional mean a + P(h|v) W^T and matches reconstructionError', async () => {
  await ready();
  const rbm = modelFrom(tiny);
  const v = tf.tensor2d([
    [0.5, -1.2],
    [2.0, 0.3],
    [-0.7, -0.1],
  ]);
  try {
    const got = readArray(rbm.reconstruct(v));
    assert.equal(got.length, 3 * 2);
    // By hand in double precision: P(h_j|v) = sigmoid(b_j + sum_i v_i W_ij / sigma_i^2); E[v_i|h] = a_i + sum_j W_ij h_j.
    const rows = v.arraySync();
    const sig = (z: number): number => 1 / (1 + Math.exp(-z));
    let sum = 0;
    rows.forEach((row, r) => {
      const ph = tiny.b.map((bj, j) => sig(bj + row.reduce((acc, vi, i) => acc + (vi * tiny.W[i][j]) / tiny.sigma[i] ** 2, 0)));
      tiny.a.forEach((ai, i) => {
        const want = ai + ph.reduce((acc, hj, j) => acc + tiny.W[i][j] * hj, 0);
        assertClose(got[r * 2 + i], want, 1e-5, `reconstruct[${r}][${i}]`);
        sum += (row[i] - got[r * 2 + i]) ** 2;
      });
    });
    assertClose(rbm.reconstructionError(v), sum / rows.length, 1e-5, 'reconstructionError vs reconstruct');
    await assertNoLeak(() => rbm.reconstruct(v).dispose(), 'reconstruct');
    const wide = tf.zeros([1, 3]);
    assert.throws(() => rbm.reconstruct(wide as tf.Tensor2D), /v must .*2/);
    wide.dispose();
  } finally {
    v.dispose();
    rbm.dispose();
  }
});
