import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { encodeIdx, IdxFormatError, parseIdx, readIdx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from '../datasets/idx';
import { Random } from '../lib/engine/random';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-idx-'));

function sample(): { shape: number[]; data: Uint8Array; bytes: Uint8Array } {
  const shape = [3, 4, 5];
  const data = Uint8Array.from({ length: 60 }, (_, i) => (i * 37) % 256);
  return { shape, data, bytes: encodeIdx(shape, data) };
}

test('round trip raw and gzipped files; magic numbers of images and labels', () => {
  const { shape, data, bytes } = sample();
  const view = new DataView(bytes.buffer);
  assert.equal(view.getUint32(0, false), IDX_IMAGES_MAGIC);
  assert.equal(new DataView(encodeIdx([2], new Uint8Array(2)).buffer).getUint32(0, false), IDX_LABELS_MAGIC);
  const rawFile = path.join(tmp, 'a-idx3-ubyte');
  const gzFile = path.join(tmp, 'a-idx3-ubyte.gz');
  fs.writeFileSync(rawFile, bytes);
  fs.writeFileSync(gzFile, zlib.gzipSync(bytes));
  for (const f of [rawFile, gzFile]) {
    const r = readIdx(f);
    assert.deepEqual(r.shape, shape);
    assert.deepEqual(Array.from(r.data), Array.from(data));
  }
  assert.throws(() => readIdx(rawFile, { rank: 1 }), /3 dimensions where 1 were expected/);
});

test('a missing file is an error naming the file', () => {
  const f = path.join(tmp, 'does-not-exist');
  assert.throws(() => readIdx(f), (e: Error) => e.message.includes(f) && /cannot read/.test(e.message));
});

test('every truncation of a raw and a gzipped file fails with a message naming the file', () => {
  const { bytes } = sample();
  const gz = zlib.gzipSync(bytes);
  for (const [label, full] of [['raw', bytes], ['gz', gz]] as const) {
    for (let len = 0; len < full.length; len++) {
      assert.throws(
        () => parseIdx(full.subarray(0, len), `${label}-file`),
        (e: unknown) => e instanceof IdxFormatError && e.message.startsWith(`${label}-file: not a valid IDX file`),
        `${label} truncated to ${len} bytes`,
      );
    }
  }
});

test('tiny and malformed headers give a specific message', () => {
  const cases: [number[], RegExp][] = [
    [[], /only 0 bytes/],
    [[0], /only 1 bytes/],
    [[0, 0, 8], /only 3 bytes/],
    [[1, 0, 8, 1, 0, 0, 0, 0], /bad magic number 0x01000801/],
    [[0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0], /data type 0x0d is not supported/],
    [[0, 0, 8, 0], /0 dimensions/],
    [[0, 0, 8, 255], /255 dimensions/],
    [[0, 0, 8, 3, 0, 0, 0, 1], /truncated header/],
    [[0, 0, 8, 1, 0, 0, 0, 2, 7], /truncated: shape \[2\] needs 2 data bytes, file has 1/],
    [[0, 0, 8, 1, 0, 0, 0, 1, 7, 8], /trailing bytes/],
  ];
  for (const [b, re] of cases) assert.throws(() => parseIdx(Uint8Array.from(b), 'f'), re, `bytes ${b.join(',')}`);
});

test('a header claiming a huge shape fails fast without allocating it', () => {
  // [2^32-1, 2^32-1, 2^32-1] would be ~8e28 bytes.
  const b = Uint8Array.from([0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 1, 2, 3]);
  const t0 = Date.now();
  assert.throws(() => parseIdx(b, 'huge'), /truncated: shape \[4294967295, 4294967295, 4294967295\]/);
  assert.ok(Date.now() - t0 < 1000);
  // A zero dimension is consistent with zero data bytes.
  assert.deepEqual(parseIdx(Uint8Array.from([0, 0, 8, 2, 0, 0, 0, 0, 0, 0, 0, 9]), 'empty').shape, [0, 9]);
});

test('a gzip bomb is refused by maxBytes', () => {
  const bomb = zlib.gzipSync(new Uint8Array(4 << 20)); // 4 MiB of zeros, ~4 KB compressed
  assert.ok(bomb.length < 10000);
  assert.throws(() => parseIdx(bomb, 'bomb.gz', { maxBytes: 1 << 20 }), /bomb\.gz: .*decompresses to more than maxBytes 1048576/);
  assert.throws(() => parseIdx(new Uint8Array(100), 'big', { maxBytes: 10 }), /more than maxBytes 10/);
});

test('fuzz: random corruption of raw and gzipped files either parses consistently or throws IdxFormatError', () => {
  const rng = new Random(42);
  const { bytes } = sample();
  const gz = zlib.gzipSync(bytes);
  let parsed = 0;
  let rejected = 0;
  for (let trial = 0; trial < 3000; trial++) {
    const src = trial % 2 === 0 ? bytes : gz;
    const b = Uint8Array.from(src);
    const flips = 1 + rng.int(4);
    for (let k = 0; k < flips; k++) {
      // bias towards the header, where the interesting failures are
      const pos = rng.next() < 0.6 ? rng.int(Math.min(20, b.length)) : rng.int(b.length);
      b[pos] = rng.int(256);
    }
    try {
      const r = parseIdx(b, 'fuzz', { maxBytes: 1 << 20 });
      assert.equal(r.data.length, r.shape.reduce((a, c) => a * c, 1));
      parsed++;
    } catch (e) {
      assert.ok(e instanceof IdxFormatError, `trial ${trial}: unexpected ${(e as Error).stack}`);
      assert.match((e as Error).message, /^fuzz: not a valid IDX file: /);
      rejected++;
    }
  }
  assert.ok(parsed > 0 && rejected > 0, `both outcomes expected: parsed ${parsed}, rejected ${rejected}`);
});

test('random garbage of every small length is rejected cleanly', () => {
  const rng = new Random(7);
  for (let len = 0; len < 64; len++) {
    for (let k = 0; k < 20; k++) {
      const b = Uint8Array.from({ length: len }, () => rng.int(256));
      try {
        parseIdx(b, 'junk');
      } catch (e) {
        assert.ok(e instanceof IdxFormatError, `length ${len}: ${(e as Error).message}`);
      }
    }
  }
});

test('encodeIdx validates its arguments', () => {
  assert.throws(() => encodeIdx([2, 2], new Uint8Array(3)), /data has 3 values; shape \[2, 2\] needs 4/);
  assert.throws(() => encodeIdx([], new Uint8Array(0)), /1 to 8 dimensions/);
});
