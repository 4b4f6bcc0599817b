/**
 * LatentDiffusion (lib/diffusion/latent.ts): a DDPM on a VAE's scaled codes, decoded. Its pieces are exactly the
 * VAE's and the DDPM's (codes = scale * posterior means, samples = decoder means at DDPM samples / scale), the scale
 * is set from the first fit's codes, labels and guidance pass through, one checkpoint round-trips both networks, and
 * nothing leaks.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, ready } from '../lib/engine/backend';
import { VAE } from '../lib/vae/vae';
import { DDPM } from '../lib/diffusion/ddpm';
import { LatentDiffusion } from '../lib/diffusion/latent';
import { saveCheckpoint } from '../lib/core/checkpoint';
import { assertNoLeak, maxAbsDiff } from './helpers';

const DDPM_OPTS = { timesteps: 20, network: { kind: 'mlp' as const, hiddenUnits: [16, 16], embedDim: 8 }, classes: 3, seed: 2 };

/** A small trained dense VAE on 12-pixel "images" in [0, 1] of 3 classes (bright left, middle or right third). */
async function smallVae(): Promise<{ vae: VAE<[number]>; x: tf.Tensor2D; labels: number[] }> {
  const labels = Array.from({ length: 90 }, (_, i) => i % 3);
  const rows = labels.map((c, i) => Array.from({ length: 12 }, (_, j) => (Math.floor(j / 4) === c ? 0.9 : 0.1) + 0.05 * Math.sin(i + j)));
  const x = tf.tensor2d(rows);
  const vae = new VAE({ dataShape: [12], hiddenUnits: [16], latentDim: 3, seed: 1 });
  await vae.fit(x, { epochs: 5, batchSize: 30, progress: false });
  return { vae, x, labels };
}

const values = (t: tf.Tensor) => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};

test('checks: the VAE, the DDPM options or DDPM, the scale; sampling needs the scale', async () => {
  await ready();
  const { vae, x } = await smallVae();
  try {
    assert.throws(() => new LatentDiffusion({ vae: {} as never }), /vae must be a trained VAE .*got/);
    assert.throws(() => new LatentDiffusion({ vae, ddpm: { dataShape: [3] } as never }), /ddpm\.dataShape is set by LatentDiffusion \(codes \[3\]/);
    assert.throws(() => new LatentDiffusion({ vae, ddpm: { dataRange: [0, 1] } as never }), /ddpm\.dataRange is set by LatentDiffusion/);
    const wrong = new DDPM({ dataShape: [4], timesteps: 5 });
    assert.throws(() => new LatentDiffusion({ vae, ddpm: wrong as never }), /ddpm must be a DDPM on codes: dataShape \[3\]/);
    wrong.dispose();
    assert.throws(() => new LatentDiffusion({ vae, scale: 0 }), /scale must be/);
    const m = new LatentDiffusion({ vae, ddpm: DDPM_OPTS });
    assert.equal(m.scale, null);
    await assert.rejects(m.sample(2), /LatentDiffusion\.sample needs the codes' scale: fit first/);
    assert.throws(() => m.encode(x), /needs the codes' scale/);
    await assert.rejects(m.sample(2, { returnTrajectory: true } as never), /returnTrajectory and clip are DDPM options on codes/);
    await assert.rejects(m.fit(x, { progress: false }), /labels are required: this DDPM is class-conditional/);
  } finally {
    x.dispose();
    vae.dispose();
  }
});

test('the pieces: codes = scale * posterior means (scale from the first fit), samples = decoder at DDPM samples / scale', async () => {
  await ready();
  const { vae, x, labels } = await smallVae();
  const m = new LatentDiffusion({ vae, ddpm: DDPM_OPTS });
  try {
    assert.deepEqual(m.dataShape, [12]);
    assert.equal(m.latentDim, 3);
    assert.equal(m.classes, 3);
    await m.fit(x, { labels, epochs: 2, batchSize: 30, progress: false });
    const { mean, logVar } = vae.encode(x);
    const mu = values(mean);
    logVar.dispose();
    const sd = Math.sqrt(mu.reduce((s, v) => s + v * v, 0) / mu.length - (mu.reduce((s, v) => s + v, 0) / mu.length) ** 2);
    assert.ok(Math.abs(m.scale! * sd - 1) < 1e-3, `scale ${m.scale} = 1 / sd of the codes (${sd})`);
    const codes = values(m.encode(x));
    assert.ok(maxAbsDiff(codes, mu.map((v) => v * m.scale!)) < 1e-5);
    // decode(encode(x)) is the VAE's reconstruction
    const z = m.encode(x);
    assert.ok(maxAbsDiff(values(m.decode(z)), values(vae.reconstruct(x))) < 1e-5);
    z.dispose();
    // samples: the DDPM's codes (same seed, labels and guidance), unscaled and decoded
    for (const opts of [{ seed: 4 }, { seed: 5, labels: [0, 1, 2, 2], guidance: 3 }]) {
      const codesOnly = await m.ddpm.sample(4, opts);
      const expected = values(vae.decode(tf.tidy(() => codesOnly.div(m.scale!))));
      codesOnly.dispose();
      const got = await m.sample(4, opts);
      assert.deepEqual(got.shape, [4, 12]);
      assert.ok(maxAbsDiff(values(got), expected) < 1e-6);
    }
    // a second fit keeps the scale
    const s = m.scale;
    await m.fit(x, { labels, epochs: 1, batchSize: 30, progress: false });
    assert.equal(m.scale, s);
  } finally {
    x.dispose();
    m.dispose();
  }
  assert.ok(vae.isDisposed, 'the LatentDiffusion took the VAE over');
});

test('save / load: one checkpoint with both networks and the scale; same samples; other kinds refused; no leaks', async () => {
  await ready();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latent-'));
  const { vae, x, labels } = await smallVae();
  const m = new LatentDiffusion({ vae, ddpm: DDPM_OPTS });
  try {
    await m.fit(x, { labels, epochs: 1, batchSize: 30, progress: false });
    await m.save(dir);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => fs.statSync(path.join(dir, f)).isDirectory()), [], 'one checkpoint, no sub-folders');
    const l = await LatentDiffusion.load(dir);
    assert.equal(l.describe(), m.describe());
    assert.equal(l.scale, m.scale);
    assert.equal(l.classes, 3);
    const opts = { seed: 9, labels: 1, guidance: 2 };
    assert.deepEqual(values(await l.sample(5, opts)), values(await m.sample(5, opts)));
    l.dispose();
    await assertNoLeak(async () => {
      await m.fit(x, { labels, epochs: 1, batchSize: 30, validation: x, validationLabels: labels, progress: false });
      tf.dispose([await m.sample(3), await m.sample(3, { labels: [0, 1, 2], guidance: 1, sampler: 'ddim', steps: 5 }), m.encode(x)]);
      await m.save(dir);
      (await LatentDiffusion.load(dir)).dispose();
    }, 'LatentDiffusion calls');
    await saveCheckpoint(dir, { kind: 'VAE', config: {}, tensors: {} });
    await assertNoLeak(() => assert.rejects(LatentDiffusion.load(dir), /VAE/), 'a refused load');
  } finally {
    x.dispose();
    m.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
