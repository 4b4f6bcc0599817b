/**
 * `npm run lectures [-- <filters...>] [--quick] [--timeout <s>] [--keep-going] [--no-export]`
 *
 * Executes every notebook in notebooks/ (sorted; filters keep those whose file name contains one of them) through
 * Jupyter with this checkout's tslab kernel and writes, for each notebook NAME:
 *   build/notebooks/NAME.ipynb      the executed notebook (also when a cell failed: outputs up to the error)
 *   build/html/NAME.html            the page
 *   build/slides/NAME.slides.html   reveal.js slides
 * each ONE self-contained file (reveal.js, MathJax 3, plotly.js inlined once, images embedded: genlab's nbconvert
 * templates, scripts/jupyter-files.ts) that works alone, opened from disk with no network, sent by mail or copied
 * to a USB stick.
 *
 * test/notebooks.test.ts and test/export.test.ts call the same function (runNotebook).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { parseArgs } from 'node:util';
import { ensureJupyter, jupyterEnv, KERNEL_NAME, registerKernel, repoRoot, runCli } from './jupyter';
import { EXPORTER_CONFIG } from './jupyter-files';
import { STRICT_OUTCOMES_ENV } from '../lib/display/checks';

/** Options shared by {@link runNotebook} and {@link runLectures}. */
export interface RunOptions {
  /** Run in quick mode (GENLAB_QUICK=1 for the kernel). Default: inherit GENLAB_QUICK from the environment. */
  quick?: boolean;
  /** Seconds a single cell may run before the notebook fails. Default 600. */
  timeout?: number;
  /** Output folder. Default `<repo>/build`. */
  outDir?: string;
  /** Write HTML and slides (default true). */
  export?: boolean;
  /** Python with Jupyter. Default: found (or installed) by ensureJupyter. */
  python?: string;
  /** Progress lines go here. Default: stderr. */
  log?: (line: string) => void;
  /** Jupyter kernel name. Default `tslab` (this checkout's, registered by the set-up step). */
  kernel?: string;
  /**
   * Do not execute: export the executed copy already in `<outDir>/notebooks/` again (after a change of the export
   * templates or config; the copy must come from the same cells). Default false.
   */
  exportOnly?: boolean;
}

/** A cell failed (or timed out, or the kernel died): names the notebook and the cell. */
export class NotebookError extends Error {
  constructor(
    message: string,
    /** Notebook file. */
    readonly notebook: string,
    /** Index of the failing cell among all cells (null when the kernel did not start). */
    readonly cellIndex: number | null,
    /** Error class reported by the kernel (e.g. 'TypeError', 'CellTimeoutError', 'NoSuchKernel'). */
    readonly ename: string,
    /** Error message reported by the kernel. */
    readonly evalue: string,
  ) {
    super(message);
    this.name = 'NotebookError';
  }
}

/** Paths written for one notebook. */
export interface NotebookOutputs {
  notebook: string;
  html?: string;
  slides?: string;
}

/** Result of one notebook run. */
export interface NotebookResult {
  /** Source notebook path. */
  source: string;
  /** Wall time in seconds (kernel start, every cell, export). */
  seconds: number;
  /** Seconds from the first cell's start to the last cell's end (what the lecture itself takes). */
  cellSeconds: number;
  outputs: NotebookOutputs;
}

/** A lecture's time budget on a 2-core laptop without a GPU (README): 3 minutes in full mode, 1 in quick mode. */
export const LECTURE_BUDGET_SECONDS = { full: 180, quick: 60 } as const;

/** The per-notebook time table `npm run lectures` prints at the end and writes to build/lecture-times.{md,json}. */
export function lectureTimeTable(results: readonly NotebookResult[], quick: boolean): { markdown: string; json: object } {
  const budget = quick ? LECTURE_BUDGET_SECONDS.quick : LECTURE_BUDGET_SECONDS.full;
  const rows = results.map((r) => ({
    notebook: path.basename(r.source, '.ipynb'),
    cells: Math.round(r.cellSeconds * 10) / 10,
    total: Math.round(r.seconds * 10) / 10,
    withinBudget: r.cellSeconds <= budget,
  }));
  const env = { date: new Date().toISOString(), mode: quick ? 'quick' : 'full', budgetSeconds: budget, cores: os.cpus().length, backend: process.env.GENLAB_BACKEND || 'default' };
  const lines = [
    `Lecture times, ${env.mode} mode, ${env.date.slice(0, 16).replace('T', ' ')} UTC, ${env.cores} cores, backend ${env.backend}; budget ${fmtSeconds(budget)} per lecture.`,
    '',
    '| notebook | cells | with kernel start and export | within budget |',
    '|---|---:|---:|---|',
    ...rows.map((r) => `| ${r.notebook} | ${fmtSeconds(r.cells)} | ${fmtSeconds(r.total)} | ${r.withinBudget ? 'yes' : `**no** (+${fmtSeconds(r.cells - budget)})`} |`),
    '',
  ];
  return { markdown: lines.join('\n'), json: { ...env, notebooks: rows } };
}

/** The notebooks folder of this checkout. */
export function notebooksDir(root = repoRoot()): string {
  return path.join(root, 'notebooks');
}

/**
 * Every .ipynb in notebooks/, sorted by name; with filters, only those whose file name contains one of them
 * (a filter that matches nothing is an error, so a typo is not silently a no-op).
 */
export function listNotebooks(filters: readonly string[] = [], dir = notebooksDir()): string[] {
  const all = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb'))
    .sort();
  for (const f of filters) {
    if (!all.some((n) => n.includes(f))) {
      throw new Error(`No notebook in ${dir} matches '${f}'. Notebooks: ${all.join(', ') || '(none)'}`);
    }
  }
  const chosen = filters.length === 0 ? all : all.filter((n) => filters.some((f) => n.includes(f)));
  return chosen.map((n) => path.join(dir, n));
}

/** Output paths for a notebook under `outDir`. */
export function outputsFor(notebook: string, outDir: string, withExport = true): NotebookOutputs {
  const name = path.basename(notebook, '.ipynb');
  return {
    notebook: path.join(outDir, 'notebooks', `${name}.ipynb`),
    html: withExport ? path.join(outDir, 'html', `${name}.html`) : undefined,
    slides: withExport ? path.join(outDir, 'slides', `${name}.slides.html`) : undefined,
  };
}

/** Events printed by scripts/execute_notebook.py, one JSON object per line. */
type DriverEvent =
  | { event: 'start'; cells: number }
  | { event: 'cell_start'; index: number; code_index: number }
  | { event: 'cell'; index: number; code_index: number; elapsed: number; ok: boolean }
  | {
      event: 'error';
      kind: 'cell' | 'timeout' | 'kernel';
      index: number | null;
      source: string | null;
      ename: string;
      evalue: string;
      traceback: string;
    }
  | { event: 'done'; seconds: number };

const defaultLog = (line: string): void => void process.stderr.write(`${line}\n`);

function fmtSeconds(s: number): string {
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** Builds the loud message for a failed notebook. */
function failureMessage(notebook: string, e: Extract<DriverEvent, { event: 'error' }>, partial: string, codeCells: number,
  codeIndex: number | undefined, timeout: number): string {
  const name = path.relative(process.cwd(), notebook) || notebook;
  if (e.kind === 'kernel' && e.index === null) {
    const fix =
      e.ename === 'NoSuchKernel'
        ? `the '${e.evalue.match(/named (\S+)/)?.[1] ?? KERNEL_NAME}' kernel is not registered: run \`npm run setup\` ` +
          '(npm test, npm run lectures and npm run lab do it first).'
        : 'the kernel did not start or died; see the message above.';
    return `Notebook ${name} could not run: ${e.ename}: ${e.evalue}\n  Fix: ${fix}`;
  }
  const where = codeIndex === undefined ? `cell ${e.index}` : `cell ${e.index} (code cell ${codeIndex + 1} of ${codeCells})`;
  const lines = (e.source ?? '').split('\n');
  const first = lines.find((l) => l.trim() !== '') ?? '';
  const what =
    e.kind === 'timeout'
      ? `timed out after ${timeout} s (raise it with --timeout)`
      : e.kind === 'kernel'
        ? `killed the kernel: ${e.ename}: ${e.evalue}`
        : `${e.ename}: ${e.evalue}`;
  const tb = e.kind === 'cell' && e.traceback ? `\n${e.traceback.split('\n').slice(0, 20).map((l) => `    ${l}`).join('\n')}` : '';
  return (
    `Notebook ${name} failed in ${where}:\n` +
    `  > ${first}${lines.length > 1 ? '  ...' : ''}\n` +
    `  ${what}${tb}\n` +
    `  Executed notebook with the outputs up to the error: ${path.relative(process.cwd(), partial)}`
  );
}

/**
 * Executes one notebook through Jupyter (tslab kernel, cwd = the notebook's folder) and, unless
 * `export: false`, writes its HTML page and slides. Rejects with a {@link NotebookError} naming the cell.
 */
export async function runNotebook(notebook: string, opts: RunOptions = {}): Promise<NotebookResult> {
  const root = repoRoot();
  const outDir = opts.outDir ?? path.join(root, 'build');
  const log = opts.log ?? defaultLog;
  const timeout = opts.timeout ?? 600;
  const python = opts.python ?? ensureJupyter();
  const withExport = opts.export ?? true;
  const out = outputsFor(notebook, outDir, withExport);
  const args = [
    path.join(root, 'scripts', 'execute_notebook.py'),
    notebook,
    '--kernel', opts.kernel ?? KERNEL_NAME,
    '--timeout', String(timeout),
    '--out-notebook', out.notebook,
  ];
  if (opts.exportOnly) {
    if (!out.html || !out.slides) throw new Error('runNotebook: exportOnly needs export');
    if (!fs.existsSync(out.notebook)) throw new Error(`runNotebook: exportOnly, but ${out.notebook} (the executed copy) is missing`);
    args.push('--from-executed', out.notebook);
  }
  if (out.html && out.slides) {
    args.push('--out-html', out.html, '--out-slides', out.slides, '--exporter-config', JSON.stringify(EXPORTER_CONFIG));
  }
  const extra: NodeJS.ProcessEnv = {};
  if (opts.quick !== undefined) extra.GENLAB_QUICK = opts.quick ? '1' : '0';
  // The full-mode run is where the lectures' default settings must deliver: failed expectOutcome notes throw there.
  const quickRun = opts.quick ?? ['1', 'true', 'yes'].includes((process.env.GENLAB_QUICK ?? '').toLowerCase());
  if (!quickRun && process.env[STRICT_OUTCOMES_ENV] === undefined) extra[STRICT_OUTCOMES_ENV] = '1';
  const child = spawn(python, args, { env: jupyterEnv(extra, root), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const name = path.basename(notebook);
  const t0 = Date.now();
  let codeCells = 0;
  let error: Extract<DriverEvent, { event: 'error' }> | undefined;
  const codeIndexOf = new Map<number, number>();
  let lastCode = -1;
  let lastElapsed = 0;
  // While a cell runs: on a terminal, one status line updated every second; in logs (CI), a line per minute.
  const tty = opts.log === undefined && process.stderr.isTTY === true;
  let running: { code: number; since: number; beats: number } | undefined;
  const heartbeat = setInterval(() => {
    if (!running) return;
    const s = (Date.now() - running.since) / 1000;
    if (tty) process.stderr.write(`\r\x1b[K  ${name}: cell ${running.code + 1}/${codeCells} running ${fmtSeconds(s)}`);
    else if (s >= 60 * (running.beats + 1)) {
      running.beats++;
      log(`  ${name}: cell ${running.code + 1}/${codeCells} still running (${fmtSeconds(s)})`);
    }
  }, 1000);
  const clearStatus = (): void => void (tty && process.stderr.write('\r\x1b[K'));
  const lines = readline.createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    let ev: DriverEvent;
    try {
      ev = JSON.parse(line) as DriverEvent;
    } catch {
      log(`  ${line}`);
      return;
    }
    if (ev.event === 'start') codeCells = ev.cells;
    else if (ev.event === 'cell_start') running = { code: ev.code_index, since: Date.now(), beats: 0 };
    else if (ev.event === 'cell') {
      const took = running ? ` in ${fmtSeconds((Date.now() - running.since) / 1000)}` : '';
      running = undefined;
      codeIndexOf.set(ev.index, ev.code_index);
      lastCode = ev.code_index;
      lastElapsed = ev.elapsed;
      clearStatus();
      if (ev.ok) log(`  ${name}: cell ${ev.code_index + 1}/${codeCells} done${took} (${fmtSeconds(ev.elapsed)} since start)`);
    } else if (ev.event === 'error') error = ev;
  });
  const code: number | null = await new Promise((resolve) => child.on('close', resolve));
  clearInterval(heartbeat);
  clearStatus();
  const seconds = (Date.now() - t0) / 1000;
  const cellSeconds = lastElapsed;
  if (error) {
    const codeIndex = error.index === null ? undefined : (codeIndexOf.get(error.index) ?? lastCode + 1);
    throw new NotebookError(
      failureMessage(notebook, error, out.notebook, codeCells, codeIndex, timeout),
      notebook,
      error.index,
      error.ename,
      error.evalue,
    );
  }
  if (code !== 0) {
    throw new NotebookError(`Notebook ${name}: the Jupyter driver failed (exit ${code}):\n${stderr}`, notebook, null, 'DriverError', stderr);
  }
  return { source: notebook, seconds, cellSeconds, outputs: out };
}

/** ' (page 3.9 MB, slides 4.0 MB)': the sizes of the exported single files, or '' without export. */
function exportSizes(out: NotebookOutputs): string {
  const mb = (f: string): string => `${(fs.statSync(f).size / 1e6).toFixed(1)} MB`;
  return out.html && out.slides && fs.existsSync(out.html) && fs.existsSync(out.slides)
    ? ` (page ${mb(out.html)}, slides ${mb(out.slides)})`
    : '';
}

/** Runs the selected notebooks in order, logging progress; stops at the first failure unless `keepGoing`. */
export async function runLectures(
  filters: readonly string[] = [],
  opts: RunOptions & { keepGoing?: boolean } = {},
): Promise<NotebookResult[]> {
  const log = opts.log ?? defaultLog;
  const notebooks = listNotebooks(filters);
  if (notebooks.length === 0) throw new Error(`No notebooks in ${notebooksDir()}`);
  const python = opts.python ?? ensureJupyter();
  registerKernel(python);
  const results: NotebookResult[] = [];
  const failures: NotebookError[] = [];
  const t0 = Date.now();
  for (const [i, nb] of notebooks.entries()) {
    log(`[${i + 1}/${notebooks.length}] ${path.basename(nb)} ...`);
    try {
      const r = await runNotebook(nb, { ...opts, python });
      results.push(r);
      log(`[${i + 1}/${notebooks.length}] ${path.basename(nb)} ok in ${fmtSeconds(r.seconds)}${exportSizes(r.outputs)}`);
    } catch (e) {
      if (!(e instanceof NotebookError) || !opts.keepGoing) throw e;
      failures.push(e);
      log(e.message);
    }
  }
  if (failures.length > 0) {
    throw new Error(`${failures.length} notebook(s) failed: ${failures.map((f) => path.basename(f.notebook)).join(', ')}`);
  }
  log(`${results.length} notebook(s) in ${fmtSeconds((Date.now() - t0) / 1000)}`);
  const quick = opts.quick ?? process.env.GENLAB_QUICK === '1';
  const table = lectureTimeTable(results, quick);
  const dir = path.join(repoRoot(), 'build');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'lecture-times.md'), table.markdown);
  fs.writeFileSync(path.join(dir, 'lecture-times.json'), JSON.stringify(table.json, null, 2) + '\n');
  log(`\n${table.markdown}(also in build/lecture-times.md and .json)`);
  return results;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '600' },
      'keep-going': { type: 'boolean', default: false },
      'no-export': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run lectures [-- [filters...] [--quick] [--timeout <s per cell>] [--keep-going] [--no-export]]\n',
    );
    return;
  }
  const timeout = Number(values.timeout);
  if (!Number.isInteger(timeout) || timeout <= 0) throw new Error(`--timeout must be a positive integer; got ${values.timeout}`);
  const root = repoRoot();
  const results = await runLectures(positionals, {
    quick: values.quick ? true : undefined,
    timeout,
    keepGoing: values['keep-going'],
    export: !values['no-export'],
  });
  const rel = (p?: string): string => (p ? path.relative(process.cwd(), p) : '');
  if (!values['no-export']) {
    process.stderr.write(
      `Pages in ${rel(path.join(root, 'build', 'html'))}/, slides in ${rel(path.join(root, 'build', 'slides'))}/ ` +
        `(open e.g. ${rel(results[0]?.outputs.slides)} in a browser).\n`,
    );
  }
}

if (require.main === module) runCli(main);
