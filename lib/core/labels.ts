/**
 * Class labels: one integer class index per row, as a classifier or a class-conditional generative model takes them.
 */
import { tf } from '../engine/backend';
import { describeValue } from './validate';

/** Class labels: one integer in 0..classes-1 per row (a plain array, an Int32Array or an int32 `tf.Tensor1D`). */
export type Labels = ArrayLike<number> | tf.Tensor1D;

/**
 * Checks `labels` (n integers in 0..classes-1; errors name `name` and the offending value and index) and returns
 * them as a plain Int32Array.
 */
export function labelArray(name: string, labels: unknown, n: number, classes: number): Int32Array {
  let values: ArrayLike<number>;
  if (labels instanceof tf.Tensor) {
    if (labels.rank !== 1) throw new RangeError(`${name} must be a rank-1 tensor [n]; got shape [${labels.shape.join(', ')}]`);
    values = labels.dataSync();
  } else if (labels !== null && typeof labels === 'object' && typeof (labels as ArrayLike<number>).length === 'number') {
    values = labels as ArrayLike<number>;
  } else {
    throw new TypeError(`${name} must be an array, an Int32Array or a tf.Tensor1D of class indices; got ${describeValue(labels)}`);
  }
  if (values.length !== n) throw new RangeError(`${name} must hold one label per row (${n}); got ${values.length}`);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      throw new RangeError(`${name} must be integers in 0..${classes - 1}; got ${describeValue(v)} at index ${i}`);
    }
  }
  return Int32Array.from(values);
}
