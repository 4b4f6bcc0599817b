/**
 * Worked solutions (issue 17 item 8), checked statically over notebooks/*.ipynb: every lecture notebook ends with a
 * "## Exercises" cell, and right after it, for every numbered exercise, at least one solution cell a student can
 * reveal: tagged "solution", collapsed in JupyterLab (`jupyter.source_hidden`) and left out of the slides
 * (`slide_type: skip`). A solution code cell opens with `// Solution to exercise N: ...` (the page's <details>
 * summary) and checks its answer with a `throw` unless it says why not (`// no check: ...`). That the cells run is
 * shown by the notebooks' execution (test/notebooks.test.ts, CI); how the page and the slides show them, by
 * test/export.test.ts.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cellSource as text, NotebookCell as Cell, readNotebook } from '../scripts/notebook-cells';

const dir = path.resolve(__dirname, '..', '..', 'notebooks');
const notebooks = fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort();
const isSolution = (c: Cell) => (c.metadata.tags ?? []).includes('solution');

/** The exercise numbers a solution cell answers, from its first line: `// Solution to exercise 3` or `... exercises 2 and 4`. */
function solvedExercises(c: Cell): number[] {
  const first = text(c).split('\n')[0];
  const m = c.cell_type === 'code' ? first.match(/^\/\/ Solution to exercises? ([\d, and]+)/) : first.match(/^\*\*Solution to exercises? ([\d, and]+)/);
  return m ? (m[1].match(/\d+/g) ?? []).map(Number) : [];
}

/** What is wrong with one notebook's exercises and solutions (empty when nothing), and what it holds. */
function checkNotebook(name: string, cells: Cell[]): { exercises: number; solutions: number; problems: string[] } {
  const problems: string[] = [];
  const at = cells.findIndex((c) => c.cell_type === 'markdown' && /^## Exercises\b/m.test(text(c)));
  if (at < 0) return { exercises: 0, solutions: 0, problems: [`${name}: no "## Exercises" markdown cell`] };
  const numbers = [...text(cells[at]).matchAll(/^(\d+)\. /gm)].map((m) => Number(m[1]));
  if (numbers.length === 0) problems.push(`${name}: the exercises cell has no numbered exercises`);
  if (numbers.some((n, i) => n !== i + 1)) problems.push(`${name}: exercises are not numbered 1, 2, ...`);
  // the solutions: the run of solution cells right after the exercises
  let end = at + 1;
  while (end < cells.length && isSolution(cells[end])) end++;
  const block = cells.slice(at + 1, end);
  cells.forEach((c, i) => { if (isSolution(c) && (i <= at || i >= end)) problems.push(`${name}, cell ${i}: a solution cell outside the block right after the exercises`); });
  block.forEach((c, k) => {
    const where = `${name}, cell ${at + 1 + k}`;
    if (c.metadata.jupyter?.source_hidden !== true) problems.push(`${where}: not collapsed in JupyterLab (jupyter.source_hidden)`);
    if (c.metadata.slideshow?.slide_type !== 'skip') problems.push(`${where}: not left out of the slides (slide_type skip)`);
    if (c.cell_type !== 'code') return;
    const code = text(c);
    if (solvedExercises(c).length === 0) problems.push(`${where}: does not open with "// Solution to exercise N: ..."`);
    if (!/\bthrow\b/.test(code) && !/\/\/ no check: \S/.test(code)) problems.push(`${where}: no check that throws, and no "// no check: <why>"`);
    if (/^import /m.test(code)) problems.push(`${where}: imports (solutions use the notebook's imports cell)`);
  });
  const covered = new Set(block.flatMap(solvedExercises));
  const missing = numbers.filter((n) => !covered.has(n));
  if (missing.length > 0) problems.push(`${name}: no solution cell for exercise(s) ${missing.join(', ')}`);
  return { exercises: numbers.length, solutions: block.length, problems };
}

const md = (source: string, metadata: Cell['metadata'] = {}): Cell => ({ cell_type: 'markdown', source, metadata });
const code = (source: string, metadata: Cell['metadata'] = {}): Cell => ({ cell_type: 'code', source, metadata });
const SOLUTION = { tags: ['solution'], jupyter: { source_hidden: true }, slideshow: { slide_type: 'skip' } };

test('the check names what is wrong: a missing solution, visible or slid solutions, no check, a stray solution', () => {
  const exercises = md('## Exercises\n\n1. First.\n2. Second.');
  const good = code('// Solution to exercise 1: x\nif (x) throw new Error();', SOLUTION);
  assert.deepEqual(checkNotebook('ok', [exercises, good, code('// Solution to exercise 2: y\n// no check: a figure', SOLUTION)]).problems, []);
  assert.deepEqual(checkNotebook('ok2', [exercises, code('// Solution to exercises 1 and 2: both\nthrow 1;', SOLUTION)]).problems, []);
  const p = (cells: Cell[]) => checkNotebook('n', cells).problems.join('\n');
  assert.match(p([md('# no exercises')]), /no "## Exercises"/);
  assert.match(p([exercises, good]), /no solution cell for exercise\(s\) 2/);
  assert.match(p([exercises, good, code('// Solution to exercise 2: y\nthrow 1;', { ...SOLUTION, jupyter: {} })]), /cell 2: not collapsed/);
  assert.match(p([exercises, good, code('// Solution to exercise 2: y\nthrow 1;', { ...SOLUTION, slideshow: { slide_type: 'fragment' } })]), /cell 2: not left out of the slides/);
  assert.match(p([exercises, good, code('// Solution to exercise 2: y\nconsole.log(1);', SOLUTION)]), /cell 2: no check that throws/);
  assert.match(p([exercises, good, code('// the answer\nthrow 1;', SOLUTION)]), /cell 2: does not open with/);
  assert.match(p([exercises, good, code('x', {}), code('// Solution to exercise 2: y\nthrow 1;', SOLUTION)]), /cell 3: a solution cell outside the block/);
});

test('every lecture notebook ends with numbered exercises, each followed by a revealable solution cell', () => {
  assert.ok(notebooks.length >= 15, `expected notebooks 00-14; found ${notebooks.length}`);
  let exercises = 0;
  let solutions = 0;
  const problems: string[] = [];
  for (const name of notebooks) {
    const r = checkNotebook(name, readNotebook(path.join(dir, name)).cells);
    exercises += r.exercises;
    solutions += r.solutions;
    problems.push(...r.problems);
  }
  assert.deepEqual(problems, []);
  process.stderr.write(`# ${exercises} exercises, ${solutions} solution cells in ${notebooks.length} notebooks\n`);
});
