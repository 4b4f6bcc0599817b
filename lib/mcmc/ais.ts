/**
 * Annealed importance sampling (AIS) for the partition function of an RBM (Neal 2001; Salakhutdinov & Murray 2008).
 *
 * A chain of distributions p_0, ..., p_K interpolates between a base model A whose log Z_A is known (an RBM with
 * zero weights) and the target RBM B: p*_k(v) = p*_A(v)^(1-beta_k) p*_B(v)^beta_k with 0 = beta_0 < ... < beta_K = 1.
 * Each of `runs` independent runs draws v_1 ~ p_A exactly, then alternates the weight update
 *   log w += log p*_k(v_k) - log p*_{k-1}(v_k)
 * with one Gibbs transition that leaves p_k invariant. Then E[w] = Z_B / Z_A, so
 *   log Z_B ~= log Z_A + log( (1/R) sum_r w_r ),
 * computed as a log-mean-exp. Its standard error by the delta method is std(w) / (sqrt(R) * mean(w)).
 * AIS tends to underestimate log Z when the schedule is too short (Jensen: E[log mean w] <= log E[w]).
 */
import { tf } from '../engine/backend';
import { Random } from '../engine/random';
import { assertPositiveInteger, describeValue, optionKeys } from '../core/validate';

/** Named inverse-temperature schedules for {@link aisSchedule}. */
export type AISSchedulePreset = 'salakhutdinov2008' | 'fast';

/**
 * The inverse temperatures beta_0 = 0 < ... < beta_K = 1 of an AIS run.
 * - `'salakhutdinov2008'` (the default everywhere): 500 steps on [0, 0.5), 4000 on [0.5, 0.9), 10000 on [0.9, 1],
 *   14 501 betas in all, as in Salakhutdinov & Murray (2008).
 * - `'fast'`: the same shape with 10x fewer steps (50, 400, 1000): good for teaching and tests on small models;
 *   check it against the default before trusting it on a large model.
 * - a number K >= 2: K intermediate steps with the same shape (about 3.4 %, 27.6 %, 69 % of them per segment).
 */
export function aisSchedule(preset: AISSchedulePreset | number = 'salakhutdinov2008'): number[] {
  let counts: [number, number, number];
  if (preset === 'salakhutdinov2008') counts = [500, 4000, 10000];
  else if (preset === 'fast') counts = [50, 400, 1000];
  else if (typeof preset === 'number' && Number.isInteger(preset) && preset >= 3) {
    const a = Math.max(1, Math.round((preset * 500) / 14500));
    const b = Math.max(1, Math.round((preset * 4000) / 14500));
    counts = [a, b, Math.max(1, preset - a - b)];
  } else {
    throw new RangeError(`betas must be 'salakhutdinov2008', 'fast', an integer >= 3 or an array of numbers; got ${describeValue(preset)}`);
  }
  const betas: number[] = [];
  const segments: [number, number, number][] = [
    [0, 0.5, counts[0]],
    [0.5, 0.9, counts[1]],
    [0.9, 1, counts[2]],
  ];
  for (const [lo, hi, n] of segments) for (let i = 0; i < n; i++) betas.push(lo + ((hi - lo) * i) / n);
  betas.push(1);
  return betas;
}

/** Checks a user-supplied schedule: finite, starts at 0, ends at 1, non-decreasing. */
export function resolveBetas(betas: number[] | AISSchedulePreset | number | undefined): number[] {
  if (betas === undefined || typeof betas === 'string' || typeof betas === 'number') return aisSchedule(betas);
  if (!Array.isArray(betas) || betas.length < 2) throw new RangeError(`betas must be an array of at least 2 numbers; got ${describeValue(betas)}`);
  for (let i = 0; i < betas.length; i++) {
    if (typeof betas[i] !== 'number' || !Number.isFinite(betas[i])) throw new RangeError(`betas[${i}] must be a finite number; got ${describeValue(betas[i])}`);
    if (i > 0 && betas[i] < betas[i - 1]) throw new RangeError(`betas must be non-decreasing; got betas[${i}] = ${betas[i]} < betas[${i - 1}] = ${betas[i - 1]}`);
  }
  if (betas[0] !== 0 || betas[betas.length - 1] !== 1) {
    throw new RangeError(`betas must start at 0 and end at 1; got ${betas[0]} ... ${betas[betas.length - 1]}`);
  }
  return betas;
}

/** Options for `logPartitionAIS` of the RBMs. */
export interface AISOptions {
  /** Number of independent AIS runs (importance weights). Default 100; more runs, smaller stderr. */
  runs?: number;
  /**
   * Inverse temperatures from 0 to 1, or a preset for {@link aisSchedule}. Default `'salakhutdinov2008'`
   * (14 501 betas); `'fast'` is 10x cheaper.
   */
  betas?: number[] | AISSchedulePreset | number;
  /** Seed of the runs (default: drawn from the model's generator). */
  seed?: number;
  /**
   * Training data for the base-rate model (visible biases from the data's log-odds, or its mean for Gaussian
   * units), which makes AIS much more accurate. Default: the base rate remembered from the model's first `fit`,
   * else the model's own visible biases.
   */
  data?: tf.Tensor2D;
}

/** Every key of {@link AISOptions}, for `assertKnownOptions` in the models' `logPartitionAIS`. */
export const AIS_OPTION_KEYS = optionKeys<AISOptions>({ runs: true, betas: true, seed: true, data: true });

/** Result of an AIS estimate. */
export interface AISResult {
  /** Estimate of log Z (nats). */
  logZ: number;
  /** Standard error of `logZ` (delta method); `logZ +- 3*stderr` is a sensible interval. */
  stderr: number;
  /** log Z of the base model (exact). */
  logZBase: number;
  /** The `runs` log importance weights, log(Z_B / Z_A) estimates before averaging. */
  logWeights: number[];
}

/** What a model provides to {@link runAIS}. Internal: the RBM classes build it. */
export interface AISTarget {
  /** Exact log Z of the base model. */
  logZBase: number;
  /** R exact samples from the base model, [R, nVisible]. */
  initial(runs: number, rng: Random): tf.Tensor2D;
  /**
   * Given v ~ p_{k-1} (after the transition at beta_{k-1}): returns d = log p*_k(v) - log p*_{k-1}(v) ([R]) and,
   * unless `last`, v' from a transition leaving p_k invariant.
   */
  step(v: tf.Tensor2D, betaPrev: number, beta: number, last: boolean, rng: Random): { dLogW: tf.Tensor1D; v?: tf.Tensor2D };
  /** Frees the tensors the target holds. */
  dispose(): void;
}

/** Runs AIS for `target`; tensors are disposed as it goes (one read of the weights at the end). */
export async function runAIS(target: AISTarget, opts: AISOptions, rng: Random): Promise<AISResult> {
  const runs = opts.runs ?? 100;
  try {
    assertPositiveInteger('runs', runs);
  } catch (err) {
    target.dispose();
    throw err;
  }
  let betas: number[];
  try {
    betas = resolveBetas(opts.betas);
  } catch (err) {
    target.dispose();
    throw err;
  }
  let v = target.initial(runs, rng);
  let logW: tf.Tensor1D = tf.zeros([runs]);
  try {
    for (let k = 1; k < betas.length; k++) {
      const last = k === betas.length - 1;
      const { dLogW, v: next } = target.step(v, betas[k - 1], betas[k], last, rng);
      const updated = tf.add(logW, dLogW) as tf.Tensor1D;
      dLogW.dispose();
      logW.dispose();
      logW = updated;
      if (next) {
        v.dispose();
        v = next;
      }
      // Let the event loop breathe now and then (notebook displays, timers) without slowing the loop.
      if (k % 1000 === 0) await new Promise<void>((r) => setImmediate(r));
    }
    const lw = Array.from(await logW.data());
    return summariseLogWeights(lw, target.logZBase);
  } finally {
    v.dispose();
    logW.dispose();
    target.dispose();
  }
}

/** log Z = log Z_A + log-mean-exp(log w); stderr = std(w) / (sqrt(R) mean(w)) computed stably. */
export function summariseLogWeights(logWeights: number[], logZBase: number): AISResult {
  const R = logWeights.length;
  if (logWeights.some((x) => !Number.isFinite(x))) {
    throw new Error('AIS produced non-finite log weights: the model weights are extreme or NaN; check the model');
  }
  const m = Math.max(...logWeights);
  const w = logWeights.map((x) => Math.exp(x - m)); // w_r / max w, in (0, 1]
  const mean = w.reduce((s, x) => s + x, 0) / R;
  const variance = R > 1 ? w.reduce((s, x) => s + (x - mean) ** 2, 0) / (R - 1) : 0;
  return {
    logZ: logZBase + m + Math.log(mean),
    stderr: Math.sqrt(variance / R) / mean,
    logZBase,
    logWeights,
  };
}
