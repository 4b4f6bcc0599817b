/**
 * The Frechet distance between two Gaussians (Dowson & Landau 1982), the distance behind FID (Heusel et al. 2017):
 *
 *   d^2(N(mu1, S1), N(mu2, S2)) = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))
 *
 * It is the squared 2-Wasserstein distance between the two Gaussians. The trace term is computed from symmetric
 * matrices only: with R = S1^(1/2) (from the eigen-decomposition S1 = V diag(l) V^T, R = V diag(sqrt l) V^T),
 * S1 S2 = R (R S2 R) R^-1 has the eigenvalues of the symmetric positive semi-definite M = R S2 R, so
 * tr((S1 S2)^(1/2)) = sum_i sqrt(eig_i(M)) -- two symmetric eigen-decompositions (Jacobi), no general matrix square
 * root (SciPy's sqrtm, which FID code often calls, can return complex parts from rounding).
 */
import { describeValue } from '../core/validate';
import { symmetricEigen } from '../autoencoder/pca';

/** A Gaussian fitted to points: mean `[d]` and covariance `[d][d]` (divisor n - 1). */
export interface GaussianFit {
  mean: number[];
  cov: number[][];
}

/**
 * Mean and covariance (divisor n - 1) of `n` points of `d` coordinates stored row by row in `values` (`[n * d]`),
 * optionally of the rows `rows` only (a bootstrap resample; rows may repeat). Float64 throughout.
 */
export function fitGaussian(values: ArrayLike<number>, d: number, rows?: ArrayLike<number>): GaussianFit {
  const n = rows ? rows.length : values.length / d;
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`a Gaussian fit needs at least 2 points; got ${describeValue(n)}`);
  const row = (i: number) => (rows ? rows[i] : i) * d;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = row(i);
    for (let k = 0; k < d; k++) mean[k] += values[o + k];
  }
  for (let k = 0; k < d; k++) mean[k] /= n;
  const cov = new Float64Array(d * d); //                                        sum_i (x_i - mu)(x_i - mu)^T
  const centred = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = row(i);
    for (let k = 0; k < d; k++) centred[k] = values[o + k] - mean[k];
    for (let a = 0; a < d; a++) {
      const ca = centred[a];
      if (ca === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b] += ca * centred[b];
    }
  }
  const out: number[][] = Array.from({ length: d }, () => new Array<number>(d));
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) out[a][b] = out[b][a] = cov[a * d + b] / (n - 1);
  }
  return { mean: Array.from(mean), cov: out };
}

/** A * B for square row-major n x n matrices given as number[][]. */
function matMul(A: number[][], B: number[][]): number[][] {
  const n = A.length;
  const C: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    const Ai = A[i];
    const Ci = C[i];
    for (let k = 0; k < n; k++) {
      const a = Ai[k];
      if (a === 0) continue;
      const Bk = B[k];
      for (let j = 0; j < n; j++) Ci[j] += a * Bk[j];
    }
  }
  return C;
}

/** The symmetric part (A + A^T) / 2 (removes rounding asymmetry before an eigen-decomposition). */
function symmetrise(A: number[][]): number[][] {
  return A.map((row, i) => row.map((v, j) => (v + A[j][i]) / 2));
}

function trace(A: number[][]): number {
  return A.reduce((s, row, i) => s + row[i], 0);
}

/** Checks a {@link GaussianFit} of dimension d (or any d when undefined); returns d. */
function checkFit(name: string, g: unknown, d?: number): number {
  const fit = g as GaussianFit;
  if (fit === null || typeof fit !== 'object' || !Array.isArray(fit.mean) || !Array.isArray(fit.cov)) {
    throw new TypeError(`${name} must be { mean: number[], cov: number[][] }; got ${describeValue(g)}`);
  }
  const dim = fit.mean.length;
  if (dim === 0) throw new RangeError(`${name}.mean must not be empty`);
  if (d !== undefined && dim !== d) throw new RangeError(`${name} has dimension ${dim}; expected ${d}`);
  if (fit.cov.length !== dim || fit.cov.some((r) => !Array.isArray(r) || r.length !== dim)) {
    throw new RangeError(`${name}.cov must be ${dim}x${dim} (the mean has ${dim} entries)`);
  }
  if (!fit.mean.every(Number.isFinite) || !fit.cov.every((r) => r.every(Number.isFinite))) {
    throw new RangeError(`${name} must contain only finite values; got NaN or Infinity`);
  }
  return dim;
}

/**
 * A fixed reference Gaussian N(mu1, S1) whose square root R = S1^(1/2) is computed once, for many distances to it
 * (a bootstrap computes one per resample).
 */
export class FrechetReference {
  private readonly root: number[][];
  private readonly traceCov: number;
  readonly dim: number;

  constructor(readonly fit: GaussianFit) {
    this.dim = checkFit('reference', fit);
    // S1 = V diag(l) V^T  ->  R = V diag(sqrt(max(l, 0))) V^T   (rounding can make tiny eigenvalues negative)
    const { values, vectors } = symmetricEigen(symmetrise(fit.cov));
    const d = this.dim;
    const R: number[][] = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    values.forEach((l, k) => {
      const s = Math.sqrt(Math.max(l, 0));
      if (s === 0) return;
      const v = vectors[k];
      for (let i = 0; i < d; i++) {
        const si = s * v[i];
        for (let j = 0; j < d; j++) R[i][j] += si * v[j];
      }
    });
    this.root = R;
    this.traceCov = trace(fit.cov);
  }

  /** The squared Frechet distance d^2 from this reference to `other` (see the module comment); >= 0. */
  distanceTo(other: GaussianFit): number {
    checkFit('other', other, this.dim);
    let meanTerm = 0;
    for (let k = 0; k < this.dim; k++) meanTerm += (this.fit.mean[k] - other.mean[k]) ** 2; //   |mu1 - mu2|^2
    const M = symmetrise(matMul(matMul(this.root, other.cov), this.root)); //                R S2 R, PSD
    const traceRoot = symmetricEigen(M).values.reduce((s, l) => s + Math.sqrt(Math.max(l, 0)), 0); // tr (S1 S2)^(1/2)
    return Math.max(0, meanTerm + this.traceCov + trace(other.cov) - 2 * traceRoot);
  }
}

/**
 * The squared Frechet distance between the Gaussians N(a.mean, a.cov) and N(b.mean, b.cov):
 * |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^(1/2)), the quantity FID reports (Heusel et al. 2017) when
 * the Gaussians are fitted to a classifier's features. 0 for equal Gaussians; in squared feature units.
 *
 * ```ts
 * frechetDistance({ mean: [0], cov: [[1]] }, { mean: [1], cov: [[4]] }); // 1 + (1 - 2)^2 = 2
 * ```
 */
export function frechetDistance(a: GaussianFit, b: GaussianFit): number {
  const d = checkFit('a', a);
  checkFit('b', b, d);
  return new FrechetReference(a).distanceTo(b);
}
