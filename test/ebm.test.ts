/**
 * EnergyModel (lib/ebm): the log-likelihood gradient equals positive minus negative phase on an enumerable set
 * (exact, and against finite differences), the hand-written input gradient against tf.grad, training bookkeeping
 * (metrics, leaks, seeds), conv models, save/load, the weights' moving average, option checks.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ready, tf } from '../lib/engine/backend';
import { EnergyModel } from '../lib/ebm';
import { trainableVariables } from '../lib/train/loop';
import { JsonValue, loadCheckpoint, saveCheckpoint } from '../lib/core/checkpoint';
import { correlatedGaussian, gaussianRing } from '../datasets/synthetic';
import { assertNoLeak, maxAbsDiff } from './helpers';

before(async () => {
  await ready();
});

/** The 9 points {-1, 0, 1}^2: a discrete "space" small enough to enumerate Z = sum_x exp(-E(x)). */
const GRID = [-1, 0, 1].flatMap((a) => [-1, 0, 1].map((b) => [a, b]));
/** Data: a multiset of grid points. */
const DATA = [[1, 1], [1, 1], [1, 0], [-1, -1], [0, 1], [1, 1]];

/** Exact mean log-likelihood on the grid: mean_data(-E(x)) - log sum_{x in grid} exp(-E(x)). */
function exactLogLikelihood(model: EnergyModel, data: tf.Tensor2D, grid: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => model.energy(data).neg().mean().sub(tf.logSumExp(model.energy(grid).neg())) as tf.Scalar);
}

test('the log-likelihood gradient equals positive minus negative phase (exact enumeration)', async () => {
  const model = new EnergyModel({ dataShape: [2], hiddenUnits: [8, 8], seed: 3 });
  const data = tf.tensor2d(DATA);
  const grid = tf.tensor2d(GRID);
  try {
    const vars = trainableVariables(model.network);
    // Exact gradient of the exact log-likelihood by autodiff through log Z.
    const { grads } = tf.variableGrads(() => exactLogLikelihood(model, data, grid), vars);
    const exact = vars.map((v) => grads[v.name]);
    // The model's contrastive gradient with negatives weighted by the exact p(x) = exp(-E(x)) / Z.
    const p = tf.tidy(() => tf.softmax(model.energy(grid).neg()) as tf.Tensor1D);
    await assertNoLeak(() => tf.dispose(model.phaseGradients(data, grid, { weights: p })), 'phaseGradients');
    const phases = model.phaseGradients(data, grid, { weights: p });
    // d log L / d theta = -(E_data[dE/dtheta] - E_model[dE/dtheta]) = -(positive - negative phase).
    let maxDiff = 0;
    let maxAbs = 0;
    exact.forEach((g, i) => {
      const d = tf.tidy(() => g.add(phases[i]).abs().max().dataSync()[0]);
      maxDiff = Math.max(maxDiff, d);
      maxAbs = Math.max(maxAbs, tf.tidy(() => g.abs().max().dataSync()[0]));
    });
    assert.ok(maxAbs > 1e-2, `the gradient is not trivially zero (max ${maxAbs})`);
    assert.ok(maxDiff < 1e-5, `exact gradient = -(positive - negative phase): max difference ${maxDiff}`);

    // Independent of autodiff: central finite differences of the exact log-likelihood in two weights.
    const h = 1e-2;
    for (const [vi, flatIndex] of [[0, 3], [vars.length - 2, 5]]) {
      const v = vars[vi];
      const base = v.dataSync().slice() as Float32Array;
      const at = (delta: number): number => {
        const w = base.slice();
        w[flatIndex] += delta;
        v.assign(tf.tensor(w, v.shape));
        return tf.tidy(() => exactLogLikelihood(model, data, grid).dataSync()[0]);
      };
      const fd = (at(h) - at(-h)) / (2 * h);
      v.assign(tf.tensor(base, v.shape));
      const phase = -phases[vi].dataSync()[flatIndex];
      assert.ok(Math.abs(fd - phase) < 2e-3, `finite difference ${fd} vs -(positive - negative) ${phase} for ${v.name}[${flatIndex}]`);
    }

    // Negatives drawn from p (Monte Carlo, as Langevin would supply them) give the same gradient within error.
    const pv = p.dataSync();
    let u = 12345;
    const draws: number[][] = [];
    for (let i = 0; i < 20000; i++) {
      u = (u * 1103515245 + 12345) % 2147483648;
      let r = u / 2147483648;
      let k = 0;
      while (k < pv.length - 1 && r >= pv[k]) r -= pv[k++];
      draws.push(GRID[k]);
    }
    const neg = tf.tensor2d(draws);
    const mc = model.phaseGradients(data, neg);
    exact.forEach((g, i) => {
      const d = tf.tidy(() => g.add(mc[i]).abs().max().dataSync()[0]);
      assert.ok(d < 0.05 * maxAbs + 1e-3, `sampled negative phase within Monte Carlo error: ${d}`);
    });
    tf.dispose([p, neg, ...exact, ...phases, ...mc]);
  } finally {
    tf.dispose([data, grid]);
    model.dispose();
  }
});

test('score = -grad E: the hand-written dense gradient agrees with tf.grad and finite differences', () => {
  const model = new EnergyModel({ dataShape: [3], hiddenUnits: [16, 8, 4], seed: 1 });
  const x = tf.randomNormal([5, 3], 0, 1, 'float32', 2) as tf.Tensor2D;
  try {
    const s = model.score(x);
    const auto = tf.tidy(() => tf.grad((v: tf.Tensor) => (model.network.apply(v) as tf.Tensor).sum())(x).neg());
    const diff = tf.tidy(() => s.sub(auto).abs().max().dataSync()[0]);
    assert.ok(diff < 1e-6, `score vs tf.grad: ${diff}`);
    const xs = x.arraySync();
    const h = 1e-2;
    const e = (pt: number[]): number => tf.tidy(() => model.energy(tf.tensor2d([pt])).dataSync()[0]);
    const sv = s.arraySync() as number[][];
    for (let j = 0; j < 3; j++) {
      const up = xs[0].slice();
      const dn = xs[0].slice();
      up[j] += h;
      dn[j] -= h;
      const fd = -(e(up) - e(dn)) / (2 * h);
      assert.ok(Math.abs(fd - sv[0][j]) < 1e-3, `score[0][${j}] ${sv[0][j]} vs finite difference ${fd}`);
    }
    assert.deepEqual(model.energy(x).shape, [5]);
    tf.dispose([s, auto]);
  } finally {
    x.dispose();
    model.dispose();
  }
});

test('fit: metrics per epoch, no leaked tensors, same seed same run; sample from noise and buffer', async () => {
  const x = tf.tidy(() => tf.randomNormal([300, 2], 0, 0.5, 'float32', 4).add(tf.tensor1d([1, -1])) as tf.Tensor2D);
  const run = async () => {
    const model = new EnergyModel({ dataShape: [2], hiddenUnits: [16, 16], seed: 7 });
    const history = await model.fit(x, { epochs: 2, batchSize: 100, bufferSize: 200, langevin: { steps: 5 }, progress: false });
    return { model, history };
  };
  const a = await assertNoLeak(async () => {
    const r = await run();
    r.model.dispose();
    return r.history;
  }, 'fit');
  for (const k of ['loss', 'energyPositive', 'energyNegative', 'langevinMove', 'scoreNorm', 'bufferEnergy']) {
    assert.equal(a[k]?.length, 2, `history.${k} has one value per epoch`);
    a[k].forEach((v) => assert.ok(Number.isFinite(v)));
  }
  const { model, history: b } = await run();
  assert.deepEqual(b.loss, a.loss, 'same seed, same losses');
  try {
    const s1 = await assertNoLeak(async () => {
      const s = await model.sample(50, { seed: 1, steps: 10 });
      const out = s.arraySync();
      s.dispose();
      return out;
    }, 'sample');
    assert.equal(s1.length, 50);
    const s2 = await model.sample(50, { seed: 1, steps: 10 });
    assert.deepEqual(s2.arraySync(), s1, 'sample is seeded');
    // Samples stay inside the data's range (the clip box).
    const [lo, hi] = tf.tidy(() => [x.min().dataSync()[0], x.max().dataSync()[0]]);
    s1.flat().forEach((v) => assert.ok(v >= lo - 1e-6 && v <= hi + 1e-6));
    const sb = await model.sample(20, { from: 'buffer', steps: 0, seed: 2 });
    assert.deepEqual(sb.shape, [20, 2]);
    const cont = await model.sample(20, { from: sb, steps: 3 });
    assert.deepEqual(cont.shape, [20, 2]);
    tf.dispose([s2, sb, cont]);
  } finally {
    model.dispose();
    x.dispose();
  }
});

test('a diverged fit puts the replay buffer back with the weights; validation scores held-out data against the buffer', async () => {
  const x = tf.tidy(() => tf.randomNormal([60, 2], 0, 1, 'float32', 6) as tf.Tensor2D);
  const held = tf.tidy(() => tf.randomNormal([30, 2], 0, 1, 'float32', 7) as tf.Tensor2D);
  const model = new EnergyModel({ dataShape: [2], hiddenUnits: [8], seed: 4 });
  const opts = { batchSize: 20, bufferSize: 40, langevin: { steps: 3 }, progress: false } as const;
  /** Every buffer entry (80 draws of 40 entries, no Langevin step), seeded: equal arrays mean equal buffers. */
  const bufferDraw = async () => {
    const s = await model.sample(80, { from: 'buffer', steps: 0, seed: 5 });
    const v = Array.from(s.dataSync());
    s.dispose();
    return v;
  };
  try {
    // alpha 0: valLoss = mean E(held-out) - mean E(buffer), the buffer as it stands after the epoch, both with the
    // current weights (the network's; `energy` would use their average)
    const h = await model.fit(x, { ...opts, epochs: 1, alpha: 0, validation: held });
    const eHeld = tf.tidy(() => (model.network.predict(held) as tf.Tensor).mean().dataSync()[0]);
    assert.ok(Math.abs(h.valEnergyPositive[0] - eHeld) < 1e-5, `valEnergyPositive ${h.valEnergyPositive[0]} vs mean E(held-out) ${eHeld}`);
    assert.ok(Math.abs(h.valLoss[0] - (eHeld - h.bufferEnergy[0])) < 1e-5, `valLoss ${h.valLoss[0]} = mean E(held-out) - bufferEnergy`);
    const before = await bufferDraw();
    await assert.rejects(model.fit(x, { ...opts, epochs: 2, learningRate: 1e30 }), /diverged at epoch 2/);
    const after = await bufferDraw();
    assert.ok(after.every(Number.isFinite), 'the buffer holds no NaN chains after a diverged fit');
    assert.deepEqual(after, before, 'the buffer is as after the last finite epoch');
    const again = await model.fit(x, { ...opts, epochs: 1 });
    assert.deepEqual(again.epoch, [2]);
    assert.ok(again.loss.every(Number.isFinite));
  } finally {
    tf.dispose([x, held]);
    model.dispose();
  }
});

test('conv energy for images: shapes, a training step, score', async () => {
  const model = new EnergyModel({ dataShape: [8, 8, 1], convFilters: [4, 8], convDenseUnits: 8, seed: 1 });
  const x = tf.tidy(() => tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 3));
  try {
    assert.equal(model.architecture, 'conv');
    assert.deepEqual(model.energy(x).shape, [16]);
    const s = model.score(x);
    assert.deepEqual(s.shape, [16, 8, 8, 1]);
    const fitOpts = { epochs: 1, batchSize: 8, bufferSize: 32, langevin: { steps: 2 }, progress: false } as const;
    await model.fit(x, fitOpts); // creates the optimiser's state, which lives with the model
    const h = await assertNoLeak(() => model.fit(x, fitOpts), 'conv fit');
    assert.equal(h.loss.length, 1);
    const smp = await model.sample(3, { steps: 2, seed: 1 });
    assert.deepEqual(smp.shape, [3, 8, 8, 1]);
    tf.dispose([s, smp]);
  } finally {
    x.dispose();
    model.dispose();
  }
});

test('save / load: same energies, buffer and range restored; without the buffer it samples from noise; refuses another kind', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-ebm-'));
  const x = tf.tidy(() => tf.randomNormal([200, 2], 0, 1, 'float32', 5) as tf.Tensor2D);
  const model = new EnergyModel({ dataShape: [2], hiddenUnits: [8], seed: 2 });
  try {
    await model.fit(x, { epochs: 1, batchSize: 100, bufferSize: 50, langevin: { steps: 3 }, progress: false });
    await model.save(path.join(dir, 'ebm'));
    const back = await EnergyModel.load(path.join(dir, 'ebm'));
    try {
      assert.deepEqual(back.energy(x).arraySync(), model.energy(x).arraySync());
      const a = await model.sample(10, { from: 'buffer', steps: 2, seed: 9 });
      const b = await back.sample(10, { from: 'buffer', steps: 2, seed: 9 });
      assert.deepEqual(b.arraySync(), a.arraySync(), 'the buffer and the range come back');
      tf.dispose([a, b]);
      assert.equal(back.describe(), model.describe(), 'the range the first fit took comes back');
      assert.match(back.describe(), /^dense 2-8-1, average 0\.999, data in \[-2\.\d+, 2\.\d+\], Langevin step [\d.]+ noise [\d.]+$/);
      await model.save(path.join(dir, 'light'), { buffer: false });
      const light = await EnergyModel.load(path.join(dir, 'light'));
      try {
        assert.deepEqual(light.energy(x).arraySync(), model.energy(x).arraySync(), 'the weights without the buffer');
        const c = await model.sample(10, { steps: 2, seed: 9 });
        const d = await light.sample(10, { steps: 2, seed: 9 });
        assert.deepEqual(d.arraySync(), c.arraySync(), 'samples from noise need no buffer');
        tf.dispose([c, d]);
        await assert.rejects(() => light.sample(2, { from: 'buffer' }), /needs a replay buffer/);
        await assert.rejects(() => model.save(path.join(dir, 'bad'), { buffer: 1 as unknown as boolean }), /buffer must be a boolean; got 1/);
      } finally {
        light.dispose();
      }
      await saveCheckpoint(path.join(dir, 'other'), { kind: 'VAE', config: {}, tensors: {} });
      await assert.rejects(() => EnergyModel.load(path.join(dir, 'other')), /VAE/);
    } finally {
      back.dispose();
    }
  } finally {
    model.dispose();
    x.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('small vectors: Langevin step and noise from the data at the first fit; options passed win; old checkpoints keep the fixed ones', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-ebm-'));
  const ring = gaussianRing({ n: 1000, seed: 1 });
  const broad = correlatedGaussian({ n: 1000, rho: 0.8, seed: 1 });
  const fitOpts = { epochs: 1, batchSize: 500, bufferSize: 20, langevin: { steps: 1 }, progress: false } as const;
  const settings = (m: EnergyModel): number[] => {
    const got = /, Langevin step ([\d.e-]+) noise ([\d.e-]+)$/.exec(m.describe());
    assert.ok(got, `no Langevin settings in ${m.describe()}`);
    return [Number(got[1]), Number(got[2])];
  };
  const onRing = new EnergyModel({ dataShape: [2], hiddenUnits: [8], seed: 3 });
  const onBroad = new EnergyModel({ dataShape: [2], hiddenUnits: [8], seed: 3 });
  try {
    assert.doesNotMatch(onRing.describe(), /Langevin/, 'none before fit');
    await onRing.fit(ring, fitOpts);
    await onBroad.fit(broad, fitOpts);
    // the ring's modes (0.02 wide): about the fixed 0.005 noise at temperature ~0.00125; std 1: sigma / 4 at 0.5
    const [ringStep, ringNoise] = settings(onRing);
    assert.ok(ringNoise > 0.004 && ringNoise < 0.007 && ringStep > 0.007 && ringStep < 0.015, `ring: step ${ringStep} noise ${ringNoise}`);
    const [broadStep, broadNoise] = settings(onBroad);
    assert.ok(Math.abs(broadNoise - 0.25) < 0.02 && Math.abs(broadStep - 0.0625) < 0.01, `broad: step ${broadStep} noise ${broadNoise}`);
    // a second fit keeps them; options passed win over them
    await onBroad.fit(broad, fitOpts);
    assert.deepEqual(settings(onBroad), [broadStep, broadNoise]);
    const fixed = { steps: 3, stepSize: 0.01, noise: 0.005, seed: 9 };
    const mine = await onBroad.sample(20, { steps: 3, seed: 9 });
    const asked = await onBroad.sample(20, fixed);
    assert.notDeepEqual(mine.arraySync(), asked.arraySync(), 'the data-dependent defaults differ from the fixed ones');
    // a checkpoint written before the data-dependent settings (no `langevin` in its config) samples with the fixed ones
    await onBroad.save(path.join(dir, 'new'), { buffer: false });
    const saved = await loadCheckpoint(path.join(dir, 'new'), 'EnergyModel');
    const { langevin, ...oldConfig } = saved.config as Record<string, JsonValue>;
    assert.ok(langevin !== undefined);
    await saveCheckpoint(path.join(dir, 'old'), { kind: 'EnergyModel', config: oldConfig, tensors: saved.tensors });
    tf.dispose(Object.values(saved.tensors));
    const old = await EnergyModel.load(path.join(dir, 'old'));
    try {
      assert.match(old.describe(), /data in \[[^\]]+\]$/);
      const oldSamples = await old.sample(20, { steps: 3, seed: 9 });
      assert.deepEqual(oldSamples.arraySync(), asked.arraySync());
      oldSamples.dispose();
    } finally {
      old.dispose();
    }
    tf.dispose([mine, asked]);
  } finally {
    [onRing, onBroad].forEach((m) => m.dispose());
    tf.dispose([ring, broad]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('weightAverage: fit keeps an average of the weights; energy, score and sample use it; saved and loaded; old checkpoints load without it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-ebm-'));
  const x = correlatedGaussian({ n: 200, rho: 0.8, seed: 4 });
  const model = new EnergyModel({ dataShape: [2], hiddenUnits: [8], seed: 2 });
  const live = (m: EnergyModel): number[] => tf.tidy(() => Array.from((m.network.predict(x) as tf.Tensor).dataSync()));
  const energies = (m: EnergyModel): number[] => tf.tidy(() => Array.from(m.energy(x).dataSync()));
  const draw = async (m: EnergyModel): Promise<number[]> => {
    const s = await m.sample(20, { steps: 5, seed: 9 });
    const v = Array.from(s.dataSync());
    s.dispose();
    return v;
  };
  /** `saved`'s checkpoint rewritten as one without the average (as before `weightAverage`), `net` as its network. */
  const withoutAverage = async (saved: string, to: string, net: 'network' | 'networkAverage'): Promise<EnergyModel> => {
    const c = await loadCheckpoint(path.join(dir, saved), 'EnergyModel');
    const { weightAverage, ...config } = c.config as Record<string, JsonValue>;
    assert.equal(weightAverage, 0.999);
    const tensors = Object.fromEntries(Object.entries(c.tensors).filter(([k]) => k.startsWith(`${net}/`)).map(([k, t]) => [k.replace(`${net}/`, 'network/'), t]));
    await saveCheckpoint(path.join(dir, to), { kind: 'EnergyModel', config, tensors });
    tf.dispose(Object.values(c.tensors));
    return EnergyModel.load(path.join(dir, to));
  };
  try {
    assert.match(model.describe(), /^dense 2-8-1, average 0\.999$/, 'the default for small vectors');
    const wide = new EnergyModel({ dataShape: [17], hiddenUnits: [4], seed: 1 });
    assert.equal(wide.describe(), 'dense 17-4-1', 'none for wider vectors');
    wide.dispose();
    // energy() and predict() may take different kernels (the tensorflow backend's compiled graph): equal to float32 rounding
    assert.ok(maxAbsDiff(energies(model), live(model)) < 1e-6, 'before fit: no average yet, the weights as they are');
    await model.fit(x, { epochs: 2, batchSize: 50, bufferSize: 100, langevin: { steps: 2 }, progress: false }); // 8 Adam steps
    const gap = Math.max(...energies(model).map((e, i) => Math.abs(e - live(model)[i])));
    assert.ok(gap > 1e-4, `energy uses the average, not the current weights: largest difference ${gap}`);
    await model.save(path.join(dir, 'new'), { buffer: false });
    const saved = await loadCheckpoint(path.join(dir, 'new'), 'EnergyModel');
    assert.deepEqual(saved.tensors['networkAverageSteps/0'].arraySync(), 8, 'one update per Adam step');
    tf.dispose(Object.values(saved.tensors));
    const back = await EnergyModel.load(path.join(dir, 'new'));
    // the average's weights as a plain network, and the current weights as a plain network (an old checkpoint)
    const averaged = await withoutAverage('new', 'averaged', 'networkAverage');
    const old = await withoutAverage('new', 'old', 'network');
    try {
      assert.deepEqual(energies(back), energies(model), 'the average comes back');
      assert.deepEqual(live(back), live(model), 'the current weights come back');
      assert.equal(back.describe(), model.describe());
      assert.deepEqual(energies(averaged), energies(model), 'energy is the averaged network');
      const s = tf.tensor2d([[0.3, -0.2], [1, 1]]);
      assert.deepEqual(tf.tidy(() => averaged.score(s).arraySync()), tf.tidy(() => model.score(s).arraySync()), 'score too');
      s.dispose();
      const mine = await draw(model);
      assert.deepEqual(await draw(averaged), mine, 'sample runs Langevin on the averaged network');
      assert.deepEqual(await draw(back), mine);
      assert.notDeepEqual(await draw(old), mine, 'the current weights sample differently');
      // a checkpoint without the option and the average loads as before: no average, its network as it is
      assert.doesNotMatch(old.describe(), /average/);
      assert.ok(maxAbsDiff(energies(old), live(model)) < 1e-6, 'an old checkpoint: energy is its network');
      // training continues from the current weights and the saved count
      await back.fit(x, { epochs: 1, batchSize: 50, bufferSize: 100, langevin: { steps: 2 }, progress: false });
      await back.save(path.join(dir, 'again'), { buffer: false });
      const again = await loadCheckpoint(path.join(dir, 'again'), 'EnergyModel');
      assert.deepEqual(again.tensors['networkAverageSteps/0'].arraySync(), 12);
      tf.dispose(Object.values(again.tensors));
    } finally {
      [back, averaged, old].forEach((m) => m.dispose());
    }
    // disposed while sampling: the model's own error, nothing left behind by the swapped-in average
    const base = tf.memory().numTensors;
    const doomed = await EnergyModel.load(path.join(dir, 'new'));
    const long = doomed.sample(500, { steps: 100000, seed: 1 });
    setTimeout(() => doomed.dispose(), 300);
    await assert.rejects(long, /this EnergyModel has been disposed/);
    assert.equal(tf.memory().numTensors, base, 'a sample interrupted by dispose leaves no tensor');
  } finally {
    model.dispose();
    x.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('options are checked by name', () => {
  assert.throws(() => new EnergyModel({ dataShape: [2], hiddenunits: [4] } as never), /unknown option 'hiddenunits' for EnergyModel; did you mean 'hiddenUnits'\?/);
  assert.throws(() => new EnergyModel({ dataShape: [2, 2] }), /dataShape must be \[D\] or \[height, width, channels\]; got \[2, 2\]/);
  assert.throws(() => new EnergyModel({ dataShape: [2], weightAverage: 1 }), /weightAverage must be .*; got 1/);
  const model = new EnergyModel({ dataShape: [2], hiddenUnits: [4], seed: 1 });
  const x = tf.zeros([4, 2]);
  try {
    return Promise.all([
      assert.rejects(() => model.fit(x, { epochs: 1, learningrate: 1 } as never), /did you mean 'learningRate'/),
      assert.rejects(() => model.fit(x, { epochs: 1, langevin: { stepsize: 1 } } as never), /unknown option 'stepsize' for EnergyModel.fit langevin/),
      assert.rejects(() => model.fit(x, { epochs: 1, freshFraction: 2 }), /freshFraction must be in \[0, 1\]/),
      assert.rejects(() => model.sample(2, { from: 'buffer' }), /needs a replay buffer/),
      assert.rejects(() => model.sample(2, { form: 'noise' } as never), /did you mean 'from'/),
    ]).then(() => {
      assert.throws(() => model.energy(tf.zeros([3, 5])), /x must have shape \[n, 2\]/);
    });
  } finally {
    setImmediate(() => {
      x.dispose();
      model.dispose();
    });
  }
});
