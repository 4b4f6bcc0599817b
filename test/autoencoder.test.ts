/**
 * Autoencoder and PCA: the Jacobi eigen-solver against the definition, PCA against the exact eigen-decomposition
 * of the sample covariance, a trained linear autoencoder against PCA (same subspace, same error), a non-linear
 * BCE autoencoder learning, argument errors and leaks; save / load (round trip, atomic replacement, refusal of
 * damaged checkpoints and of other model kinds).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, ready } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { Autoencoder } from '../lib/autoencoder/autoencoder';
import { pca, principalAngles, symmetricEigen } from '../lib/autoencoder/pca';
import { saveCheckpoint } from '../lib/core/checkpoint';
import { BernoulliRBM } from '../lib/rbm/bernoulli';
import { VAE } from '../lib/vae/vae';
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

// ---------------------------------------------------------------------------------------------------------
// save / load

/** Values of `t` as a plain array; disposes `t`. */
const values = (t: tf.Tensor): number[] => {
  const out = Array.from(t.dataSync());
  t.dispose();
  return out;
};

/** Uniform [0, 1) data `[n, d]` from a seeded generator (valid for both losses). */
function uniformData(n: number, d: number, seed: number): tf.Tensor2D {
  return tf.tensor2d(new Random(seed).uniformArray(n * d), [n, d]);
}

/** The single payload file of a checkpoint directory. */
function payloadOf(dir: string): string {
  const files = fs.readdirSync(dir).filter((f) => /^tensors-[0-9a-f]{16}\.bin$/.test(f));
  assert.equal(files.length, 1, `one payload file in ${dir}: ${files.join(', ')}`);
  return path.join(dir, files[0]);
}

test('Autoencoder save / load round trip (dense BCE and linear MSE): same outputs bit for bit, fit continues', async () => {
  await ready();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-ae-'));
  const x = uniformData(64, 8, 11);
  const configs = [
    { inputDim: 8, hiddenUnits: [6, 5], codeDim: 3, loss: 'bce' as const, activation: 'tanh' as const, codeActivation: 'sigmoid' as const, seed: 4 },
    { inputDim: 8, codeDim: 2, loss: 'mse' as const, linear: true, seed: 5.5 },
  ];
  try {
    for (const [k, opts] of configs.entries()) {
      const dir = path.join(root, `m${k}`);
      const ae = new Autoencoder(opts);
      let back: Autoencoder | undefined;
      try {
        await ae.fit(x, { epochs: 3, batchSize: 16, learningRate: 1e-2, progress: false });
        await assertNoLeak(() => ae.save(dir), 'save');
        back = await Autoencoder.load(dir);
        assert.equal(back.describe(), ae.describe());
        assert.deepEqual([back.inputDim, back.codeDim, back.loss, back.linear], [ae.inputDim, ae.codeDim, ae.loss, ae.linear]);
        assert.deepEqual(values(back.encode(x)), values(ae.encode(x)), `${ae.describe()}: encode after load`);
        const before = values(ae.reconstruct(x));
        assert.deepEqual(values(back.reconstruct(x)), before, `${ae.describe()}: reconstruct after load`);
        assert.equal(await back.reconstructionError(x), await ae.reconstructionError(x));
        // The activations came back too (not only the weights): a tanh/sigmoid model differs from a relu one there.
        if (opts.activation) {
          const relu = new Autoencoder({ ...opts, activation: 'relu', codeActivation: 'relu' });
          const reluDir = path.join(root, `relu${k}`);
          await relu.save(reluDir);
          relu.dispose();
          const reluBack = await Autoencoder.load(reluDir);
          // Same seed and shapes, different activations: the same weights give different codes.
          reluBack.encoder.setWeights(back.encoder.getWeights());
          assert.notDeepEqual(values(reluBack.encode(x)), values(back.encode(x)));
          reluBack.dispose();
        }
        // Training continues from the loaded weights (fresh Adam) and lowers the loss; the original is untouched.
        const errLoaded = await back.reconstructionError(x);
        const h = await back.fit(x, { epochs: 20, batchSize: 16, learningRate: 1e-2, progress: false });
        assert.equal(h.loss.length, 20);
        assert.ok(h.loss[19] < errLoaded, `${ae.describe()}: loss after load ${errLoaded} -> ${h.loss[19]}`);
        // The first fit made the Adam moments; further fits hold no more tensors.
        await assertNoLeak(() => back!.fit(x, { epochs: 1, batchSize: 16, progress: false }), 'fit after load');
        assert.deepEqual(values(ae.reconstruct(x)), before, 'the saved model is independent of the loaded one');
        await assertNoLeak(async () => (await Autoencoder.load(dir)).dispose(), 'load + dispose');
      } finally {
        ae.dispose();
        back?.dispose();
      }
    }
  } finally {
    x.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('Autoencoder.save replaces a checkpoint atomically; leftovers of a crashed save do not matter', async () => {
  await ready();
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-ae-')), 'm');
  const x = uniformData(16, 5, 12);
  const a = new Autoencoder({ inputDim: 5, codeDim: 2, seed: 1 });
  const b = new Autoencoder({ inputDim: 5, codeDim: 2, seed: 2 });
  try {
    await a.save(dir);
    // What a save of b that died before its manifest swap leaves behind: a new payload and a temporary manifest.
    fs.writeFileSync(path.join(dir, 'tensors-0123456789abcdef.bin'), Buffer.alloc(100, 7));
    fs.writeFileSync(path.join(dir, 'manifest.json.tmp-abcdef'), '{"half": ');
    const fromA = await Autoencoder.load(dir);
    assert.deepEqual(values(fromA.reconstruct(x)), values(a.reconstruct(x)), 'the previous checkpoint still loads');
    fromA.dispose();
    await b.save(dir);
    const fromB = await Autoencoder.load(dir);
    assert.deepEqual(values(fromB.reconstruct(x)), values(b.reconstruct(x)), 'the new checkpoint replaced it');
    assert.notDeepEqual(values(fromB.reconstruct(x)), values(a.reconstruct(x)));
    fromB.dispose();
    assert.deepEqual(fs.readdirSync(dir).filter((f) => !f.startsWith('tensors-')), ['manifest.json'], 'leftovers tidied');
    payloadOf(dir);
  } finally {
    a.dispose();
    b.dispose();
    x.dispose();
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  }
});

test('Autoencoder.load refuses truncated or corrupted checkpoints and other model kinds, naming the directory', async () => {
  await ready();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-ae-'));
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const ae = new Autoencoder({ inputDim: 6, hiddenUnits: [4], codeDim: 2, seed: 3 });
  try {
    // Truncated payload (a save cut short by a full disk, or a partial copy).
    const truncated = path.join(root, 'truncated');
    await ae.save(truncated);
    const file = payloadOf(truncated);
    const full = fs.readFileSync(file);
    fs.writeFileSync(file, full.subarray(0, full.length - 10));
    await assertNoLeak(
      () => assert.rejects(Autoencoder.load(truncated), new RegExp(`${esc(truncated)}.*is truncated: expected ${full.length} bytes, found ${full.length - 10}`)),
      'refused load (truncated)',
    );
    // Same length, one byte changed.
    const flipped = Buffer.from(full);
    flipped[full.length >> 1] ^= 0xff;
    fs.writeFileSync(file, flipped);
    await assertNoLeak(() => assert.rejects(Autoencoder.load(truncated), new RegExp(`${esc(truncated)}.*fails its SHA-256 checksum`)), 'refused load (corrupt)');
    // A damaged manifest.
    const manifest = path.join(root, 'manifest');
    await ae.save(manifest);
    const text = fs.readFileSync(path.join(manifest, 'manifest.json'), 'utf8');
    fs.writeFileSync(path.join(manifest, 'manifest.json'), text.slice(0, text.length >> 1));
    await assert.rejects(Autoencoder.load(manifest), new RegExp(`${esc(manifest)}.*not valid JSON`));
    // Nothing there.
    await assert.rejects(Autoencoder.load(path.join(root, 'absent')), /no checkpoint at .*absent/);

    // Another model kind: an RBM checkpoint directory, and the other way round.
    const rbmDir = path.join(root, 'rbm');
    const rbm = new BernoulliRBM({ nVisible: 6, nHidden: 2, seed: 1 });
    await rbm.save(rbmDir);
    rbm.dispose();
    await assertNoLeak(
      () => assert.rejects(Autoencoder.load(rbmDir), new RegExp(`checkpoint at ${esc(rbmDir)} holds a BernoulliRBM, not an Autoencoder`)),
      'refused load (RBM)',
    );
    const aeDir = path.join(root, 'ae');
    await ae.save(aeDir);
    await assert.rejects(BernoulliRBM.load(aeDir), /holds an Autoencoder, not a BernoulliRBM/);
    await assert.rejects(VAE.load(aeDir), /holds an Autoencoder, not a VAE/);

    // A well-formed checkpoint whose weights do not fit its configuration (written by another program).
    const mismatch = path.join(root, 'mismatch');
    const enc = ae.encoder.getWeights();
    const dec = ae.decoder.getWeights();
    const tensors: Record<string, tf.Tensor> = {};
    enc.forEach((w, i) => (tensors[`encoder/${i}`] = w));
    dec.forEach((w, i) => (tensors[`decoder/${i}`] = w));
    const config = { inputDim: 6, hiddenUnits: [4], codeDim: 3, loss: 'mse', linear: false, activation: 'relu', codeActivation: 'relu', seed: 3 };
    await saveCheckpoint(mismatch, { kind: 'Autoencoder', config, tensors });
    await assertNoLeak(
      () => assert.rejects(Autoencoder.load(mismatch), new RegExp(`checkpoint at ${esc(mismatch)}: encoder weight 2 is missing or has the wrong shape`)),
      'refused load (shapes)',
    );
    await saveCheckpoint(mismatch, { kind: 'Autoencoder', config: { ...config, codeDim: 2, loss: 'huber' }, tensors });
    await assert.rejects(Autoencoder.load(mismatch), /loss must be one of/);
    await saveCheckpoint(mismatch, { kind: 'Autoencoder', config: null, tensors });
    await assert.rejects(Autoencoder.load(mismatch), new RegExp(`checkpoint at ${esc(mismatch)} has no Autoencoder config`));
  } finally {
    ae.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
