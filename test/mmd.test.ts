/**
 * Sample metrics (lib/metrics). Kernel MMD: the unbiased estimate against a hand computation and against the closed
 * form for two Gaussians; zero on average for equal distributions; the median-heuristic bandwidth; errors by name.
 * The independent-pixel baseline. Every metric takes a tensor `[n, ...]` as well as `number[][]`: the same number,
 * no tensor made or freed.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ready, tf } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { energyDistance, fittedGaussian, independentPixels, medianBandwidth, mmd, modeCoverage } from '../lib/metrics/samples';
import { assertClose, assertNoLeak } from './helpers';

function gaussian(n: number, d: number, mean: number[], sd: number, rng: Random): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: d }, (_, k) => mean[k] + sd * rng.normal()));
}

test('mmd: hand computation on two tiny samples', () => {
  const a = [[0], [1]];
  const b = [[0], [2], [3]];
  const k = (x: number, y: number) => Math.exp(-((x - y) ** 2) / 2); // h = 1
  const xx = k(0, 1);
  const yy = (k(0, 2) + k(0, 3) + k(2, 3)) / 3;
  const xy = (k(0, 0) + k(0, 2) + k(0, 3) + k(1, 0) + k(1, 2) + k(1, 3)) / 6;
  assertClose(mmd(a, b, { bandwidth: 1 }), xx + yy - 2 * xy, 1e-14, 'MMD^2');
});

test('mmd: closed form for N(mu1, s^2 I) vs N(mu2, s^2 I); about 0 for equal distributions', () => {
  // E exp(-|Z|^2 / 2h^2), Z ~ N(delta, 2 s^2 I) in d dims = (h^2 / (h^2 + 2 s^2))^(d/2) exp(-|delta|^2 / (2 (h^2 + 2 s^2)))
  // MMD^2 = 2 (h^2 / (h^2 + 2 s^2))^(d/2) (1 - exp(-|delta|^2 / (2 (h^2 + 2 s^2))))
  const rng = new Random(1);
  const d = 3, s = 0.7, h = 1.3;
  const mu2 = [0.8, -0.3, 0.2];
  const delta2 = mu2.reduce((t, v) => t + v * v, 0);
  const exact = 2 * (h * h / (h * h + 2 * s * s)) ** (d / 2) * (1 - Math.exp(-delta2 / (2 * (h * h + 2 * s * s))));
  const reps: number[] = [];
  const nulls: number[] = [];
  for (let r = 0; r < 10; r++) {
    reps.push(mmd(gaussian(400, d, [0, 0, 0], s, rng), gaussian(400, d, mu2, s, rng), { bandwidth: h }));
    nulls.push(mmd(gaussian(400, d, [0, 0, 0], s, rng), gaussian(400, d, [0, 0, 0], s, rng), { bandwidth: h }));
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const se = (v: number[]) => Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1) / v.length);
  assertClose(mean(reps), exact, 4 * se(reps), `MMD^2 (exact ${exact.toFixed(4)})`);
  assertClose(mean(nulls), 0, 4 * se(nulls), 'MMD^2 of equal distributions (unbiased)');
  assert.ok(mean(reps) > 20 * se(nulls), 'the difference stands out of the null spread');
});

test('medianBandwidth: median pairwise distance; errors name the argument', () => {
  assertClose(medianBandwidth([[0], [1], [3]]), 2, 0, 'median of 1, 2, 3'); // pairs: 1, 3, 2
  assertClose(medianBandwidth([[0, 0], [3, 4], [0, 1], [0, 2]]), (2 + Math.sqrt(13)) / 2, 1e-12, 'median of 1, 1, 2, 3.61, 4.24, 5');
  // 1-D standard normal: median |X - X'| = sqrt(2) * 0.6745
  const rng = new Random(2);
  assertClose(medianBandwidth(gaussian(1500, 1, [0], 1, rng), 1500), Math.SQRT2 * 0.67449, 0.03, 'normal median distance');
  assert.throws(() => mmd([[0], [1]], [[0], [1]], { bandwith: 1 } as never), /did you mean 'bandwidth'/);
  assert.throws(() => mmd([[0], [1]], [[0], [1]], { bandwidth: 0 }), /bandwidth must be in \(0/);
  assert.throws(() => mmd([[0], [1]], [[0, 1], [1, 1]], { bandwidth: 1 }), /coordinates/);
  assert.throws(() => mmd([[0]], [[0], [1]], { bandwidth: 1 }), /at least 2 points/);
  assert.throws(() => (mmd as (a: number[][], b: number[][]) => number)([[0], [1]], [[0], [1]]), /bandwidth/);
});

test('independentPixels: exact marginals, independent coordinates, seeded; errors name the argument', () => {
  // data: x2 = x1 (perfectly correlated coordinates), x1 in {0, 1} with P(1) = 1/4
  const data = [[0, 0], [0, 0], [0, 0], [1, 1]];
  const p = independentPixels(data, 20000, 3);
  assert.equal(p.length, 20000);
  const mean = (f: (r: number[]) => number) => p.reduce((s, r) => s + f(r), 0) / p.length;
  const se = Math.sqrt((0.25 * 0.75) / p.length);
  assertClose(mean((r) => r[0]), 0.25, 5 * se, 'marginal of coordinate 0');
  assertClose(mean((r) => r[1]), 0.25, 5 * se, 'marginal of coordinate 1');
  // independence: P(x1 = 1, x2 = 1) = 1/16 (the data have 1/4)
  assertClose(mean((r) => r[0] * r[1]), 1 / 16, 5 * Math.sqrt((1 / 16) * (15 / 16) / p.length), 'joint P(1, 1)');
  assert.deepEqual(independentPixels(data, 5, 7), independentPixels(data, 5, 7), 'same seed, same draws');
  // every value comes from the data's own column
  assert.ok(p.every((r) => r.every((v) => v === 0 || v === 1)));
  // the energy distance sees the lost correlation: for these data the population value is
  // 2 E|X - Y| - E|X - X'| - E|Y - Y'| = 2 (0.6402) - 0.5303 - 0.6676 = 0.0826 (four points, hand-summed)
  const big = Array.from({ length: 400 }, (_, i) => (i % 4 === 3 ? [1, 1] : [0, 0]));
  assertClose(energyDistance(independentPixels(big, 400, 4), big), 0.0826, 0.03, 'energy distance to the baseline');
  assert.throws(() => independentPixels([], 3), /data must be a non-empty array/);
  assert.throws(() => independentPixels(data, 0), /n must be a positive integer/);
  assert.throws(() => independentPixels([[0, 1], [1]], 2), /data\[1\] has 1 coordinates/);
});

test('fittedGaussian: draws with the data\'s mean and covariance (3-D, correlated), seeded; tensors as arrays; errors name the argument', async () => {
  // data: 3-D, mean (1, -2, 0.5), covariance [[4, 1.2, 0], [1.2, 1, -0.3], [0, -0.3, 0.25]] (made from a known factor)
  const rng = new Random(11);
  const L = [[2, 0, 0], [0.6, 0.8, 0], [0, -0.375, 0.3307189]]; //                   L L^T is the covariance above
  const mu = [1, -2, 0.5];
  const data = Array.from({ length: 4000 }, () => {
    const z = [rng.normal(), rng.normal(), rng.normal()];
    return mu.map((m, i) => m + L[i].reduce((s, l, k) => s + l * z[k], 0));
  });
  const moments = (pts: number[][]): { mean: number[]; cov: number[][] } => {
    const mean = [0, 1, 2].map((j) => pts.reduce((s, r) => s + r[j], 0) / pts.length);
    const cov = [0, 1, 2].map((i) => [0, 1, 2].map((j) => pts.reduce((s, r) => s + (r[i] - mean[i]) * (r[j] - mean[j]), 0) / pts.length));
    return { mean, cov };
  };
  const want = moments(data);
  const got = moments(fittedGaussian(data, 40000, 5));
  // standard errors of 40000 draws: mean sqrt(C_ii / n) <= 0.01, covariance entries below 0.01 of sqrt(C_ii C_jj)
  want.mean.forEach((m, i) => assertClose(got.mean[i], m, 0.05, `mean ${i}`));
  want.cov.forEach((row, i) => row.forEach((c, j) => assertClose(got.cov[i][j], c, 0.03 * Math.sqrt(want.cov[i][i] * want.cov[j][j]), `covariance ${i}${j}`)));
  assert.deepEqual(fittedGaussian(data, 5, 7), fittedGaussian(data, 5, 7), 'same seed, same draws');
  await ready();
  const t = tf.tensor2d(data);
  await assertNoLeak(() => assert.deepEqual(fittedGaussian(t, 5, 7).map((r) => r.map((v) => +v.toFixed(4))), fittedGaussian(data, 5, 7).map((r) => r.map((v) => +v.toFixed(4)))), 'fittedGaussian of a tensor');
  t.dispose();
  assert.throws(() => fittedGaussian([[1, 2]], 3), /data must hold at least 2 points/);
  assert.throws(() => fittedGaussian(data, 0), /n must be a positive integer/);
  assert.throws(() => fittedGaussian([Array(65).fill(0), Array(65).fill(1)], 2), /d <= 64.*got d = 65/);
});

test('every metric takes a tensor [n, ...] as well as number[][]: the same number, no tensor leaked or freed', async () => {
  await ready();
  const rng = new Random(5);
  // float32 values, so that the array and the tensor hold exactly the same numbers
  const a = tf.tensor2d(rng.normalArray(40 * 3), [40, 3]);
  const b = tf.tensor2d(rng.normalArray(30 * 3).map((v) => 0.5 + 1.5 * v), [30, 3]);
  const modes = tf.tensor2d([[0, 0, 0], [1, 1, 1]]);
  const [aa, ba, ma] = [a.arraySync(), b.arraySync(), modes.arraySync()];
  await assertNoLeak(() => {
    assert.equal(energyDistance(a, b), energyDistance(aa, ba), 'energyDistance');
    assert.equal(energyDistance(a, ba), energyDistance(aa, ba), 'energyDistance, tensor and array mixed');
    assert.equal(mmd(a, b, { bandwidth: 1.3 }), mmd(aa, ba, { bandwidth: 1.3 }), 'mmd');
    assert.equal(medianBandwidth(a, 25), medianBandwidth(aa, 25), 'medianBandwidth');
    assert.deepEqual(modeCoverage(a, modes, { radius: 1.5, minCount: 2 }), modeCoverage(aa, ma, { radius: 1.5, minCount: 2 }), 'modeCoverage');
    assert.deepEqual(independentPixels(a, 7, 3), independentPixels(aa, 7, 3), 'independentPixels');
  }, 'the metrics on tensors');
  assert.ok(!a.isDisposed && !b.isDisposed && !modes.isDisposed, 'the caller keeps its tensors');

  // images [n, h, w, c]: each image is one point of h * w * c coordinates, in row-major order
  const images = tf.tensor4d(rng.uniformArray(6 * 2 * 2 * 1), [6, 2, 2, 1]);
  const flat = images.reshape([6, 4]).arraySync() as number[][];
  await assertNoLeak(() => {
    assert.equal(energyDistance(images, flat.slice(0, 3)), energyDistance(flat, flat.slice(0, 3)), 'energyDistance of images');
    assert.equal(mmd(images, flat, { bandwidth: 0.5 }), mmd(flat, flat, { bandwidth: 0.5 }), 'mmd of images');
    assert.deepEqual(independentPixels(images, 4, 1), independentPixels(flat, 4, 1), 'independentPixels of images');
  }, 'the metrics on images');

  assert.throws(() => energyDistance(tf.tensor1d([1, 2, 3]), aa), /a must be a tf\.Tensor of rank >= 2 .*got shape \[3\]/);
  assert.throws(() => medianBandwidth(tf.zeros([0, 2])), /x must hold at least one point; got shape \[0,2\]/);
  assert.throws(() => modeCoverage(a, tf.zeros([2, 4])), /samples has 3 coordinates per point but modes has 4/);
  assert.throws(() => mmd(images, aa, { bandwidth: 1 }), /a has 4 coordinates per point but b has 3/);
  assert.throws(() => energyDistance('points' as never, aa), /a must be a non-empty array of points \[n\]\[d\] or a tf\.Tensor/);
  assert.throws(() => energyDistance([[0, 1], 5 as never], aa), /a\[1\] must be an array of 2 coordinates; got 5/);
  tf.dispose([a, b, modes, images]);
});
