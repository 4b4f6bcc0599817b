/** scripts/lectures.ts without Jupyter: the time table `npm run lectures` ends with. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LECTURE_BUDGET_SECONDS, lectureTimeTable } from '../scripts/lectures';

test('npm run lectures ends with a time table per notebook against the budget (3 minutes full, 1 quick)', () => {
  const results = [
    { source: '/x/notebooks/12-energy-based-models.ipynb', seconds: 200, cellSeconds: 190.04, outputs: { notebook: '' } },
    { source: '/x/notebooks/00-getting-started.ipynb', seconds: 20, cellSeconds: 9.5, outputs: { notebook: '' } },
  ];
  const full = lectureTimeTable(results, false);
  assert.match(full.markdown, /full mode/);
  assert.match(full.markdown, /\| 12-energy-based-models \| 3 min 10 s \| 3 min 20 s \| \*\*no\*\* \(\+10\.0 s\) \|/);
  assert.match(full.markdown, /\| 00-getting-started \| 9\.5 s \| 20\.0 s \| yes \|/);
  const j = full.json as { budgetSeconds: number; notebooks: { notebook: string; withinBudget: boolean }[] };
  assert.equal(j.budgetSeconds, LECTURE_BUDGET_SECONDS.full);
  assert.deepEqual(j.notebooks.map((n) => n.withinBudget), [false, true]);
  const quick = lectureTimeTable(results, true).json as typeof j;
  assert.equal(quick.budgetSeconds, LECTURE_BUDGET_SECONDS.quick);
  assert.deepEqual(quick.notebooks.map((n) => n.withinBudget), [false, true]);
});
