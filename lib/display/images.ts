/**
 * Image grids as PNG: digits, RBM filters, VAE samples and reconstructions.
 *
 * `imageGrid(images, opts)` is pure (returns the PNG bytes, encoded by pngjs); `showImages(images, opts)`
 * displays the same picture in a tslab notebook.
 *
 * Accepted layouts (values are read, tensors are never disposed):
 * - `[n, h*w]` rows (a tensor, an array of rows, or `{ data, shape }`): square images are inferred
 *   (784 -> 28 x 28); give `imageShape: [h, w]` (or `[h, w, c]`) otherwise;
 * - `[n, h, w]` grey images;
 * - `[n, h, w, c]` with c = 1 (grey), 3 (RGB) or 4 (RGBA, alpha ignored).
 *
 * Values are expected in [0, 1] (0 = black). `normalize` chooses what happens to other values:
 * - `'clip'` (default): values below 0 become 0, above 1 become 1 (NaN -> 0);
 * - `'per-image'`: each image is stretched to its own [min, max] (RBM filters, weights: sign and scale vary);
 * - `'global'`: all images share one [min, max] stretch (keeps relative contrast between images);
 * - `[lo, hi]`: maps lo -> 0 and hi -> 1, then clips (e.g. `[-1, 1]` for tanh outputs).
 */
import { PNG } from 'pngjs';
import { tf } from '../engine/backend';
import { drawText, GLYPH_H, textWidth } from './font5x7';
import { escapeHtml } from './html';
import { displayBundle } from './notebook';
import {
  assertFiniteNumber,
  assertKnownOptions,
  assertNonNegativeInteger,
  assertPositiveInteger,
  describeValue,
  OptionKeyMap,
  optionKeys,
} from '../core/validate';

/** Images for {@link imageGrid}: a tensor, an array of rows `[n][h*w]`, or flat data with its shape. */
export type ImagesInput = tf.Tensor | ArrayLike<number>[] | { data: ArrayLike<number>; shape: readonly number[] };

/** How values map to grey levels; see the module documentation. */
export type ImageNormalization = 'clip' | 'per-image' | 'global' | readonly [number, number];

/** Options for {@link imageGrid} and {@link showImages}. */
export interface ImageGridOptions {
  /** Images per row (positive integer). Default: ceil(sqrt(n)), a square-ish grid. */
  cols?: number;
  /** Integer magnification of each image pixel, 1..32. Default: about 56 px per image (2 for 28 x 28). */
  scale?: number;
  /** A caption per image drawn under it (5x7 pixel font), e.g. labels or class names. */
  labels?: ArrayLike<number | string> | tf.Tensor;
  /** Names for numeric `labels` (label i is written `labelNames[i]`), e.g. `FASHION_MNIST_LABELS`. */
  labelNames?: readonly string[];
  /** Value mapping: 'clip' (default), 'per-image', 'global' or `[lo, hi]`. */
  normalize?: ImageNormalization;
  /** Image size `[h, w]` or `[h, w, c]` for rows of length h*w*c that are not square grey images. */
  imageShape?: readonly [number, number] | readonly [number, number, number];
  /** Pixels between images and around the grid (output pixels, >= 0). Default 2. */
  padding?: number;
  /** Grey level in [0, 1] of the padding and caption strip. Default 0.35. */
  background?: number;
  /** Draw 1 as black and 0 as white (ink on paper). Default false (0 = black, as MNIST is usually shown). */
  invert?: boolean;
}

const IMAGE_GRID_OPTION_KEY_MAP: OptionKeyMap<ImageGridOptions> = {
  cols: true, scale: true, labels: true, labelNames: true, normalize: true, imageShape: true, padding: true, background: true, invert: true,
};
const IMAGE_GRID_OPTION_KEYS = optionKeys<ImageGridOptions>(IMAGE_GRID_OPTION_KEY_MAP);

interface ImageStack {
  n: number;
  h: number;
  w: number;
  c: number;
  data: ArrayLike<number>;
}

const MAX_SCALE = 32;
const MAX_OUTPUT_PIXELS = 64e6; // refuse absurd grids (a 8000 x 8000 PNG) rather than exhaust memory

function stack(images: ImagesInput, imageShape: ImageGridOptions['imageShape']): ImageStack {
  let shape: number[];
  let data: ArrayLike<number>;
  if (images instanceof tf.Tensor) {
    shape = images.shape.slice();
    data = images.dataSync() as ArrayLike<number>;
  } else if (Array.isArray(images)) {
    const rows = images as ArrayLike<number>[];
    if (rows.length === 0) throw new RangeError('images must contain at least one image; got an empty array');
    const d = rows[0]?.length;
    if (typeof d !== 'number') throw new TypeError(`images must be an array of rows of numbers; got ${describeValue(rows[0])}`);
    const flat = new Float32Array(rows.length * d);
    rows.forEach((r, i) => {
      if (!r || r.length !== d) throw new RangeError(`images[${i}] has ${r?.length} values; images[0] has ${d}`);
      flat.set(Array.from(r), i * d);
    });
    shape = [rows.length, d];
    data = flat;
  } else if (images && typeof images === 'object' && 'data' in images && 'shape' in images) {
    shape = Array.from(images.shape);
    data = images.data;
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new RangeError(`images.data has ${data.length} values; shape [${shape.join(', ')}] needs ${size}`);
  } else {
    throw new TypeError(`images must be a tensor, an array of rows or { data, shape }; got ${describeValue(images)}`);
  }
  const bad = () => new RangeError(`images must have shape [n, h*w], [n, h, w] or [n, h, w, c] with c in 1, 3, 4; got shape [${shape.join(', ')}]`);
  let [n, h, w, c] = [shape[0], 0, 0, 1];
  if (shape.length === 2) {
    const d = shape[1];
    if (imageShape) {
      [h, w, c] = [imageShape[0], imageShape[1], imageShape[2] ?? 1];
      if (h * w * c !== d) throw new RangeError(`imageShape [${imageShape.join(', ')}] has ${h * w * c} values; images have ${d} per row`);
    } else {
      const side = Math.round(Math.sqrt(d));
      if (side * side !== d) {
        throw new RangeError(`images have ${d} values per row, not a square image: pass imageShape: [h, w] (or [h, w, c])`);
      }
      [h, w] = [side, side];
    }
  } else if (shape.length === 3) [h, w] = [shape[1], shape[2]];
  else if (shape.length === 4) [h, w, c] = [shape[1], shape[2], shape[3]];
  else throw bad();
  if (![1, 3, 4].includes(c) || n < 1 || h < 1 || w < 1) throw bad();
  return { n, h, w, c, data };
}

/** Maps raw values to [0, 1] per the normalisation (returns a function of (image index, value)). */
function normalizer(s: ImageStack, mode: ImageNormalization): (img: number, v: number) => number {
  const clip = (v: number) => (Number.isNaN(v) ? 0 : v < 0 ? 0 : v > 1 ? 1 : v);
  const stretch = (lo: number, hi: number) => (v: number) => (hi > lo ? clip((v - lo) / (hi - lo)) : Number.isNaN(v) ? 0 : 0.5);
  if (mode === 'clip') return (_, v) => clip(v);
  if (Array.isArray(mode)) {
    const [lo, hi] = mode as readonly [number, number];
    assertFiniteNumber('normalize[0]', lo);
    assertFiniteNumber('normalize[1]', hi);
    if (!(hi > lo)) throw new RangeError(`normalize range must be increasing; got [${lo}, ${hi}]`);
    const f = stretch(lo, hi);
    return (_, v) => f(v);
  }
  const per = s.h * s.w * s.c;
  const range = (from: number, to: number): [number, number] => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = from; i < to; i++) {
      const v = Number(s.data[i]);
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    return [lo, hi];
  };
  if (mode === 'global') {
    const f = stretch(...range(0, s.n * per));
    return (_, v) => f(v);
  }
  if (mode === 'per-image') {
    const fs = Array.from({ length: s.n }, (_, i) => stretch(...range(i * per, (i + 1) * per)));
    return (i, v) => fs[i](v);
  }
  throw new RangeError(`normalize must be 'clip', 'per-image', 'global' or [lo, hi]; got ${describeValue(mode)}`);
}

function captionsOf(opts: ImageGridOptions, n: number): string[] | null {
  if (opts.labels === undefined) return null;
  const raw: (number | string)[] =
    opts.labels instanceof tf.Tensor ? Array.from(opts.labels.dataSync() as ArrayLike<number>) : Array.from(opts.labels);
  if (raw.length !== n) throw new RangeError(`labels has ${raw.length} entries; there are ${n} images`);
  return raw.map((l) => (typeof l === 'number' && opts.labelNames?.[l] !== undefined ? opts.labelNames[l] : String(l)));
}

/** The layout of a grid: sizes in output pixels. */
export interface ImageGridLayout {
  /** Number of images. */
  n: number;
  /** Images per row. */
  cols: number;
  /** Number of rows of images. */
  rows: number;
  /** One image's width in output pixels (source width times scale). */
  tileWidth: number;
  /** One image's height in output pixels (source height times scale). */
  tileHeight: number;
  /** Height of the caption strip under each image (0 without labels). */
  captionHeight: number;
  /** Padding between images. */
  padding: number;
  /** PNG width in pixels. */
  width: number;
  /** PNG height in pixels. */
  height: number;
}

/**
 * Renders images into one PNG grid and returns the PNG file bytes. Images fill the grid row by row; image k
 * sits at column k % cols, row floor(k / cols), its top-left pixel at
 * (padding + col * (tileWidth + padding), padding + row * (tileHeight + captionHeight + padding)).
 */
export function imageGrid(images: ImagesInput, opts: ImageGridOptions = {}): Uint8Array {
  assertKnownOptions('imageGrid', opts, IMAGE_GRID_OPTION_KEYS);
  return renderGrid(images, opts).png;
}

/** As {@link imageGrid}, also returning the layout (where each image went). */
export function renderGrid(images: ImagesInput, opts: ImageGridOptions = {}): { png: Uint8Array; layout: ImageGridLayout } {
  assertKnownOptions('renderGrid', opts, IMAGE_GRID_OPTION_KEYS);
  const s = stack(images, opts.imageShape);
  const cols = opts.cols ?? Math.ceil(Math.sqrt(s.n));
  assertPositiveInteger('cols', cols);
  const scale = opts.scale ?? Math.min(16, Math.max(1, Math.round(56 / Math.max(s.h, s.w))));
  assertPositiveInteger('scale', scale);
  if (scale > MAX_SCALE) throw new RangeError(`scale must be at most ${MAX_SCALE}; got ${scale}`);
  const padding = opts.padding ?? 2;
  assertNonNegativeInteger('padding', padding);
  const bg = opts.background ?? 0.35;
  assertFiniteNumber('background', bg, { min: 0, max: 1 });
  const norm = normalizer(s, opts.normalize ?? 'clip');
  const captions = captionsOf(opts, s.n);

  const rows = Math.ceil(s.n / cols);
  const gridCols = Math.min(cols, s.n);
  const tw = s.w * scale;
  const th = s.h * scale;
  const fontSize = tw >= 160 ? 2 : 1; // captions stay short enough to fit under the image
  const capH = captions ? GLYPH_H * fontSize + 4 : 0;
  const width = gridCols * tw + (gridCols + 1) * padding;
  const height = rows * (th + capH) + (rows + 1) * padding;
  if (width * height > MAX_OUTPUT_PIXELS) {
    throw new RangeError(`the grid would be ${width} x ${height} pixels; use fewer images or a smaller scale`);
  }
  const png = new PNG({ width, height, colorType: 2 });
  const out = png.data; // RGBA, row-major
  const bgByte = Math.round(bg * 255);
  for (let i = 0; i < out.length; i += 4) {
    out[i] = out[i + 1] = out[i + 2] = bgByte;
    out[i + 3] = 255;
  }
  const per = s.h * s.w * s.c;
  const invert = opts.invert ?? false;
  const textRgb: [number, number, number] = bg < 0.5 ? [255, 255, 255] : [0, 0, 0];
  for (let k = 0; k < s.n; k++) {
    const x0 = padding + (k % cols) * (tw + padding);
    const y0 = padding + Math.floor(k / cols) * (th + capH + padding);
    for (let y = 0; y < s.h; y++) {
      for (let x = 0; x < s.w; x++) {
        const src = k * per + (y * s.w + x) * s.c;
        // grey: one channel; colour: the first three (alpha ignored)
        const r = toByte(norm(k, Number(s.data[src])), invert);
        const g = s.c === 1 ? r : toByte(norm(k, Number(s.data[src + 1])), invert);
        const b = s.c === 1 ? r : toByte(norm(k, Number(s.data[src + 2])), invert);
        for (let dy = 0; dy < scale; dy++) {
          let p = 4 * ((y0 + y * scale + dy) * width + x0 + x * scale);
          for (let dx = 0; dx < scale; dx++, p += 4) {
            out[p] = r;
            out[p + 1] = g;
            out[p + 2] = b;
          }
        }
      }
    }
    if (captions) {
      const text = captions[k];
      const tx = x0 + Math.max(0, Math.floor((tw - textWidth(text, fontSize)) / 2));
      drawText(out, width, tx, y0 + th + 2, text, fontSize, textRgb, tw);
    }
  }
  // Grey input: a greyscale PNG (a third of the raw size); no row filters: faster and smaller for these images.
  const bytes = PNG.sync.write(png, { colorType: s.c === 1 ? 0 : 2, filterType: 0 });
  return {
    png: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    layout: { n: s.n, cols, rows, tileWidth: tw, tileHeight: th, captionHeight: capH, padding, width, height },
  };
}

/** A value in [0, 1] as a byte (inverted: 1 - v). */
function toByte(v: number, invert: boolean): number {
  return Math.round((invert ? 1 - v : v) * 255);
}

/** Options for {@link showImages}: the grid options plus a title. */
export interface ShowImagesOptions extends ImageGridOptions {
  /** Text shown above the grid (escaped). */
  title?: string;
}

const SHOW_IMAGES_OPTION_KEYS = optionKeys<ShowImagesOptions>({ ...IMAGE_GRID_OPTION_KEY_MAP, title: true });

/**
 * The MIME bundle {@link showImages} sends (pure): the PNG, an HTML version with the title (when given)
 * and a text line.
 */
export function imagesBundle(images: ImagesInput, opts: ShowImagesOptions = {}): Record<string, string | Uint8Array> {
  assertKnownOptions('imagesBundle', opts, SHOW_IMAGES_OPTION_KEYS);
  const { title: _title, ...grid } = opts ?? {};
  const { png, layout } = renderGrid(images, grid);
  const text = `${opts.title ? `${opts.title}: ` : ''}${layout.n} image${layout.n === 1 ? '' : 's'} in a ${layout.rows} x ${Math.min(layout.cols, layout.n)} grid (${layout.width} x ${layout.height} PNG)`;
  const bundle: Record<string, string | Uint8Array> = { 'image/png': png, 'text/plain': text };
  if (opts.title !== undefined) {
    const b64 = Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64');
    bundle['text/html'] =
      `<figure style="margin:0.5em 0;"><figcaption style="font-weight:bold;margin-bottom:0.3em;">${escapeHtml(opts.title)}</figcaption>` +
      `<img alt="${escapeHtml(opts.title)}" width="${layout.width}" height="${layout.height}" src="data:image/png;base64,${b64}"></figure>`;
  }
  return bundle;
}

/**
 * Shows images as one grid in a tslab notebook (see {@link imageGrid} for inputs and options). Outside a
 * notebook it prints a one-line description; write `imageGrid(...)` bytes to a .png file there.
 */
export function showImages(images: ImagesInput, opts: ShowImagesOptions = {}): void {
  assertKnownOptions('showImages', opts, SHOW_IMAGES_OPTION_KEYS);
  const bundle = imagesBundle(images, opts);
  if (displayBundle(bundle)) return;
  process.stdout.write(`${bundle['text/plain']} -- not in a notebook; fs.writeFileSync('grid.png', imageGrid(...)) saves it.\n`);
}
