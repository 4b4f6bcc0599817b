/**
 * The lecture notebooks type-check without Jupyter (scripts/notebook-typecheck.ts): every notebook's code cells,
 * compiled in strict mode against the built package with tslab's compiler. One compiler program checks the notebooks
 * and two small fixtures (about 15 s; the libraries are parsed once).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { notebookModule, typecheckNotebookSources, formatNotebookTypeError, NotebookTypeError } from '../scripts/notebook-typecheck';
import { tslabNotebook } from '../scripts/notebook-cells';

const root = path.resolve(__dirname, '..', '..');
const dir = path.join(root, 'notebooks');
const lectures = fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort();

// Cell 0 is the title (markdown); code cells follow from index 1.
const good = tslabNotebook([
  "import { tf, GAN, toNumber } from 'genlab';",
  'const gan = new GAN({ dataShape: [2], seed: 1 });\nconst rows: number[][] = (await gan.sample(4)).arraySync(); // typed by dataShape: no cast',
  'const one: number = tf.tidy(() => toNumber(tf.scalar(1)));',
], { title: '# good' });
const bad = tslabNotebook([
  "import { GAN } from 'genlab';\nconst n = 1;",
  'const m = n + 1;\nconst s: string = m;',
  "const g = new GAN({ dataShape: [2], latentDim: 'two' });",
], { title: '# bad' });

let result: NotebookTypeError[] | undefined;
/** The errors of one check over the lectures and the fixtures (computed once). */
function errors(): NotebookTypeError[] {
  result ??= typecheckNotebookSources(dir, [
    ...lectures.map((name) => ({ name, json: fs.readFileSync(path.join(dir, name), 'utf8') })),
    { name: 'fixture-good.ipynb', json: JSON.stringify(good) },
    { name: 'fixture-bad.ipynb', json: JSON.stringify(bad) },
  ]);
  return result;
}

test('notebookModule joins the code cells in order and maps each line back to its cell and line', () => {
  const m = notebookModule(JSON.stringify(bad));
  assert.match(m.source, /^export \{\};\nimport \{ GAN \} from 'genlab';\nconst n = 1;\nconst m = n \+ 1;/);
  const at = m.source.split('\n').indexOf('const s: string = m;');
  assert.deepEqual(m.origin[at], { cell: 2, line: 2 });
  assert.equal(m.origin[0].cell, -1, 'the added export line belongs to no cell');
});

test('type errors are reported by notebook, cell and line; genlab resolves to its real types', () => {
  const found = errors().filter((e) => e.notebook.startsWith('fixture-'));
  assert.deepEqual(found.map((e) => [e.notebook, e.cell, e.line]), [['fixture-bad.ipynb', 2, 2], ['fixture-bad.ipynb', 3, 1]], found.map(formatNotebookTypeError).join('\n'));
  assert.match(found[0].message, /not assignable to type 'string'/);
  assert.match(found[1].message, /'string' is not assignable to type 'number'/); // GANOptions.latentDim: genlab is typed
  assert.match(formatNotebookTypeError(found[0]), /^fixture-bad\.ipynb, cell 2, line 2: /);
});

test('every lecture notebook type-checks (strict, tslab compiler, against dist/)', () => {
  assert.ok(lectures.length >= 12, `expected the lecture notebooks; found ${lectures.length}`);
  const found = errors().filter((e) => !e.notebook.startsWith('fixture-'));
  assert.deepEqual(found.map(formatNotebookTypeError), []);
});
