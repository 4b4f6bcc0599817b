/**
 * Type-checks the lecture notebooks without Jupyter: each notebook's code cells, in order, become one TypeScript
 * module (top-level `await` allowed) compiled against the built package (`import ... from 'genlab'` resolves through
 * node_modules/genlab, i.e. dist/), with the kernel's own compiler (tslab's TypeScript) and its target and libraries,
 * in strict mode. An error is reported by notebook, cell index (as in the .ipynb) and line within the cell.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/notebook-typecheck.js [name ...]   # exit 1 on any error
 *
 * A name filter keeps notebooks whose file name contains any of the names (`... 03 13`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from '@tslab/typescript-for-tslab';
import { cellSource, parseNotebook } from './notebook-cells';

/** One type error in a notebook's code. */
export interface NotebookTypeError {
  notebook: string;
  /** Index of the cell in the notebook's `cells` (markdown cells counted), or -1 outside any cell. */
  cell: number;
  /** 1-based line within the cell. */
  line: number;
  message: string;
}

/** A notebook's code cells joined into one module, and where each line came from. */
export interface NotebookModule {
  source: string;
  /** For each line of `source` (0-based), the cell index and the 1-based line in that cell; -1 for added lines. */
  origin: { cell: number; line: number }[];
}

/**
 * The code cells of a notebook's JSON text as one module: `export {};` first (a module, so top-level `await` compiles
 * and names stay per notebook), then each code cell in order.
 */
export function notebookModule(json: string, name = 'notebook'): NotebookModule {
  const lines: string[] = ['export {};'];
  const origin = [{ cell: -1, line: 0 }];
  parseNotebook(json, name).cells.forEach((c, cell) => {
    if (c.cell_type !== 'code') return;
    cellSource(c).split('\n').forEach((text, i) => {
      lines.push(text);
      origin.push({ cell, line: i + 1 });
    });
  });
  return { source: lines.join('\n') + '\n', origin };
}

/**
 * What tslab compiles a cell with (tslab/dist/converter.js: ES module, Node10 resolution, ES2022 target and library,
 * esModuleInterop, skipLibCheck), plus `strict`, so code that passes here passes in the kernel.
 */
const KERNEL_OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2022.d.ts'],
  types: ['node'],
  esModuleInterop: true,
  resolveJsonModule: true,
  skipLibCheck: true,
  strict: true,
  noEmit: true,
};

/**
 * Type-checks notebooks given as JSON texts, as if they were files `name` in `dir` (so `'genlab'` resolves from there,
 * through `dir`'s node_modules or a parent's). One compiler program for all of them.
 */
export function typecheckNotebookSources(dir: string, notebooks: { name: string; json: string }[]): NotebookTypeError[] {
  const modules = new Map(notebooks.map((n) => [path.join(dir, n.name.replace(/\.ipynb$/, '') + '.nb.ts'), { name: n.name, ...notebookModule(n.json, n.name) }]));
  const host = ts.createCompilerHost(KERNEL_OPTIONS);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (file, version, ...rest) => {
    const m = modules.get(path.resolve(file));
    return m ? ts.createSourceFile(file, m.source, version) : getSourceFile.call(host, file, version, ...rest);
  };
  host.fileExists = (file) => modules.has(path.resolve(file)) || fileExists.call(host, file);
  host.readFile = (file) => modules.get(path.resolve(file))?.source ?? readFile.call(host, file);
  const program = ts.createProgram([...modules.keys()], KERNEL_OPTIONS, host);
  return ts.getPreEmitDiagnostics(program).map((d): NotebookTypeError => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const m = d.file && modules.get(path.resolve(d.file.fileName));
    if (!d.file || !m || d.start === undefined) {
      return { notebook: d.file ? path.relative(dir, d.file.fileName) : '(compiler)', cell: -1, line: 0, message };
    }
    const at = m.origin[d.file.getLineAndCharacterOfPosition(d.start).line] ?? { cell: -1, line: 0 };
    return { notebook: m.name, cell: at.cell, line: at.line, message };
  });
}

/** Type-checks notebooks/*.ipynb under `root` (those whose file name contains one of `only`, when given). */
export function typecheckNotebooks(root: string, only: string[] = []): { checked: string[]; errors: NotebookTypeError[] } {
  const dir = path.join(root, 'notebooks');
  const checked = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb') && (only.length === 0 || only.some((o) => f.includes(o))))
    .sort();
  const errors = typecheckNotebookSources(dir, checked.map((name) => ({ name, json: fs.readFileSync(path.join(dir, name), 'utf8') })));
  return { checked, errors };
}

/** `notebook, cell 12, line 3: message` */
export function formatNotebookTypeError(e: NotebookTypeError): string {
  return `${e.notebook}, cell ${e.cell}, line ${e.line}: ${e.message}`;
}

if (require.main === module) {
  const t0 = Date.now();
  const { checked, errors } = typecheckNotebooks(path.resolve(__dirname, '..', '..'), process.argv.slice(2));
  for (const e of errors) console.error(formatNotebookTypeError(e));
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`${checked.length} notebook(s) type-checked in ${seconds} s: ${errors.length ? `${errors.length} error(s)` : 'no errors'}`);
  if (errors.length || checked.length === 0) process.exitCode = 1;
}
