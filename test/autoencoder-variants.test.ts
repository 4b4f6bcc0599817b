/**
 * The autoencoder variants of issue 17: denoising (Gaussian and masking corruption, training inputs only) really
 * denoises MNIST digits; the convolutional autoencoder's shapes and save / load; a stacked (deep) dense one; the
 * new options round-trip through save / load and are checked; and the 2-D `embedding` (UMAP, t-SNE, PCA) is
 * deterministic for a seed and separates two well-separated clusters. No test leaks tensors.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, ready } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { Autoencoder, Corruption } from '../lib/autoencoder';
import { embedding } from '../lib/embed';
import { loadMnist } from '../datasets/mnist';
import { assertNoLeak } from './helpers';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-ae-variants-'));
}

/** Mean squared difference of two equal-shape tensors. */
function mse(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.squaredDifference(a, b).mean().dataSync()[0]);
}

for (const corruption of [{ kind: 'gaussian', std: 0.5 }, { kind: 'mask', rate: 0.5 }] as Corruption[]) {
  test(`denoising autoencoder (${corruption.kind}): reconstructions of corrupted test digits are closer to the clean ones than the corrupted inputs`, async () => {
    await ready();
    const train = await loadMnist({ split: 'train', limit: 2000, seed: 1 });
    const testSet = await loadMnist({ split: 'test', limit: 200, seed: 1 });
    try {
      await assertNoLeak(async () => {
        const ae = new Autoencoder({ inputDim: 784, hiddenUnits: [256], codeDim: 32, loss: 'bce', corruption, seed: 3 });
        try {
          const h = await ae.fit(train.images, { epochs: 6, batchSize: 64, progress: false });
          assert.ok(h.loss[h.loss.length - 1] < h.loss[0], `the loss fell: ${h.loss.join(', ')}`);
          // The same kind of corruption on held-out digits, with another generator than the model's.
          const clean = testSet.images;
          const noisy = tf.tidy(() =>
            corruption.kind === 'gaussian'
              ? clean.add(tf.randomNormal(clean.shape, 0, corruption.std, 'float32', 99))
              : clean.mul(tf.randomUniform(clean.shape, 0, 1, 'float32', 99).greaterEqual(corruption.rate).toFloat()),
          ) as tf.Tensor2D;
          const denoised = ae.reconstruct(noisy);
          const before = mse(noisy, clean);
          const after = mse(denoised, clean);
          // Clearly closer, not merely equal (a copying network would give ratio 1): measured 0.249 -> 0.034 (gaussian,
          // ratio 0.14, bound 0.5) and 0.056 -> 0.039 (half the pixels masked, ratio 0.70, bound 0.8).
          const bound = corruption.kind === 'gaussian' ? 0.5 : 0.8;
          assert.ok(after < bound * before, `${corruption.kind}: |denoised - clean|^2 ${after.toFixed(4)} vs |noisy - clean|^2 ${before.toFixed(4)}`);
          tf.dispose([noisy, denoised]);
        } finally {
          ae.dispose();
        }
      }, 'denoising fit');
    } finally {
      train.images.dispose();
      testSet.images.dispose();
    }
  });
}

test('corruption applies to training only: encode / reconstruct / reconstructionError are deterministic; a seeded denoising run reproduces', async () => {
  await ready();
  const rng = new Random(5);
  const x = tf.tensor2d(rng.uniformArray(64 * 16), [64, 16]);
  try {
    await assertNoLeak(async () => {
      const losses: number[][] = [];
      for (let run = 0; run < 2; run++) {
        const ae = new Autoencoder({ inputDim: 16, hiddenUnits: [8], codeDim: 4, loss: 'bce', corruption: { kind: 'mask', rate: 0.3 }, seed: 11 });
        const h = await ae.fit(x, { epochs: 2, batchSize: 16, progress: false });
        losses.push(h.loss);
        const r1 = ae.reconstruct(x);
        const r2 = ae.reconstruct(x);
        assert.equal(mse(r1, r2), 0, 'reconstruct corrupts nothing');
        assert.equal(ae.reconstructionError(x), ae.reconstructionError(x));
        tf.dispose([r1, r2]);
        ae.dispose();
      }
      assert.deepEqual(losses[0], losses[1], 'the same seed gives the same noise and the same losses');
    });
  } finally {
    x.dispose();
  }
});

test('corruption and architecture options are checked, naming the field and value', () => {
  const bad: [unknown, RegExp][] = [
    [{ kind: 'salt' }, /corruption\.kind/],
    [{ kind: 'gaussian', std: -1 }, /corruption\.std/],
    [{ kind: 'gaussian' }, /corruption\.std/],
    [{ kind: 'mask', rate: 1 }, /corruption\.rate must be a number in \[0, 1\); got 1/],
    [{ kind: 'mask', rat: 0.2 }, /unknown option 'rat' for Autoencoder corruption; did you mean 'rate'/],
    ['gaussian', /corruption must be/],
  ];
  for (const [corruption, re] of bad) {
    assert.throws(() => new Autoencoder({ inputDim: 4, codeDim: 2, corruption: corruption as Corruption }), re);
  }
  assert.throws(() => new Autoencoder({ architecture: 'conv', codeDim: 2 }), /a conv Autoencoder needs dataShape \(or inputShape\) \[height, width, channels\]/);
  assert.throws(() => new Autoencoder({ architecture: 'conv', dataShape: [64], codeDim: 2 }), /a conv Autoencoder needs dataShape .*; got \[64\]/);
  assert.throws(() => new Autoencoder({ architecture: 'conv', inputShape: [28, 28, 1], inputDim: 100, codeDim: 2 }), /inputDim must equal the size of inputShape \[28, 28, 1\], 784; got 100/);
  assert.throws(() => new Autoencoder({ architecture: 'conv', dataShape: [8, 8, 1], inputShape: [8, 8, 2], codeDim: 2 }), /dataShape \[8, 8, 1\] and inputShape \[8, 8, 2\] disagree/);
  assert.throws(() => new Autoencoder({ codeDim: 2 }), /dataShape \(or inputDim\) must be given/);
  assert.throws(() => new Autoencoder({ architecture: 'conv', inputShape: [6, 6, 1], codeDim: 2 }), /divisible by 4/);
  assert.throws(() => new Autoencoder({ architecture: 'conv', inputShape: [8, 8, 1], hiddenUnits: [4], codeDim: 2 }), /hiddenUnits is for architecture 'dense'/);
  assert.throws(() => new Autoencoder({ inputDim: 4, inputShape: [2, 2, 1], codeDim: 2 }), /inputShape is for architecture 'conv'/);
  assert.throws(() => new Autoencoder({ architecture: 'cnn' as 'conv', inputShape: [8, 8, 1], codeDim: 2 }), /architecture/);
});

test('conv autoencoder: flat or image data in, images out, code shape, training lowers the loss, save / load round-trips every option', async () => {
  await ready();
  const rng = new Random(2);
  const x = tf.tensor2d(rng.uniformArray(32 * 64), [32, 64]);
  const dir = tmpDir();
  try {
    await assertNoLeak(async () => {
      const ae = new Autoencoder({
        architecture: 'conv',
        dataShape: [8, 8, 1],
        convFilters: [4, 8],
        convDenseUnits: 12,
        codeDim: 3,
        loss: 'bce',
        corruption: { kind: 'gaussian', std: 0.2 },
        seed: 4,
      });
      assert.equal(ae.inputDim, 64);
      assert.deepEqual(ae.inputShape, [8, 8, 1]);
      assert.deepEqual(ae.dataShape, [8, 8, 1]);
      assert.equal(ae.describe(), 'conv 8x8x1 [4,8]-12-3 bce, gaussian noise 0.2');
      const h = await ae.fit(x, { epochs: 5, batchSize: 8, learningRate: 1e-2, progress: false });
      assert.ok(h.loss[4] < h.loss[0], `conv loss fell: ${h.loss.join(', ')}`);
      const code = ae.encode(x);
      assert.deepEqual(code.shape, [32, 3]);
      const dec = ae.decode(code);
      assert.deepEqual(dec.shape, [32, 8, 8, 1]);
      const rec = ae.reconstruct(x);
      assert.deepEqual(rec.shape, [32, 8, 8, 1]);
      const images = x.reshape([32, 8, 8, 1]);
      const recImages = ae.reconstruct(images);
      assert.deepEqual(Array.from(recImages.dataSync()), Array.from(rec.dataSync()), 'flat and image input give the same reconstructions');
      assert.equal(ae.reconstructionError(images), ae.reconstructionError(x));
      tf.dispose([images, recImages]);
      const r = rec.dataSync();
      assert.ok(r.every((v) => v > 0 && v < 1), 'bce outputs are sigmoids');
      await ae.save(dir);
      const again = await Autoencoder.load(dir);
      assert.equal(again.architecture, 'conv');
      assert.deepEqual(again.inputShape, [8, 8, 1]);
      assert.deepEqual(again.corruption, { kind: 'gaussian', std: 0.2 });
      assert.equal(again.describe(), ae.describe());
      const rec2 = again.reconstruct(x);
      assert.deepEqual(Array.from(rec2.dataSync()), Array.from(r), 'loaded conv model reconstructs bit for bit');
      tf.dispose([code, dec, rec, rec2]);
      again.dispose();
      ae.dispose();
    }, 'conv autoencoder');
  } finally {
    x.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stacked (deep) dense autoencoder: mirrored layers, learns, round-trips with its mask corruption', async () => {
  await ready();
  const rng = new Random(8);
  const x = tf.tensor2d(rng.uniformArray(64 * 20), [64, 20]);
  const dir = tmpDir();
  try {
    await assertNoLeak(async () => {
      const ae = new Autoencoder({ inputDim: 20, hiddenUnits: [16, 12, 8], codeDim: 4, loss: 'mse', corruption: { kind: 'mask', rate: 0.2 }, seed: 6 });
      assert.equal(ae.describe(), '20-16-12-8-4 mse, mask 0.2');
      assert.equal(ae.encoder.layers.filter((l) => l.getClassName() === 'Dense').length, 4);
      assert.equal(ae.decoder.layers.filter((l) => l.getClassName() === 'Dense').length, 4);
      const h = await ae.fit(x, { epochs: 20, batchSize: 16, learningRate: 3e-3, progress: false });
      assert.ok(h.loss[19] < h.loss[0], `deep loss fell: ${h.loss[0]} -> ${h.loss[19]}`);
      await ae.save(dir);
      const again = await Autoencoder.load(dir);
      assert.deepEqual(again.corruption, { kind: 'mask', rate: 0.2 });
      assert.equal(again.describe(), ae.describe());
      const a = ae.encode(x);
      const b = again.encode(x);
      assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
      tf.dispose([a, b]);
      again.dispose();
      ae.dispose();
    });
  } finally {
    x.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Two Gaussian blobs in 10-D, 40 points each, centres 20 apart (unit spread). */
function twoClusters(seed: number): { points: number[][]; labels: number[] } {
  const rng = new Random(seed);
  const points: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < 80; i++) {
    const c = i % 2;
    points.push(Array.from({ length: 10 }, (_, j) => rng.normal() + (c === 1 && j < 4 ? 10 : 0)));
    labels.push(c);
  }
  return { points, labels };
}

/** Ratio of the distance between the two cluster means to the largest within-cluster spread (RMS radius). */
function separation(map: number[][], labels: number[]): number {
  const stats = [0, 1].map((c) => {
    const pts = map.filter((_, i) => labels[i] === c);
    const m = [0, 1].map((a) => pts.reduce((s, p) => s + p[a], 0) / pts.length);
    const r = Math.sqrt(pts.reduce((s, p) => s + (p[0] - m[0]) ** 2 + (p[1] - m[1]) ** 2, 0) / pts.length);
    return { m, r };
  });
  const d = Math.hypot(stats[0].m[0] - stats[1].m[0], stats[0].m[1] - stats[1].m[1]);
  return d / Math.max(stats[0].r, stats[1].r);
}

for (const method of ['umap', 'tsne', 'pca'] as const) {
  test(`embedding (${method}): 2-D, deterministic for a seed, separates two well-separated clusters`, async () => {
    await ready();
    const { points, labels } = twoClusters(1);
    const map = await assertNoLeak(() => embedding(points, { method, seed: 7 }));
    assert.equal(map.length, 80);
    assert.ok(map.every((p) => p.length === 2 && p.every(Number.isFinite)));
    assert.deepEqual(embedding(points, { method, seed: 7 }), map, 'same seed, same map');
    const sep = separation(map, labels);
    assert.ok(sep > 3, `${method}: cluster means ${sep.toFixed(2)} spreads apart`);
    // Every point nearer its own cluster's mean than the other's.
    if (method !== 'pca') {
      const other = embedding(points, { method, seed: 8 });
      assert.notDeepEqual(other, map, 'another seed, another map');
    }
  });
}

test('embedding: bad arguments named', () => {
  const { points } = twoClusters(2);
  assert.throws(() => embedding(points, { method: 'isomap' as 'pca' }), /method/);
  assert.throws(() => embedding([[1], [2]]), /at least 3 rows/);
  assert.throws(() => embedding([[1, 2], [3], [4, 5]]), /points\[1\] must be a number\[\] of length 2/);
  assert.throws(() => embedding([[1, 2], [3, NaN], [4, 5]]), /points\[1\]\[1\] must be finite/);
  assert.throws(() => embedding(points, { method: 'umap', nNeighbors: 100 }), /nNeighbors must be in \[2, 79\]/);
  assert.throws(() => embedding(points, { method: 'tsne', perplexity: 80 }), /perplexity must be below/);
});
