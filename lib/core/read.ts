/**
 * Reading results back into plain JavaScript without casts: tfjs types `arraySync()` of a `tf.Tensor` as a union
 * over every rank, so `t.sum().arraySync() as number` and `t.arraySync() as number[][]` crept into notebooks. These
 * helpers check the rank instead of asserting it, and `last` reads the latest entry of a {@link History} array.
 */
import { tf } from '../engine/tf';
import { describeValue } from './validate';

function checkRank(what: string, t: unknown, ranks: readonly number[], expected: string): asserts t is tf.Tensor {
  if (!(t instanceof tf.Tensor)) throw new TypeError(`${what} needs a tensor; got ${describeValue(t)}`);
  if (!ranks.includes(t.rank)) throw new RangeError(`${what} needs ${expected}; got shape [${t.shape.join(', ')}]`);
}

/** The value of a scalar (or one-element) tensor: `toNumber(loss)` instead of `loss.arraySync() as number`. */
export function toNumber(t: tf.Tensor): number {
  checkRank('toNumber', t, [0, 1, 2, 3, 4, 5, 6], 'a tensor with one element');
  if (t.size !== 1) throw new RangeError(`toNumber needs a tensor with one element; got shape [${t.shape.join(', ')}]`);
  return t.dataSync()[0];
}

/** The values of a vector `[n]` as `number[]`: `toArray(p)` instead of `p.arraySync() as number[]`. */
export function toArray(t: tf.Tensor): number[] {
  checkRank('toArray', t, [1], 'a vector [n]');
  return Array.from(t.dataSync());
}

/**
 * The rows of a batch as `number[][]`: a matrix `[n, d]` as it is, a batch of images `[n, h, w, c]` (or any rank >= 2)
 * flattened per example to `[n, h*w*c]`: `toRows(samples)` instead of `samples.arraySync() as number[][]`.
 */
export function toRows(t: tf.Tensor): number[][] {
  checkRank('toRows', t, [2, 3, 4, 5, 6], 'a batch [n, ...] of rank 2 or more');
  const n = t.shape[0];
  const d = n === 0 ? 0 : t.size / n;
  const flat = t.dataSync();
  return Array.from({ length: n }, (_, i) => Array.from(flat.subarray(i * d, (i + 1) * d)));
}

/**
 * The last entry of a history array (`last(history.loss)` instead of `history.loss.at(-1)!`); throws, naming the
 * array's length, when it is empty.
 */
export function last<T>(values: readonly T[]): T {
  if (!Array.isArray(values)) throw new TypeError(`last needs an array; got ${describeValue(values)}`);
  if (values.length === 0) throw new RangeError('last needs a non-empty array; got an empty one');
  return values[values.length - 1];
}
