/**
 * Argument checks at the public boundary. Every message names the argument, the value received and what
 * was expected, e.g. `nHidden must be a positive integer; got 2.5`.
 */
import { closest, distance } from 'fastest-levenshtein';
import { tf } from '../engine/backend';
import { float32Range } from '../engine/kernels';

/** Formats a received value for an error message without dumping huge objects. */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value);
  if (value === null || value === undefined) return String(value);
  if (value instanceof tf.Tensor) return `a tensor of shape [${value.shape.join(', ')}]`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return typeof value;
}

/** Throws unless `value` is an integer >= 1. */
export function assertPositiveInteger(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer; got ${describeValue(value)}`);
  }
}

/** Throws unless `value` is an integer >= 0. */
export function assertNonNegativeInteger(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer; got ${describeValue(value)}`);
  }
}

/** Throws unless `value` is a finite number, optionally within [min, max] (or (min, max) when `exclusive`). */
export function assertFiniteNumber(
  name: string,
  value: unknown,
  range: { min?: number; max?: number; exclusiveMin?: boolean; exclusiveMax?: boolean } = {},
): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`${name} must be a finite number; got ${describeValue(value)}`);
  }
  const { min, max, exclusiveMin = false, exclusiveMax = false } = range;
  const lowOk = min === undefined || (exclusiveMin ? value > min : value >= min);
  const highOk = max === undefined || (exclusiveMax ? value < max : value <= max);
  if (!lowOk || !highOk) {
    const lo = min === undefined ? '(-inf' : `${exclusiveMin ? '(' : '['}${min}`;
    const hi = max === undefined ? 'inf)' : `${max}${exclusiveMax ? ')' : ']'}`;
    throw new RangeError(`${name} must be in ${lo}, ${hi}; got ${describeValue(value)}`);
  }
}

/** Throws unless `value` is a finite number > 0. */
export function assertPositiveNumber(name: string, value: unknown): asserts value is number {
  assertFiniteNumber(name, value, { min: 0, exclusiveMin: true });
}

/** Throws unless `value` is one of `choices`. */
export function assertOneOf<T extends string>(name: string, value: unknown, choices: readonly T[]): asserts value is T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new RangeError(`${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')}; got ${describeValue(value)}`);
  }
}

/**
 * Throws unless `x` is a rank-2 tensor, with `width` columns when given, at least one row, and (when
 * `checkFinite`, the default) only finite values. The finiteness check reads the data once.
 */
export function assertMatrix(
  name: string,
  x: unknown,
  opts: { width?: number; checkFinite?: boolean; range?: [number, number] } = {},
): asserts x is tf.Tensor2D {
  if (!(x instanceof tf.Tensor)) throw new TypeError(`${name} must be a tf.Tensor2D; got ${describeValue(x)}`);
  if (x.rank !== 2) throw new RangeError(`${name} must be a rank-2 tensor [n, d]; got shape [${x.shape.join(', ')}]`);
  if (x.shape[0] < 1) throw new RangeError(`${name} must have at least one row; got shape [${x.shape.join(', ')}]`);
  if (opts.width !== undefined && x.shape[1] !== opts.width) {
    throw new RangeError(`${name} must have ${opts.width} columns; got shape [${x.shape.join(', ')}]`);
  }
  if (opts.checkFinite !== false || opts.range) {
    const { min: lo, max: hi, finite } = valueRange(x);
    if (opts.checkFinite !== false && !finite) throw new RangeError(`${name} must contain only finite values; got NaN or Infinity`);
    if (opts.range && (lo < opts.range[0] || hi > opts.range[1])) {
      throw new RangeError(
        `${name} must have values in [${opts.range[0]}, ${opts.range[1]}]; got values in [${lo}, ${hi}]`,
      );
    }
  }
}

/**
 * Tensors' data never change after creation (a Variable's assign swaps in new data), so the range of a tensor's
 * data is computed once: repeated `fit` calls on the same training set do not pay for the check again.
 */
const rangeCache = new WeakMap<object, { min: number; max: number; finite: boolean }>();

/** Minimum, maximum and finiteness of a tensor's values: read in place where possible, else with tensor ops. */
function valueRange(x: tf.Tensor): { min: number; max: number; finite: boolean } {
  const cached = rangeCache.get(x.dataId);
  if (cached) return cached;
  const range =
    float32Range(x) ??
    tf.tidy(() => {
      const f = x.dtype === 'float32' ? x : x.toFloat();
      return { min: f.min().dataSync()[0], max: f.max().dataSync()[0], finite: tf.all(tf.isFinite(f)).dataSync()[0] === 1 };
    });
  rangeCache.set(x.dataId, range);
  return range;
}

/**
 * Rejects option names a method does not know, so a typo cannot silently train with a default:
 * `assertKnownOptions('BernoulliRBM.fit', opts, ['epochs', 'learningRate'])` throws
 * `unknown option 'learningrate' for BernoulliRBM.fit; did you mean 'learningRate'?`.
 * `undefined` or `null` options pass. Every public options object is checked with it at the boundary.
 * @param caller What the options belong to, e.g. `BernoulliRBM` (a constructor) or `VAE.fit`.
 * @param options The object the user passed.
 * @param known Every valid key.
 */
export function assertKnownOptions(caller: string, options: unknown, known: readonly string[]): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`options of ${caller} must be an object; got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = known.length ? closest(key, known as string[]) : undefined;
    // A hint, best first: the same name in other case, a name the key begins or is the beginning of
    // ('encode' -> 'encoding'), the nearest name by edit distance when it is close.
    const lower = known.find((k) => k.toLowerCase() === key.toLowerCase());
    const k3 = key.toLowerCase();
    const prefix = k3.length >= 3 ? known.find((k) => k.toLowerCase().startsWith(k3) || (k.length >= 3 && k3.startsWith(k.toLowerCase()))) : undefined;
    const close = near !== undefined && distance(key, near) <= Math.max(2, Math.floor(key.length / 3)) ? near : undefined;
    const hint = lower ?? prefix ?? close;
    throw new Error(
      `unknown option '${key}' for ${caller}; ` +
        (hint ? `did you mean '${hint}'?` : `valid options: ${known.map((k) => `'${k}'`).join(', ')}`),
    );
  }
}

/**
 * Every key of an options interface `T`, each mapped to `true`. Written as an object literal, the compiler rejects
 * a missing key (an option added to the interface but not here) and an extra one (a key the interface lacks).
 */
export type OptionKeyMap<T> = { readonly [K in keyof T]-?: true };

/**
 * The known-keys list for {@link assertKnownOptions}, derived from an options interface so it cannot drift from it:
 * `const FIT_OPTION_KEYS = optionKeys<FitOptions>({ epochs: true, learningRate: true })` fails to compile as soon
 * as `FitOptions` gains or loses an option the map does not list. Keep it next to the interface.
 */
export function optionKeys<T extends object>(keys: OptionKeyMap<T>): readonly (keyof T & string)[] {
  return Object.freeze(Object.keys(keys)) as readonly (keyof T & string)[];
}
