/**
 * The engine's GroupNorm op (lib/engine/group-norm.ts): its tf-ops form against a reference traced through
 * `moments`, and its native WASM kernels (lib/engine/kernels/group-norm.ts, native/src/genlab_native.c) against the
 * tf-ops form on the cpu backend (values and the gradients for x, gamma and beta, with and without SiLU, on shapes
 * that reach the addon's threaded path, with NaN inputs and broadcast operands, at 1 and 2 addon threads) and
 * against numerical gradients.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf, ready } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { groupNorm, groupNormByOps } from '../lib/engine/group-norm';
import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL } from '../lib/engine/kernels/group-norm';
import { registerFastKernels, unregisterFastKernels } from '../lib/engine/kernels';
import { assertNoLeak, ensureWasmLoaded, maxAbsDiff } from './helpers';

/** True when the native GroupNorm kernels are registered on 'wasm' (after registering with `threads`). */
function nativeOnWasm(threads: number): boolean {
  if (!ensureWasmLoaded()) return false;
  unregisterFastKernels();
  const report = registerFastKernels({ threads });
  return report.native && tf.getKernel(GROUP_NORM_KERNEL, 'wasm') !== undefined;
}

interface Case {
  name: string;
  shape: [number, number, number, number];
  groups: number;
  /** Put NaN into one value of x (example 1, or 0 with one example). */
  nan?: boolean;
  /** Make x by broadcasting a per-(example, channel) term against a per-pixel one. */
  broadcastX?: boolean;
  /** Weight the loss by a per-channel vector (dy made by a broadcast) instead of a full tensor. */
  channelWeights?: boolean;
  /** Scale of gamma around 1 (default 0.3); large values drive SiLU into saturation (|z| near 100). */
  gammaScale?: number;
}

const CASES: Case[] = [
  { name: 'threaded [8, 16, 16, 32] in 8 groups', shape: [8, 16, 16, 32], groups: 8 },
  { name: "the U-Net's first level [4, 28, 28, 16] in 8 groups, NaN in one example", shape: [4, 28, 28, 16], groups: 8, nan: true },
  { name: 'one group [3, 5, 5, 6]', shape: [3, 5, 5, 6], groups: 1 },
  { name: 'a group per channel [3, 5, 5, 6]', shape: [3, 5, 5, 6], groups: 6 },
  { name: 'odd sizes [5, 7, 3, 12] in 3 groups, per-channel loss weights', shape: [5, 7, 3, 12], groups: 3, channelWeights: true },
  { name: 'x made by broadcasting [6, 12, 12, 64] in 4 groups', shape: [6, 12, 12, 64], groups: 4, broadcastX: true },
  { name: 'saturated SiLU (|z| up to ~100) [2, 6, 6, 8] in 2 groups', shape: [2, 6, 6, 8], groups: 2, gammaScale: 40 },
];

/** y, dL/dx, dL/dgamma, dL/dbeta of L = sum(w groupNorm(x)) on the active backend, for seeded inputs. */
function outputs(c: Case, silu: boolean, seed: number): Float32Array[] {
  return tf.tidy(() => {
    const rng = new Random(seed);
    const [n, h, w, ch] = c.shape;
    const size = n * h * w * ch;
    let x: tf.Tensor4D;
    if (c.broadcastX) {
      const a = tf.tensor(rng.normalArray(n * ch), [n, 1, 1, ch]).mul(3);
      const b = tf.tensor(rng.normalArray(h * w), [1, h, w, 1]);
      x = a.add(b) as tf.Tensor4D;
    } else {
      const values = rng.normalArray(size).map((v, i) => 2 * v + 0.5 + (i % ch) * 0.25); // offsets per channel
      if (c.nan) values[(n > 1 ? 1 : 0) * h * w * ch + 5 * ch + 2] = NaN;
      x = tf.tensor4d(values, c.shape);
    }
    const gamma = tf.tensor1d(rng.normalArray(ch).map((v) => 1 + (c.gammaScale ?? 0.3) * v));
    const beta = tf.tensor1d(rng.normalArray(ch).map((v) => 0.3 * v));
    const weights = c.channelWeights ? tf.tensor1d(rng.normalArray(ch)) : tf.tensor(rng.normalArray(size), c.shape);
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => groupNorm(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, c.groups, 1e-5, { silu });
    const y = f(x, gamma, beta);
    const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => f(a, g, b).mul(weights).sum())([x, gamma, beta]);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

/** Elementwise within 5e-5 of the largest reference value (float32 rounding of sums of ~10^4 terms); NaN where NaN. */
function assertAllClose(actual: Float32Array[], expected: Float32Array[], what: string): void {
  const names = ['y', 'dx', 'dgamma', 'dbeta'];
  for (let o = 0; o < expected.length; o++) {
    let scale = 1;
    for (const v of expected[o]) if (!Number.isNaN(v)) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < expected[o].length; i++) {
      const e = expected[o][i];
      const a = actual[o][i];
      if (Number.isNaN(e)) {
        assert.ok(Number.isNaN(a), `${what} ${names[o]}[${i}] = ${a}, reference NaN`);
        continue;
      }
      assert.ok(Math.abs(a - e) <= 5e-5 * scale, `${what} ${names[o]}[${i}] = ${a}, reference ${e} (scale ${scale})`);
    }
  }
}

test('tf-ops GroupNorm (+ SiLU): values and hand-written gradients equal the traced reference (moments) for x, gamma, beta', async () => {
  await ready();
  await assertNoLeak(() => {
    tf.tidy(() => {
      const x = tf.randomNormal([3, 4, 5, 6], 0.5, 2, 'float32', 1) as tf.Tensor4D;
      const gamma = tf.randomNormal([6], 1, 0.3, 'float32', 2) as tf.Tensor1D;
      const beta = tf.randomNormal([6], 0, 0.3, 'float32', 3) as tf.Tensor1D;
      const w = tf.randomNormal([3, 4, 5, 6], 0, 1, 'float32', 4);
      const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(a.sub(b))).dataSync()[0];
      for (const silu of [false, true]) {
        const reference = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
          const xg = xi.reshape([3, 20, 3, 2]);
          const { mean, variance } = tf.moments(xg, [1, 3], true);
          const z = xg.sub(mean).div(variance.add(1e-5).sqrt()).reshape([3, 4, 5, 6]).mul(g).add(b);
          return silu ? z.mul(tf.sigmoid(z)) : z;
        };
        const byOps = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => groupNormByOps(a as tf.Tensor4D, b as tf.Tensor1D, c as tf.Tensor1D, 3, 1e-5, silu);
        const loss = (f: (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => f(a, b, c).mul(w).sum();
        const ours = tf.grads(loss(byOps))([x, gamma, beta]);
        const ref = tf.grads(loss(reference))([x, gamma, beta]);
        const y = byOps(x, gamma, beta);
        assert.ok(maxDiff(y, reference(x, gamma, beta)) < 1e-5, `silu ${silu}: values differ by ${maxDiff(y, reference(x, gamma, beta))}`);
        ['x', 'gamma', 'beta'].forEach((name, i) => assert.ok(maxDiff(ours[i], ref[i]) < 1e-4, `silu ${silu}: d/d${name} differs by ${maxDiff(ours[i], ref[i])}`));
      }
      // per (example, group): mean 0 and variance 1 before the affine map
      const unit = groupNormByOps(x, tf.ones([6]) as tf.Tensor1D, tf.zeros([6]) as tf.Tensor1D, 3, 1e-5).reshape([3, 20, 3, 2]);
      const m = tf.moments(unit, [1, 3]);
      assert.ok(tf.max(tf.abs(m.mean)).dataSync()[0] < 1e-5 && tf.max(tf.abs(m.variance.sub(1))).dataSync()[0] < 1e-3, 'normalised groups');
      // the op with SiLU is z sigmoid(z) of the op without
      const z = groupNorm(x, gamma, beta, 3);
      assert.ok(maxDiff(groupNorm(x, gamma, beta, 3, 1e-5, { silu: true }), z.mul(tf.sigmoid(z))) < 1e-6, 'SiLU');
    });
  }, 'groupNorm');
});

test('groupNorm names the bad argument', async () => {
  await ready();
  await assertNoLeak(() => {
    tf.tidy(() => {
      const x = tf.zeros([2, 3, 3, 6]) as tf.Tensor4D;
      const g = tf.ones([6]) as tf.Tensor1D;
      assert.throws(() => groupNorm(x, g, g, 4), /groups must be a positive integer dividing the 6 channels; got 4/);
      assert.throws(() => groupNorm(x, tf.ones([5]) as tf.Tensor1D, g, 3), /gamma must have shape \[6\]/);
      assert.throws(() => groupNorm(x, g, tf.ones([6, 1]) as unknown as tf.Tensor1D, 3), /beta must have shape \[6\]/);
      assert.throws(() => groupNorm(tf.zeros([2, 6]) as unknown as tf.Tensor4D, g, g, 3), /x must be a rank-4 tensor/);
      assert.throws(() => groupNorm(x, g, g, 3, 0), /eps must be a positive number; got 0/);
    });
  }, 'argument checks');
});

test('native GroupNorm kernels on wasm equal the tf ops on cpu (values, gradients, SiLU, NaN, broadcasts) at 1 and 2 threads', async (t) => {
  await ready();
  const original = tf.getBackend();
  const refs: Float32Array[][][] = [];
  await tf.setBackend('cpu');
  for (const [k, c] of CASES.entries()) refs.push([false, true].map((silu) => outputs(c, silu, 10 + k)));
  const byThreads: Float32Array[][][][] = [];
  try {
    for (const threads of [1, 2]) {
      if (!nativeOnWasm(threads)) {
        t.skip('the native addon or the WASM backend is unavailable');
        return;
      }
      await tf.setBackend('wasm');
      const runs: Float32Array[][][] = [];
      for (const [k, c] of CASES.entries()) {
        const bySilu: Float32Array[][] = [];
        for (const [s, silu] of [false, true].entries()) {
          const got = await assertNoLeak(() => outputs(c, silu, 10 + k), `${c.name}`);
          assertAllClose(got, refs[k][s], `${threads} thread(s), ${c.name}, silu ${silu}:`);
          bySilu.push(got);
        }
        runs.push(bySilu);
      }
      byThreads.push(runs);
    }
    // The kernels really ran (not the tf ops): both appear in a profile of a gradient.
    const names = await tf.profile(() => {
      tf.tidy(() => {
        const x = tf.randomNormal([2, 4, 4, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
        tf.grad((a: tf.Tensor) => groupNorm(a as tf.Tensor4D, tf.ones([4]) as tf.Tensor1D, tf.zeros([4]) as tf.Tensor1D, 2).sum())(x);
      });
    });
    const ran = new Set(names.kernels.map((k) => k.name));
    assert.ok(ran.has(GROUP_NORM_KERNEL) && ran.has(GROUP_NORM_GRAD_KERNEL), `kernels run: ${[...ran].join(', ')}`);
    // One and two threads give the same bits: examples are independent and the parameter gradients are summed in
    // example order whatever the thread count.
    for (const [k, c] of CASES.entries()) {
      for (let s = 0; s < 2; s++) {
        for (let o = 0; o < 4; o++) {
          assert.deepEqual(byThreads[1][k][s][o], byThreads[0][k][s][o], `${c.name}, silu ${s === 1}, output ${o}: 1 vs 2 threads`);
        }
      }
    }
  } finally {
    await tf.setBackend(original);
    unregisterFastKernels();
    registerFastKernels();
  }
});

test('native GroupNorm gradients equal numerical gradients (central differences) for x, gamma and beta', async (t) => {
  await ready();
  const original = tf.getBackend();
  if (!nativeOnWasm(2)) {
    t.skip('the native addon or the WASM backend is unavailable');
    return;
  }
  try {
    await tf.setBackend('wasm');
    const rng = new Random(4);
    const shape: [number, number, number, number] = [2, 3, 3, 4];
    const size = 72;
    const xv = rng.normalArray(size);
    const gv = rng.normalArray(4).map((v) => 1 + 0.5 * v);
    const bv = rng.normalArray(4).map((v) => 0.5 * v);
    const wv = rng.normalArray(size);
    for (const silu of [false, true]) {
      // L(x, gamma, beta) = sum(w groupNorm(x)), evaluated in float32 by the forward kernel.
      const loss = (x: Float32Array, g: Float32Array, b: Float32Array): number =>
        tf.tidy(() => groupNorm(tf.tensor4d(x, shape), tf.tensor1d(g), tf.tensor1d(b), 2, 1e-5, { silu }).mul(tf.tensor(wv, shape)).sum().dataSync()[0]);
      const analytic = tf.tidy(() =>
        tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
          groupNorm(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 2, 1e-5, { silu }).mul(tf.tensor(wv, shape)).sum(),
        )([tf.tensor4d(xv, shape), tf.tensor1d(gv), tf.tensor1d(bv)]).map((g) => Array.from(g.dataSync())),
      );
      const h = 1e-2;
      const numeric = [xv, gv, bv].map((v, which) =>
        Array.from(v, (_, i) => {
          const at = (d: number) => {
            const args = [xv, gv, bv].map((a) => Float32Array.from(a));
            args[which][i] += d;
            return loss(args[0], args[1], args[2]);
          };
          return (at(h) - at(-h)) / (2 * h);
        }),
      );
      ['x', 'gamma', 'beta'].forEach((name, which) => {
        const scale = Math.max(1, ...numeric[which].map(Math.abs));
        const d = maxAbsDiff(analytic[which], numeric[which]);
        assert.ok(d < 1e-2 * scale, `silu ${silu}: dL/d${name} differs from central differences by ${d} (scale ${scale})`);
      });
    }
  } finally {
    await tf.setBackend(original);
  }
});
