/**
 * historyFrame: a History from a real fit becomes a danfo DataFrame in one call, rendered by `table`; frame: columns
 * or records become one (the notebooks' sweeps and comparison tables).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf, ready } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { Autoencoder } from '../lib/autoencoder';
import { frame, historyFrame, tableHtml, tableText } from '../lib/display';

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

test('frame: columns (typed arrays too) and records become a DataFrame that table renders; danfo methods apply', () => {
  const df = frame({ T: [1.5, 2.269, 3.5], 'E/N': new Float64Array([-1.97, -1.41, -0.63]), phase: ['ordered', 'critical', 'disordered'] });
  assert.deepEqual(df.columns, ['T', 'E/N', 'phase']);
  assert.deepEqual(df.shape, [3, 3]);
  assert.deepEqual(df.column('E/N').values, [-1.97, -1.41, -0.63]);
  assert.deepEqual(df.sortValues('E/N', { ascending: false }).column('T').values, [3.5, 2.269, 1.5]);
  const html = tableHtml(df);
  assert.match(html, /<th[^>]*>E\/N<\/th>/);
  assert.match(html, />critical</);
  assert.equal(tableText(df).trim().split('\n').length, 2 + 3);
  const recs = frame([{ model: 'VAE', mmd: 0.02 }, { model: 'DDPM', mmd: 0.01, seconds: 4 }]);
  assert.deepEqual(recs.columns, ['model', 'mmd', 'seconds'], 'columns in first-seen order');
  assert.deepEqual(recs.column('model').values, ['VAE', 'DDPM']);
  assert.ok(Number.isNaN(recs.column('seconds').values[0] as number), 'a missing key is an empty (NaN) cell');
  assert.equal(recs.column('seconds').values[1], 4);
});

test('frame: bad input named', () => {
  assert.throws(() => frame(null as never), /frame needs columns .* or records/);
  assert.throws(() => frame([]), /at least one record/);
  assert.throws(() => frame({}), /at least one column/);
  assert.throws(() => frame({ a: [1, 2], b: [1] }), /column "b" has 1 values but "a" has 2/);
  assert.throws(() => frame({ a: 3 as never }), /column "a" must be an array; got 3/);
  assert.throws(() => frame([{ a: 1 }, 2 as never]), /record 1 must be an object/);
  assert.throws(() => frame({ a: [1, { x: 1 }] as never }), /column "a", row 1: cells must be numbers, strings or booleans/);
});
