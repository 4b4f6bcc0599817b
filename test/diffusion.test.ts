/**
 * DDPM: the schedule's closed forms (forward marginal, posterior q(x_{t-1} | x_t, x_0)) against Bayes' rule and
 * simulation; the samplers with the exact noise predictor of Gaussian data (linear, known in closed form) against
 * exact moment recursions; DDIM with eta = 1 and every step against ancestral sampling; a trained MLP against the
 * optimal predictor and its samples against the data's moments; shapes, options, save / load, seeds, leaks.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, ready } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { DDPM } from '../lib/diffusion/ddpm';
import { NoiseSchedule, makeBetas } from '../lib/diffusion/schedule';
import { MlpNetworkOptions, NoiseNetwork, sinusoidalEmbedding } from '../lib/diffusion/networks';
import { saveCheckpoint } from '../lib/core/checkpoint';
import { assertClose, assertNoLeak } from './helpers';

// ---------------------------------------------------------------------------------------------------------
// Small 2x2 linear algebra for the Gaussian closed forms.
type M2 = [[number, number], [number, number]];
const mat = (a: number, b: number, c: number, d: number): M2 => [[a, b], [c, d]];
const mmul = (A: M2, B: M2): M2 => mat(
  A[0][0] * B[0][0] + A[0][1] * B[1][0], A[0][0] * B[0][1] + A[0][1] * B[1][1],
  A[1][0] * B[0][0] + A[1][1] * B[1][0], A[1][0] * B[0][1] + A[1][1] * B[1][1],
);
const tr = (A: M2): M2 => mat(A[0][0], A[1][0], A[0][1], A[1][1]);
const inv = (A: M2): M2 => {
  const det = A[0][0] * A[1][1] - A[0][1] * A[1][0];
  return mat(A[1][1] / det, -A[0][1] / det, -A[1][0] / det, A[0][0] / det);
};
const madd = (A: M2, B: M2, s = 1): M2 => mat(A[0][0] + s * B[0][0], A[0][1] + s * B[0][1], A[1][0] + s * B[1][0], A[1][1] + s * B[1][1]);
const scale = (A: M2, s: number): M2 => mat(A[0][0] * s, A[0][1] * s, A[1][0] * s, A[1][1] * s);
const I2 = mat(1, 0, 0, 1);
const mv = (A: M2, v: number[]) => [A[0][0] * v[0] + A[0][1] * v[1], A[1][0] * v[0] + A[1][1] * v[1]];

/** The Gaussian data of the exact checks: mean m, covariance S (correlated, unequal variances). */
const M = [0.8, -0.5];
const S = mat(0.3, 0.12, 0.12, 0.2);
const L = mat(Math.sqrt(0.3), 0, 0.12 / Math.sqrt(0.3), Math.sqrt(0.2 - 0.12 ** 2 / 0.3)); // Cholesky of S

function gaussianData(n: number, seed: number): tf.Tensor2D {
  const rng = new Random(seed);
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const z = [rng.normal(), rng.normal()];
    const x = mv(L, z);
    out[2 * i] = M[0] + x[0];
    out[2 * i + 1] = M[1] + x[1];
  }
  return tf.tensor2d(out, [n, 2]);
}

/** eps*(x_t, t) = E[eps | x_t] = b (a^2 S + b^2 I)^-1 (x_t - a m), a = sqrt(alphaBar_t), b = sqrt(1 - alphaBar_t). */
function optimalGain(s: NoiseSchedule, t: number): { K: M2; a: number } {
  const ab = s.alphaBar[t];
  const a = Math.sqrt(ab);
  const b = Math.sqrt(1 - ab);
  return { K: scale(inv(madd(scale(S, ab), scale(I2, 1 - ab))), b), a };
}

/** The exact noise predictor of the Gaussian data, as a NoiseNetwork. */
function optimalNetwork(s: NoiseSchedule): NoiseNetwork {
  const gains = Array.from({ length: s.timesteps }, (_, t) => optimalGain(s, t));
  return {
    apply(x: tf.Tensor, t: tf.Tensor1D): tf.Tensor {
      const ts = t.dataSync();
      const xs = x.dataSync();
      const out = new Float32Array(xs.length);
      for (let i = 0; i < ts.length; i++) {
        const { K, a } = gains[ts[i]];
        const e = mv(K, [xs[2 * i] - a * M[0], xs[2 * i + 1] - a * M[1]]);
        out[2 * i] = e[0];
        out[2 * i + 1] = e[1];
      }
      return tf.tensor(out, x.shape);
    },
    variables: [],
    getWeights: () => [],
    setWeights: () => undefined,
    options: { kind: 'mlp', hiddenUnits: [1], embedDim: 2, inputFeatures: 0, inputScale: null },
    describe: () => 'optimal',
    parameterCount: 0,
    dispose: () => undefined,
  };
}

/**
 * Exact mean and covariance of the ancestral sampler's output with the optimal predictor, from x_{T-1} ~ N(0, I):
 * x_{t-1} = A_t x_t + d_t + sigma_t z, A_t = cXt I + cEps K_t, d_t = -cEps K_t a_t m.
 */
function ancestralMoments(s: NoiseSchedule): { mean: number[]; cov: M2 } {
  let mean = [0, 0];
  let cov = I2;
  for (let t = s.timesteps - 1; t >= 0; t--) {
    const c = s.ancestralStep(t);
    const { K, a } = optimalGain(s, t);
    const A = madd(scale(I2, c.cXt), scale(K, c.cEps));
    const d = mv(scale(K, -c.cEps * a), M);
    const Am = mv(A, mean);
    mean = [Am[0] + d[0], Am[1] + d[1]];
    cov = madd(mmul(mmul(A, cov), tr(A)), scale(I2, c.sigma * c.sigma));
  }
  return { mean, cov };
}

function moments(x: number[][]): { mean: number[]; cov: M2 } {
  const n = x.length;
  const mean = [0, 1].map((k) => x.reduce((s, r) => s + r[k], 0) / n);
  const c = (i: number, j: number) => x.reduce((s, r) => s + (r[i] - mean[i]) * (r[j] - mean[j]), 0) / (n - 1);
  return { mean, cov: mat(c(0, 0), c(0, 1), c(1, 0), c(1, 1)) };
}

/** A DDPM on 2-D data whose network is replaced by `net` (the model's own network is freed; build it with `weightAverage: 0`, an average follows the network it was built with). */
function withNetwork(model: DDPM, net: NoiseNetwork): DDPM {
  model.network.dispose();
  (model as unknown as { network: NoiseNetwork }).network = net;
  return model;
}

// ---------------------------------------------------------------------------------------------------------
// The schedule

test('schedule: linear and cosine betas, alphaBar as the product, alphaBar_{T-1} = 0.048 for the course', () => {
  const s = new NoiseSchedule(300);
  assertClose(s.betas[0], 1e-4, 1e-15, 'beta_0');
  assertClose(s.betas[299], 0.02, 1e-15, 'beta_T-1');
  let p = 1;
  for (let t = 0; t < 300; t++) assertClose(s.alphaBar[t], (p *= 1 - s.betas[t]), 1e-15, `alphaBar_${t}`);
  assertClose(s.alphaBar[299], 0.04806, 1e-5, 'alphaBar_{T-1}, T = 300 (far from 0)');
  assertClose(new NoiseSchedule(1000).alphaBar[999], 4.04e-5, 1e-7, 'alphaBar_{T-1}, T = 1000');
  // Cosine: alphaBar_t = f(t + 1) / f(0) wherever beta is below the cap.
  const c = new NoiseSchedule(300, { kind: 'cosine' });
  const f = (u: number) => Math.cos(((u / 300 + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  for (const t of [0, 10, 150, 290]) assertClose(c.alphaBar[t], f(t + 1) / f(0), 1e-12, `cosine alphaBar_${t}`);
  assert.ok(c.logSnr(0) > s.logSnr(0) - 3 && c.logSnr(299) < s.logSnr(299), 'cosine ends noisier than linear');
  assert.throws(() => makeBetas(10, { kind: 'linear', start: 0 }), /betaSchedule.start/);
  assert.throws(() => makeBetas(10, { kind: 'quadratic' } as never), /betaSchedule.kind/);
  assert.throws(() => makeBetas(10, { kind: 'linear', stat: 0.1 } as never), /did you mean 'start'/);
});

test('posterior q(x_{t-1} | x_t, x_0): the closed form equals Bayes rule (product of Gaussians) for every t', () => {
  const s = new NoiseSchedule(300);
  for (let t = 1; t < 300; t++) {
    const aPrev = s.alphaBar[t - 1];
    // q(x_{t-1} | x_0) = N(sqrt(aPrev) x0, 1 - aPrev);  q(x_t | x_{t-1}) = N(sqrt(alpha_t) x_{t-1}, beta_t)
    const precision = 1 / (1 - aPrev) + s.alphas[t] / s.betas[t];
    const v = 1 / precision;
    const p = s.posterior(t);
    assertClose(p.variance, v, 1e-12 * v + 1e-18, `variance t=${t}`);
    assertClose(p.cX0, (v * Math.sqrt(aPrev)) / (1 - aPrev), 1e-10, `cX0 t=${t}`);
    assertClose(p.cXt, (v * Math.sqrt(s.alphas[t])) / s.betas[t], 1e-10, `cXt t=${t}`);
  }
  const p0 = s.posterior(0);
  assertClose(p0.cX0, 1, 1e-12, 'cX0 at t = 0');
  assert.deepEqual([p0.cXt, p0.variance], [0, 0]);
  assert.throws(() => s.posterior(300), /t must be an integer in \[0, 300\)/);
});

test('posterior q(x_{t-1} | x_t, x_0) by simulation: regression of x_{t-1} on x_t at fixed x_0', () => {
  const s = new NoiseSchedule(300);
  const rng = new Random(3);
  const x0 = 0.7;
  const n = 200000;
  for (const t of [1, 40, 150, 299]) {
    const aPrev = s.alphaBar[t - 1];
    let sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
    for (let i = 0; i < n; i++) {
      const xPrev = Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * rng.normal();
      const xt = Math.sqrt(s.alphas[t]) * xPrev + Math.sqrt(s.betas[t]) * rng.normal();
      sx += xt; sy += xPrev; sxx += xt * xt; sxy += xt * xPrev; syy += xPrev * xPrev;
    }
    const vx = sxx / n - (sx / n) ** 2;
    const cxy = sxy / n - (sx / n) * (sy / n);
    const slope = cxy / vx;
    const intercept = sy / n - slope * (sx / n);
    const resid = syy / n - (sy / n) ** 2 - slope * cxy;
    const p = s.posterior(t);
    const sd = Math.sqrt(p.variance);
    // standard errors: slope sd / sqrt(n vx); residual variance sqrt(2/n) of itself
    assertClose(slope, p.cXt, 5 * sd / Math.sqrt(n * vx), `slope (cXt) t=${t}`);
    assertClose(intercept, p.cX0 * x0, 5 * sd * Math.sqrt(1 / n + (sx / n) ** 2 / (n * vx)), `intercept (cX0 x0) t=${t}`);
    assertClose(resid, p.variance, 5 * Math.sqrt(2 / n) * p.variance, `variance t=${t}`);
  }
});

test('forward process: DDPM.noise and the step-by-step chain both match q(x_t | x_0) mean and variance', async () => {
  await ready();
  const m = new DDPM({ dataShape: [2], seed: 1, network: { kind: 'mlp', hiddenUnits: [4] } });
  const n = 40000;
  const x0 = tf.tile(tf.tensor2d([[1.5, -0.5]]), [n, 1]);
  for (const t of [0, 20, 120, 299]) {
    const { meanCoef, variance } = m.scheduler.marginal(t);
    const xt = m.noise(x0, t, { seed: t });
    const v = (await xt.array()) as number[][];
    xt.dispose();
    // the chain x_s = sqrt(alpha_s) x_{s-1} + sqrt(beta_s) z, s = 0 .. t, in float64
    const rng = new Random(100 + t);
    const chain: number[] = [];
    for (let i = 0; i < 20000; i++) {
      let x = 1.5;
      for (let s = 0; s <= t; s++) x = Math.sqrt(m.scheduler.alphas[s]) * x + Math.sqrt(m.scheduler.betas[s]) * rng.normal();
      chain.push(x);
    }
    for (const [name, col, k] of [['noise() x', v.map((r) => r[0]), 1.5], ['noise() y', v.map((r) => r[1]), -0.5], ['chain', chain, 1.5]] as const) {
      const mean = col.reduce((a, b) => a + b, 0) / col.length;
      const varr = col.reduce((a, b) => a + (b - mean) ** 2, 0) / (col.length - 1);
      const se = Math.sqrt(variance / col.length);
      assertClose(mean, meanCoef * k, 5 * se + 1e-6, `${name} mean at t=${t}`);
      assertClose(varr, variance, 5 * Math.sqrt(2 / col.length) * variance + 1e-6, `${name} variance at t=${t}`);
    }
  }
  x0.dispose();
  m.dispose();
});

// ---------------------------------------------------------------------------------------------------------
// Samplers with the exact predictor

test('ancestral sampling with the exact predictor of Gaussian data gives the exact moment recursion', async () => {
  await ready();
  const model = withNetwork(new DDPM({ dataShape: [2], seed: 2, weightAverage: 0 }), optimalNetwork(new NoiseSchedule(300)));
  const exact = ancestralMoments(model.scheduler);
  // The exact output is not the data (x_T is not exactly N(0, I) for T = 300) but close to it:
  assertClose(exact.mean[0], M[0], 0.02, 'exact sampler mean vs data mean');
  const n = 20000;
  const x = await model.sample(n, { seed: 5 });
  const got = moments((await x.array()) as number[][]);
  x.dispose();
  for (let k = 0; k < 2; k++) {
    const sd = Math.sqrt(exact.cov[k][k]);
    assertClose(got.mean[k], exact.mean[k], 5 * sd / Math.sqrt(n), `mean[${k}]`);
    assertClose(got.cov[k][k], exact.cov[k][k], 5 * Math.sqrt(2 / n) * exact.cov[k][k], `var[${k}]`);
  }
  assertClose(got.cov[0][1], exact.cov[0][1], 5 * Math.sqrt((exact.cov[0][0] * exact.cov[1][1]) / n), 'cov[0][1]');
  model.dispose();
});

test('DDIM with eta = 1 and all steps is the ancestral sampler: same draws, same samples; and in distribution', async () => {
  await ready();
  const model = withNetwork(new DDPM({ dataShape: [2], seed: 2, weightAverage: 0 }), optimalNetwork(new NoiseSchedule(300)));
  const a = await model.sample(3000, { seed: 9 });
  const d = await model.sample(3000, { seed: 9, sampler: 'ddim', steps: 300, eta: 1 });
  const diff = tf.max(tf.abs(a.sub(d))).dataSync()[0];
  assert.ok(diff < 1e-4, `same seed: max |ancestral - ddim(eta=1)| = ${diff}`);
  // In distribution with independent draws: two-sample z-tests on the means and variances.
  const d2 = await model.sample(3000, { seed: 10, sampler: 'ddim', steps: 300, eta: 1 });
  const ma = moments((await a.array()) as number[][]);
  const md = moments((await d2.array()) as number[][]);
  for (let k = 0; k < 2; k++) {
    assertClose(md.mean[k], ma.mean[k], 5 * Math.sqrt((2 * ma.cov[k][k]) / 3000), `mean[${k}]`);
    assertClose(md.cov[k][k], ma.cov[k][k], 5 * Math.sqrt(4 / 3000) * ma.cov[k][k], `var[${k}]`);
  }
  // eta = 0 with fewer steps is deterministic given x_T and still lands near the data.
  const det1 = await model.sample(2000, { seed: 11, sampler: 'ddim', steps: 30 });
  const mdet = moments((await det1.array()) as number[][]);
  assertClose(mdet.mean[0], M[0], 0.08, 'ddim 30 steps mean');
  assertClose(mdet.cov[0][0], S[0][0], 0.08, 'ddim 30 steps variance');
  tf.dispose([a, d, d2, det1]);
  model.dispose();
});

// ---------------------------------------------------------------------------------------------------------
// Training

test('a trained MLP approaches the optimal (linear) noise predictor, and its samples recover the data', async () => {
  await ready();
  const x = gaussianData(4000, 7);
  const model = new DDPM({ dataShape: [2], seed: 4, network: { kind: 'mlp', hiddenUnits: [64, 64] } });
  const s = model.scheduler;
  // Excess loss E||eps_theta - eps*||^2 at t uniform, x_t ~ q(x_t) (with the data's own x_0), relative to E||eps*||^2.
  const rng = new Random(8);
  const probe = gaussianData(2000, 12);
  const ts = Array.from({ length: 2000 }, () => rng.int(s.timesteps));
  const xt = model.noise(probe, ts, { seed: 13 });
  const xtv = (await xt.array()) as number[][];
  const opt = xtv.map((r, i) => {
    const { K, a } = optimalGain(s, ts[i]);
    return mv(K, [r[0] - a * M[0], r[1] - a * M[1]]);
  });
  const excess = async () => {
    const e = model.predictNoise(xt, ts);
    const ev = (await e.array()) as number[][];
    e.dispose();
    let num = 0, den = 0;
    ev.forEach((r, i) => {
      num += (r[0] - opt[i][0]) ** 2 + (r[1] - opt[i][1]) ** 2;
      den += opt[i][0] ** 2 + opt[i][1] ** 2;
    });
    return num / den;
  };
  const before = await excess();
  const history = await model.fit(x, { epochs: 30, progress: false });
  const after = await excess();
  assert.equal(history.loss.length, 30);
  assert.ok(history.loss[29] < history.loss[0], 'loss falls');
  console.log(`# relative excess error of the noise predictor: before ${before.toFixed(3)}, after ${after.toFixed(4)}`);
  assert.ok(after < 0.02 && after < before / 20, `relative excess error: before ${before.toFixed(3)}, after ${after.toFixed(4)}`);
  // Ancestral samples: the data's mean and covariance (within sampling error plus the T = 300 start mismatch).
  const smp = await model.sample(4000, { seed: 3 });
  const got = moments((await smp.array()) as number[][]);
  // The tolerance is the trained network's error, not sampling error (about 0.007 here): over six training seeds the
  // sample mean's first coordinate ranged 0.77-0.89 after these 30 epochs; an untrained model's samples sit near 0.
  for (let k = 0; k < 2; k++) {
    assertClose(got.mean[k], M[k], 0.12, `sample mean[${k}]`);
    assertClose(got.cov[k][k], S[k][k], 0.15 * S[k][k], `sample var[${k}]`);
  }
  assertClose(got.cov[0][1], S[0][1], 0.04, 'sample cov');
  tf.dispose([x, probe, xt, smp]);
  model.dispose();
});

// ---------------------------------------------------------------------------------------------------------
// Data checks, dataRange, validation, clipping

const SMALL_MLP: MlpNetworkOptions = { kind: 'mlp', hiddenUnits: [16] };

/** Flat values of a tensor a sampler returned (the tensor is freed). */
async function values(x: tf.Tensor | Promise<tf.Tensor>): Promise<number[]> {
  const t = await x;
  const out = Array.from(await t.data());
  t.dispose();
  return out;
}

test('fit checks x and validation before training (finite, shape, dataRange); refused fits change nothing', async () => {
  await ready();
  const m = new DDPM({ dataShape: [2], timesteps: 10, seed: 1, dataRange: [0, 1], network: SMALL_MLP });
  const good = tf.randomUniform([20, 2], 0, 1, 'float32', 1);
  const before = m.network.getWeights().map((w) => Array.from(w.dataSync()));
  const quiet = { epochs: 1, progress: false } as const;
  await assert.rejects(m.fit(tf.tensor2d([[0.5, NaN], [0.1, 0.2]]), quiet), /x must contain only finite values/);
  await assert.rejects(m.fit(good.mul(2).sub(1), quiet), /x must have values in \[0, 1\]; got values in \[-.*dataRange/);
  await assert.rejects(m.fit(good, { ...quiet, validation: good.add(1) }), /validation must have values in \[0, 1\]/);
  await assert.rejects(m.fit(good, { ...quiet, validation: tf.zeros([3, 3]) }), /validation must have shape \[n, 2\]/);
  await assert.rejects(m.fit(good, { ...quiet, validation: tf.tensor2d([[0.5, Infinity]]) }), /validation must contain only finite values/);
  assert.deepEqual(m.network.getWeights().map((w) => Array.from(w.dataSync())), before, 'a refused fit changed the weights');
  assert.throws(() => m.noise(good.add(2), 1), /x0 must have values in \[0, 1\]/);
  await assert.rejects(m.sample(2, { clip: 'yes' } as never), /clip must be true or false/);
  assert.throws(() => new DDPM({ dataShape: [2], dataRange: [1, 0] }), /dataRange must have low < high; got \[1, 0\]/);
  assert.throws(() => new DDPM({ dataShape: [2], dataRange: [0] as never }), /dataRange must be \[low, high\]/);
  const h = await m.fit(good, quiet);
  assert.deepEqual(h.epoch, [1], 'the refused fits count no epoch');
  good.dispose();
  m.dispose();
});

test('dataRange [0, 1]: the model is the plain one on 2x - 1, bit for bit (training, valLoss, noise, unclipped samples)', async () => {
  await ready();
  const plain = new DDPM({ dataShape: [2], timesteps: 20, seed: 9, network: SMALL_MLP });
  const unit = new DDPM({ dataShape: [2], timesteps: 20, seed: 9, network: SMALL_MLP, dataRange: [0, 1] });
  assert.equal(plain.dataRange, null);
  assert.deepEqual(unit.dataRange, [0, 1]);
  assert.match(unit.describe(), /, dataRange \[0, 1\]$/);
  const u = tf.randomUniform([48, 2], 0, 1, 'float32', 3);
  const uVal = tf.randomUniform([16, 2], 0, 1, 'float32', 4);
  const w = u.mul(2).sub(1);
  const wVal = uVal.mul(2).sub(1);
  const opts = { epochs: 2, batchSize: 12, progress: false } as const;
  const hp = await plain.fit(w, { ...opts, validation: wVal });
  const hu = await unit.fit(u, { ...opts, validation: uVal });
  assert.deepEqual(hu.loss, hp.loss, 'same training on the mapped data');
  assert.deepEqual(hu.valLoss, hp.valLoss, 'same validation loss');
  const toUnit = (x: tf.Tensor) => tf.tidy(() => x.add(1).div(2));
  assert.deepEqual(await values(unit.noise(u, 7, { seed: 1 })), await values(toUnit(plain.noise(w, 7, { seed: 1 }))));
  for (const o of [{}, { sampler: 'ddim', steps: 5, eta: 0.3 }] as const) {
    const mapped = toUnit(await plain.sample(9, { ...o, seed: 2 }));
    assert.deepEqual(await values(unit.sample(9, { ...o, seed: 2, clip: false })), await values(mapped), `unclipped ${JSON.stringify(o)}`);
  }
  // predictNoise takes x_t in the data's units and returns the noise in the working units
  const xt = unit.noise(u, 5, { seed: 3 });
  const eU = await values(unit.predictNoise(xt, 5));
  const eP = await values(plain.predictNoise(plain.noise(w, 5, { seed: 3 }), 5));
  eU.forEach((e, i) => assertClose(e, eP[i], 1e-5, `eps[${i}]`));
  tf.dispose([u, uVal, w, wVal, xt]);
  plain.dispose();
  unit.dispose();
});

test('simpleLoss: mean (eps - eps_theta(x_t, t))^2 at the given t and eps, x_t as noise() makes it; dataRange maps x0; checked', async () => {
  await ready();
  const plain = new DDPM({ dataShape: [2], timesteps: 20, seed: 9, network: SMALL_MLP });
  const unit = new DDPM({ dataShape: [2], timesteps: 20, seed: 9, network: SMALL_MLP, dataRange: [0, 1] });
  const rng = new Random(5);
  const u = tf.tensor2d(Array.from({ length: 32 }, () => rng.next()), [16, 2]);
  const w = tf.tidy(() => u.mul(2).sub(1));
  const ts = Array.from({ length: 16 }, () => rng.int(20));
  const eps = tf.tensor2d(rng.normalArray(32), [16, 2]);
  const [loss] = await values(plain.simpleLoss(w, ts, eps));
  // the same number from the public pieces: x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, then eps_theta(x_t, t)
  const [byHand] = await values(tf.tidy(() => eps.sub(plain.predictNoise(plain.noise(w, ts, { eps }), ts)).square().mean()));
  assertClose(loss, byHand, 1e-6, 'simpleLoss against noise + predictNoise');
  assert.ok(loss > 0.05 && loss < 10, `an untrained network's loss is of order 1; got ${loss}`);
  const [other] = await values(plain.simpleLoss(w, ts.map((t) => (t + 7) % 20), eps));
  assert.notEqual(other, loss, 'the steps t enter the loss');
  const [mapped] = await values(unit.simpleLoss(u, ts, eps));
  assertClose(mapped, loss, 1e-6, 'dataRange [0, 1]: the plain model on 2x - 1');
  assert.throws(() => plain.simpleLoss(w, ts, eps.slice([0, 0], [8, 2])), /eps must have the shape of x0 \[16, 2\]; got \[8, 2\]/);
  assert.throws(() => plain.simpleLoss(w, 20, eps), /t must be integers in \[0, 20\); got 20/);
  assert.throws(() => unit.simpleLoss(w, ts, eps), /x0/, 'data outside dataRange refused');
  await assertNoLeak(async () => { plain.simpleLoss(w, 3, eps).dispose(); });
  tf.dispose([u, w, eps]);
  plain.dispose();
  unit.dispose();
});

test('validation: valLoss at fixed draws of t and eps (unchanged weights score the same), training undisturbed', async () => {
  await ready();
  const make = () => new DDPM({ dataShape: [2], timesteps: 20, seed: 7, network: SMALL_MLP });
  const x = gaussianData(64, 3);
  const v = gaussianData(40, 4);
  const a = make();
  const b = make();
  const ha = await a.fit(x, { epochs: 3, batchSize: 16, validation: v, progress: false });
  const hb = await b.fit(x, { epochs: 3, batchSize: 16, progress: false });
  assert.deepEqual(ha.loss, hb.loss, 'validation does not draw from the training stream');
  assert.equal(ha.valLoss.length, 3);
  assert.ok(ha.valLoss.every((l) => Number.isFinite(l) && l > 0 && l < 3), `valLoss ${ha.valLoss}`);
  // A step of 1e-12 leaves float32 weights as they are: every epoch then scores the same number.
  const c = make();
  const hc = await c.fit(x, { epochs: 3, batchSize: 16, learningRate: 1e-12, validation: v, progress: false });
  assert.ok(hc.valLoss[0] === hc.valLoss[1] && hc.valLoss[1] === hc.valLoss[2], `valLoss at fixed draws: ${hc.valLoss}`);
  assert.notEqual(hc.loss[0], hc.loss[1], 'the training loss draws afresh');
  tf.dispose([x, v]);
  [a, b, c].forEach((m) => m.dispose());
});

test("fit's draws: each batch's t, then its eps, from the training stream (fit's seed) after the epoch's shuffle; the loss at the schedule's coefficients", async () => {
  await ready();
  const T = 20;
  const D = 3;
  const n = 45; // batches of 16, 16 and 13
  const batchSize = 16;
  // a given inputScale: the fit does not set it from the data, so the reference's predictions see the same network
  const m = new DDPM({ dataShape: [D], timesteps: T, seed: 8, network: { ...SMALL_MLP, inputScale: 1 } });
  const x = tf.tensor2d(new Random(2).normalArray(n * D), [n, D]);
  const stream = (model: DDPM) => (model as unknown as { training: { rng: Random } }).training.rng;
  const rng = new Random(99); // the numbers fit({ seed: 99 }) will draw
  // The reference: the simple loss of two epochs drawn batch by batch, scored at the initial weights through the
  // public forward process and noise prediction (a step of 1e-12 leaves float32 weights as they are).
  const expected: number[] = [];
  for (let e = 0; e < 2; e++) {
    const order = rng.permutation(n);
    let total = 0;
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      const ts = Array.from({ length: size }, () => rng.int(T));
      const eps = tf.tensor2d(rng.normalArray(size * D), [size, D]);
      total += tf.tidy(() => {
        const x0 = tf.gather(x, tf.tensor1d(order.subarray(start, start + size), 'int32'));
        const xt = m.noise(x0, ts, { eps, seed: 0 }); // a seed: the model's stream is not touched
        return tf.squaredDifference(m.predictNoise(xt, ts), eps).sum().dataSync()[0];
      });
      eps.dispose();
    }
    expected.push(total / (n * D));
  }
  const h = await m.fit(x, { epochs: 2, batchSize, learningRate: 1e-12, progress: false, seed: 99 });
  h.loss.forEach((l, e) => assertClose(l, expected[e], 1e-5 * expected[e], `epoch ${e + 1} loss`));
  assert.equal(stream(m).nextUint32(), rng.nextUint32(), 'fit drew exactly these numbers from the stream');
  x.dispose();
  m.dispose();
});

test('without clip the samplers are the documented steps op for op (bit for bit), the default without a dataRange', async () => {
  await ready();
  const m = new DDPM({ dataShape: [2], timesteps: 25, seed: 6, network: SMALL_MLP });
  const x = gaussianData(64, 2);
  await m.fit(x, { epochs: 1, batchSize: 16, progress: false });
  const s = m.scheduler;
  const n = 7;
  /** x_{T-1} ~ N(0, I), then per step: z drawn, eps_theta, the eps-form ancestral step or DDIM through x0. */
  const reference = (times: number[], ddim: { eta: number } | null) => tf.tidy(() => {
    const rng = new Random(4);
    let xt = tf.tensor2d(rng.normalArray(n * 2), [n, 2]);
    times.forEach((t, i) => {
      const z = tf.tensor2d(rng.normalArray(n * 2), [n, 2]);
      const eps = m.predictNoise(xt, t);
      let mean: tf.Tensor2D;
      let sigma: number;
      if (!ddim) {
        const c = s.ancestralStep(t);
        mean = xt.mul(c.cXt).add(eps.mul(c.cEps));
        sigma = c.sigma;
      } else {
        const c = s.ddimStep(t, i + 1 < times.length ? times[i + 1] : -1, ddim.eta);
        const a = s.alphaBar[t];
        mean = xt.sub(eps.mul(Math.sqrt(1 - a))).div(Math.sqrt(a)).mul(c.cX0).add(eps.mul(c.cEps));
        sigma = c.sigma;
      }
      xt = sigma > 0 ? mean.add(z.mul(sigma)) : mean;
    });
    return Array.from(xt.dataSync());
  });
  const anc = reference(Array.from({ length: 25 }, (_, i) => 24 - i), null);
  assert.deepEqual(await values(m.sample(n, { seed: 4 })), anc);
  assert.deepEqual(await values(m.sample(n, { seed: 4, clip: false })), anc);
  assert.deepEqual(await values(m.sample(n, { seed: 4, sampler: 'ddim', steps: 6, eta: 0.5 })), reference(s.stridedTimesteps(6), { eta: 0.5 }));
  assert.notDeepEqual(await values(m.sample(n, { seed: 4, clip: true })), anc, 'clip changes these samples (their x0 leave [-1, 1])');
  x.dispose();
  m.dispose();
});

test('the posterior mean at the x0 predicted from eps is the ancestral step, and DDIM (eta 1) with eps re-derived from x0 is that mean', () => {
  for (const s of [new NoiseSchedule(300), new NoiseSchedule(1000), new NoiseSchedule(100, { kind: 'cosine' })]) {
    for (let t = 0; t < s.timesteps; t++) {
      const a = s.alphaBar[t];
      const p = s.posterior(t);
      const c = s.ancestralStep(t);
      const d = s.ddimStep(t, t - 1, 1);
      const close = (got: number, want: number, what: string) => assertClose(got, want, 1e-9 * Math.abs(want) + 1e-12, `${what} at t=${t}`);
      // c0 x0 + ct x_t with x0 = (x_t - sqrt(1 - a) eps) / sqrt(a): coefficients on x_t and eps
      close(p.cXt + p.cX0 / Math.sqrt(a), c.cXt, 'x_t coefficient');
      close((-p.cX0 * Math.sqrt(1 - a)) / Math.sqrt(a), c.cEps, 'eps coefficient');
      // sqrt(aPrev) x0 + cEps eps with eps = (x_t - sqrt(a) x0) / sqrt(1 - a): coefficients on x0 and x_t
      close(d.cX0 - (d.cEps * Math.sqrt(a)) / Math.sqrt(1 - a), p.cX0, 'DDIM x0 coefficient');
      close(d.cEps / Math.sqrt(1 - a), p.cXt, 'DDIM x_t coefficient');
      close(d.sigma, c.sigma, 'noise scale');
    }
  }
});

test('clip: every predicted x0 and every sample within dataRange (both samplers); without clip they leave it', async () => {
  await ready();
  for (const range of [[0, 1], [-3, 5]] as [number, number][]) {
    const m = new DDPM({ dataShape: [4], timesteps: 30, seed: 3, dataRange: range, network: SMALL_MLP });
    const within = (v: number[], tol: number) => v.every((e) => e >= range[0] - tol && e <= range[1] + tol);
    const slack = 1e-6 * (range[1] - range[0]); // the map back to the user's units rounds
    for (const o of [{}, { sampler: 'ddim', steps: 8 }, { sampler: 'ddim', steps: 8, eta: 1 }] as const) {
      const r = await m.sample(50, { ...o, seed: 2, returnTrajectory: true });
      assert.deepEqual(r.predictedX0.shape, [r.times.length - 1, 50, 4]);
      assert.ok(within(await values(r.predictedX0), slack), `clipped x0 within ${range} (${JSON.stringify(o)})`);
      assert.ok(within(await values(r.samples), 0), `samples within ${range} (${JSON.stringify(o)})`);
      r.trajectory.dispose();
      const free = await m.sample(50, { ...o, seed: 2, clip: false, returnTrajectory: true });
      assert.ok(!within(await values(free.predictedX0), 0.1), `unclipped x0 of an untrained model leave ${range}`);
      assert.ok(!within(await values(free.samples), 0.1), `unclipped samples leave ${range}`);
      free.trajectory.dispose();
    }
    // Clipping keeps DDIM with eta = 1 on every step the ancestral sampler.
    const anc = await values(m.sample(200, { seed: 5 }));
    const ddim = await values(m.sample(200, { seed: 5, sampler: 'ddim', steps: 30, eta: 1 }));
    const diff = Math.max(...anc.map((v, i) => Math.abs(v - ddim[i])));
    assert.ok(diff < 1e-4 * (range[1] - range[0]), `clipped ancestral vs DDIM(eta 1, all steps): ${diff}`);
    m.dispose();
  }
});

// ---------------------------------------------------------------------------------------------------------
// API

test('time embedding: sin/cos with frequencies 1 .. 1e-4 rad per step; neighbouring steps well apart', () => {
  const e = sinusoidalEmbedding(300, 16);
  assertClose(e[5 * 16 + 0], Math.sin(5), 1e-6, 'top frequency 1 rad/step');
  assertClose(e[5 * 16 + 8], Math.cos(5), 1e-6, 'cos half');
  assertClose(e[299 * 16 + 7], Math.sin(299 * 1e-4), 1e-6, 'lowest frequency 1e-4');
  let d2 = 0;
  for (let i = 0; i < 16; i++) d2 += (e[100 * 16 + i] - e[101 * 16 + i]) ** 2;
  assert.ok(Math.sqrt(d2) > 0.5, `|emb(100) - emb(101)| = ${Math.sqrt(d2)}`);
  assert.throws(() => sinusoidalEmbedding(10, 3), /even/);
});

test('shapes: MLP and U-Net models, trajectories, DDIM steps; options checked by name', async () => {
  await ready();
  const u = new DDPM({ dataShape: [8, 8, 1], timesteps: 20, seed: 1, network: { kind: 'unet', channels: [4, 4, 8], embedDim: 8, groups: 2 } });
  assert.match(u.describe(), /unet 4-4-8, T=20 linear/);
  const x = tf.randomUniform([6, 8, 8, 1], -1, 1, 'float32', 1);
  const h = await u.fit(x, { epochs: 2, batchSize: 4, progress: false });
  assert.equal(h.loss.length, 2);
  assert.ok(h.loss.every(Number.isFinite));
  const r = await u.sample(3, { sampler: 'ddim', steps: 5, returnTrajectory: true, seed: 1 });
  assert.deepEqual(r.samples.shape, [3, 8, 8, 1]);
  assert.deepEqual(r.trajectory.shape, [6, 3, 8, 8, 1]);
  assert.deepEqual(r.times, [19, 14, 10, 5, 0, -1]);
  const flat = u.predictNoise(x.reshape([6, 64]), 3);
  assert.deepEqual(flat.shape, [6, 64]);
  const a = await u.sample(2, { seed: 2 });
  assert.deepEqual(a.shape, [2, 8, 8, 1]);
  tf.dispose([x, r.samples, r.trajectory, flat, a]);
  assert.throws(() => new DDPM({ dataShape: [2], timestep: 10 } as never), /did you mean 'timesteps'/);
  assert.throws(() => new DDPM({ dataShape: [2, 3] }), /dataShape/);
  assert.throws(() => new DDPM({ dataShape: [10, 10, 1], network: 'unet' }), /divisible by 4/);
  assert.throws(() => new DDPM({ dataShape: [2], network: { kind: 'mlp', hidden: [3] } as never }), /hiddenUnits/);
  await assert.rejects(() => u.fit(tf.zeros([2, 5]), { progress: false }), /x must have shape \[n, 64\] or \[n, 8, 8, 1\]/);
  await assert.rejects(() => u.fit(tf.zeros([2, 64]), { learningrate: 1 } as never), /did you mean 'learningRate'/);
  await assert.rejects(() => u.sample(2, { steps: 5 }), /DDIM options/);
  await assert.rejects(() => u.sample(2, { sampler: 'ddim', steps: 21 }), /steps must be at most timesteps/);
  await assert.rejects(() => u.sample(2, { sampler: 'ddpm' } as never), /sampler must be one of/);
  assert.throws(() => u.noise(tf.zeros([1, 64]), 20), /t must be integers in \[0, 20\)/);
  u.dispose();
  assert.throws(() => u.predictNoise(tf.zeros([1, 64]), 0), /disposed/);
});

test('seeds: same seed, same weights, training and samples; another seed differs', async () => {
  await ready();
  const run = async (seed: number) => {
    const m = new DDPM({ dataShape: [2], timesteps: 50, seed, network: { kind: 'mlp', hiddenUnits: [16] } });
    const x = gaussianData(256, 1);
    await m.fit(x, { epochs: 2, batchSize: 64, progress: false });
    const s = await m.sample(5, { sampler: 'ddim', steps: 10, eta: 0.5 });
    const out = Array.from(await s.data());
    tf.dispose([x, s]);
    m.dispose();
    return out;
  };
  const a = await run(3);
  assert.deepEqual(await run(3), a);
  assert.notDeepEqual(await run(4), a);
});

test('save / load: round trip bit for bit, other kinds and damaged weights refused', async () => {
  await ready();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddpm-'));
  try {
    const m = new DDPM({ dataShape: [8, 8, 1], timesteps: 30, betaSchedule: { kind: 'cosine' }, seed: 5, dataRange: [0, 1], network: { kind: 'unet', channels: [4, 8, 8], embedDim: 8, groups: 4 } });
    const x = tf.randomUniform([4, 64], 0, 1, 'float32', 2);
    await m.fit(x, { epochs: 1, progress: false });
    await m.save(dir);
    const l = await DDPM.load(dir);
    assert.equal(l.describe(), m.describe());
    assert.deepEqual(l.alphaBar, m.alphaBar);
    assert.deepEqual(l.dataRange, [0, 1]);
    const p1 = m.predictNoise(x, 7);
    const p2 = l.predictNoise(x, 7);
    assert.deepEqual(Array.from(await p1.data()), Array.from(await p2.data()));
    tf.dispose([p1, p2, x]);
    m.dispose();
    l.dispose();
    await saveCheckpoint(dir, { kind: 'VAE', config: {}, tensors: {} });
    await assert.rejects(() => DDPM.load(dir), /VAE/);
    const cfg = { dataShape: [2], timesteps: 10, betaSchedule: { kind: 'linear' }, network: { kind: 'mlp', hiddenUnits: [3], embedDim: 4 }, seed: 1 };
    await saveCheckpoint(dir, { kind: 'DDPM', config: cfg, tensors: { 'network/0': tf.zeros([2, 2]) } });
    await assertNoLeak(() => assert.rejects(() => DDPM.load(dir), /network has 1 weight tensors; the configured network has 4/), 'a refused load');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('no leaks: fit, noise, predictNoise, both samplers, trajectories', async () => {
  await ready();
  const m = new DDPM({ dataShape: [8, 8, 1], timesteps: 10, seed: 1, network: { kind: 'unet', channels: [4, 4, 4], embedDim: 4, groups: 2 } });
  const v = new DDPM({ dataShape: [3], timesteps: 10, seed: 1 });
  const x = tf.randomUniform([5, 8, 8, 1]);
  const p = new DDPM({ dataShape: [3], timesteps: 10, seed: 2, dataRange: [0, 1] });
  const y = tf.randomUniform([9, 3]);
  await m.fit(x, { epochs: 1, progress: false }); // creates the optimiser state once
  await v.fit(y, { epochs: 1, progress: false });
  await p.fit(y, { epochs: 1, progress: false });
  await assertNoLeak(async () => {
    await m.fit(x, { epochs: 2, batchSize: 2, progress: false });
    await v.fit(y, { epochs: 2, batchSize: 4, progress: false });
    tf.dispose([m.noise(x, 3), m.predictNoise(x, [1, 2, 3, 4, 5]), v.noise(y, 9)]);
    tf.dispose(await m.sample(3));
    tf.dispose(await v.sample(3, { sampler: 'ddim', steps: 4, eta: 0.3 }));
    const r = await v.sample(2, { returnTrajectory: true });
    tf.dispose([r.samples, r.trajectory, r.predictedX0]);
    await p.fit(y, { epochs: 2, batchSize: 4, validation: y, progress: false });
    tf.dispose([p.noise(y, 2), p.predictNoise(y, 1), await p.sample(3, { sampler: 'ddim', steps: 3 })]);
    const rc = await p.sample(2, { returnTrajectory: true });
    tf.dispose([rc.samples, rc.trajectory, rc.predictedX0]);
  }, 'DDPM calls');
  tf.dispose([x, y]);
  m.dispose();
  v.dispose();
  p.dispose();
});

// ---------------------------------------------------------------------------------------------------------
// Defaults for low-dimensional vectors (issue #27): input features and the weight average

/** The MLP eps_theta with input features, written out: x, sin/cos(2^k pi x / s), emb(t) -> SiLU layers -> D. */
function mlpByHand(weights: number[][], widths: number[], x: number[], t: number, octaves: number, scale: number, embedDim: number, T: number): number[] {
  const phase = x.flatMap((v) => Array.from({ length: octaves }, (_, k) => (2 ** k * Math.PI * v) / scale));
  const emb = Array.from(sinusoidalEmbedding(T, embedDim).slice(t * embedDim, (t + 1) * embedDim));
  let h = [...x, ...phase.map(Math.sin), ...phase.map(Math.cos), ...emb];
  for (let l = 0; l + 1 < widths.length; l++) {
    const [w, b] = [weights[2 * l], weights[2 * l + 1]];
    const out = b.map((bj, j) => h.reduce((s, hi, i) => s + hi * w[i * widths[l + 1] + j], bj));
    h = l + 2 < widths.length ? out.map((v) => v / (1 + Math.exp(-v))) : out;
  }
  return h;
}

test('inputFeatures: x and sin/cos(2^k pi x / s) at the MLP input, s the first fit data\'s std (kept, saved); defaults by data shape', async () => {
  await ready();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddpm-features-'));
  // population std 2 over all coordinates: values 1 +- 2
  const x = tf.tensor2d([[-1, 3], [3, -1], [-1, -1], [3, 3]]);
  const m = new DDPM({ dataShape: [2], timesteps: 10, seed: 3, network: { kind: 'mlp', hiddenUnits: [5], embedDim: 4, inputFeatures: 3 }, weightAverage: 0 });
  try {
    assert.equal(m.describe(), 'mlp 2+sin/cos x 3 octaves+4-5-2, T=10 linear');
    assert.deepEqual(m.network.getWeights()[0].shape, [2 * (1 + 2 * 3) + 4, 5]);
    assert.equal((m.network.options as Required<MlpNetworkOptions>).inputScale, null);
    await m.fit(x, { epochs: 1, progress: false });
    assert.equal((m.network.options as Required<MlpNetworkOptions>).inputScale, 2);
    const wide = tf.mul(x, 10);
    await m.fit(wide, { epochs: 1, progress: false }); // a second fit keeps s
    wide.dispose();
    assert.equal((m.network.options as Required<MlpNetworkOptions>).inputScale, 2);
    const weights = m.network.getWeights().map((w) => Array.from(w.dataSync()));
    const p = [0.3, -1.7];
    const point = tf.tensor2d([p]);
    const got = Array.from(tf.tidy(() => m.predictNoise(point, 6).dataSync()));
    const want = mlpByHand(weights, [18, 5, 2], p, 6, 3, 2, 4, 10);
    want.forEach((v, i) => assertClose(got[i], v, 1e-4, `eps[${i}]`));
    await m.save(dir);
    const back = await DDPM.load(dir);
    assert.equal((back.network.options as Required<MlpNetworkOptions>).inputScale, 2);
    assert.deepEqual(Array.from(tf.tidy(() => back.predictNoise(point, 6).dataSync())), got);
    back.dispose();
    point.dispose();
    // a given scale is kept by the fit
    const given = new DDPM({ dataShape: [2], timesteps: 10, seed: 3, network: { kind: 'mlp', hiddenUnits: [5], inputScale: 0.5 } });
    await given.fit(x, { epochs: 1, progress: false });
    assert.equal((given.network.options as Required<MlpNetworkOptions>).inputScale, 0.5);
    given.dispose();
    // defaults: 6 octaves for [D <= 16], raw x for wider vectors; 0 turns them off
    const opts = (shape: number[], network?: MlpNetworkOptions) => new DDPM({ dataShape: shape, timesteps: 4, seed: 1, network });
    for (const [shape, network, octaves] of [[[2], undefined, 6], [[16], undefined, 6], [[17], undefined, 0], [[784], undefined, 0], [[2], { kind: 'mlp', inputFeatures: 0 }, 0]] as const) {
      const d = opts([...shape], network as MlpNetworkOptions | undefined);
      assert.equal((d.network.options as Required<MlpNetworkOptions>).inputFeatures, octaves, `${shape} ${JSON.stringify(network)}`);
      d.dispose();
    }
    assert.throws(() => new DDPM({ dataShape: [2], network: { kind: 'mlp', inputFeatures: -1 } }), /network.inputFeatures must be an integer >= 0; got -1/);
    assert.throws(() => new DDPM({ dataShape: [2], network: { kind: 'mlp', inputFeatures: 1.5 } }), /network.inputFeatures must be an integer >= 0; got 1.5/);
    assert.throws(() => new DDPM({ dataShape: [2], network: { kind: 'mlp', inputScale: 0 } }), /network.inputScale must be .*; got 0/);
  } finally {
    m.dispose();
    x.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('weightAverage: the average follows w_avg <- d_t w_avg + (1 - d_t) w after every step; sample and predictNoise use it; saved, loaded, put back after divergence', async () => {
  await ready();
  const x = tf.tensor2d(new Random(4).normalArray(64), [32, 2]);
  const beta = 0.9;
  const net: MlpNetworkOptions = { kind: 'mlp', hiddenUnits: [6], embedDim: 4 };
  const m = new DDPM({ dataShape: [2], timesteps: 12, seed: 2, network: net, weightAverage: beta });
  const plain = new DDPM({ dataShape: [2], timesteps: 12, seed: 2, network: net, weightAverage: 0 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddpm-avg-'));
  try {
    assert.match(m.describe(), /, average 0\.9$/);
    assert.doesNotMatch(plain.describe(), /average/);
    for (const [shape, want] of [[[2], /^mlp 2\+sin\/cos x 6 octaves\+64-128-128-128-2, T=300 linear, average 0\.999$/], [[17], /^mlp 17\+64-128-128-128-17, T=300 linear$/]] as const) {
      const d = new DDPM({ dataShape: [...shape], seed: 1 });
      assert.match(d.describe(), want);
      d.dispose();
    }
    let avg = m.network.getWeights().map((w) => Array.from(w.dataSync()));
    let t = 0;
    for (let b = 0; b < 4; b++) {
      await m.fit(x.slice([8 * b, 0], [8, 2]), { epochs: 1, batchSize: 8, shuffle: false, progress: false }); // one step
      const d = Math.min(beta, (1 + t++) / (10 + t - 1));
      const w = m.network.getWeights().map((v) => Array.from(v.dataSync()));
      avg = avg.map((a, i) => a.map((v, k) => d * v + (1 - d) * w[i][k]));
    }
    const current = m.network.getWeights().map((w) => Array.from(w.dataSync()));
    // sample() runs the chain with the averaged weights: as a model holding the hand-kept average
    const avgTensors = avg.map((a, i) => tf.tensor(a, m.network.getWeights()[i].shape));
    plain.network.setWeights(avgTensors);
    tf.dispose(avgTensors);
    plain.network.setInputScale?.((m.network.options as Required<MlpNetworkOptions>).inputScale ?? 1);
    const s = await m.sample(6, { seed: 3 });
    const want = await plain.sample(6, { seed: 3 });
    Array.from(want.dataSync()).forEach((v, i) => assertClose(s.dataSync()[i], v, 1e-4, `sample value ${i} from the average`));
    // predictNoise too
    const xt = tf.tensor2d([[0.5, -0.2], [1.5, 2]]);
    const [e1, e2] = [m.predictNoise(xt, 7), plain.predictNoise(xt, 7)];
    Array.from(e2.dataSync()).forEach((v, i) => assertClose(e1.dataSync()[i], v, 1e-5, `predictNoise value ${i} from the average`));
    tf.dispose([xt, e1, e2]);
    // ... and leaves the current weights in place for training
    assert.deepEqual(m.network.getWeights().map((w) => Array.from(w.dataSync())), current);
    await m.save(dir);
    const back = await DDPM.load(dir);
    const s2 = await back.sample(6, { seed: 3 });
    assert.deepEqual(Array.from(s2.dataSync()), Array.from(s.dataSync()), 'the average is in the checkpoint');
    back.dispose();
    tf.dispose([s, want, s2]);
    await assert.rejects(m.fit(x, { epochs: 2, batchSize: 8, learningRate: 1e30, progress: false }), /diverged/);
    assert.deepEqual(m.network.getWeights().map((w) => Array.from(w.dataSync())), current, 'the weights put back after a diverged fit');
    const [s3, s4] = [await m.sample(4, { seed: 1 }), await plain.sample(4, { seed: 1 })];
    Array.from(s4.dataSync()).forEach((v, i) => assertClose(s3.dataSync()[i], v, 1e-4, `sample value ${i}: the average put back too`));
    tf.dispose([s3, s4]);
    await m.fit(x, { epochs: 1, batchSize: 8, progress: false }); // a new optimiser state after the divergence
    await assertNoLeak(async () => {
      await m.fit(x, { epochs: 1, batchSize: 8, progress: false });
      tf.dispose(await m.sample(3));
    }, 'DDPM with an average');
    assert.throws(() => new DDPM({ dataShape: [2], weightAverage: 1 }), /weightAverage must be .*; got 1/);
    assert.throws(() => new DDPM({ dataShape: [2], weightAverage: -0.1 }), /weightAverage must be .*; got -0.1/);
  } finally {
    m.dispose();
    plain.dispose();
    x.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
