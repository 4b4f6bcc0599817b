/**
 * Chores in the lecture notebooks, measured: hand `dispose` calls per code cell, type assertions (every `as <type>`
 * but `as const`, and every non-null assertion `x!`) and `await ready()` lines, over notebooks/*.ipynb. The targets
 * (issues 11 and 23): at most 0.15 hand disposals per code cell, at most 10 assertions in all notebooks, no
 * `await ready()`.
 *
 *   node dist/scripts/notebook-stats.js            # table per notebook and totals; exit 1 when a target is missed
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cellSource, parseNotebook } from './notebook-cells';

/** The targets the notebooks must meet. */
export const NOTEBOOK_TARGETS = { disposalsPerCell: 0.15, casts: 10, readyAwaits: 0 } as const;

/** Counts of one notebook (or of all of them). */
export interface NotebookStats {
  notebook: string;
  codeCells: number;
  /** `x.dispose()` and `tf.dispose(...)` calls written in the cells. */
  disposals: number;
  /** Type assertions: `as <type>` (`as number[][]`, `as tf.Tensor2D`, ...; not `as const`) and non-null `x!`. */
  casts: number;
  /** `await ready()` calls. */
  readyAwaits: number;
}

/** `x as T` (not `as const`, and not `import * as m` / `{ a as b }` renames, which follow `*`, `import` or a name in braces). */
const TYPE_ASSERTION = /(?<![*{,]\s*\w*\s*)(?<=[\w)\]}'"`]\s*)\bas\s+(?!const\b)[A-Za-z_{[(]/g;
/** `x!` followed by `.`, `[`, `)`, `,`, `;` or the end of a line (not `!=`, not a leading `!x`). */
const NON_NULL_ASSERTION = /(?<=[\w)\]])!(?=[.[),;\s]|$)(?!=)/gm;

/** The code with comments removed and string and template literals emptied (their quotes kept). */
function stripCommentsAndStrings(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\/|\/\/.*$|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/gm, (m) =>
    m.startsWith('/') ? '' : m[0] + m[0],
  );
}

/** Counts the chores in the code cells of one notebook's JSON text. */
export function notebookStats(name: string, json: string): NotebookStats {
  const code = parseNotebook(json, name).cells.filter((c) => c.cell_type === 'code').map(cellSource);
  // Comments and string literals do not count (a cell may explain what it no longer has to do; a title may say 'Hi!').
  const stripped = code.map(stripCommentsAndStrings);
  const count = (re: RegExp) => stripped.reduce((n, s) => n + (s.match(re)?.length ?? 0), 0);
  return {
    notebook: name,
    codeCells: code.length,
    disposals: count(/\bdispose\s*\(/g),
    casts: count(TYPE_ASSERTION) + count(NON_NULL_ASSERTION),
    readyAwaits: count(/\bawait\s+ready\s*\(\s*\)/g),
  };
}

/** Stats of every notebooks/*.ipynb under `root`, and their total. */
export function allNotebookStats(root: string): { perNotebook: NotebookStats[]; total: NotebookStats } {
  const dir = path.join(root, 'notebooks');
  const perNotebook = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb'))
    .sort()
    .map((f) => notebookStats(f, fs.readFileSync(path.join(dir, f), 'utf8')));
  const total = perNotebook.reduce(
    (t, s) => ({ ...t, codeCells: t.codeCells + s.codeCells, disposals: t.disposals + s.disposals, casts: t.casts + s.casts, readyAwaits: t.readyAwaits + s.readyAwaits }),
    { notebook: 'all', codeCells: 0, disposals: 0, casts: 0, readyAwaits: 0 },
  );
  return { perNotebook, total };
}

/** Which targets the totals miss (empty when all are met). */
export function missedTargets(total: NotebookStats): string[] {
  const out: string[] = [];
  const perCell = total.disposals / Math.max(1, total.codeCells);
  if (perCell > NOTEBOOK_TARGETS.disposalsPerCell) out.push(`${perCell.toFixed(3)} hand disposals per code cell (target <= ${NOTEBOOK_TARGETS.disposalsPerCell})`);
  if (total.casts > NOTEBOOK_TARGETS.casts) out.push(`${total.casts} type assertions (target <= ${NOTEBOOK_TARGETS.casts})`);
  if (total.readyAwaits > NOTEBOOK_TARGETS.readyAwaits) out.push(`${total.readyAwaits} await ready() (target ${NOTEBOOK_TARGETS.readyAwaits})`);
  return out;
}

if (require.main === module) {
  const root = path.resolve(__dirname, '..', '..');
  const { perNotebook, total } = allNotebookStats(root);
  const rows = [...perNotebook, total];
  const w = Math.max(...rows.map((r) => r.notebook.length));
  console.log(`${'notebook'.padEnd(w)}  cells  dispose  per cell  casts  await ready()`);
  for (const r of rows) {
    console.log(
      `${r.notebook.padEnd(w)}  ${String(r.codeCells).padStart(5)}  ${String(r.disposals).padStart(7)}  ` +
        `${(r.disposals / Math.max(1, r.codeCells)).toFixed(3).padStart(8)}  ${String(r.casts).padStart(5)}  ${String(r.readyAwaits).padStart(13)}`,
    );
  }
  const missed = missedTargets(total);
  if (missed.length) {
    console.error(`targets missed: ${missed.join('; ')}`);
    process.exitCode = 1;
  }
}
