/**
 * Rules the families share for defaults that depend on the data they are given (issue #27), so that every family reads
 * its data the same way. Internal: imported by the families, not part of the public API.
 *
 * - **Low-dimensional vectors** (`dataShape` `[D]` with D <= {@link SMALL_VECTOR_MAX}: points in the plane, small
 *   feature vectors) get small networks and the settings measured on the 2-D sets of datasets/synthetic.ts; wider
 *   vectors (e.g. `[784]` flat digits) and images keep the course's recipes.
 * - **Training length as a number of optimisation steps**, converted to epochs from the data size at `fit`
 *   ({@link epochsForSteps}): a model converges after a number of updates, not of passes, so a fixed step budget
 *   trains 2000 and 8000 points alike (a fixed number of epochs gives the smaller set a quarter of the updates).
 */

/**
 * The widest vector that counts as low-dimensional: 16. The small recipes (two hidden layers of 128 units) were
 * measured on 2-D data; 16 coordinates are still a few per hidden unit, and the course's data (784-pixel digits)
 * are far above it.
 */
export const SMALL_VECTOR_MAX = 16;

/** Whether `dataShape` is a low-dimensional vector `[D]`, D <= {@link SMALL_VECTOR_MAX}. */
export function isSmallVector(dataShape: readonly number[]): boolean {
  return dataShape.length === 1 && dataShape[0] <= SMALL_VECTOR_MAX;
}

/**
 * The epochs that give at least `steps` optimisation steps on `n` examples in batches of `batchSize` (capped at n,
 * as the training loop does): ceil(steps / ceil(n / min(batchSize, n))). E.g. 2500 steps in batches of 128 are 40
 * epochs of 8000 points and 157 epochs of 2000.
 */
export function epochsForSteps(steps: number, n: number, batchSize: number): number {
  const perEpoch = Math.ceil(n / Math.min(batchSize, n));
  return Math.max(1, Math.ceil(steps / perEpoch));
}

/**
 * A data range resolved at the first fit, for a model's `describe()`: `, data in [lo, hi]` (4 significant digits), or
 * `''` while it is unknown.
 */
export function rangeText(range: readonly [number, number] | null): string {
  return range ? `, data in [${range.map((v) => +v.toPrecision(4)).join(', ')}]` : '';
}
