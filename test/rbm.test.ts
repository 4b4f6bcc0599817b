import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, ready } from '../lib/engine/backend';
import { BernoulliRBM, GaussianBernoulliRBM } from '../lib/rbm/bernoulli';
import { Random } from '../lib/engine/random';
import { assertClose, assertNoLeak, readArray } from './helpers';
import {
  allStates,
  barsAndStripes,
  bruteDataExpectations,
  bruteFreeEnergy,
  bruteLogZ,
  bruteModelExpectations,
  bruteVisibleDistribution,
  compareVectors,
  randomRBM,
  SmallRBM,
} from './rbm-brute';

function modelFrom(m: SmallRBM, seed = 1): BernoulliRBM {
  const rbm = new BernoulliRBM({ nVisible: m.a.length, nHidden: m.b.length, seed });
  rbm.setWeights({ W: m.W, visibleBias: m.a, hiddenBias: m.b });
  return rbm;
}

test('invalid arguments are named', async () => {
  await ready();
  assert.throws(() => new BernoulliRBM({ nVisible: 4, nHidden: 2.5 }), /nHidden must be a positive integer; got 2.5/);
  assert.throws(() => new BernoulliRBM({ nVisible: 0, nHidden: 2 }), /nVisible/);
  assert.throws(() => new BernoulliRBM({ nVisible: -3, nHidden: 2 }), /nVisible/);
  const rbm = new BernoulliRBM({ nVisible: 4, nHidden: 2, seed: 0 });
  const ok = tf.tensor2d([[0, 1, 1, 0]]);
  const wide = tf.tensor2d([[0, 1, 1]]);
  const nan = tf.tensor2d([[0, NaN, 1, 0]]);
  const inf = tf.tensor2d([[0, Infinity, 1, 0]]);
  const big = tf.tensor2d([[0, 2, 1, 0]]);
  await assert.rejects(rbm.fit(wide, { progress: false }), /x must have shape \[n, 4\] with n >= 1; got \[1, 3\]/);
  await assert.rejects(rbm.fit(nan, { progress: false }), /x must contain only finite values/);
  await assert.rejects(rbm.fit(inf, { progress: false }), /x must contain only finite values/);
  await assert.rejects(rbm.fit(big, { progress: false }), /x must have values in \[0, 1\]; got values in \[0, 2\]/);
  await assert.rejects(rbm.fit(ok, { batchSize: 0, progress: false }), /batchSize must be a positive integer; got 0/);
  await assert.rejects(rbm.fit(ok, { epochs: 1.5, progress: false }), /epochs/);
  await assert.rejects(rbm.fit(ok, { learningRate: NaN, progress: false }), /learningRate must be a finite number; got NaN/);
  await assert.rejects(rbm.fit(ok, { momentum: 1, progress: false }), /momentum/);
  await assert.rejects(rbm.fit(ok, { k: 0, progress: false }), /k must be a positive integer/);
  await assert.rejects(rbm.fit(ok, { persistent: true, chains: -1, progress: false }), /chains/);
  assert.throws(() => rbm.transform(wide), /v must have shape \[n, 4\]/);
  assert.throws(() => rbm.freeEnergy(big), /values in \[0, 1\]/);
  await assert.rejects(rbm.sample(0), /n must be a positive integer; got 0/);
  await assert.rejects(rbm.sample(3, { chains: 3 } as never), /BernoulliRBM\.sample takes the number of chains as its first argument/);
  await assert.rejects(rbm.sample(2, { init: ok }), /init must have n = 2 rows; got shape \[1, 4\]/);
  assert.throws(() => rbm.gibbs(ok, 0), /steps/);
  assert.throws(() => rbm.setWeights({ W: [[1, 2]] }), /W must have shape \[4, 2\]; got \[1, 2\]/);
  assert.throws(() => rbm.setWeights({ hiddenBias: [1, NaN] }), /hiddenBias must contain only finite values/);
  await assert.rejects(rbm.logPartitionAIS({ runs: 0 }), /runs must be a positive integer; got 0/);
  await assert.rejects(rbm.logPartitionAIS({ betas: [0, 0.7, 0.5, 1] }), /non-decreasing/);
  tf.dispose([ok, wide, nan, inf, big]);
  rbm.dispose();
});

test('free energy and log Z match brute force (both enumeration directions, large weights)', async () => {
  await ready();
  for (const [nV, nH] of [
    [5, 3],
    [3, 6],
  ]) {
    const m = randomRBM(nV, nH, 2, 10 + nV);
    const rbm = modelFrom(m);
    const vs = allStates(nV);
    const x = tf.tensor2d(vs);
    const f = readArray(rbm.freeEnergy(x));
    vs.forEach((v, i) => assertClose(f[i], bruteFreeEnergy(m, v), 1e-4 * (1 + Math.abs(f[i])), `F(v) ${nV}x${nH}`));
    const logZ = rbm.logPartition();
    assertClose(logZ, bruteLogZ(m), 1e-4 * Math.abs(logZ) + 1e-5, `log Z ${nV}x${nH}`);
    // The cached value follows parameter changes.
    const shifted = { ...m, b: m.b.map((q) => q + 0.3) };
    rbm.setWeights({ hiddenBias: shifted.b });
    assertClose(rbm.logPartition(), bruteLogZ(shifted), 1e-4 * Math.abs(logZ) + 1e-5, `log Z after setWeights ${nV}x${nH}`);
    rbm.setWeights({ hiddenBias: m.b });
    // The probabilities of all visible states sum to one.
    const ll = rbm.logLikelihood(x, logZ) * vs.length; // sum_v log p(v)
    assert.ok(Number.isFinite(ll));
    const p = readArray(tf.tidy(() => tf.exp(tf.sub(tf.neg(rbm.freeEnergy(x)), logZ))));
    assertClose(p.reduce((s, q) => s + q, 0), 1, 1e-4, 'sum_v p(v)');
    x.dispose();
    rbm.dispose();
  }
});

test('logPartition refuses large models and points to AIS', async () => {
  await ready();
  const rbm = new BernoulliRBM({ nVisible: 40, nHidden: 30, seed: 0 });
  assert.throws(() => rbm.logPartition(), /2\^30 states.*logPartitionAIS/);
  rbm.dispose();
});

test('gradient of log Z equals the model expectation (finite differences)', async () => {
  await ready();
  const m = randomRBM(5, 4, 1, 3);
  const exact = bruteModelExpectations(m);
  const h = 1e-2;
  const fd = (mut: (mm: SmallRBM, d: number) => void): number => {
    const plus = structuredClone(m);
    const minus = structuredClone(m);
    mut(plus, h);
    mut(minus, -h);
    const rp = modelFrom(plus);
    const rm = modelFrom(minus);
    const g = (rp.logPartition() - rm.logPartition()) / (2 * h);
    rp.dispose();
    rm.dispose();
    return g;
  };
  for (const [i, j] of [
    [0, 0],
    [2, 3],
    [4, 1],
  ]) {
    assertClose(fd((mm, d) => (mm.W[i][j] += d)), exact.W[i][j], 2e-3, `d logZ / dW[${i}][${j}]`);
  }
  assertClose(fd((mm, d) => (mm.a[1] += d)), exact.a[1], 2e-3, 'd logZ / da[1]');
  assertClose(fd((mm, d) => (mm.b[2] += d)), exact.b[2], 2e-3, 'd logZ / db[2]');
});

/** The update fit makes with plain SGD divided by the learning rate: the gradient estimate it used. */
async function estimatedGradient(
  m: SmallRBM,
  data: number[][],
  opts: { k: number; persistent: boolean; epochs: number; chains?: number; parallelTempering?: number },
): Promise<number[]> {
  const rbm = modelFrom(m, 5);
  const x = tf.tensor2d(data);
  const lr = 1e-3;
  const batchSize = opts.persistent ? Math.floor(data.length / 20) : data.length;
  await rbm.fit(x, { epochs: opts.epochs, batchSize, learningRate: lr, k: opts.k, persistent: opts.persistent, chains: opts.chains, parallelTempering: opts.parallelTempering, shuffle: true, progress: false, seed: 9 });
  const { W, visibleBias, hiddenBias } = rbm.getWeights();
  const steps = opts.epochs * Math.ceil(data.length / batchSize);
  const after = [...readArray(W), ...readArray(visibleBias), ...readArray(hiddenBias)];
  const before = [...m.W.flat(), ...m.a, ...m.b];
  x.dispose();
  rbm.dispose();
  return after.map((v, i) => (v - before[i]) / (lr * steps));
}

test('CD-k with large k and PCD approach the exact gradient; CD-1 is biased', async () => {
  await ready();
  const m = randomRBM(6, 4, 1.5, 21);
  // Data: 4000 rows drawn from a different distribution (3x3 bars and stripes would need 9 visible; use 6 bits).
  const patterns = allStates(6).filter((v) => v.reduce((s, q) => s + q, 0) % 3 === 0);
  const data = Array.from({ length: 4000 }, (_, i) => patterns[i % patterns.length]);
  const pos = bruteDataExpectations(m, data);
  const neg = bruteModelExpectations(m);
  const exact = [
    ...pos.W.flat().map((p, i) => p - neg.W.flat()[i]),
    ...pos.a.map((p, i) => p - neg.a[i]),
    ...pos.b.map((p, i) => p - neg.b[i]),
  ];
  const cd50 = compareVectors(await estimatedGradient(m, data, { k: 50, persistent: false, epochs: 1 }), exact);
  const cd1 = compareVectors(await estimatedGradient(m, data, { k: 1, persistent: false, epochs: 1 }), exact);
  const pcd = compareVectors(await estimatedGradient(m, data, { k: 5, persistent: true, epochs: 2, chains: 2000 }), exact);
  assert.ok(cd50.cosine > 0.99 && cd50.relError < 0.1, `CD-50 vs exact gradient: ${JSON.stringify(cd50)}`);
  assert.ok(pcd.cosine > 0.98 && pcd.relError < 0.2, `PCD-5 vs exact gradient: ${JSON.stringify(pcd)}`);
  const pt = compareVectors(await estimatedGradient(m, data, { k: 2, persistent: true, epochs: 2, chains: 1000, parallelTempering: 3 }), exact);
  assert.ok(pt.cosine > 0.98 && pt.relError < 0.2, `PCD with parallel tempering vs exact gradient: ${JSON.stringify(pt)}`);
  // CD-1 from the data is visibly further from the exact gradient than CD-50 (its known bias).
  assert.ok(cd1.relError > 2 * cd50.relError, `CD-1 ${JSON.stringify(cd1)} should be worse than CD-50 ${JSON.stringify(cd50)}`);
});

test('Gibbs samples of a small RBM match its exact distribution (total variation)', async () => {
  await ready();
  const m = randomRBM(4, 3, 1.5, 7);
  const exact = bruteVisibleDistribution(m);
  const rbm = modelFrom(m);
  const chains = 10000;
  const samples = await rbm.sample(chains, { steps: 30, seed: 3 });
  const s = samples.arraySync();
  samples.dispose();
  const counts = new Array<number>(16).fill(0);
  for (const v of s) counts[v.reduce((acc, bit, j) => acc + bit * 2 ** j, 0)]++;
  const tv = 0.5 * counts.reduce((acc, c, x) => acc + Math.abs(c / chains - exact[x]), 0);
  assert.ok(tv < 0.035, `TV(samples, exact) = ${tv}`);
  // Power: a sampler that got the model slightly wrong (visible biases off by 0.5) is far beyond the threshold.
  const wrong = bruteVisibleDistribution({ ...m, a: m.a.map((x) => x + 0.5) });
  const tvWrong = 0.5 * wrong.reduce((acc, p, x) => acc + Math.abs(p - exact[x]), 0);
  assert.ok(tvWrong > 0.1, `a biased sampler's TV ${tvWrong}`);
  // gibbs() from data: one step keeps shape, values binary.
  const v0 = tf.tensor2d([[1, 0, 1, 0]]);
  const g = rbm.gibbs(v0, 3, { seed: 1 });
  assert.deepEqual(g.shape, [1, 4]);
  assert.ok(Array.from(g.dataSync()).every((q) => q === 0 || q === 1));
  tf.dispose([v0, g]);
  rbm.dispose();
});

test('parallel tempering mixes between modes that plain Gibbs cannot cross', async () => {
  await ready();
  // 8 visible units and one strong hidden unit: two modes (all off, all on) separated by a high barrier.
  const m: SmallRBM = { W: Array.from({ length: 8 }, () => [4]), a: new Array<number>(8).fill(-2), b: [-16] };
  const exact = bruteVisibleDistribution(m);
  const rbm = modelFrom(m);
  const chains = 2000;
  const tvFrom = (samples: tf.Tensor2D): { tv: number; allOn: number } => {
    const counts = new Array<number>(256).fill(0);
    for (const v of samples.arraySync()) counts[v.reduce((acc, bit, j) => acc + bit * 2 ** j, 0)]++;
    samples.dispose();
    return { tv: 0.5 * counts.reduce((acc, c, x) => acc + Math.abs(c / chains - exact[x]), 0), allOn: counts[255] / chains };
  };
  const init = tf.zeros([chains, 8]) as tf.Tensor2D; // every chain starts in the 'all off' mode
  const plain = tvFrom(await rbm.sample(chains, { steps: 30, seed: 2, init }));
  const pt = await assertNoLeak(async () => tvFrom(await rbm.sample(chains, { steps: 30, seed: 2, init, parallelTempering: 8 })), 'parallel tempering');
  assert.ok(plain.tv > 0.25, `plain Gibbs should be stuck: TV ${plain.tv}`);
  assert.ok(pt.tv < 0.12, `parallel tempering TV ${pt.tv}`);
  assertClose(pt.allOn, exact[255], 0.04, 'P(all on) under parallel tempering');
  await assert.rejects(rbm.sample(2, { parallelTempering: [1, 0.5, 0.7] }), /parallelTempering must decrease strictly/);
  await assert.rejects(rbm.sample(2, { parallelTempering: [0.9, 0.5] }), /must start at beta = 1/);
  await assert.rejects(rbm.sample(2, { parallelTempering: 1 }), /integer >= 2/);
  init.dispose();
  rbm.dispose();
});

test('pseudo-log-likelihood matches brute force; the one-unit estimate is unbiased', async () => {
  await ready();
  const m = randomRBM(5, 3, 1.2, 4);
  const rbm = modelFrom(m);
  const data = allStates(5).slice(3, 20);
  let expected = 0;
  for (const v of data) {
    for (let i = 0; i < 5; i++) {
      const flipped = v.slice();
      flipped[i] = 1 - v[i];
      const d = bruteFreeEnergy(m, flipped) - bruteFreeEnergy(m, v);
      expected += -Math.log1p(Math.exp(-d)); // log sigmoid(d)
    }
  }
  expected /= data.length;
  const x = tf.tensor2d(data);
  assertClose(rbm.pseudoLogLikelihood(x), expected, 1e-4, 'PLL (all units)');
  const big = tf.tensor2d(Array.from({ length: 300 }, () => data).flat());
  assertClose(rbm.pseudoLogLikelihood(big, { units: 'one', seed: 2 }), expected, 0.1, 'PLL (one unit, 5100 rows)');
  tf.dispose([x, big]);
  rbm.dispose();
});

test('no tensor leaks around fit (CD, PCD, momentum, onEpoch) and every metric', async () => {
  await ready();
  const bas = barsAndStripes(3);
  const x = tf.tensor2d(bas);
  const rbm = new BernoulliRBM({ nVisible: 9, nHidden: 6, seed: 1 });
  await assertNoLeak(() => rbm.fit(x, { epochs: 2, batchSize: 5, progress: false }), 'fit CD-1');
  // PCD chains and momentum velocities live on between fits (a second fit continues the first): each such
  // configuration runs once to create its state, then an identical fit must leave the tensor count unchanged.
  const pcd = {
    epochs: 2,
    batchSize: 4,
    k: 2,
    persistent: true,
    chains: 7,
    momentum: 0.5,
    weightDecay: 1e-4,
    progress: false as const,
    onEpoch: () => ({ ll: rbm.logLikelihood(x) }),
  };
  await rbm.fit(x, pcd);
  await assertNoLeak(() => rbm.fit(x, pcd), 'fit PCD-2 with momentum');
  const pt = { epochs: 2, batchSize: 4, k: 2, persistent: true, chains: 5, parallelTempering: [1, 0.6, 0.3], progress: false as const };
  await rbm.fit(x, pt);
  await assertNoLeak(() => rbm.fit(x, pt), 'fit with parallel tempering');
  await assertNoLeak(() => assert.rejects(rbm.fit(x, { parallelTempering: 3, momentum: 0.5, progress: false }), /parallelTempering needs persistent: true/), 'PT without PCD');
  await assertNoLeak(() => rbm.transform(x).dispose(), 'transform');
  await assertNoLeak(() => rbm.freeEnergy(x).dispose(), 'freeEnergy');
  await assertNoLeak(() => rbm.reconstructionError(x), 'reconstructionError');
  await assertNoLeak(() => rbm.pseudoLogLikelihood(x), 'pseudoLogLikelihood');
  await assertNoLeak(() => rbm.pseudoLogLikelihood(x, { units: 'one' }), 'pseudoLogLikelihood one');
  await assertNoLeak(() => rbm.logPartition(), 'logPartition');
  await assertNoLeak(() => rbm.logLikelihood(x), 'logLikelihood');
  await assertNoLeak(() => rbm.logPartitionAIS({ runs: 10, betas: 20 }), 'logPartitionAIS');
  await assertNoLeak(() => rbm.logPartitionAIS({ runs: 10, betas: 20, data: x }), 'logPartitionAIS with data');
  await assertNoLeak(async () => (await rbm.sample(3, { steps: 4 })).dispose(), 'sample');
  await assertNoLeak(async () => (await rbm.sample(3, { steps: 2, meanField: true })).dispose(), 'sample meanField');
  await assertNoLeak(() => assert.rejects(rbm.sample(3, { init: x })), 'refused sample');
  await assertNoLeak(() => rbm.gibbs(x, 2).dispose(), 'gibbs');
  await assertNoLeak(() => tf.dispose(Object.values(rbm.getWeights())), 'getWeights');
  await assertNoLeak(() => assert.throws(() => rbm.setWeights({ W: [[1]] })), 'failed setWeights');
  await assertNoLeak(() => assert.rejects(rbm.fit(x, { batchSize: 0, progress: false })), 'rejected fit');
  const before = tf.memory().numTensors;
  const extra = new BernoulliRBM({ nVisible: 9, nHidden: 6, seed: 2 });
  extra.dispose();
  assert.equal(tf.memory().numTensors, before, 'construct + dispose');
  // dispose frees the carried training state too (chains, velocities)
  const trained = new BernoulliRBM({ nVisible: 9, nHidden: 6, seed: 2 });
  await trained.fit(x, pcd);
  await trained.fit(x, pt);
  trained.dispose();
  assert.equal(tf.memory().numTensors, before, 'fit (PCD, momentum, tempering) + dispose');
  x.dispose();
  rbm.dispose();
});

test('training on bars-and-stripes raises the exact log-likelihood; history and onEpoch work', async () => {
  await ready();
  const x = tf.tensor2d(barsAndStripes(3));
  const rbm = new BernoulliRBM({ nVisible: 9, nHidden: 8, seed: 4 });
  const seen: number[] = [];
  const hist = await rbm.fit(x, {
    epochs: 600,
    batchSize: 14,
    learningRate: 0.5,
    k: 1,
    persistent: true,
    progress: false,
    onEpoch: async (epoch, logs) => {
      seen.push(epoch);
      assert.ok(Number.isFinite(logs.reconstructionError));
      return epoch % 10 === 0 || epoch === 1 ? { logLikelihood: rbm.logLikelihood(x) } : undefined;
    },
  });
  assert.deepEqual(hist.epoch, seen);
  assert.equal(hist.logLikelihood.length, 600);
  assert.equal(hist.reconstructionError.length, 600);
  const ll = hist.logLikelihood;
  assert.ok(Number.isNaN(ll[1]), 'epochs without the metric hold NaN');
  // Uniform over the 14 patterns would be log(1/14) = -2.64; independent pixels (the initial model) about -6.2.
  assert.ok(ll[599] > ll[0] + 1, `log-likelihood ${ll[0]} -> ${ll[599]}`);
  // The history's value is measured during the last epoch (weights still moving), the method's after it.
  const r = rbm.reconstructionError(x);
  assertClose(hist.reconstructionError[599], r, 0.2 * r, 'reconstruction error: history vs method');
  x.dispose();
  rbm.dispose();
});

test("measureEvery: 'epoch' (default) records the last full batch's reconstruction error, 'batch' every batch's; training is the same", async () => {
  await ready();
  const x = tf.tensor2d(barsAndStripes(3)); // 14 rows; batches of 4, 4, 4, 2: the last full batch is rows 8..11
  // learningRate 0: the parameters stay put, so the recorded values are the method's on the measured rows.
  const still = new BernoulliRBM({ nVisible: 9, nHidden: 6, seed: 3 });
  const fixed = { epochs: 1, batchSize: 4, learningRate: 0, shuffle: false, progress: false as const };
  const byEpoch = await still.fit(x, fixed);
  const byBatch = await assertNoLeak(() => still.fit(x, { ...fixed, measureEvery: 'batch' }), 'fit measuring every batch');
  const measured = x.slice([8, 0], [4, 9]);
  assertClose(byEpoch.reconstructionError[0], still.reconstructionError(measured), 1e-5, 'one batch: rows 8..11');
  assertClose(byBatch.reconstructionError[0], still.reconstructionError(x), 1e-5, 'every batch: all 14 rows');
  assert.notEqual(byEpoch.reconstructionError[0], byBatch.reconstructionError[0]);
  await assert.rejects(still.fit(x, { measureEvery: 'sometimes' as never, progress: false }), /measureEvery must be one of 'epoch', 'batch'; got "sometimes"/);
  // The measurement draws no noise and moves nothing: the same seed trains to the same parameters either way
  // (CD, PCD with momentum, the Gaussian RBM), and the recorded errors are finite.
  const real = tf.tensor2d(new Random(5).normalArray(30 * 3), [30, 3]);
  const cases: Array<[string, () => BernoulliRBM | GaussianBernoulliRBM, tf.Tensor2D, Record<string, unknown>]> = [
    ['CD-1', () => new BernoulliRBM({ nVisible: 9, nHidden: 5, seed: 7 }), x, { batchSize: 4, learningRate: 0.1 }],
    ['PCD-2, momentum', () => new BernoulliRBM({ nVisible: 9, nHidden: 5, seed: 8 }), x, { batchSize: 4, k: 2, persistent: true, chains: 5, momentum: 0.5 }],
    ['Gaussian CD-1', () => new GaussianBernoulliRBM({ nVisible: 3, nHidden: 4, seed: 9, learnSigma: true }), real, { batchSize: 8, sigmaWarmupEpochs: 1 }],
  ];
  for (const [name, make, data, opts] of cases) {
    const train = async (measureEvery?: 'epoch' | 'batch') => {
      const m = make();
      const h = await m.fit(data, { epochs: 3, progress: false, ...opts, ...(measureEvery ? { measureEvery } : {}) });
      const values = (Object.values(m.getWeights()) as tf.Tensor[]).flatMap(readArray); // readArray disposes
      m.dispose();
      return { h, values };
    };
    const [plain, epoch, batch] = [await train(), await train('epoch'), await train('batch')];
    assert.deepEqual(epoch.values, batch.values, `${name}: same parameters`);
    assert.deepEqual(plain.h.reconstructionError, epoch.h.reconstructionError, `${name}: 'epoch' is the default`);
    assert.ok([...epoch.h.reconstructionError, ...batch.h.reconstructionError].every(Number.isFinite), `${name}: finite errors`);
  }
  tf.dispose([x, measured, real]);
  still.dispose();
});

test('same seed, same run; different seeds differ', async () => {
  await ready();
  const x = tf.tensor2d(barsAndStripes(3));
  const run = async (seed: number) => {
    const rbm = new BernoulliRBM({ nVisible: 9, nHidden: 5, seed });
    await rbm.fit(x, { epochs: 3, batchSize: 4, k: 1, persistent: true, progress: false });
    const s = await rbm.sample(2, { steps: 3 });
    const w = [...readArray(rbm.getWeights().W), ...readArray(s)];
    rbm.dispose();
    return w;
  };
  assert.deepEqual(await run(11), await run(11));
  assert.notDeepEqual(await run(11), await run(12));
  x.dispose();
});

test('visible biases start at the data log-odds (clipped), weights at N(0, 0.01^2)', async () => {
  await ready();
  const rows = [
    [1, 0, 1],
    [1, 0, 0],
    [1, 0, 1],
    [1, 0, 0],
  ];
  const rbm = new BernoulliRBM({ nVisible: 3, nHidden: 400, seed: 1 });
  const w = readArray(rbm.getWeights().W);
  const std = Math.sqrt(w.reduce((s, q) => s + q * q, 0) / w.length);
  assertClose(std, 0.01, 0.0005, 'initial weight std');
  const x = tf.tensor2d(rows);
  await rbm.fit(x, { epochs: 1, batchSize: 4, learningRate: 0, progress: false });
  const a = readArray(rbm.getWeights().visibleBias);
  assertClose(a[0], Math.log(0.999 / 0.001), 1e-3, 'a for an always-on pixel');
  assertClose(a[1], Math.log(0.001 / 0.999), 1e-3, 'a for an always-off pixel');
  assertClose(a[2], 0, 1e-5, 'a for a half-on pixel');
  x.dispose();
  rbm.dispose();
});

test('divergence stops with a clear error and loses nothing; the next fit starts new chains and velocities', async () => {
  await ready();
  const x = tf.tensor2d(barsAndStripes(3));
  const rbm = new BernoulliRBM({ nVisible: 9, nHidden: 5, seed: 0 });
  await assert.rejects(
    rbm.fit(x, { epochs: 5, batchSize: 2, learningRate: 3e38, progress: false }),
    /BernoulliRBM\.fit diverged at epoch 1: the weights became NaN or infinite\. The model is as it was before this fit/,
  );
  // PCD chains and momentum velocities are carried between fits; a diverged fit drops them (they may hold NaN).
  const pcd = { epochs: 2, batchSize: 4, persistent: true, chains: 6, momentum: 0.5, progress: false as const };
  await rbm.fit(x, pcd);
  const weightsOf = (m: BernoulliRBM): number[] => Object.values(m.getWeights()).flatMap(readArray);
  const kept = weightsOf(rbm);
  const carrying = tf.memory().numTensors;
  // Weights of 1e30 are finite but dead (float32 cannot resolve a step on them): a diverged fit as well.
  await assert.rejects(rbm.fit(x, { ...pcd, learningRate: 1e30 }), /diverged at epoch 3: .*The model is as it was before this fit \(after epoch 2\)/);
  assert.deepEqual(weightsOf(rbm), kept, 'the weights of epoch 2 are back');
  assert.ok(tf.memory().numTensors < carrying, 'the chains and velocities were dropped');
  const h = await rbm.fit(x, pcd);
  assert.deepEqual(h.epoch, [3, 4], 'the diverged fit counts no epoch');
  assert.ok(h.reconstructionError.every(Number.isFinite));
  assert.equal(tf.memory().numTensors, carrying, 'the next fit made new chains and velocities');
  x.dispose();
  rbm.dispose();
});

test('dataShape: images in, images out (typed), nVisible as its alias, conflicts named, checkpoints keep it', async () => {
  await ready();
  assert.throws(() => new BernoulliRBM({ nVisible: 5, dataShape: [2, 2, 1], nHidden: 2 }), /nVisible must equal the size of dataShape \[2, 2, 1\], 4; got 5/);
  assert.throws(() => new BernoulliRBM({ nHidden: 2 } as never), /nVisible or dataShape is required/);
  assert.throws(() => new BernoulliRBM({ dataShape: [2, 0], nHidden: 2 }), /dataShape\[1\] must be a positive integer; got 0/);
  const flat = new BernoulliRBM({ nVisible: 4, dataShape: [4], nHidden: 2, seed: 1 }); // both, agreeing
  assert.deepEqual(flat.dataShape, [4]);
  assert.equal(flat.describe(), 'BernoulliRBM 4-2');
  flat.dispose();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-rbm-shape-'));
  const before = tf.memory().numTensors;
  const rbm = new BernoulliRBM({ dataShape: [2, 2, 1], nHidden: 3, seed: 2 });
  try {
    assert.equal(rbm.nVisible, 4);
    assert.equal(rbm.describe(), 'BernoulliRBM 2x2x1-3');
    const images = tf.tensor4d([1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0], [3, 2, 2, 1]);
    const rows = images.reshape([3, 4]) as tf.Tensor2D;
    const wrong = tf.zeros([3, 2, 2, 2]);
    await assert.rejects(rbm.fit(wrong, { progress: false }), /x must have shape \[n, 4\] or \[n, 2, 2, 1\] with n >= 1; got \[3, 2, 2, 2\]/);
    const h = await rbm.fit(images, { epochs: 2, batchSize: 3, validation: rows, progress: false }); // images and rows alike
    assert.equal(h.valReconstructionError.length, 2);
    const s: tf.Tensor4D = await rbm.sample(5, { steps: 3, seed: 4 }); //               typed by dataShape: no cast
    assert.deepEqual(s.shape, [5, 2, 2, 1]);
    const again = await rbm.sample(5, { steps: 2, init: s, seed: 5 }); //               images as start states
    assert.deepEqual(again.shape, [5, 2, 2, 1]);
    const r: tf.Tensor4D = rbm.reconstruct(images);
    assert.deepEqual(r.shape, [3, 2, 2, 1]);
    const g: tf.Tensor4D = rbm.gibbs(images, 1, { seed: 1 });
    assert.deepEqual(g.shape, [3, 2, 2, 1]);
    assert.deepEqual(readArray(rbm.transform(images)), readArray(rbm.transform(rows)));
    assert.deepEqual(readArray(rbm.freeEnergy(images)), readArray(rbm.freeEnergy(rows)));
    assertClose(rbm.logLikelihood(images), rbm.logLikelihood(rows), 1e-6, 'log-likelihood of images and of rows');
    await rbm.save(dir);
    const back = await BernoulliRBM.load<[number, number, number]>(dir);
    assert.deepEqual(back.dataShape, [2, 2, 1]);
    const fromBack: tf.Tensor4D = await back.sample(2, { steps: 1, seed: 1 });
    assert.deepEqual(fromBack.shape, [2, 2, 2, 1]);
    back.dispose();
    tf.dispose([wrong, images, rows, s, again, r, g, fromBack]);
  } finally {
    rbm.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const vectors: tf.Tensor2D = await scopeSample(); //                                  nVisible models sample rows
  assert.deepEqual(vectors.shape, [2, 3]);
  vectors.dispose();
  assert.equal(tf.memory().numTensors, before, 'no tensors left');
});

/** A model built with nVisible samples `tf.Tensor2D` (checked by the compiler at the call above). */
async function scopeSample(): Promise<tf.Tensor2D> {
  const m = new BernoulliRBM({ nVisible: 3, nHidden: 2, seed: 1 });
  try {
    return await m.sample(2, { steps: 1 });
  } finally {
    m.dispose();
  }
}

test('save / load round trip; wrong kind refused', async () => {
  await ready();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-rbm-'));
  const x = tf.tensor2d(barsAndStripes(3));
  const rbm = new BernoulliRBM({ nVisible: 9, nHidden: 4, seed: 8 });
  await rbm.fit(x, { epochs: 2, batchSize: 7, progress: false });
  await rbm.save(path.join(dir, 'm'));
  const back = await BernoulliRBM.load(path.join(dir, 'm'));
  assert.equal(back.nVisible, 9);
  assert.equal(back.nHidden, 4);
  const a = rbm.getWeights();
  const b = back.getWeights();
  assert.deepEqual(Array.from(a.W.dataSync()), Array.from(b.W.dataSync()));
  assert.deepEqual(Array.from(a.visibleBias.dataSync()), Array.from(b.visibleBias.dataSync()));
  assert.deepEqual(Array.from(a.hiddenBias.dataSync()), Array.from(b.hiddenBias.dataSync()));
  assert.equal(back.logPartition(), rbm.logPartition());
  tf.dispose([...Object.values(a), ...Object.values(b)]);
  const { GaussianBernoulliRBM } = await import('../lib/rbm/bernoulli');
  await assert.rejects(GaussianBernoulliRBM.load(path.join(dir, 'm')), /holds a BernoulliRBM, not a GaussianBernoulliRBM/);
  x.dispose();
  rbm.dispose();
  back.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('reconstruct: sigmoid(a + P(h|v) W^T) by hand, consistent with reconstructionError, argument named, no leaks', async () => {
  await ready();
  const m = randomRBM(5, 3, 1.5, 21);
  const rbm = modelFrom(m);
  const v = tf.tensor2d(allStates(5)); // all 32 binary rows
  const frac = tf.tensor2d([[0.2, 0.9, 0.5, 0, 1]]); // mean-field input in [0, 1]
  try {
    for (const x of [v, frac]) {
      const r = rbm.reconstruct(x);
      assert.deepEqual(r.shape, [x.shape[0], 5]);
      // By hand: P(h|v) = sigmoid(b + v W) [n, 3]; E[v|h] = sigmoid(a + P(h|v) W^T) [n, 5].
      const expected = tf.tidy(() => {
        const W = tf.tensor2d(m.W);
        const ph = tf.sigmoid(tf.add(tf.matMul(x, W), tf.tensor1d(m.b)));
        return tf.sigmoid(tf.add(tf.matMul(ph, tf.transpose(W)), tf.tensor1d(m.a)));
      });
      const got = readArray(r);
      const want = readArray(expected);
      got.forEach((g, i) => assertClose(g, want[i], 1e-6, `reconstruct[${i}]`));
      // Same inputs, same numbers: no sampling.
      assert.deepEqual(readArray(rbm.reconstruct(x)), got);
      // reconstructionError = mean over rows of sum_i (v_i - reconstruct(v)_i)^2.
      const n = x.shape[0];
      const xs = Array.from(x.dataSync());
      let sum = 0;
      for (let i = 0; i < xs.length; i++) sum += (xs[i] - got[i]) ** 2;
      assertClose(rbm.reconstructionError(x), sum / n, 1e-6 * Math.max(1, sum / n), 'reconstructionError vs reconstruct');
    }
    await assertNoLeak(() => rbm.reconstruct(v).dispose(), 'reconstruct');
    const wide = tf.zeros([2, 6]);
    assert.throws(() => rbm.reconstruct(wide as tf.Tensor2D), /^RangeError: v must .*6/);
    await assertNoLeak(() => assert.throws(() => rbm.reconstruct(wide as tf.Tensor2D), /\bv\b/), 'refused reconstruct');
    wide.dispose();
    const big = tf.fill([1, 5], 2);
    assert.throws(() => rbm.reconstruct(big as tf.Tensor2D), /v must have values in \[0, 1\]/);
    big.dispose();
  } finally {
    v.dispose();
    frac.dispose();
    rbm.dispose();
  }
});

test('a disposed model says so, whatever is called', async () => {
  await ready();
  const rbm = new BernoulliRBM({ nVisible: 4, nHidden: 3, seed: 1 });
  const v = tf.tensor2d([[0, 1, 1, 0]]);
  rbm.dispose();
  rbm.dispose(); // twice is harmless
  const calls: Array<[string, () => unknown]> = [
    ['transform', () => rbm.transform(v)],
    ['freeEnergy', () => rbm.freeEnergy(v)],
    ['reconstruct', () => rbm.reconstruct(v)],
    ['reconstructionError', () => rbm.reconstructionError(v)],
    ['gibbs', () => rbm.gibbs(v)],
    ['logPartition', () => rbm.logPartition()],
    ['logLikelihood', () => rbm.logLikelihood(v)],
    ['getWeights', () => rbm.getWeights()],
    ['pseudoLogLikelihood', () => rbm.pseudoLogLikelihood(v)],
  ];
  for (const [name, call] of calls) assert.throws(call, /this BernoulliRBM has been disposed/, name);
  await assert.rejects(rbm.fit(v, { epochs: 1, progress: false }), /has been disposed/);
  await assert.rejects(rbm.sample(2, { steps: 1 }), /this BernoulliRBM has been disposed/);
  await assert.rejects(rbm.logPartitionAIS({ runs: 2 }), /has been disposed/);
  await assert.rejects(rbm.save(path.join(os.tmpdir(), 'genlab-disposed-rbm')), /has been disposed/);
  v.dispose();
});
