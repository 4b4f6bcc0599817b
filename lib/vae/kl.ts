/**
 * Closed-form Kullback-Leibler divergence between diagonal Gaussians, the regulariser of the VAE objective.
 *
 * For q = N(m1, diag(exp(lv1))) and p = N(m2, diag(exp(lv2))) in k dimensions
 *
 *   KL(q || p) = 1/2 * sum_j [ lv2_j - lv1_j + (exp(lv1_j) + (m1_j - m2_j)^2) / exp(lv2_j) - 1 ]
 *
 * and with p = N(0, I) (lv2 = 0, m2 = 0) this is the familiar
 *
 *   KL(q || N(0, I)) = 1/2 * sum_j [ exp(lv1_j) + m1_j^2 - 1 - lv1_j ]      (Kingma & Welling 2014, App. B).
 */
import { tf } from '../engine/backend';
import { describeValue } from '../core/validate';

/**
 * Per-row KL divergence KL(N(mean, diag(exp(logVar))) || N(mean2, diag(exp(logVar2)))) in nats.
 *
 * @param mean Means of q, shape `[n, k]` (a rank-1 `[k]` tensor is treated as one row).
 * @param logVar Log-variances of q, same shape as `mean`.
 * @param mean2 Means of p, same shape as `mean` (or `[k]`, broadcast over rows). Default 0 (the standard normal prior).
 * @param logVar2 Log-variances of p, same shape as `mean2`. Default 0 (unit variance).
 * @returns A `[n]` tensor: one KL value per row (caller disposes it).
 * @example
 * const kl = klDiagonalGaussian(tf.tensor2d([[0, 0]]), tf.tensor2d([[0, 0]])); // [0]
 */
export function klDiagonalGaussian(
  mean: tf.Tensor,
  logVar: tf.Tensor,
  mean2?: tf.Tensor,
  logVar2?: tf.Tensor,
): tf.Tensor1D {
  checkGaussianArg('mean', mean);
  checkGaussianArg('logVar', logVar, mean.shape);
  if (mean2 !== undefined) checkGaussianArg('mean2', mean2, mean.shape, true);
  if (logVar2 !== undefined) checkGaussianArg('logVar2', logVar2, mean.shape, true);
  return tf.tidy(() => {
    const m = mean.rank === 1 ? mean.expandDims(0) : mean;
    const lv = logVar.rank === 1 ? logVar.expandDims(0) : logVar;
    return klDiagonalGaussianUnchecked(m as tf.Tensor2D, lv as tf.Tensor2D, mean2, logVar2);
  });
}

/**
 * The same computation without argument checks, for use inside training steps (differentiable; call it inside
 * a tidy). Shapes: `mean`, `logVar` `[n, k]`; `mean2`, `logVar2` broadcastable to `[n, k]`. Returns `[n]`.
 * @internal
 */
export function klDiagonalGaussianUnchecked(
  mean: tf.Tensor,
  logVar: tf.Tensor,
  mean2?: tf.Tensor,
  logVar2?: tf.Tensor,
): tf.Tensor1D {
  return tf.tidy(() => {
    if (mean2 === undefined && logVar2 === undefined) {
      // 1/2 * sum_j (exp(lv) + m^2 - 1 - lv)                                                           [n]
      return tf.exp(logVar).add(tf.square(mean)).sub(1).sub(logVar).sum(-1).mul(0.5) as tf.Tensor1D;
    }
    const m2 = mean2 ?? tf.zerosLike(mean);
    const lv2 = logVar2 ?? tf.zerosLike(logVar);
    // 1/2 * sum_j [ lv2 - lv1 + (exp(lv1) + (m1 - m2)^2) * exp(-lv2) - 1 ]                             [n]
    const ratio = tf.exp(logVar).add(tf.squaredDifference(mean, m2)).mul(tf.exp(tf.neg(lv2)));
    return tf.sub(lv2, logVar).add(ratio).sub(1).sum(-1).mul(0.5) as tf.Tensor1D;
  });
}

function checkGaussianArg(name: string, t: unknown, shape?: number[], allowRow = false): void {
  if (!(t instanceof tf.Tensor)) throw new TypeError(`${name} must be a tf.Tensor; got ${describeValue(t)}`);
  if (t.rank !== 1 && t.rank !== 2) {
    throw new RangeError(`${name} must be a rank-2 tensor [n, k] (or rank-1 [k]); got shape [${t.shape.join(', ')}]`);
  }
  if (shape === undefined) return;
  const k = shape[shape.length - 1];
  const sameShape = t.shape.length === shape.length && t.shape.every((d: number, i: number) => d === shape[i]);
  const rowShape = allowRow && t.rank === 1 && t.shape[0] === k;
  if (!sameShape && !rowShape) {
    throw new RangeError(
      `${name} must have the shape of mean [${shape.join(', ')}]${allowRow ? ` or [${k}]` : ''}; got shape [${t.shape.join(', ')}]`,
    );
  }
}
