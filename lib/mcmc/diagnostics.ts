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
 * Bias: the windowed tau is biased LOW (the truncated tail of rho and the biased autocovariance both shrink it),
 * by a few per cent when the window converged and much more when it did not (`converged: false`), so `stderr`
 * = sqrt(Var tau / n) is slightly optimistic; it is one standard error of the sample mean, which is itself
 * unbiased for a chain in equilibrium. For several chains prefer {@link mcseMean} and {@link essBulk}.
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
 * Mean of a chain with its standard error sqrt(Var * tau / n), tau from Sokal's window: one sigma, slightly
 * optimistic (tau is biased low; see {@link autocorrelationTime}). The mean is unbiased after burn-in.
 */
export function meanWithError(series: ArrayLike<number>, options: AutocorrelationTimeOptions = {}): Estimate {
  assertKnownOptions('meanWithError', options, AUTOCORRELATION_TIME_OPTION_KEYS);
  const r = autocorrelationTime(series, options);
  return { value: r.mean, stderr: r.stderr };
}

/**
 * Classic split R-hat, the potential scale reduction factor of Gelman et al., "Bayesian Data Analysis" (3rd
 * ed., 2013, section 11.4) -- on the raw values, not rank-normalised ({@link rHat} is the current one).
 * It misses chains with equal means and different variances, and is unreliable for heavy tails (an infinite
 * variance makes W and B meaningless): Vehtari et al. (2021), section 3.
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
export function rHatClassic(chains: ArrayLike<number>[]): number {
  return rHatOfSequences(splitChains(checkChains(chains, 4)));
}

// ---------------------------------------------------------------------------------------------------------
// Rank-normalised diagnostics across several chains (Vehtari, Gelman, Simpson, Carpenter & Buerkner 2021,
// "Rank-normalization, folding, and localization: an improved R-hat for assessing convergence of MCMC",
// Bayesian Analysis 16(2)). Each function follows ArviZ's implementation (arviz.rhat method 'rank', arviz.ess
// methods 'bulk' / 'tail' / 'mean' / 'quantile', arviz.mcse methods 'mean' / 'quantile'), and test/diagnostics
// checks it against ArviZ's values on fixed chains (test/fixtures/arviz-diagnostics.json).
//
// Notation: m chains of n draws, x[j][i]. Splitting cuts each chain into its first and last floor(n/2) draws
// (the middle draw of an odd chain is dropped), giving 2m sequences. Rank normalisation replaces every draw by
// z = Phi^-1((r - 3/8) / (N + 1/4)), r its average rank among all N draws (Blom's offsets), so the
// diagnostics see a Gaussian-shaped version of the draws and stay finite and meaningful for heavy tails.

/** Checks `chains` ([chain][draw], every chain the same length >= minLength, finite) and copies them. */
function checkChains(chains: ArrayLike<number>[], minLength: number): Float64Array[] {
  if (!Array.isArray(chains) || chains.length < 1) {
    throw new RangeError(`chains must be a non-empty array of chains ([chain][draw]); got ${describeValue(chains)}`);
  }
  const length = chains[0]?.length;
  return chains.map((chain, j) => {
    const x = checkSeries(`chains[${j}]`, chain, minLength);
    if (x.length !== length) {
      throw new RangeError(`chains must all have the same length; chains[${j}] has ${x.length}, chains[0] has ${length}`);
    }
    return x;
  });
}

/** Each chain's first and last floor(n/2) draws: 2m sequences (the first halves, then the second halves). */
function splitChains(chains: Float64Array[]): Float64Array[] {
  const n = chains[0].length;
  const half = Math.floor(n / 2);
  return [...chains.map((x) => x.subarray(0, half)), ...chains.map((x) => x.subarray(n - half))];
}

/** Average ranks (1-based; ties share the mean of their ranks) of all values of all sequences together. */
function averageRanks(seqs: Float64Array[]): Float64Array[] {
  const flat: number[] = [];
  for (const s of seqs) for (let i = 0; i < s.length; i++) flat.push(s[i]);
  const order = flat.map((_, i) => i).sort((p, q) => flat[p] - flat[q]);
  const rank = new Float64Array(flat.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && flat[order[j + 1]] === flat[order[i]]) j++;
    const r = (i + j) / 2 + 1; // ranks i+1 .. j+1 share their mean
    for (let t = i; t <= j; t++) rank[order[t]] = r;
    i = j + 1;
  }
  let offset = 0;
  return seqs.map((s) => {
    const out = rank.slice(offset, offset + s.length);
    offset += s.length;
    return out;
  });
}

/**
 * Inverse of the standard normal CDF, Phi^-1(p) for p in the open interval (0, 1): Acklam's rational
 * approximation (relative error below 1.2e-9, ample for the rank normalisation below).
 */
export function normalQuantile(p: number): number {
  assertFiniteNumber('p', p, { min: 0, max: 1, exclusiveMin: true, exclusiveMax: true });
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Rank-normalised sequences: z = Phi^-1((rank - 3/8) / (N + 1/4)) over all draws of all sequences. */
function zScale(seqs: Float64Array[]): Float64Array[] {
  const ranks = averageRanks(seqs);
  const N = seqs.reduce((s, x) => s + x.length, 0);
  return ranks.map((r) => r.map((v) => normalQuantile((v - 3 / 8) / (N + 1 / 4))));
}

/**
 * R-hat of m' sequences of equal length k, on their values as given (as ArviZ's _rhat): with W the mean
 * within-sequence variance (divisor k - 1) and B = k * the variance of the sequence means (divisor m' - 1),
 * var+ = (k - 1) / k * W + B / k and R-hat = sqrt(var+ / W) = sqrt((B / W + k - 1) / k). 1 when every sequence is
 * constant and equal, Infinity when they are constant but differ. The classic R-hat on the raw split chains, and
 * the bulk and tail R-hat on rank-normalised ones.
 */
function rHatOfSequences(seqs: Float64Array[]): number {
  const k = seqs[0].length;
  const means = seqs.map((s) => s.reduce((a, b) => a + b, 0) / k);
  // W: mean of the within-sequence variances s_j^2 (divisor k - 1).
  let w = 0;
  seqs.forEach((s, j) => {
    let ss = 0;
    for (let i = 0; i < k; i++) ss += (s[i] - means[j]) ** 2;
    w += ss / (k - 1);
  });
  w /= seqs.length;
  // B = k * variance of the sequence means (divisor m' - 1).
  const grand = means.reduce((a, b) => a + b, 0) / means.length;
  const b = (k * means.reduce((a, mu) => a + (mu - grand) ** 2, 0)) / (means.length - 1);
  if (w === 0) return b === 0 ? 1 : Infinity;
  return Math.sqrt((b / w + k - 1) / k);
}

/** Median of all draws of all chains. */
function medianOf(chains: Float64Array[]): number {
  const all = Float64Array.from(chains.flatMap((x) => Array.from(x))).sort();
  const n = all.length;
  return n % 2 ? all[(n - 1) / 2] : (all[n / 2 - 1] + all[n / 2]) / 2;
}

/**
 * Rank-normalised split R-hat (Vehtari et al. 2021): the larger of the bulk R-hat (split chains, rank-normalised)
 * and the tail R-hat (the same on the folded draws |x - median|), as ArviZ's `rhat(..., method='rank')`
 * (ArviZ 0.23 returns NaN for a single chain; here one chain is split in two, which still detects a trend).
 * It detects chains that differ in location (bulk) and in scale (tail: equal means, different variances), and
 * stays meaningful for heavy tails, where the classic {@link rHatClassic} does not. Use the chains only when
 * R-hat < 1.01 (Vehtari et al.'s threshold) and the ESS values are large enough (Vehtari et al.: above 100 per chain).
 *
 * @param chains m >= 1 chains of the same scalar, `[chain][draw]`, equal lengths >= 4.
 * @returns R-hat >= about 1 (1 when all draws are equal).
 */
export function rHat(chains: ArrayLike<number>[]): number {
  const split = splitChains(checkChains(chains, 4));
  const bulk = rHatOfSequences(zScale(split));
  const med = medianOf(split);
  const tail = rHatOfSequences(zScale(split.map((c) => c.map((v) => Math.abs(v - med)))));
  return Math.max(bulk, tail);
}

/** Autocovariances (divisor n) of a series at lags 0..n-1 by FFT (zero-padded to a power of two >= 2n). O(n log n). */
function autocovarianceFFT(x: Float64Array): Float64Array {
  const n = x.length;
  let size = 1;
  while (size < 2 * n) size *= 2;
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i];
  mean /= n;
  for (let i = 0; i < n; i++) re[i] = x[i] - mean;
  fft(re, im, false);
  for (let i = 0; i < size; i++) {
    re[i] = re[i] * re[i] + im[i] * im[i];
    im[i] = 0;
  }
  fft(re, im, true);
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) out[t] = re[t] / size / n;
  return out;
}

/** In-place iterative radix-2 FFT (inverse without the 1/size factor). */
function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len *= 2) {
    const ang = ((inverse ? 2 : -2) * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k);
        const wi = Math.sin(ang * k);
        const ar = re[i + k + len / 2] * wr - im[i + k + len / 2] * wi;
        const ai = re[i + k + len / 2] * wi + im[i + k + len / 2] * wr;
        re[i + k + len / 2] = re[i + k] - ar;
        im[i + k + len / 2] = im[i + k] - ai;
        re[i + k] += ar;
        im[i + k] += ai;
      }
    }
  }
}

/**
 * Multi-chain effective sample size with Geyer's initial monotone sequence (Vehtari et al. 2021, section 3.2;
 * Stan's and ArviZ's `_ess`). With W-like `meanVar` (mean within-sequence variance, divisor n - 1) and
 * var+ = (n - 1) / n meanVar + var(sequence means), rho_t = 1 - (meanVar - mean_j acov_j(t)) / var+;
 * pairs rho_{2t} + rho_{2t+1} are summed while positive and made monotone; tau = -1 + 2 sum rho_t (+ the
 * last even term); ESS = m n / max(tau, 1 / log10(m n)).
 */
function essOfSequences(seqs: Float64Array[]): number {
  const m = seqs.length;
  const n = seqs[0].length;
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of seqs) for (let i = 0; i < n; i++) {
    lo = Math.min(lo, s[i]);
    hi = Math.max(hi, s[i]);
  }
  if (hi - lo < 1e-15) return m * n; // numpy's float resolution: a constant chain counts every draw
  const acov = seqs.map(autocovarianceFFT);
  const meanAcov = (t: number) => acov.reduce((s, a) => s + a[t], 0) / m;
  const chainMeans = seqs.map((s) => s.reduce((a, b) => a + b, 0) / n);
  const meanVar = (meanAcov(0) * n) / (n - 1);
  let varPlus = (meanVar * (n - 1)) / n;
  if (m > 1) {
    const g = chainMeans.reduce((a, b) => a + b, 0) / m;
    varPlus += chainMeans.reduce((a, mu) => a + (mu - g) ** 2, 0) / (m - 1);
  }
  const rho = new Float64Array(n);
  let rhoEven = 1;
  rho[0] = rhoEven;
  let rhoOdd = 1 - (meanVar - meanAcov(1)) / varPlus;
  rho[1] = rhoOdd;
  // Geyer's initial positive sequence.
  let t = 1;
  while (t < n - 3 && rhoEven + rhoOdd > 0) {
    rhoEven = 1 - (meanVar - meanAcov(t + 1)) / varPlus;
    rhoOdd = 1 - (meanVar - meanAcov(t + 2)) / varPlus;
    if (rhoEven + rhoOdd >= 0) {
      rho[t + 1] = rhoEven;
      rho[t + 2] = rhoOdd;
    }
    t += 2;
  }
  const maxT = t - 2;
  if (rhoEven > 0) rho[maxT + 1] = rhoEven;
  // Geyer's initial monotone sequence.
  t = 1;
  while (t <= maxT - 2) {
    if (rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]) {
      rho[t + 1] = (rho[t - 1] + rho[t]) / 2;
      rho[t + 2] = rho[t + 1];
    }
    t += 2;
  }
  let sum = 0;
  for (let i = 0; i <= maxT; i++) sum += rho[i];
  const tau = Math.max(-1 + 2 * sum + (maxT + 1 < n ? rho[maxT + 1] : 0), 1 / Math.log10(m * n));
  return (m * n) / tau;
}

/**
 * Linear-interpolation quantile of all draws (numpy's default, type 7 of Hyndman & Fan; ArviZ's `_quantile`).
 */
function quantileOf(chains: Float64Array[], prob: number): number {
  const all = Float64Array.from(chains.flatMap((x) => Array.from(x))).sort();
  const n = all.length;
  const aleph = n * prob + (1 - prob); // scipy mquantiles with alphap = betap = 1
  const k = Math.min(Math.max(Math.floor(aleph), 1), n - 1);
  const gamma = Math.min(Math.max(aleph - k, 0), 1);
  return (1 - gamma) * all[k - 1] + gamma * all[Math.min(k, n - 1)];
}

/** ESS of the indicator I(x <= q_prob) on split chains (ArviZ's `_ess_quantile`). */
function essOfIndicator(x: Float64Array[], prob: number): number {
  const q = quantileOf(x, prob);
  return essOfSequences(splitChains(x.map((c) => c.map((v) => (v <= q ? 1 : 0)))));
}

function assertProbability(name: string, p: number): void {
  if (typeof p !== 'number' || !(p > 0 && p < 1)) throw new RangeError(`${name} must be a probability in (0, 1); got ${describeValue(p)}`);
}

/**
 * Bulk effective sample size (Vehtari et al. 2021): the ESS of the rank-normalised split chains. How many
 * independent draws the chains are worth for the centre of the distribution (means, medians); robust to heavy
 * tails. As ArviZ's `ess(..., method='bulk')`.
 *
 * @param chains m >= 1 chains, `[chain][draw]`, equal lengths >= 4.
 */
export function essBulk(chains: ArrayLike<number>[]): number {
  return essOfSequences(zScale(splitChains(checkChains(chains, 4))));
}

/**
 * Tail effective sample size (Vehtari et al. 2021): the smaller ESS of the indicators I(x <= q05) and
 * I(x <= q95) on split chains, q the 5 % and 95 % quantiles of all draws. How reliable tail quantiles
 * (credible intervals) are. As ArviZ's `ess(..., method='tail')`.
 *
 * @param chains m >= 1 chains, `[chain][draw]`, equal lengths >= 4.
 */
export function essTail(chains: ArrayLike<number>[]): number {
  const x = checkChains(chains, 4);
  return Math.min(essOfIndicator(x, 0.05), essOfIndicator(x, 0.95));
}

/**
 * Multi-chain ESS of the raw draws (split chains, no rank normalisation): the ESS that governs the Monte
 * Carlo error of the mean. As ArviZ's `ess(..., method='mean')`. Assumes a finite variance.
 */
export function essMean(chains: ArrayLike<number>[]): number {
  return essOfSequences(splitChains(checkChains(chains, 4)));
}

/** ESS of the quantile `prob` (ESS of I(x <= q_prob) on split chains). As ArviZ's `ess(..., method='quantile')`. */
export function essQuantile(chains: ArrayLike<number>[], prob: number): number {
  assertProbability('prob', prob);
  return essOfIndicator(checkChains(chains, 4), prob);
}

/**
 * Monte Carlo standard error of the mean of all draws: sd / sqrt(essMean), sd the sample standard deviation
 * (divisor N - 1) of all draws. One sigma: the pooled mean is within +-2 mcse of the true expectation in about
 * 95 % of repeated runs once the chains have mixed (R-hat < 1.01) and essMean is in the hundreds; the estimate
 * of the mean itself is unbiased given stationarity. As ArviZ's `mcse(..., method='mean')`. Assumes a finite
 * variance (meaningless for heavy tails such as a Cauchy: use {@link mcseQuantile} of the median there).
 *
 * @param chains m >= 1 chains, `[chain][draw]`, equal lengths >= 4.
 */
export function mcseMean(chains: ArrayLike<number>[]): number {
  const x = checkChains(chains, 4);
  const N = x.length * x[0].length;
  let s = 0;
  for (const c of x) for (let i = 0; i < c.length; i++) s += c[i];
  const mean = s / N;
  let ss = 0;
  for (const c of x) for (let i = 0; i < c.length; i++) ss += (c[i] - mean) ** 2;
  return Math.sqrt(ss / (N - 1)) / Math.sqrt(essOfSequences(splitChains(x)));
}

/**
 * Monte Carlo standard error of the quantile `prob` of the draws (Vehtari et al. 2021, section 4.3): with
 * S = essQuantile, the draws' order statistics at the 15.9 % and 84.1 % points of Beta(S p + 1, S (1 - p) + 1)
 * bracket the quantile's one-sigma interval; the result is half its width. As ArviZ's
 * `mcse(..., method='quantile', prob=p)`. Valid for heavy tails too.
 *
 * @param chains m >= 1 chains, `[chain][draw]`, equal lengths >= 4.
 * @param prob The quantile's probability, in (0, 1) (0.5: the median).
 */
export function mcseQuantile(chains: ArrayLike<number>[], prob: number): number {
  assertProbability('prob', prob);
  const x = checkChains(chains, 4);
  const S = essOfIndicator(x, prob);
  const sorted = Float64Array.from(x.flatMap((c) => Array.from(c))).sort();
  const size = sorted.length;
  const lo = betaQuantile(0.1586553, S * prob + 1, S * (1 - prob) + 1) * size - 1;
  const hi = betaQuantile(0.8413447, S * prob + 1, S * (1 - prob) + 1) * size - 1;
  const th1 = sorted[Math.floor(Math.max(lo, 0))];
  const th2 = sorted[Math.ceil(Math.min(hi, size - 1))];
  return (th2 - th1) / 2;
}

/** log Gamma(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error ~1e-15). */
function logGamma(x: number): number {
  const g = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const y = x - 1;
  let a = g[0];
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += g[i] / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised incomplete beta I_x(a, b) by Lentz's continued fraction (Numerical Recipes' betacf). */
function betaCdf(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  const cf = (xx: number, aa: number, bb: number): number => {
    const tiny = 1e-300;
    let c = 1;
    let d = 1 - ((aa + bb) * xx) / (aa + 1);
    if (Math.abs(d) < tiny) d = tiny;
    d = 1 / d;
    let h = d;
    for (let m = 1; m <= 100000; m++) {
      const m2 = 2 * m;
      let num = (m * (bb - m) * xx) / ((aa + m2 - 1) * (aa + m2));
      d = 1 + num * d;
      if (Math.abs(d) < tiny) d = tiny;
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      d = 1 / d;
      h *= d * c;
      num = (-(aa + m) * (aa + bb + m) * xx) / ((aa + m2) * (aa + m2 + 1));
      d = 1 + num * d;
      if (Math.abs(d) < tiny) d = tiny;
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      d = 1 / d;
      const del = d * c;
      h *= del;
      if (Math.abs(del - 1) < 1e-16) break;
    }
    return h;
  };
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * cf(x, a, b)) / a;
  return 1 - (Math.exp(lnFront) * cf(1 - x, b, a)) / b;
}

/** Inverse of the Beta(a, b) CDF by bisection to double precision (70 halvings of [0, 1]). */
function betaQuantile(p: number, a: number, b: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 200 && hi - lo > 1e-17; i++) {
    const mid = (lo + hi) / 2;
    if (betaCdf(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
