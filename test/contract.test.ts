/**
 * The model contract (lib/core/model.ts), checked on every family from one table (test/contract/*.ts):
 * lifecycle (scope registration, idempotent dispose, the disposed guard), `fit` through the shared training state
 * (a second fit continues, `reset` starts afresh, validation and early stopping, one `onEpoch` that may return
 * metrics), data checked before training, a failed fit that loses nothing (NaN data; a learning rate of 1e30), and
 * `sample(n)` of the data's shape.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, ready } from '../lib/engine/backend';
import { scope } from '../lib/engine/scope';
import type { ContractCase, ContractGenerative, ContractModel } from './contract/case';
import { CASES } from './contract/cases';

/** The model's variables as plain arrays (the base's protected `variables()`, read for the test). */
function weights(m: ContractModel): Float32Array[] {
  const vars = (m as unknown as { variables(): tf.Variable[] }).variables();
  assert.ok(vars.length > 0, `${m.kind}.variables() lists no variables`);
  return vars.map((v) => v.dataSync() as Float32Array);
}

function allFinite(ws: Float32Array[]): boolean {
  return ws.every((w) => w.every(Number.isFinite));
}

function sameWeights(a: Float32Array[], b: Float32Array[]): boolean {
  return a.length === b.length && a.every((w, i) => w.length === b[i].length && w.every((v, j) => Object.is(v, b[i][j])));
}

const quiet = (c: ContractCase, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ ...c.fitOptions, progress: false, ...extra });

for (const c of CASES) {
  test(`${c.name}: built, trained and sampled inside scope() leaves no tensor behind`, async () => {
    await ready();
    const before = tf.memory().numTensors;
    await scope(async () => {
      const m = c.build(1);
      await m.fit(c.data(), quiet(c, { epochs: 1 }));
      if (c.generative) await (m as ContractGenerative).sample(3, { seed: 2 });
      c.build(2); // built and never used
    });
    assert.equal(tf.memory().numTensors, before, `${c.name} left ${tf.memory().numTensors - before} tensor(s) in scope()`);
  });

  test(`${c.name}: dispose is idempotent, use after dispose names the model, describe() says what it is`, async () => {
    await ready();
    const m = c.build(1);
    assert.equal(m.kind, c.name);
    assert.ok(m.describe().length > 0);
    assert.equal(m.isDisposed, false);
    m.dispose();
    m.dispose();
    assert.equal(m.isDisposed, true);
    const x = c.data();
    await assert.rejects(m.fit(x, quiet(c)), new RegExp(`this ${c.name} has been disposed`));
    if (c.generative) await assert.rejects((m as ContractGenerative).sample(2), new RegExp(`this ${c.name} has been disposed`));
    x.dispose();
  });

  test(`${c.name}: a second fit continues the first, reset starts afresh, onEpoch may add metrics`, async () => {
    await scope(async () => {
      const m = c.build(3);
      const x = c.data();
      const h1 = await m.fit(x, quiet(c, { epochs: 2 }));
      assert.deepEqual(h1.epoch, [1, 2]);
      const h2 = await m.fit(x, quiet(c, { epochs: 1, onEpoch: (epoch: number) => ({ twice: 2 * epoch }) }));
      assert.deepEqual(h2.epoch, [3]);
      assert.deepEqual(h2.twice, [6]);
      const h3 = await m.fit(x, quiet(c, { epochs: 1, reset: true }));
      assert.deepEqual(h3.epoch, [1]);
    });
  });

  test(`${c.name}: fit({ seed }) seeds the training stream: same model, same seed, same run`, async () => {
    await scope(async () => {
      const x = c.data();
      const runs: { h: Record<string, number[]>; w: Float32Array[] }[] = [];
      for (const seed of [11, 11, 12]) {
        const m = c.build(9);
        const h = await m.fit(x, quiet(c, { epochs: 2, seed }));
        runs.push({ h, w: weights(m) });
      }
      const [a, b, d] = runs;
      const first = Object.keys(a.h).find((k) => k !== 'epoch' && k !== 'seconds') ?? 'epoch';
      assert.deepEqual(a.h[first], b.h[first], 'same seed, same metrics');
      assert.ok(sameWeights(a.w, b.w), 'same seed, same weights');
      assert.ok(!sameWeights(a.w, d.w), 'another seed, another run');
    });
  });

  test(`${c.name}: validation data are scored every epoch and early stopping watches them`, async () => {
    await scope(async () => {
      const m = c.build(4);
      const x = c.data();
      const h = await m.fit(x, quiet(c, { epochs: 3, validation: c.data(), earlyStopping: { patience: 0, minDelta: 1e9 } }));
      const val = Object.keys(h).filter((k) => /^val[A-Z]/.test(k));
      assert.ok(val.length > 0, `${c.name}.fit recorded no validation metric; history keys: ${Object.keys(h).join(', ')}`);
      assert.ok(val.every((k) => h[k].every(Number.isFinite)), `${c.name} validation metrics must be finite`);
      assert.deepEqual(h.epoch, [1, 2], 'earlyStopping with an impossible minDelta stops after patience + 1 epochs');
    });
  });

  test(`${c.name}: fit refuses non-finite and misshapen data before training, and the model is untouched`, async () => {
    await scope(async () => {
      const m = c.build(5);
      const x = c.data();
      const before = weights(m);
      const values = x.dataSync().slice();
      values[3] = NaN;
      const bad = tf.tensor(values, x.shape);
      await assert.rejects(m.fit(bad, quiet(c)), /x must contain only finite values/);
      const flat = x.reshape([x.shape[0], -1]);
      const wrong = flat.slice([0, 0], [-1, flat.shape[1]! - 1]);
      await assert.rejects(m.fit(wrong, quiet(c)), /x must have shape/);
      assert.ok(sameWeights(weights(m), before), `${c.name}: a refused fit changed the weights`);
      const h = await m.fit(x, quiet(c, { epochs: 1 }));
      assert.deepEqual(h.epoch, [1], 'the refused fits count no epoch');
    });
  });

  test(`${c.name}: a fit that diverges (learning rate 1e30) leaves the model as it was and says so`, async () => {
    await scope(async () => {
      const m = c.build(6);
      const x = c.data();
      await m.fit(x, quiet(c, { epochs: 1 }));
      const before = weights(m);
      assert.ok(allFinite(before));
      await assert.rejects(m.fit(x, quiet(c, { epochs: 2, learningRate: 1e30 })), (e: Error) => {
        assert.match(e.message, /diverged at epoch/);
        assert.match(e.message, /as it was/);
        return true;
      });
      const after = weights(m);
      assert.ok(allFinite(after), `${c.name}: non-finite weights after a diverged fit`);
      assert.ok(sameWeights(after, before), `${c.name}: a diverged first epoch must leave the weights as before the fit`);
      const h = await m.fit(x, quiet(c, { epochs: 1 }));
      assert.deepEqual(h.epoch, [2], 'the diverged fit counts no epoch; training continues after epoch 1');
      if (c.generative) {
        const s = await (m as ContractGenerative).sample(4, { seed: 1 });
        assert.ok((s.dataSync() as Float32Array).every(Number.isFinite), `${c.name}: samples after recovery must be finite`);
      }
    });
  });

  if (c.generative) {
    test(`${c.name}: sample(n, { seed }) resolves to [n, ...dataShape], reproducibly`, async () => {
      await scope(async () => {
        const m = c.build(7) as ContractGenerative;
        await m.fit(c.data(), quiet(c, { epochs: 1 }));
        const p = m.sample(5, { seed: 3 });
        assert.ok(p instanceof Promise, `${c.name}.sample must return a promise`);
        const a = await p;
        assert.deepEqual(a.shape, [5, ...m.dataShape]);
        const b = await m.sample(5, { seed: 3 });
        assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()), 'same seed, same samples');
        await assert.rejects(m.sample(0), /n must be a positive integer/);
      });
    });
  }

  test(`${c.name}: save and load round-trip the model`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `genlab-contract-${c.name}-`));
    try {
      await scope(async () => {
        const m = c.build(8);
        await m.save(dir);
        const back = await c.load(dir);
        assert.equal(back.kind, c.name);
        assert.ok(sameWeights(weights(back), weights(m)));
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
