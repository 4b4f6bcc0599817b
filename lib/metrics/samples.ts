/**
 * Distances between a model's samples and data, as plain numbers for plots and checks. Points are
 * `number[][]` (`[n][d]`) so they work with any model's output after `.arraySync()`.
 */
import { assertKnownOptions, assertPositiveNumber, describeValue, optionKeys } from '../core/validate';

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
