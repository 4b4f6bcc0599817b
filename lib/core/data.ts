/**
 * Training data at the boundary, once for every family: the shape a model accepts (`[n, D]`, or `[n, ...dataShape]`
 * for images), finite values, an allowed range, and the affine map between the user's `dataRange` and the range a
 * network works in (e.g. a tanh generator's [-1, 1]), so notebooks need no `.mul(2).sub(1)` plumbing.
 */
import { tf } from '../engine/tf';
import { assertFiniteNumber, assertMatrix, describeValue } from './validate';

/** A closed interval `[low, high]` of data values, low < high (e.g. `[0, 1]` for pixel intensities). */
export type DataRange = [number, number];

/** A data tensor flattened to `[n, D]`; `owned` says whether it is a new tensor (the caller disposes it). */
export interface FlatData {
  x: tf.Tensor2D;
  owned: boolean;
}

/** What {@link flattenData} checks besides the shape. */
export interface DataChecks {
  /** Reject NaN and infinite values (reads the data once; cached per tensor). Default true. */
  finite?: boolean;
  /** Reject values outside this interval. */
  range?: DataRange;
  /** A hint appended to a range error, e.g. `pass dataRange: [0, 255]`. */
  rangeHint?: string;
}

/**
 * Checks `x` against a model's example shape and returns it flat, `[n, D]`: `x` may be `[n, D]` or
 * `[n, ...dataShape]`. Errors name the argument and what was expected:
 * `x must have shape [n, 784] or [n, 28, 28, 1]; got [10, 27, 28, 1]`, `x must contain only finite values; got NaN or
 * Infinity`, `x must have values in [0, 1]; got values in [-1, 1]`.
 */
export function flattenData(name: string, x: unknown, dataShape: readonly number[], checks: DataChecks = {}): FlatData {
  if (!(x instanceof tf.Tensor)) throw new TypeError(`${name} must be a tf.Tensor; got ${describeValue(x)}`);
  const dim = dataShape.reduce((a, b) => a * b, 1);
  const rest = x.shape.slice(1);
  const asFlat = rest.length === 1 && rest[0] === dim;
  const asShape = rest.length === dataShape.length && rest.every((d: number, i: number) => d === dataShape[i]);
  if (!(asFlat || asShape) || x.shape[0] < 1) {
    const shapes = dataShape.length === 1 ? `[n, ${dim}]` : `[n, ${dim}] or [n, ${dataShape.join(', ')}]`;
    throw new RangeError(`${name} must have shape ${shapes} with n >= 1; got [${x.shape.join(', ')}]`);
  }
  const owned = !(asFlat && x.rank === 2);
  const flat = (owned ? x.reshape([x.shape[0], dim]) : x) as tf.Tensor2D;
  try {
    assertMatrix(name, flat, { width: dim, checkFinite: checks.finite !== false, range: checks.range });
  } catch (e) {
    if (owned) flat.dispose();
    if (e instanceof RangeError && checks.rangeHint && /values in/.test(e.message)) throw new RangeError(`${e.message}; ${checks.rangeHint}`);
    throw e;
  }
  return { x: flat, owned };
}

/** Checks a `dataRange` option: two finite numbers, low < high. */
export function assertDataRange(name: string, range: unknown): asserts range is DataRange {
  if (!Array.isArray(range) || range.length !== 2) throw new TypeError(`${name} must be [low, high]; got ${describeValue(range)}`);
  assertFiniteNumber(`${name}[0]`, range[0]);
  assertFiniteNumber(`${name}[1]`, range[1]);
  if (!(range[0] < range[1])) throw new RangeError(`${name} must have low < high; got [${range[0]}, ${range[1]}]`);
}

/** The smallest and largest value of `x` as a {@link DataRange} (widened by 1 either side when constant). */
export function observedRange(x: tf.Tensor): DataRange {
  const [lo, hi] = tf.tidy(() => [x.min().dataSync()[0], x.max().dataSync()[0]]);
  return hi > lo ? [lo, hi] : [lo - 1, hi + 1];
}

/**
 * The affine map from `from` onto `to` (and back): `rescale(x, [0, 1], [-1, 1])` is `2x - 1`. Returns `x` itself
 * (not a copy) when the ranges are equal, so a caller inside `tf.tidy` need not care.
 */
export function rescale<T extends tf.Tensor>(x: T, from: DataRange, to: DataRange): T {
  if (from[0] === to[0] && from[1] === to[1]) return x;
  const scale = (to[1] - to[0]) / (from[1] - from[0]);
  return tf.tidy(() => x.sub(from[0]).mul(scale).add(to[0])) as T;
}
