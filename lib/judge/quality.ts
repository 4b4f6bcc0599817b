/**
 * How good are generated digits? The digit judge (a {@link DigitClassifier}, by default genlab's pretrained
 * `'digit-classifier'`) reads them and reports
 *
 * - **recognised**: the fraction it classifies with confidence max_c p(c | x) >= 0.9 -- a digit a reader would name;
 * - **classes**: how many of the 10 classes the recognised digits cover, and the largest class's share of all
 *   samples (0.1 for a balanced sample, 1 for a model that draws one digit only: mode collapse);
 * - **FID**: the Frechet distance between Gaussians fitted to the judge's penultimate features of the samples and of
 *   held-out real digits ("FID on MNIST" as papers report it, with a digit classifier in place of Inception), with a
 *   bootstrap error bar.
 *
 * A FID means little alone: it depends on the feature extractor and falls as the number of samples grows. So it is
 * printed beside two baselines computed the same way, with the same sizes ({@link digitQualityTable}): real digits
 * (a held-out half against the other half: the floor a perfect model reaches) and independent pixels (each pixel
 * drawn from the real digits' marginal: right pixel statistics, no strokes -- the model a generator must beat).
 */
import { ready, tf } from '../engine/backend';
import { Random } from '../engine/random';
import { assertFiniteNumber, assertKnownOptions, assertPositiveInteger, describeValue, optionKeys } from '../core/validate';
import { flattenData, FlatData } from '../core/data';
import { independentPixels } from '../metrics/samples';
import { pretrained } from '../pretrained/registry';
import { DigitClassifier } from './classifier';
import { fitGaussian, FrechetReference } from './frechet';

/** Options of {@link digitQuality}. */
export interface DigitQualityOptions {
  /**
   * Held-out real digits, `[m, 784]` or `[m, 28, 28, 1]` in [0, 1], never used to train the model judged (e.g.
   * `(await loadMnist({ split: 'test' })).images`, the 2000 digits the judge was not trained on either).
   */
  reference: tf.Tensor;
  /** The judge. Default: `await pretrained('digit-classifier')`, loaded for the call and freed after it. */
  judge?: DigitClassifier;
  /** The confidence a digit needs to count as recognised, in (0, 1]. Default 0.9. */
  confidence?: number;
  /** Bootstrap resamples of the samples behind `fidStd`, integer >= 2. Default 10. */
  bootstrap?: number;
  /** Seed of the bootstrap (and of the table's split and independent pixels). Default 0. */
  seed?: number;
}

const QUALITY_KEYS = optionKeys<DigitQualityOptions>({ reference: true, judge: true, confidence: true, bootstrap: true, seed: true });

/** What {@link digitQuality} reports. */
export interface DigitQuality {
  /** Samples judged. */
  n: number;
  /** Fraction of the samples the judge classifies with confidence >= `confidence` (0.9). */
  recognised: number;
  /** Classes (of 10) that at least one recognised sample is classified as. */
  classesPresent: number;
  /** The largest class's share of all samples (each sample counted in its most probable class): 0.1 when balanced. */
  largestClassShare: number;
  /** Samples per class (most probable class), `[10]`. */
  classCounts: number[];
  /** Squared Frechet distance of the judge's penultimate features of the samples to those of `reference`. */
  fid: number;
  /**
   * Standard deviation of `fid` over bootstrap resamples (with replacement, same size) of the samples against the
   * fixed reference: how much the figure moves with another draw of as many samples. It does not include the
   * reference's own noise, nor FID's bias at finite n (FID falls as n grows: compare rows of equal n only).
   */
  fidStd: number;
  /** Real digits in the reference. */
  referenceSize: number;
}

/** One row of {@link digitQualityTable}: a {@link DigitQuality} with the row's name first. */
export interface DigitQualityRow extends DigitQuality {
  /** `'model'` (or the `label` given), `'real digits'`, `'independent pixels'`. */
  row: string;
}

/** Options of {@link digitQualityTable}. */
export interface DigitQualityTableOptions extends DigitQualityOptions {
  /** Name of the model's row. Default `'model'`. */
  label?: string;
}

const TABLE_KEYS = optionKeys<DigitQualityTableOptions>({ reference: true, judge: true, confidence: true, bootstrap: true, seed: true, label: true });

const DEFAULTS = { confidence: 0.9, bootstrap: 10, seed: 0 } as const;

/** The resolved options and the judge (loaded when not given; `owned` then). */
interface Judging {
  judge: DigitClassifier;
  owned: boolean;
  confidence: number;
  bootstrap: number;
  seed: number;
}

async function resolve(caller: string, opts: DigitQualityOptions): Promise<Judging> {
  if (opts === null || typeof opts !== 'object') throw new TypeError(`${caller} needs options { reference }; got ${describeValue(opts)}`);
  if (!(opts.reference instanceof tf.Tensor)) throw new TypeError(`reference must be a tf.Tensor of held-out real digits; got ${describeValue(opts.reference)}`);
  const confidence = opts.confidence ?? DEFAULTS.confidence;
  assertFiniteNumber('confidence', confidence, { min: 0, max: 1, exclusiveMin: true });
  const bootstrap = opts.bootstrap ?? DEFAULTS.bootstrap;
  assertPositiveInteger('bootstrap', bootstrap);
  if (bootstrap < 2) throw new RangeError(`bootstrap must be at least 2; got ${bootstrap}`);
  const seed = opts.seed ?? DEFAULTS.seed;
  assertFiniteNumber('seed', seed);
  if (opts.judge !== undefined && !(opts.judge instanceof DigitClassifier)) {
    throw new TypeError(`judge must be a DigitClassifier; got ${describeValue(opts.judge)}`);
  }
  await ready();
  const judge = opts.judge ?? (await pretrained('digit-classifier'));
  return { judge, owned: opts.judge === undefined, confidence, bootstrap, seed };
}

/** Checks digits (shape, finite, in [0, 1]) for the judge and returns them flat. */
function digits(name: string, x: unknown, judge: DigitClassifier): FlatData {
  return flattenData(name, x, judge.dataShape, {
    finite: true,
    range: [0, 1],
    rangeHint: 'the judge reads pixel intensities in [0, 1]: rescale the samples (e.g. from [-1, 1]), or clip them with tf.clipByValue(x, 0, 1)',
  });
}

/** The judge's features of flat digits as one Float32Array `[n * H]`. */
function featureValues(judge: DigitClassifier, x: tf.Tensor2D): Float32Array {
  const f = judge.features(x);
  const values = f.dataSync() as Float32Array;
  f.dispose();
  return values;
}

/** Recognition, classes and FID of flat digits `x` against a fitted reference. */
function judgeDigits(j: Judging, x: tf.Tensor2D, reference: FrechetReference, referenceSize: number, seed: number): DigitQuality {
  const n = x.shape[0];
  if (n < 2) throw new RangeError(`samples must hold at least 2 digits (a covariance needs 2); got ${n}`);
  const probs = j.judge.predict(x);
  const p = probs.dataSync();
  probs.dispose();
  const C = j.judge.classes;
  const classCounts = new Array<number>(C).fill(0);
  const recognisedIn = new Set<number>();
  let recognised = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (p[i * C + c] > p[i * C + best]) best = c;
    classCounts[best]++;
    if (p[i * C + best] >= j.confidence) {
      recognised++;
      recognisedIn.add(best);
    }
  }
  const H = j.judge.featureUnits;
  const f = featureValues(j.judge, x);
  const fid = reference.distanceTo(fitGaussian(f, H));
  // bootstrap: resample the n samples with replacement, refit, measure again
  const rng = new Random(seed);
  const fids: number[] = [];
  for (let b = 0; b < j.bootstrap; b++) {
    const rows = Int32Array.from({ length: n }, () => rng.int(n));
    fids.push(reference.distanceTo(fitGaussian(f, H, rows)));
  }
  const mean = fids.reduce((s, v) => s + v, 0) / fids.length;
  const fidStd = Math.sqrt(fids.reduce((s, v) => s + (v - mean) ** 2, 0) / (fids.length - 1));
  return {
    n,
    recognised: recognised / n,
    classesPresent: recognisedIn.size,
    largestClassShare: Math.max(...classCounts) / n,
    classCounts,
    fid,
    fidStd,
    referenceSize,
  };
}

/** The Gaussian of the judge's features of flat reference digits. */
function referenceFit(j: Judging, ref: tf.Tensor2D): FrechetReference {
  if (ref.shape[0] < 2) throw new RangeError(`reference must hold at least 2 digits; got ${ref.shape[0]}`);
  return new FrechetReference(fitGaussian(featureValues(j.judge, ref), j.judge.featureUnits));
}

/**
 * Judges generated digits (see the module comment): the fraction recognised with confidence >= 0.9, the classes
 * present and the largest class's share, and the FID of the judge's features to `reference` with a bootstrap error
 * bar. Print it beside its baselines with {@link digitQualityTable}.
 *
 * ```ts
 * const test = await loadMnist({ split: 'test' });
 * const q = await digitQuality(await vae.sample(1000), { reference: test.images });
 * ```
 * @param samples Generated digits `[n, 784]` or `[n, 28, 28, 1]`, values in [0, 1], n >= 2 (1000 or more for a
 *   stable FID: the covariance has 128 x 128 entries). Read, not disposed.
 */
export async function digitQuality(samples: tf.Tensor, opts: DigitQualityOptions): Promise<DigitQuality> {
  assertKnownOptions('digitQuality', opts, QUALITY_KEYS);
  const j = await resolve('digitQuality', opts);
  const held: FlatData[] = [];
  try {
    const x = digits('samples', samples, j.judge);
    held.push(x);
    const ref = digits('reference', opts.reference, j.judge);
    held.push(ref);
    return judgeDigits(j, x.x, referenceFit(j, ref.x), ref.x.shape[0], j.seed);
  } finally {
    for (const d of held) if (d.owned) d.x.dispose();
    if (j.owned) j.judge.dispose();
  }
}

/**
 * {@link digitQuality} of the samples beside its two baselines, all measured alike: the reference is split at random
 * (seeded) into halves A and B; every row is judged against A with the same number of digits, size = min(n, |B|):
 *
 * | row | digits judged |
 * | --- | --- |
 * | `model` (or `label`) | the first `size` samples |
 * | `real digits` | `size` digits of B: the floor a perfect model would reach |
 * | `independent pixels` | `size` draws whose every pixel comes from a random digit of B (`independentPixels`) |
 *
 * A model is good when its row is near the real digits and far below independent pixels. Show it with
 * `table(rows)`.
 * @param samples Generated digits `[n, 784]` or `[n, 28, 28, 1]` in [0, 1]. Read, not disposed.
 */
export async function digitQualityTable(samples: tf.Tensor, opts: DigitQualityTableOptions): Promise<DigitQualityRow[]> {
  assertKnownOptions('digitQualityTable', opts, TABLE_KEYS);
  const j = await resolve('digitQualityTable', opts);
  const label = opts.label ?? 'model';
  const held: FlatData[] = [];
  try {
    if (typeof label !== 'string') throw new TypeError(`label must be a string; got ${describeValue(label)}`);
    const x = digits('samples', samples, j.judge);
    held.push(x);
    const ref = digits('reference', opts.reference, j.judge);
    held.push(ref);
    return tableRows(j, ref.x, { x: x.x, label });
  } finally {
    for (const d of held) if (d.owned) d.x.dispose();
    if (j.owned) j.judge.dispose();
  }
}

/**
 * Internal (the judge's recipe records them): the two baseline rows of {@link digitQualityTable} alone, with all of
 * half B, `[real digits, independent pixels]`.
 */
export async function digitQualityBaselines(opts: DigitQualityOptions): Promise<DigitQualityRow[]> {
  assertKnownOptions('digitQualityBaselines', opts, QUALITY_KEYS);
  const j = await resolve('digitQualityBaselines', opts);
  let ref: FlatData | null = null;
  try {
    ref = digits('reference', opts.reference, j.judge);
    return tableRows(j, ref.x, null);
  } finally {
    if (ref?.owned) ref.x.dispose();
    if (j.owned) j.judge.dispose();
  }
}

/** The rows of {@link digitQualityTable} (the model's first when given) for flat reference digits `ref`. */
function tableRows(j: Judging, ref: tf.Tensor2D, model: { x: tf.Tensor2D; label: string } | null): DigitQualityRow[] {
  const m = ref.shape[0];
  if (m < 4) throw new RangeError(`reference must hold at least 4 digits (two halves of 2); got ${m}`);
  const made: tf.Tensor[] = [];
  try {
    const order = new Random(j.seed).permutation(m);
    const half = Math.floor(m / 2);
    const a = tf.tidy(() => tf.gather(ref, tf.tensor1d(order.slice(0, half), 'int32')) as tf.Tensor2D); //   half A [m/2, D]
    const b = tf.tidy(() => tf.gather(ref, tf.tensor1d(order.slice(half), 'int32')) as tf.Tensor2D); //       half B
    made.push(a, b);
    const size = Math.min(model?.x.shape[0] ?? Infinity, b.shape[0]);
    const D = ref.shape[1];
    const real = b.slice([0, 0], [size, D]);
    const pixels = tf.tensor2d(independentPixels(b, size, j.seed + 1));
    made.push(real, pixels);
    const fitA = referenceFit(j, a);
    const rows: DigitQualityRow[] = [];
    if (model) {
      const x = model.x.slice([0, 0], [size, D]);
      made.push(x);
      rows.push({ row: model.label, ...judgeDigits(j, x, fitA, half, j.seed) });
    }
    rows.push({ row: 'real digits', ...judgeDigits(j, real, fitA, half, j.seed) });
    rows.push({ row: 'independent pixels', ...judgeDigits(j, pixels, fitA, half, j.seed) });
    return rows;
  } finally {
    tf.dispose(made);
  }
}
