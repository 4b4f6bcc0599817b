/** lib/core/read.ts: results back to plain numbers, ranks checked instead of asserted. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ready, tf } from '../lib/engine/backend';
import { last, toArray, toNumber, toRows } from '../lib/core/read';
import { assertNoLeak } from './helpers';

test('toNumber, toArray, toRows and last read values without casts and leak nothing', async () => {
  await ready();
  const s = tf.scalar(2.5);
  const one = tf.tensor1d([7]);
  const v = tf.tensor1d([1, 2, 3]);
  const m = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
  const img = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 1]);
  await assertNoLeak(() => {
    assert.equal(toNumber(s), 2.5);
    assert.equal(toNumber(one), 7);
    assert.deepEqual(toArray(v), [1, 2, 3]);
    assert.deepEqual(toRows(m), [[1, 2], [3, 4], [5, 6]]);
    assert.deepEqual(toRows(img), [[1, 2, 3, 4], [5, 6, 7, 8]]);
  }, 'reading');
  assert.equal(last([1, 2, 3]), 3);
  assert.throws(() => toNumber(v), /toNumber needs a tensor with one element; got shape \[3\]/);
  assert.throws(() => toArray(m), /toArray needs a vector \[n\]; got shape \[3, 2\]/);
  assert.throws(() => toRows(v), /toRows needs a batch/);
  assert.throws(() => last([]), /last needs a non-empty array/);
  assert.throws(() => toNumber([1] as never), /toNumber needs a tensor; got an array/);
  tf.dispose([s, one, v, m, img]);
});
