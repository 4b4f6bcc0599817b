/** Shared test utilities. */
import * as assert from 'node:assert/strict';
import { tf, ready } from '../lib/engine/backend';

/** Runs `fn` and asserts that the number of live tensors is the same afterwards. */
export async function assertNoLeak<T>(fn: () => T | Promise<T>, what = 'the call'): Promise<T> {
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
