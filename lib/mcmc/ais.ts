/**
 * Annealed importance sampling (AIS) for the partition function of an RBM (Neal 2001; Salakhutdinov & Murray 2008).
 *
 * A chain of distributions p_0, ..., p_K interpolates between a base model A whose log Z_A is known (an RBM with
 * zero weights) and the target RBM B: p*_k(v) = p*_A(v)^(1-beta_k) p*_B(v)^beta_k with 0 = beta_0 < ... < beta_K = 1.
 * Each of `runs` independent runs draws v_1 ~ p_A exactly, then alternates the weight update
 *   log w += log p*_k(v_k) - log p*_{k-1}(v_k)
 * with one Gibbs transition that leaves p_k invariant. Then E[w] = Z_B / Z_A, so
 *   log Z_B ~= log Z_A + log( (1/R) sum_r w_r ),
 * computed as a log-mean-exp.
 *
 * Bias: the mean of the weights is unbiased for Z_B / Z_A, so its log is biased LOW (Jensen:
 * E[log mean w] <= log E[w]): AIS's log Z is a stochastic lower bound (P(log Z_hat > log Z + t) <= e^-t, by
 * Markov's inequality), and a log-likelihood computed with it is optimistic (too high). The bias grows when the
 * weights are heavy-tailed (short schedule, few runs) and shrinks as runs and temperatures grow.
 *
 * Error bar: the weights of one batch are often heavy-tailed, and their delta-method standard error
 * std(w) / (sqrt(R) mean(w)) then understates the scatter (the rare large weights that dominate the mean are
 * missing from the sample). So the runs are split into B independent batches; each gives
 * L_b = log Z_A + log-mean-exp of its weights, and stderr = sd(L_1..L_B) / sqrt(B): the standard error of
 * the mean of the batch estimates, measured from their actual spread, which to first order (small spread) is
 * the standard error of the pooled estimate. It measures scatter, not the downward bias above; an interval
 * logZ +- t * stderr (Student's t with B - 1 degrees of freedom) covers the truth at the stated rate when the
 * bias is small next to stderr, which test/ais.test.ts measures on RBMs with exact log Z.
 *
 * Reverse AIS (RAISE, Burda, Grosse & Salakhutdinov 2015) anneals from a data point down to the base model and
 * gives a stochastic LOWER bound on the log-likelihood: see {@link runReverseAIS}.
 */
import { tf } from '../engine/backend';
import { Random } from '../engine/random';
import { assertKnownOptions, assertPositiveInteger, describeValue, optionKeys } from '../core/validate';

/** Named inverse-temperature schedules for {@link aisSchedule}. */
export type AISSchedulePreset = 'salakhutdinov2008' | 'fast';

/**
 * The inverse temperatures beta_0 = 0 < ... < beta_K = 1 of an AIS run.
 * - `'salakhutdinov2008'`: 500 steps on [0, 0.5), 4000 on [0.5, 0.9), 10000 on [0.9, 1],
 *   14 501 betas in all, as in Salakhutdinov & Murray (2008).
 * - `'fast'` (the default of `logPartitionAIS`): the same shape with 10x fewer steps (50, 400, 1000).
 * - an integer K >= 3: K steps (K + 1 betas) with the same shape (about 3.4 %, 27.6 %, 69 % of them per segment;
 *   each of the three segments needs at least one step, hence K >= 3).
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
  // An explicit array may be as short as [0, 1] (plain importance sampling from the base model, no annealing).
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

/** Defaults of the AIS estimators, each with its reason (measured in bench/ais-defaults.ts, see bench/RESULTS.md). */
export const AIS_DEFAULTS = {
  /**
   * Runs per batch: 10 batches of 100 on the 'fast' schedule cost the same as the former default (100 runs on
   * the paper's 14 501 temperatures) and land within 0.1 nat of the exact log Z of a 784-16 RBM on Fashion-MNIST
   * (bench/ais-defaults.ts, bench/RESULTS.md): many runs on a shorter schedule beat few runs on a long one there.
   */
  runs: 100,
  /** Independent batches whose spread gives the error bar: 10 gives a usable sd (t with 9 degrees of freedom). */
  batches: 10,
  /** 1451 inverse temperatures (see {@link aisSchedule}); pass 'salakhutdinov2008' for the paper's 14 501. */
  betas: 'fast' as AISSchedulePreset,
} as const;

/** Options for `logPartitionAIS` of the RBMs. */
export interface AISOptions {
  /**
   * Independent AIS runs (importance weights) per batch. Default 100 (see {@link AIS_DEFAULTS}); positive
   * integer. runs x batches chains advance together, so the cost is proportional to their product.
   */
  runs?: number;
  /**
   * Independent batches of `runs` runs; the spread of their estimates is the error bar (stderr). Default 10;
   * integer >= 2.
   */
  batches?: number;
  /**
   * Inverse temperatures from 0 to 1, or a preset for {@link aisSchedule}. Default `'fast'` (1451 betas);
   * `'salakhutdinov2008'` (14 501) is 10x dearer and less biased per run.
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
export const AIS_OPTION_KEYS = optionKeys<AISOptions>({ runs: true, batches: true, betas: true, seed: true, data: true });

/** Result of an AIS estimate of log Z. */
export interface AISResult {
  /**
   * Estimate of log Z (nats): log Z_A + log-mean-exp of all runs x batches weights. Biased low (a stochastic
   * lower bound; see the module notes); the bias shrinks with more runs and temperatures.
   */
  logZ: number;
  /**
   * Standard error of `logZ` from the spread of the independent batch estimates: sd(batchLogZ) / sqrt(batches).
   * One sigma of the scatter from run to run; it does not include the downward bias. Use
   * `logZ +- 2 * stderr` (or Student's t with batches - 1 degrees of freedom) as an approximate 95 % interval.
   */
  stderr: number;
  /** log Z estimate of each independent batch (log Z_A + log-mean-exp of its `runs` weights). */
  batchLogZ: number[];
  /**
   * Effective sample size of the normalised importance weights, (sum w)^2 / sum w^2 over all runs, in
   * [1, runs x batches]: how many runs actually carry the estimate. Far below the number of runs: the weights are
   * heavy-tailed, the estimate is dominated by a few runs and likely too low -- lengthen the schedule.
   */
  ess: number;
  /**
   * The delta-method standard error std(w) / (sqrt(R) mean(w)) of all R weights pooled, for comparison: it
   * is optimistic (too small) when the weights are heavy-tailed; `stderr` is the one to quote.
   */
  deltaStderr: number;
  /** log Z of the base model (exact). */
  logZBase: number;
  /** All runs x batches log importance weights (batch b is entries b*runs .. (b+1)*runs - 1). */
  logWeights: number[];
  /** Runs per batch. */
  runs: number;
  /** Number of batches. */
  batches: number;
  /** Number of inverse temperatures used (schedule length). */
  temperatures: number;
}

/** What a model provides to {@link runAIS}. Internal: the RBM classes build it. */
export interface AISTarget {
  /** Exact log Z of the base model. */
  logZBase: number;
  /** R exact samples from the base model, [R, nVisible]. */
  initial(runs: number, rng: Random): tf.Tensor2D;
  /**
   * Given v: returns d = log p*_beta(v) - log p*_betaPrev(v) ([R]) and, unless `last`, v' from a transition
   * leaving p_beta invariant (reversible: a visible-hidden-visible Gibbs sweep).
   */
  step(v: tf.Tensor2D, betaPrev: number, beta: number, last: boolean, rng: Random): { dLogW: tf.Tensor1D; v?: tf.Tensor2D };
  /** Frees the tensors the target holds. */
  dispose(): void;
}

/** Runs, batches and schedule resolved and checked (shared by the forward and reverse estimators). */
export function resolveAISOptions(opts: AISOptions, caller: string): { runs: number; batches: number; betas: number[] } {
  if (opts === null || typeof opts !== 'object') throw new TypeError(`options must be an object; got ${describeValue(opts)}`);
  assertKnownOptions(caller, opts, AIS_OPTION_KEYS);
  const runs = opts.runs ?? AIS_DEFAULTS.runs;
  assertPositiveInteger('runs', runs);
  const batches = opts.batches ?? AIS_DEFAULTS.batches;
  assertPositiveInteger('batches', batches);
  if (batches < 2) throw new RangeError(`batches must be an integer >= 2 (their spread is the error bar); got ${describeValue(batches)}`);
  return { runs, batches, betas: resolveBetas(opts.betas ?? AIS_DEFAULTS.betas) };
}

/**
 * Runs forward AIS for `target`: runs x batches chains advance together; tensors are disposed as it goes (one
 * read of the weights at the end). Disposes `target`.
 */
export async function runAIS(target: AISTarget, opts: AISOptions, rng: Random, caller = 'logPartitionAIS'): Promise<AISResult> {
  let resolved: { runs: number; batches: number; betas: number[] };
  try {
    resolved = resolveAISOptions(opts, caller);
  } catch (err) {
    target.dispose();
    throw err;
  }
  const { runs, batches, betas } = resolved;
  const total = runs * batches;
  let v = target.initial(total, rng);
  let logW: tf.Tensor1D = tf.zeros([total]);
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
    return { ...summariseLogWeights(lw, target.logZBase, batches), temperatures: betas.length };
  } finally {
    v.dispose();
    logW.dispose();
    target.dispose();
  }
}

/** log-mean-exp of numbers, stably. */
export function logMeanExp(xs: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, xs[i]);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += Math.exp(xs[i] - m);
  return m + Math.log(s / xs.length);
}

/**
 * The 97.5 % quantile of Student's t with `dof` degrees of freedom (two-sided 95 %, one-sided 97.5 %): a table
 * for 1-30, then the Cornish-Fisher expansion in 1/dof (error below 1e-4).
 */
export function studentT975(dof: number): number {
  assertPositiveInteger('dof', dof);
  const table = [
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.306, 2.2622, 2.2281, 2.201, 2.1788, 2.1604, 2.1448, 2.1314,
    2.1199, 2.1098, 2.1009, 2.093, 2.086, 2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
  ];
  if (dof <= table.length) return table[dof - 1];
  const z = 1.959963984540054;
  const g1 = (z ** 3 + z) / 4;
  const g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96;
  const g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384;
  return z + g1 / dof + g2 / dof ** 2 + g3 / dof ** 3;
}

/** Mean and standard error sd / sqrt(n) (sd with divisor n - 1) of independent estimates. */
export function meanAndStderr(xs: ArrayLike<number>): { mean: number; stderr: number } {
  const n = xs.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i];
  const mean = s / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (xs[i] - mean) ** 2;
  return { mean, stderr: n > 1 ? Math.sqrt(ss / (n - 1) / n) : NaN };
}

/**
 * Summary of log importance weights split into `batches` equal consecutive batches:
 * logZ = log Z_A + log-mean-exp(all), stderr = sd(batch estimates) / sqrt(batches), ESS = (sum w)^2 / sum w^2,
 * and the pooled delta-method error std(w) / (sqrt(R) mean(w)) for comparison.
 */
export function summariseLogWeights(logWeights: number[], logZBase: number, batches: number): Omit<AISResult, 'temperatures'> {
  const R = logWeights.length;
  if (logWeights.some((x) => !Number.isFinite(x))) {
    throw new Error('AIS produced non-finite log weights: the model weights are extreme or NaN; check the model');
  }
  assertPositiveInteger('batches', batches);
  if (R % batches !== 0) throw new RangeError(`${R} log weights do not split into ${batches} equal batches`);
  const runs = R / batches;
  const m = Math.max(...logWeights);
  const w = logWeights.map((x) => Math.exp(x - m)); // w_r / max w, in (0, 1]
  const sum = w.reduce((s, x) => s + x, 0);
  const sumSq = w.reduce((s, x) => s + x * x, 0);
  const mean = sum / R;
  const variance = R > 1 ? w.reduce((s, x) => s + (x - mean) ** 2, 0) / (R - 1) : 0;
  const batchLogZ = Array.from({ length: batches }, (_, b) => logZBase + logMeanExp(logWeights.slice(b * runs, (b + 1) * runs)));
  return {
    logZ: logZBase + m + Math.log(mean),
    stderr: meanAndStderr(batchLogZ).stderr,
    batchLogZ,
    ess: (sum * sum) / sumSq,
    deltaStderr: Math.sqrt(variance / R) / mean,
    logZBase,
    logWeights,
    runs,
    batches,
  };
}

/** Result of {@link runReverseAIS}: per data row and chain, the reverse log weight without the -F(v) term. */
export interface ReverseAISRuns {
  /**
   * [rows][runs x batches] values rho = log Z_A + sum_k (log p*_{k+1}(v_k) - log p*_k(v_k)) along the reverse
   * chain started at the row; exp(-F(v) - rho) has expectation p_ann(v) (see {@link runReverseAIS}).
   */
  rho: Float32Array[];
}

/**
 * Reverse AIS (RAISE; Burda, Grosse & Salakhutdinov 2015, "Accurate and conservative estimates of MRF
 * log-likelihood using reverse annealing", AISTATS). For each data row v (runs x batches chains each) the chain
 * starts at v_K = v and runs the transitions in reverse order, v_{k-1} ~ T_k(. | v_k) for k = K .. 1 (each T_k a
 * Gibbs sweep at beta_k, reversible w.r.t. p_k). Because T_k is reversible,
 *
 *   w = p_A(v_0) prod_k T_k(v_k | v_{k-1}) / prod_k T_k(v_{k-1} | v_k)
 *     = exp(-F(v)) / exp(rho),   rho = log Z_A + sum_{k=0}^{K-1} (log p*_{k+1}(v_k) - log p*_k(v_k)),
 *
 * and E[w] = p_ann(v): the probability of v under the "annealing model" that draws v_0 ~ p_A and applies
 * T_1 .. T_K. So log-mean-exp of log w over the chains is a stochastic lower bound on log p_ann(v) (Jensen), and
 * p_ann approaches p as the schedule lengthens (a short schedule makes p_ann blurrier, lowering the estimate
 * on data further): the estimate is conservative. Cost: rows x runs x batches chains, K + 1 Gibbs sweeps each.
 * Disposes `target`.
 */
export async function runReverseAIS(target: AISTarget, x: tf.Tensor2D, runs: number, betas: number[], rng: Random): Promise<ReverseAISRuns> {
  const n = x.shape[0];
  const K = betas.length - 1;
  let v = tf.tidy(() => tf.reshape(tf.tile(tf.expandDims(x, 1), [1, runs, 1]), [n * runs, x.shape[1]]) as tf.Tensor2D); // [n * runs, nV], row-major by data row
  let rho: tf.Tensor1D = tf.fill([n * runs], target.logZBase);
  try {
    // T_K at beta = 1 (no weight change: log p*_1 - log p*_1 = 0).
    const first = target.step(v, betas[K], betas[K], false, rng);
    first.dLogW.dispose();
    v.dispose();
    v = first.v!;
    for (let k = K; k >= 1; k--) {
      // At v = v_{k-1}: d = log p*_{k-1}(v) - log p*_k(v), so rho += -d; then v_{k-2} ~ T_{k-1}(. | v_{k-1}).
      const last = k === 1;
      const { dLogW, v: next } = target.step(v, betas[k], betas[k - 1], last, rng);
      const updated = tf.sub(rho, dLogW) as tf.Tensor1D;
      dLogW.dispose();
      rho.dispose();
      rho = updated;
      if (next) {
        v.dispose();
        v = next;
      }
      if (k % 1000 === 0) await new Promise<void>((r) => setImmediate(r));
    }
    const flat = (await rho.data()) as Float32Array;
    return { rho: Array.from({ length: n }, (_, i) => flat.slice(i * runs, (i + 1) * runs)) };
  } finally {
    v.dispose();
    rho.dispose();
    target.dispose();
  }
}
