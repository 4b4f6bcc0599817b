/** historyFrame: a History from a real fit becomes a danfo DataFrame in one call, rendered by `table`. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf, ready } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { Autoencoder } from '../lib/autoencoder';
import { historyFrame, tableText } from '../lib/display';

test('historyFrame: columns epoch, metrics, seconds; one row per epoch; values kept; table renders it', async () => {
  await ready();
  const rng = new Random(1);
  const x = tf.tensor2d(rng.uniformArray(32 * 6), [32, 6]);
  const ae = new Autoencoder({ inputDim: 6, codeDim: 2, seed: 1 });
  try {
    const h = await ae.fit(x, { epochs: 3, batchSize: 8, validation: x, progress: false });
    const df = historyFrame(h);
    assert.deepEqual(df.columns, ['epoch', ...Object.keys(h).filter((k) => k !== 'epoch' && k !== 'seconds'), 'seconds']);
    assert.ok(df.columns.includes('loss') && df.columns.includes('valLoss'));
    assert.deepEqual(df.shape, [3, df.columns.length]);
    assert.deepEqual(df.column('loss').values, h.loss);
    assert.deepEqual(df.column('epoch').values, [1, 2, 3]);
    const text = tableText(df);
    assert.match(text, /epoch/);
    assert.match(text, /valLoss/);
    assert.equal(text.trim().split('\n').length, 2 + 3, 'header, rule and three epochs');
  } finally {
    ae.dispose();
    x.dispose();
  }
});

test('historyFrame: bad histories named', () => {
  assert.throws(() => historyFrame(null as never), /history must be an object/);
  assert.throws(() => historyFrame({}), /at least one column/);
  assert.throws(() => historyFrame({ epoch: [1, 2], loss: [0.5] }), /history\.loss has 1 values but history\.epoch has 2/);
  assert.throws(() => historyFrame({ epoch: [1], loss: ['a'] as never }), /history\.loss must be a number\[\]/);
});
