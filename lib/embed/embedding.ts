/**
 * 2-D maps of high-dimensional points (autoencoder codes, images) for plotting: UMAP (umap-js), t-SNE (exact,
 * here) and PCA (the exact {@link pca} of lib/autoencoder/pca.ts). All three are seeded, so a map reproduces.
 *
 * Why a folder of its own: an embedding is a computation on data (it returns coordinates), not a rendering, so it
 * does not belong to lib/display (which draws and must stay free of model code), and it serves every model family
 * (autoencoder codes, VAE latents, RBM hidden activations), so it does not belong to lib/autoencoder either.
 */
import { UMAP } from 'umap-js';
import { tf } from '../engine/backend';
import { Random } from '../engine/random';
import { pca } from '../autoencoder/pca';
import { assertFiniteNumber, assertKnownOptions, assertOneOf, assertPositiveInteger, assertPositiveNumber, describeValue, optionKeys } from '../core/validate';

/** Options for {@link embedding}. */
export interface EmbeddingOptions {
  /**
   * `'umap'` (McInnes et al. 2018, via the umap-js package), `'tsne'` (van der Maaten & Hinton 2008, exact
   * O(n^2) gradient: keep n below a few thousand) or `'pca'` (the top two principal components). Default `'umap'`.
   */
  method?: 'umap' | 'tsne' | 'pca';
  /** Seed of the random initialisation and of UMAP's negative sampling. Default 0. */
  seed?: number;
  /** UMAP: neighbours of the k-NN graph, integer >= 2 (< n). Default 15 (umap-learn's). */
  nNeighbors?: number;
  /** UMAP: minimum distance of points in the map, >= 0. Default 0.1 (umap-learn's). */
  minDist?: number;
  /** t-SNE: perplexity (effective number of neighbours), > 0 and < n. Default min(30, (n - 1) / 3). */
  perplexity?: number;
  /** Optimisation epochs (UMAP) or gradient iterations (t-SNE). Default: umap-js's choice (200 for n > 10000, else 500); t-SNE 500. */
  iterations?: number;
}

const EMBEDDING_OPTION_KEYS = optionKeys<EmbeddingOptions>({
  method: true, seed: true, nNeighbors: true, minDist: true, perplexity: true, iterations: true,
});

/**
 * 2-D coordinates `[n][2]` of `points` `[n][d]` (n >= 3), by UMAP, t-SNE or PCA. Deterministic for a given `seed`.
 *
 * @example
 * const codes = ae.encode(x); const map = embedding(await codes.array(), { method: 'umap', seed: 0 }); codes.dispose();
 */
export function embedding(points: number[][], opts: EmbeddingOptions = {}): number[][] {
  assertKnownOptions('embedding', opts, EMBEDDING_OPTION_KEYS);
  const method = opts.method ?? 'umap';
  assertOneOf('method', method, ['umap', 'tsne', 'pca'] as const);
  const seed = opts.seed ?? 0;
  assertFiniteNumber('seed', seed);
  if (!Array.isArray(points) || points.length < 3) throw new RangeError(`points must be a number[][] with at least 3 rows; got ${describeValue(points)}`);
  const d = Array.isArray(points[0]) ? points[0].length : 0;
  points.forEach((p, i) => {
    if (!Array.isArray(p) || p.length !== d || d === 0) throw new RangeError(`points[${i}] must be a number[] of length ${d || '>= 1'}; got ${describeValue(p)}`);
    p.forEach((v, j) => {
      if (!Number.isFinite(v)) throw new RangeError(`points[${i}][${j}] must be finite; got ${describeValue(v)}`);
    });
  });
  const n = points.length;
  if (opts.iterations !== undefined) assertPositiveInteger('iterations', opts.iterations);
  if (method === 'pca') return pcaMap(points, seed);
  if (method === 'tsne') {
    const perplexity = opts.perplexity ?? Math.min(30, (n - 1) / 3);
    assertPositiveNumber('perplexity', perplexity);
    if (perplexity >= n) throw new RangeError(`perplexity must be below the number of points ${n}; got ${perplexity}`);
    return tsne(points, perplexity, opts.iterations ?? 500, new Random(seed));
  }
  const nNeighbors = opts.nNeighbors ?? Math.min(15, n - 1);
  assertPositiveInteger('nNeighbors', nNeighbors);
  if (nNeighbors < 2 || nNeighbors >= n) throw new RangeError(`nNeighbors must be in [2, ${n - 1}]; got ${nNeighbors}`);
  const minDist = opts.minDist ?? 0.1;
  if (typeof minDist !== 'number' || !(minDist >= 0)) throw new RangeError(`minDist must be a number >= 0; got ${describeValue(minDist)}`);
  // umap-js draws every random number (initialisation, NN-descent, negative sampling) through `random`: genlab's
  // seeded generator makes the map reproducible (umap-js's default is Math.random).
  const rng = new Random(seed);
  const umap = new UMAP({ nComponents: 2, nNeighbors, minDist, nEpochs: opts.iterations, random: () => rng.next() });
  return umap.fit(points);
}

/** The codes on the top two principal components. */
function pcaMap(points: number[][], seed: number): number[][] {
  const x = tf.tensor2d(points);
  const k = Math.min(2, points[0].length);
  const p = pca(x, k, { seed });
  try {
    const codes = p.project(x);
    const out = codes.arraySync();
    codes.dispose();
    return k === 2 ? out : out.map((r) => [r[0], 0]);
  } finally {
    p.dispose();
    x.dispose();
  }
}

/**
 * Exact t-SNE. Input affinities p_{j|i} = exp(-|x_i - x_j|^2 beta_i) / sum_k ..., beta_i set by bisection so that
 * the entropy is log(perplexity); P = (p_{j|i} + p_{i|j}) / 2n. Map affinities q_ij = (1 + |y_i - y_j|^2)^-1 / Z.
 * Gradient dC/dy_i = 4 sum_j (p_ij - q_ij)(y_i - y_j)(1 + |y_i - y_j|^2)^-1, descended with momentum 0.5 then 0.8,
 * gains (delta-bar-delta) and early exaggeration x12 for the first 100 iterations (the reference implementation's
 * schedule, shortened); initial map N(0, 1e-4 I).
 */
function tsne(points: number[][], perplexity: number, iterations: number, rng: Random): number[][] {
  const n = points.length;
  const d = points[0].length;
  const D = new Float64Array(n * n); // squared distances
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) {
        const e = points[i][t] - points[j][t];
        s += e * e;
      }
      D[i * n + j] = D[j * n + i] = s;
    }
  }
  const P = new Float64Array(n * n);
  const target = Math.log(perplexity);
  for (let i = 0; i < n; i++) {
    let lo = 0;
    let hi = Infinity;
    let beta = 1;
    for (let it = 0; it < 64; it++) {
      let sum = 0;
      let sumDP = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const p = Math.exp(-D[i * n + j] * beta);
        P[i * n + j] = p;
        sum += p;
        sumDP += D[i * n + j] * p;
      }
      if (sum === 0) sum = 1e-300;
      const H = Math.log(sum) + (beta * sumDP) / sum; // entropy of p_{.|i}
      for (let j = 0; j < n; j++) P[i * n + j] /= sum;
      if (Math.abs(H - target) < 1e-5) break;
      if (H > target) {
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = (beta + lo) / 2;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const p = Math.max((P[i * n + j] + P[j * n + i]) / (2 * n), 1e-12);
      P[i * n + j] = P[j * n + i] = p;
    }
  }
  const Y = Float64Array.from({ length: n * 2 }, () => 1e-2 * rng.normal());
  const vel = new Float64Array(n * 2);
  const gains = new Float64Array(n * 2).fill(1);
  const W = new Float64Array(n * n);
  const grad = new Float64Array(n * 2);
  const learningRate = Math.max(n / 12, 50);
  for (let it = 0; it < iterations; it++) {
    const exaggeration = it < 100 ? 12 : 1;
    const momentum = it < 100 ? 0.5 : 0.8;
    let Z = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const dx = Y[2 * i] - Y[2 * j];
        const dy = Y[2 * i + 1] - Y[2 * j + 1];
        const w = 1 / (1 + dx * dx + dy * dy);
        W[i * n + j] = W[j * n + i] = w;
        Z += 2 * w;
      }
    }
    grad.fill(0);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const w = W[i * n + j];
        const c = 4 * (exaggeration * P[i * n + j] - w / Z) * w;
        grad[2 * i] += c * (Y[2 * i] - Y[2 * j]);
        grad[2 * i + 1] += c * (Y[2 * i + 1] - Y[2 * j + 1]);
      }
    }
    for (let k = 0; k < 2 * n; k++) {
      gains[k] = Math.sign(grad[k]) !== Math.sign(vel[k]) ? gains[k] + 0.2 : Math.max(gains[k] * 0.8, 0.01);
      vel[k] = momentum * vel[k] - learningRate * gains[k] * grad[k];
      Y[k] += vel[k];
    }
    // Keep the map centred.
    for (let a = 0; a < 2; a++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += Y[2 * i + a];
      m /= n;
      for (let i = 0; i < n; i++) Y[2 * i + a] -= m;
    }
  }
  return Array.from({ length: n }, (_, i) => [Y[2 * i], Y[2 * i + 1]]);
}
