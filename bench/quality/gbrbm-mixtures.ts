/**
 * Mixtures of separated 2-D Gaussian clusters and the exact mass a Gaussian-Bernoulli RBM puts on each (issue #25
 * item 7): shared by the quality check against PyTorch (gbrbm.ts) and test/rbm-gaussian-mass.test.ts.
 *
 * A mixture is K equal clusters of standard deviation `std` with centres drawn uniformly in [-1, 1]^2 at least
 * `minDistance` apart (rejection), all fixed by one seed; the model sees the points standardised per coordinate.
 * The RBM's marginal p(v) = exp(-F(v)) / Z has a closed-form free energy and, for a few hidden units, an exact log Z,
 * so the mass in any region is a 2-D integral: a Riemann sum on a fine grid (step 0.02 in standardised units, about
 * a tenth of a cluster's width) over [-4, 4]^2, where the data lie within about +-2.5.
 */
import { tf } from '../../lib/engine/backend';
import { Random } from '../../lib/engine/random';
import type { GaussianBernoulliRBM } from '../../lib/rbm/gaussian';

/** One generated mixture: its truth, the standardised training points and the standardisation. */
export interface ClusterMixture {
  /** The seed that drew it. */
  seed: number;
  /** Cluster centres in raw units, [K][2]. */
  centres: number[][];
  /** Standard deviation of every cluster, raw units. */
  std: number;
  /** Training points standardised per coordinate, [n][2]. */
  train: number[][];
  /** Per-coordinate mean and standard deviation of the raw training points (standardised = (raw - mu) / sd). */
  mu: number[];
  sd: number[];
}

/** The mixtures' shape: 4 clusters of std 0.12, centres at least 0.8 (6.7 std) apart, 1000 points. */
export const MIXTURE_DEFAULTS = { clusters: 4, std: 0.12, minDistance: 0.8, n: 1000 } as const;

/** The K-cluster mixture drawn by `seed` (see the module doc). */
export function clusterMixture(seed: number, opts: Partial<typeof MIXTURE_DEFAULTS> = {}): ClusterMixture {
  const { clusters, std, minDistance, n } = { ...MIXTURE_DEFAULTS, ...opts };
  const r = new Random(seed);
  const centres: number[][] = [];
  while (centres.length < clusters) {
    const c = [2 * r.next() - 1, 2 * r.next() - 1];
    if (centres.every((d) => Math.hypot(c[0] - d[0], c[1] - d[1]) >= minDistance)) centres.push(c);
  }
  const raw = Array.from({ length: n }, () => {
    const [cx, cy] = centres[r.int(clusters)];
    return [cx + std * r.normal(), cy + std * r.normal()];
  });
  const mu = [0, 1].map((d) => raw.reduce((s, p) => s + p[d], 0) / n);
  const sd = [0, 1].map((d) => Math.sqrt(raw.reduce((s, p) => s + (p[d] - mu[d]) ** 2, 0) / n));
  return { seed, centres, std, train: raw.map((p) => p.map((x, d) => (x - mu[d]) / sd[d])), mu, sd };
}

/** The integration grid in standardised units: `n` points per axis from `lo` with spacing `step`. */
export const MASS_GRID = { lo: -4, step: 0.02, n: 401 } as const;

/** Disc radius around each centre, in cluster standard deviations: a 2-D Gaussian has 1 - e^{-9/2} = 98.9 % inside. */
export const DISC_RADIUS = 3;

/** Exact mass of the model per cluster (disc of DISC_RADIUS std around its centre) and away from every cluster. */
export interface ClusterMass {
  /** Mass inside each cluster's disc, [K]; the truth is (1 - e^{-9/2}) / K each. */
  shares: number[];
  /** 1 - sum(shares): mass away from every cluster (the truth: e^{-9/2} = 0.011). */
  away: number;
  /** The grid's sum of p(v): about 1 (a check of log Z and of the grid's extent). */
  total: number;
}

/** The mass `rbm` puts on each cluster of `m`, by quadrature of exp(-F(v) - log Z) on {@link MASS_GRID}. */
export function clusterMass(rbm: GaussianBernoulliRBM, m: ClusterMixture): ClusterMass {
  const { lo, step, n } = MASS_GRID;
  const axis = Array.from({ length: n }, (_, i) => lo + i * step);
  const logZ = rbm.logPartition();
  const shares = m.centres.map(() => 0);
  let total = 0;
  const rows = 50; // grid rows per tensor
  for (let r0 = 0; r0 < n; r0 += rows) {
    const pts = axis.slice(r0, r0 + rows).flatMap((y) => axis.map((x) => [x, y]));
    const p = tf.tidy(() => tf.exp(tf.sub(tf.neg(rbm.freeEnergy(tf.tensor2d(pts))), logZ)).dataSync());
    pts.forEach(([x, y], i) => {
      const w = p[i] * step * step;
      total += w;
      const [rx, ry] = [m.mu[0] + m.sd[0] * x, m.mu[1] + m.sd[1] * y]; // raw units
      const k = m.centres.findIndex(([cx, cy]) => Math.hypot(rx - cx, ry - cy) < DISC_RADIUS * m.std);
      if (k >= 0) shares[k] += w;
    });
  }
  return { shares, away: 1 - shares.reduce((s, x) => s + x, 0), total };
}
