/**
 * VAE: exact checks on a linear-Gaussian model (ELBO <= log p(x), equality at the true posterior, gap = KL to the
 * posterior, IWAE rising towards log p(x)), the exact Bernoulli likelihood, shapes for every architecture,
 * training, argument errors, leaks, and the save/load round trip with corruption refused.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, ready } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { VAE, latentGridPoints, normalQuantile } from '../lib/vae/vae';
import { klDiagonalGaussian } from '../lib/vae/kl';
import { loadCheckpoint, saveCheckpoint } from '../lib/core/checkpoint';
import { assertClose, assertNoLeak } from './helpers';

// ---------------------------------------------------------------------------------------------------------
// Linear-Gaussian model: p(z) = N(0, I_L), p(x|z) = N(W z + b, s^2 I_D). W has orthogonal columns, so the exact
// posterior p(z|x) = N(S W^T (x - b) / s^2, S), S = (I + W^T W / s^2)^-1, is diagonal, and a diagonal-Gaussian
// encoder can represent it exactly. log p(x) = log N(x; b, W W^T + s^2 I).

const D = 4;
const L = 2;
const SIGMA = 0.5;
const W = [
  [1, 0],
  [0, 2],
  [1, 0],
  [0, -1],
]; // [D, L], columns orthogonal: W^T W = diag(2, 5)
const B = [0.1, -0.2, 0.3, 0];
const WTW = [2, 5];
const POST_VAR = WTW.map((v) => 1 / (1 + v / (SIGMA * SIGMA))); // diag(S)

/** Encoder weights of q(z|x) = N(A x + c + shift, diag(exp(logVarDiag))). */
function linearEncoder(shift = [0, 0], logVarShift = [0, 0]): tf.LayersModel {
  const x = tf.input({ shape: [D] });
  const meanLayer = tf.layers.dense({ units: L, name: 'lin_mean' });
  const lvLayer = tf.layers.dense({ units: L, name: 'lin_logvar' });
  const model = tf.model({ inputs: x, outputs: [meanLayer.apply(x) as tf.SymbolicTensor, lvLayer.apply(x) as tf.SymbolicTensor] });
  // A = S W^T / s^2 [L, D]; Dense kernel is A^T [D, L]; bias c = -A b + shift.
  const A = POST_VAR.map((v, l) => W.map((row) => (v * row[l]) / (SIGMA * SIGMA)));
  const kernel = W.map((_, d) => A.map((row) => row[d]));
  const c = A.map((row, l) => -row.reduce((acc, a, d) => acc + a * B[d], 0) + shift[l]);
  tf.tidy(() => {
    meanLayer.setWeights([tf.tensor2d(kernel), tf.tensor1d(c)]);
    lvLayer.setWeights([tf.zeros([D, L]), tf.tensor1d(POST_VAR.map((v, l) => Math.log(v) + logVarShift[l]))]);
  });
  return model;
}

function linearDecoder(): tf.LayersModel {
  const z = tf.input({ shape: [L] });
  const layer = tf.layers.dense({ units: D });
  const model = tf.model({ inputs: z, outputs: layer.apply(z) as tf.SymbolicTensor });
  tf.tidy(() => layer.setWeights([tf.tensor2d(W[0].map((_, l) => W.map((row) => row[l]))), tf.tensor1d(B)]));
  return model;
}

/** Exact log N(x; b, W W^T + s^2 I) by Cholesky. */
function exactLogPx(x: number[]): number {
  const C = Array.from({ length: D }, (_, i) =>
    Array.from({ length: D }, (_, j) => W[i].reduce((acc, w, l) => acc + w * W[j][l], 0) + (i === j ? SIGMA * SIGMA : 0)),
  );
  const Lc = Array.from({ length: D }, () => new Array<number>(D).fill(0));
  for (let i = 0; i < D; i++) {
    for (let j = 0; j <= i; j++) {
      let s = C[i][j];
      for (let k = 0; k < j; k++) s -= Lc[i][k] * Lc[j][k];
      Lc[i][j] = i === j ? Math.sqrt(s) : s / Lc[j][j];
    }
  }
  const r = x.map((v, i) => v - B[i]);
  const y = new Array<number>(D).fill(0); // solve Lc y = r
  for (let i = 0; i < D; i++) {
    let s = r[i];
    for (let k = 0; k < i; k++) s -= Lc[i][k] * y[k];
    y[i] = s / Lc[i][i];
  }
  const logDet = 2 * Lc.reduce((acc, row, i) => acc + Math.log(row[i]), 0);
  return -0.5 * (D * Math.log(2 * Math.PI) + logDet + y.reduce((a, v) => a + v * v, 0));
}

/** n data points drawn from the linear-Gaussian model. */
function linearData(n: number, seed: number): number[][] {
  const rng = new Random(seed);
  return Array.from({ length: n }, () => {
    const z = [rng.normal(), rng.normal()];
    return W.map((row, d) => row[0] * z[0] + row[1] * z[1] + B[d] + SIGMA * rng.normal());
  });
}

function linearVAE(shift?: number[], logVarShift?: number[]): VAE {
  return new VAE({
    inputDim: D,
    latentDim: L,
    likelihood: 'gaussian',
    sigma: SIGMA,
    seed: 3,
    encoder: linearEncoder(shift, logVarShift),
    decoder: linearDecoder(),
  });
}

test('linear-Gaussian: with the true posterior, ELBO = IWAE = log p(x) exactly', async () => {
  await ready();
  const rows = linearData(8, 1);
  const x = tf.tensor2d(rows);
  const vae = linearVAE();
  try {
    const logPx = rows.map(exactLogPx);
    // IWAE's weights p(x, z) / q(z|x) all equal p(x) at the true posterior: no Monte Carlo noise at all.
    const iw = await assertNoLeak(() => vae.iwaePerExample(x, { samples: 7, seed: 1 }), 'iwaePerExample');
    iw.forEach((v, i) => assertClose(v, logPx[i], 2e-3, `IWAE row ${i}`));
    // The ELBO's reconstruction term is Monte Carlo; its mean over many samples equals log p(x).
    const el = await assertNoLeak(() => vae.elboPerExample(x, { samples: 4000, seed: 2 }), 'elboPerExample');
    el.forEach((v, i) => assertClose(v, logPx[i], 0.05, `ELBO row ${i}`));
    const meanElbo = await vae.elbo(x, { samples: 4000, seed: 2 });
    assertClose(meanElbo, logPx.reduce((a, b) => a + b) / rows.length, 0.02, 'mean ELBO');
  } finally {
    vae.dispose();
    x.dispose();
  }
});

test('linear-Gaussian: with another q, log p(x) - ELBO = KL(q || posterior) > 0; IWAE rises with k', async () => {
  await ready();
  const rows = linearData(30, 2);
  const x = tf.tensor2d(rows);
  const shift = [0.4, -0.3];
  const lvShift = [0.8, -0.6];
  const vae = linearVAE(shift, lvShift);
  try {
    const logPx = rows.map(exactLogPx);
    const meanLogPx = logPx.reduce((a, b) => a + b) / rows.length;
    // KL(q || p(z|x)): both diagonal; q = posterior shifted in mean and log-variance (same for every x).
    const gap = tf.tidy(() =>
      klDiagonalGaussian(
        tf.tensor2d([shift]),
        tf.tensor2d([POST_VAR.map((v, l) => Math.log(v) + lvShift[l])]),
        tf.tensor2d([[0, 0]]),
        tf.tensor2d([POST_VAR.map(Math.log)]),
      ).arraySync()[0],
    );
    assert.ok(gap > 0.1, `test needs a visible gap; got ${gap}`);
    const elbo = await vae.elbo(x, { samples: 3000, seed: 5 });
    assertClose(meanLogPx - elbo, gap, 0.02, 'log p(x) - ELBO vs KL(q || posterior)');
    const ks = [1, 5, 50, 500];
    const bounds: number[] = [];
    for (const k of ks) bounds.push(await vae.iwae(x, { samples: k, seed: 7 }));
    for (let i = 1; i < ks.length; i++) {
      assert.ok(bounds[i] > bounds[i - 1], `IWAE k=${ks[i]} (${bounds[i]}) should exceed k=${ks[i - 1]} (${bounds[i - 1]})`);
    }
    for (const v of bounds) assert.ok(v <= meanLogPx + 0.01, `IWAE ${v} above log p(x) ${meanLogPx}`);
    assert.ok(meanLogPx - bounds[3] < 0.1 * gap, `IWAE k=500 should close most of the gap: ${meanLogPx - bounds[3]} vs ${gap}`);
  } finally {
    vae.dispose();
    x.dispose();
  }
});

test('Bernoulli likelihood is exact and numerically stable for binary data (large logits)', async () => {
  await ready();
  // Decoder logits independent of z (zero kernel, bias b) and encoder equal to the prior: ELBO = log p(x) exactly.
  const bias = [30, -30, 0.5, -2, 80];
  const Dd = bias.length;
  const zIn = tf.input({ shape: [2] });
  const dec = tf.layers.dense({ units: Dd, kernelInitializer: 'zeros', biasInitializer: tf.initializers.constant({ value: 0 }) });
  const decoder = tf.model({ inputs: zIn, outputs: dec.apply(zIn) as tf.SymbolicTensor });
  tf.tidy(() => dec.setWeights([tf.zeros([2, Dd]), tf.tensor1d(bias)]));
  const xIn = tf.input({ shape: [Dd] });
  const encoder = tf.model({
    inputs: xIn,
    outputs: [
      tf.layers.dense({ units: 2, kernelInitializer: 'zeros' }).apply(xIn) as tf.SymbolicTensor,
      tf.layers.dense({ units: 2, kernelInitializer: 'zeros' }).apply(xIn) as tf.SymbolicTensor,
    ],
  });
  const vae = new VAE({ inputDim: Dd, latentDim: 2, likelihood: 'bernoulli', encoder, decoder, seed: 1 });
  const rows = [
    [1, 0, 1, 0, 1],
    [0, 1, 0, 1, 0], // log p = -30 - 30 - ... : tests log(1 - sigmoid(30)) without underflow
  ];
  const x = tf.tensor2d(rows);
  try {
    const logSig = (l: number): number => -Math.log1p(Math.exp(-l)) ; // log sigmoid(l) for moderate l
    const logSigStable = (l: number): number => (l > 0 ? logSig(l) : l - Math.log1p(Math.exp(l)));
    const exact = rows.map((r) => r.reduce((acc, v, d) => acc + (v ? logSigStable(bias[d]) : logSigStable(-bias[d])), 0));
    const got = await vae.elboPerExample(x, { samples: 2, seed: 1 });
    got.forEach((v, i) => {
      assert.ok(Number.isFinite(v), `ELBO row ${i} not finite: ${v}`);
      assertClose(v, exact[i], 1e-3 * Math.max(1, Math.abs(exact[i])), `Bernoulli log-likelihood row ${i}`);
    });
  } finally {
    vae.dispose();
    x.dispose();
  }
});

test('shapes for every architecture: dense Bernoulli, dense Gaussian, conv (flat and image input); outputs in dataShape', async () => {
  await ready();
  const rng = new Random(4);
  const dense = new VAE({ dataShape: [12], hiddenUnits: [8, 6], latentDim: 3, likelihood: 'bernoulli', seed: 1 });
  const gauss = new VAE({ dataShape: [12], hiddenUnits: [8], latentDim: 2, likelihood: 'gaussian', sigma: 0.3, seed: 2 });
  const conv = new VAE({ dataShape: [8, 8, 1], architecture: 'conv', latentDim: 2, likelihood: 'bernoulli', seed: 3, convFilters: [4, 8], convDenseUnits: 5 });
  const x12 = tf.tensor2d(rng.uniformArray(5 * 12), [5, 12]);
  const x64 = tf.tensor2d(rng.uniformArray(5 * 64), [5, 64]);
  const x8 = x64.reshape([5, 8, 8, 1]);
  try {
    for (const [vae, x, shape, Lz] of [
      [dense, x12, [12], 3],
      [gauss, x12, [12], 2],
      [conv, x64, [8, 8, 1], 2],
      [conv, x8, [8, 8, 1], 2],
    ] as const) {
      await assertNoLeak(async () => {
        assert.deepEqual(vae.dataShape, shape);
        const { mean, logVar } = vae.encode(x);
        assert.deepEqual(mean.shape, [5, Lz]);
        assert.deepEqual(logVar.shape, [5, Lz]);
        const dec = vae.decode(mean);
        assert.deepEqual(dec.shape, [5, ...shape]);
        const rec = vae.reconstruct(x); // [n, ...dataShape] whether x came flat or as images
        assert.deepEqual(rec.shape, [5, ...shape]);
        const s = await vae.sample(7, { seed: 1 });
        assert.deepEqual(s.shape, [7, ...shape]);
        const sd = await vae.sample(3, { seed: 1, draw: true });
        assert.deepEqual(sd.shape, [3, ...shape]);
        const grid = vae.latentGrid({ n: 4 });
        assert.deepEqual(grid.shape, [16, ...shape]);
        tf.dispose([mean, logVar, dec, rec, s, sd, grid]);
        const e = await vae.elbo(x, { samples: 2 });
        const iw = await vae.iwae(x, { samples: 60 });
        assert.ok(Number.isFinite(e) && Number.isFinite(iw));
      }, `${vae.describe()} ${x.rank}D`);
    }
    // The conv VAE trains on the default backend (WASM here: no silent CPU fallback) from image-shaped input.
    const backend = tf.getBackend();
    await conv.fit(x8, { epochs: 1, batchSize: 4, progress: false }); // creates the Adam state (kept by the model)
    const hc = await assertNoLeak(() => conv.fit(x8, { epochs: 2, batchSize: 4, progress: false }), 'conv fit');
    assert.equal(tf.getBackend(), backend);
    assert.ok(hc.loss.every(Number.isFinite) && hc.loss.length === 2);
    // Bernoulli decoder means are probabilities; drawn samples are binary.
    const p = await dense.sample(4, { seed: 2 });
    const pv = p.dataSync();
    assert.ok(pv.every((v) => v >= 0 && v <= 1));
    const d = await dense.sample(4, { seed: 2, draw: true });
    assert.ok(d.dataSync().every((v) => v === 0 || v === 1));
    tf.dispose([p, d]);
    // same seed, same samples
    const a1 = await dense.sample(2, { seed: 9 });
    const a2 = await dense.sample(2, { seed: 9 });
    assert.deepEqual(Array.from(a1.dataSync()), Array.from(a2.dataSync()));
    tf.dispose([a1, a2]);
  } finally {
    tf.dispose([x12, x64, x8]);
    dense.dispose();
    gauss.dispose();
    conv.dispose();
  }
});

test("init 'pytorch' draws weights and biases in +-1/sqrt(fan_in); 'glorot' has zero biases", async () => {
  await ready();
  const t = new VAE({ inputDim: 30, hiddenUnits: [20], latentDim: 4, seed: 1, init: 'pytorch' });
  const g = new VAE({ inputDim: 30, hiddenUnits: [20], latentDim: 4, seed: 1 });
  try {
    const [k0, b0] = t.encoder.getWeights(); // first Dense: kernel [30, 20], bias [20]
    const bound = 1 / Math.sqrt(30);
    const kv = k0.dataSync();
    const bv = b0.dataSync();
    assert.ok(kv.every((v) => Math.abs(v) <= bound) && bv.every((v) => Math.abs(v) <= bound));
    assert.ok(Math.max(...kv.map(Math.abs)) > 0.8 * bound, 'kernel should fill its range');
    assert.ok(bv.some((v) => v !== 0), 'biases are random under pytorch init');
    assert.ok(g.encoder.getWeights()[1].dataSync().every((v) => v === 0), 'glorot biases are zero');
    assert.throws(() => new VAE({ inputDim: 4, latentDim: 2, init: 'he' as 'glorot' }), /init/);
  } finally {
    t.dispose();
    g.dispose();
  }
});

test('latent grid points: axes, orientation, quantiles', () => {
  const { z, xs, ys } = latentGridPoints(3, { n: 3, range: [-1, 1], dims: [0, 2] });
  assert.deepEqual(xs, [-1, 0, 1]);
  assert.deepEqual(ys, [1, 0, -1]);
  // top-left image: z0 = -1 (left), z2 = +1 (top), z1 = 0
  assert.deepEqual(Array.from(z.slice(0, 3)), [-1, 0, 1]);
  const q = latentGridPoints(2, { n: 4, range: 'quantiles' }).xs;
  assertClose(q[0], normalQuantile(0.125), 1e-12, 'quantile');
  assertClose(normalQuantile(0.975), 1.959963985, 1e-6, 'Phi^-1(0.975)');
  assertClose(normalQuantile(0.01), -2.326347874, 1e-6, 'Phi^-1(0.01)');
  assert.throws(() => latentGridPoints(1), /latentDim/);
  assert.throws(() => latentGridPoints(2, { dims: [0, 2] }), /dims\[1\]/);
  assert.throws(() => latentGridPoints(2, { range: [1, -1] }), /range\[1\]/);
});

/** Bars data: each row is a 4x4 image with one full horizontal or vertical bar (a structure to learn). */
function bars(n: number, seed: number): tf.Tensor2D {
  const rng = new Random(seed);
  const out = new Float32Array(n * 16);
  for (let i = 0; i < n; i++) {
    const k = rng.int(4);
    const vertical = rng.next() < 0.5;
    for (let t = 0; t < 4; t++) out[i * 16 + (vertical ? t * 4 + k : k * 4 + t)] = 1;
  }
  return tf.tensor2d(out, [n, 16]);
}

test('fit: learns bars, history per epoch, KL warm-up, validation, reproducible, no leaks', async () => {
  await ready();
  const x = bars(256, 1);
  const v = bars(64, 2);
  const make = (): VAE => new VAE({ inputDim: 16, hiddenUnits: [32], latentDim: 2, likelihood: 'bernoulli', seed: 7 });
  const vae = make();
  try {
    const before = await vae.elbo(x, { samples: 1, seed: 1 });
    const h = await vae.fit(x, { epochs: 12, batchSize: 32, learningRate: 3e-3, klWarmup: 2, validation: v, progress: false });
    assert.equal(h.loss.length, 12);
    assert.equal(h.valLoss!.length, 12);
    assert.ok(h.beta[0] < h.beta[1] && h.beta[1] === 1 && h.beta[11] === 1, `warm-up betas ${h.beta}`);
    assert.ok(h.loss[11] < h.loss[2], `loss should fall: ${h.loss}`);
    // after the warm-up (beta constant within the epoch) loss = reconstruction + beta * kl
    for (let i = 2; i < 12; i++) assertClose(h.loss[i], h.reconstruction[i] + h.kl[i], 1e-3 * Math.abs(h.loss[i]), 'loss = rec + kl');
    const after = await vae.elbo(x, { samples: 1, seed: 1 });
    assert.ok(after > before + 1, `ELBO should rise: ${before} -> ${after}`);
    // A second fit (optimizer state exists) leaks nothing; nor do the metrics.
    await assertNoLeak(() => vae.fit(x, { epochs: 1, batchSize: 64, learningRate: 3e-3, validation: v, progress: false }), 'fit');
    await assertNoLeak(() => vae.elbo(x), 'elbo');
    await assertNoLeak(() => vae.iwae(x, { samples: 5 }), 'iwae');
    // Same seed, same run.
    const a = make();
    const b = make();
    const { seconds: _sa, ...ha } = await a.fit(x, { epochs: 2, batchSize: 64, progress: false });
    const { seconds: _sb, ...hb } = await b.fit(x, { epochs: 2, batchSize: 64, progress: false });
    assert.deepEqual(ha, hb); // all but the wall-clock seconds
    a.dispose();
    b.dispose();
    // onEpoch sees every epoch, numbered on from the 13 epochs this model has trained (a second fit resumes)
    const seen: number[] = [];
    await vae.fit(x, { epochs: 2, progress: false, onEpoch: (e, logs) => void seen.push(e, Math.round(logs.beta)) });
    assert.deepEqual(seen, [14, 1, 15, 1]);
  } finally {
    vae.dispose();
    x.dispose();
    v.dispose();
  }
});

test('bad arguments and data name the culprit; divergence is an error', async () => {
  await ready();
  assert.throws(() => new VAE({ inputDim: 4, latentDim: 2.5 }), /latentDim/);
  assert.throws(() => new VAE({ inputDim: 0, latentDim: 2 }), /inputDim/);
  assert.throws(() => new VAE({ inputDim: 4, latentDim: 2, hiddenUnits: [3, -1] }), /hiddenUnits\[1\]/);
  assert.throws(() => new VAE({ inputDim: 4, latentDim: 2, likelihood: 'poisson' as 'gaussian' }), /likelihood/);
  assert.throws(() => new VAE({ inputDim: 4, latentDim: 2, likelihood: 'gaussian', sigma: -1 }), /sigma/);
  assert.throws(() => new VAE({ inputShape: [27, 28, 1], architecture: 'conv', latentDim: 2 }), /inputShape/);
  assert.throws(() => new VAE({ architecture: 'conv', latentDim: 2 }), /inputShape/);
  assert.throws(() => new VAE({ inputDim: 5, latentDim: 2, encoder: linearEncoder() }), /encoder/);
  assert.throws(() => new VAE({ inputDim: 4, latentDim: 3, encoder: linearEncoder(), decoder: linearDecoder() }), /encoder/);
  // dataShape and its older names inputDim and inputShape: given together they must agree, and the error names both
  assert.throws(() => new VAE({ dataShape: [784], inputShape: [28, 28, 1], latentDim: 2 }), /dataShape \[784\] and inputShape \[28, 28, 1\] disagree/);
  assert.throws(() => new VAE({ dataShape: [12], inputDim: 10, latentDim: 2 }), /inputDim must equal the size of dataShape \[12\], 12; got 10/);
  assert.throws(() => new VAE({ dataShape: [4, 0], latentDim: 2 }), /dataShape\[1\] must be a positive integer/);
  assert.throws(() => new VAE({ dataShape: [6], architecture: 'conv', latentDim: 2 }), /a conv VAE needs dataShape \(or inputShape\) \[height, width, channels\]; got \[6\]/);
  assert.throws(() => new VAE({ latentDim: 2 }), /dataShape must be given/);
  {
    const same = new VAE({ dataShape: [8, 8, 1], inputShape: [8, 8, 1], inputDim: 64, latentDim: 2, convFilters: [2, 2], convDenseUnits: 3, seed: 1 });
    const old = new VAE({ inputShape: [8, 8, 1], latentDim: 2, convFilters: [2, 2], convDenseUnits: 3, seed: 1 });
    const grid = new VAE({ dataShape: [2, 3], hiddenUnits: [4], latentDim: 2, seed: 1 }); // dense on 2-D examples
    try {
      assert.deepEqual([same.dataShape, same.architecture, old.dataShape, old.architecture, old.inputDim], [[8, 8, 1], 'conv', [8, 8, 1], 'conv', 64]);
      assert.deepEqual([grid.dataShape, grid.architecture, grid.inputDim, grid.inputShape], [[2, 3], 'dense', 6, null]);
      const s = await grid.sample(4, { seed: 1 });
      assert.deepEqual(s.shape, [4, 2, 3]);
      s.dispose();
    } finally {
      [same, old, grid].forEach((m) => m.dispose());
    }
  }
  const vae = new VAE({ inputDim: 4, hiddenUnits: [3], latentDim: 2, seed: 1 });
  const ok = tf.tensor2d([[0, 1, 0, 1]]);
  const wide = tf.zeros([2, 5]);
  const nan = tf.tensor2d([[0, NaN, 0, 1]]);
  const big = tf.tensor2d([[0, 2, 0, 1]]);
  try {
    await assert.rejects(vae.fit(wide, { progress: false }), /x must have shape \[n, 4\] with n >= 1; got \[2, 5\]/);
    await assert.rejects(vae.fit(nan, { progress: false }), /x must contain only finite/);
    await assert.rejects(vae.fit(big, { progress: false }), /x must have values in \[0, 1\]/);
    await assert.rejects(vae.fit(ok, { epochs: 0, progress: false }), /epochs/);
    await assert.rejects(vae.fit(ok, { batchSize: 1.5, progress: false }), /batchSize/);
    await assert.rejects(vae.fit(ok, { learningRate: -1, progress: false }), /learningRate/);
    await assert.rejects(vae.fit(ok, { beta: NaN, progress: false }), /beta/);
    await assert.rejects(vae.fit(ok, { validation: wide, progress: false }), /validation/);
    await assert.rejects(vae.elbo(ok, { samples: 0 }), /samples/);
    await assert.rejects(vae.iwae(ok, { samples: 2.5 }), /samples/);
    assert.throws(() => vae.decode(tf.zeros([1, 3])), /z must have 2 columns/);
    await assert.rejects(vae.sample(0), /n must be a positive integer/);
    // Gaussian VAE trained with an absurd step size diverges: a clear error, not NaN weights in silence.
    const g = new VAE({ inputDim: 4, hiddenUnits: [8], latentDim: 2, likelihood: 'gaussian', sigma: 0.01, seed: 1 });
    const data = tf.tensor2d(new Random(1).normalArray(64 * 4), [64, 4]).mul(1e3);
    await assert.rejects(g.fit(data, { epochs: 20, batchSize: 8, learningRate: 1e3, progress: false }), /diverged/);
    g.dispose();
    data.dispose();
  } finally {
    tf.dispose([ok, wide, nan, big]);
    vae.dispose();
  }
});

test('save/load round trip (factory and custom networks); corrupted checkpoints are refused', async () => {
  await ready();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-vae-'));
  const x = bars(32, 3);
  const vae = new VAE({ inputDim: 16, hiddenUnits: [10], latentDim: 2, likelihood: 'bernoulli', seed: 5 });
  const conv = new VAE({ inputShape: [8, 8, 1], architecture: 'conv', latentDim: 2, seed: 3, convFilters: [4, 8], convDenseUnits: 5 });
  const custom = linearVAE([0.1, 0], [0, 0.2]);
  const x64 = tf.tensor2d(new Random(1).uniformArray(3 * 64), [3, 64]);
  const xl = tf.tensor2d(linearData(4, 9));
  try {
    await vae.fit(x, { epochs: 1, progress: false });
    for (const [model, data, name] of [
      [vae, x, 'dense'],
      [conv, x64, 'conv'],
      [custom, xl, 'custom'],
    ] as const) {
      const d = path.join(dir, name);
      await model.save(d);
      const back = await VAE.load(d);
      assert.equal(back.describe(), model.describe());
      const e1 = await model.elbo(data, { samples: 3, seed: 4 });
      const e2 = await back.elbo(data, { samples: 3, seed: 4 });
      assertClose(e2, e1, 1e-5 * Math.abs(e1), `${name} ELBO after load`);
      const s1 = await model.sample(2, { seed: 1 });
      const s2 = await back.sample(2, { seed: 1 });
      assert.deepEqual(Array.from(s2.dataSync()), Array.from(s1.dataSync()));
      tf.dispose([s1, s2]);
      back.dispose();
    }
    // Corrupt the payload: refused with an error.
    const d = path.join(dir, 'dense');
    const payload = fs.readdirSync(d).find((f) => f.endsWith('.bin'))!;
    const bytes = fs.readFileSync(path.join(d, payload));
    bytes[bytes.length - 3] ^= 0xff;
    fs.writeFileSync(path.join(d, payload), bytes);
    await assert.rejects(VAE.load(d), /checksum|sha|corrupt/i);
    await assert.rejects(VAE.load(path.join(dir, 'missing')), /missing|no such|not found|ENOENT|manifest/i);
    // A well-formed checkpoint whose weights do not fit the configured networks is refused, and the half-built
    // model is freed: a conv checkpoint's config with one encoder weight too many.
    const ck = await loadCheckpoint(path.join(dir, 'conv'), 'VAE');
    const odd = path.join(dir, 'odd');
    const extra = tf.zeros([1]);
    await saveCheckpoint(odd, { kind: 'VAE', config: ck.config, tensors: { ...ck.tensors, 'encoder/99': extra } });
    await assertNoLeak(
      () => assert.rejects(VAE.load(odd), new RegExp(`checkpoint at .*odd: the encoder has \\d+ weight tensors; the configured encoder has \\d+`)),
      'refused load',
    );
    tf.dispose([...Object.values(ck.tensors), extra]);
  } finally {
    vae.dispose();
    conv.dispose();
    custom.dispose();
    tf.dispose([x, x64, xl]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('iwaeEstimate: error bars from independent repeats cover the exact ELBO (k = 1) of a linear-Gaussian VAE in about 95 % of 200 seeds', async (t) => {
  await ready();
  const rows = linearData(30, 2);
  const x = tf.tensor2d(rows);
  const shift = [0.4, -0.3];
  const lvShift = [0.8, -0.6];
  const vae = linearVAE(shift, lvShift);
  try {
    const meanLogPx = rows.map(exactLogPx).reduce((a, b) => a + b) / rows.length;
    const gap = tf.tidy(() =>
      klDiagonalGaussian(
        tf.tensor2d([shift]),
        tf.tensor2d([POST_VAR.map((v, l) => Math.log(v) + lvShift[l])]),
        tf.tensor2d([[0, 0]]),
        tf.tensor2d([POST_VAR.map(Math.log)]),
      ).arraySync()[0],
    );
    const exactElbo = meanLogPx - gap; // E[L_1] exactly
    const seeds = 200;
    let covered = 0;
    for (let s = 0; s < seeds; s++) {
      const e = await vae.iwaeEstimate(x, { samples: 1, repeats: 10, seed: 100 + s });
      if (Math.abs(e.value - exactElbo) <= 2.2622 * e.stderr) covered++; // Student t, 9 dof
    }
    t.diagnostic(`IWAE (k = 1) 95 % t-intervals from 10 repeats cover the exact ELBO in ${covered}/${seeds} seeds`);
    assert.ok(covered >= 180 && covered <= 198, `coverage ${covered}/${seeds}`);
    const k50 = await vae.iwaeEstimate(x, { samples: 50, repeats: 4, seed: 1 });
    assert.equal(k50.repeats.length, 4);
    assert.ok(k50.value <= meanLogPx + 3 * k50.stderr && k50.value > exactElbo, `k = 50: ${k50.value} +- ${k50.stderr}, log p ${meanLogPx}`);
    await assert.rejects(vae.iwaeEstimate(x, { samples: 2, repeats: 1 }), /repeats must be an integer >= 2/);
    await assert.rejects(vae.iwaeEstimate(x, { samples: 2, repeat: 3 } as never), /unknown option 'repeat'/);
    await assertNoLeak(() => vae.iwaeEstimate(x, { samples: 3, repeats: 2 }), 'iwaeEstimate');
  } finally {
    vae.dispose();
    x.dispose();
  }
});
