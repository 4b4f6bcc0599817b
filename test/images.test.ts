import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { tf, ready } from '../lib/engine/backend';
import { imageGrid, imagesBundle, renderGrid, showImages } from '../lib/display/images';
import { glyph } from '../lib/display/font5x7';
import { assertNoLeak } from './helpers';

function decode(bytes: Uint8Array): PNG {
  return PNG.sync.read(Buffer.from(bytes));
}

/** RGB of output pixel (x, y). */
function px(p: PNG, x: number, y: number): [number, number, number] {
  const i = 4 * (y * p.width + x);
  return [p.data[i], p.data[i + 1], p.data[i + 2]];
}

test('a [n, h*w] grid decodes to the expected size and pixels', async () => {
  await ready();
  // 5 images of 2x2 (square inferred from 4 values), image k has all pixels k/4
  const rows = Array.from({ length: 5 }, (_, k) => [k / 4, k / 4, k / 4, k / 4]);
  const x = tf.tensor2d(rows);
  const bytes = await assertNoLeak(() => imageGrid(x, { cols: 3, scale: 3, padding: 1, background: 0.5 }), 'imageGrid');
  x.dispose();
  assert.ok(bytes instanceof Uint8Array);
  assert.deepEqual(Array.from(bytes.subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]); // PNG signature
  assert.equal(bytes[25], 0, 'IHDR colour type 0: a greyscale PNG for grey images');
  const p = decode(bytes);
  // 3 columns of 6-px tiles + 4 gaps of 1 px; 2 rows
  assert.equal(p.width, 3 * 6 + 4);
  assert.equal(p.height, 2 * 6 + 3);
  for (let k = 0; k < 5; k++) {
    const x0 = 1 + (k % 3) * 7;
    const y0 = 1 + Math.floor(k / 3) * 7;
    const v = Math.round((k / 4) * 255);
    assert.deepEqual(px(p, x0, y0), [v, v, v], `image ${k} top-left`);
    assert.deepEqual(px(p, x0 + 5, y0 + 5), [v, v, v], `image ${k} bottom-right`);
  }
  assert.deepEqual(px(p, 0, 0), [128, 128, 128], 'padding has the background grey');
  assert.deepEqual(px(p, 1 + 2 * 7, 1 + 7), [128, 128, 128], 'the empty 6th cell is background');
});

test('pixel placement inside an image follows row-major [h, w] and [n, h, w, c] colour', async () => {
  await ready();
  // one 2x3 image (h=2, w=3): value at (row r, col c) = (3r + c) / 5
  const img = tf.tensor3d([[[0, 0.2, 0.4], [0.6, 0.8, 1]]]);
  const p = decode(imageGrid(img, { scale: 1, padding: 0 }));
  img.dispose();
  assert.equal(p.width, 3);
  assert.equal(p.height, 2);
  assert.deepEqual(px(p, 2, 0), [102, 102, 102]);
  assert.deepEqual(px(p, 0, 1), [153, 153, 153]);
  const rgb = tf.tensor4d([[[[1, 0, 0], [0, 1, 0]]]]); // [1, 1, 2, 3]: a red and a green pixel
  const rgbBytes = imageGrid(rgb, { scale: 2, padding: 0 });
  assert.equal(rgbBytes[25], 2, 'IHDR colour type 2: RGB');
  const q = decode(rgbBytes);
  rgb.dispose();
  assert.deepEqual([q.width, q.height], [4, 2]);
  assert.deepEqual(px(q, 1, 1), [255, 0, 0]);
  assert.deepEqual(px(q, 2, 0), [0, 255, 0]);
  const flat = decode(imageGrid({ data: new Float32Array(6).fill(1), shape: [1, 6] }, { imageShape: [2, 3], scale: 1, padding: 0, invert: true }));
  assert.deepEqual([flat.width, flat.height], [3, 2]);
  assert.deepEqual(px(flat, 0, 0), [0, 0, 0], 'invert: 1 is black');
});

test('normalisation: clip, per-image, global and a fixed range', () => {
  const imgs = [[-1, 0.5, 2, 0], [10, 20, 30, 40]];
  const at = (normalize: Parameters<typeof imageGrid>[1] extends infer O ? O extends { normalize?: infer N } ? N : never : never, k: number, i: number) => {
    const p = decode(imageGrid(imgs, { normalize, scale: 1, padding: 0, cols: 2 }));
    return px(p, (k * 2) + (i % 2), Math.floor(i / 2))[0];
  };
  assert.deepEqual([0, 1, 2, 3].map((i) => at('clip', 0, i)), [0, 128, 255, 0]);
  assert.deepEqual([0, 1, 2, 3].map((i) => at('per-image', 1, i)), [0, 85, 170, 255]);
  assert.deepEqual([0, 1, 2, 3].map((i) => at('per-image', 0, i)), [0, 128, 255, 85]);
  assert.equal(at('global', 0, 0), 0); // -1 is the global minimum
  assert.equal(at('global', 1, 3), 255); // 40 is the global maximum
  assert.equal(at('global', 0, 2), Math.round((3 / 41) * 255));
  assert.deepEqual([0, 1, 2, 3].map((i) => at([-1, 3], 0, i)), [0, 96, 191, 64]);
  assert.throws(() => imageGrid(imgs, { normalize: [1, 1] }), /normalize range must be increasing/);
  assert.throws(() => imageGrid(imgs, { normalize: 'minmax' as 'clip' }), /normalize must be/);
});

test('captions are drawn under each image with the 5x7 font', () => {
  const imgs = Array.from({ length: 2 }, () => new Float32Array(28 * 28)); // black images
  const { png, layout } = renderGrid(imgs, { labels: [1, 0], labelNames: ['zero', 'one'], padding: 2, background: 0 });
  assert.equal(layout.tileWidth, 56);
  assert.equal(layout.captionHeight, 7 + 4);
  const p = decode(png);
  assert.equal(p.height, 2 + 56 + 11 + 2);
  // count white pixels in each caption strip = lit pixels of the glyphs
  const lit = (text: string) => Array.from(text).reduce((a, ch) => a + glyph(ch).reduce((b, col) => b + popcount(col), 0), 0);
  for (const [k, text] of [[0, 'one'], [1, 'zero']] as const) {
    let white = 0;
    const x0 = 2 + k * 58;
    for (let y = 2 + 56; y < 2 + 56 + 11; y++) for (let x = x0; x < x0 + 56; x++) if (px(p, x, y)[0] === 255) white++;
    assert.equal(white, lit(text), `caption ${text}`);
  }
  assert.throws(() => imageGrid(imgs, { labels: [1] }), /labels has 1 entries; there are 2 images/);
});

function popcount(v: number): number {
  let c = 0;
  for (; v; v >>= 1) c += v & 1;
  return c;
}

test('input validation names the problem', () => {
  assert.throws(() => imageGrid([[1, 2, 3]]), /3 values per row, not a square image: pass imageShape/);
  assert.throws(() => imageGrid([]), /at least one image/);
  assert.throws(() => imageGrid({ data: [1, 2, 3], shape: [1, 4] }), /images.data has 3 values; shape \[1, 4\] needs 4/);
  assert.throws(() => imageGrid({ data: new Float32Array(8), shape: [1, 2, 2, 2] }), /c in 1, 3, 4/);
  assert.throws(() => imageGrid([[0]], { cols: 0 }), /cols must be a positive integer; got 0/);
  assert.throws(() => imageGrid([[0]], { scale: 1.5 }), /scale must be a positive integer; got 1.5/);
  assert.throws(() => imageGrid([[0, 0], [0]]), /images\[1\] has 1 values/);
});

test('showImages bundle: PNG, escaped HTML title and text; outside a notebook a note is printed', () => {
  const b = imagesBundle([[0, 1, 1, 0]], { title: '<b>filters</b>' });
  assert.ok(b['image/png'] instanceof Uint8Array);
  assert.match(b['text/html'] as string, /&lt;b&gt;filters&lt;\/b&gt;/);
  assert.ok(!(b['text/html'] as string).includes('<b>'));
  assert.match(b['text/plain'] as string, /^<b>filters<\/b>: 1 image in a 1 x 1 grid/);
  const lines: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => (lines.push(String(s)), true)) as typeof process.stdout.write;
  try {
    showImages([[0, 1, 1, 0]]);
  } finally {
    process.stdout.write = orig;
  }
  assert.equal(lines.length, 1);
  assert.match(lines[0], /1 image in a 1 x 1 grid .* not in a notebook/);
});
