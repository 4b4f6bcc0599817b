/**
 * digitGuidanceTable (lib/judge/guidance.ts): with a stand-in model that returns real held-out digits of the classes
 * asked for, the judge names nearly all of them; with digits of the next class, none; options checked by name.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf, ready } from '../lib/engine/backend';
import { loadMnist } from '../datasets/mnist';
import { digitGuidanceTable } from '../lib/judge/guidance';
import { pretrained } from '../lib/pretrained/registry';
import { assertNoLeak } from './helpers';

test('digitGuidanceTable: real digits of the asked class are named, the next class never; the same seed per weight; checked', async () => {
  await ready();
  const test = await loadMnist({ split: 'test', trainSize: 8000, seed: 0 });
  const judge = await pretrained('digit-classifier');
  const byClass = Array.from({ length: 10 }, (_, c) => Array.from(test.labels).flatMap((l, i) => (l === c ? [i] : [])));
  const seen: { guidance: number; seed: number }[] = [];
  /** Real digits: guidance w shifts the class by `shift(w)`; each call records its weight and seed. */
  const standIn = (shift: (w: number) => number) => ({
    async sample(n: number, o: { labels: number[]; guidance: number; seed: number }) {
      seen.push({ guidance: o.guidance, seed: o.seed });
      const rows = o.labels.map((c, i) => byClass[(c + shift(o.guidance)) % 10][i % byClass[0].length]);
      return tf.tidy(() => tf.gather(test.images, tf.tensor1d(rows, 'int32')));
    },
  });
  try {
    const rows = await assertNoLeak(() => digitGuidanceTable(standIn((w) => (w === 3 ? 1 : 0)), { judge, perClass: 8, seed: 5 }), 'digitGuidanceTable');
    assert.deepEqual(rows.map((r) => r.guidance), [0, 1, 3, 7]);
    assert.deepEqual(seen, [0, 1, 3, 7].map((guidance) => ({ guidance, seed: 5 })));
    for (const r of rows) {
      assert.equal(r.n, 80);
      if (r.guidance === 3) assert.ok(r.accuracy < 0.05, `digits of the next class: accuracy ${r.accuracy}`);
      else assert.ok(r.accuracy >= 0.95 && r.recognised <= r.accuracy && r.recognised >= 0.85, `w ${r.guidance}: ${r.accuracy}, ${r.recognised}`);
    }
    await assert.rejects(digitGuidanceTable(standIn(() => 0), { judge, perClass: 0 }), /perClass must be a positive integer; got 0/);
    await assert.rejects(digitGuidanceTable(standIn(() => 0), { judge, guidance: [1, -2] }), /guidance\[1\] must be .*got -2/);
    await assert.rejects(digitGuidanceTable({} as never, { judge }), /model must be a class-conditional model with sample/);
    await assert.rejects(digitGuidanceTable(standIn(() => 0), { judge, perclass: 2 } as never), /unknown option 'perclass'.*did you mean 'perClass'/);
  } finally {
    judge.dispose();
    test.images.dispose();
  }
});
