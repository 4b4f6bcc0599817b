/**
 * GAN: exact checks on two 1-D Gaussians (a discriminator trained against a frozen generator approaches
 * D*(x) = p_data / (p_data + p_g), and V(G, D*) = -log 4 + 2 JSD by quadrature; with one-sided smoothing s the
 * optimum at p_g = p_data is s / 2), shapes for every architecture, training metrics, seeds, leaks, the
 * save/load round trip and argument errors.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, ready } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { GAN } from '../lib/gan/gan';
import { saveCheckpoint } from '../lib/core/checkpoint';
import { assertClose, assertNoLeak, simpson } from './helpers';

const normalPdf = (x: number, m: number, s: number): number => Math.exp(-0.5 * ((x - m) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));

/** x log(x / y), with 0 log 0 = 0. */
const xlog = (x: number, y: number): number => (x > 0 ? x * Math.log(x / y) : 0);

// p_data = N(0, 1); the frozen generator G(z) = 1.5 z + 1 with z ~ N(0, 1) makes p_g = N(1, 1.5^2).
const PD = (x: number): number => normalPdf(x, 0, 1);
const PG = (x: number): number => normalPdf(x, 1, 1.5);
const dStar = (x: number): number => PD(x) / (PD(x) + PG(x));
const [LO, HI] = [-12, 14];

/** A 1-D GAN whose generator is the affine map z -> a z + b (no hidden layers), frozen by generatorSteps: 0. */
function affineGan(a: number, b: number, opts: { labelSmoothing?: number; seed: number }): GAN {
  const gan = new GAN({
    dataShape: [1], latentDim: 1, generatorUnits: [], discriminatorUnits: [32, 32], outputActivation: 'linear',
    dropout: 0, labelSmoothing: opts.labelSmoothing, seed: opts.seed,
  });
  const w = [tf.tensor2d([[a]]), tf.tensor1d([b])];
  gan.generator.setWeights(w);
  tf.dispose(w);
  return gan;
}

function normalData(n: number, seed: number): tf.Tensor2D {
  return tf.tensor2d(new Random(seed).normalArray(n), [n, 1]);
}

test('quadrature: V(G, D*) = -log 4 + 2 JSD(p_data || p_g), and D* maximises V pointwise', () => {
  const m = (x: number): number => 0.5 * (PD(x) + PG(x));
  const jsd = 0.5 * simpson((x) => xlog(PD(x), m(x)), LO, HI) + 0.5 * simpson((x) => xlog(PG(x), m(x)), LO, HI);
  const vStar = simpson((x) => PD(x) * Math.log(dStar(x)) + PG(x) * Math.log(1 - dStar(x)), LO, HI);
  assert.ok(jsd > 0.05 && jsd < Math.log(2), `JSD ${jsd} should lie strictly inside (0, log 2)`);
  assertClose(vStar, -Math.log(4) + 2 * jsd, 1e-9, 'V(G, D*)');
  // any other D does worse: D* tilted by a factor on one side
  const vOther = simpson((x) => {
    const d = Math.min(0.999, dStar(x) * (x > 0 ? 1.1 : 0.95));
    return PD(x) * Math.log(d) + PG(x) * Math.log(1 - d);
  }, LO, HI);
  assert.ok(vOther < vStar, `perturbed D gives V ${vOther}, not below V* ${vStar}`);
});

test('a discriminator trained against a frozen generator approaches D* = p_data / (p_data + p_g); V -> -log 4 + 2 JSD', async () => {
  await ready();
  const gan = affineGan(1.5, 1, { seed: 4 }); // max |D - D*| is 0.03-0.057 over seeds 1..6 (0.043 here)
  const x = normalData(4000, 11);
  try {
    const h = await gan.fit(x, { epochs: 40, batchSize: 200, learningRate: 3e-3, generatorSteps: 0, progress: false });
    assert.ok(h.gLoss.every(Number.isNaN), 'gLoss is NaN when G is frozen');
    // the generator did not move
    const [k, b] = gan.generator.getWeights().map((w) => w.dataSync()[0]);
    assert.deepEqual([k, b], [1.5, 1]);

    const grid = Array.from({ length: 41 }, (_, i) => -2.5 + (5.5 * i) / 40); // where both densities have mass
    const dT = gan.discriminate(tf.tensor2d(grid, [grid.length, 1]));
    const d = Array.from(dT.dataSync());
    dT.dispose();
    const worst = Math.max(...grid.map((g, i) => Math.abs(d[i] - dStar(g))));
    assert.ok(worst < 0.05, `max |D - D*| on [-2.5, 3] is ${worst.toFixed(4)}`);

    // V(G, D) of the trained D by quadrature (D evaluated on a fine grid, linear in between)
    const n = 2600;
    const xs = Array.from({ length: n + 1 }, (_, i) => LO + ((HI - LO) * i) / n);
    const dv = gan.discriminate(tf.tensor2d(xs, [xs.length, 1]));
    const dd = dv.dataSync();
    const vTrained = simpson((t) => {
      const i = Math.min(n, Math.max(0, Math.round(((t - LO) / (HI - LO)) * n)));
      const di = Math.min(1 - 1e-7, Math.max(1e-7, dd[i]));
      return PD(t) * Math.log(di) + PG(t) * Math.log(1 - di);
    }, LO, HI, n);
    dv.dispose();
    const m = (t: number): number => 0.5 * (PD(t) + PG(t));
    const jsd = 0.5 * simpson((t) => xlog(PD(t), m(t)), LO, HI) + 0.5 * simpson((t) => xlog(PG(t), m(t)), LO, HI);
    const vStar = -Math.log(4) + 2 * jsd;
    assert.ok(vTrained <= vStar + 2e-3, `V(trained D) ${vTrained} exceeds the maximum ${vStar}`);
    assertClose(vTrained, vStar, 0.02, 'V(G, trained D) vs -log 4 + 2 JSD');
    // the training loss is -V estimated on batches
    assertClose(h.dLoss.at(-1)!, -vStar, 0.05, 'final dLoss vs log 4 - 2 JSD');
  } finally {
    x.dispose();
    gan.dispose();
  }
});

test('one-sided label smoothing 0.9: at p_g = p_data the optimal D is 0.45, not 0.5', async () => {
  await ready();
  const gan = affineGan(1, 0, { labelSmoothing: 0.9, seed: 5 });
  const x = normalData(4000, 12);
  try {
    const h = await gan.fit(x, { epochs: 15, batchSize: 200, learningRate: 3e-3, generatorSteps: 0, progress: false });
    const dT = gan.discriminate(tf.tensor2d([-1.5, -0.5, 0, 0.5, 1.5], [5, 1]));
    for (const v of dT.dataSync()) assertClose(v, 0.45, 0.03, 'D at equilibrium with smoothing 0.9');
    dT.dispose();
    assertClose(h.dReal.at(-1)!, 0.45, 0.03, 'dReal');
    assertClose(h.dFake.at(-1)!, 0.45, 0.03, 'dFake');
  } finally {
    x.dispose();
    gan.dispose();
  }
});

test('shapes: dense on vectors and images, conv on images; tanh samples in [-1, 1]; D(x) in (0, 1)', async () => {
  await ready();
  const cases: Array<[ConstructorParameters<typeof GAN>[0], number[]]> = [
    [{ dataShape: [6], dataRange: [-1, 1], latentDim: 3, generatorUnits: [8], discriminatorUnits: [8], seed: 1 }, [6]],
    [{ dataShape: [4, 4, 1], dataRange: [-1, 1], latentDim: 3, generatorUnits: [8, 8], discriminatorUnits: [8], seed: 1 }, [4, 4, 1]],
    [{ dataShape: [8, 8, 2], dataRange: [-1, 1], architecture: 'conv', latentDim: 4, generatorUnits: [8, 4], discriminatorUnits: [4, 8], seed: 1 }, [8, 8, 2]],
  ];
  for (const [opts, shape] of cases) {
    const gan = new GAN(opts);
    const warm = await gan.sample(2);
    const warmFlat = warm.reshape([2, -1]);
    await gan.fit(warmFlat, { epochs: 1, progress: false }); // creates the optimisers' moments (kept)
    tf.dispose([warm, warmFlat]);
    await assertNoLeak(async () => {
      const s = await gan.sample(5);
      assert.deepEqual(s.shape, [5, ...shape]);
      const v = s.dataSync();
      assert.ok(v.every((t) => t >= -1 && t <= 1), 'tanh output in [-1, 1]');
      const d = gan.discriminate(s);
      assert.deepEqual(d.shape, [5]);
      assert.ok(d.dataSync().every((t) => t > 0 && t < 1));
      const flat = s.reshape([5, -1]);
      const h = await gan.fit(flat, { epochs: 2, batchSize: 2, progress: false });
      for (const key of ['dLoss', 'gLoss', 'dReal', 'dFake']) assert.equal(h[key].length, 2, key);
      assert.ok(h.dReal.every((t) => t > 0 && t < 1) && h.dFake.every((t) => t > 0 && t < 1));
      tf.dispose([s, d, flat]);
    }, `GAN ${gan.describe()}`);
    gan.dispose();
  }
});

test('the course model: G 100-256-512-1024-784, D 784-1024-512-256-1 with three BatchNorm layers', async () => {
  await ready();
  const gan = new GAN({ dataShape: [784], seed: 1 });
  assert.equal(gan.describe(), 'dense G 100-256-512-1024-784 D 784-1024-512-256-1 non-saturating');
  const dense = gan.generator.layers.filter((l) => l.getClassName() === 'Dense').map((l) => l.getConfig().units);
  assert.deepEqual(dense, [256, 512, 1024, 784]);
  assert.equal(gan.generator.layers.filter((l) => l.getClassName() === 'BatchNormalization').length, 3);
  gan.dispose();
});

test('minimax loss: gLoss = E log(1 - D(G(z))) is negative; non-saturating -E log D(G(z)) positive', async () => {
  await ready();
  const x = tf.tensor2d(new Random(1).normalArray(64).map((v) => 0.3 * v), [32, 2]);
  for (const loss of ['minimax', 'non-saturating'] as const) {
    const gan = new GAN({ dataShape: [2], latentDim: 2, generatorUnits: [8], discriminatorUnits: [8], loss, seed: 2 });
    const h = await gan.fit(x, { epochs: 2, batchSize: 16, progress: false });
    assert.ok(loss === 'minimax' ? h.gLoss.every((g) => g < 0) : h.gLoss.every((g) => g > 0), `${loss}: ${h.gLoss}`);
    gan.dispose();
  }
  x.dispose();
});

test('seeds reproduce training, samples and a fixed z; sample(n, { z }) maps the given points', async () => {
  await ready();
  const x = tf.tensor2d(new Random(3).normalArray(200).map((v) => 0.5 * Math.tanh(v)), [100, 2]);
  const run = async (): Promise<{ h: Record<string, number[]>; s: number[]; zs: number[] }> => {
    const gan = new GAN({ dataShape: [2], latentDim: 3, generatorUnits: [16], discriminatorUnits: [16], seed: 9 });
    const h = await gan.fit(x, { epochs: 3, batchSize: 32, discriminatorSteps: 2, progress: false });
    const s = await gan.sample(10);
    const z = gan.sampleLatent(4, 1);
    const zs = await gan.sample(4, { z });
    const out = { h, s: Array.from(s.dataSync()), zs: Array.from(zs.dataSync()) };
    // the same z twice gives the same samples (inference mode has no randomness)
    const again = await gan.sample(4, { z });
    assert.deepEqual(Array.from(again.dataSync()), out.zs);
    tf.dispose([s, z, zs, again]);
    gan.dispose();
    return out;
  };
  const a = await run();
  const b = await run();
  assert.deepEqual(a.h.dLoss, b.h.dLoss);
  assert.deepEqual(a.h.gLoss, b.h.gLoss);
  assert.deepEqual(a.s, b.s);
  assert.deepEqual(a.zs, b.zs);
  x.dispose();
});

test('no leaked tensors: fit, sample, sample with z, discriminate, sampleLatent', async () => {
  await ready();
  const x = tf.tensor2d(new Random(4).normalArray(128).map((v) => 0.5 * Math.tanh(v)), [64, 2]);
  const gan = new GAN({ dataShape: [2], latentDim: 2, generatorUnits: [8], discriminatorUnits: [8], seed: 1 });
  await gan.fit(x, { epochs: 1, batchSize: 16, progress: false }); // the optimisers' moments are kept state
  await assertNoLeak(async () => {
    await gan.fit(x, { epochs: 2, batchSize: 16, discriminatorSteps: 2, progress: false });
    await gan.fit(x, { epochs: 1, batchSize: 16, learningRate: 5e-4, progress: false }); // new optimisers
    const z = gan.sampleLatent(5, 2);
    tf.dispose([await gan.sample(5), await gan.sample(5, { z }), gan.discriminate(x), z]);
  }, 'GAN calls');
  gan.dispose();
  x.dispose();
});

test('save/load round trip keeps both networks and the BatchNorm statistics; refuses the wrong kind', async () => {
  await ready();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-gan-'));
  const x = tf.tensor2d(new Random(5).normalArray(128).map((v) => 0.5 * Math.tanh(v)), [32, 4]);
  const gan = new GAN({ dataShape: [2, 2, 1], latentDim: 3, generatorUnits: [8], discriminatorUnits: [8], labelSmoothing: 0.9, seed: 4 });
  try {
    await gan.fit(x, { epochs: 2, batchSize: 8, progress: false });
    await gan.save(dir);
    const back = await GAN.load(dir);
    assert.equal(back.describe(), gan.describe());
    assert.deepEqual(back.dataRange, gan.dataRange, 'the dataRange taken from the first fit is saved');
    const z = gan.sampleLatent(6, 3);
    const [s1, s2] = [await gan.sample(6, { z }), await back.sample(6, { z })];
    assert.deepEqual(Array.from(s2.dataSync()), Array.from(s1.dataSync()));
    const [d1, d2] = [gan.discriminate(x), back.discriminate(x)];
    assert.deepEqual(Array.from(d2.dataSync()), Array.from(d1.dataSync()));
    tf.dispose([z, s1, s2, d1, d2]);
    back.dispose();
    const other = path.join(dir, 'other');
    const w = tf.zeros([1]);
    await saveCheckpoint(other, { kind: 'VAE', config: {}, tensors: { w } });
    w.dispose();
    await assert.rejects(GAN.load(other), /GAN/);
    const broken = path.join(dir, 'broken');
    fs.mkdirSync(broken);
    fs.writeFileSync(path.join(broken, 'manifest.json'), '{}');
    await assert.rejects(GAN.load(broken));
  } finally {
    gan.dispose();
    x.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('argument errors: option typos, shapes, data outside dataRange, disposed model', async () => {
  await ready();
  assert.throws(() => new GAN({ dataShape: [2], latentdim: 3 } as never), /unknown option 'latentdim' for GAN; did you mean 'latentDim'\?/);
  assert.throws(() => new GAN({ dataShape: [2, 2] }), /dataShape must be \[D\] or \[height, width, channels\]/);
  assert.throws(() => new GAN({ dataShape: [2], architecture: 'conv' }), /conv GAN needs dataShape/);
  assert.throws(() => new GAN({ dataShape: [2], labelSmoothing: 1.2 }), /labelSmoothing/);
  assert.throws(() => new GAN({ dataShape: [2], loss: 'wasserstein' as never }), /loss must be one of/);
  assert.throws(() => new GAN({ dataShape: [2], dataRange: [1, 0] }), /dataRange must have low < high; got \[1, 0\]/);
  assert.throws(() => new GAN({ dataShape: [2], dataRange: 1 as never }), /dataRange must be \[low, high\]/);
  assert.throws(() => new GAN({ dataShape: [8, 8, 1], architecture: 'conv', generatorUnits: [4] }), /generatorUnits of a conv GAN must hold 2 channel counts/);
  assert.throws(() => new GAN({ dataShape: [2], discriminatorUnits: [4, 2.5] }), /discriminatorUnits\[1\] must be a positive integer; got 2.5/);
  const gan = new GAN({ dataShape: [2], dataRange: [-1, 1], latentDim: 2, generatorUnits: [4], discriminatorUnits: [4], seed: 1 });
  const x = tf.tensor2d([[0.5, 2], [0, 0]]);
  await assert.rejects(gan.fit(x, { learningrate: 1e-3 } as never), /unknown option 'learningrate' for GAN.fit; did you mean 'learningRate'\?/);
  await assert.rejects(gan.fit(x, { progress: false }), /x must have values in \[-1, 1\].*dataRange is \[-1, 1\]/);
  await assert.rejects(gan.fit(tf.zeros([2, 2]), { validation: x, progress: false }), /validation must have values in \[-1, 1\].*dataRange/);
  await assert.rejects(gan.fit(x.slice([0, 0], [2, 1]), { progress: false }), /x must have shape \[n, 2\]/);
  await assert.rejects(gan.fit(tf.zeros([2, 2]), { discriminatorSteps: 0 }), /discriminatorSteps must be a positive integer; got 0/);
  await assert.rejects(gan.fit(tf.zeros([2, 2]), { reset: 'yes' } as never), /reset must be true or false/);
  await assert.rejects(gan.sample(2, { Z: null } as never), /unknown option 'Z' for GAN.sample; did you mean 'z'\?/);
  const z = tf.zeros([3, 2]);
  await assert.rejects(gan.sample(2, { z }), /z must have n = 2 rows/);
  await assert.rejects(gan.sample(0), /n must be a positive integer; got 0/);
  gan.dispose();
  await assert.rejects(gan.sample(1), /this GAN has been disposed/);
  assert.throws(() => gan.discriminate(x), /this GAN has been disposed/);
  tf.dispose([x, z]);
});

test('generatorAverage: the average follows w_avg <- d_t w_avg + (1 - d_t) w after every step; sample uses it; saved and loaded; no leaks', async () => {
  await ready();
  const x = tf.tensor2d(new Random(6).normalArray(96).map((v) => 0.5 * Math.tanh(v)), [48, 2]);
  const beta = 0.9;
  // dataRange given: each one-batch fit below must not set it from its own rows
  const gan = new GAN({ dataShape: [2], dataRange: [-1, 1], latentDim: 2, generatorUnits: [8], discriminatorUnits: [8], generatorAverage: beta, seed: 2 });
  const plain = new GAN({ dataShape: [2], dataRange: [-1, 1], latentDim: 2, generatorUnits: [8], discriminatorUnits: [8], generatorAverage: 0, seed: 2 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-gan-avg-'));
  try {
    assert.match(gan.describe(), /average 0\.9/);
    // a hand-kept average of the weights after each step (batch 16: 3 steps per epoch, steps t = 0, 1, 2)
    let avg = gan.generator.getWeights().map((w) => Array.from(w.dataSync()));
    let t = 0;
    const track = (): void => {
      const d = Math.min(beta, (1 + t) / (10 + t));
      t++;
      const w = gan.generator.getWeights().map((v) => Array.from(v.dataSync()));
      avg = avg.map((a, i) => a.map((v, k) => d * v + (1 - d) * w[i][k]));
    };
    for (let e = 0; e < 2; e++) {
      // one step per fit call so the hand-kept average sees every step
      for (let b = 0; b < 3; b++) {
        await gan.fit(x.slice([16 * b, 0], [16, 2]), { epochs: 1, batchSize: 16, shuffle: false, progress: false });
        track();
      }
    }
    // sample() maps z through the averaged weights: the same as a generator holding the hand-kept average
    const z = gan.sampleLatent(7, 3);
    const s = await gan.sample(7, { z });
    const current = gan.generator.getWeights().map((w) => w.clone());
    const withAvg = avg.map((a, i) => tf.tensor(a, current[i].shape));
    plain.generator.setWeights(withAvg);
    const expected = await plain.sample(7, { z });
    const [got, want] = [s.dataSync(), expected.dataSync()];
    want.forEach((v, i) => assertClose(got[i], v, 1e-5, `sample value ${i} from the averaged generator`));
    // ... and leaves the generator's own (current) weights in place for training
    gan.generator.getWeights().forEach((w, i) => assert.deepEqual(Array.from(w.dataSync()), Array.from(current[i].dataSync())));
    // a loaded model samples the same (the average is in the checkpoint)
    await gan.save(dir);
    const back = await GAN.load(dir);
    const s2 = await back.sample(7, { z });
    assert.deepEqual(Array.from(s2.dataSync()), Array.from(s.dataSync()));
    back.dispose();
    tf.dispose([z, s, s2, expected, ...current, ...withAvg]);
    await assertNoLeak(async () => {
      await gan.fit(x, { epochs: 1, batchSize: 16, progress: false });
      tf.dispose(await gan.sample(3));
    }, 'GAN with an average');
    assert.throws(() => new GAN({ dataShape: [2], generatorAverage: 1 }), /generatorAverage/);
    assert.throws(() => new GAN({ dataShape: [2], generatorAverage: -0.1 }), /generatorAverage/);
  } finally {
    gan.dispose();
    plain.dispose();
    x.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The model's variables as arrays (the base's protected `variables()`, read for the test). */
function variablesOf(gan: GAN): number[][] {
  return (gan as unknown as { variables(): tf.Variable[] }).variables().map((v) => Array.from(v.dataSync()));
}

test('dataRange [0, 1]: fit takes pixel intensities, sample returns them, discriminate reads them (x_net = 2x - 1)', async () => {
  await ready();
  const x = tf.tensor2d(new Random(7).uniformArray(32 * 4), [32, 4]); //                              in [0, 1)
  // generatorAverage 0: sample() maps z through the current G, which the test reads directly
  const gan = new GAN({ dataShape: [4], dataRange: [0, 1], latentDim: 2, generatorUnits: [8], discriminatorUnits: [8], generatorAverage: 0, seed: 3 });
  try {
    assert.deepEqual(gan.dataRange, [0, 1]);
    await gan.fit(x, { epochs: 2, batchSize: 8, progress: false });
    const z = gan.sampleLatent(6, 1);
    const s = await gan.sample(6, { z });
    const raw = gan.generator.predict(z) as tf.Tensor; //                                          in [-1, 1]
    const want = Array.from(raw.dataSync()).map((v) => (v + 1) / 2);
    Array.from(s.dataSync()).forEach((v, i) => assertClose(v, want[i], 1e-6, `sample ${i} mapped back to [0, 1]`));
    assert.ok(s.dataSync().every((v) => v >= 0 && v <= 1));
    const d = gan.discriminate(x);
    const x11 = x.mul(2).sub(1);
    const logits = gan.discriminator.predict(x11) as tf.Tensor;
    const dWant = Array.from(tf.sigmoid(logits).dataSync());
    Array.from(d.dataSync()).forEach((v, i) => assertClose(v, dWant[i], 1e-6, `D(x) of row ${i} on the network's scale`));
    await assert.rejects(gan.fit(x11, { progress: false }), /x must have values in \[0, 1\]; got values in \[-.*dataRange is \[0, 1\]/);
    tf.dispose([z, s, raw, d, x11, logits]);
  } finally {
    gan.dispose();
    x.dispose();
  }
});

test('without dataRange a tanh GAN takes it from its first fit (kept; later data outside refused); a linear GAN maps nothing', async () => {
  await ready();
  const x = tf.tensor2d([[0, 255], [128, 64], [255, 0], [10, 20]]);
  const gan = new GAN({ dataShape: [2], latentDim: 2, generatorUnits: [4], discriminatorUnits: [4], outputActivation: 'tanh', seed: 1 });
  const linear = new GAN({ dataShape: [2], latentDim: 2, generatorUnits: [4], discriminatorUnits: [4], outputActivation: 'linear', seed: 1 });
  try {
    assert.deepEqual(gan.dataRange, [-1, 1], 'before any fit: the generator\'s own range');
    await assert.rejects(gan.fit(tf.tensor2d([[NaN, 1], [0, 0]]), { progress: false }), /finite/);
    assert.deepEqual(gan.dataRange, [-1, 1], 'a refused fit sets no range');
    await gan.fit(x, { epochs: 1, batchSize: 2, progress: false });
    assert.deepEqual(gan.dataRange, [0, 255]);
    const s = await gan.sample(20, { seed: 1 });
    assert.ok(s.dataSync().every((v) => v >= 0 && v <= 255), 'samples in [0, 255]');
    await assert.rejects(gan.fit(x.add(1), { progress: false }), /x must have values in \[0, 255\].*dataRange/);
    assert.equal(linear.dataRange, undefined);
    await linear.fit(x, { epochs: 1, batchSize: 2, progress: false });
    assert.equal(linear.dataRange, undefined, 'a linear output needs no range');
    s.dispose();
  } finally {
    gan.dispose();
    linear.dispose();
    x.dispose();
  }
});

test('resuming: fit(2) then fit(3) trains as fit(5); reset starts the epochs afresh; validation scores valDLoss, valDReal', async () => {
  await ready();
  const x = tf.tensor2d(new Random(8).normalArray(80).map((v) => 0.5 * Math.tanh(v)), [40, 2]);
  const build = (): GAN => new GAN({ dataShape: [2], dataRange: [-1, 1], latentDim: 2, generatorUnits: [8], discriminatorUnits: [8], seed: 4 });
  const [once, twice] = [build(), build()];
  try {
    const h = await once.fit(x, { epochs: 5, batchSize: 16, progress: false });
    await twice.fit(x, { epochs: 2, batchSize: 16, progress: false });
    const h2 = await twice.fit(x, { epochs: 3, batchSize: 16, progress: false });
    assert.deepEqual(h2.epoch, [3, 4, 5]);
    assert.deepEqual(h2.dLoss, h.dLoss.slice(2));
    assert.deepEqual(variablesOf(twice), variablesOf(once));
    const h3 = await twice.fit(x, { epochs: 1, batchSize: 16, reset: true, validation: x, progress: false });
    assert.deepEqual(h3.epoch, [1]);
    assert.ok(h3.valDLoss[0] > 0 && h3.valDReal[0] > 0 && h3.valDReal[0] < 1, `valDLoss ${h3.valDLoss}, valDReal ${h3.valDReal}`);
  } finally {
    once.dispose();
    twice.dispose();
    x.dispose();
  }
});

test('generatorAverage: the average and its step count resume after load and are put back after a diverged fit', async () => {
  await ready();
  const x = tf.tensor2d(new Random(10).normalArray(64).map((v) => 0.5 * Math.tanh(v)), [32, 2]);
  const opts = { dataShape: [2] as [number], dataRange: [-1, 1] as [number, number], latentDim: 2, generatorUnits: [8], discriminatorUnits: [8], generatorAverage: 0.99, seed: 5 };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-gan-steps-'));
  const gan = new GAN(opts);
  try {
    await gan.fit(x, { epochs: 2, batchSize: 8, progress: false }); //                                    8 steps
    await gan.save(dir);
    const back = await GAN.load(dir);
    assert.deepEqual(variablesOf(back), variablesOf(gan), 'weights, average and step count round-trip');
    // both go on from the same weights, average and count with fresh optimisers and the same training seed
    await gan.fit(x, { epochs: 1, batchSize: 8, reset: true, seed: 3, progress: false });
    await back.fit(x, { epochs: 1, batchSize: 8, reset: true, seed: 3, progress: false });
    const [a, b] = [await gan.sample(5, { seed: 1 }), await back.sample(5, { seed: 1 })];
    assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()), 'the loaded average continues as the original');
    tf.dispose([a, b]);
    back.dispose();

    const before = variablesOf(gan);
    await assert.rejects(gan.fit(x, { epochs: 2, batchSize: 8, learningRate: 1e30, progress: false }), /GAN.fit diverged at epoch 2.*as it was/);
    assert.deepEqual(variablesOf(gan), before, 'G, D, BatchNorm statistics, the average and its count put back');
    const h = await gan.fit(x, { epochs: 1, batchSize: 8, progress: false });
    assert.deepEqual(h.epoch, [2]);
    const s = await gan.sample(4, { seed: 2 });
    assert.ok(s.dataSync().every(Number.isFinite));
    s.dispose();
  } finally {
    gan.dispose();
    x.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
