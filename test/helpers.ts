/**
 * Shared test utilities: leak and tolerance assertions, reading a tensor into a plain array, a free TCP port.
 * Reading notebooks is scripts/notebook-cells.ts (the scripts use it too).
 *
 * Importing this module loads no TensorFlow.js backend: the engine is loaded by the first `assertNoLeak`, so tests
 * without tensors (Jupyter set-up, JupyterLab) can use the other helpers without starting one.
 */
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import type { tf } from '../lib/engine/tf';

/** Runs `fn` and asserts that the number of live tensors is the same afterwards. */
export async function assertNoLeak<T>(fn: () => T | Promise<T>, what = 'the call'): Promise<T> {
  const { tf, ready } = await import('../lib/engine/backend');
  await ready();
  const before = tf.memory().numTensors;
  const result = await fn();
  const after = tf.memory().numTensors;
  assert.equal(after, before, `${what} leaked ${after - before} tensor(s)`);
  return result;
}

/** Asserts |actual - expected| <= tol, with a message naming the quantity. */
export function assertClose(actual: number, expected: number, tol: number, what = 'value'): void {
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what}: expected ${expected} within ${tol}, got ${actual} (diff ${Math.abs(actual - expected)})`,
  );
}

/** The values of `t` as a flat plain array (row-major); disposes `t`, so a call can wrap an op's result. */
export function readArray(t: tf.Tensor): number[] {
  const out = Array.from(t.dataSync());
  t.dispose();
  return out;
}

/** A TCP port free on 127.0.0.1 right now (the system picks it; it can be taken again before it is used). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** The largest |a[i] - b[i]| of two equally long arrays (asserts the lengths match). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length mismatch');
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Composite Simpson rule of f on [a, b] with `n` (even) intervals. */
export function simpson(f: (x: number) => number, a: number, b: number, n = 4000): number {
  const h = (b - a) / n;
  let s = f(a) + f(b);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * f(a + i * h);
  return (s * h) / 3;
}

/**
 * Loads the WASM backend's kernel table if the platform's backend selection has not already (e.g. under
 * GENLAB_BACKEND=tensorflow), so tests can compare it with the cpu backend; false when the package is absent.
 */
export function ensureWasmLoaded(): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { tf } = require('../lib/engine/tf') as typeof import('../lib/engine/tf');
  if (tf.findBackendFactory('wasm')) return true;
  try {
    require('@tensorflow/tfjs-backend-wasm'); // eslint-disable-line @typescript-eslint/no-require-imports
    return true;
  } catch {
    return false;
  }
}

/**
 * `npm test` runs the unit tests again on other Node majors (scripts/test.ts) with `GENLAB_TEST_RERUN=other-node`.
 * There the engine, backend and seeds are those of the wasm run on the main Node, so a test that only re-measures
 * what a model learns (minutes of training, the same figures) checks nothing new: it passes this as its `skip`.
 * Returns the reason to skip, or false on the main runs.
 */
export function sameEngineRerun(): string | false {
  return process.env.GENLAB_TEST_RERUN === 'other-node'
    ? 'the same engine and seeds as the wasm run on the main Node, which measured this (scripts/test.ts)'
    : false;
}
