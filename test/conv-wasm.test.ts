/**
 * The WASM convolution gradient kernels genlab registers (lib/engine/wasm-conv-grad.ts) agree with the CPU backend's
 * reference kernels: same inputs, same results within float tolerance, for forward passes, input gradients
 * and filter gradients of conv2d and conv2dTranspose, and no tensor leaks.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-wasm';
import { tf, ready } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { registerWasmConvGradients, conv2dBackpropFilterByOps, conv2dBackpropInputByOps } from '../lib/engine/wasm-conv-grad';
import { unregisterFastKernels } from '../lib/engine/kernels';
import { maxAbsDiff } from './helpers';

/**
 * This file checks genlab's ops-based WASM kernels against the CPU backend's stock kernels, so the optional native
 * kernels of lib/engine/kernels/convolution.ts (which wrap these and replace the CPU ones when the addon is built; their own tests are
 * test/kernels.test.ts) are taken out first.
 */
async function stockKernels(): Promise<void> {
  await ready();
  unregisterFastKernels();
  registerWasmConvGradients();
}

type Pad = 'same' | 'valid';
interface Case {
  x: [number, number, number, number];
  f: [number, number, number, number];
  stride: number;
  pad: Pad;
}

const CASES: Case[] = [
  { x: [2, 28, 28, 1], f: [3, 3, 1, 32], stride: 2, pad: 'same' }, // the Keras lecture's first layer
  { x: [2, 14, 14, 32], f: [3, 3, 32, 64], stride: 2, pad: 'same' }, // its second layer
  { x: [3, 9, 7, 2], f: [3, 3, 2, 4], stride: 1, pad: 'same' },
  { x: [2, 9, 7, 3], f: [5, 3, 3, 2], stride: 2, pad: 'valid' },
  { x: [1, 10, 11, 2], f: [4, 4, 2, 3], stride: 3, pad: 'same' },
  { x: [2, 5, 5, 1], f: [1, 1, 1, 2], stride: 1, pad: 'valid' },
  { x: [2, 12, 10, 2], f: [2, 2, 2, 3], stride: 2, pad: 'valid' },
  { x: [1, 8, 8, 3], f: [5, 5, 3, 2], stride: 2, pad: 'same' },
];

async function onBackend<T>(name: string, fn: () => T): Promise<T> {
  await tf.setBackend(name);
  await tf.ready();
  return fn();
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

/** Gradients of sum(r * conv2d(x, W)) and sum(r' * conv2dTranspose(x', W)) on the active backend. */
function convGrads(c: Case, data: { x: Float32Array; w: Float32Array; seed: number }): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(data.x, c.x);
    const w = tf.tensor4d(data.w, c.f);
    const y = tf.conv2d(x, w, c.stride, c.pad);
    const r = tf.tensor(new Random(data.seed).normalArray(y.size), y.shape);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad).mul(r).sum(),
    )([x, w]);
    // conv2dTranspose maps y's shape back to x's: its input has y's shape, its filter is the same W.
    const yt = tf.tensor(new Random(data.seed + 1).normalArray(y.size), y.shape) as tf.Tensor4D;
    const xt = tf.conv2dTranspose(yt, w, c.x, c.stride, c.pad);
    const rt = tf.tensor(new Random(data.seed + 2).normalArray(xt.size), xt.shape);
    const gt = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, c.x, c.stride, c.pad).mul(rt).sum(),
    )([yt, w]);
    return [y, g[0], g[1], xt, gt[0], gt[1]].map((t) => t.dataSync() as Float32Array);
  });
}

test('the WASM backend is available and has genlab conv gradient kernels', async () => {
  await stockKernels();
  registerWasmConvGradients(); // idempotent
  assert.ok(tf.findBackend('wasm') !== null || (await tf.setBackend('wasm')), 'wasm backend missing');
  assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'), 'Conv2DBackpropFilter not registered for wasm');
  assert.ok(tf.getKernel('Conv2DBackpropInput', 'wasm'), 'Conv2DBackpropInput not registered for wasm');
  assert.deepEqual(registerWasmConvGradients(), [], 'a second registration must be a no-op');
});

test('conv2d / conv2dTranspose values and gradients: wasm equals cpu', async () => {
  await stockKernels();
  const names = ['conv2d', 'dL/dx', 'dL/dW', 'conv2dTranspose', 'dL/dy (transpose)', 'dL/dW (transpose)'];
  const original = tf.getBackend();
  try {
    for (const [k, c] of CASES.entries()) {
      const rng = new Random(100 + k);
      const data = { x: rng.normalArray(c.x.reduce((a, b) => a * b)), w: rng.normalArray(c.f.reduce((a, b) => a * b)), seed: 7 + k };
      const cpu = await onBackend('cpu', () => convGrads(c, data));
      const wasm = await onBackend('wasm', () => {
        const before = tf.memory().numTensors;
        const out = convGrads(c, data);
        assert.equal(tf.memory().numTensors, before, 'wasm conv gradients leaked tensors');
        return out;
      });
      for (let i = 0; i < cpu.length; i++) {
        const scale = Math.max(1, maxAbs(cpu[i]));
        const d = maxAbsDiff(cpu[i], wasm[i]);
        assert.ok(d <= 1e-4 * scale, `case ${JSON.stringify(c)} ${names[i]}: max |cpu - wasm| = ${d} (scale ${scale})`);
      }
    }
  } finally {
    await tf.setBackend(original);
  }
});

test('conv2dBackpropFilterByOps / conv2dBackpropInputByOps on wasm equal the cpu kernels (runKernel)', async () => {
  await stockKernels();
  const original = tf.getBackend();
  try {
    for (const [k, c] of CASES.entries()) {
      const rng = new Random(50 + k);
      const x = rng.normalArray(c.x.reduce((a, b) => a * b));
      const w = rng.normalArray(c.f.reduce((a, b) => a * b));
      const outShape = await onBackend('cpu', () =>
        tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.f) as tf.Tensor4D, c.stride, c.pad).shape),
      );
      const dy = rng.normalArray(outShape.reduce((a, b) => a * b));
      const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC' } as const;
      const ref = await onBackend('cpu', () =>
        tf.tidy(() => [
          (tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(x, c.x), dy: tf.tensor(dy, outShape) }, { ...attrs, filterShape: c.f } as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync() as Float32Array,
          (tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor(dy, outShape), filter: tf.tensor4d(w, c.f) }, { ...attrs, inputShape: c.x } as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync() as Float32Array,
        ]),
      );
      const mine = await onBackend('wasm', () =>
        tf.tidy(() => [
          conv2dBackpropFilterByOps(tf.tensor4d(x, c.x), tf.tensor(dy, outShape) as tf.Tensor4D, c.f, c.stride, c.pad).dataSync() as Float32Array,
          conv2dBackpropInputByOps(tf.tensor(dy, outShape) as tf.Tensor4D, tf.tensor4d(w, c.f), c.x, c.stride, c.pad).dataSync() as Float32Array,
        ]),
      );
      ['filter', 'input'].forEach((name, i) => {
        const d = maxAbsDiff(ref[i], mine[i]);
        assert.ok(d < 1e-4 * Math.max(1, maxAbs(ref[i])), `case ${k} ${name} gradient: max diff ${d}`);
      });
    }
  } finally {
    await tf.setBackend(original);
  }
});

test('a tfjs-layers conv model trains on wasm (no CPU fallback) and matches the cpu run', async () => {
  await stockKernels();
  const original = tf.getBackend();
  const run = (): Float32Array => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        tf.layers.conv2dTranspose({ filters: 1, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    const opt = tf.train.sgd(0.1);
    const x = tf.tensor4d(new Random(3).uniformArray(4 * 64), [4, 8, 8, 1]);
    for (let s = 0; s < 3; s++) {
      tf.tidy(() => {
        opt.minimize(() => (model.apply(x) as tf.Tensor).sub(x).square().mean() as tf.Scalar);
      });
    }
    const out = tf.tidy(() => (model.apply(x) as tf.Tensor).dataSync() as Float32Array);
    x.dispose();
    opt.dispose();
    model.dispose();
    return out;
  };
  try {
    const cpu = await onBackend('cpu', run);
    const wasm = await onBackend('wasm', () => {
      assert.equal(tf.getBackend(), 'wasm');
      return run();
    });
    assert.ok(maxAbsDiff(cpu, wasm) < 1e-4, `trained outputs differ: ${maxAbsDiff(cpu, wasm)}`);
  } finally {
    await tf.setBackend(original);
  }
});
