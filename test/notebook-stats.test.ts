/** The lecture notebooks stay free of chores: the targets of issue 11, measured by scripts/notebook-stats.ts. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { allNotebookStats, missedTargets, notebookStats } from '../scripts/notebook-stats';

test('notebook-stats counts disposals, casts and await ready() in code cells only, comments excluded', () => {
  const nb = JSON.stringify({
    cells: [
      { cell_type: 'markdown', source: 'x.dispose(); await ready();' },
      { cell_type: 'code', source: ['await ready();\n', 'const y = x as tf.Tensor2D; // y.dispose()\n', 'tf.dispose([a, b]); z.dispose();'] },
      { cell_type: 'code', source: 'const s = t as tf.Scalar; /* q.dispose() */' },
    ],
  });
  assert.deepEqual(notebookStats('n', nb), { notebook: 'n', codeCells: 2, disposals: 2, casts: 2, readyAwaits: 1 });
  // every assertion counts (`as number[][]`, `x!`), but not `as const`, renames in imports, `!=`, `!x` or strings
  const more = JSON.stringify({
    cells: [
      { cell_type: 'code', source: "import * as fs from 'fs';\nimport { a as b } from 'm';\nconst k = ['x'] as const;\nconst t = 'Hi!';" },
      { cell_type: 'code', source: 'const r = x.arraySync() as number[][];\nconst l = h.loss.at(-1)!;\nconst m = run.cfg![0];\nif (a != b && !c) f(d!);' },
    ],
  });
  assert.equal(notebookStats('m', more).casts, 4);
  assert.equal(missedTargets({ notebook: 'all', codeCells: 20, disposals: 4, casts: 11, readyAwaits: 1 }).length, 3);
  assert.deepEqual(missedTargets({ notebook: 'all', codeCells: 20, disposals: 3, casts: 10, readyAwaits: 0 }), []);
});

test('notebooks/*.ipynb meet the targets: <= 0.15 hand disposals per code cell, <= 10 type assertions, no await ready()', () => {
  const { perNotebook, total } = allNotebookStats(path.resolve(__dirname, '..', '..'));
  assert.ok(perNotebook.length >= 12, `expected the lecture notebooks; found ${perNotebook.length}`);
  assert.deepEqual(missedTargets(total), [], JSON.stringify(total));
});
