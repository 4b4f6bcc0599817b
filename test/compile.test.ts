/**
 * Compiled steps (lib/engine/tensorflow-graph.ts, native/tensorflow/genlab_graph.cc): on the native TensorFlow
 * backend a function of tensors is recorded once into a TensorFlow function and run as one op. These tests run on
 * the 'tensorflow' backend whatever backend the suite was started with (they skip, saying why, where native
 * TensorFlow is not built; CI builds it), and compare every compiled result with the same code run op by op.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ready, tf } from '../lib/engine/backend';
import { readTensorflowBuild } from '../lib/engine/tensorflow-build';
import { loadTensorflowBuild } from '../lib/engine/tensorflow-native';
import { COMPILE_ENV_VAR, compilationAvailable, compileFunction, compileStats } from '../lib/engine/tensorflow-graph';
import { BernoulliRBM } from '../lib/rbm/bernoulli';
import { GaussianBernoulliRBM } from '../lib/rbm/gaussian';
import { VAE } from '../lib/vae/vae';
import { DDPM } from '../lib/diffusion/ddpm';
import { EnergyModel } from '../lib/ebm/energy-model';
import { Random } from '../lib/engine/random';
import { CompiledGradientStep } from '../lib/train/loop';
import { maxAbsDiff } from './helpers';

const build = readTensorflowBuild('gpu') ?? readTensorflowBuild('cpu');
const SKIP = build ? false : 'native TensorFlow not built here (npm run setup -- --tensorflow)';

/** Runs `f` on the native backend (switching back afterwards). */
async function onTensorflow<T>(f: () => Promise<T>): Promise<T> {
  await ready();
  if (!tf.findBackendFactory('tensorflow')) loadTensorflowBuild(build!);
  const original = tf.getBackend();
  await tf.setBackend('tensorflow');
  try {
    return await f();
  } finally {
    await tf.setBackend(original);
  }
}

/** Runs `f` with compilation off (GENLAB_COMPILE=0): the op-by-op reference. */
async function opByOp<T>(f: () => Promise<T>): Promise<T> {
  const old = process.env[COMPILE_ENV_VAR];
  process.env[COMPILE_ENV_VAR] = '0';
  try {
    return await f();
  } finally {
    if (old === undefined) delete process.env[COMPILE_ENV_VAR];
    else process.env[COMPILE_ENV_VAR] = old;
  }
}

/** Tensors alive in tfjs and in the binding's handle table. */
function counts(): { tfjs: number; handles: number } {
  const be = tf.backend() as unknown as { binding: { getNumOfTensors(): number } };
  return { tfjs: tf.memory().numTensors, handles: be.binding.getNumOfTensors() };
}

test('compiled function: equals op by op (lists, gradients, constants, variables read afresh), one recording per signature, no leaks', { skip: SKIP }, async () => {
  await onTensorflow(async () => {
    assert.ok(compilationAvailable(), 'the native build has genlab binding addition (rebuild: npm run setup -- --tensorflow)');
    const rng = new Random(3);
    const w0 = tf.tidy(() => tf.add(tf.tensor2d(rng.normalArray(12), [4, 3]), 0)); // made on the device
    const w = tf.variable(w0, true, 'compile_test_w');
    w0.dispose(); // the variable keeps its data
    const body = ([x, s]: tf.Tensor[]): tf.Tensor[] => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tf.relu(tf.matMul(x as tf.Tensor2D, w)))).mul(s) as tf.Scalar, [w]);
      const listy = tf.addN([tf.concat([x, x], 0), tf.concat([x, tf.neg(x)], 0)]); // ConcatV2 and AddN: list inputs
      return [value, grads[w.name], listy, tf.stack([value, tf.scalar(2)]), tf.mul(x, 0.5)]; // 0.5, 2: constants
    };
    const f = compileFunction(body, 'test_body');
    try {
      tf.tidy(() => body([tf.ones([5, 4]), tf.scalar(1)])); // first use on this backend (moves lazily created data)
      const before = counts();
      for (const rows of [5, 5, 2]) {
        for (let round = 0; round < 2; round++) {
          if (round === 1) tf.tidy(() => w.assign(tf.mul(w, -1.5))); // the next call must see the new weights
          tf.tidy(() => {
            const x = tf.tensor2d(rng.normalArray(rows * 4), [rows, 4]);
            const s = tf.scalar(rng.next() + 0.5);
            const got = f.call([x, s]);
            const want = body([x, s]);
            assert.equal(got.length, want.length);
            got.forEach((t, i) => {
              assert.deepEqual(t.shape, want[i].shape, `output ${i} shape`);
              assert.equal(t.dtype, want[i].dtype);
              assert.ok(maxAbsDiff(t.dataSync(), want[i].dataSync()) <= 1e-5 * (1 + Math.max(...Array.from(want[i].dataSync(), Math.abs))), `output ${i}`);
            });
          });
        }
      }
      assert.equal(f.fallback, null);
      assert.equal(f.recordings, 2, 'one recording per input signature ([5, 4] and [2, 4])');
      const after = counts();
      assert.equal(after.tfjs, before.tfjs, 'tfjs tensors');
      assert.equal(after.handles, before.handles, 'binding tensor handles');
    } finally {
      f.dispose();
      w.dispose();
    }
    assert.throws(() => f.call([tf.scalar(1)]), /compiled function 'test_body' was disposed/);
  });
});

test('compiled function: a read-back falls back to op by op with the reason; assigning a variable is refused', { skip: SKIP }, async () => {
  await onTensorflow(async () => {
    const reads = compileFunction(([x]) => [tf.mul(x, tf.sum(x).dataSync()[0])], 'reads_back');
    const draws = compileFunction(([x]) => [tf.add(x, tf.randomNormal([100]))], 'draws'); // tfjs draws in JavaScript
    const v = tf.variable(tf.tidy(() => tf.add(tf.ones([2]), 0)), true, 'compile_test_v'); // made on the device (no lazy upload)
    const assigns = compileFunction(([x]) => {
      v.assign(tf.add(v, x));
      return [tf.add(v, 0)];
    }, 'assigns');
    try {
      const before = counts();
      tf.tidy(() => {
        const out = reads.call([tf.tensor1d([1, 2])])[0];
        assert.deepEqual(Array.from(out.dataSync()), [3, 6]);
      });
      assert.match(reads.fallback ?? '', /reads_back could not be recorded .*reads a value back/);
      tf.tidy(() => {
        const x = tf.zeros([100]);
        const [a, b] = [draws.call([x])[0], draws.call([x])[0]];
        assert.ok(tf.any(tf.notEqual(a, b)).dataSync()[0], 'fresh draws at every call');
      });
      assert.match(draws.fallback ?? '', /makes a tensor of 100 values from JavaScript .*freeze them/);
      assert.deepEqual(counts(), before, 'a failed recording leaks nothing');
      assert.throws(() => tf.tidy(() => assigns.call([tf.tensor1d([1, 1])])), /'assigns' assigned variables while recorded \(compile_test_v\)/);
    } finally {
      reads.dispose();
      draws.dispose();
      assigns.dispose();
      v.dispose();
    }
  });
});

test('compiled function: a gather by indices it computes is recorded (TensorFlow checks their bounds at every call)', { skip: SKIP }, async () => {
  await onTensorflow(async () => {
    const table = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const body = ([rows, picks]: tf.Tensor[]): tf.Tensor[] => [tf.gather(table, tf.gather(picks, rows))]; // table[picks[rows]]
    const f = compileFunction(body, 'gathers_by_gathered');
    try {
      const stats = { ...compileStats };
      tf.tidy(() => {
        const out = f.call([tf.tensor1d([2, 0], 'int32'), tf.tensor1d([0, 1, 2], 'int32')])[0];
        assert.deepEqual(out.arraySync(), [[5, 6], [1, 2]]);
      });
      assert.equal(f.fallback, null);
      assert.equal(compileStats.recordings, stats.recordings + 1);
      tf.tidy(() => {
        const out = f.call([tf.tensor1d([1, 2], 'int32'), tf.tensor1d([2, 1, 0], 'int32')])[0]; // later values, same recording
        assert.deepEqual(out.arraySync(), [[3, 4], [1, 2]]);
      });
      assert.throws(() => tf.tidy(() => f.call([tf.tensor1d([0, 1], 'int32'), tf.tensor1d([0, 7, 0], 'int32')])), /indices\[1\] = 7 is not in \[0, 3\)/);
    } finally {
      f.dispose();
      table.dispose();
    }
  });
});

test('CompiledGradientStep with another optimiser than genlab\'s fused Adam: compiled gradients, the optimiser\'s own update', { skip: SKIP }, async () => {
  await onTensorflow(async () => {
    const rng = new Random(6);
    const init = rng.normalArray(6);
    const x = tf.tensor2d(rng.normalArray(8 * 3), [8, 3]);
    const run = () => {
      const w = tf.variable(tf.tensor2d(init, [3, 2]), true, 'compile_test_sgd_w');
      const step = new CompiledGradientStep([w], tf.train.sgd(0.1), ([xb]) => {
        const loss = tf.mean(tf.square(tf.matMul(xb as tf.Tensor2D, w))) as tf.Scalar;
        return [loss, loss.reshape([1])];
      }, 'sgd_step');
      try {
        for (let i = 0; i < 3; i++) tf.tidy(() => step.run([x]).dispose());
        return { values: (w.dataSync() as Float32Array).slice(), fallback: step.fallback };
      } finally {
        step.dispose();
        w.dispose();
      }
    };
    try {
      const compiled = run();
      assert.equal(compiled.fallback, null);
      const reference = await opByOp(async () => run());
      assert.ok(maxAbsDiff(compiled.values, reference.values) <= 1e-6, `weights ${compiled.values} vs ${reference.values}`);
    } finally {
      x.dispose();
    }
  });
});

/** Trains `make()` for `epochs` and returns its history and final weights. */
async function trainRBM(make: () => BernoulliRBM | GaussianBernoulliRBM, x: tf.Tensor2D, opts: Record<string, unknown>) {
  const model = make();
  try {
    const history = await model.fit(x, { progress: false, ...opts });
    const p = model.getWeights() as unknown as Record<string, tf.Tensor>; // W, a, b (and sigma)
    const values: Record<string, Float32Array> = {};
    for (const [k, t] of Object.entries(p)) values[k] = t.dataSync() as Float32Array;
    tf.dispose(Object.values(p));
    return { history, values };
  } finally {
    model.dispose();
  }
}

test('RBMs: the compiled CD/PCD step gives the op-by-op run (same noise, same samples), momentum and sigma warm-up included', { skip: SKIP }, async () => {
  await onTensorflow(async () => {
    const rng = new Random(11);
    const bin = tf.tidy(() => tf.cast(tf.less(tf.tensor2d(rng.uniformArray(150 * 20), [150, 20]), 0.3), 'float32') as tf.Tensor2D);
    const real = tf.tensor2d(rng.normalArray(150 * 6), [150, 6]);
    try {
      const cases: Array<[string, () => BernoulliRBM | GaussianBernoulliRBM, tf.Tensor2D, Record<string, unknown>]> = [
        ['CD-1', () => new BernoulliRBM({ nVisible: 20, nHidden: 8, seed: 1 }), bin, { epochs: 2, batchSize: 40, learningRate: 0.1 }],
        ['PCD-2 with momentum and weight decay', () => new BernoulliRBM({ nVisible: 20, nHidden: 8, seed: 2 }), bin,
          { epochs: 2, batchSize: 40, learningRate: 0.05, k: 2, persistent: true, chains: 30, momentum: 0.5, weightDecay: 1e-3 }],
        ['Gaussian, learned sigma across its warm-up', () => new GaussianBernoulliRBM({ nVisible: 6, nHidden: 5, seed: 3, learnSigma: true }), real,
          { epochs: 3, batchSize: 50, learningRate: 0.02, sigmaWarmupEpochs: 1 }],
      ];
      for (const [name, make, x, opts] of cases) {
        const before = tf.memory().numTensors;
        const stats = { ...compileStats };
        const compiled = await trainRBM(make, x, opts);
        assert.ok(compileStats.recordings > stats.recordings && compileStats.fallbacks === stats.fallbacks, `${name}: the step was compiled`);
        const reference = await opByOp(() => trainRBM(make, x, opts));
        assert.equal(tf.memory().numTensors, before, `${name}: no leaks`);
        const err = (k: string) => maxAbsDiff(compiled.history[k], reference.history[k]);
        assert.ok(err('reconstructionError') <= 1e-4 * (1 + Math.abs(reference.history.reconstructionError[0])), `${name}: reconstruction errors ${compiled.history.reconstructionError} vs ${reference.history.reconstructionError}`);
        for (const k of Object.keys(reference.values)) {
          const d = maxAbsDiff(compiled.values[k], reference.values[k]);
          assert.ok(d <= 1e-4, `${name}: ${k} differs by ${d}`);
        }
        if (reference.values.sigma) {
          const moved = maxAbsDiff(compiled.values.sigma, new Float32Array(compiled.values.sigma.length).fill(1));
          assert.ok(moved > 1e-3, `${name}: sigma moved after its warm-up epoch`);
        }
      }
    } finally {
      tf.dispose([bin, real]);
    }
  });
});

test('VAE: the compiled step gives the op-by-op run, with the KL weight changing every step (warm-up)', { skip: SKIP }, async () => {
  await onTensorflow(async () => {
    const rng = new Random(5);
    const x = tf.tidy(() => tf.cast(tf.less(tf.tensor2d(rng.uniformArray(90 * 16), [90, 16]), 0.4), 'float32') as tf.Tensor2D);
    const run = async () => {
      const m = new VAE({ dataShape: [16], hiddenUnits: [12], latentDim: 3, seed: 4 });
      try {
        const h = await m.fit(x, { epochs: 3, batchSize: 32, learningRate: 1e-2, klWarmup: 2, progress: false });
        return { h, w: (m.encoder.getWeights()[0].dataSync() as Float32Array).slice() };
      } finally {
        m.dispose();
      }
    };
    try {
      const before = tf.memory().numTensors;
      const stats = { ...compileStats };
      const compiled = await run();
      assert.ok(compileStats.recordings > stats.recordings && compileStats.fallbacks === stats.fallbacks, 'the step was compiled');
      const reference = await opByOp(run);
      assert.equal(tf.memory().numTensors, before, 'no leaks');
      assert.deepEqual(compiled.h.beta, reference.h.beta);
      for (const k of ['loss', 'reconstruction', 'kl']) {
        assert.ok(maxAbsDiff(compiled.h[k], reference.h[k]) <= 1e-3, `${k}: ${compiled.h[k]} vs ${reference.h[k]}`);
      }
      assert.ok(maxAbsDiff(compiled.w, reference.w) <= 1e-4, 'encoder weights');
    } finally {
      x.dispose();
    }
  });
});

test('DDPM: the compiled step (batch, noise, t and coefficients gathered inside) gives the op-by-op run (MLP on vectors, U-Net on images)', { skip: SKIP }, async () => {
  await onTensorflow(async () => {
    const rng = new Random(8);
    const labels = (n: number) => Array.from({ length: n }, (_, i) => i % 3);
    const cases: Array<[string, () => DDPM, tf.Tensor, number[]?]> = [
      ['MLP', () => new DDPM({ dataShape: [6], seed: 3, timesteps: 50, network: { kind: 'mlp', hiddenUnits: [16, 16] } }), tf.tensor2d(rng.normalArray(70 * 6), [70, 6])],
      ['U-Net', () => new DDPM({ dataShape: [8, 8, 1], seed: 4, timesteps: 50, network: { kind: 'unet', channels: [4, 8, 8], groups: 2 } }), tf.tensor4d(rng.normalArray(24 * 64), [24, 8, 8, 1])],
      // class-conditional: labels gathered and dropped (null label) inside the compiled step
      ['MLP with labels', () => new DDPM({ dataShape: [6], seed: 3, timesteps: 50, classes: 3, labelDropout: 0.3, network: { kind: 'mlp', hiddenUnits: [16, 16] } }), tf.tensor2d(rng.normalArray(70 * 6), [70, 6]), labels(70)],
      ['U-Net with labels', () => new DDPM({ dataShape: [8, 8, 1], seed: 4, timesteps: 50, classes: 3, network: { kind: 'unet', channels: [4, 8, 8], groups: 2 } }), tf.tensor4d(rng.normalArray(24 * 64), [24, 8, 8, 1]), labels(24)],
    ];
    for (const [name, make, x, y] of cases) {
      const run = async () => {
        const m = make();
        try {
          const h = await m.fit(x as never, { epochs: 2, batchSize: 16, progress: false, ...(y ? { labels: y } : {}) });
          return { loss: h.loss, weights: m.network.getWeights().map((w) => w.dataSync() as Float32Array) };
        } finally {
          m.dispose();
        }
      };
      const before = tf.memory().numTensors;
      const stats = { ...compileStats };
      const compiled = await run();
      assert.ok(compileStats.recordings > stats.recordings && compileStats.fallbacks === stats.fallbacks, `${name}: the step was compiled`);
      const reference = await opByOp(run);
      assert.equal(tf.memory().numTensors, before, `${name}: no leaks`);
      assert.ok(maxAbsDiff(compiled.loss, reference.loss) <= 1e-4 * (1 + Math.abs(reference.loss[0])), `${name}: losses ${compiled.loss} vs ${reference.loss}`);
      reference.weights.forEach((w, i) => assert.ok(maxAbsDiff(compiled.weights[i], w) <= 1e-4, `${name}: weight tensor ${i}`));
      x.dispose();
    }
  });
});

test('EnergyModel: compiled Langevin steps give the op-by-op chains (dense and conv), in fit and in sample', { skip: SKIP }, async () => {
  await onTensorflow(async () => {
    const rng = new Random(9);
    const cases: Array<[string, () => EnergyModel, tf.Tensor]> = [
      ['dense', () => new EnergyModel({ dataShape: [2], hiddenUnits: [16, 16], seed: 2 }), tf.tensor2d(rng.normalArray(96 * 2), [96, 2])],
      ['conv', () => new EnergyModel({ dataShape: [8, 8, 1], convFilters: [4, 8], convDenseUnits: 8, seed: 3 }), tf.tensor4d(rng.uniformArray(48 * 64), [48, 8, 8, 1])],
    ];
    for (const [name, make, x] of cases) {
      const run = async () => {
        const m = make();
        try {
          const h = await m.fit(x as never, { epochs: 2, batchSize: 32, langevin: { steps: 6 }, progress: false });
          const s = await m.sample(5, { steps: 4, seed: 1 });
          const samples = (s.dataSync() as Float32Array).slice();
          s.dispose();
          return { h, samples };
        } finally {
          m.dispose();
        }
      };
      const before = tf.memory().numTensors;
      const stats = { ...compileStats };
      const compiled = await run();
      assert.ok(compileStats.recordings > stats.recordings && compileStats.fallbacks === stats.fallbacks, `${name}: Langevin was compiled`);
      const reference = await opByOp(run);
      assert.equal(tf.memory().numTensors, before, `${name}: no leaks`);
      for (const k of ['loss', 'energyNegative', 'langevinMove', 'scoreNorm']) {
        const tol = 1e-3 * (1 + Math.max(...reference.h[k].map(Math.abs)));
        assert.ok(maxAbsDiff(compiled.h[k], reference.h[k]) <= tol, `${name} ${k}: ${compiled.h[k]} vs ${reference.h[k]}`);
      }
      assert.ok(maxAbsDiff(compiled.samples, reference.samples) <= 1e-3, `${name}: samples`);
      x.dispose();
    }
  });
});
