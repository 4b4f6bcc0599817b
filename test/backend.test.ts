import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BACKEND_CHOICES,
  capabilities,
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
import { readTensorflowBuild, TENSORFLOW_VARIANTS } from '../lib/engine/tensorflow-build';

const BACKEND_JS = path.join(__dirname, '..', 'lib', 'engine', 'backend.js');

/** Runs `body` in a fresh Node process after `const b = require(<compiled backend>)`; returns status and output. */
function child(body: string, env: NodeJS.ProcessEnv = {}, prelude = ''): { status: number | null; out: string; err: string } {
  const code = `${prelude}\nconst b = require(${JSON.stringify(BACKEND_JS)});\n(async () => { ${body} })()` +
    `.catch((e) => { console.error('REJECTED: ' + e.message); process.exit(3); });`;
  const clean = { ...process.env };
  delete clean.GENLAB_BACKEND;
  const r = spawnSync(process.execPath, ['-e', code], { env: { ...clean, ...env }, encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** True when `npm run setup -- --tensorflow` has built a native TensorFlow backend in this checkout. */
const tensorflowBuilt = TENSORFLOW_VARIANTS.some((v) => readTensorflowBuild(v) !== undefined);

test('default backend: native TensorFlow when built, else WASM with SIMD (saying why tensorflow was skipped)', async () => {
  const name = await ready();
  if (process.env.GENLAB_BACKEND) return; // a forced run checks the forced backend in the tests below
  const env = await describeEnvironment();
  assert.equal(env.versions.tfjs, tf.version.tfjs);
  assert.equal(env.versions.node, process.version);
  assert.match(env.versions.genlab, /^\d+\.\d+\.\d+/);
  assert.equal(env.gpu, false);
  if (tensorflowBuilt) {
    assert.equal(name, 'tensorflow');
    assert.equal(env.choice, 'tensorflow');
    assert.match(env.versions.tensorflow ?? '', /^2\.\d+\.\d+/);
    assert.equal(env.tensorflowBuild?.variant, 'cpu');
  } else {
    assert.equal(name, 'wasm');
    assert.equal(env.choice, 'wasm');
    assert.equal(env.simd, true, 'the SIMD build of the WASM backend should be used');
    assert.equal(env.threads, 1);
    assert.deepEqual(env.skipped.map((s) => s.choice), ['tensorflow']);
    assert.match(env.skipped[0].reason, /not built \(run `npm run setup -- --tensorflow`/);
  }
  // The backend computes: 512x512 matMul of ones = 512 everywhere.
  const v = tf.tidy(() => tf.ones([512, 512]).matMul(tf.ones([512, 512])).mean().dataSync()[0]);
  assert.equal(v, 512);
});

test('the WASM backend initialises with no network (binaries read from node_modules)', () => {
  const r = child(
    `const name = await b.ready(); const e = await b.describeEnvironment(); console.log(JSON.stringify([name, e.simd]));`,
    { GENLAB_BACKEND: 'wasm' },
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
  assert.match(bogus.err, /Unknown genlab backend 'webgpu9'\. Choices: tensorflow, wasm, cpu/);

  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-no-tf-'));
  const node = child(`console.log(await b.ready());`, { GENLAB_BACKEND: 'tfjs-node', GENLAB_TENSORFLOW_DIR: empty });
  assert.notEqual(node.status, 0);
  assert.match(node.err, /backend 'tensorflow' \(forced by GENLAB_BACKEND=tfjs-node\) is unavailable/);
  assert.match(node.err, /native TensorFlow is not built \(run `npm run setup -- --tensorflow`/);
  assert.match(node.err, /wasm \(available\); cpu \(available\)/);
});

/**
 * Writes a stand-in native TensorFlow build of `variant` into `dir` (GENLAB_TENSORFLOW_DIR): a binding module
 * (`bindingJs`) and glue that registers a 'tensorflow' backend backed by the CPU kernels, requiring
 * '@tensorflow/tfjs' from a folder where only genlab's redirect can find it (like tfjs-node's own glue).
 */
function fakeBuild(dir: string, variant: 'cpu' | 'gpu', bindingJs: string): void {
  const glue = path.join(dir, 'glue');
  fs.mkdirSync(path.join(glue, 'proto'), { recursive: true });
  // tfjs-node's TensorBoard protobufs need google-protobuf, which genlab does not install: never loaded.
  fs.writeFileSync(path.join(glue, 'proto', 'api_pb.js'), `throw new Error("Cannot find module 'google-protobuf'");`);
  fs.writeFileSync(
    path.join(glue, 'register_all_kernels.js'),
    `const tf = require('@tensorflow/tfjs');
     for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: 'tensorflow' });`,
  );
  fs.writeFileSync(
    path.join(glue, 'nodejs_kernel_backend.js'),
    `require('./proto/api_pb');
     if (typeof require('@tensorflow/tfjs-core').registerKernel !== 'function') throw new Error('no tfjs-core');
     const { MathBackendCPU } = require(${JSON.stringify(
       require.resolve('@tensorflow/tfjs-backend-cpu'),
     )});
     class NodeJSKernelBackend extends MathBackendCPU {
       constructor(binding, packageName) { super(); this.isUsingGpuDevice = binding.isUsingGpuDevice(); this.packageName = packageName; }
     }
     exports.NodeJSKernelBackend = NodeJSKernelBackend;`,
  );
  const b = path.join(dir, variant);
  fs.mkdirSync(b, { recursive: true });
  fs.writeFileSync(path.join(b, 'binding.js'), bindingJs);
  fs.writeFileSync(
    path.join(b, 'build.json'),
    JSON.stringify({
      variant, tensorflow: '2.99.0', distribution: variant === 'gpu' ? 'tensorflow' : 'tensorflow-cpu', tensorflowDir: '/nowhere',
      tfjsNode: '4.22.0', binding: path.join(b, 'binding.js'), glue, node: { napi: '9', modules: '115' }, builtAt: '2026-01-01T00:00:00Z',
    }),
  );
}

test('a GPU build is preferred over the CPU build and reported as GPU; glue resolves genlab\'s tfjs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-fake-tf-'));
  fakeBuild(dir, 'cpu', `module.exports = { TF_Version: '2.99.0-cpu', isUsingGpuDevice: () => false };`);
  fakeBuild(dir, 'gpu', `module.exports = { TF_Version: '2.99.0', isUsingGpuDevice: () => true };`);
  const r = child(
    `await b.ready(); const e = await b.describeEnvironment();
     const s = b.tf.tidy(() => b.tf.tensor([1, 2, 3]).sum().dataSync()[0]);
     console.log(JSON.stringify({ choice: e.choice, backend: e.backend, gpu: e.gpu, tf: e.versions.tensorflow, build: e.tensorflowBuild, onednn: process.env.TF_ENABLE_ONEDNN_OPTS, s }));`,
    { GENLAB_TENSORFLOW_DIR: dir, TF_ENABLE_ONEDNN_OPTS: '1' },
  );
  assert.equal(r.status, 0, r.err);
  assert.deepEqual(JSON.parse(r.out), {
    choice: 'tensorflow', backend: 'tensorflow', gpu: true, tf: '2.99.0',
    build: { variant: 'gpu', wheel: 'tensorflow 2.99.0', dir: '/nowhere' }, onednn: '0', s: 6,
  });
});

test('a GPU build that fails to load (no CUDA) falls back to the CPU build, then to WASM, saying why', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-fake-tf-'));
  fakeBuild(dir, 'gpu', `throw new Error('libcudart.so.12: cannot open shared object file');`);
  fakeBuild(dir, 'cpu', `module.exports = { TF_Version: '2.99.0', isUsingGpuDevice: () => false };`);
  const show = `await b.ready(); console.log(JSON.stringify(await b.describeEnvironment()));`;
  const r = child(show, { GENLAB_TENSORFLOW_DIR: dir });
  assert.equal(r.status, 0, r.err);
  const e = JSON.parse(r.out);
  assert.equal(e.choice, 'tensorflow');
  assert.equal(e.gpu, false);
  assert.equal(e.tensorflowBuild.variant, 'cpu');
  assert.match(e.skipped[0].reason, /the gpu build \(TensorFlow 2\.99\.0\) failed to load: libcudart\.so\.12/);
  // Neither loads: WASM, with both reasons.
  fakeBuild(dir, 'cpu', `throw new Error('libtensorflow_cc.so.2: cannot open shared object file');`);
  const w = child(show, { GENLAB_TENSORFLOW_DIR: dir });
  assert.equal(w.status, 0, w.err);
  const f = JSON.parse(w.out);
  assert.equal(f.choice, 'wasm');
  assert.equal(f.skipped[0].choice, 'tensorflow');
  assert.match(f.skipped[0].reason, /gpu build .*libcudart.*; the cpu build .*libtensorflow_cc\.so\.2.*rebuild: run `npm run setup -- --tensorflow`/);
  // forcing it names the reason
  const forced = child(`await b.ready();`, { GENLAB_TENSORFLOW_DIR: dir, GENLAB_BACKEND: 'gpu' });
  assert.notEqual(forced.status, 0);
  assert.match(forced.err, /'tensorflow' \(forced by GENLAB_BACKEND=gpu\) is unavailable: .*libcudart/);
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
    await useBackend(before);
  }
  assert.equal(tf.getBackend(), before);
  assert.equal(parseBackendChoice('GPU'), 'tensorflow');
  assert.equal(parseBackendChoice('tfjs-node'), 'tensorflow');
  assert.deepEqual([...BACKEND_CHOICES], ['tensorflow', 'wasm', 'cpu']);
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
  // The engine names the property; the display asks for it instead of comparing backend names.
  assert.equal(env.ownKernels, env.choice === 'tensorflow');
  assert.deepEqual(capabilities(), { ownKernels: tf.getBackend() === 'tensorflow' });
  const kernelsLine = env.choice === 'tensorflow' ? "not needed (TensorFlow's own kernels)" : k.native ? `native addon (OpenBLAS products), ${k.threads} thread` : k.note;
  assert.ok(text.includes(kernelsLine), text);
  if (env.choice === 'tensorflow') assert.ok(text.includes(`TensorFlow     ${env.versions.tensorflow} (native, CPU build`), text);
  const html = environmentHtml({ ...env, skipped: [{ choice: 'tensorflow', reason: '<script>x</script> & co' }] });
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

test('a tensor-making call before the backend has started names ready(), not tfjs internals; after ready() it works', () => {
  const INDEX_JS = path.join(__dirname, '..', 'lib', 'index.js');
  const r = child(
    `const g = require(${JSON.stringify(INDEX_JS)});
     for (const f of [() => g.gaussianRing({ n: 4, seed: 1 }), () => g.barsAndStripes(2), () => new g.VAE({ inputDim: 4, latentDim: 2 })]) {
       try { f(); console.log('NO ERROR'); } catch (e) { console.log('ERR ' + e.message); }
     }
     await g.ready();
     console.log('AFTER ' + g.gaussianRing({ n: 4, seed: 1 }).shape.join('x'));`,
  );
  assert.equal(r.status, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.equal(lines.length, 4, r.out);
  assert.match(lines[0], /^ERR gaussianRing makes tensors, .*still starting: run `await ready\(\)`/);
  assert.match(lines[1], /^ERR barsAndStripes makes tensors/);
  assert.match(lines[2], /^ERR new VAE makes tensors/);
  assert.equal(lines[3], 'AFTER 4x2');
});
