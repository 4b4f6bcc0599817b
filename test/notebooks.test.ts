/**
 * Every notebook in notebooks/ executes through real Jupyter with the tslab kernel, in quick mode, by the same code
 * that `npm run lectures` runs (scripts/lectures.ts). New notebooks are picked up automatically.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../scripts/jupyter';
import { listNotebooks, runNotebook } from '../scripts/lectures';

const OUT = path.join(repoRoot(), 'build', 'test-notebooks');
const SLIDE_TYPES = ['slide', 'subslide', 'fragment', 'skip', 'notes', '-'];

interface Cell {
  cell_type: string;
  source: string | string[];
  metadata: { slideshow?: { slide_type?: string }; tags?: string[] };
  outputs?: { output_type: string; name?: string; text?: string | string[] }[];
  execution_count?: number | null;
}

const read = (file: string): { cells: Cell[]; metadata: { kernelspec?: { name?: string } } } =>
  JSON.parse(fs.readFileSync(file, 'utf8'));

const notebooks = listNotebooks();

test('there are notebooks to run', () => {
  assert.ok(notebooks.some((n) => path.basename(n) === '00-getting-started.ipynb'), notebooks.join(', '));
});

for (const nb of notebooks) {
  const name = path.basename(nb);

  test(`${name}: committed clean (no outputs), tslab kernel, slide metadata on every cell`, () => {
    const doc = read(nb);
    assert.equal(doc.metadata.kernelspec?.name, 'tslab', 'kernelspec.name must be tslab');
    doc.cells.forEach((c, i) => {
      if (c.cell_type === 'code') {
        assert.deepEqual(c.outputs, [], `cell ${i} has outputs: strip them before committing`);
        assert.equal(c.execution_count ?? null, null, `cell ${i} has an execution count`);
      }
      const t = c.metadata.slideshow?.slide_type;
      assert.ok(t !== undefined && SLIDE_TYPES.includes(t), `cell ${i} lacks metadata.slideshow.slide_type (got ${t})`);
    });
  });

  test(`${name}: executes in quick mode through Jupyter (tslab kernel) and exports`, async () => {
    const r = await runNotebook(nb, {
      quick: true,
      timeout: 300,
      outDir: OUT,
      log: (l) => process.stderr.write(`${l}\n`),
    });
    assert.ok(r.seconds < 600, `${name} took ${r.seconds} s in quick mode`);
    const executed = read(r.outputs.notebook);
    const code = executed.cells.filter((c) => c.cell_type === 'code');
    assert.ok(code.every((c) => typeof c.execution_count === 'number'), 'every code cell ran');
    for (const f of [r.outputs.html, r.outputs.slides]) {
      assert.ok(f && fs.statSync(f).size > 10000, `${f} written`);
    }
  });
}
