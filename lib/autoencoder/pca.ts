/**
 * The exact PCA a linear autoencoder is compared with (lecture 8), and the tools of that comparison: principal
 * angles between subspaces and a small symmetric eigensolver (cyclic Jacobi).
 *
 * With linear encoder and decoder and the squared error, an autoencoder learns the span of the top-k principal
 * components (Baldi & Hornik 1989) but not the components themselves: compare the subspaces with
 * {@link principalAngles}, or the reconstruction errors. lib/embed's `embedding(points, { method: 'pca' })` maps
 * codes with {@link pca} too.
 */
import { tf } from '../engine/backend';
import { Random } from '../engine/random';
import { assertKnownOptions, assertMatrix, assertPositiveInteger, assertPositiveNumber, describeValue, optionKeys } from '../core/validate';

/** The result of {@link pca}. Dispose it when done. */
export interface PCAResult {
  /** Principal directions as rows, orthonormal, by decreasing variance. `[k, D]`. */
  components: tf.Tensor2D;
  /** The data mean. `[D]`. */
  mean: tf.Tensor1D;
  /** Variance along each component (eigenvalues of the sample covariance, divisor n - 1). */
  explainedVariance: number[];
  /** `explainedVariance` divided by the total variance (trace of the covariance). */
  explainedVarianceRatio: number[];
  /** Codes `(x - mean) components^T`, `[n, k]`. */
  project(x: tf.Tensor2D): tf.Tensor2D;
  /** Best rank-k reconstruction `project(x) components + mean`, `[n, D]`. */
  reconstruct(x: tf.Tensor2D): tf.Tensor2D;
  /** Frees `components` and `mean`. */
  dispose(): void;
}

/** Options for {@link pca}. */
export interface PCAOptions {
  /** Seed of the starting subspace. Default 0 (the result does not depend on it beyond float rounding). */
  seed?: number;
  /** Iteration cap of the subspace iteration. Default 1000. */
  maxIterations?: number;
  /** Stop when every Ritz residual |C v - lambda v| <= tolerance * lambda_1. Default 1e-5 (float32 data). */
  tolerance?: number;
}

const PCA_OPTION_KEYS = optionKeys<PCAOptions>({ seed: true, maxIterations: true, tolerance: true });

/**
 * Exact PCA of `x` `[n, D]`: the top-k eigenvectors of the sample covariance C = Xc^T Xc / (n - 1), found by
 * block subspace iteration on C (k + 8 vectors, products on the tfjs backend) with a Rayleigh-Ritz step solved by
 * Jacobi rotations, run until the eigen-residuals are at float precision. Component signs are fixed so that the
 * largest-magnitude entry of each is positive.
 */
export function pca(x: tf.Tensor2D, k: number, opts: PCAOptions = {}): PCAResult {
  assertKnownOptions('pca', opts, PCA_OPTION_KEYS);
  assertMatrix('x', x);
  const [n, d] = x.shape;
  assertPositiveInteger('k', k);
  if (k > d) throw new RangeError(`k must be at most the data width ${d}; got ${k}`);
  if (n < 2) throw new RangeError(`x must have at least 2 rows for a covariance; got ${n}`);
  const maxIterations = opts.maxIterations ?? 1000;
  assertPositiveInteger('maxIterations', maxIterations);
  const tolerance = opts.tolerance ?? 1e-5;
  assertPositiveNumber('tolerance', tolerance);
  const p = Math.min(d, k + 8);
  const rng = new Random(opts.seed ?? 0);
  const mean = tf.tidy(() => x.mean(0) as tf.Tensor1D);
  const cov = tf.tidy(() => {
    const xc = x.sub(mean);
    return tf.matMul(tf.transpose(xc), xc).div(n - 1) as tf.Tensor2D; //                                 [D, D]
  });
  try {
    const totalVar = tf.tidy(() => cov.mul(tf.eye(d)).sum().dataSync()[0]);
    // Q [D, p] column-orthonormal, stored row-major as Float64Array.
    let Q = orthonormalColumns(Float64Array.from(rng.normalArray(d * p)), d, p);
    let ritzValues: number[] = [];
    let ritzVectors: Float64Array = Q;
    for (let it = 0; it < maxIterations; it++) {
      const Z = tf.tidy(() => tf.matMul(cov, tf.tensor2d(Float32Array.from(Q), [d, p])).dataSync() as Float32Array); // C Q [D, p]
      // Rayleigh-Ritz: T = Q^T C Q (p x p), eigenpairs (theta, y); Ritz vectors Q y, residuals C Q y - theta Q y.
      const T = columnProducts(Q, Z, d, p, p);
      for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) T[a * p + b] = T[b * p + a] = 0.5 * (T[a * p + b] + T[b * p + a]);
      const eig = jacobiEigen(T, p);
      ritzValues = eig.values;
      ritzVectors = matMulRowMajor(Q, eig.vectors, d, p, p); //                                        [D, p]
      const CQy = matMulRowMajor(Float64Array.from(Z), eig.vectors, d, p, p);
      let worst = 0;
      for (let j = 0; j < k; j++) {
        let r2 = 0;
        for (let r = 0; r < d; r++) {
          const e = CQy[r * p + j] - ritzValues[j] * ritzVectors[r * p + j];
          r2 += e * e;
        }
        worst = Math.max(worst, Math.sqrt(r2));
      }
      if (worst <= tolerance * Math.max(ritzValues[0], 1e-30)) break;
      Q = orthonormalColumns(Float64Array.from(Z), d, p);
    }
    const comps = new Float32Array(k * d);
    for (let j = 0; j < k; j++) {
      let big = 0;
      for (let r = 0; r < d; r++) if (Math.abs(ritzVectors[r * p + j]) > Math.abs(big)) big = ritzVectors[r * p + j];
      const sign = big < 0 ? -1 : 1;
      for (let r = 0; r < d; r++) comps[j * d + r] = sign * ritzVectors[r * p + j];
    }
    const components = tf.tensor2d(comps, [k, d]);
    const explainedVariance = ritzValues.slice(0, k).map((v) => Math.max(0, v));
    return {
      components,
      mean,
      explainedVariance,
      explainedVarianceRatio: explainedVariance.map((v) => (totalVar > 0 ? v / totalVar : 0)),
      project: (data) => {
        assertMatrix('x', data, { width: d, checkFinite: false });
        return tf.tidy(() => tf.matMul(data.sub(mean), tf.transpose(components)) as tf.Tensor2D);
      },
      reconstruct: (data) => {
        assertMatrix('x', data, { width: d, checkFinite: false });
        return tf.tidy(() => tf.matMul(tf.matMul(data.sub(mean), tf.transpose(components)), components).add(mean) as tf.Tensor2D);
      },
      dispose: () => {
        components.dispose();
        mean.dispose();
      },
    };
  } catch (e) {
    mean.dispose();
    throw e;
  } finally {
    cov.dispose();
  }
}

/**
 * Principal angles (radians, ascending) between the subspaces spanned by the rows of `a` `[k1, D]` and `b`
 * `[k2, D]`: theta_i = arccos(sigma_i) with sigma_i the singular values of Qa Qb^T for orthonormal row bases.
 * All zeros means the same subspace. Returns min(k1, k2) angles.
 */
export function principalAngles(a: tf.Tensor2D | number[][], b: tf.Tensor2D | number[][]): number[] {
  const A = rowMajor('a', a);
  const B = rowMajor('b', b, A.cols);
  const d = A.cols;
  const [k1, k2] = [A.rows, B.rows];
  if (k1 > d) throw new RangeError(`a must have at most ${d} rows (its width); got ${k1}`);
  if (k2 > d) throw new RangeError(`b must have at most ${d} rows (its width); got ${k2}`);
  // Orthonormal bases as columns: transpose the rows into [D, k] and orthonormalise.
  const Qa = orthonormalColumns(transposeRowMajor(A.data, k1, d), d, k1);
  const Qb = orthonormalColumns(transposeRowMajor(B.data, k2, d), d, k2);
  // M = Qa^T Qb [k1, k2]; its singular values are sqrt(eig(M M^T)).
  const M = columnProducts(Qa, Qb, d, k1, k2);
  const MMt = matMulRowMajor(M, transposeRowMajor(M, k1, k2), k1, k2, k1);
  const sv = jacobiEigen(MMt, k1).values.map((v) => Math.sqrt(Math.max(0, v)));
  return sv.slice(0, Math.min(k1, k2)).map((s) => Math.acos(Math.min(1, s)));
}

/** A matrix given as a tensor or as rows, flattened row-major (width checked against `width` when given). */
function rowMajor(name: string, m: tf.Tensor2D | number[][], width?: number): { data: Float64Array; rows: number; cols: number } {
  if (m instanceof tf.Tensor) {
    assertMatrix(name, m, width === undefined ? {} : { width });
    return { data: Float64Array.from(m.dataSync()), rows: m.shape[0], cols: m.shape[1] };
  }
  const cols = Array.isArray(m) && Array.isArray(m[0]) ? m[0].length : 0;
  if (!Array.isArray(m) || m.length === 0 || cols === 0 || m.some((r) => !Array.isArray(r) || r.length !== cols)) {
    throw new TypeError(`${name} must be a tf.Tensor2D or a non-empty number[][] of equal rows; got ${describeValue(m)}`);
  }
  if (width !== undefined && cols !== width) throw new RangeError(`${name} must have ${width} columns; got ${cols}`);
  const data = Float64Array.from(m.flat());
  if (!data.every(Number.isFinite)) throw new RangeError(`${name} must contain only finite values; got NaN or Infinity`);
  return { data, rows: m.length, cols };
}

/**
 * Eigen-decomposition of a small symmetric matrix (row-major `[n, n]` array, or number[][]) by cyclic Jacobi
 * rotations: `values` descending and `vectors` as the rows of a number[][] (vectors[i] belongs to values[i]).
 */
export function symmetricEigen(matrix: number[][]): { values: number[]; vectors: number[][] } {
  if (!Array.isArray(matrix) || matrix.length === 0) throw new TypeError(`matrix must be a non-empty number[][]; got ${describeValue(matrix)}`);
  const n = matrix.length;
  const a = new Float64Array(n * n);
  matrix.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== n) throw new RangeError(`matrix must be square ${n}x${n}; row ${i} has ${describeValue(row)}`);
    row.forEach((v, j) => {
      if (!Number.isFinite(v)) throw new RangeError(`matrix[${i}][${j}] must be finite; got ${describeValue(v)}`);
      a[i * n + j] = v;
    });
  });
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (Math.abs(a[i * n + j] - a[j * n + i]) > 1e-9 * (Math.abs(a[i * n + j]) + Math.abs(a[j * n + i]) + 1)) {
        throw new RangeError(`matrix must be symmetric; matrix[${i}][${j}] != matrix[${j}][${i}]`);
      }
    }
  }
  const { values, vectors } = jacobiEigen(a, n);
  return { values, vectors: values.map((_, j) => Array.from({ length: n }, (_, r) => vectors[r * n + j])) };
}

/** Cyclic Jacobi on a symmetric row-major n x n matrix (copied). Eigenvectors are the columns of `vectors`. */
function jacobiEigen(input: Float64Array, n: number): { values: number[]; vectors: Float64Array } {
  const A = Float64Array.from(input);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  let norm = 0;
  for (const v of A) norm += v * v;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q] * A[p * n + q];
    if (off <= 1e-30 * norm || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (apq === 0) continue;
        // Rotation in the (p, q) plane that zeroes A[p][q]: t = tan(phi) is the smaller root of t^2 + 2 theta t - 1.
        const theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < n; r++) {
          const arp = A[r * n + p];
          const arq = A[r * n + q];
          A[r * n + p] = c * arp - s * arq;
          A[r * n + q] = s * arp + c * arq;
        }
        for (let r = 0; r < n; r++) {
          const apr = A[p * n + r];
          const aqr = A[q * n + r];
          A[p * n + r] = c * apr - s * aqr;
          A[q * n + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < n; r++) {
          const vrp = V[r * n + p];
          const vrq = V[r * n + q];
          V[r * n + p] = c * vrp - s * vrq;
          V[r * n + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j * n + j] - A[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    for (let r = 0; r < n; r++) vectors[r * n + dst] = V[r * n + src];
  });
  return { values: order.map((i) => A[i * n + i]), vectors };
}

/** Modified Gram-Schmidt on the columns of a row-major [rows, cols] matrix (twice, for float safety). */
function orthonormalColumns(m: Float64Array, rows: number, cols: number): Float64Array {
  const out = Float64Array.from(m);
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < cols; j++) {
      for (let i = 0; i < j; i++) {
        let dot = 0;
        for (let r = 0; r < rows; r++) dot += out[r * cols + i] * out[r * cols + j];
        for (let r = 0; r < rows; r++) out[r * cols + j] -= dot * out[r * cols + i];
      }
      let nrm = 0;
      for (let r = 0; r < rows; r++) nrm += out[r * cols + j] * out[r * cols + j];
      nrm = Math.sqrt(nrm);
      if (nrm < 1e-12 && pass === 0) {
        // A dependent column (rank-deficient data): replace it by a fixed pseudo-random direction, re-orthogonalise.
        const fill = new Random(7919 + j);
        for (let r = 0; r < rows; r++) out[r * cols + j] = fill.normal();
        j--;
        continue;
      }
      for (let r = 0; r < rows; r++) out[r * cols + j] /= nrm;
    }
  }
  return out;
}

/** A^T B for row-major A [rows, ca] and B [rows, cb]: the dot products of their columns, [ca, cb]. */
function columnProducts(A: Float64Array | Float32Array, B: Float64Array | Float32Array, rows: number, ca: number, cb: number): Float64Array {
  const out = new Float64Array(ca * cb);
  for (let r = 0; r < rows; r++) {
    for (let a = 0; a < ca; a++) {
      const v = A[r * ca + a];
      if (v === 0) continue;
      for (let b = 0; b < cb; b++) out[a * cb + b] += v * B[r * cb + b];
    }
  }
  return out;
}

/** Row-major [n, k] x [k, m]. */
function matMulRowMajor(a: Float64Array, b: Float64Array, n: number, k: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const v = a[i * k + t];
      if (v === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] += v * b[t * m + j];
    }
  }
  return out;
}

function transposeRowMajor(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}
