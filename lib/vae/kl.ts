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
import { assertKnownOptions, describeValue, optionKeys } from '../core/validate';

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

/** A discrete distribution: probabilities over the same n outcomes, as numbers or a rank-1 tensor. */
export type DiscreteDistribution = ArrayLike<number> | tf.Tensor1D;

/** Options of {@link klDivergence} and {@link jsDivergence}. */
export interface DivergenceOptions {
  /**
   * Divide each argument by its sum first, so histograms or densities tabulated on a uniform grid can be passed as
   * they are (on a grid the spacing cancels). When false the arguments must already sum to 1 within 1e-4.
   * Default false.
   */
  normalize?: boolean;
}
const DIVERGENCE_OPTION_KEYS = optionKeys<DivergenceOptions>({ normalize: true });

/**
 * Kullback-Leibler divergence between two discrete distributions over the same n outcomes, in nats:
 *
 *   KL(p || q) = sum_i p_i log(p_i / q_i)  >=  0,
 *
 * with 0 log(0 / q) = 0, and +Infinity when some p_i > 0 has q_i = 0 (q misses mass that p has). Not symmetric.
 * Computed in double precision.
 *
 * @param p First distribution (the expectation is taken under it), length n >= 1, entries >= 0.
 * @param q Second distribution, same length.
 * @param options `normalize` (default false).
 * @returns KL(p || q) in nats (divide by log 2 for bits).
 * @example
 * klDivergence([0.5, 0.5], [0.9, 0.1]); // 0.5108...
 */
export function klDivergence(p: DiscreteDistribution, q: DiscreteDistribution, options: DivergenceOptions = {}): number {
  const [a, b] = discretePair('klDivergence', p, q, options);
  let kl = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 0) continue; //                                                     0 log 0 = 0
    if (b[i] === 0) return Infinity;
    kl += a[i] * Math.log(a[i] / b[i]);
  }
  return kl;
}

/**
 * Jensen-Shannon divergence between two discrete distributions over the same n outcomes, in nats:
 *
 *   JS(p, q) = 1/2 KL(p || m) + 1/2 KL(q || m),    m = (p + q) / 2.
 *
 * - Symmetric, JS(p, q) = JS(q, p), and always finite: m > 0 wherever p or q is, so neither KL can blow up.
 * - Bounded: 0 <= JS(p, q) <= log 2. JS = 0 exactly when p = q. JS = log 2 exactly when p and q have disjoint
 *   supports (p_i q_i = 0 for every i): then m = p/2 on p's support, and each KL is sum p_i log 2 = log 2. The upper
 *   bound follows from p_i / m_i = 2 p_i / (p_i + q_i) <= 2 for every term.
 * - sqrt(JS) is a metric (Endres & Schindelin 2003). In bits (divide by log 2) it lies in [0, 1].
 * - GANs (Goodfellow et al. 2014): for a fixed generator the best discriminator is D*(x) = p_data / (p_data + p_g),
 *   and the minimax value at it is V(G, D*) = -log 4 + 2 JS(p_data, p_g). The generator's optimum p_g = p_data is
 *   the unique minimiser, V = -log 4; with disjoint supports JS sits at log 2 whatever G does, which is why the
 *   minimax generator gradient vanishes when the discriminator wins (notebook 13).
 *
 * Each term is written p_i log(2 p_i / (p_i + q_i)) so that no m_i is formed (exact for disjoint supports). For
 * densities, tabulate both on a fine uniform grid and pass `normalize: true`: the sum then approximates the integral.
 *
 * @param p First distribution, length n >= 1, entries >= 0.
 * @param q Second distribution, same length.
 * @param options `normalize` (default false).
 * @returns JS(p, q) in nats, in [0, log 2] up to rounding.
 * @example
 * jsDivergence([1, 0], [0, 1]); // Math.LN2 (disjoint supports)
 */
export function jsDivergence(p: DiscreteDistribution, q: DiscreteDistribution, options: DivergenceOptions = {}): number {
  const [a, b] = discretePair('jsDivergence', p, q, options);
  let js = 0;
  for (let i = 0; i < a.length; i++) {
    const s = a[i] + b[i];
    const tp = a[i] > 0 ? a[i] * Math.log((2 * a[i]) / s) : 0; //                     p_i log(p_i / m_i)
    const tq = b[i] > 0 ? b[i] * Math.log((2 * b[i]) / s) : 0; //                     q_i log(q_i / m_i)
    js += tp + tq; // one sum per outcome: exactly symmetric in floating point
  }
  return 0.5 * js;
}

/** Checks two discrete distributions and returns them as Float64Arrays (normalised when asked). */
function discretePair(
  caller: string,
  p: DiscreteDistribution,
  q: DiscreteDistribution,
  options: DivergenceOptions,
): [Float64Array, Float64Array] {
  assertKnownOptions(caller, options, DIVERGENCE_OPTION_KEYS);
  const normalize = options.normalize ?? false;
  if (typeof normalize !== 'boolean') throw new TypeError(`normalize must be a boolean; got ${describeValue(normalize)}`);
  const a = toProbabilities('p', p, normalize);
  const b = toProbabilities('q', q, normalize);
  if (a.length !== b.length) throw new RangeError(`p and q must have the same length; got ${a.length} and ${b.length}`);
  return [a, b];
}

function toProbabilities(name: string, v: unknown, normalize: boolean): Float64Array {
  let values: Float64Array;
  if (v instanceof tf.Tensor) {
    if (v.rank !== 1) throw new RangeError(`${name} must be a rank-1 tensor; got shape [${v.shape.join(', ')}]`);
    values = Float64Array.from(v.dataSync());
  } else if (v !== null && typeof v === 'object' && typeof (v as ArrayLike<number>).length === 'number') {
    values = Float64Array.from(v as ArrayLike<number>);
  } else {
    throw new TypeError(`${name} must be an array of probabilities or a rank-1 tensor; got ${describeValue(v)}`);
  }
  if (values.length < 1) throw new RangeError(`${name} must have at least one entry; got an empty array`);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!(x >= 0) || !Number.isFinite(x)) {
      throw new RangeError(`${name}[${i}] must be a finite number >= 0; got ${describeValue(x)}`);
    }
    sum += x;
  }
  if (normalize) {
    if (!(sum > 0)) throw new RangeError(`${name} must have a positive sum to be normalised; got ${sum}`);
    for (let i = 0; i < values.length; i++) values[i] /= sum;
  } else if (Math.abs(sum - 1) > 1e-4) {
    throw new RangeError(`${name} must sum to 1 (or pass normalize: true); got a sum of ${sum}`);
  }
  return values;
}
