/**
 * Internal: a model's example shape from its `dataShape` option and the older names some families keep for it
 * (`inputDim`: the flat width D; `inputShape`: `[height, width, channels]`), checked once for every family.
 */
import type { tf } from '../engine/tf';
import { assertPositiveInteger, describeValue } from './validate';

/** The options naming a model's example shape: `dataShape` and its older names. */
export interface DataShapeNames {
  dataShape?: unknown;
  inputDim?: unknown;
  inputShape?: unknown;
}

/** Number of values in one example of `shape` (its product). */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The example shape given by `dataShape`, or by the older names `inputShape` (`[h, w, c]`) and `inputDim` (`[D]`);
 * undefined when none is given. Names given together must agree, else the error names both:
 * `dataShape [784] and inputShape [28, 28, 1] disagree ...`, `inputDim must equal the size of dataShape [28, 28, 1],
 * 784; got 100`. Returns a copy.
 */
export function resolveDataShape(opts: DataShapeNames): number[] | undefined {
  const { dataShape, inputDim, inputShape } = opts;
  if (dataShape !== undefined) {
    if (!Array.isArray(dataShape) || dataShape.length === 0) {
      throw new RangeError(`dataShape must be the shape of one example, e.g. [784] or [28, 28, 1]; got ${describeValue(dataShape)}`);
    }
    dataShape.forEach((d, i) => assertPositiveInteger(`dataShape[${i}]`, d));
  }
  if (inputShape !== undefined) {
    if (!Array.isArray(inputShape) || inputShape.length !== 3) {
      throw new RangeError(`inputShape must be [height, width, channels]; got ${describeValue(inputShape)}`);
    }
    inputShape.forEach((d, i) => assertPositiveInteger(`inputShape[${i}]`, d));
  }
  if (inputDim !== undefined) assertPositiveInteger('inputDim', inputDim);
  const given = dataShape as number[] | undefined;
  const image = inputShape as number[] | undefined;
  if (given && image && (given.length !== image.length || given.some((d, i) => d !== image[i]))) {
    throw new RangeError(`dataShape [${given.join(', ')}] and inputShape [${image.join(', ')}] disagree (inputShape is an older name of dataShape); give one`);
  }
  const shape = given ?? image;
  if (shape && inputDim !== undefined && shapeSize(shape) !== inputDim) {
    const name = given ? 'dataShape' : 'inputShape';
    throw new RangeError(`inputDim must equal the size of ${name} [${shape.join(', ')}], ${shapeSize(shape)}; got ${describeValue(inputDim)}`);
  }
  if (shape) return [...shape];
  return inputDim === undefined ? undefined : [inputDim as number];
}

/** Flat rows `[n, D]` as examples `[n, ...dataShape]` (the tensor itself when `dataShape` is `[D]`). */
export function unflatten(flat: tf.Tensor2D, dataShape: readonly number[]): tf.Tensor {
  return dataShape.length === 1 ? flat : flat.reshape([flat.shape[0], ...dataShape]);
}
