/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, Zalando Research): 70 000 28x28 grey images of clothing in 10
 * classes, a drop-in replacement for MNIST. Read from IDX files in a folder: `opts.dir`, else
 * `$GENLAB_FASHION_MNIST_DIR`, else Debian's package location `/usr/share/datasets/fashion-mnist`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ready } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { assertKnownOptions } from '../lib/core/validate';
import { buildDataset, findIdxFile, IMAGE_LOAD_OPTION_KEYS, idxCandidates, ImageDataset, ImageLoadOptions, readIdxPair, resolveOptions, selectRows } from './common';

/** Class names of Fashion-MNIST, indexed by label 0..9. */
export const FASHION_MNIST_LABELS: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

/** Environment variable naming a folder with the four Fashion-MNIST IDX files. */
export const FASHION_MNIST_DIR_ENV = 'GENLAB_FASHION_MNIST_DIR';

/** Where Debian's `dataset-fashion-mnist` package installs the files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Options for {@link loadFashionMnist}: the shared loader options (`split` train = 60 000, test = 10 000). */
export type FashionMnistOptions = ImageLoadOptions;

/**
 * Loads Fashion-MNIST as `{ images: [n, 784] float32 in [0, 1], labels: Int32Array }` (same shape as
 * {@link loadMnist}). Throws an error explaining how to install the files when they are absent.
 */
export async function loadFashionMnist(opts: FashionMnistOptions = {}): Promise<ImageDataset> {
  assertKnownOptions('loadFashionMnist', opts, IMAGE_LOAD_OPTION_KEYS);
  const o = resolveOptions(opts);
  await ready();
  const dir = path.resolve(opts.dir ?? process.env[FASHION_MNIST_DIR_ENV] ?? DEBIAN_FASHION_MNIST_DIR);
  const images = findIdxFile(dir, o.split, 'images');
  const labels = findIdxFile(dir, o.split, 'labels');
  if (!images || !labels) {
    const wanted = [...idxCandidates('train', 'images').slice(0, 1), ...idxCandidates('train', 'labels').slice(0, 1),
      ...idxCandidates('test', 'images').slice(0, 1), ...idxCandidates('test', 'labels').slice(0, 1)];
    const where = fs.existsSync(dir) ? `${dir} does not hold them` : `${dir} does not exist`;
    throw new Error(
      `Fashion-MNIST not found (${where}). Install it with \`apt-get install dataset-fashion-mnist\` ` +
        `(Debian/Ubuntu; files go to ${DEBIAN_FASHION_MNIST_DIR}), or download the four files ${wanted.join(', ')} ` +
        `from the Fashion-MNIST repository (github.com/zalandoresearch/fashion-mnist, folder data/fashion) into a ` +
        `folder and pass { dir } or set ${FASHION_MNIST_DIR_ENV}.`,
    );
  }
  const raw = readIdxPair(images, labels);
  const root = new Random(o.seed);
  const shuffleRng = root.fork();
  const binRng = root.fork();
  const rows = selectRows(raw.labels.length, o.shuffle, shuffleRng, o.limit);
  const src = `Fashion-MNIST (IDX files in ${dir}), ${o.split} split: ${rows.length} of ${raw.labels.length} images`;
  return buildDataset(raw, rows, o, binRng, FASHION_MNIST_LABELS, src);
}
