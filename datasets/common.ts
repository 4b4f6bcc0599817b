/**
 * Internal: what the MNIST-style loaders share -- finding IDX files in a folder, reading an image/label
 * pair with checked headers, selecting a split, binarising, and building the tensor.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { assertFiniteNumber, assertOneOf, assertPositiveInteger, describeValue, optionKeys } from '../lib/core/validate';
import { readIdx } from './idx';

/** A labelled image data set as genlab's loaders return it. */
export interface ImageDataset {
  /** The images, one per row: `[n, height * width]` float32 with values in [0, 1] (0 or 1 when binarised). Dispose it when done. */
  images: tf.Tensor2D;
  /** The class of each row, `n` integers in 0..9. */
  labels: Int32Array;
  /** Image size `[height, width]` (28 x 28 here), to reshape rows into pictures. */
  imageShape: [number, number];
  /** Human-readable class names, indexed by label. */
  classNames: readonly string[];
  /** Which data this is (files or package, split, sizes, seed): print it in a notebook so readers know. */
  source: string;
}

/** Options shared by {@link loadMnist} and {@link loadFashionMnist}. */
export interface ImageLoadOptions {
  /** Which part: `'train'` (default) or `'test'`. */
  split?: 'train' | 'test';
  /**
   * Binarisation: `false` (default) keeps grey levels in [0, 1]; `'threshold'` sets pixels above
   * `threshold` to 1, others to 0; `'stochastic'` samples each pixel as Bernoulli(grey level) from `seed`
   * (Salakhutdinov & Murray 2008), the same draw for the same seed.
   */
  binarize?: 'threshold' | 'stochastic' | false;
  /** Cut-off for `binarize: 'threshold'`, in [0, 1). Default 0.5. */
  threshold?: number;
  /** Keep only the first `limit` examples of the split (a positive integer). Default: all. */
  limit?: number;
  /** Seed for the split (bundled MNIST), the optional shuffle and stochastic binarisation. Default 0. */
  seed?: number;
  /** Shuffle the split's order with `seed` before `limit` (default false; the bundled MNIST split is always shuffled). */
  shuffle?: boolean;
  /** Folder holding the four IDX files (gzipped or not). Overrides the environment variable. */
  dir?: string;
}

/** Every key of {@link ImageLoadOptions} (the options of {@link loadFashionMnist}; MNIST adds its own). */
export const IMAGE_LOAD_OPTION_KEYS = optionKeys<ImageLoadOptions>({
  split: true, binarize: true, threshold: true, limit: true, seed: true, shuffle: true, dir: true,
});

/** Images and labels as bytes (before conversion to floats). */
export interface RawImages {
  /** `n * rows * cols` grey levels 0..255. */
  pixels: Uint8Array;
  /** `n` class labels. */
  labels: Uint8Array;
  /** Image height. */
  rows: number;
  /** Image width. */
  cols: number;
  /** Where they came from (for `source`). */
  origin: string;
}

/** File names tried for each part, in order (the official names, gzipped or not, and a common variant). */
export function idxCandidates(split: 'train' | 'test', kind: 'images' | 'labels'): string[] {
  const prefix = split === 'train' ? 'train' : 't10k';
  const rank = kind === 'images' ? 3 : 1;
  const base = `${prefix}-${kind}-idx${rank}-ubyte`;
  return [`${base}.gz`, base, `${prefix}-${kind}.idx${rank}-ubyte`, `${prefix}-${kind}.idx${rank}-ubyte.gz`];
}

/** The first existing candidate file in `dir`, or null. */
export function findIdxFile(dir: string, split: 'train' | 'test', kind: 'images' | 'labels'): string | null {
  for (const name of idxCandidates(split, kind)) {
    const f = path.join(dir, name);
    if (fs.existsSync(f)) return f;
  }
  return null;
}

/** True when `dir` holds both files of `split`. */
export function hasIdxPair(dir: string, split: 'train' | 'test'): boolean {
  return findIdxFile(dir, split, 'images') !== null && findIdxFile(dir, split, 'labels') !== null;
}

const rawMemo = new Map<string, RawImages>();

/** Reads and cross-checks an image file and a label file (memoised per process: later loads are instant). */
export function readIdxPair(imagesFile: string, labelsFile: string, numClasses = 10): RawImages {
  const key = `${imagesFile}\n${labelsFile}`;
  const hit = rawMemo.get(key);
  if (hit) return hit;
  // Unsigned bytes of rank 3 is magic 2051 (IDX_IMAGES_MAGIC); rank 1 is 2049 (IDX_LABELS_MAGIC).
  const img = readIdx(imagesFile, { rank: 3 });
  const lab = readIdx(labelsFile, { rank: 1 });
  if (img.shape[0] !== lab.shape[0]) {
    throw new Error(`${imagesFile} has ${img.shape[0]} images but ${labelsFile} has ${lab.shape[0]} labels`);
  }
  for (let i = 0; i < lab.data.length; i++) {
    if (lab.data[i] >= numClasses) throw new Error(`${labelsFile}: label ${lab.data[i]} at index ${i} is not in 0..${numClasses - 1}`);
  }
  const raw: RawImages = { pixels: img.data, labels: lab.data, rows: img.shape[1], cols: img.shape[2], origin: `${imagesFile}, ${labelsFile}` };
  rawMemo.set(key, raw);
  return raw;
}

/** Validated options with defaults filled in. */
export interface ResolvedOptions {
  split: 'train' | 'test';
  binarize: 'threshold' | 'stochastic' | false;
  threshold: number;
  limit: number;
  seed: number;
  shuffle: boolean;
}

/** Checks the shared options at the boundary (messages name the option and the value). */
export function resolveOptions(opts: ImageLoadOptions): ResolvedOptions {
  if (opts === null || typeof opts !== 'object') throw new TypeError(`options must be an object; got ${describeValue(opts)}`);
  const split = opts.split ?? 'train';
  assertOneOf('split', split, ['train', 'test'] as const);
  const binarize = opts.binarize ?? false;
  if (binarize !== false) assertOneOf('binarize', binarize, ['threshold', 'stochastic'] as const);
  const threshold = opts.threshold ?? 0.5;
  assertFiniteNumber('threshold', threshold, { min: 0, max: 1, exclusiveMax: true });
  if (opts.limit !== undefined) assertPositiveInteger('limit', opts.limit);
  const seed = opts.seed ?? 0;
  assertFiniteNumber('seed', seed);
  return { split, binarize, threshold, limit: opts.limit ?? Infinity, seed, shuffle: opts.shuffle ?? false };
}

/**
 * Builds the data set from the selected rows `order` of `raw`: grey levels g/255 in [0, 1], optionally
 * binarised. Randomness for 'stochastic' comes from `rng` (one uniform per pixel, row by row).
 */
export function buildDataset(
  raw: RawImages,
  order: Int32Array,
  o: ResolvedOptions,
  rng: Random,
  classNames: readonly string[],
  source: string,
): ImageDataset {
  const d = raw.rows * raw.cols;
  const n = order.length;
  const out = new Float32Array(n * d);
  const labels = new Int32Array(n);
  const cut = o.threshold * 255; // pixel g/255 > threshold  <=>  g > threshold * 255
  const mode = o.binarize;
  for (let r = 0; r < n; r++) {
    const row = raw.pixels.subarray(order[r] * d, order[r] * d + d);
    labels[r] = raw.labels[order[r]];
    const dst = out.subarray(r * d, r * d + d);
    if (mode === 'threshold') for (let j = 0; j < d; j++) dst[j] = row[j] > cut ? 1 : 0;
    else if (mode === 'stochastic') for (let j = 0; j < d; j++) dst[j] = rng.next() * 255 < row[j] ? 1 : 0; // P(1) = g/255
    else for (let j = 0; j < d; j++) dst[j] = row[j] / 255;
  }
  const bin = o.binarize ? `, binarised (${o.binarize === 'threshold' ? `threshold ${o.threshold}` : `stochastic, seed ${o.seed}`})` : '';
  return {
    images: tf.tensor2d(out, [n, d], 'float32'),
    labels,
    imageShape: [raw.rows, raw.cols],
    classNames,
    source: `${source}${bin}`,
  };
}

/** Indices 0..n-1, shuffled by `rng` when asked, cut to `limit`. */
export function selectRows(n: number, shuffle: boolean, rng: Random, limit: number): Int32Array {
  let idx: Int32Array;
  if (shuffle) idx = rng.permutation(n);
  else {
    idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
  }
  return idx.length > limit ? idx.slice(0, limit) : idx;
}
