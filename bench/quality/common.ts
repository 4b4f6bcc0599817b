/** What the quality checks against PyTorch (rbm16.ts, vae.ts) share: arguments, statistics, the report file. */
import * as fs from 'node:fs';
import * as path from 'node:path';

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

/** Prints the report and, with `--write`, stores it as bench/quality/<file> in the repository. */
export function publishReport(report: string, file: string): void {
  console.log(report);
  if (process.argv.includes('--write')) {
    // compiled to dist/bench/quality: the repository root is three levels up
    const out = path.join(__dirname, '..', '..', '..', 'bench', 'quality', file);
    fs.writeFileSync(out, report);
    console.log(`wrote ${out}`);
  }
}

/** Runs an async main, exiting with status 1 and the error when it throws. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
