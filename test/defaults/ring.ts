/**
 * The defaults check of issue #27, shared by test/defaults.test.ts and bench/quality/defaults.ts: a family built with
 * nothing but `dataShape` and `seed`, trained with its default epochs on the 8-Gaussian ring, and scored by its
 * samples. One {@link DefaultsCase} per family (cases.ts).
 */
import { tf } from '../../lib/engine/backend';
import { energyDistance, fittedGaussian, modeCoverage, type PointSet } from '../../lib/metrics';
import { correlatedGaussian, gaussianRing, gaussianRingModes } from '../../datasets/synthetic';

/** What the check calls on a model. */
export interface DefaultsModel {
  fit(x: tf.Tensor, opts?: Record<string, unknown>): Promise<Record<string, number[]>>;
  sample(n: number, opts?: { seed?: number }): Promise<tf.Tensor>;
  describe(): string;
  dispose(): void;
}

/** A family in the check: how to build it from `dataShape` and `seed` alone (`options` only for experiments). */
export interface DefaultsCase {
  /** The family's class name. */
  name: string;
  build(dataShape: number[], seed: number, options?: Record<string, unknown>): DefaultsModel;
  /** The default epochs on the ring's 8000 points, where the family derives them from a budget of steps. */
  epochsOn8000?: number;
}

/** The 2-D showcase sets of datasets/synthetic.ts: training (seed) and held-out (seed 100 + seed) draws. */
export const DATA_SETS: Record<string, (n: number, seed: number) => tf.Tensor2D> = {
  ring: (n, seed) => gaussianRing({ n, seed }),
  correlatedGaussian: (n, seed) => correlatedGaussian({ n, rho: 0.8, seed }),
};

/** Training points of the ring (the 8000), samples scored, held-out ring points the samples are compared with. */
export const RING = { n: 8000, samples: 2000, heldOut: 2000 } as const;

/** How samples score on the ring ({@link scoreRing}). */
export interface RingFigures {
  /** Modes with >= 20 of the samples within 0.06 (3 std) of them (`modeCoverage`). */
  covered: number;
  /** Share of the samples within 0.06 of some mode. */
  fractionNear: number;
  /** Samples within 0.06 of each mode. */
  counts: number[];
  /** Energy distance of the samples to the held-out ring points. */
  energyDistance: number;
  /** The same for as many draws from a single Gaussian fitted to the training points (the baseline). */
  gaussianEnergyDistance: number;
}

/** One trained model's figures. */
export interface RingScore extends RingFigures {
  family: string;
  seed: number;
  /** Epochs the fit ran (the default unless `fit` said otherwise). */
  epochs: number;
  /** Wall and CPU (user + system of the process) seconds of `fit`, and of `sample`. */
  fitSeconds: number;
  fitCpuSeconds: number;
  sampleSeconds: number;
  describe: string;
}

/**
 * Scores `samples` `[m, 2]` of a model trained on the ring points `train` of `seed`: mode coverage, and the energy
 * distance to held-out ring points (seed 100 + seed) against that of a Gaussian fitted to `train` (draws of seed 200 + seed).
 */
export function scoreRing(samples: PointSet, train: PointSet, seed: number): RingFigures {
  const held = gaussianRing({ n: RING.heldOut, seed: 100 + seed });
  try {
    const c = modeCoverage(samples, gaussianRingModes());
    return {
      covered: c.covered,
      fractionNear: c.fractionNear,
      counts: c.counts,
      energyDistance: energyDistance(samples, held),
      gaussianEnergyDistance: energyDistance(fittedGaussian(train, RING.heldOut, 200 + seed), held),
    };
  } finally {
    held.dispose();
  }
}

/**
 * Builds `family` with `dataShape: [2]` and `seed`, fits it on `gaussianRing({ n, seed })` with `fit` (default: none
 * but `progress: false`), samples `RING.samples` points (seed 1000 + seed) and scores them.
 * `onEpoch(epoch, model, train)` runs after every epoch (experiments: intermediate scores).
 */
export async function ringCheck(
  family: DefaultsCase,
  seed: number,
  opts: { n?: number; options?: Record<string, unknown>; fit?: Record<string, unknown>; onEpoch?: (epoch: number, model: DefaultsModel, train: tf.Tensor) => Promise<void> } = {},
): Promise<RingScore> {
  const x = gaussianRing({ n: opts.n ?? RING.n, seed });
  const model = family.build([2], seed, opts.options);
  try {
    const c0 = process.cpuUsage();
    const t0 = Date.now();
    const onEpoch = opts.onEpoch;
    const history = await model.fit(x, { progress: false, ...opts.fit, ...(onEpoch ? { onEpoch: (epoch: number) => onEpoch(epoch, model, x) } : {}) });
    const c = process.cpuUsage(c0);
    const fitSeconds = (Date.now() - t0) / 1000;
    const t1 = Date.now();
    const s = await model.sample(RING.samples, { seed: 1000 + seed });
    const sampleSeconds = (Date.now() - t1) / 1000;
    try {
      return {
        family: family.name, seed, epochs: history.epoch.length, ...scoreRing(s, x, seed),
        fitSeconds, fitCpuSeconds: (c.user + c.system) / 1e6, sampleSeconds, describe: model.describe(),
      };
    } finally {
      s.dispose();
    }
  } finally {
    model.dispose();
    x.dispose();
  }
}

/**
 * As {@link ringCheck} on any of {@link DATA_SETS} (experiments): the energy distance of the samples, of a fitted
 * Gaussian's draws and of other real points (`real`, seed 300 + seed) to held-out points, the samples' correlation of
 * the two coordinates and their mean; mode coverage on the ring.
 */
export async function dataCheck(
  family: DefaultsCase,
  data: string,
  seed: number,
  opts: { n?: number; options?: Record<string, unknown>; fit?: Record<string, unknown> } = {},
): Promise<{ energyDistance: number; gaussianEnergyDistance: number; realEnergyDistance: number; correlation: number; mean: number[]; covered?: number; fractionNear?: number; fitCpuSeconds: number; epochs: number; describe: string }> {
  const make = DATA_SETS[data];
  const x = make(opts.n ?? RING.n, seed);
  const held = make(RING.heldOut, 100 + seed);
  const real = make(RING.samples, 300 + seed);
  const model = family.build([2], seed, opts.options);
  try {
    const c0 = process.cpuUsage();
    const history = await model.fit(x, { progress: false, ...opts.fit });
    const c = process.cpuUsage(c0);
    const s = await model.sample(RING.samples, { seed: 1000 + seed });
    const cov = data === 'ring' ? modeCoverage(s, gaussianRingModes()) : undefined;
    const out = {
      energyDistance: energyDistance(s, held),
      gaussianEnergyDistance: energyDistance(fittedGaussian(x, RING.heldOut, 200 + seed), held),
      realEnergyDistance: energyDistance(real, held),
      correlation: correlation(s),
      mean: Array.from(tf.tidy(() => s.mean(0).dataSync())),
      covered: cov?.covered,
      fractionNear: cov?.fractionNear,
      fitCpuSeconds: (c.user + c.system) / 1e6,
      epochs: history.epoch.length,
      describe: model.describe(),
    };
    s.dispose();
    return out;
  } finally {
    model.dispose();
    tf.dispose([x, held, real]);
  }
}

/** The correlation of the two coordinates of points `[m, 2]`. */
export function correlation(points: tf.Tensor): number {
  const a = points.dataSync();
  const m = a.length / 2;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < m; i++) {
    mx += a[2 * i] / m;
    my += a[2 * i + 1] / m;
  }
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < m; i++) {
    const u = a[2 * i] - mx;
    const v = a[2 * i + 1] - my;
    sxx += u * u;
    syy += v * v;
    sxy += u * v;
  }
  return sxy / Math.sqrt(sxx * syy);
}
