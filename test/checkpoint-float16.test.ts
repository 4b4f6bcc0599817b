/**
 * Checkpoints with float16 storage (lib/core/checkpoint.ts): IEEE 754 half precision, rounded to nearest with ties to
 * even, checked on values whose half-precision neighbours are known exactly; half the bytes; int32 kept exact; values
 * beyond 65504 refused; loading gives float32 back.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, ready } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { loadCheckpoint, readCheckpointManifest, saveCheckpoint } from '../lib/core/checkpoint';
import { assertNoLeak } from './helpers';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-f16-'));
}

/** Saves `values` as float16 and loads them back. */
async function roundTrip(values: number[]): Promise<number[]> {
  const dir = path.join(tempDir(), 'model');
  const t = tf.tensor1d(values);
  await saveCheckpoint(dir, { kind: 'Test', config: null, tensors: { t } }, { storage: 'float16' });
  t.dispose();
  const loaded = await loadCheckpoint(dir, 'Test');
  assert.equal(loaded.tensors.t.dtype, 'float32');
  const out = Array.from(loaded.tensors.t.dataSync());
  tf.dispose(Object.values(loaded.tensors));
  return out;
}

test('float16 storage rounds to the nearest half-precision value, ties to even', async () => {
  await ready();
  const cases: Array<[number, number, string]> = [
    [0, 0, 'zero'],
    [1, 1, 'one'],
    [-2.5, -2.5, 'exact negative'],
    [1 / 3, 1365 / 4096, '1/3 -> 1.0101010101b x 2^-2'],
    [0.1, 0.0999755859375, '0.1'],
    [65504, 65504, 'largest finite half'],
    [2 ** -14, 2 ** -14, 'smallest normal'],
    [2 ** -24, 2 ** -24, 'smallest subnormal'],
    [3 * 2 ** -26, 2 ** -24, '0.75 of the smallest subnormal rounds up'],
    [2 ** -25, 0, 'half the smallest subnormal: tie to even (0)'],
    [1e-9, 0, 'underflow'],
    [1 + 2 ** -11, 1, 'tie between 1 and 1 + 2^-10: to even (1)'],
    [1 + 3 * 2 ** -11, 1 + 2 ** -9, 'tie between 1 + 2^-10 and 1 + 2^-9: to even (1 + 2^-9)'],
    [2047, 2047, 'integers up to 2048 are exact'],
    [2049, 2048, '2049: tie between 2048 and 2050, to even'],
    [-(2 ** -20) * 1.5, -(2 ** -20) * 1.5, 'negative subnormal'],
  ];
  const got = await roundTrip(cases.map((c) => c[0]));
  cases.forEach(([, expected, what], i) => assert.equal(got[i], expected, `${what}: ${cases[i][0]} -> ${got[i]}, expected ${expected}`));
  const [nan] = await roundTrip([NaN]);
  assert.ok(Number.isNaN(nan), 'NaN stays NaN');
});

test('float16: half the bytes, relative error <= 2^-11, int32 exact, version 2; float32 storage unchanged (version 1)', async () => {
  await ready();
  const rng = new Random(3);
  const values = Array.from(rng.normalArray(1000), (v, i) => v * 10 ** ((i % 7) - 3)); // magnitudes 1e-3 .. 1e3
  const W = tf.tensor2d(values, [100, 10]);
  const steps = tf.tensor1d([123456789, -7], 'int32');
  const half = path.join(tempDir(), 'half');
  const full = path.join(tempDir(), 'full');
  await assertNoLeak(async () => {
    await saveCheckpoint(half, { kind: 'Test', config: { a: 1 }, tensors: { W, steps } }, { storage: 'float16' });
    await saveCheckpoint(full, { kind: 'Test', config: { a: 1 }, tensors: { W, steps } });
  }, 'saving');
  const mh = readCheckpointManifest(half);
  const mf = readCheckpointManifest(full);
  assert.equal(mh.version, 2);
  assert.equal(mf.version, 1);
  assert.equal(mh.payloadBytes, 1000 * 2 + 2 * 4);
  assert.equal(mf.payloadBytes, 1000 * 4 + 2 * 4);
  assert.deepEqual(mh.tensors.map((e) => [e.name, e.dtype, e.storage]), [['W', 'float32', 'float16'], ['steps', 'int32', undefined]]);
  const loaded = await loadCheckpoint(half, 'Test');
  assert.deepEqual(loaded.tensors.W.shape, [100, 10]);
  assert.deepEqual(Array.from(loaded.tensors.steps.dataSync()), [123456789, -7]);
  const back = loaded.tensors.W.dataSync();
  const f32 = W.dataSync();
  let worst = 0;
  for (let i = 0; i < f32.length; i++) if (Math.abs(f32[i]) >= 2 ** -14) worst = Math.max(worst, Math.abs(back[i] - f32[i]) / Math.abs(f32[i]));
  assert.ok(worst <= 2 ** -11, `relative error ${worst} above 2^-11`);
  assert.ok(worst > 0, 'float16 storage must round something');
  tf.dispose([W, steps, ...Object.values(loaded.tensors)]);
});

test('float16: values beyond 65504 are refused naming the tensor; an unknown storage is refused', async () => {
  await ready();
  const dir = path.join(tempDir(), 'model');
  const big = tf.tensor1d([1, 70000]);
  await assert.rejects(
    saveCheckpoint(dir, { kind: 'Test', config: null, tensors: { big } }, { storage: 'float16' }),
    /data\.tensors\.big has a value 70000 beyond float16's range .*store it as float32/,
  );
  await assert.rejects(
    saveCheckpoint(dir, { kind: 'Test', config: null, tensors: { big } }, { storage: 'bfloat16' as 'float16' }),
    /storage must be one of 'float32', 'float16'; got "bfloat16"/,
  );
  big.dispose();
  assert.equal(fs.existsSync(path.join(dir, 'manifest.json')), false, 'nothing committed');
});
