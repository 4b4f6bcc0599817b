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

interface Cell {
  cell_type: string;
  source: string | string[];
  metadata: { tags?: string[]; jupyter?: { source_hidden?: boolean }; slideshow?: { slide_type?: string } };
}

const dir = path.resolve(__dirname, '..', '..', 'notebooks');
const notebooks = fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort();
const text = (c: Cell) => (Array.isArray(c.source) ? c.source.join('') : c.source);
const isSolution = (c: Cell) => (c.metadata.tags ?? []).includes('solution');

/** The exercise numbers a solution cell answers, from its first line: `// Solution to exercise 3` or `... exercises 2 and 4`. */
function solvedExercises(c: Cell): number[] {
  const first = text(c).split('\n')[0];
  const m = c.cell_type === 'code' ? first.match(/^\/\/ Solution to exercises? ([\d, and]+)/) : first.match(/^\*\*Solution to exercises? ([\d, and]+)/);
  return m ? (m[1].match(/\d+/g) ?? []).map(Number) : [];
}

test('every lecture notebook ends with numbered exercises, each followed by a revealable solution cell', () => {
  assert.ok(notebooks.length >= 15, `expected notebooks 00-14; found ${notebooks.length}`);
  let exercises = 0;
  let solutions = 0;
  for (const name of notebooks) {
    const cells = (JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as { cells: Cell[] }).cells;
    const at = cells.findIndex((c) => c.cell_type === 'markdown' && /^## Exercises\b/m.test(text(c)));
    assert.ok(at >= 0, `${name}: no "## Exercises" markdown cell`);
    const numbers = [...text(cells[at]).matchAll(/^(\d+)\. /gm)].map((m) => Number(m[1]));
    assert.ok(numbers.length > 0, `${name}: the exercises cell has no numbered exercises`);
    assert.deepEqual(numbers, numbers.map((_, i) => i + 1), `${name}: exercises are numbered 1, 2, ...`);
    // the solutions: the run of solution cells right after the exercises
    let end = at + 1;
    while (end < cells.length && isSolution(cells[end])) end++;
    const block = cells.slice(at + 1, end);
    const stray = cells.findIndex((c, i) => isSolution(c) && (i <= at || i >= end));
    assert.equal(stray, -1, `${name}: solution cell ${stray} is not in the block right after the exercises`);
    for (const [k, c] of block.entries()) {
      const where = `${name}, cell ${at + 1 + k}`;
      assert.equal(c.metadata.jupyter?.source_hidden, true, `${where}: a solution is collapsed in JupyterLab (jupyter.source_hidden)`);
      assert.equal(c.metadata.slideshow?.slide_type, 'skip', `${where}: a solution is left out of the slides (slide_type skip)`);
      if (c.cell_type === 'code') {
        assert.ok(solvedExercises(c).length > 0, `${where}: a solution code cell opens with "// Solution to exercise N: ..."`);
        const code = text(c);
        assert.ok(/\bthrow\b/.test(code) || /\/\/ no check: \S/.test(code), `${where}: checks its answer with a throw, or says why not ("// no check: ...")`);
        assert.ok(!/^import /m.test(code), `${where}: solutions use the notebook's imports`);
      }
    }
    const covered = new Set(block.flatMap(solvedExercises));
    const missing = numbers.filter((n) => !covered.has(n));
    assert.deepEqual(missing, [], `${name}: exercises without a solution cell`);
    exercises += numbers.length;
    solutions += block.length;
  }
  process.stderr.write(`# ${exercises} exercises, ${solutions} solution cells in ${notebooks.length} notebooks\n`);
});
