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
  nVisible?: unknown;
}

/** Number of values in one example of `shape` (its product). */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** What a family accepts besides `dataShape`. */
export interface DataShapeRules {
  /** The family's older name for the flat width D (`'inputDim'`, the RBMs' `'nVisible'`). Default `'inputDim'`. */
  flatName?: 'inputDim' | 'nVisible';
  /** The ranks of one example the family can model, e.g. `[1, 3]`: vectors `[D]` or images `[h, w, c]`. */
  ranks?: readonly number[];
}

/**
 * The example shape given by `dataShape`, or by the older names `inputShape` (`[h, w, c]`) and `inputDim` /
 * `nVisible` (`[D]`); undefined when none is given. Names given together must agree, else the error names both:
 * `dataShape [784] and inputShape [28, 28, 1] disagree ...`, `inputDim must equal the size of dataShape [28, 28, 1],
 * 784; got 100`. Returns a copy. Every family resolves its shape here, so the rules and messages are one.
 */
export function resolveDataShape(opts: DataShapeNames, rules: DataShapeRules = {}): number[] | undefined {
  const flatName = rules.flatName ?? 'inputDim';
  const { dataShape, inputShape } = opts;
  const flat = opts[flatName];
  const example = rules.ranks?.includes(3) === false ? '[784]' : '[784] or [28, 28, 1]';
  if (dataShape !== undefined) {
    if (!Array.isArray(dataShape) || dataShape.length === 0) {
      throw new RangeError(`dataShape must be the shape of one example, e.g. ${example}; got ${describeValue(dataShape)}`);
    }
    dataShape.forEach((d, i) => assertPositiveInteger(`dataShape[${i}]`, d));
    if (rules.ranks && !rules.ranks.includes(dataShape.length)) {
      const allowed = rules.ranks.map((r) => (r === 1 ? '[D]' : r === 3 ? '[height, width, channels]' : `rank ${r}`)).join(' or ');
      throw new RangeError(`dataShape must be ${allowed}; got [${dataShape.join(', ')}]`);
    }
  }
  if (inputShape !== undefined) {
    if (!Array.isArray(inputShape) || inputShape.length !== 3) {
      throw new RangeError(`inputShape must be [height, width, channels]; got ${describeValue(inputShape)}`);
    }
    inputShape.forEach((d, i) => assertPositiveInteger(`inputShape[${i}]`, d));
  }
  if (flat !== undefined) assertPositiveInteger(flatName, flat);
  const given = dataShape as number[] | undefined;
  const image = inputShape as number[] | undefined;
  if (given && image && (given.length !== image.length || given.some((d, i) => d !== image[i]))) {
    throw new RangeError(`dataShape [${given.join(', ')}] and inputShape [${image.join(', ')}] disagree (inputShape is an older name of dataShape); give one`);
  }
  const shape = given ?? image;
  if (shape && flat !== undefined && shapeSize(shape) !== flat) {
    const name = given ? 'dataShape' : 'inputShape';
    throw new RangeError(`${flatName} must equal the size of ${name} [${shape.join(', ')}], ${shapeSize(shape)}; got ${describeValue(flat)} (give one of them)`);
  }
  if (shape) return [...shape];
  return flat === undefined ? undefined : [flat as number];
}

/** Flat rows `[n, D]` as examples `[n, ...dataShape]` (the tensor itself when `dataShape` is `[D]`). */
export function unflatten(flat: tf.Tensor2D, dataShape: readonly number[]): tf.Tensor {
  return dataShape.length === 1 ? flat : flat.reshape([flat.shape[0], ...dataShape]);
}

/**
 * The required `dataShape` of a family that has no older names (GAN, DDPM, EnergyModel), checked by the rules of
 * {@link resolveDataShape}: `dataShape is required: the shape of one example, e.g. [784] or [28, 28, 1]`.
 */
export function requireDataShape(dataShape: unknown, ranks: readonly number[]): number[] {
  const shape = resolveDataShape({ dataShape }, { ranks });
  if (!shape) throw new TypeError('dataShape is required: the shape of one example, e.g. [2], [784] or [28, 28, 1]');
  return shape;
}
