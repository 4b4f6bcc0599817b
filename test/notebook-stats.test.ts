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
  assert.equal(missedTargets({ notebook: 'all', codeCells: 20, disposals: 4, casts: 6, readyAwaits: 1 }).length, 3);
  assert.deepEqual(missedTargets({ notebook: 'all', codeCells: 20, disposals: 3, casts: 5, readyAwaits: 0 }), []);
});

test('notebooks/*.ipynb meet the targets: <= 0.15 hand disposals per code cell, <= 5 tensor casts, no await ready()', () => {
  const { perNotebook, total } = allNotebookStats(path.resolve(__dirname, '..', '..'));
  assert.ok(perNotebook.length >= 12, `expected the lecture notebooks; found ${perNotebook.length}`);
  assert.deepEqual(missedTargets(total), [], JSON.stringify(total));
});
