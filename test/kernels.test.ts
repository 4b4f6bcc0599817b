/**
 * genlab's replacement kernels (lib/engine/kernels/) compute the same functions as the kernels they replace.
 *
 * Reference: TensorFlow.js's own pure-JS CPU kernels (float32, straightforward loops), run with every genlab
 * replacement unregistered. Each case is then recomputed on 'cpu' and 'wasm' with the replacements registered,
 * with and without the native addon, and compared elementwise within float tolerance.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { tf, ready } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import {
  registerFastKernels, unregisterFastKernels, fastKernelReport, addProduct, float32Range, nativeBernoulli, uniformArray,
} from '../lib/engine/kernels';
import { fusedAdam, FUSED_ADAM_KERNEL } from '../lib/engine/fused-adam';
import { bernoulli } from '../lib/rbm/base';
import { assertNoLeak, ensureWasmLoaded } from './helpers';
// The library's own fallback for the one conv kernel WASM lacks (the VAE imports it too).
import { registerWasmConvGradients } from '../lib/engine/wasm-conv-grad';

// Where the platform selected another backend (GENLAB_BACKEND=tensorflow), load WASM's kernel table now and give
// it the conv-gradient kernels as a WASM selection would have, before the tests below register the native ones.
if (ensureWasmLoaded()) registerWasmConvGradients();

type Case = { name: string; run: (inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]; shapes: number[][] };

/** Matrix products: rank 2 and 3, every transpose combination, broadcast batch, and fused bias+activation. */
function matMulCases(rng: Random): Case[] {
  const cases: Case[] = [];
  for (let i = 0; i < 8; i++) {
    const m = 1 + rng.int(40);
    const k = 1 + rng.int(70);
    const n = 1 + rng.int(40);
    const tA = rng.next() < 0.5;
    const tB = rng.next() < 0.5;
    const batch = i % 3 === 0 ? [] : [1 + rng.int(3)];
    const bBatch = i % 4 === 1 ? [] : batch; // broadcast an unbatched b over a's batch
    const aShape = [...batch, ...(tA ? [k, m] : [m, k])];
    const bShape = [...bBatch, ...(tB ? [n, k] : [k, n])];
    cases.push({
      name: `matMul ${aShape}${tA ? 'ᵀ' : ''} x ${bShape}${tB ? 'ᵀ' : ''}`,
      shapes: [aShape, bShape],
      run: ([a, b]) => tf.matMul(a, b, tA, tB),
    });
  }
  for (const activation of ['linear', 'relu', 'sigmoid', 'elu'] as const) {
    const tB = activation === 'relu';
    cases.push({
      name: `fused matMul + bias + ${activation}`,
      shapes: [[17, 33], tB ? [25, 33] : [33, 25], [25]],
      run: ([a, b, bias]) =>
        tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, transposeB: tB, bias, activation }),
    });
  }
  // Gradients of a dense layer go through transposed products.
  cases.push({
    name: 'grads of sigmoid(x W + b)',
    shapes: [[12, 30], [30, 9], [9]],
    run: ([x, w, b]) =>
      tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.fused.matMul({ a: xx as tf.Tensor2D, b: ww as tf.Tensor2D, bias: bb, activation: 'sigmoid' })),
      )([x, w, b]),
  });
  return cases;
}

/** Copies: transposes of the last two axes (and one other perm, which defers to the original), row gathers. */
function copyCases(): Case[] {
  return [
    { name: 'transpose 2D', shapes: [[37, 53]], run: ([x]) => tf.transpose(x) },
    { name: 'transpose last two of 3D', shapes: [[3, 5, 7]], run: ([x]) => tf.transpose(x, [0, 2, 1]) },
    { name: 'transpose other perm', shapes: [[3, 5, 7]], run: ([x]) => tf.transpose(x, [2, 0, 1]) },
    { name: 'transpose int32', shapes: [[6, 9]], run: ([x]) => tf.transpose(tf.cast(tf.mul(x, 100), 'int32')).toFloat() },
    {
      name: 'sums over leading axes (bias gradients) and over other axes (deferred)',
      shapes: [[37, 19], [4, 6, 5]],
      run: ([x, y]) => [
        tf.sum(x, 0),
        tf.sum(x, -2, true),
        tf.sum(y, [0, 1]),
        tf.sum(y, [1, 0], true),
        tf.sum(y, 0),
        tf.sum(y, 1),
        tf.sum(x),
        tf.sum(x, 1),
        tf.mean(x, 0),
        tf.mean(y, [0, 1], true),
        tf.mean(y, [0, 2]),
        tf.mean(y),
      ],
    },
    {
      name: 'concat and split along each axis (float, int32, three inputs, an empty one) and the gradient of a concat',
      shapes: [[2, 5, 3, 3], [2, 5, 3, 4], [2, 5, 3, 1]],
      run: ([a, b, c]) => {
        const ints = (t: tf.Tensor) => tf.cast(tf.mul(t, 100), 'int32');
        const [s1, s2] = tf.split(b, [1, 3], 3);
        const [r1, r2, r3] = tf.split(a, 3, 2);
        const gs = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.concat([x, y], 3))))([a, b]);
        return [
          tf.concat([a, b, c], 3), tf.concat([a, a], 1), tf.concat([a, a], 0), tf.concat([c, tf.zeros([2, 5, 3, 0]), c], 3),
          tf.concat([ints(a), ints(b)], -1).toFloat(), s1, s2, r1, r2, r3, tf.split(ints(b), 2, 3)[1].toFloat(), ...gs,
        ];
      },
    },
    {
      name: 'sums and means over middle axes ([n, h, w, c] over h and w), with keepDims',
      shapes: [[3, 4, 5, 6]],
      run: ([x]) => [tf.sum(x, [1, 2]), tf.sum(x, [2, 1], true), tf.mean(x, 1), tf.mean(x, [1, 2], true), tf.sum(x, [0, 2]), tf.sum(x, [2, 3])],
    },
    {
      name: 'tiles repeating the whole tensor (float, int32, reps on size-1 leading axes) and other tiles (deferred)',
      shapes: [[1, 1, 1, 6], [1, 4, 3]],
      run: ([c, m]) => [
        tf.tile(c, [5, 3, 2, 1]), // a BatchNorm gradient's per-channel factor at the activations' shape
        tf.tile(tf.cast(tf.mul(c, 100), 'int32'), [2, 2, 1, 1]).toFloat(),
        tf.tile(m, [3, 1, 1]),
        tf.tile(m, [1, 1, 1]),
        tf.tile(m, [2, 2, 1]), // tiles an axis of size 4: the original kernel
        tf.tile(c, [2, 1, 1, 3]),
      ],
    },
    {
      name: 'gather rows (float, int32, repeated indices, axis 1)',
      shapes: [[50, 13]],
      run: ([x]) => {
        const idx = tf.tensor1d([49, 0, 7, 7, 23], 'int32');
        return [
          tf.gather(x, idx),
          tf.gather(tf.cast(tf.mul(x, 100), 'int32'), idx).toFloat(),
          tf.gather(x, tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32')),
          tf.gather(x, tf.tensor1d([12, 0, 5], 'int32'), 1),
        ];
      },
    },
  ];
}

/** Convolutions as the conv VAE uses them: conv2d, conv2dTranspose, and their gradients. */
function convCases(): Case[] {
  const cases: Case[] = [];
  const configs: Array<{ x: number[]; f: number[]; s: number; pad: 'same' | 'valid' }> = [
    { x: [2, 9, 9, 3], f: [3, 3, 3, 4], s: 1, pad: 'same' },
    { x: [3, 8, 8, 2], f: [3, 3, 2, 5], s: 2, pad: 'same' },
    { x: [2, 7, 6, 1], f: [2, 3, 1, 3], s: 2, pad: 'valid' },
  ];
  for (const c of configs) {
    cases.push({
      name: `conv2d ${c.x} * ${c.f} stride ${c.s} ${c.pad} and its gradients`,
      shapes: [c.x, c.f],
      run: ([x, f]) => {
        const y = tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.s, c.pad);
        const [dx, df] = tf.grads((xx: tf.Tensor, ff: tf.Tensor) =>
          tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, c.s, c.pad))),
        )([x, f]);
        return [y, dx, df];
      },
    });
    const outH = c.pad === 'same' ? Math.ceil(c.x[1] / c.s) : Math.ceil((c.x[1] - c.f[0] + 1) / c.s);
    const outW = c.pad === 'same' ? Math.ceil(c.x[2] / c.s) : Math.ceil((c.x[2] - c.f[1] + 1) / c.s);
    const dyShape = [c.x[0], outH, outW, c.f[3]];
    cases.push({
      name: `conv2dTranspose ${dyShape} -> ${c.x} and its gradients`,
      shapes: [dyShape, c.f],
      run: ([dy, f]) => {
        const tr = (a: tf.Tensor, b: tf.Tensor) =>
          tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, c.x as [number, number, number, number], c.s, c.pad);
        const [da, db] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tr(a, b))))([dy, f]);
        return [tr(dy, f), da, db];
      },
    });
  }
  // tf.layers' conv2d runs FusedConv2D: a bias per channel (folded into the product; WASM's own kernel takes no other),
  // activations composed; its gradients are the two conv gradients and a sum.
  for (const activation of ['linear', 'relu', 'leakyrelu'] as const) {
    cases.push({
      name: `fused conv2d + bias + ${activation} and its gradients`,
      shapes: [[2, 9, 9, 3], [3, 3, 3, 4], [4]],
      run: ([x, f, b]) => {
        const conv = (xx: tf.Tensor, ff: tf.Tensor, bb: tf.Tensor) =>
          tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: ff as tf.Tensor4D, strides: 2, pad: 'same', bias: bb, activation, leakyreluAlpha: 0.2 });
        return [conv(x, f, b), ...tf.grads((xx: tf.Tensor, ff: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(conv(xx, ff, bb))))([x, f, b])];
      },
    });
  }
  return cases;
}

/** Runs one case on `backend` with inputs from `seed`; returns the flattened outputs. */
async function evaluate(backend: string, c: Case, seed: number): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const rng = new Random(seed);
  const inputs = c.shapes.map((s) => tf.tensor(rng.uniformArray(s.reduce((p, d) => p * d, 1)), s).sub(0.5));
  const outs = tf.tidy(() => c.run(inputs));
  const list = Array.isArray(outs) ? outs : [outs];
  const values = list.map((t) => t.dataSync() as Float32Array);
  tf.dispose([...inputs, ...list]);
  return values;
}

function assertAllClose(actual: Float32Array[], expected: Float32Array[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: number of outputs`);
  for (let o = 0; o < expected.length; o++) {
    assert.equal(actual[o].length, expected[o].length, `${what}: output ${o} size`);
    let scale = 1;
    for (const v of expected[o]) if (!Number.isNaN(v)) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < expected[o].length; i++) {
      if (Number.isNaN(expected[o][i])) {
        assert.ok(Number.isNaN(actual[o][i]), `${what}: output ${o}[${i}] = ${actual[o][i]}, reference NaN`);
        continue;
      }
      const diff = Math.abs(actual[o][i] - expected[o][i]);
      assert.ok(
        diff <= 2e-5 * scale + 1e-6, // float32 rounding of sums of up to ~10^3 terms
        `${what}: output ${o}[${i}] = ${actual[o][i]}, reference ${expected[o][i]} (diff ${diff}, scale ${scale})`,
      );
    }
  }
}

/** Reference values for every case: CPU backend, original kernels only. */
async function references(cases: Case[]): Promise<Float32Array[][]> {
  unregisterFastKernels();
  const out: Float32Array[][] = [];
  for (const [i, c] of cases.entries()) out.push(await evaluate('cpu', c, 100 + i));
  return out;
}

async function checkAgainst(cases: Case[], refs: Float32Array[][], backends: string[], label: string) {
  for (const backend of backends) {
    for (const [i, c] of cases.entries()) {
      assertAllClose(await evaluate(backend, c, 100 + i), refs[i], `${label} ${backend}: ${c.name}`);
    }
  }
}

const rng = new Random(7);
const cases = [...matMulCases(rng), ...copyCases(), ...convCases()];
let refs: Float32Array[][] = [];
let backends: string[] = ['cpu'];

test('setup: references on the CPU backend with original kernels', async () => {
  await ready();
  if (ensureWasmLoaded()) backends = ['cpu', 'wasm'];
  refs = await references(cases);
  assert.equal(refs.length, cases.length);
});

test('replacement kernels without the native addon equal the originals', async () => {
  const report = registerFastKernels({ native: false });
  assert.equal(report.native, false);
  if (backends.includes('wasm')) {
    assert.deepEqual(report.kernels.sort(), ['gradient/Mean', 'gradient/Sum', 'wasm/BatchMatMul', 'wasm/Cast', 'wasm/Identity', 'wasm/Tile', 'wasm/_FusedMatMul']);
  }
  assert.match(report.note, /disabled/);
  await checkAgainst(cases, refs, backends, 'no addon');
  unregisterFastKernels();
  assert.equal(fastKernelReport().active, false);
});

test('replacement kernels with the native addon (when built) equal the originals', async (t) => {
  const report = registerFastKernels();
  if (!report.native) {
    t.skip(`native addon unavailable: ${report.note}`);
    unregisterFastKernels();
    return;
  }
  assert.ok(report.threads >= 1);
  const kernels = [
    'BatchMatMul', '_FusedMatMul', 'Transpose', 'GatherV2', 'Sum', 'Mean', 'Conv2D', 'FusedConv2D', 'Conv2DBackpropInput',
    'Conv2DBackpropFilter',
  ];
  for (const k of kernels) {
    for (const b of backends) assert.ok(report.kernels.includes(`${b}/${k}`), `${b}/${k} registered`);
  }
  await checkAgainst(cases, refs, backends, 'native');
  // An index out of range still raises TensorFlow.js's own error (the replacement defers to the original).
  for (const backend of backends) {
    await tf.setBackend(backend);
    const x = tf.ones([4, 3]);
    const idx = tf.tensor1d([1, 4], 'int32');
    assert.throws(() => tf.gather(x, idx).dataSync(), /index|range|4/i, `${backend}: gather out of range`);
    tf.dispose([x, idx]);
  }
  // Idempotent: registering again changes nothing.
  assert.deepEqual(registerFastKernels().kernels, report.kernels);
  // Registering the conv gradients again (registerFastKernels does at every backend selection) must not wrap the native kernels
  // (it once did, and the conv VAE ran its transposed convolutions through slices and pads, 2x slower).
  if (backends.includes('wasm')) {
    const before = tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc;
    assert.deepEqual(registerWasmConvGradients(), []);
    assert.equal(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc, before, 'native Conv2DBackpropInput kept');
  }
});

test('native products accept float32 tensors cast from bool on the cpu backend', async (t) => {
  const report = registerFastKernels();
  if (!report.native) {
    t.skip(`native addon unavailable: ${report.note}`);
    return;
  }
  await tf.setBackend('cpu');
  const rng = new Random(5);
  const a = tf.tensor(rng.uniformArray(6 * 4), [6, 4]);
  const w = tf.tensor(rng.normalArray(4 * 3), [4, 3]);
  // tf.cast(bool -> float32) keeps a Uint8Array on the cpu backend: the kernel must still read it as floats
  const got = tf.tidy(() => tf.matMul(tf.cast(tf.greater(a, 0.5), 'float32'), w).arraySync() as number[][]);
  const expected = tf.tidy(
    () => tf.matMul(tf.where(tf.greater(a, 0.5), tf.onesLike(a), tf.zerosLike(a)), w).arraySync() as number[][],
  );
  tf.dispose([a, w]);
  await tf.setBackend(backends[0]);
  for (let i = 0; i < expected.length; i++) {
    for (let j = 0; j < expected[i].length; j++) assert.ok(Math.abs(got[i][j] - expected[i][j]) < 1e-5, `[${i}][${j}]`);
  }
});

test('a bias folded into a native product (full-shape or per row) equals the product plus the bias', async (t) => {
  const report = registerFastKernels();
  if (!report.native) {
    t.skip(`native addon unavailable: ${report.note}`);
    return;
  }
  const rng = new Random(11);
  const make = (shape: number[]) => tf.tensor(rng.normalArray(shape.reduce((p, d) => p * d, 1)), shape);
  for (const backend of backends) {
    await tf.setBackend(backend);
    // An RBM's weight update, W + X^T Y: X [2B, nV], Y [2B, nH], W [nV, nH] (the bias is the whole output).
    const X = make([40, 31]);
    const Y = make([40, 17]);
    const W = make([31, 17]);
    const row = make([17]);
    const row2 = make([1, 17]);
    const col = make([31, 1]); // broadcast down columns: not foldable, composed instead
    const w0 = (W.dataSync() as Float32Array).slice();
    const cases: Array<[string, () => tf.Tensor, () => tf.Tensor]> = [
      ['full', () => addProduct(W, X as tf.Tensor2D, Y as tf.Tensor2D, true), () => tf.add(W, tf.matMul(X, Y, true, false))],
      ['row', () => tf.fused.matMul({ a: X as tf.Tensor2D, b: Y as tf.Tensor2D, transposeA: true, bias: row }), () => tf.add(tf.matMul(X, Y, true), row)],
      ['[1, n]', () => tf.fused.matMul({ a: X as tf.Tensor2D, b: Y as tf.Tensor2D, transposeA: true, bias: row2, activation: 'relu' }), () => tf.relu(tf.add(tf.matMul(X, Y, true), row2))],
      ['column', () => tf.fused.matMul({ a: X as tf.Tensor2D, b: Y as tf.Tensor2D, transposeA: true, bias: col }), () => tf.add(tf.matMul(X, Y, true), col)],
    ];
    for (const [name, got, want] of cases) {
      const [g, w] = tf.tidy(() => [got().dataSync() as Float32Array, want().dataSync() as Float32Array]);
      assertAllClose([g], [w], `${backend}: ${name} bias`);
    }
    // The inputs are untouched (the output starts as a copy of the bias, never the bias itself).
    assert.deepEqual(W.dataSync(), w0, `${backend}: W unchanged`);
    tf.dispose([X, Y, W, row, row2, col]);
  }
});

test('native Bernoulli sampling draws exactly what step(p - u) draws and leaves the generator in the same state', async (t) => {
  const report = registerFastKernels();
  if (!report.native) {
    t.skip(`native addon unavailable: ${report.note}`);
    return;
  }
  for (const backend of backends) {
    await tf.setBackend(backend);
    const src = new Random(21);
    const values = Array.from(src.uniformArray(37 * 23));
    values[0] = 0;
    values[1] = 1;
    values[2] = 0.5;
    const p = tf.tensor2d(values, [37, 23]);
    const rngA = new Random(99);
    const rngB = new Random(99);
    const fast = nativeBernoulli(p, rngA);
    assert.ok(fast, `${backend}: the native kernel is registered`);
    const slow = tf.tidy(() => tf.step(tf.sub(p, tf.tensor2d(rngB.uniformArray(37 * 23), [37, 23]))));
    assert.deepEqual(Array.from(fast.dataSync()), Array.from(slow.dataSync()), `${backend}: samples`);
    assert.equal(rngA.nextUint32(), rngB.nextUint32(), `${backend}: generator state afterwards`);
    const ones = Array.from(fast.dataSync()).reduce((s, x) => s + x, 0);
    const expected = values.reduce((s, x) => s + x, 0);
    assert.ok(Math.abs(ones - expected) < 4 * Math.sqrt(values.length / 4), `${backend}: about sum(p) ones (${ones} vs ${expected})`);
    // The library's sampler uses it and leaks nothing.
    await assertNoLeak(() => tf.dispose(bernoulli(p, new Random(1))), `${backend} bernoulli`);
    tf.dispose([p, fast, slow]);
  }
});

test('native uniforms are Random.uniformArray bit for bit and leave the generator in the same state', (t) => {
  const report = registerFastKernels();
  if (!report.native) {
    t.skip(`native addon unavailable: ${report.note}`);
    return;
  }
  for (const n of [0, 1, 7, 100_003]) {
    const a = new Random(n + 5);
    const b = new Random(n + 5);
    const fast = uniformArray(a, n);
    const slow = b.uniformArray(n);
    assert.ok(fast.length === n && fast.every((u, i) => u === slow[i]), `n = ${n}: the same numbers`);
    assert.equal(a.nextUint32(), b.nextUint32(), `n = ${n}: generator state afterwards`);
  }
});

test('float32Range reads min, max and finiteness in place (NaN and Infinity included)', async () => {
  registerFastKernels();
  for (const backend of backends) {
    await tf.setBackend(backend);
    const check = (values: number[], min: number, max: number, finite: boolean) => {
      const x = tf.tensor2d(values, [1, values.length]);
      const r = float32Range(x);
      assert.ok(r, `${backend}: read in place`);
      assert.equal(r.finite, finite, `${backend}: finite for ${values}`);
      if (finite) assert.deepEqual([r.min, r.max], [min, max].map((v) => Math.fround(v)), `${backend}: range of ${values}`);
      x.dispose();
    };
    check([0.25, -3, 7.5, 1], -3, 7.5, true);
    check([NaN, 1, 2], 1, 2, false);
    check([1, 2, NaN], 1, 2, false);
    check([1, Infinity], 1, Infinity, false);
    check([-Infinity, 0], -Infinity, 0, false);
    assert.equal(float32Range(tf.tidy(() => tf.tensor1d([1, 2], 'int32'))), null, 'int32 is left to tensor ops');
  }
});

test('WASM without the addon: products with a cached transposed operand follow its changes (assign, reshape), no leaks', async (t) => {
  if (!backends.includes('wasm')) {
    t.skip('WASM backend unavailable');
    return;
  }
  unregisterFastKernels();
  registerFastKernels({ native: false });
  await tf.setBackend('wasm');
  const rng = new Random(8);
  const w = tf.variable(tf.tensor2d(rng.normalArray(5 * 4), [5, 4]));
  const h = tf.tensor2d(rng.normalArray(3 * 4), [3, 4]);
  const expect = () => tf.tidy(() => tf.matMul(h, tf.transpose(w)).arraySync() as number[][]); // h W^T, [3, 5]
  const close = (got: number[][], want: number[][], what: string) =>
    want.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(got[i][j] - v) < 1e-5, `${what}: [${i}][${j}] ${got[i][j]} vs ${v}`)));
  await assertNoLeak(() => {
    for (let r = 0; r < 3; r++) close(tf.tidy(() => tf.matMul(h, w, false, true).arraySync() as number[][]), expect(), `repeat ${r}`);
    const next = tf.tidy(() => tf.mul(w, -2) as tf.Tensor2D);
    w.assign(next); // new values, new data id: the cached transpose must not be used
    next.dispose();
    close(tf.tidy(() => tf.matMul(h, w, false, true).arraySync() as number[][]), expect(), 'after assign');
    // a reshaped view shares the data id: [4, 5] read as W^T's shape must not hit the [5, 4] entry
    const v = tf.tidy(() => tf.matMul(h.reshape([4, 3]), w.reshape([4, 5]), true, false).arraySync() as number[][]);
    close(v, tf.tidy(() => tf.matMul(tf.transpose(h.reshape([4, 3])), w.reshape([4, 5])).arraySync() as number[][]), 'reshaped');
  }, 'cached transposes');
  tf.dispose([w, h]);
  unregisterFastKernels();
});

test('Identity and a same-dtype Cast on WASM share memory (no copy), and either tensor outlives the other', async (t) => {
  if (!backends.includes('wasm')) {
    t.skip('WASM backend unavailable');
    return;
  }
  registerFastKernels({ native: false });
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
  const y = tf.clone(x); // runs the Identity kernel
  assert.equal(y.dataId, x.dataId, 'one buffer for both');
  const same = tf.cast(x, 'float32'); // tfjs's ReLU gradient casts a float32 step like this
  assert.equal(same.dataId, x.dataId, 'a same-dtype cast shares the buffer');
  const ints = tf.tidy(() => tf.cast(tf.div(x, 4), 'int32'));
  assert.deepEqual(Array.from(ints.dataSync()), [0, 0, 0, 1, 1, 1], 'a real cast still converts');
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(same.dataSync()), [1, 2, 3, 4, 5, 6]);
  tf.dispose([same, ints]);
  // Gradients keep tensors through Identity: results unchanged, nothing left behind.
  await assertNoLeak(() => {
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.relu(v), v)))(y);
    assert.deepEqual(Array.from(g.dataSync()), [2, 4, 6, 8, 10, 12]);
    g.dispose();
  }, 'wasm Identity');
  y.dispose();
  assert.equal(tf.memory().numTensors, before);
  unregisterFastKernels();
});

/**
 * Shapes large enough for the addon's threaded paths (its thresholds: 2 MFLOP per product or convolution, 65536
 * values per elementwise pass or copy): every way a product is cut (by batch, rows, columns, inner dimension),
 * convolutions by blocks of output pixels (several per part) and by image, and the elementwise passes (same shape,
 * broadcasts, NaN inputs).
 */
function threadedCases(): Case[] {
  const withNaN = (x: tf.Tensor) => tf.where(tf.less(tf.abs(x), 0.001), tf.fill(x.shape, NaN), x);
  return [
    { name: 'batched product (cut by batch)', shapes: [[4, 64, 80], [4, 80, 64]], run: ([a, b]) => tf.matMul(a, b) },
    { name: 'tall product (cut by rows), A transposed', shapes: [[100, 300], [100, 40]], run: ([a, b]) => tf.matMul(a, b, true) },
    { name: 'wide product (cut by columns), B transposed', shapes: [[20, 200], [400, 200]], run: ([a, b]) => tf.matMul(a, b, false, true) },
    {
      name: 'long inner dimension (cut by k): filter-gradient, bias-gradient and batch-mean shapes',
      shapes: [[8000, 8], [8000, 24], [50000, 24]],
      run: ([a, b, c]) => [tf.matMul(a, b, true), tf.sum(c, 0), tf.mean(c, 0)],
    },
    {
      name: 'conv2d 8x32x32x4 * 3x3x4x8 and its gradients (blocks of output pixels, images)',
      shapes: [[8, 32, 32, 4], [3, 3, 4, 8]],
      run: ([x, f]) => {
        const conv = (xx: tf.Tensor, ff: tf.Tensor) => tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, 1, 'same');
        return [conv(x, f), ...tf.grads((xx: tf.Tensor, ff: tf.Tensor) => tf.sum(tf.square(conv(xx, ff))))([x, f])];
      },
    },
    {
      // The DCGAN's generator (bench/quality/gan.ts, lib/gan conv): 7x7x128 -> 14x14x64 -> 28x28x1, 5x5, stride 2.
      name: "conv2dTranspose at the DCGAN generator's shapes and its gradients (Conv2DBackpropInput, Conv2D, filter gradient)",
      shapes: [[4, 7, 7, 128], [5, 5, 64, 128], [5, 5, 1, 64]],
      run: ([z, f1, f2]) => {
        const g = (zz: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => {
          const h = tf.conv2dTranspose(zz as tf.Tensor4D, a as tf.Tensor4D, [4, 14, 14, 64], 2, 'same');
          return tf.conv2dTranspose(tf.relu(h), b as tf.Tensor4D, [4, 28, 28, 1], 2, 'same');
        };
        return [g(z, f1, f2), ...tf.grads((zz: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(g(zz, a, b))))([z, f1, f2])];
      },
    },
    {
      // Its discriminator: tf.layers conv2d (FusedConv2D with a bias) 28x28x1 -> 14x14x64 -> 7x7x128, 5x5, stride 2.
      name: "fused conv2d at the DCGAN discriminator's shapes and its gradients",
      shapes: [[4, 28, 28, 1], [5, 5, 1, 64], [64], [5, 5, 64, 128], [128]],
      run: ([x, f1, b1, f2, b2]) => {
        const d = (xx: tf.Tensor, a: tf.Tensor, ab: tf.Tensor, b: tf.Tensor, bb: tf.Tensor) => {
          const h = tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: a as tf.Tensor4D, strides: 2, pad: 'same', bias: ab });
          return tf.fused.conv2d({ x: tf.leakyRelu(h, 0.2), filter: b as tf.Tensor4D, strides: 2, pad: 'same', bias: bb });
        };
        return [d(x, f1, b1, f2, b2), ...tf.grads((...v: tf.Tensor[]) => tf.sum(tf.square(d(v[0], v[1], v[2], v[3], v[4]))))([x, f1, b1, f2, b2])];
      },
    },
    {
      name: "the U-Net's skip concatenation along channels, its split, and a per-(example, channel) shift with its gradient",
      shapes: [[4, 28, 28, 32], [4, 28, 28, 16], [4, 1, 1, 16], [4, 1, 1, 1]],
      run: ([a, b, t, s]) => [
        tf.concat([a, b], 3), ...tf.split(a, [24, 8], 3),
        tf.add(b, t), tf.mul(t, b), tf.add(b, s), // the last: a per-example scalar (rows of 1 value: deferred)
        ...tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.add(x, y))))([b, t]),
      ],
    },
    {
      name: 'elementwise: add, multiply (same shape, bias, matrix broadcast), relu, step, softplus, leaky relu, masks, where, with NaNs',
      shapes: [[64, 32, 32], [64, 32, 32], [32], [32, 32]],
      run: ([x, y, bias, m]) => {
        const wide = tf.mul(x, 60); // softplus past both of its thresholds (|x| > 13.9)
        const nan = withNaN(x);
        return [
          tf.add(x, y), tf.add(bias, x), tf.mul(x, y), tf.mul(m, x), tf.add(nan, y),
          tf.relu(nan), tf.step(nan), tf.step(x, 0.3), tf.softplus(wide), tf.softplus(nan), tf.leakyRelu(nan, 0.2),
          tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.relu(v), y)))(x), // ReLU gradient: step, cast, multiply
          tf.greater(nan, 0), tf.greaterEqual(nan, y), tf.greaterEqual(x, tf.scalar(0.1)), tf.greater(x, x), // masks
          tf.where(tf.greater(nan, 0), y, nan), tf.where(tf.greaterEqual(x, y), x, y),
          tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(v, 0.2), y)))(nan), // where(x > 0, dy, 0.2 dy)
          tf.mul(x, tf.div(tf.cast(tf.greaterEqual(y, 0.3), 'float32'), 0.7)), // dropout
        ];
      },
    },
  ];
}

test('native kernels on two threads equal the originals on shapes that use every threaded path', async (t) => {
  const big = threadedCases();
  const bigRefs = await references(big);
  const report = registerFastKernels({ threads: 2 });
  if (!report.native) {
    t.skip(`native addon unavailable: ${report.note}`);
    unregisterFastKernels();
    return;
  }
  assert.equal(report.threads, 2);
  for (const k of ['Add', 'Multiply', 'Relu', 'Step', 'Softplus', 'LeakyRelu', 'Greater', 'GreaterEqual', 'Select', 'Concat', 'SplitV']) {
    for (const b of backends) assert.ok(report.kernels.includes(`${b}/${k}`), `${b}/${k} registered`);
  }
  await checkAgainst(big, bigRefs, backends, 'native, 2 threads');
  // One thread gives the same values (up to the rounding of the inner-dimension cut's partial sums).
  registerFastKernels({ threads: 1 });
  await checkAgainst(big, bigRefs, backends, 'native, 1 thread');
  unregisterFastKernels();
});

/** Five Adam steps on two variables with seeded gradients; returns the final values and the optimizer's weights. */
async function adamRun(backend: string, make: () => tf.Optimizer): Promise<{ values: Float32Array[]; weights: number }> {
  await tf.setBackend(backend);
  const rng = new Random(3);
  const vars = [tf.variable(tf.tensor(rng.normalArray(12), [3, 4])), tf.variable(tf.tensor(rng.normalArray(5), [5]))];
  const opt = make();
  for (let step = 0; step < 5; step++) {
    tf.tidy(() => {
      const grads: tf.NamedTensorMap = {};
      for (const v of vars) grads[v.name] = tf.tensor(rng.normalArray(v.size), v.shape);
      opt.applyGradients(grads);
    });
  }
  const values = vars.map((v) => v.dataSync() as Float32Array);
  const named = await opt.getWeights();
  const weights = named.length;
  tf.dispose(named.filter((w) => w.name === 'iter').map((w) => w.tensor));
  opt.dispose();
  tf.dispose(vars);
  return { values, weights };
}

test('fused Adam follows tf.train.adam step for step, with the same optimizer state', async () => {
  const report = registerFastKernels();
  for (const backend of backends) {
    const ref = await adamRun(backend, () => tf.train.adam(0.01));
    const fused = await adamRun(backend, () => fusedAdam(0.01));
    assert.equal(fused.weights, ref.weights, `${backend}: optimizer weights`);
    assertAllClose(fused.values, ref.values, `${backend} fused Adam`);
    // The fused kernel really ran (with the addon); without it the optimizer is tfjs's own.
    assert.equal(tf.getKernel(FUSED_ADAM_KERNEL, backend) !== undefined, report.native);
    // A real step moved the values (not a vacuous comparison of untouched variables).
    assert.ok(Math.abs(ref.values[0][0] - new Random(3).normalArray(12)[0]) > 1e-3);
  }
  // No more tensors left behind than by tfjs's own Adam (which keeps one per optimizer in tfjs 4.22).
  const leak = async (make: () => tf.Optimizer) => {
    const before = tf.memory().numTensors;
    await adamRun('cpu', make);
    return tf.memory().numTensors - before;
  };
  assert.ok((await leak(() => fusedAdam(0.01))) <= (await leak(() => tf.train.adam(0.01))), 'fused Adam leaks');
});

test('Mean and Sum gradients with their ones made by the backend equal tfjs\'s own bit for bit (axes, keepDims); unregisterFastKernels puts tfjs\'s back', async () => {
  const gradCases: Array<{ shape: number[]; axis?: number | number[]; keepDims?: boolean }> = [
    { shape: [5, 7] }, { shape: [4, 3, 6], axis: 1 }, { shape: [4, 3, 6], axis: [0, 2], keepDims: true }, { shape: [9], axis: 0 }, { shape: [3, 4], axis: -1 },
  ];
  const gradients = async (backend: string): Promise<Float32Array[]> => {
    await tf.setBackend(backend);
    return gradCases.flatMap((c, i) => (['mean', 'sum'] as const).map((op) => tf.tidy(() => {
      const r = new Random(50 + i);
      const x = tf.tensor(r.normalArray(c.shape.reduce((a, b) => a * b, 1)), c.shape);
      const reduced = (v: tf.Tensor) => tf[op](v, c.axis, c.keepDims);
      const w = tf.tensor(r.normalArray(reduced(x).size), reduced(x).shape); // a dy that differs per output
      return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(reduced(v), w)))(x).dataSync() as Float32Array;
    })));
  };
  unregisterFastKernels();
  const original = tf.getGradient('Mean')!.gradFunc;
  for (const backend of backends) {
    const reference = await gradients(backend);
    const report = registerFastKernels();
    assert.ok(report.kernels.includes('gradient/Mean') && report.kernels.includes('gradient/Sum'), 'reported');
    assert.notEqual(tf.getGradient('Mean')!.gradFunc, original, 'replaced');
    assert.deepEqual(await gradients(backend), reference, `${backend}: the same gradients`);
    unregisterFastKernels();
    assert.equal(tf.getGradient('Mean')!.gradFunc, original, 'restored');
  }
});

test('replacement kernels leak no tensors and no backend memory', async () => {
  registerFastKernels();
  for (const backend of backends) {
    await tf.setBackend(backend);
    const a = tf.randomUniform([3, 20, 30]);
    const b = tf.randomUniform([30, 10]);
    const x = tf.randomUniform([2, 8, 8, 3]);
    const f = tf.randomUniform([3, 3, 3, 4]);
    const step = () =>
      tf.tidy(() => {
        tf.grads((aa: tf.Tensor, ff: tf.Tensor) =>
          tf.sum(tf.matMul(aa, b)).add(tf.sum(tf.conv2d(x as tf.Tensor4D, ff as tf.Tensor4D, 2, 'same'))),
        )([a, f]);
      });
    step(); // warm up (first calls may allocate caches)
    const bytes = tf.memory().numBytes;
    await assertNoLeak(() => {
      for (let i = 0; i < 5; i++) step();
    }, `${backend} kernels`);
    assert.equal(tf.memory().numBytes, bytes, `${backend}: bytes held by tensors`);
    tf.dispose([a, b, x, f]);
  }
});

test('without the addon genlab loads, says why in one line, and registers the portable kernels', () => {
  // A fresh process where the addon is switched off, as on a machine where it could not be built.
  const script = `
    const k = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'engine', 'kernels'))});
    const r = k.registerFastKernels();
    console.log(JSON.stringify(r));`;
  const r = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, GENLAB_NATIVE: '0' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split('\n').pop() as string);
  assert.equal(report.native, false);
  assert.match(report.note, /GENLAB_NATIVE=0/);
});
