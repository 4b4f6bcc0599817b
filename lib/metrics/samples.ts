/**
 * Distances between a model's samples and data, as plain numbers for plots and checks. Points are a
 * {@link PointSet}: `number[][]` (`[n][d]`) or a model's output tensor as it is (`[n, ...]`, each point flattened).
 */
import { assertFiniteNumber, assertKnownOptions, assertPositiveInteger, assertPositiveNumber, describeValue, optionKeys } from '../core/validate';
import { Random } from '../engine/random';
import { tf } from '../engine/tf';

/**
 * n points of d coordinates: `number[][]` (`[n][d]`), or a `tf.Tensor` of rank >= 2 whose first axis counts the points
 * (`[n, d]`, or images `[n, h, w, c]`, each read as one point of d = h * w * c coordinates in row-major order). A
 * tensor is read as it is (`sample(...)`'s output needs no `.arraySync()`) and left to its owner: the metrics make no
 * tensors and dispose none.
 */
export type PointSet = number[][] | tf.Tensor;

/** The points of a {@link PointSet} as rows (a tensor's rows are views of its data, not copies) and their width d. */
function pointRows(name: string, p: PointSet): { rows: ArrayLike<number>[]; d: number } {
  if (p instanceof tf.Tensor) {
    if (p.rank < 2) throw new RangeError(`${name} must be a tf.Tensor of rank >= 2 ([n, ...], one point per row); got shape [${p.shape}]`);
    if (p.dtype === 'string' || p.dtype === 'complex64') throw new TypeError(`${name} must be a numeric tensor; got dtype ${p.dtype}`);
    const n = p.shape[0];
    if (n === 0) throw new RangeError(`${name} must hold at least one point; got shape [${p.shape}]`);
    const d = p.size / n;
    const values = p.dataSync() as Float32Array | Int32Array | Uint8Array; //   [n * d], row-major
    return { rows: Array.from({ length: n }, (_, i) => values.subarray(i * d, (i + 1) * d)), d };
  }
  if (!Array.isArray(p) || p.length === 0 || !Array.isArray(p[0])) {
    throw new TypeError(`${name} must be a non-empty array of points [n][d] or a tf.Tensor [n, ...]; got ${describeValue(p)}`);
  }
  const d = p[0].length;
  for (let i = 0; i < p.length; i++) {
    if (!Array.isArray(p[i])) throw new TypeError(`${name}[${i}] must be an array of ${d} coordinates; got ${describeValue(p[i])}`);
    if (p[i].length !== d) throw new RangeError(`${name}[${i}] has ${p[i].length} coordinates; expected ${d}`);
  }
  return { rows: p, d };
}

/** The rows of two point sets that must have the same width (named `nameA`, `nameB` in the error). */
function pairedRows(nameA: string, a: PointSet, nameB: string, b: PointSet): [ArrayLike<number>[], ArrayLike<number>[]] {
  const pa = pointRows(nameA, a);
  const pb = pointRows(nameB, b);
  if (pa.d !== pb.d) throw new RangeError(`${nameA} has ${pa.d} coordinates per point but ${nameB} has ${pb.d}`);
  return [pa.rows, pb.rows];
}

function dist(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (a[k] - b[k]) ** 2;
  return Math.sqrt(s);
}

/** Mean Euclidean distance over pairs (i in a, j in b), skipping i = j when `same`. */
function meanDistance(a: ArrayLike<number>[], b: ArrayLike<number>[], same: boolean): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = same ? i + 1 : 0; j < b.length; j++) {
      s += dist(a[i], b[j]);
      n++;
    }
  }
  return n ? s / n : 0;
}

/**
 * The energy distance (Szekely & Rizzo 2004) between two samples,
 *   D^2(P, Q) = 2 E|X - Y| - E|X - X'| - E|Y - Y'|,   X, X' ~ P,  Y, Y' ~ Q,
 * with the within-sample means over distinct pairs (the unbiased U-statistic form). It is >= 0 in expectation
 * and 0 only when P = Q, so it ranks how close samples are to data without a kernel bandwidth. Cost O(n m d).
 * @param a `[n][d]` or a tensor `[n, ...]` ({@link PointSet}).
 * @param b `[m][d]` or a tensor `[m, ...]` with the same d.
 * @returns D^2 (squared-distance units).
 */
export function energyDistance(a: PointSet, b: PointSet): number {
  const [x, y] = pairedRows('a', a, 'b', b);
  return 2 * meanDistance(x, y, false) - meanDistance(x, x, true) - meanDistance(y, y, true);
}

/** What {@link modeCoverage} reports. */
export interface ModeCoverage {
  /** Modes with at least `minCount` samples within `radius`. */
  covered: number;
  /** Fraction of all samples within `radius` of some mode. */
  fractionNear: number;
  /** Samples within `radius` of each mode (`[modes]`). */
  counts: number[];
}

/** Options of {@link modeCoverage}. */
export interface ModeCoverageOptions {
  /** Distance counted as "at the mode". Default 0.06 (3 std of the 8-Gaussian ring). */
  radius?: number;
  /** Samples a mode needs to count as covered. Default 20. */
  minCount?: number;
}

const MODE_COVERAGE_OPTION_KEYS = optionKeys<ModeCoverageOptions>({ radius: true, minCount: true });

/**
 * How many modes a sample covers: each sample is assigned to its nearest mode if it lies within `radius` of it;
 * a mode counts as covered with at least `minCount` samples. For the 8-Gaussian ring (std 0.02) the usual
 * radius is 3 std = 0.06.
 * @param samples `[n][d]` or a tensor `[n, ...]` ({@link PointSet}), e.g. a model's `sample(n)` as it is.
 * @param modes `[k][d]` or a tensor `[k, ...]`, e.g. `gaussianRingModes()`.
 * @param opts.radius Distance counted as "at the mode". Default 0.06.
 * @param opts.minCount Samples a mode needs to count as covered. Default 20.
 */
export function modeCoverage(samples: PointSet, modes: PointSet, opts: ModeCoverageOptions = {}): ModeCoverage {
  assertKnownOptions('modeCoverage', opts, MODE_COVERAGE_OPTION_KEYS);
  const radius = opts.radius ?? 0.06;
  const minCount = opts.minCount ?? 20;
  assertPositiveNumber('radius', radius);
  const [points, centres] = pairedRows('samples', samples, 'modes', modes);
  const counts = new Array<number>(centres.length).fill(0);
  let near = 0;
  for (const s of points) {
    let best = -1;
    let bestD = Infinity;
    centres.forEach((m, k) => {
      const e = dist(s, m);
      if (e < bestD) [bestD, best] = [e, k];
    });
    if (bestD <= radius) {
      counts[best]++;
      near++;
    }
  }
  return { covered: counts.filter((c) => c >= minCount).length, fractionNear: near / points.length, counts };
}

/** Options for {@link mmd}. */
export interface MmdOptions {
  /**
   * Bandwidth h of the Gaussian kernel k(x, y) = exp(-|x - y|^2 / (2 h^2)), > 0. Required: fix it once (e.g. with
   * {@link medianBandwidth} on real data) and use the same value for every comparison, or the numbers are not
   * distances under one kernel. (An MMD whose bandwidth is re-chosen per pair of samples is not an MMD.)
   */
  bandwidth: number;
}
const MMD_KEYS = optionKeys<MmdOptions>({ bandwidth: true });

/** Sum over pairs of exp(-|a_i - b_j|^2 / (2 h^2)), skipping i = j (and counting each pair once) when `same`. */
function kernelSum(a: ArrayLike<number>[], b: ArrayLike<number>[], h: number, same: boolean): { sum: number; pairs: number } {
  const g = 1 / (2 * h * h);
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i];
    for (let j = same ? i + 1 : 0; j < b.length; j++) {
      const bj = b[j];
      let d2 = 0;
      for (let k = 0; k < ai.length; k++) d2 += (ai[k] - bj[k]) ** 2;
      sum += Math.exp(-d2 * g);
      pairs++;
    }
  }
  return { sum, pairs };
}

/**
 * The squared maximum mean discrepancy (Gretton et al. 2012) with a Gaussian kernel of fixed bandwidth, unbiased
 * U-statistic:
 *   MMD^2(P, Q) = E k(X, X') + E k(Y, Y') - 2 E k(X, Y),   X, X' ~ P,  Y, Y' ~ Q,
 * the within-sample means over distinct pairs. It is 0 in expectation when P = Q (a single estimate can be slightly
 * negative) and > 0 otherwise (the Gaussian kernel is characteristic). Report it with a real-vs-real baseline: the
 * MMD^2 between two disjoint real samples of the same sizes. Cost O((n + m)^2 d).
 * @param a `[n][d]` or a tensor `[n, ...]` ({@link PointSet}), n >= 2.
 * @param b `[m][d]` or a tensor `[m, ...]` with the same d, m >= 2.
 */
export function mmd(a: PointSet, b: PointSet, opts: MmdOptions): number {
  assertKnownOptions('mmd', opts, MMD_KEYS);
  if (opts === undefined || opts === null) throw new TypeError('mmd needs { bandwidth }: fix it once, e.g. medianBandwidth(real)');
  assertPositiveNumber('bandwidth', opts.bandwidth);
  const [x, y] = pairedRows('a', a, 'b', b);
  if (x.length < 2 || y.length < 2) throw new RangeError(`mmd needs at least 2 points in each sample; got ${x.length} and ${y.length}`);
  const h = opts.bandwidth;
  const xx = kernelSum(x, x, h, true);
  const yy = kernelSum(y, y, h, true);
  const xy = kernelSum(x, y, h, false);
  return xx.sum / xx.pairs + yy.sum / yy.pairs - (2 * xy.sum) / xy.pairs;
}

/**
 * The median heuristic for a kernel bandwidth: the median Euclidean distance between distinct points of `x` (e.g.
 * held-out real data), over at most `maxPoints` of them (the first ones). Compute it once and pass it to every
 * {@link mmd} of a comparison.
 * @param x `[n][d]` or a tensor `[n, ...]` ({@link PointSet}), n >= 2.
 * @param maxPoints How many of the first points to use (the cost is O(maxPoints^2 d)). Integer >= 1. Default 1000.
 */
export function medianBandwidth(x: PointSet, maxPoints = 1000): number {
  const { rows } = pointRows('x', x);
  assertPositiveInteger('maxPoints', maxPoints);
  const p = rows.slice(0, maxPoints);
  if (p.length < 2) throw new RangeError(`medianBandwidth needs at least 2 points; got ${p.length}`);
  const ds: number[] = [];
  for (let i = 0; i < p.length; i++) for (let j = i + 1; j < p.length; j++) ds.push(dist(p[i], p[j]));
  ds.sort((u, v) => u - v);
  const mid = ds.length >> 1;
  return ds.length % 2 ? ds[mid] : (ds[mid - 1] + ds[mid]) / 2;
}

/**
 * The independent-pixel baseline of a sample-quality comparison: `n` points whose coordinate k is coordinate k of a
 * data point drawn uniformly at random, independently for every (point, coordinate). Each coordinate then has exactly
 * the data's marginal distribution and the coordinates are independent: the right pixel statistics and no strokes,
 * the model a generator must beat (for independent X, Y the mean squared distance E|X - Y|^2 depends only on the
 * marginals, so pixel-space distances are partly blind to what it lacks).
 * @param data `[m][d]` data points (e.g. training images), m >= 1, or a tensor `[m, ...]` ({@link PointSet}; images
 *   `[m, h, w, c]` give points of d = h * w * c pixels).
 * @param n Number of points to draw, integer >= 1.
 * @param seed Seed of the draws. Default: random.
 * @returns `[n][d]` plain arrays (the same draws for an array and for a tensor of the same values).
 */
export function independentPixels(data: PointSet, n: number, seed?: number): number[][] {
  const { rows, d } = pointRows('data', data);
  assertPositiveInteger('n', n);
  if (seed !== undefined) assertFiniteNumber('seed', seed);
  const rng = new Random(seed);
  const m = rows.length;
  return Array.from({ length: n }, () => Array.from({ length: d }, (_, k) => rows[rng.int(m)][k]));
}

/**
 * The single-Gaussian baseline of a sample-quality comparison: `n` draws from N(m, C), the Gaussian with the data's
 * mean m and (maximum-likelihood) covariance C, drawn as m + L z with C = L L^T (Cholesky) and z ~ N(0, I). It has the
 * data's first two moments and nothing else: a model of a multimodal set (e.g. the 8-Gaussian ring) must beat it by
 * far, and on Gaussian data (e.g. `correlatedGaussian`) it is the best one can do.
 * @param data `[m][d]` data points, m >= 2, or a tensor `[m, ...]` ({@link PointSet}); d at most 64 (O(m d^2 + d^3)).
 * @param n Number of points to draw, integer >= 1.
 * @param seed Seed of the draws. Default: random.
 * @returns `[n][d]` plain arrays.
 */
export function fittedGaussian(data: PointSet, n: number, seed?: number): number[][] {
  const { rows, d } = pointRows('data', data);
  assertPositiveInteger('n', n);
  if (seed !== undefined) assertFiniteNumber('seed', seed);
  if (rows.length < 2) throw new RangeError(`data must hold at least 2 points to fit a Gaussian; got ${rows.length}`);
  if (d > 64) throw new RangeError(`fittedGaussian is meant for low-dimensional data (d <= 64); got d = ${d}`);
  const m = rows.length;
  const mean = new Array<number>(d).fill(0);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] += r[j] / m;
  const cov = Array.from({ length: d }, () => new Array<number>(d).fill(0)); //                          [d, d]
  for (const r of rows) {
    for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) cov[i][j] += ((r[i] - mean[i]) * (r[j] - mean[j])) / m;
  }
  // Cholesky C = L L^T (lower triangle), with a tiny ridge so that a degenerate coordinate does not stop it
  const L = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = cov[i][j];
      for (let k = 0; k < j; k++) s -= L[i][k] * L[j][k];
      L[i][j] = i === j ? Math.sqrt(Math.max(s, 1e-12)) : s / L[j][j];
    }
  }
  const rng = new Random(seed);
  return Array.from({ length: n }, () => {
    const z = Array.from({ length: d }, () => rng.normal());
    return mean.map((mu, i) => L[i].reduce((s, l, k) => (k <= i ? s + l * z[k] : s), mu));
  });
}
