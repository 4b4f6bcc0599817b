/**
 * Convergence and efficiency diagnostics for Markov-chain Monte Carlo output.
 *
 * A chain x_1..x_n of a scalar observable is correlated, so its mean carries less information than n
 * independent draws. With the normalised autocorrelation function
 *
 *   rho(t) = C(t) / C(0),   C(t) = (1/n) * sum_{i=1}^{n-t} (x_i - xbar)(x_{i+t} - xbar)
 *
 * the integrated autocorrelation time is (convention of Sokal 1997 and of emcee, NOT half of it)
 *
 *   tau = 1 + 2 * sum_{t>=1} rho(t),
 *
 * so that Var(xbar) ~= tau * Var(x) / n and the effective sample size is ESS = n / tau. Independent draws
 * have tau = 1; an AR(1) process x_{i+1} = phi * x_i + noise has tau = (1 + phi) / (1 - phi).
 *
 * All functions work on plain arrays or typed arrays (no tensors) and cost O(n * window).
 */
import { assertFiniteNumber, assertKnownOptions, assertPositiveInteger, describeValue, optionKeys } from '../core/validate';

/** A value with its one-standard-error bar. */
export interface Estimate {
  /** The estimate. */
  value: number;
  /** Its standard error (one sigma), accounting for autocorrelation where stated. */
  stderr: number;
}

/** Options of {@link integratedAutocorrelationTime} and {@link autocorrelationTime}. */
export interface AutocorrelationTimeOptions {
  /**
   * Sokal's window constant c: the summation window M is the smallest lag with M >= c * tau(M).
   * Default 5 (emcee's choice; Sokal recommends 4-10). Larger c: less bias, more noise. Range (0, inf).
   */
  c?: number;
}

const AUTOCORRELATION_TIME_OPTION_KEYS = optionKeys<AutocorrelationTimeOptions>({ c: true });

/** The full result of Sokal's windowed estimate; see {@link autocorrelationTime}. */
export interface AutocorrelationTimeResult {
  /** Integrated autocorrelation time tau = 1 + 2 * sum_{t=1}^{M} rho(t) (>= some small positive number). */
  tau: number;
  /** Sokal's error estimate of tau: tau * sqrt(2 * (2M + 1) / n). */
  tauError: number;
  /** The summation window M that was chosen. */
  window: number;
  /**
   * False when the window condition M >= c * tau was never met before M reached n / 2: the series is too
   * short for its correlations (run longer, tau is then underestimated).
   */
  converged: boolean;
  /** Number of values n. */
  n: number;
  /** Effective sample size n / tau. */
  ess: number;
  /** Sample mean. */
  mean: number;
  /** Sample variance (divisor n). */
  variance: number;
  /** Standard error of the mean, sqrt(variance * tau / n). */
  stderr: number;
}

/** Copies a series into a Float64Array after checking it is a non-empty array of finite numbers. */
function checkSeries(name: string, series: ArrayLike<number>, minLength: number): Float64Array {
  if (series === null || typeof series !== 'object' || typeof (series as ArrayLike<number>).length !== 'number') {
    throw new TypeError(`${name} must be an array of numbers; got ${describeValue(series)}`);
  }
  const n = series.length;
  if (n < minLength) {
    throw new RangeError(`${name} must have at least ${minLength} values; got ${n}`);
  }
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = series[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new RangeError(`${name} must contain only finite numbers; got ${describeValue(v)} at index ${i}`);
    }
    x[i] = v;
  }
  return x;
}

/** Mean and variance (divisor n) of x, and x centred in place. */
function centre(x: Float64Array): { mean: number; variance: number } {
  const n = x.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i];
  const mean = s / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    x[i] -= mean;
    ss += x[i] * x[i];
  }
  return { mean, variance: ss / n };
}

/** Autocovariance C(t) = (1/n) sum_{i<n-t} d_i d_{i+t} of an already centred series d. O(n). */
function autocovariance(d: Float64Array, t: number): number {
  const n = d.length;
  let s = 0;
  for (let i = 0; i + t < n; i++) s += d[i] * d[i + t];
  return s / n;
}

/**
 * The normalised autocorrelation function rho(0..maxLag) of a series (rho(0) = 1), with the biased
 * (divisor n) autocovariance, which keeps the estimate positive definite. A constant series gives
 * rho(t) = 0 for t >= 1. Cost O(n * maxLag).
 *
 * @param series The chain of a scalar observable, length n >= 2.
 * @param maxLag Largest lag, an integer in [0, n - 1]. Default min(n - 1, 100).
 * @returns An array of length maxLag + 1.
 */
export function autocorrelation(series: ArrayLike<number>, maxLag?: number): number[] {
  const d = checkSeries('series', series, 2);
  const n = d.length;
  const lagMax = maxLag ?? Math.min(n - 1, 100);
  if (!Number.isInteger(lagMax) || lagMax < 0 || lagMax > n - 1) {
    throw new RangeError(`maxLag must be an integer in [0, ${n - 1}] (series length - 1); got ${describeValue(maxLag)}`);
  }
  const { variance } = centre(d);
  const rho = new Array<number>(lagMax + 1);
  rho[0] = 1;
  for (let t = 1; t <= lagMax; t++) rho[t] = variance > 0 ? autocovariance(d, t) / variance : 0;
  return rho;
}

/**
 * Integrated autocorrelation time with Sokal's automatic windowing, plus the quantities derived from it
 * (ESS, standard error of the mean).
 *
 * tau(M) = 1 + 2 * sum_{t=1}^{M} rho(t) is accumulated lag by lag, and the first M with M >= c * tau(M) is
 * taken (Sokal 1997, "Monte Carlo methods in statistical mechanics", section 3; Madras & Sokal 1988).
 * Cost O(n * M). A constant series (zero variance) returns tau = 1: its sample mean is exact.
 *
 * @param series The chain of a scalar observable (at least 2 values).
 */
export function autocorrelationTime(series: ArrayLike<number>, options: AutocorrelationTimeOptions = {}): AutocorrelationTimeResult {
  assertKnownOptions('autocorrelationTime', options, AUTOCORRELATION_TIME_OPTION_KEYS);
  const c = options.c ?? 5;
  assertFiniteNumber('c', c, { min: 0, exclusiveMin: true });
  const d = checkSeries('series', series, 2);
  const n = d.length;
  const { mean, variance } = centre(d);
  const summary = (tau: number, window: number, converged: boolean): AutocorrelationTimeResult => ({
    tau,
    tauError: tau * Math.sqrt((2 * (2 * window + 1)) / n),
    window,
    converged,
    n,
    ess: n / tau,
    mean,
    variance,
    stderr: Math.sqrt((variance * tau) / n),
  });
  if (variance === 0) return summary(1, 0, true);
  const maxWindow = Math.max(1, Math.floor(n / 2));
  let tau = 1;
  for (let m = 1; m <= maxWindow; m++) {
    tau += (2 * autocovariance(d, m)) / variance;
    if (m >= c * tau) return summary(Math.max(tau, 1 / n), m, true);
  }
  // Window condition never met: the series is shorter than ~2c autocorrelation times.
  return summary(Math.max(tau, 1 / n), maxWindow, false);
}

/**
 * Integrated autocorrelation time tau = 1 + 2 * sum rho(t) (Sokal's automatic window, c = 5 by default).
 * Independent draws give about 1; an AR(1) chain with coefficient phi gives (1 + phi) / (1 - phi).
 * See {@link autocorrelationTime} for the window, error bar and convergence flag.
 */
export function integratedAutocorrelationTime(series: ArrayLike<number>, options: AutocorrelationTimeOptions = {}): number {
  assertKnownOptions('integratedAutocorrelationTime', options, AUTOCORRELATION_TIME_OPTION_KEYS);
  return autocorrelationTime(series, options).tau;
}

/** Effective sample size n / tau of one scalar chain (see {@link integratedAutocorrelationTime}). */
export function effectiveSampleSize(series: ArrayLike<number>, options: AutocorrelationTimeOptions = {}): number {
  assertKnownOptions('effectiveSampleSize', options, AUTOCORRELATION_TIME_OPTION_KEYS);
  return autocorrelationTime(series, options).ess;
}

/**
 * Effective sample size of each coordinate of a multi-dimensional chain, as returned by
 * `metropolisHastings` or `gibbsSampler` (`samples[i][j]` = coordinate j at step i).
 *
 * @returns One ESS per dimension.
 */
export function effectiveSampleSizeByDimension(samples: ArrayLike<number>[], options: AutocorrelationTimeOptions = {}): number[] {
  assertKnownOptions('effectiveSampleSizeByDimension', options, AUTOCORRELATION_TIME_OPTION_KEYS);
  if (!Array.isArray(samples) || samples.length < 2) {
    throw new RangeError(`samples must be an array of at least 2 points; got ${describeValue(samples)}`);
  }
  const dim = samples[0].length;
  assertPositiveInteger('samples[0].length', dim);
  const out: number[] = [];
  for (let j = 0; j < dim; j++) {
    const column = new Float64Array(samples.length);
    for (let i = 0; i < samples.length; i++) {
      if (samples[i].length !== dim) {
        throw new RangeError(`samples[${i}] must have ${dim} coordinates like samples[0]; got ${samples[i].length}`);
      }
      column[i] = samples[i][j];
    }
    out.push(effectiveSampleSize(column, options));
  }
  return out;
}

/**
 * Mean of a chain with its standard error sqrt(Var * tau / n), tau from Sokal's window.
 */
export function meanWithError(series: ArrayLike<number>, options: AutocorrelationTimeOptions = {}): Estimate {
  assertKnownOptions('meanWithError', options, AUTOCORRELATION_TIME_OPTION_KEYS);
  const r = autocorrelationTime(series, options);
  return { value: r.mean, stderr: r.stderr };
}

/**
 * Split R-hat, the potential scale reduction factor of Gelman et al., "Bayesian Data Analysis" (3rd ed.,
 * 2013, section 11.4) -- the classic split version, not the rank-normalised one of Vehtari et al. (2021).
 *
 * Each of the m chains (equal length) is cut into two halves (the middle draw of an odd-length chain is
 * dropped), giving m' = 2m sequences of length k. With W the mean within-sequence variance and B / k the
 * variance of the sequence means,
 *
 *   var+ = (k - 1) / k * W + B / k,   R-hat = sqrt(var+ / W).
 *
 * Near 1 (below about 1.01-1.1) when the chains have mixed; well above 1 when they sample different regions
 * or are still trending. Splitting detects a trend inside a single chain too.
 *
 * @param chains m >= 1 chains of the same scalar, each with at least 4 values.
 * @returns R-hat (1 when every sequence is constant and equal; Infinity when they are constant but differ).
 */
export function rHat(chains: ArrayLike<number>[]): number {
  if (!Array.isArray(chains) || chains.length < 1) {
    throw new RangeError(`chains must be a non-empty array of chains; got ${describeValue(chains)}`);
  }
  const length = chains[0]?.length;
  const sequences: Float64Array[] = [];
  chains.forEach((chain, j) => {
    const x = checkSeries(`chains[${j}]`, chain, 4);
    if (x.length !== length) {
      throw new RangeError(`chains must all have the same length; chains[${j}] has ${x.length}, chains[0] has ${length}`);
    }
    const k = Math.floor(x.length / 2);
    sequences.push(x.subarray(0, k), x.subarray(x.length - k));
  });
  const k = sequences[0].length;
  const means = sequences.map((s) => s.reduce((a, b) => a + b, 0) / k);
  // W: mean of the within-sequence variances s_j^2 (divisor k - 1).
  let w = 0;
  sequences.forEach((s, j) => {
    let ss = 0;
    for (let i = 0; i < k; i++) ss += (s[i] - means[j]) ** 2;
    w += ss / (k - 1);
  });
  w /= sequences.length;
  // B = k * variance of the sequence means (divisor m' - 1).
  const grand = means.reduce((a, b) => a + b, 0) / means.length;
  const b = (k * means.reduce((a, mu) => a + (mu - grand) ** 2, 0)) / (means.length - 1);
  if (w === 0) return b === 0 ? 1 : Infinity;
  const varPlus = ((k - 1) / k) * w + b / k;
  return Math.sqrt(varPlus / w);
}
