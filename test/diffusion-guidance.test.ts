/**
 * Class-conditional DDPM with classifier-free guidance (Ho & Salimans 2022): the options and labels checked by name;
 * the guided eps (1 + w) eps_cond - w eps_uncond on a fixed network, and the sampler using exactly it; label dropout
 * training the null label; on the 8-Gaussian ring (label = mode) conditional samples land at the mode asked for,
 * unconditional ones cover the ring, and guidance narrows the samples of overlapping classes; save / load; leaks.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, ready } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { DDPM } from '../lib/diffusion/ddpm';
import type { MlpNetworkOptions } from '../lib/diffusion/networks';
import { gaussianRing, gaussianRingModes } from '../datasets/synthetic';
import { assertNoLeak, maxAbsDiff } from './helpers';

const SMALL: MlpNetworkOptions = { kind: 'mlp', hiddenUnits: [16, 16], embedDim: 8 };
const MODES = gaussianRingModes(); // 8 modes on the circle of radius 2

/** The mode nearest each point (its label) and the distance to it. */
function nearestMode(points: number[][]): { mode: number; distance: number }[] {
  return points.map((p) => {
    let mode = 0;
    let distance = Infinity;
    MODES.forEach((q, k) => {
      const d = Math.hypot(p[0] - q[0], p[1] - q[1]);
      if (d < distance) [mode, distance] = [k, d];
    });
    return { mode, distance };
  });
}

/** The ring with std `std` and each point's label, the index of its nearest mode. */
function labelledRing(n: number, std: number, seed: number): { x: tf.Tensor2D; labels: number[] } {
  const x = gaussianRing({ n, std, seed });
  return { x, labels: nearestMode(x.arraySync()).map((m) => m.mode) };
}

const rows = async (t: tf.Tensor | Promise<tf.Tensor>): Promise<number[][]> => {
  const r = await t;
  const out = r.arraySync() as number[][];
  r.dispose();
  return out;
};

test('options and labels are checked by name: classes, labelDropout, fit labels, sample labels and guidance', async () => {
  await ready();
  assert.throws(() => new DDPM({ dataShape: [2], classes: 2.5 }), /classes must be a positive integer; got 2\.5/);
  assert.throws(() => new DDPM({ dataShape: [2], classes: 3, labelDropout: 1 }), /labelDropout must be .*\[0, 1\).*got 1/);
  assert.throws(() => new DDPM({ dataShape: [2], labelDropout: 0.1 }), /labelDropout needs classes/);
  const c = new DDPM({ dataShape: [2], classes: 3, timesteps: 10, seed: 1, network: SMALL });
  const u = new DDPM({ dataShape: [2], timesteps: 10, seed: 1, network: SMALL });
  const x = tf.randomNormal([6, 2], 0, 1, 'float32', 1) as tf.Tensor2D;
  try {
    assert.equal(c.classes, 3);
    assert.equal(c.labelDropout, 0.1);
    assert.match(c.describe(), /, 3 classes$/);
    await assert.rejects(c.fit(x, { progress: false }), /labels are required: this DDPM is class-conditional \(classes 3\)/);
    await assert.rejects(c.fit(x, { labels: [0, 1, 2, 3, 0, 1], progress: false }), /labels must be integers in 0\.\.2; got 3 at index 3/);
    await assert.rejects(c.fit(x, { labels: [0, 1], progress: false }), /labels must hold one label per row \(6\); got 2/);
    await assert.rejects(c.fit(x, { labels: [0, 1, 2, 0, 1, 1.5], progress: false }), /labels must be integers in 0\.\.2; got 1\.5/);
    await assert.rejects(c.fit(x, { labels: 'abc' as never, progress: false }), /labels must be an array, an Int32Array or a tf\.Tensor1D/);
    await assert.rejects(c.fit(x, { labels: [0, 1, 2, 0, 1, 2], validation: x, progress: false }), /validationLabels are required/);
    await assert.rejects(c.fit(x, { labels: [0, 1, 2, 0, 1, 2], validationLabels: [0], progress: false }), /validationLabels needs validation/);
    await assert.rejects(u.fit(x, { labels: [0, 1, 2, 0, 1, 2], progress: false }), /labels need a class-conditional DDPM .*this one is unconditional/);
    await assert.rejects(c.sample(4, { labels: 3 }), /labels must be integers in 0\.\.2; got 3/);
    await assert.rejects(c.sample(4, { labels: [0, 1] }), /labels must hold one label per row \(4\); got 2/);
    await assert.rejects(c.sample(4, { guidance: 2 }), /guidance needs labels .*got guidance 2 without labels/);
    await assert.rejects(c.sample(4, { labels: 1, guidance: -1 }), /guidance must be .*got -1/);
    await assert.rejects(u.sample(4, { labels: 1 }), /labels need a class-conditional DDPM/);
    await assert.rejects(c.sample(4, { label: 1 } as never), /unknown option 'label'.*did you mean 'labels'/);
    assert.throws(() => c.predictNoise(x, 3, { labels: -1 }), /labels must be integers in 0\.\.2; got -1/);
  } finally {
    x.dispose();
    c.dispose();
    u.dispose();
  }
});

test('guided eps = (1 + w) eps_cond - w eps_uncond on a fixed network; w = 0 is eps_cond; the samplers use exactly it', async () => {
  await ready();
  const m = new DDPM({ dataShape: [3], classes: 4, timesteps: 20, seed: 7, network: SMALL });
  const x = tf.randomNormal([5, 3], 0, 1, 'float32', 3) as tf.Tensor2D;
  const y = [0, 1, 2, 3, 1];
  const K = 4;
  try {
    const net = (labels: number[]) => tf.tidy(() => m.network.apply(x, tf.tensor1d([9, 9, 9, 9, 9], 'int32'), tf.tensor1d(labels, 'int32')));
    const cond = (await rows(net(y))).flat();
    const uncond = (await rows(net([K, K, K, K, K]))).flat();
    assert.ok(maxAbsDiff(cond, uncond) > 1e-3, 'the label changes the prediction');
    assert.deepEqual((await rows(m.predictNoise(x, 9))).flat(), uncond, 'no labels: the null label');
    assert.deepEqual((await rows(m.predictNoise(x, 9, { labels: y }))).flat(), cond, 'w = 0: the conditional prediction');
    for (const w of [0.5, 3, 7]) {
      const guided = (await rows(m.predictNoise(x, 9, { labels: y, guidance: w }))).flat();
      const expected = cond.map((c, i) => (1 + w) * c - w * uncond[i]);
      assert.ok(maxAbsDiff(guided, expected) < 1e-5 * (1 + w), `w = ${w}: ${maxAbsDiff(guided, expected)}`);
    }
    // one label for all rows is that label repeated
    assert.deepEqual((await rows(m.predictNoise(x, 9, { labels: 2, guidance: 1 }))).flat(), (await rows(m.predictNoise(x, 9, { labels: [2, 2, 2, 2, 2], guidance: 1 }))).flat());

    // the ancestral sampler with guidance is Ho et al.'s step on the guided eps, draw for draw (no clip: no dataRange)
    const n = 5;
    const w = 2;
    const s = m.scheduler;
    const reference = tf.tidy(() => {
      const rng = new Random(4);
      let xt: tf.Tensor2D = tf.tensor2d(rng.normalArray(n * 3), [n, 3]);
      for (let t = m.timesteps - 1; t >= 0; t--) {
        const z = tf.tensor2d(rng.normalArray(n * 3), [n, 3]);
        const eps = m.predictNoise(xt, t, { labels: y, guidance: w });
        const c = s.ancestralStep(t);
        const mean = xt.mul(c.cXt).add(eps.mul(c.cEps)) as tf.Tensor2D;
        xt = c.sigma > 0 ? mean.add(z.mul(c.sigma)) : mean;
      }
      return Array.from(xt.dataSync());
    });
    const sampled = (await rows(m.sample(n, { seed: 4, labels: y, guidance: w }))).flat();
    assert.ok(maxAbsDiff(sampled, reference) < 1e-5, `sampler vs hand-written guided steps: ${maxAbsDiff(sampled, reference)}`);
  } finally {
    x.dispose();
    m.dispose();
  }
});

test('label dropout trains the null label: without it the null embedding never moves and the unconditional loss stays high', async () => {
  await ready();
  const { x, labels } = labelledRing(1000, 0.02, 11);
  const fitWith = async (labelDropout: number) => {
    const m = new DDPM({ dataShape: [2], classes: 8, labelDropout, seed: 3, network: { kind: 'mlp', hiddenUnits: [64, 64], embedDim: 16 } });
    const table = m.network.variables[m.network.variables.length - 1]; // the label embedding [K + 1, E], made last
    assert.deepEqual(table.shape, [9, 16]);
    const before = (table.arraySync() as number[][])[8];
    await m.fit(x, { labels, epochs: 15, progress: false });
    const after = (table.arraySync() as number[][])[8];
    // the simple loss of the unconditional model (null label) on fresh draws of t and eps
    const rng = new Random(5);
    const t = Array.from({ length: 1000 }, () => rng.int(m.timesteps));
    const eps = tf.tensor2d(rng.normalArray(2000), [1000, 2]);
    const loss = m.simpleLoss(x, t, eps);
    const cond = m.simpleLoss(x, t, eps, labels);
    const out = { moved: maxAbsDiff(before, after), uncond: loss.dataSync()[0], cond: cond.dataSync()[0] };
    tf.dispose([eps, loss, cond]);
    m.dispose();
    return out;
  };
  try {
    const none = await fitWith(0);
    const some = await fitWith(0.2);
    assert.equal(none.moved, 0, 'labelDropout 0: the null label is never seen, its embedding keeps its initial value');
    assert.ok(some.moved > 1e-3, `labelDropout 0.2: the null embedding is trained (moved ${some.moved})`);
    assert.ok(some.uncond < 0.8 * none.uncond, `unconditional loss ${some.uncond} with dropout vs ${none.uncond} without`);
    assert.ok(some.cond < 1.2 * none.cond, `the conditional loss stays about as good: ${some.cond} vs ${none.cond}`);
  } finally {
    x.dispose();
  }
});

test('the ring, label = mode: conditional samples land at the mode asked for, unconditional ones cover the ring', async () => {
  await ready();
  const { x, labels } = labelledRing(4000, 0.02, 1);
  const m = new DDPM({ dataShape: [2], classes: 8, seed: 2 });
  try {
    await m.fit(x, { labels, epochs: 25, progress: false }); // 800 steps of batch 128
    const asked = Array.from({ length: 400 }, (_, i) => i % 8);
    for (const sampler of ['ancestral', 'ddim'] as const) {
      const got = nearestMode(await rows(m.sample(400, { labels: asked, guidance: 1, seed: 5, sampler })));
      const hit = got.filter((g, i) => g.mode === asked[i] && g.distance < 0.5).length / 400;
      assert.ok(hit >= 0.9, `${sampler}, guidance 1: ${hit} of the samples at the mode asked for`);
    }
    const free = nearestMode(await rows(m.sample(400, { seed: 6 })));
    const covered = new Set(free.filter((g) => g.distance < 0.5).map((g) => g.mode));
    assert.ok(covered.size >= 7, `unconditional samples cover ${covered.size} of 8 modes`);
  } finally {
    x.dispose();
    m.dispose();
  }
});

test('guidance narrows the samples of overlapping classes (a wide ring: std 0.4, label = nearest mode)', async () => {
  await ready();
  const { x, labels } = labelledRing(4000, 0.4, 2);
  const m = new DDPM({ dataShape: [2], classes: 8, seed: 3 });
  try {
    await m.fit(x, { labels, epochs: 25, progress: false });
    const asked = Array.from({ length: 400 }, (_, i) => i % 8);
    /** RMS angle (radians) between each sample and the mode asked for. */
    const spread = async (guidance: number) => {
      const pts = await rows(m.sample(400, { labels: asked, guidance, seed: 8 }));
      const sq = pts.map((p, i) => {
        const d = Math.atan2(p[1], p[0]) - Math.atan2(MODES[asked[i]][1], MODES[asked[i]][0]);
        return Math.atan2(Math.sin(d), Math.cos(d)) ** 2;
      });
      return Math.sqrt(sq.reduce((a, b) => a + b, 0) / sq.length);
    };
    const s0 = await spread(0);
    const s3 = await spread(3);
    // the classes are sectors of 45 degrees (0.39 rad): unguided the samples spread about like the data's
    assert.ok(s0 > 0.1 && s0 < 0.4, `guidance 0: angular spread ${s0}`);
    assert.ok(s3 < 0.6 * s0, `guidance 3 concentrates the samples: angular spread ${s3} vs ${s0} at guidance 0`);
  } finally {
    x.dispose();
    m.dispose();
  }
});

test('save / load keeps classes, labelDropout and the label embedding; no leaks in conditional fit, predict and sample', async () => {
  await ready();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddpm-cfg-'));
  const m = new DDPM({ dataShape: [8, 8, 1], timesteps: 10, seed: 1, classes: 3, labelDropout: 0.25, dataRange: [0, 1], network: { kind: 'unet', channels: [4, 4, 4], embedDim: 4, groups: 2 } });
  const v = new DDPM({ dataShape: [3], timesteps: 10, seed: 2, classes: 2 });
  const x = tf.randomUniform([5, 8, 8, 1], 0, 1, 'float32', 1);
  const y = tf.randomUniform([9, 3], 0, 1, 'float32', 2);
  const ly = [0, 1, 1, 0, 1, 0, 0, 1, 1];
  try {
    await m.fit(x, { labels: [0, 1, 2, 0, 1], epochs: 1, progress: false });
    await v.fit(y, { labels: ly, epochs: 1, progress: false });
    await m.save(dir);
    const l = await DDPM.load(dir);
    assert.equal(l.describe(), m.describe());
    assert.equal(l.classes, 3);
    assert.equal(l.labelDropout, 0.25);
    const [a, b] = [m.predictNoise(x, 4, { labels: [0, 1, 2, 2, 1], guidance: 2 }), l.predictNoise(x, 4, { labels: [0, 1, 2, 2, 1], guidance: 2 })];
    assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
    tf.dispose([a, b]);
    l.dispose();
    await assertNoLeak(async () => {
      const lt = tf.tensor1d([0, 1, 2, 0, 1], 'int32');
      await m.fit(x, { labels: lt, epochs: 2, batchSize: 2, progress: false });
      lt.dispose();
      await v.fit(y, { labels: Int32Array.from(ly), validation: y, validationLabels: ly, epochs: 2, batchSize: 4, progress: false });
      const zeros = tf.zerosLike(y);
      tf.dispose([m.predictNoise(x, [1, 2, 3, 4, 5], { labels: 2, guidance: 1 }), v.simpleLoss(y, 3, zeros, ly), zeros]);
      tf.dispose(await m.sample(3, { labels: [0, 1, 2], guidance: 3 }));
      tf.dispose(await m.sample(3));
      tf.dispose(await v.sample(5, { labels: 1, guidance: 0.5, sampler: 'ddim', steps: 4, eta: 0.3, batchSize: 2 }));
      const r = await v.sample(2, { labels: [0, 1], guidance: 1, returnTrajectory: true });
      tf.dispose([r.samples, r.trajectory, r.predictedX0]);
      await assert.rejects(v.sample(2, { labels: 5 }), /labels/);
    }, 'conditional DDPM calls');
  } finally {
    tf.dispose([x, y]);
    m.dispose();
    v.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
