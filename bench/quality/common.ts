/** What the quality checks against PyTorch (rbm16.ts, vae.ts) share: arguments, statistics, the report file. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PEER_PYTHON_HOW, peerPython } from '../peer-python';

/** The number after `--name` on the command line, else `fallback`. */
export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Sample mean. */
export const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Sample standard deviation (n - 1 in the denominator): the seed-to-seed spread. */
export const std = (xs: number[]): number =>
  Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1));

/**
 * `report` followed by the sections of `previous` that another script owns and `report` does not hold: blocks
 * `<!-- name -->` ... `<!-- /name -->` (e.g. latent-ddpm.ts writes its rows between such markers in a file that
 * pretrained.ts rewrites).
 */
function withOwnedSections(previous: string, report: string): string {
  const owned = [...previous.matchAll(/<!-- ([\w-]+) -->[\s\S]*?<!-- \/\1 -->\n?/g)].filter((m) => !report.includes(`<!-- ${m[1]} -->`));
  return owned.length === 0 ? report : `${report.trimEnd()}\n\n${owned.map((m) => m[0].trimEnd()).join('\n\n')}\n`;
}

/** `previous` with `body` as its section `name` (between `<!-- name -->` and `<!-- /name -->`): in place, or added at the end. */
function withSection(previous: string, name: string, body: string): string {
  const [begin, end] = [`<!-- ${name} -->`, `<!-- /${name} -->`];
  const block = `${begin}\n${body.trim()}\n\n${end}`;
  const i = previous.indexOf(begin);
  const j = previous.indexOf(end);
  if (i >= 0 && j > i) return previous.slice(0, i) + block + previous.slice(j + end.length);
  return previous.trim() === '' ? `${block}\n` : `${previous.trimEnd()}\n\n${block}\n`;
}

/** With `--write`: bench/quality/<file> in the repository becomes `edit` of its contents ('' when absent). */
function writeResults(file: string, edit: (previous: string) => string): void {
  if (!process.argv.includes('--write')) return;
  // compiled to dist/bench/quality: the repository root is three levels up
  const out = path.join(__dirname, '..', '..', '..', 'bench', 'quality', file);
  fs.writeFileSync(out, edit(fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : ''));
  console.log(`wrote ${out}`);
}

/** Prints the report and, with `--write`, stores it as bench/quality/<file> (keeping the sections other scripts own). */
export function publishReport(report: string, file: string): void {
  console.log(report);
  writeResults(file, (previous) => withOwnedSections(previous, report));
}

/**
 * Prints `body` and, with `--write`, puts it into bench/quality/<file> as the section `name` this script owns
 * (`<!-- name -->` ... `<!-- /name -->`, replaced in place or added at the end; the rest of the file stays).
 */
export function publishSection(name: string, body: string, file: string): void {
  console.log(body);
  writeResults(file, (previous) => withSection(previous, name, body));
}

/** Runs an async main, exiting with status 1 and the error when it throws. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

/**
 * Runs the PyTorch twin bench/quality/<script> with `args` on one thread (the first Python with torch: see
 * bench/peer-python.ts) and returns the JSON it prints; its stderr passes through.
 */
export function runTwin(script: string, args: string[]): Record<string, unknown> {
  const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const python = peerPython();
  if (!python) throw new Error(`no python with torch for the PyTorch twin: ${PEER_PYTHON_HOW}`);
  // compiled to dist/bench/quality: the repository root is three levels up
  const py = spawnSync(python, [path.join(__dirname, '..', '..', '..', 'bench', 'quality', script), ...args], {
    encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26,
  });
  if (py.status !== 0) throw new Error(`PyTorch twin failed (exit ${py.status}); see its error above (${python})`);
  return JSON.parse(py.stdout);
}
