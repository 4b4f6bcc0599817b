/**
 * `npm test` (after `pretest`: build, cycles, Jupyter and the native TensorFlow backend set up): runs the whole
 * suite once on the default backend (unit tests, every notebook, the exports), then the unit tests again on the
 * other engine, so both the `tensorflow` and the `wasm` backends are tested on every run:
 *   default `tensorflow` (built)  ->  unit tests again with GENLAB_BACKEND=wasm,
 *   default `wasm` (not built)    ->  CI fails (CI must build it); elsewhere a note that only WASM was tested.
 * Notebooks and exports run once (they test Jupyter and the pages, not the engine).
 * Then the unit tests run once more on each other Node major in GENLAB_TEST_NODE (default 24, the current LTS;
 * `0` skips), fetched from the npm registry into `.cache/node/` (scripts/node-versions.ts): on wasm, and the
 * engine's own tests on tensorflow too when it is built. CI fails when that Node cannot be had.
 * `node dist/scripts/test.js <files...>` runs just those files, on both backends and the other Nodes.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readTensorflowBuild, TENSORFLOW_VARIANTS } from '../lib/engine/tensorflow-build';
import { repoRoot } from './jupyter';
import { ensureNode, testNodeMajors } from './node-versions';

/** Test files that drive Jupyter, Chromium, the set-up or the compiler, not the engine: run once, on the default backend. */
export const ONCE_ONLY = ['notebooks.test.js', 'export.test.js', 'render.test.js', 'setup.test.js', 'slides.test.js', 'notebook-typecheck.test.js'];

/** Test files that drive JupyterLab itself: not run again on other Node versions (the kernel's node is PATH's). */
export const NOT_ON_OTHER_NODES = ['lab.test.js'];

/** The engine's own tests: on other Node versions they run on tensorflow as well as on wasm. */
export const ENGINE_TESTS = ['backend.test.js', 'tensorflow.test.js', 'compile.test.js', 'kernels.test.js'];

const inCI = (): boolean => process.env.CI === 'true' || process.env.CI === '1';

/**
 * Runs node's test runner on `files` with `env` (with the Node binary `node`, default this one, first on PATH);
 * returns whether it passed and how long it took.
 */
function runTests(label: string, files: string[], env: NodeJS.ProcessEnv, node = process.execPath): { ok: boolean; seconds: number } {
  const t0 = Date.now();
  process.stdout.write(`\n== ${label}: ${files.length} test file(s)\n`);
  if (node !== process.execPath) env = { ...env, PATH: `${path.dirname(node)}${path.delimiter}${env.PATH ?? ''}` };
  const r = spawnSync(node, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit', env });
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
  const runs: { label: string; ok: boolean; seconds: number }[] = [];
  const run = (label: string, files: string[], runEnv: NodeJS.ProcessEnv, node?: string): void => {
    if (files.length > 0) runs.push({ label, ...runTests(label, files, runEnv, node) });
  };
  run(`all tests on the default backend (${built ? 'tensorflow' : 'wasm'})`, all, env);
  const units = all.filter((f) => !ONCE_ONLY.includes(path.basename(f)));
  let failed = false;
  if (built) {
    run('unit tests on wasm (GENLAB_BACKEND=wasm)', units, { ...env, GENLAB_BACKEND: 'wasm' });
  } else {
    const msg = 'native TensorFlow is not built, so the unit tests ran on wasm only (`npm run setup -- --tensorflow`)';
    if (inCI()) {
      process.stderr.write(`\nCI: ${msg}; CI must test both backends.\n`);
      failed = true;
    } else {
      process.stdout.write(`\nnote: ${msg}\n`);
    }
  }
  // The unit tests again on the other Node majors: all on wasm, the engine's own on tensorflow too.
  const otherUnits = units.filter((f) => !NOT_ON_OTHER_NODES.includes(path.basename(f)));
  const engine = otherUnits.filter((f) => ENGINE_TESTS.includes(path.basename(f)));
  for (const major of testNodeMajors(process.env.GENLAB_TEST_NODE)) {
    if (process.versions.node.split('.')[0] === String(major)) continue;
    let node: string;
    try {
      node = ensureNode(major, root);
    } catch (e) {
      const msg = `no Node ${major} to test on (${e instanceof Error ? e.message : String(e)}); GENLAB_TEST_NODE=0 skips it`;
      process.stderr.write(`\n${inCI() ? 'CI: ' : 'note: '}${msg}\n`);
      failed ||= inCI();
      continue;
    }
    run(`unit tests on Node ${major}, wasm`, otherUnits, { ...env, GENLAB_BACKEND: 'wasm', GENLAB_TEST_RERUN: 'other-node' }, node);
    if (built) run(`engine tests on Node ${major}, tensorflow`, engine, { ...env, GENLAB_BACKEND: 'tensorflow' }, node);
  }
  process.stdout.write(`\n== summary (Node ${process.version} unless named)\n`);
  for (const r of runs) process.stdout.write(`   ${r.ok ? 'passed' : 'FAILED'}  ${r.seconds.toFixed(0).padStart(4)} s  ${r.label}\n`);
  return !failed && runs.every((r) => r.ok) ? 0 : 1;
}

if (require.main === module) process.exit(main());
