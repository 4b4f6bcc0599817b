/**
 * The one training loop (lib/train): the History record, validation, early stopping, onEpoch metrics, divergence,
 * and resuming -- a second fit continues the first (epoch numbers, optimiser state, chains), so fit(2) then fit(3)
 * equals fit(5) bit for bit, and `reset: true` starts afresh.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf, ready } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { History, measuredBatch, resolveLoopOptions, runEpochs, EpochLoopSpec } from '../lib/train/loop';
import { TrainingState } from '../lib/train/state';
import { BernoulliRBM, GaussianBernoulliRBM } from '../lib/rbm/bernoulli';
import { VAE } from '../lib/vae/vae';
import { Autoencoder } from '../lib/autoencoder/autoencoder';
import { reparameterise } from '../lib/nets/latent';
import { barsAndStripes } from './rbm-brute';
import { assertNoLeak } from './helpers';

/** A loop spec whose loss in epoch e (one batch per epoch) is `losses[step]`, for testing the bookkeeping. */
function scripted(x: tf.Tensor2D, losses: number[], extra: Partial<EpochLoopSpec> = {}): EpochLoopSpec {
  return {
    x,
    epochs: losses.length,
    batchSize: x.shape[0],
    shuffle: true,
    rng: new Random(1),
    title: 'scripted',
    progress: false,
    metricNames: ['loss', 'other'],
    caller: 'Scripted.fit',
    learningRate: 0.1,
    step: (_xb, _size, step) => tf.tensor1d([losses[step], 2 * losses[step]]),
    ...extra,
  };
}

test('runEpochs: History with epoch and seconds, validation as val*, onEpoch extras NaN-padded, no leaks', async () => {
  await ready();
  const x = tf.ones([6, 2]) as tf.Tensor2D;
  const v = tf.zeros([3, 2]) as tf.Tensor2D;
  const seenValidation: number[] = [];
  const h = await assertNoLeak(() =>
    runEpochs(
      scripted(x, [3, 2, 1], {
        batchSize: 4, // two batches of 4 and 2 rows: means weighted by rows
        step: (_xb, size) => tf.tensor1d([size, 1]),
        validationData: v,
        validate: (data) => {
          seenValidation.push(data.shape[0]);
          return { loss: 7, other: 8 };
        },
        onEpoch: (epoch) => (epoch === 2 ? { late: 5 } : undefined),
      }),
    ),
  );
  assert.deepEqual(h.epoch, [1, 2, 3]);
  assert.equal(h.seconds.length, 3);
  assert.ok(h.seconds.every((s) => s >= 0 && Number.isFinite(s)));
  assert.deepEqual(h.loss, [(4 * 4 + 2 * 2) / 6, (4 * 4 + 2 * 2) / 6, (4 * 4 + 2 * 2) / 6]);
  assert.deepEqual(h.other, [1, 1, 1]);
  assert.deepEqual(h.valLoss, [7, 7, 7]);
  assert.deepEqual(h.valOther, [8, 8, 8]);
  assert.deepEqual(seenValidation, [3, 3, 3]);
  assert.ok(Number.isNaN(h.late[0]) && h.late[1] === 5 && Number.isNaN(h.late[2]), `late: ${h.late}`);
  tf.dispose([x, v]);
});

test('runEpochs: stepRows alone gets every epoch\'s shuffled batches as rows of x; step or stepRows is required', async () => {
  await ready();
  const x = tf.ones([7, 2]) as tf.Tensor2D;
  const seen: number[][] = [];
  await runEpochs({
    ...scripted(x, [1, 1]),
    step: undefined,
    batchSize: 3, // batches of 3, 3 and 1
    rng: new Random(4),
    stepRows: (xAll, rows) => {
      assert.equal(xAll, x);
      seen.push(Array.from(rows.dataSync()));
      return tf.tensor1d([1, 2]);
    },
  });
  const expected = new Random(4);
  const want = [0, 1].flatMap(() => {
    const order = Array.from(expected.permutation(7));
    return [order.slice(0, 3), order.slice(3, 6), order.slice(6)];
  });
  assert.deepEqual(seen, want);
  await assert.rejects(runEpochs({ ...scripted(x, [1]), step: undefined }), /Scripted.fit: runEpochs needs step or stepRows/);
  x.dispose();
});

test("runEpochs measureEvery: 'epoch' asks the step to measure the last full batch only and records its means", async () => {
  await ready();
  assert.deepEqual([measuredBatch(7, 3), measuredBatch(6, 3), measuredBatch(5, 100), measuredBatch(10000, 100)], [1, 1, 0, 99]);
  const x = tf.ones([7, 2]) as tf.Tensor2D; // batches of 3, 3 and 1 rows: the last full batch is the second
  const asked: boolean[] = [];
  // metric = 10 * rows + step index, so the recorded mean says which batch was measured
  const step = (_xb: tf.Tensor2D, size: number, s: number, measure: boolean) => (asked.push(measure), measure ? tf.tensor1d([10 * size + s, 1]) : null);
  const h = await assertNoLeak(() => runEpochs(scripted(x, [1, 1], { batchSize: 3, measureEvery: 'epoch', step })));
  assert.deepEqual(asked, [false, true, false, false, true, false]);
  assert.deepEqual(h.loss, [31, 34]);
  assert.deepEqual(h.other, [1, 1]);
  // metrics a step returns for a batch not measured are ignored (and freed)
  const always = await assertNoLeak(() =>
    runEpochs(scripted(x, [1], { batchSize: 3, measureEvery: 'epoch', step: (_xb, size, s) => tf.tensor1d([10 * size + s, 1]) })),
  );
  assert.deepEqual(always.loss, [31]);
  // the default measures every batch: row-weighted means over the epoch
  asked.length = 0;
  const every = await runEpochs(scripted(x, [1], { batchSize: 3, step }));
  assert.deepEqual(asked, [true, true, true]);
  assert.deepEqual(every.loss, [(3 * 30 + 3 * 31 + 1 * 12) / 7]);
  await assert.rejects(runEpochs(scripted(x, [1], { step: () => null })), /Scripted.fit: the training step returned no metrics for a measured batch/);
  x.dispose();
});

test('early stopping: patience, minDelta, mode, default monitor, unknown monitor named', async () => {
  await ready();
  const x = tf.ones([4, 2]) as tf.Tensor2D;
  const run = (losses: number[], es: EpochLoopSpec['earlyStopping'], extra: Partial<EpochLoopSpec> = {}) =>
    runEpochs(scripted(x, losses, { earlyStopping: es, ...extra }));
  // best 2 at epoch 2; epochs 3 and 4 do not improve: patience 2 stops after epoch 4
  assert.deepEqual((await run([3, 2, 2.5, 2.1, 1, 0.5], { patience: 2 })).epoch, [1, 2, 3, 4]);
  // patience 0 (Keras' default) stops at the first epoch without improvement
  assert.deepEqual((await run([3, 2, 2.5, 1], {})).epoch, [1, 2, 3]);
  // minDelta: 2 -> 1.8 is not an improvement of more than 0.5
  assert.deepEqual((await run([3, 2, 1.8, 1], { minDelta: 0.5 })).epoch, [1, 2, 3]);
  // mode 'max' on another metric
  assert.deepEqual((await run([1, 2, 3, 2, 4], { monitor: 'other', mode: 'max' })).epoch, [1, 2, 3, 4]);
  // with validation data the default monitor is valLoss
  const v = tf.zeros([2, 2]) as tf.Tensor2D;
  let k = 0;
  const val = [5, 4, 6, 1];
  const h = await run([3, 2, 1, 0], { patience: 0 }, { validationData: v, validate: () => ({ loss: val[k++], other: 0 }) });
  assert.deepEqual(h.epoch, [1, 2, 3]);
  // a metric onEpoch returns on odd epochs only: the even epochs neither improve nor use up the patience
  const ll: Record<number, number> = { 1: 0, 3: 1, 5: 0.5, 7: 2 };
  const h2 = await run([1, 1, 1, 1, 1, 1, 1], { monitor: 'll', mode: 'max', patience: 1 }, { onEpoch: (e) => (e in ll ? { ll: ll[e] } : undefined) });
  assert.deepEqual(h2.epoch, [1, 2, 3, 4, 5]);
  await assert.rejects(run([1, 2], { monitor: 'valLos' }), /earlyStopping.monitor 'valLos' is not a recorded metric; recorded: 'loss', 'other'/);
  assert.throws(() => resolveLoopOptions('X.fit', { earlyStopping: { patiance: 2 } as never }), /unknown option 'patiance' for X.fit earlyStopping; did you mean 'patience'\?/);
  assert.throws(() => resolveLoopOptions('X.fit', { earlyStopping: { patience: -1 } }), /earlyStopping.patience/);
  assert.throws(() => resolveLoopOptions('X.fit', { reset: 1 as never }), /reset must be true or false; got 1/);
  tf.dispose([x, v]);
});

test('runEpochs: a TrainingState continues epoch numbers and the batch counter; divergence names the epoch', async () => {
  await ready();
  const x = tf.ones([4, 2]) as tf.Tensor2D;
  const state = new TrainingState();
  const steps: number[] = [];
  const spec = (epochs: number) =>
    scripted(x, [1, 1, 1, 1, 1, 1], { epochs, batchSize: 2, state, step: (_xb, _n, s) => (steps.push(s), tf.tensor1d([1, 1])) });
  assert.deepEqual((await runEpochs(spec(2))).epoch, [1, 2]);
  const h = await runEpochs(spec(3));
  assert.deepEqual(h.epoch, [3, 4, 5]);
  assert.deepEqual(steps, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(state.epoch, 5);
  assert.equal(state.step, 10);
  state.reset();
  assert.deepEqual((await runEpochs(spec(1))).epoch, [1]);
  // Divergence: the epoch is named, and the counter keeps the last completed epoch.
  state.reset();
  await assert.rejects(runEpochs(scripted(x, [1, NaN], { state })), /Scripted.fit diverged at epoch 2: the loss is NaN/);
  assert.equal(state.epoch, 1);
  await assert.rejects(
    runEpochs(scripted(x, [1], { parametersFinite: () => false, divergenceAdvice: 'Try less.' })),
    /Scripted.fit diverged at epoch 1: the weights became NaN or infinite. Try less./,
  );
  x.dispose();
});

/** All parameters of an RBM as one array (exact comparison). */
function rbmParams(rbm: BernoulliRBM | GaussianBernoulliRBM): number[] {
  const w = rbm.getWeights();
  const out = (Object.values(w) as tf.Tensor[]).flatMap((t) => Array.from(t.dataSync()));
  tf.dispose(Object.values(w));
  return out;
}

/** The history without its wall-clock seconds (which differ run to run). */
function withoutSeconds(h: History): History {
  const { seconds: _s, ...rest } = h;
  return rest;
}

/** The tail of a history from index `from` (what a resumed fit should report). */
function tail(h: History, from: number): History {
  return Object.fromEntries(Object.entries(withoutSeconds(h)).map(([k, v]) => [k, v.slice(from)]));
}

test('RBM: fit 2 + fit 3 equals fit 5 bit for bit (PCD chains, momentum, tempering, shuffling carry over); reset restarts', async () => {
  await ready();
  const x = tf.tensor2d(barsAndStripes(3));
  for (const extra of [{ persistent: true, chains: 6, momentum: 0.5 }, { persistent: true, chains: 4, parallelTempering: 3 }, { k: 2 }]) {
    const opts = { batchSize: 5, learningRate: 0.1, progress: false as const, ...extra };
    const one = new BernoulliRBM({ nVisible: 9, nHidden: 5, seed: 3 });
    const two = new BernoulliRBM({ nVisible: 9, nHidden: 5, seed: 3 });
    const long = await one.fit(x, { ...opts, epochs: 5, seed: 11 });
    const first = await two.fit(x, { ...opts, epochs: 2, seed: 11 });
    const second = await assertNoLeak(() => two.fit(x, { ...opts, epochs: 3 }), 'resumed fit');
    const what = JSON.stringify(extra);
    assert.deepEqual(first.epoch, [1, 2], what);
    assert.deepEqual(second.epoch, [3, 4, 5], what);
    assert.deepEqual(withoutSeconds(second), tail(long, 2), `${what}: resumed history equals the long fit's last epochs`);
    assert.deepEqual(rbmParams(two), rbmParams(one), `${what}: weights after 2 + 3 epochs equal 5 epochs`);
    // reset: epochs from 1 again, new chains and velocities (no tensors gained or lost), weights kept
    const kept = rbmParams(two);
    const before = tf.memory().numTensors;
    const again = await two.fit(x, { ...opts, epochs: 1, reset: true });
    assert.deepEqual(again.epoch, [1], what);
    assert.equal(tf.memory().numTensors, before, `${what}: reset replaces the carried state`);
    assert.notDeepEqual(rbmParams(two), kept);
    one.dispose();
    two.dispose();
  }
  // A resumed fit of the Gaussian RBM with a learned sigma too (its warm-up ends inside the second fit).
  const r = new Random(4);
  const g = tf.tensor2d(Array.from({ length: 40 }, () => [r.normal(), r.normal() + 1]));
  const opts = { batchSize: 8, learningRate: 0.02, persistent: true, momentum: 0.3, progress: false as const, sigmaWarmupEpochs: 2 };
  const a = new GaussianBernoulliRBM({ nVisible: 2, nHidden: 3, seed: 1, learnSigma: true });
  const b = new GaussianBernoulliRBM({ nVisible: 2, nHidden: 3, seed: 1, learnSigma: true });
  await a.fit(g, { ...opts, epochs: 4 });
  await b.fit(g, { ...opts, epochs: 1 });
  await b.fit(g, { ...opts, epochs: 3 });
  assert.deepEqual(rbmParams(b), rbmParams(a), 'Gaussian RBM: 1 + 3 epochs equal 4');
  tf.dispose([x, g]);
  a.dispose();
  b.dispose();
});

test('VAE and Autoencoder: fit 2 + fit 3 equals fit 5 bit for bit (Adam moments, KL warm-up carry over); reset restarts', async () => {
  await ready();
  const r = new Random(5);
  const x = tf.tensor2d(Array.from({ length: 24 }, () => Array.from({ length: 6 }, () => (r.next() < 0.4 ? 1 : 0))));
  const weights = (m: VAE | Autoencoder) => {
    const ws = [...(m as unknown as { encoder: tf.LayersModel }).encoder.getWeights(), ...(m as unknown as { decoder: tf.LayersModel }).decoder.getWeights()];
    return ws.flatMap((t) => Array.from(t.dataSync()));
  };
  const makeVae = () => new VAE({ inputDim: 6, hiddenUnits: [5], latentDim: 2, likelihood: 'bernoulli', seed: 2 });
  const vopts = { batchSize: 8, learningRate: 0.01, klWarmup: 3, progress: false as const, validation: x };
  const v1 = makeVae();
  const v2 = makeVae();
  const long = await v1.fit(x, { ...vopts, epochs: 5 });
  await v2.fit(x, { ...vopts, epochs: 2 });
  const second = await assertNoLeak(() => v2.fit(x, { ...vopts, epochs: 3 }), 'resumed VAE fit');
  assert.deepEqual(second.epoch, [3, 4, 5]);
  assert.deepEqual(withoutSeconds(second), tail(long, 2), 'VAE: resumed history (beta of the warm-up included) equals the long fit');
  assert.deepEqual(weights(v2), weights(v1), 'VAE: weights after 2 + 3 epochs equal 5 epochs');
  const again = await v2.fit(x, { ...vopts, epochs: 1, reset: true });
  assert.deepEqual(again.epoch, [1]);
  assert.ok(again.beta[0] < 1, `reset restarts the KL warm-up: beta ${again.beta[0]}`);
  v1.dispose();
  v2.dispose();

  const makeAe = () => new Autoencoder({ inputDim: 6, hiddenUnits: [4], codeDim: 2, loss: 'bce', seed: 4 });
  const aopts = { batchSize: 8, learningRate: 0.01, progress: false as const };
  const a1 = makeAe();
  const a2 = makeAe();
  const along = await a1.fit(x, { ...aopts, epochs: 5 });
  await a2.fit(x, { ...aopts, epochs: 2 });
  const asecond = await a2.fit(x, { ...aopts, epochs: 3 });
  assert.deepEqual(asecond.epoch, [3, 4, 5]);
  assert.deepEqual(withoutSeconds(asecond), tail(along, 2));
  assert.deepEqual(weights(a2), weights(a1), 'Autoencoder: weights after 2 + 3 epochs equal 5 epochs');
  // reset: a new Adam state, so the next step differs from the resumed one
  const a3 = makeAe();
  await a3.fit(x, { ...aopts, epochs: 5 });
  await a3.fit(x, { ...aopts, epochs: 1, reset: true });
  await a2.fit(x, { ...aopts, epochs: 1 });
  assert.notDeepEqual(weights(a3), weights(a2), 'reset: fresh Adam moments');
  // Early stopping through a model's fit.
  const a4 = makeAe();
  const hs = await a4.fit(x, { ...aopts, epochs: 50, learningRate: 1e-9, earlyStopping: { patience: 1, minDelta: 1e-3 } });
  assert.ok(hs.epoch.length < 50, `stopped early after ${hs.epoch.length} epochs`);
  // Disposing a trained model frees its optimiser state too.
  const before = tf.memory().numTensors;
  const a5 = makeAe();
  await a5.fit(x, { ...aopts, epochs: 1 });
  a5.dispose();
  assert.equal(tf.memory().numTensors, before, 'fit + dispose');
  [a1, a2, a3, a4].forEach((m) => m.dispose());
  x.dispose();
});

test('reparameterise: z = mean + exp(logVar / 2) * eps, broadcasting over sample draws', async () => {
  await ready();
  const mean = tf.tensor2d([[1, -2]]);
  const logVar = tf.tensor2d([[Math.log(4), 0]]);
  const eps = tf.tensor3d([[[0.5, 1]], [[-1, 2]]]); // [2, 1, 2]
  const z = reparameterise(mean, logVar, eps);
  assert.deepEqual(z.shape, [2, 1, 2]);
  const got = Array.from(z.dataSync());
  [2, -1, -1, 0].forEach((e, i) => assert.ok(Math.abs(got[i] - e) < 1e-6, `z[${i}] = ${got[i]}, expected ${e}`));
  tf.dispose([mean, logVar, eps, z]);
});
