/**
 * The native TensorFlow backend (`npm run setup -- --tensorflow`): the oneDNN regression guard, the ops genlab
 * relies on against the cpu backend, and the set-up's pure parts. Tests needing a build skip with the reason when
 * there is none (CI builds it: scripts/test.ts fails CI without it).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as nodeUtil from 'node:util';
import { ready, tf } from '../lib/engine/backend';
import { readTensorflowBuild, TensorflowBuildManifest } from '../lib/engine/tensorflow-build';
import { glueUtil, loadTensorflowBuild } from '../lib/engine/tensorflow-native';
import { fusedAdam } from '../lib/engine/fused-adam';
import { Random } from '../lib/engine/random';
import { bernoulli } from '../lib/rbm/base';
import { bindingGyp, missingFromWheel, parseTensorflowVariant, tensorflowIncludeDirs } from '../scripts/tensorflow';

const build: TensorflowBuildManifest | undefined = readTensorflowBuild('gpu') ?? readTensorflowBuild('cpu');
const NOT_BUILT = 'native TensorFlow not built here (npm run setup -- --tensorflow)';

/** Makes sure the 'tensorflow' backend is registered (a run forced onto wasm has not loaded it). */
function ensureTensorflow(): boolean {
  if (!build) return false;
  if (!tf.findBackendFactory('tensorflow')) loadTensorflowBuild(build);
  return true;
}

/** Runs `f` on `backend` and returns its values as plain arrays (tensors disposed). */
async function on(backend: string, f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const r = f();
    return (Array.isArray(r) ? r : [r]).map((t) => t.dataSync() as Float32Array);
  });
}

/** Largest |a - b| relative to the largest |b| (0 for equal arrays). */
function relErr(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  let m = 1e-30;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

/** Compares `f` on tensorflow and cpu; restores the backend genlab selected. */
async function sameOnCpu(label: string, f: () => tf.Tensor | tf.Tensor[], tol = 1e-5): Promise<void> {
  const original = await ready();
  try {
    const a = await on('tensorflow', f);
    const b = await on('cpu', f);
    a.forEach((x, i) => {
      const e = relErr(x, b[i]);
      assert.ok(e <= tol, `${label}: output ${i} differs from the cpu backend by ${e.toExponential(2)} (relative)`);
    });
  } finally {
    await tf.setBackend(original);
  }
}

test('oneDNN guard: TF_ENABLE_ONEDNN_OPTS=0 is set before TensorFlow loads, even when the user set 1', (t) => {
  if (!build) return t.skip(NOT_BUILT);
  const backendJs = path.join(__dirname, '..', 'lib', 'engine', 'backend.js');
  const r = spawnSync(
    process.execPath,
    ['-e', `const b = require(${JSON.stringify(backendJs)}); b.ready().then((n) => console.log(n, process.env.TF_ENABLE_ONEDNN_OPTS));`],
    { encoding: 'utf8', env: { ...process.env, GENLAB_BACKEND: 'tensorflow', TF_ENABLE_ONEDNN_OPTS: '1' } },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'tensorflow 0');
  assert.doesNotMatch(r.stderr, /oneDNN custom operations are on/);
});

test('Conv2DBackpropInput with 1 input and 1 output channel equals the cpu backend (the oneDNN regression case)', async (t) => {
  if (!ensureTensorflow()) return t.skip(NOT_BUILT);
  for (const [n, h, k, s, pad] of [
    [1, 8, 3, 1, 'same'], [4, 28, 3, 2, 'same'], [3, 12, 4, 2, 'valid'], [100, 28, 5, 1, 'same'], [2, 7, 3, 2, 'valid'],
  ] as [number, number, number, number, 'same' | 'valid'][]) {
    const label = `x=[${n},${h},${h},1] f=[${k},${k},1,1] s=${s} p=${pad}`;
    await sameOnCpu(`conv2dTranspose ${label}`, () => {
      const x = tf.randomNormal([n, h, h, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
      const w = tf.randomNormal([k, k, 1, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
      const dy = tf.randomNormal(tf.conv2d(x, w, s, pad).shape, 0, 1, 'float32', 3) as tf.Tensor4D;
      return tf.conv2dTranspose(dy, w, [n, h, h, 1], s, pad); // runs the Conv2DBackpropInput kernel
    });
    // The same kernel reached as a gradient: d/dx sum(conv2d(x, w) * dy).
    await sameOnCpu(`grad conv2d ${label}`, () => {
      const x = tf.randomNormal([n, h, h, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
      const w = tf.randomNormal([k, k, 1, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
      const dy = tf.randomNormal(tf.conv2d(x, w, s, pad).shape, 0, 1, 'float32', 6);
      return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad), dy)))([x, w]);
    });
  }
});

test('the ops genlab trains with equal the cpu backend on tensorflow (conv VAE layers, losses, RBM step)', async (t) => {
  if (!ensureTensorflow()) return t.skip(NOT_BUILT);
  // The lecture's conv VAE decoder: conv2dTranspose 64->32->1 channels, stride 2, 'same', with its gradients.
  await sameOnCpu('conv VAE decoder and gradients', () => {
    const z = tf.randomNormal([16, 7, 7, 64], 0, 1, 'float32', 7) as tf.Tensor4D;
    const w1 = tf.randomNormal([3, 3, 32, 64], 0, 0.1, 'float32', 8) as tf.Tensor4D;
    const w2 = tf.randomNormal([3, 3, 1, 32], 0, 0.1, 'float32', 9) as tf.Tensor4D;
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor): tf.Tensor => {
      const h = tf.relu(tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [16, 14, 14, 32], 2, 'same'));
      return tf.sum(tf.sigmoid(tf.conv2dTranspose(h, c as tf.Tensor4D, [16, 28, 28, 1], 2, 'same')));
    };
    return tf.grads(f)([z, w1, w2]);
  }, 1e-4);
  // Losses and sampling maths: softplus, log-sigmoid, logSumExp, sigmoid cross-entropy, KL terms.
  await sameOnCpu('losses', () => {
    const x = tf.randomNormal([64, 50], 0, 4, 'float32', 10);
    const y = tf.randomUniform([64, 50], 0, 1, 'float32', 11);
    return [tf.softplus(x), tf.logSigmoid(x), tf.logSumExp(x, 1), tf.losses.sigmoidCrossEntropy(y, x), tf.exp(tf.mul(x, 0.5)), tf.step(x)];
  });
  // An RBM CD-1 product pattern: transposed matMul and a fused bias + sigmoid.
  await sameOnCpu('RBM products', () => {
    const v = tf.randomUniform([100, 784], 0, 1, 'float32', 12);
    const w = tf.randomNormal([784, 500], 0, 0.01, 'float32', 13);
    const b = tf.randomNormal([500], 0, 0.01, 'float32', 14);
    const h = tf.sigmoid(tf.add(tf.matMul(v, w), b));
    return [h, tf.matMul(v, h, true, false), tf.fused.matMul({ a: v, b: w, bias: b, activation: 'relu' })];
  }, 1e-5);
});

test('tfjs-node\'s glue gets every util function it calls on this Node (Node 23 removed util.isNullOrUndefined)', async (t) => {
  if (!ensureTensorflow() || !build) return t.skip(NOT_BUILT);
  // Every `require("util")` binding in the glue files genlab loads, and every name called on it.
  const called = new Map<string, string>(); // name -> first file calling it
  const requiring: string[] = [];
  for (const file of Object.keys(require.cache).filter((f) => f.startsWith(build.glue + path.sep) && f.endsWith('.js'))) {
    if (!fs.existsSync(file)) continue; // the stand-ins genlab caches (no file)
    const src = fs.readFileSync(file, 'utf8');
    const v = /var (\w+) = require\("util"\)/.exec(src)?.[1];
    if (!v) continue;
    requiring.push(file);
    for (const m of src.matchAll(new RegExp(`\\b${v}\\.(\\w+)`, 'g'))) if (!called.has(m[1])) called.set(m[1], file);
  }
  assert.ok(called.has('isNullOrUndefined') && called.has('isArray'), `the scan finds the glue's util calls: ${[...called.keys()]}`);
  for (const [name, file] of called) {
    assert.equal(typeof (glueUtil as unknown as Record<string, unknown>)[name], 'function', `${file} calls util.${name}, which genlab's glue util lacks on ${process.version}`);
  }
  // Each of those files really got genlab's util (the redirect works on this Node's module loader), and Node's own
  // util is not changed.
  for (const file of requiring) {
    assert.ok(require.cache[file]?.children.some((c) => c.exports === glueUtil), `${file} did not get genlab's util on ${process.version}`);
  }
  assert.notEqual((nodeUtil as unknown as Record<string, unknown>).isNullOrUndefined, glueUtil.isNullOrUndefined);
  // The kernels that call them run: TopK (isNullOrUndefined on k) and every op's dtype attribute (isArray).
  await sameOnCpu('TopK and Add', () => {
    const x = tf.randomNormal([4, 9], 0, 1, 'float32', 21);
    const { values, indices } = tf.topk(x, 3);
    return [values, indices.toFloat(), tf.add(x, tf.addN([x, x]))];
  });
});

test('TensorFlow 2.21 changes genlab guards: Round on int32 keeps the integers; Step keeps tfjs semantics', async (t) => {
  if (!ensureTensorflow()) return t.skip(NOT_BUILT);
  const original = await ready();
  try {
    await tf.setBackend('tensorflow');
    const r = tf.tidy(() => [...tf.round(tf.tensor1d([-12345678, 10, 12345678], 'int32')).dataSync()]);
    assert.deepEqual(r, [-12345678, 10, 12345678]); // TensorFlow 2.21's own Round returns [0, 0, 0]
    const f = tf.tidy(() => [...tf.round(tf.tensor1d([-1.5, 0.5, 2.5, 2.7])).dataSync()]);
    assert.deepEqual(f, [-2, 0, 2, 3]); // float: round half to even, as on every backend
    // genlab's leaner Step kernel on this backend (ReLU gradients, Bernoulli sampling): tfjs' semantics kept.
    const x = tf.tensor1d([-Infinity, -2, -0, 0, 1e-30, 3, Infinity, NaN]);
    assert.deepEqual([...tf.step(x).dataSync()], [0, 0, 0, 0, 1, 1, 1, NaN]);
    assert.deepEqual([...tf.step(x, 0.25).dataSync()], [0.25, 0.25, 0.25, 0.25, 1, 1, 1, NaN]);
    x.dispose();
  } finally {
    await tf.setBackend(original);
  }
});

test('fused Adam on tensorflow (ResourceApplyAdam) follows tf.train.adam, keeps its weights in step, leaks nothing', async (t) => {
  if (!ensureTensorflow()) return t.skip(NOT_BUILT);
  const original = await ready();
  try {
    await tf.setBackend('tensorflow');
    /** Six steps on two variables; an outside assignment after step 3 (as setWeights/load do) must be picked up. */
    const run = async (opt: tf.Optimizer) => {
      const before = tf.memory().numTensors;
      const rng = new Random(3);
      const vars = [tf.variable(tf.tensor(rng.normalArray(12), [3, 4])), tf.variable(tf.tensor(rng.normalArray(5), [5]))];
      for (let step = 0; step < 6; step++) {
        if (step === 3) vars[1].assign(tf.tidy(() => tf.mul(vars[1], 0.5)));
        tf.tidy(() => {
          const grads: tf.NamedTensorMap = {};
          for (const v of vars) grads[v.name] = tf.tensor(rng.normalArray(v.size), v.shape);
          opt.applyGradients(grads);
        });
      }
      const values = vars.map((v) => v.dataSync() as Float32Array);
      const named = await opt.getWeights(); // iterations, then m and v of each variable
      const weights = named.map((w) => w.tensor.dataSync() as Float32Array);
      tf.dispose(named.filter((w) => w.name === 'iter').map((w) => w.tensor));
      opt.dispose();
      tf.dispose(vars);
      return { values, weights, leaked: tf.memory().numTensors - before };
    };
    const ref = await run(tf.train.adam(0.01));
    const fused = await run(fusedAdam(0.01));
    assert.equal(fused.weights.length, ref.weights.length, 'optimizer weights');
    fused.values.forEach((v, i) => assert.ok(relErr(v, ref.values[i]) < 1e-5, `variable ${i}: ${relErr(v, ref.values[i])}`));
    // TensorFlow updates v as v + (g^2 - v)(1 - beta2): the same value, rounded differently (about 1e-5 relative).
    fused.weights.forEach((w, i) => assert.ok(relErr(w, ref.weights[i]) < 1e-4, `optimizer weight ${i}: ${relErr(w, ref.weights[i])}`));
    assert.ok(Math.abs(ref.values[0][0] - new Random(3).normalArray(12)[0]) > 1e-3, 'the steps moved the values');
    // Resource handles and moments freed with the optimizer: no more left behind than by tfjs's own Adam (tfjs 4.22
    // keeps two scalars per optimizer).
    assert.ok(fused.leaked <= ref.leaked, `fused Adam left ${fused.leaked} tensors, tf.train.adam ${ref.leaked}`);
  } finally {
    await tf.setBackend(original);
  }
});

test('Bernoulli samples on tensorflow equal those on cpu for the same generator (the RBM reproduces across backends)', async (t) => {
  if (!ensureTensorflow()) return t.skip(NOT_BUILT);
  const p = new Random(8).uniformArray(40 * 30);
  p[7] = 0;
  p[8] = 1;
  const draw = async (backend: string) => {
    const rng = new Random(11);
    const [s] = await on(backend, () => bernoulli(tf.tensor2d(p, [40, 30]), rng));
    return { s: [...s], next: rng.nextUint32() };
  };
  const original = await ready();
  try {
    const a = await draw('tensorflow');
    const b = await draw('cpu');
    assert.deepEqual(a, b);
    assert.equal(a.s[7], 0);
    assert.equal(a.s[8], 1);
    const mean = a.s.reduce((x, y) => x + y, 0) / a.s.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05, `sample mean ${mean}`);
  } finally {
    await tf.setBackend(original);
  }
});

test('set-up helpers: --tensorflow values, include folders, the generated binding.gyp', () => {
  assert.equal(parseTensorflowVariant(''), 'cpu');
  assert.equal(parseTensorflowVariant('GPU'), 'gpu');
  assert.throws(() => parseTensorflowVariant('tpu'), /--tensorflow must be cpu or gpu .*got 'tpu'/);
  const gyp = bindingGyp('/b/cpu', '/b/package-4.22.0', '/venv/tensorflow', 'linux', '/g') as {
    targets: { sources: string[]; libraries: string[]; include_dirs: string[] }[];
  };
  // tfjs-node's sources as copied and edited by bindingSources, and genlab's addition from the checkout.
  assert.deepEqual(gyp.targets[0].sources, ['src/tfjs_backend.cc', 'src/tfjs_binding.cc', '../../g/native/tensorflow/genlab_graph.cc']);
  assert.deepEqual(gyp.targets[0].libraries, [
    '/venv/tensorflow/libtensorflow_cc.so.2', '/venv/tensorflow/libtensorflow_framework.so.2', '-Wl,-rpath,/venv/tensorflow',
  ]);
  assert.ok(gyp.targets[0].include_dirs.includes('/venv/tensorflow/include'));
  if (build) {
    assert.ok(tensorflowIncludeDirs(build.tensorflowDir).some((d) => d.endsWith(path.join('xla', 'tsl', 'c'))));
    assert.deepEqual(missingFromWheel(build.tensorflowDir), []);
  }
  // A TensorFlow without its C library (e.g. a conda or source build) is named file by file.
  assert.deepEqual(missingFromWheel('/nowhere', 'linux').map((f) => path.basename(f)), [
    'libtensorflow_cc.so.2', 'libtensorflow_framework.so.2', 'c_api.h', 'c_api.h',
  ]);
});
