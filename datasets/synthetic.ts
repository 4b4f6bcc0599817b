/**
 * Small synthetic data sets the lectures use, small enough for exact enumeration.
 */
import { assertBackendReady, tf } from '../lib/engine/backend';
import { toRandom, SeedLike } from '../lib/engine/random';
import { assertFiniteNumber, assertKnownOptions, assertPositiveInteger, assertPositiveNumber, optionKeys } from '../lib/core/validate';

/** Largest grid side for bars-and-stripes (2^(n+1) - 2 patterns of n^2 pixels). */
export const BARS_AND_STRIPES_MAX_N = 12;

/**
 * All bars-and-stripes patterns of an n x n grid (MacKay 2003, ch. 43), as rows of 0/1 values, row-major
 * pixels. A pattern is a set of fully-on rows (stripes) or a set of fully-on columns (bars). There are 2^n
 * of each; the empty and the full grid are both, so there are 2^(n+1) - 2 distinct patterns: 14 for n = 3,
 * 30 for n = 4.
 *
 * Order: stripes first (the row subset `s` = 0 .. 2^n - 1, bit i set = row i on), then the bars except the
 * empty and full grid (column subset 1 .. 2^n - 2, bit j set = column j on).
 *
 * @returns one Float32Array of length n*n per pattern (see {@link barsAndStripes} for a tensor).
 */
export function barsAndStripesArray(n: number): Float32Array[] {
  assertPositiveInteger('n', n);
  if (n > BARS_AND_STRIPES_MAX_N) throw new RangeError(`n must be at most ${BARS_AND_STRIPES_MAX_N}; got ${n}`);
  const out: Float32Array[] = [];
  const count = 1 << n;
  for (let s = 0; s < count; s++) {
    const p = new Float32Array(n * n);
    for (let i = 0; i < n; i++) if (s & (1 << i)) p.fill(1, i * n, (i + 1) * n);
    out.push(p);
  }
  for (let s = 1; s < count - 1; s++) {
    const p = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (s & (1 << j)) p[i * n + j] = 1;
    out.push(p);
  }
  return out;
}

/**
 * All bars-and-stripes patterns of an n x n grid as a float32 tensor `[2^(n+1) - 2, n*n]` of 0/1 values
 * (the RBM notebooks use n = 3 or 4). Each pattern appears once, so the uniform distribution over the rows is
 * the data distribution. Order as in {@link barsAndStripesArray}. Dispose the tensor when done.
 */
export function barsAndStripes(n: number): tf.Tensor2D {
  assertBackendReady('barsAndStripes');
  const rows = barsAndStripesArray(n);
  const flat = new Float32Array(rows.length * n * n);
  rows.forEach((r, i) => flat.set(r, i * n * n));
  return tf.tensor2d(flat, [rows.length, n * n], 'float32');
}

/** Options for {@link correlatedGaussian}. */
export interface CorrelatedGaussianOptions {
  /** Number of samples (a positive integer). */
  n: number;
  /** Correlation coefficient in (-1, 1). The lecture's Gibbs demo uses 0.5. */
  rho: number;
  /** Seed (or generator); same seed, same samples. Default: a fresh random seed. */
  seed?: SeedLike;
  /** Means `[mu1, mu2]`. Default `[0, 0]`. */
  mean?: [number, number];
  /** Standard deviations `[s1, s2]`, each > 0. Default `[1, 1]`. */
  std?: [number, number];
}

const CORRELATED_GAUSSIAN_OPTION_KEYS = optionKeys<CorrelatedGaussianOptions>({ n: true, rho: true, seed: true, mean: true, std: true });

/**
 * Samples from a 2D Gaussian with correlation `rho`:
 *   x1 = mu1 + s1 z1,   x2 = mu2 + s2 (rho z1 + sqrt(1 - rho^2) z2),   z1, z2 ~ N(0, 1) independent,
 * so Var(x1) = s1^2, Var(x2) = s2^2 and Corr(x1, x2) = rho.
 * @returns a float32 tensor `[n, 2]` (dispose it when done).
 */
export function correlatedGaussian(opts: CorrelatedGaussianOptions): tf.Tensor2D {
  assertBackendReady('correlatedGaussian');
  assertKnownOptions('correlatedGaussian', opts, CORRELATED_GAUSSIAN_OPTION_KEYS);
  return tf.tensor2d(correlatedGaussianArray(opts), [opts.n, 2], 'float32');
}

/** As {@link correlatedGaussian}, returned as a Float32Array of `n` interleaved pairs `[x1, x2, x1, x2, ...]`. */
export function correlatedGaussianArray(opts: CorrelatedGaussianOptions): Float32Array {
  assertKnownOptions('correlatedGaussianArray', opts, CORRELATED_GAUSSIAN_OPTION_KEYS);
  const { n, rho } = opts;
  assertPositiveInteger('n', n);
  assertFiniteNumber('rho', rho, { min: -1, max: 1, exclusiveMin: true, exclusiveMax: true });
  const [m1, m2] = opts.mean ?? [0, 0];
  const [s1, s2] = opts.std ?? [1, 1];
  assertFiniteNumber('mean[0]', m1);
  assertFiniteNumber('mean[1]', m2);
  assertPositiveNumber('std[0]', s1);
  assertPositiveNumber('std[1]', s2);
  const rng = toRandom(opts.seed);
  const c = Math.sqrt(1 - rho * rho);
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const z1 = rng.normal();
    const z2 = rng.normal();
    out[2 * i] = m1 + s1 * z1;
    out[2 * i + 1] = m2 + s2 * (rho * z1 + c * z2);
  }
  return out;
}

/** Options for {@link gaussianRing}. */
export interface GaussianRingOptions {
  /** Number of points (a positive integer). */
  n: number;
  /** Number of Gaussians (modes) evenly spaced on the circle. Default 8. */
  modes?: number;
  /** Radius of the circle the means sit on. Default 2. */
  radius?: number;
  /** Standard deviation of each Gaussian (isotropic). Default 0.02. */
  std?: number;
  /** Seed (or generator); same seed, same points. Default: a fresh random seed. */
  seed?: SeedLike;
}

const GAUSSIAN_RING_KEYS = optionKeys<GaussianRingOptions>({ n: true, modes: true, radius: true, std: true, seed: true });

/**
 * The means of {@link gaussianRing}: `modes` points `radius * (cos(2 pi k / modes), sin(2 pi k / modes))`.
 * @returns `[modes][2]`.
 */
export function gaussianRingModes(modes = 8, radius = 2): number[][] {
  assertPositiveInteger('modes', modes);
  assertPositiveNumber('radius', radius);
  return Array.from({ length: modes }, (_, k) => {
    const a = (2 * Math.PI * k) / modes;
    return [radius * Math.cos(a), radius * Math.sin(a)];
  });
}

/**
 * The mixture of Gaussians on a ring (default: 8 modes, radius 2, std 0.02), the standard 2-D test of mode
 * coverage for EBMs, GANs and diffusion models: each point picks a mode uniformly, then adds N(0, std^2 I).
 * @returns a float32 tensor `[n, 2]` (dispose it when done).
 */
export function gaussianRing(opts: GaussianRingOptions): tf.Tensor2D {
  assertKnownOptions('gaussianRing', opts, GAUSSIAN_RING_KEYS);
  assertBackendReady('gaussianRing');
  const { n, modes = 8, radius = 2, std = 0.02 } = opts;
  assertPositiveInteger('n', n);
  assertPositiveNumber('std', std);
  const means = gaussianRingModes(modes, radius);
  const rng = toRandom(opts.seed);
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const m = means[rng.int(modes)];
    out[2 * i] = m[0] + std * rng.normal();
    out[2 * i + 1] = m[1] + std * rng.normal();
  }
  return tf.tensor2d(out, [n, 2], 'float32');
}
