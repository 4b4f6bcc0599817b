/**
 * Distances between a model's samples and data, as plain numbers for plots and checks. Points are
 * `number[][]` (`[n][d]`) so they work with any model's output after `.arraySync()`.
 */
import { assertFiniteNumber, assertKnownOptions, assertPositiveInteger, assertPositiveNumber, describeValue, optionKeys } from '../core/validate';
import { Random } from '../engine/random';

function checkPoints(name: string, p: number[][]): number {
  if (!Array.isArray(p) || p.length === 0 || !Array.isArray(p[0])) {
    throw new TypeError(`${name} must be a non-empty array of points [n][d]; got ${describeValue(p)}`);
  }
  const d = p[0].length;
  for (let i = 0; i < p.length; i++) {
    if (p[i].length !== d) throw new RangeError(`${name}[${i}] has ${p[i].length} coordinates; expected ${d}`);
  }
  return d;
}

function dist(a: number[], b: number[]): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (a[k] - b[k]) ** 2;
  return Math.sqrt(s);
}

/** Mean Euclidean distance over pairs (i in a, j in b), skipping i = j when `same`. */
function meanDistance(a: number[][], b: number[][], same: boolean): number {
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
 * @returns D^2 (squared-distance units).
 */
export function energyDistance(a: number[][], b: number[][]): number {
  const d = checkPoints('a', a);
  if (checkPoints('b', b) !== d) throw new RangeError(`a has ${d} coordinates per point but b has ${b[0].length}`);
  return 2 * meanDistance(a, b, false) - meanDistance(a, a, true) - meanDistance(b, b, true);
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
 * @param samples `[n][d]`
 * @param modes `[k][d]`, e.g. `gaussianRingModes()`.
 * @param opts.radius Distance counted as "at the mode". Default 0.06.
 * @param opts.minCount Samples a mode needs to count as covered. Default 20.
 */
export function modeCoverage(samples: number[][], modes: number[][], opts: ModeCoverageOptions = {}): ModeCoverage {
  assertKnownOptions('modeCoverage', opts, MODE_COVERAGE_OPTION_KEYS);
  const radius = opts.radius ?? 0.06;
  const minCount = opts.minCount ?? 20;
  assertPositiveNumber('radius', radius);
  const d = checkPoints('samples', samples);
  if (checkPoints('modes', modes) !== d) throw new RangeError(`samples have ${d} coordinates but modes have ${modes[0].length}`);
  const counts = new Array<number>(modes.length).fill(0);
  let near = 0;
  for (const s of samples) {
    let best = -1;
    let bestD = Infinity;
    modes.forEach((m, k) => {
      const e = dist(s, m);
      if (e < bestD) [bestD, best] = [e, k];
    });
    if (bestD <= radius) {
      counts[best]++;
      near++;
    }
  }
  return { covered: counts.filter((c) => c >= minCount).length, fractionNear: near / samples.length, counts };
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
function kernelSum(a: number[][], b: number[][], h: number, same: boolean): { sum: number; pairs: number } {
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
 * @param a `[n][d]`, n >= 2; @param b `[m][d]`, m >= 2.
 */
export function mmd(a: number[][], b: number[][], opts: MmdOptions): number {
  assertKnownOptions('mmd', opts, MMD_KEYS);
  if (opts === undefined || opts === null) throw new TypeError('mmd needs { bandwidth }: fix it once, e.g. medianBandwidth(real)');
  assertPositiveNumber('bandwidth', opts.bandwidth);
  const d = checkPoints('a', a);
  if (checkPoints('b', b) !== d) throw new RangeError(`a has ${d} coordinates per point but b has ${b[0].length}`);
  if (a.length < 2 || b.length < 2) throw new RangeError(`mmd needs at least 2 points in each sample; got ${a.length} and ${b.length}`);
  const h = opts.bandwidth;
  const xx = kernelSum(a, a, h, true);
  const yy = kernelSum(b, b, h, true);
  const xy = kernelSum(a, b, h, false);
  return xx.sum / xx.pairs + yy.sum / yy.pairs - (2 * xy.sum) / xy.pairs;
}

/**
 * The median heuristic for a kernel bandwidth: the median Euclidean distance between distinct points of `x` (e.g.
 * held-out real data), over at most `maxPoints` of them (the first ones). Compute it once and pass it to every
 * {@link mmd} of a comparison.
 */
export function medianBandwidth(x: number[][], maxPoints = 1000): number {
  checkPoints('x', x);
  assertPositiveInteger('maxPoints', maxPoints);
  const p = x.slice(0, maxPoints);
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
 * @param data `[m][d]` data points (e.g. training images), m >= 1.
 * @param n Number of points to draw, integer >= 1.
 * @param seed Seed of the draws. Default: random.
 * @returns `[n][d]`.
 */
export function independentPixels(data: number[][], n: number, seed?: number): number[][] {
  const d = checkPoints('data', data);
  assertPositiveInteger('n', n);
  if (seed !== undefined) assertFiniteNumber('seed', seed);
  const rng = new Random(seed);
  const m = data.length;
  return Array.from({ length: n }, () => Array.from({ length: d }, (_, k) => data[rng.int(m)][k]));
}
