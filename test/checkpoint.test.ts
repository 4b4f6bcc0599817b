import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { tf, ready } from '../lib/engine/backend';
import { loadCheckpoint, readCheckpointManifest, saveCheckpoint } from '../lib/core/checkpoint';
import { assertNoLeak } from './helpers';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-ckpt-'));
}

async function saveSample(dir: string, scale: number): Promise<void> {
  const W = tf.tensor2d([[1 * scale, 2], [3, 4 * scale], [5, 6]]);
  const steps = tf.tensor1d([7, -8], 'int32');
  await saveCheckpoint(dir, { kind: 'Test', config: { scale, name: 'x', nested: { list: [1, 2] } }, tensors: { W, steps } });
  tf.dispose([W, steps]);
}

async function loadScale(dir: string): Promise<number> {
  const { config, tensors } = await loadCheckpoint(dir, 'Test');
  const w = Array.from(tensors.W.dataSync());
  tf.dispose(Object.values(tensors));
  assert.equal(w[0], (config as { scale: number }).scale, 'payload and manifest belong together');
  return w[0];
}

test('round trip: config, float32 and int32 tensors, shapes; no leaks', async () => {
  await ready();
  const dir = path.join(tempDir(), 'model');
  await assertNoLeak(() => saveSample(dir, 1.5), 'saveCheckpoint');
  const loaded = await loadCheckpoint(dir, 'Test');
  assert.equal(loaded.kind, 'Test');
  assert.deepEqual(loaded.config, { scale: 1.5, name: 'x', nested: { list: [1, 2] } });
  assert.deepEqual(loaded.tensors.W.shape, [3, 2]);
  assert.deepEqual(Array.from(loaded.tensors.W.dataSync()), [1.5, 2, 3, 6, 5, 6]);
  assert.equal(loaded.tensors.steps.dtype, 'int32');
  assert.deepEqual(Array.from(loaded.tensors.steps.dataSync()), [7, -8]);
  tf.dispose(Object.values(loaded.tensors));
  await assertNoLeak(async () => tf.dispose(Object.values((await loadCheckpoint(dir)).tensors)), 'loadCheckpoint');
  await assert.rejects(loadCheckpoint(dir, 'VAE'), /holds a Test, not a VAE/);
  await assert.rejects(loadCheckpoint(path.join(dir, 'nope')), /no checkpoint at .*manifest\.json not found/);
});

test('overwriting replaces the checkpoint and leaves exactly one payload', async () => {
  await ready();
  const dir = path.join(tempDir(), 'model');
  await saveSample(dir, 1);
  await saveSample(dir, 2);
  assert.equal(await loadScale(dir), 2);
  const files = fs.readdirSync(dir).sort();
  assert.equal(files.length, 2, `files: ${files.join(', ')}`);
  assert.ok(files.includes('manifest.json'));
});

test('a corrupted or truncated payload is refused with an error naming the file', async () => {
  await ready();
  const dir = path.join(tempDir(), 'model');
  await saveSample(dir, 1);
  const payload = path.join(dir, readCheckpointManifest(dir).payload);
  const good = fs.readFileSync(payload);
  const flipped = Buffer.from(good);
  flipped[5] ^= 0x40;
  fs.writeFileSync(payload, flipped);
  await assert.rejects(loadCheckpoint(dir), (e: Error) => e.message.includes(payload) && /corrupted checkpoint.*checksum/.test(e.message));
  fs.writeFileSync(payload, good.subarray(0, good.length - 3));
  await assert.rejects(loadCheckpoint(dir), (e: Error) => e.message.includes(payload) && /truncated: expected 32 bytes, found 29/.test(e.message));
  fs.rmSync(payload);
  await assert.rejects(loadCheckpoint(dir), /corrupted checkpoint: .*tensors-.*\.bin is missing/);
  fs.writeFileSync(payload, good);
  assert.equal(await loadScale(dir), 1);
});

test('a corrupted or truncated manifest is refused with an error naming the file', async () => {
  await ready();
  const dir = path.join(tempDir(), 'model');
  await saveSample(dir, 1);
  const file = path.join(dir, 'manifest.json');
  const text = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, text.slice(0, text.length / 2));
  await assert.rejects(loadCheckpoint(dir), (e: Error) => e.message.includes(file) && /not valid JSON/.test(e.message));
  // Valid JSON with a tampered value: the manifest checksum catches it.
  fs.writeFileSync(file, text.replace('"scale": 1', '"scale": 3'));
  await assert.rejects(loadCheckpoint(dir), (e: Error) => e.message.includes(file) && /fails its checksum/.test(e.message));
  fs.writeFileSync(file, '{"hello": 1}');
  await assert.rejects(loadCheckpoint(dir), /is not a genlab-checkpoint manifest/);
});

test('a failure just before the commit leaves the previous checkpoint loadable', async () => {
  await ready();
  const dir = path.join(tempDir(), 'model');
  await saveSample(dir, 1);
  const W = tf.tensor2d([[9]]);
  await assert.rejects(
    saveCheckpoint(dir, { kind: 'Test', config: { scale: 9 }, tensors: { W } }, { beforeCommit: () => { throw new Error('disk full (simulated)'); } }),
    /disk full/,
  );
  W.dispose();
  assert.equal(await loadScale(dir), 1);
  await saveSample(dir, 3); // a later save works and tidies up
  assert.equal(await loadScale(dir), 3);
  assert.equal(fs.readdirSync(dir).length, 2);
});

test('a process killed mid-save (SIGKILL) leaves the previous checkpoint loadable', async () => {
  await ready();
  const dir = path.join(tempDir(), 'model');
  await saveSample(dir, 1);
  const lib = path.join(__dirname, '..', 'lib');
  const script = `
    const { tf, ready } = require(${JSON.stringify(path.join(lib, 'engine', 'backend.js'))});
    const { saveCheckpoint } = require(${JSON.stringify(path.join(lib, 'core', 'checkpoint.js'))});
    ready().then(() => saveCheckpoint(${JSON.stringify(dir)},
      { kind: 'Test', config: { scale: 5 }, tensors: { W: tf.fill([300, 300], 5) } },
      { beforeCommit: () => process.kill(process.pid, 'SIGKILL') }));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.signal, 'SIGKILL', `child should die by SIGKILL: ${r.stderr}`);
  assert.ok(fs.readdirSync(dir).length > 2, 'the killed save left its new files behind');
  assert.equal(await loadScale(dir), 1);
  await saveSample(dir, 4);
  assert.equal(await loadScale(dir), 4);
  assert.equal(fs.readdirSync(dir).length, 2, 'leftovers of the crashed save are removed');
});

test('refuses to write into a directory that is not a checkpoint; validates arguments', async () => {
  await ready();
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'precious');
  const W = tf.tensor1d([1]);
  await assert.rejects(saveCheckpoint(dir, { kind: 'Test', config: null, tensors: { W } }), /non-empty directory without manifest\.json/);
  assert.equal(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'precious');
  await assert.rejects(saveCheckpoint(dir, { kind: '', config: null, tensors: { W } }), /kind must be a non-empty string/);
  const b = tf.tensor1d([true], 'bool');
  await assert.rejects(saveCheckpoint(path.join(dir, 'x'), { kind: 'T', config: null, tensors: { b } }), /tensors\.b must have dtype float32 or int32; got bool/);
  tf.dispose([W, b]);
});
