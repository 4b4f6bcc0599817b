import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BACKEND_CHOICES,
  describeEnvironment,
  isQuickMode,
  parseBackendChoice,
  quick,
  ready,
  tf,
  useBackend,
} from '../lib/engine/backend';
import { environmentHtml, environmentText } from '../lib/display/environment';
import { fastKernelReport } from '../lib/engine/kernels';

const BACKEND_JS = path.join(__dirname, '..', 'lib', 'engine', 'backend.js');
const REPO_NODE_MODULES = path.join(__dirname, '..', '..', 'node_modules');

/** Runs `body` in a fresh Node process after `const b = require(<compiled backend>)`; returns status and output. */
function child(body: string, env: NodeJS.ProcessEnv = {}, prelude = ''): { status: number | null; out: string; err: string } {
  const code = `${prelude}\nconst b = require(${JSON.stringify(BACKEND_JS)});\n(async () => { ${body} })()` +
    `.catch((e) => { console.error('REJECTED: ' + e.message); process.exit(3); });`;
  const clean = { ...process.env };
  delete clean.GENLAB_BACKEND;
  const r = spawnSync(process.execPath, ['-e', code], { env: { ...clean, ...env }, encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

test('default backend here is WASM with SIMD, and the tfjs-node npm alias is recognised as not native', async () => {
  const name = await ready();
  if (process.env.GENLAB_BACKEND) return; // a forced run checks the forced backend in the tests below
  assert.equal(name, 'wasm');
  const env = await describeEnvironment();
  assert.equal(env.choice, 'wasm');
  assert.equal(env.backend, 'wasm');
  assert.equal(env.simd, true, 'the SIMD build of the WASM backend should be used');
  assert.equal(env.threads, 1);
  assert.equal(env.gpu, false);
  assert.equal(env.versions.tfjs, tf.version.tfjs);
  assert.equal(env.versions.node, process.version);
  assert.match(env.versions.genlab, /^\d+\.\d+\.\d+/);
  const nodeSkip = env.skipped.find((s) => s.choice === 'tfjs-node');
  assert.ok(nodeSkip, 'tfjs-node should be reported as skipped');
  assert.match(nodeSkip.reason, /alias of @tensorflow\/tfjs@/);
  assert.deepEqual(env.skipped.map((s) => s.choice), ['tfjs-node-gpu', 'tfjs-node']);
  // The backend computes: 512x512 matMul of ones = 512 everywhere.
  const v = tf.tidy(() => tf.ones([512, 512]).matMul(tf.ones([512, 512])).mean().dataSync()[0]);
  assert.equal(v, 512);
});

test('the WASM backend initialises with no network (binaries read from node_modules)', () => {
  const r = child(
    `const name = await b.ready(); const e = await b.describeEnvironment(); console.log(JSON.stringify([name, e.simd]));`,
    {},
    `globalThis.fetch = () => { throw new Error('network access attempted'); };`,
  );
  assert.equal(r.status, 0, r.err);
  assert.deepEqual(JSON.parse(r.out), ['wasm', true]);
});

test('GENLAB_BACKEND forces a backend; unknown and unavailable names are clear errors listing the choices', () => {
  const cpu = child(`console.log(await b.ready());`, { GENLAB_BACKEND: 'cpu' });
  assert.equal(cpu.status, 0, cpu.err);
  assert.equal(cpu.out.trim(), 'cpu');

  const bogus = child(`console.log(await b.ready());`, { GENLAB_BACKEND: 'webgpu9' });
  assert.notEqual(bogus.status, 0);
  assert.match(bogus.err, /Unknown genlab backend 'webgpu9'\. Choices: tfjs-node-gpu, tfjs-node, wasm, cpu/);

  const node = child(`console.log(await b.ready());`, { GENLAB_BACKEND: 'tfjs-node' });
  assert.notEqual(node.status, 0);
  assert.match(node.err, /backend 'tfjs-node' \(forced by GENLAB_BACKEND=tfjs-node\) is unavailable/);
  assert.match(node.err, /npm alias of @tensorflow\/tfjs/);
  assert.match(node.err, /wasm \(available\); cpu \(available\)/);
});

/** Writes a stand-in for @tensorflow/tfjs-node-gpu into a temp folder (found through NODE_PATH). */
function fakeNodeGpu(indexJs: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-fake-gpu-'));
  const pkg = path.join(dir, 'node_modules', '@tensorflow', 'tfjs-node-gpu');
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node-gpu', version: '4.22.0', main: 'index.js' }));
  fs.writeFileSync(path.join(pkg, 'index.js'), indexJs);
  return path.join(dir, 'node_modules');
}

test('a working tfjs-node-gpu is preferred over everything, and reported as GPU', () => {
  // Registers a 'tensorflow' backend on the shared engine, backed by the CPU kernels (like the real package
  // registers its native one).
  const modules = fakeNodeGpu(`
    const tf = require('@tensorflow/tfjs');
    const { MathBackendCPU } = require('@tensorflow/tfjs-backend-cpu');
    for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: 'tensorflow' });
    tf.registerBackend('tensorflow', () => new MathBackendCPU(), 3);`);
  const r = child(
    `await b.ready(); const e = await b.describeEnvironment();
     const s = b.tf.tidy(() => b.tf.tensor([1, 2, 3]).sum().dataSync()[0]);
     console.log(JSON.stringify({ choice: e.choice, backend: e.backend, gpu: e.gpu, threads: e.threads, s }));`,
    { NODE_PATH: [modules, REPO_NODE_MODULES].join(path.delimiter) },
  );
  assert.equal(r.status, 0, r.err);
  const e = JSON.parse(r.out);
  assert.deepEqual({ ...e, threads: undefined }, { choice: 'tfjs-node-gpu', backend: 'tensorflow', gpu: true, threads: undefined, s: 6 });
  assert.ok(e.threads >= 1);
});

test('a tfjs-node-gpu that fails to load (no CUDA) falls back to WASM and says why', () => {
  const modules = fakeNodeGpu(`throw new Error('libcudart.so.11.0: cannot open shared object file');`);
  const r = child(`await b.ready(); console.log(JSON.stringify(await b.describeEnvironment()));`, {
    NODE_PATH: [modules, REPO_NODE_MODULES].join(path.delimiter),
  });
  assert.equal(r.status, 0, r.err);
  const e = JSON.parse(r.out);
  assert.equal(e.choice, 'wasm');
  assert.equal(e.gpu, false);
  assert.match(e.skipped[0].reason, /tfjs-node-gpu@4\.22\.0 failed to load: libcudart/);
  // forcing it names the reason
  const forced = child(`await b.ready();`, {
    NODE_PATH: [modules, REPO_NODE_MODULES].join(path.delimiter),
    GENLAB_BACKEND: 'gpu',
  });
  assert.notEqual(forced.status, 0);
  assert.match(forced.err, /'tfjs-node-gpu' \(forced by GENLAB_BACKEND=gpu\) is unavailable: .*libcudart/);
});

test('useBackend switches genlab and its tf at run time; parseBackendChoice knows the aliases', async () => {
  const before = await ready();
  try {
    assert.equal(await useBackend('cpu'), 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal((await describeEnvironment()).choice, 'cpu');
    await assert.rejects(useBackend('quantum'), /Unknown genlab backend 'quantum'\. Choices:/);
    assert.equal(await ready(), 'cpu', 'a failed switch leaves the backend as it was');
  } finally {
    await useBackend(before === 'tensorflow' ? 'tfjs-node' : before);
  }
  assert.equal(tf.getBackend(), before);
  assert.equal(parseBackendChoice('GPU'), 'tfjs-node-gpu');
  assert.equal(parseBackendChoice('node'), 'tfjs-node');
  assert.deepEqual([...BACKEND_CHOICES], ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']);
});

test('environment text and HTML forms carry every field and escape HTML', async () => {
  const env = await describeEnvironment();
  const text = environmentText(env);
  for (const s of ['backend', env.choice, 'threads', 'GPU', env.versions.tfjs, env.versions.node, 'genlab', 'fast kernels']) {
    assert.ok(text.includes(s), `text form lacks ${s}:\n${text}`);
  }
  // Which kernels run, as the kernels module reports them (native addon or the reason it is not used).
  const k = fastKernelReport();
  assert.deepEqual(env.kernels, { native: k.native, threads: k.threads, note: k.note });
  assert.ok(text.includes(k.native ? 'native OpenBLAS' : k.note), text);
  const html = environmentHtml({ ...env, skipped: [{ choice: 'tfjs-node', reason: '<script>x</script> & co' }] });
  assert.match(html, /^<table class="genlab-environment">/);
  assert.ok(!html.includes('<script>'), 'reason must be escaped');
  assert.ok(html.includes('&lt;script&gt;x&lt;/script&gt; &amp; co'));
});

test('quick mode follows GENLAB_QUICK', () => {
  const saved = process.env.GENLAB_QUICK;
  try {
    process.env.GENLAB_QUICK = '1';
    assert.equal(isQuickMode(), true);
    assert.equal(quick(100, 3), 3);
    process.env.GENLAB_QUICK = '0';
    assert.equal(isQuickMode(), false);
    assert.equal(quick(100, 3), 100);
    delete process.env.GENLAB_QUICK;
    assert.equal(isQuickMode(), false);
  } finally {
    if (saved === undefined) delete process.env.GENLAB_QUICK;
    else process.env.GENLAB_QUICK = saved;
  }
});
