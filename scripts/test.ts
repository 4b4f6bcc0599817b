/**
 * `npm test` (after `pretest`: build, cycles, Jupyter and the native TensorFlow backend set up): runs the whole
 * suite once on the default backend (unit tests, every notebook, the exports), then the unit tests again on the
 * other engine, so both the `tensorflow` and the `wasm` backends are tested on every run:
 *   default `tensorflow` (built)  ->  unit tests again with GENLAB_BACKEND=wasm,
 *   default `wasm` (not built)    ->  CI fails (CI must build it); elsewhere a note that only WASM was tested.
 * Notebooks and exports run once (they test Jupyter and the pages, not the engine).
 * `node dist/scripts/test.js <files...>` runs just those files, on both backends.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readTensorflowBuild, TENSORFLOW_VARIANTS } from '../lib/engine/tensorflow-build';
import { repoRoot } from './jupyter';

/** Test files that drive Jupyter, Chromium, the set-up or the compiler, not the engine: run once, on the default backend. */
export const ONCE_ONLY = ['notebooks.test.js', 'export.test.js', 'render.test.js', 'setup.test.js', 'slides.test.js', 'notebook-typecheck.test.js'];

/** Runs node's test runner on `files` with `env`; returns whether it passed and how long it took. */
function runTests(label: string, files: string[], env: NodeJS.ProcessEnv): { ok: boolean; seconds: number } {
  const t0 = Date.now();
  process.stdout.write(`\n== ${label}: ${files.length} test file(s)\n`);
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit', env });
  const seconds = (Date.now() - t0) / 1000;
  process.stdout.write(`== ${label}: ${r.status === 0 ? 'passed' : 'FAILED'} in ${seconds.toFixed(0)} s\n`);
  return { ok: r.status === 0, seconds };
}

function main(): number {
  const root = repoRoot();
  const testDir = path.join(root, 'dist', 'test');
  const asked = process.argv.slice(2);
  const all = asked.length > 0
    ? asked.map((f) => path.resolve(f))
    : fs.readdirSync(testDir).filter((f) => f.endsWith('.test.js')).sort().map((f) => path.join(testDir, f));
  const env = { ...process.env };
  const forced = env.GENLAB_BACKEND;
  delete env.GENLAB_BACKEND;
  if (forced) {
    // A forced backend: one run on it, like `GENLAB_BACKEND=cpu node --test ...`.
    return runTests(`all tests on ${forced} (GENLAB_BACKEND)`, all, { ...env, GENLAB_BACKEND: forced }).ok ? 0 : 1;
  }
  const built = TENSORFLOW_VARIANTS.some((v) => readTensorflowBuild(v, root) !== undefined);
  const first = runTests(`all tests on the default backend (${built ? 'tensorflow' : 'wasm'})`, all, env);
  const units = all.filter((f) => !ONCE_ONLY.includes(path.basename(f)));
  if (!built) {
    const msg = 'native TensorFlow is not built, so the unit tests ran on wasm only (`npm run setup -- --tensorflow`)';
    if (process.env.CI === 'true' || process.env.CI === '1') {
      process.stderr.write(`\nCI: ${msg}; CI must test both backends.\n`);
      return 1;
    }
    process.stdout.write(`\nnote: ${msg}\n`);
    return first.ok ? 0 : 1;
  }
  const second = units.length > 0 ? runTests('unit tests on wasm (GENLAB_BACKEND=wasm)', units, { ...env, GENLAB_BACKEND: 'wasm' }) : { ok: true, seconds: 0 };
  process.stdout.write(
    `\n== both backends: default (tensorflow) ${first.seconds.toFixed(0)} s, wasm unit tests ${second.seconds.toFixed(0)} s\n`,
  );
  return first.ok && second.ok ? 0 : 1;
}

if (require.main === module) process.exit(main());
