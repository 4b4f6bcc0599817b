/**
 * The notebook API without chores: chains continue with `continueFrom`, `scope` frees what async cells create,
 * results meant for plots are plain arrays, sync/async agree across models, one-argument Onsager functions, and one
 * HTML escaper in lib/ (the public barrel: test/barrel.test.ts).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ready, tf } from '../lib/engine/backend';
import { scope } from '../lib/engine/scope';
import { Random } from '../lib/engine/random';
import { gibbsBivariateGaussian, gibbsSampler, metropolisHastings } from '../lib/mcmc/samplers';
import { isingAutoAlgorithm, onsagerEnergy, onsagerMagnetization, onsagerSolution, onsagerSpecificHeat } from '../lib/mcmc/ising';
import { BernoulliRBM } from '../lib/rbm/bernoulli';
import { Autoencoder } from '../lib/autoencoder/autoencoder';
import { principalAngles } from '../lib/autoencoder/pca';
import { VAE } from '../lib/vae/vae';
import { GAN } from '../lib/gan';
import { DDPM } from '../lib/diffusion';
import { assertClose } from './helpers';

const logTarget = (x: number[]): number => -0.5 * (x[0] * x[0] + x[1] * x[1] - x[0] * x[1]);

test('continueFrom: two runs of n equal one run of 2n with the same seed (MH, bivariate Gibbs, general Gibbs)', () => {
  const mhOne = metropolisHastings({ logDensity: logTarget, initial: [3, -3], steps: 400, proposalStd: 0.8, thin: 2, seed: 5 });
  const mhA = metropolisHastings({ logDensity: logTarget, initial: [3, -3], steps: 200, proposalStd: 0.8, thin: 2, seed: 5 });
  const mhB = metropolisHastings({ logDensity: logTarget, continueFrom: mhA, steps: 200, proposalStd: 0.8, thin: 2 });
  assert.deepEqual([...mhA.samples, ...mhB.samples], mhOne.samples);
  assert.deepEqual([...mhA.logDensities, ...mhB.logDensities], mhOne.logDensities);
  assert.deepEqual(mhB.end.state, mhOne.end.state);
  // Continuing twice from one result gives the same continuation (the result's generator is a snapshot).
  const mhB2 = metropolisHastings({ logDensity: logTarget, continueFrom: mhA, steps: 200, proposalStd: 0.8, thin: 2 });
  assert.deepEqual(mhB2.samples, mhB.samples);

  const gOne = gibbsBivariateGaussian({ rho: 0.5, steps: 300, initial: [-4, 4], seed: 2 });
  const gA = gibbsBivariateGaussian({ rho: 0.5, steps: 150, initial: [-4, 4], seed: 2 });
  const gB = gibbsBivariateGaussian({ rho: 0.5, steps: 150, continueFrom: gA });
  assert.deepEqual([...gA.samples, ...gB.samples], gOne.samples);
  assert.deepEqual([...gA.path, ...gB.path.slice(1)], gOne.path);

  const s = Math.sqrt(1 - 0.25);
  const conditionals = [(st: number[], r: Random) => 0.5 * st[1] + s * r.normal(), (st: number[], r: Random) => 0.5 * st[0] + s * r.normal()];
  const one = gibbsSampler({ conditionals, initial: [1, 1], steps: 100, scan: 'random', seed: 9 });
  const a = gibbsSampler({ conditionals, initial: [1, 1], steps: 50, scan: 'random', seed: 9 });
  const b = gibbsSampler({ conditionals, continueFrom: a, steps: 50, scan: 'random' });
  assert.deepEqual([...a.samples, ...b.samples], one.samples);
});

test('continueFrom: refuses initial or seed beside it, and a result that is not one', () => {
  const a = metropolisHastings({ logDensity: logTarget, initial: [0, 0], steps: 5, seed: 1 });
  assert.throws(() => metropolisHastings({ logDensity: logTarget, continueFrom: a, initial: [0, 0], steps: 5 }), /either continueFrom or initial/);
  assert.throws(() => metropolisHastings({ logDensity: logTarget, continueFrom: a, seed: 3, steps: 5 }), /either continueFrom or seed/);
  assert.throws(() => metropolisHastings({ logDensity: logTarget, continueFrom: { samples: [] } as never, steps: 5 }), /continueFrom must be the result/);
  assert.throws(() => metropolisHastings({ logDensity: logTarget, steps: 5 }), /initial must be an array/);
});

test('scope frees every tensor made inside except the result; models built or trained inside stay usable', async () => {
  await ready();
  const before = tf.memory().numTensors;
  const kept = await scope(async () => {
    const a = tf.ones([3, 3]);
    a.add(1).square();
    await new Promise((r) => setTimeout(r, 1)); // an await inside, as in a notebook cell
    return { sum: a.sum(), note: 'plain values pass through' };
  });
  assert.equal(tf.memory().numTensors, before + 1, 'only the returned tensor survives');
  assert.equal(kept.sum.dataSync()[0], 9);
  kept.sum.dispose();

  const x = tf.tensor2d([[1, 0, 1, 0], [0, 1, 0, 1]]);
  const rbm = await scope(async () => {
    const m = new BernoulliRBM({ nVisible: 4, nHidden: 3, seed: 1 });
    await m.fit(x, { epochs: 2, batchSize: 2, persistent: true, progress: false });
    await m.sample(4, { steps: 2 }); // dropped on the floor: freed by the scope
    return m;
  });
  try {
    await rbm.fit(x, { epochs: 1, batchSize: 2, persistent: true, progress: false });
    assert.ok(Number.isFinite(rbm.reconstructionError(x)));
  } finally {
    rbm.dispose();
    x.dispose();
  }
  assert.equal(tf.memory().numTensors, before, 'nothing leaked');
  // A model built inside and not returned is disposed with the scope, as are its weights.
  let dropped: BernoulliRBM | null = null;
  const kept2 = await scope(() => {
    dropped = new BernoulliRBM({ nVisible: 4, nHidden: 3, seed: 2 });
    return { inner: [new BernoulliRBM({ nVisible: 2, nHidden: 2, seed: 3 })] };
  });
  await assert.rejects((dropped as unknown as BernoulliRBM).sample(1, { steps: 1 }), /disposed/);
  assert.ok(Number.isFinite(kept2.inner[0].logPartition()), 'a returned model stays alive');
  kept2.inner[0].dispose();
  assert.equal(tf.memory().numTensors, before, 'nothing leaked');
  await assert.rejects(scope(async () => {
    tf.ones([2]);
    throw new Error('boom');
  }), /boom/);
  assert.equal(tf.memory().numTensors, before, 'a throwing scope frees its tensors');
});

test('linearMaps gives plain arrays; principalAngles takes arrays; reconstructionError is synchronous on RBM and Autoencoder', async () => {
  await ready();
  const x = tf.tidy(() => tf.randomNormal([64, 3], 0, 1, 'float32', 1).matMul(tf.tensor2d([[1, 0.5, 0, 0], [0, 1, 0.5, 0], [0, 0, 1, 0.5]]))) as tf.Tensor2D;
  const ae = new Autoencoder({ inputDim: 4, codeDim: 2, linear: true, seed: 1 });
  const before = tf.memory().numTensors;
  try {
    const maps = ae.linearMaps();
    assert.equal(tf.memory().numTensors, before, 'linearMaps makes no tensors');
    assert.ok(Array.isArray(maps.decoderWeight) && maps.decoderWeight.length === 2 && maps.decoderWeight[0].length === 4);
    assert.equal(maps.encoderBias.length, 2);
    const W = tf.tensor2d(maps.decoderWeight);
    assert.deepEqual(principalAngles(maps.decoderWeight, maps.decoderWeight).map((t) => Math.round(t * 1e3)), [0, 0]);
    assertClose(principalAngles(W, maps.decoderWeight)[1], 0, 1e-3, 'tensor vs array');
    W.dispose();
    const err = ae.reconstructionError(x);
    assert.equal(typeof err, 'number', 'Autoencoder.reconstructionError returns a number, like the RBM');
  } finally {
    ae.dispose();
    x.dispose();
  }
});

test('VAE and Autoencoder outputs are typed by dataShape: [D] gives Tensor2D, [h, w, c] Tensor4D, whatever the input layout', async () => {
  await ready();
  const conv = new VAE({ dataShape: [8, 8, 1], architecture: 'conv', latentDim: 2, seed: 3, convFilters: [2, 2], convDenseUnits: 3 });
  const dense = new VAE({ dataShape: [64], hiddenUnits: [4], latentDim: 2, seed: 3 });
  const ae = new Autoencoder({ dataShape: [8, 8, 1], architecture: 'conv', convFilters: [2, 2], convDenseUnits: 3, codeDim: 2, seed: 3 });
  const x4: tf.Tensor4D = tf.zeros([2, 8, 8, 1]);
  const x2: tf.Tensor2D = tf.zeros([2, 64]);
  try {
    const r4: tf.Tensor4D = conv.reconstruct(x4); // compiles without a cast
    const r4flat: tf.Tensor4D = conv.reconstruct(x2);
    const s4: tf.Tensor4D = await conv.sample(2, { seed: 1 });
    const s2: tf.Tensor2D = await dense.sample(2, { seed: 1 });
    const d2: tf.Tensor2D = dense.decode([[0, 0]]);
    const a4: tf.Tensor4D = ae.reconstruct(x2);
    const rows: number[][] = s2.arraySync(); // no `as number[][]`
    assert.deepEqual([r4.shape, r4flat.shape, s4.shape, s2.shape, d2.shape, a4.shape], [[2, 8, 8, 1], [2, 8, 8, 1], [2, 8, 8, 1], [2, 64], [1, 64], [2, 8, 8, 1]]);
    assert.equal(rows.length, 2);
    tf.dispose([r4, r4flat, s4, s2, d2, a4]);
  } finally {
    tf.dispose([x4, x2]);
    [conv, dense, ae].forEach((m) => m.dispose());
  }
});

test('onsagerEnergy and friends are safe to pass to Array.map; onsagerSolution carries J', () => {
  const Ts = [1.5, 2, 3];
  assert.deepEqual(Ts.map(onsagerEnergy), Ts.map((T) => onsagerEnergy(T)));
  assert.deepEqual(Ts.map(onsagerMagnetization), Ts.map((T) => onsagerMagnetization(T)));
  assert.deepEqual(Ts.map(onsagerSpecificHeat), Ts.map((T) => onsagerSpecificHeat(T)));
  assert.deepEqual([1, 5].map(isingAutoAlgorithm), ['wolff', 'metropolis']);
  const j2 = onsagerSolution({ J: 2 });
  assertClose(j2.energy(4), 2 * onsagerEnergy(2), 1e-12, 'u(T; J) = J u(T / J)');
  assert.equal(j2.magnetization(3), onsagerMagnetization(1.5));
  assertClose(j2.criticalTemperature, 2 * 2.269185314213022, 1e-9, 'Tc scales with J');
});

test('lib/ escapes HTML in one place', () => {
  const libDir = path.resolve(__dirname, '..', '..', 'lib');
  const escapers: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && path.relative(libDir, p) !== path.join('display', 'html.ts')) {
        const src = fs.readFileSync(p, 'utf8');
        if (/&amp;|&lt;|&#39;|&quot;|function\s+escape\w*\(/.test(src)) escapers.push(path.relative(libDir, p));
      }
    }
  };
  walk(libDir);
  assert.deepEqual(escapers, [], `HTML escaping outside lib/display/html.ts: ${escapers.join(', ')}`);
});

test('GAN and DDPM: samples typed by dataShape (no casts in notebooks); a scope frees the models built inside', async () => {
  await ready();
  const before = tf.memory().numTensors;
  const shapes = await scope(async () => {
    const gan = new GAN({ dataShape: [4], latentDim: 2, generatorUnits: [3], discriminatorUnits: [3], seed: 1 });
    const ddpm = new DDPM({ dataShape: [2], timesteps: 4, network: { kind: 'mlp', hiddenUnits: [4], embedDim: 4 }, seed: 2 });
    const g: tf.Tensor2D = await gan.sample(3, { seed: 1 }); //                compiles without a cast
    const d: tf.Tensor2D = await ddpm.sample(2, { seed: 3 });
    const chain: tf.Tensor3D = (await ddpm.sample(2, { seed: 3, returnTrajectory: true })).trajectory;
    const eps: tf.Tensor2D = ddpm.predictNoise(d, 1);
    return [g.shape, d.shape, chain.shape, eps.shape];
  });
  assert.deepEqual(shapes, [[3, 4], [2, 2], [5, 2, 2], [2, 2]]);
  assert.equal(tf.memory().numTensors, before, 'the models built inside the scope and their samples were freed');
});
