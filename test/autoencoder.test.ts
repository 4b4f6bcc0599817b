/**
 * Autoencoder and PCA: the Jacobi eigen-solver against the definition, PCA against the exact eigen-decomposition
 * of the sample covariance, a trained linear autoencoder against PCA (same subspace, same error), a non-linear
 * BCE autoencoder learning, argument errors and leaks.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf, ready } from '../lib/backend';
import { Random } from '../lib/random';
import { Autoencoder, pca, principalAngles, symmetricEigen } from '../lib/autoencoder';
import { assertClose, assertNoLeak } from './helpers';

test('symmetricEigen: A v = lambda v, orthonormal vectors, descending values; bad input named', () => {
  const rng = new Random(1);
  const n = 7;
  const A = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) A[i][j] = A[j][i] = rng.normal();
  const { values, vectors } = symmetricEigen(A);
  for (let i = 1; i < n; i++) assert.ok(values[i] <= values[i - 1]);
  vectors.forEach((v, k) => {
    const Av = A.map((row) => row.reduce((s, a, j) => s + a * v[j], 0));
    Av.forEach((x, i) => assertClose(x, values[k] * v[i], 1e-9, `A v_${k} [${i}]`));
    vectors.forEach((w, l) => assertClose(v.reduce((s, a, i) => s + a * w[i], 0), k === l ? 1 : 0, 1e-9, `<v${k}, v${l}>`));
  });
  assert.throws(() => symmetricEigen([[1, 2], [3, 4]]), /symmetric/);
  assert.throws(() => symmetricEigen([[1, 2]]), /square/);
});

/** n points in R^d near a k-dimensional affine subspace with distinct variances along it. */
function lowRank(n: number, d: number, k: number, noise: number, seed: number, spread = 1): tf.Tensor2D {
  const rng = new Random(seed);
  const basis = Array.from({ length: k }, () => Array.from({ length: d }, () => rng.normal()));
  const offset = Array.from({ length: d }, () => rng.normal());
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: k }, (_, j) => rng.normal() * (1 + spread * (k - 1 - j)));
    for (let c = 0; c < d; c++) {
      let v = offset[c] + noise * rng.normal();
      for (let j = 0; j < k; j++) v += z[j] * basis[j][c];
      out[i * d + c] = v;
    }
  }
  return tf.tensor2d(out, [n, d]);
}

test('pca equals the exact eigen-decomposition of the sample covariance', async () => {
  await ready();
  const x = lowRank(300, 8, 3, 0.3, 2);
  const k = 3;
  await assertNoLeak(() => pca(x, k).dispose(), 'pca + dispose');
  const res = pca(x, k);
  try {
    // exact covariance eigenpairs in float64 via Jacobi
    const rows = x.arraySync();
    const n = rows.length;
    const d = rows[0].length;
    const mean = rows[0].map((_, c) => rows.reduce((s, r) => s + r[c], 0) / n);
    const C = Array.from({ length: d }, (_, a) =>
      Array.from({ length: d }, (_, b) => rows.reduce((s, r) => s + (r[a] - mean[a]) * (r[b] - mean[b]), 0) / (n - 1)),
    );
    const exact = symmetricEigen(C);
    res.explainedVariance.forEach((v, i) => assertClose(v, exact.values[i], 1e-4 * exact.values[0], `eigenvalue ${i}`));
    const total = exact.values.reduce((a, b) => a + b);
    assertClose(res.explainedVarianceRatio[0], exact.values[0] / total, 1e-4, 'ratio');
    const comps = res.components.arraySync();
    comps.forEach((c, i) => {
      const dot = c.reduce((s, v, j) => s + v * exact.vectors[i][j], 0);
      assertClose(Math.abs(dot), 1, 1e-4, `component ${i} vs exact eigenvector`);
    });
    // reconstruction error of the rank-k projection = sum of the discarded eigenvalues (per row, times (n-1)/n)
    const rec = res.reconstruct(x);
    const err = tf.tidy(() => tf.squaredDifference(rec, x).sum(1).mean().dataSync()[0]);
    rec.dispose();
    const discarded = exact.values.slice(k).reduce((a, b) => a + b, 0) * ((n - 1) / n);
    assertClose(err, discarded, 1e-3 * total, 'reconstruction error');
    const codes = res.project(x);
    assert.deepEqual(codes.shape, [300, 3]);
    codes.dispose();
    assert.throws(() => pca(x, 9), /k must be at most/);
  } finally {
    res.dispose();
    x.dispose();
  }
});

test('principalAngles: 0 for the same subspace, pi/2 for orthogonal ones', async () => {
  await ready();
  const a = tf.tensor2d([[1, 0, 0, 0], [0, 1, 0, 0]]);
  const b = tf.tensor2d([[1, 1, 0, 0], [1, -2, 0, 0]]); // same span
  const c = tf.tensor2d([[0, 0, 1, 0], [0, 0, 0, 1]]);
  const m = tf.tensor2d([[1, 0, 1, 0]]); // 45 degrees to a's plane
  try {
    principalAngles(a, b).forEach((t) => assertClose(t, 0, 1e-6, 'same span'));
    principalAngles(a, c).forEach((t) => assertClose(t, Math.PI / 2, 1e-6, 'orthogonal'));
    assertClose(principalAngles(m, a)[0], Math.PI / 4, 1e-6, '45 degrees');
  } finally {
    tf.dispose([a, b, c, m]);
  }
});

test('a trained linear autoencoder spans the PCA subspace and matches its error', async () => {
  await ready();
  const x = lowRank(512, 10, 2, 0.2, 3, 0.5);
  const ae = new Autoencoder({ inputDim: 10, codeDim: 2, loss: 'mse', linear: true, seed: 1 });
  const p = pca(x, 2);
  try {
    const h = await ae.fit(x, { epochs: 40, batchSize: 32, learningRate: 1e-2, progress: false });
    assert.equal(h.loss.length, 40);
    await ae.fit(x, { epochs: 150, batchSize: 512, learningRate: 3e-3, progress: false }); // full-batch settle
    const maps = ae.linearMaps();
    const angles = principalAngles(maps.decoderWeight, p.components);
    tf.dispose(Object.values(maps));
    for (const t of angles) assert.ok(t < 0.05, `principal angle ${t} rad: the linear AE should span PCA's subspace`);
    const aeErr = await ae.reconstructionError(x);
    const rec = p.reconstruct(x);
    const pcaErr = tf.tidy(() => tf.squaredDifference(rec, x).mean().dataSync()[0]);
    rec.dispose();
    assert.ok(aeErr >= pcaErr * 0.999, `PCA is optimal: AE ${aeErr} < PCA ${pcaErr}?`);
    assertClose(aeErr, pcaErr, 0.1 * pcaErr, 'linear AE error vs PCA');
    assert.equal(ae.describe(), 'linear 10-2 mse');
  } finally {
    ae.dispose();
    p.dispose();
    x.dispose();
  }
});

test('non-linear BCE autoencoder learns, shapes, no leaks, named errors', async () => {
  await ready();
  const rng = new Random(5);
  // 4x4 bars
  const data = new Float32Array(256 * 16);
  for (let i = 0; i < 256; i++) {
    const k = rng.int(4);
    const vertical = rng.next() < 0.5;
    for (let t = 0; t < 4; t++) data[i * 16 + (vertical ? t * 4 + k : k * 4 + t)] = 1;
  }
  const x = tf.tensor2d(data, [256, 16]);
  const ae = new Autoencoder({ inputDim: 16, hiddenUnits: [12], codeDim: 4, loss: 'bce', seed: 2 });
  try {
    const h = await ae.fit(x, { epochs: 30, batchSize: 32, learningRate: 1e-2, validation: x, progress: false });
    assert.ok(h.loss[29] < 0.5 * h.loss[0], `loss should fall: ${h.loss[0]} -> ${h.loss[29]}`);
    assert.equal(h.valLoss!.length, 30);
    await assertNoLeak(async () => {
      await ae.fit(x, { epochs: 1, batchSize: 32, learningRate: 1e-2, progress: false });
      const code = ae.encode(x);
      assert.deepEqual(code.shape, [256, 4]);
      const dec = ae.decode(code);
      assert.deepEqual(dec.shape, [256, 16]);
      const r = ae.reconstruct(x);
      assert.ok(r.dataSync().every((v) => v >= 0 && v <= 1));
      tf.dispose([code, dec, r]);
      await ae.reconstructionError(x);
    }, 'autoencoder fit/encode/decode');
    assert.equal(ae.describe(), '16-12-4 bce');
    assert.throws(() => new Autoencoder({ inputDim: 16, codeDim: 0 }), /codeDim/);
    assert.throws(() => new Autoencoder({ inputDim: 16, codeDim: 2, loss: 'l1' as 'mse' }), /loss/);
    assert.throws(() => ae.linearMaps(), /linear/);
    const bad = tf.fill([2, 16], 2);
    await assert.rejects(ae.fit(bad as tf.Tensor2D, { progress: false }), /x must have values in \[0, 1\]/);
    await assert.rejects(ae.fit(x, { epochs: -1, progress: false }), /epochs/);
    bad.dispose();
  } finally {
    ae.dispose();
    x.dispose();
  }
});
