/**
 * DDPM on digits against its PyTorch twin (issue 15): genlab's default vector DDPM (T = 300, linear betas
 * 1e-4 .. 0.02, MLP concat(x, 64 sinusoidal) -> 128 -> 128 -> 128 (SiLU) -> 784, Adam 1e-3, batch 128) trains
 * `--epochs` (30) on 8000 bundled training digits in [0, 1] with `dataRange: [0, 1]` (mapped onto [-1, 1] inside);
 * 500 ancestral samples, unclipped like the twin's, are scored by the energy distance to 500 held-out test digits,
 * in [0, 1], next to real vs real (500 other held-out digits) and independent pixels; the same model's clipped
 * samples (its default with a dataRange) are scored too. bench/quality/ddpm.py `quality` trains the same model with
 * the same settings on the same digits mapped onto [-1, 1] (exported as float32); its samples are mapped back and
 * scored by the same code. Seeds 1..`--seeds` (2). Distances are in [0, 1] pixel units (half the [-1, 1] figures
 * the first runs in bench/quality/RESULTS-ddpm.md recorded).
 *
 *   npm run build && node dist/bench/quality/ddpm-digits.js [--epochs 30] [--seeds 2]
 *
 * PyTorch: $GENLAB_PEER_PYTHON, else .venv-peers/bin/python, else .venv/bin/python (torch and numpy).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ready, tf } from '../../lib/engine/backend';
import { DDPM } from '../../lib/diffusion/ddpm';
import { rescale } from '../../lib/core/data';
import { energyDistance, independentPixels } from '../../lib/metrics';
import { loadMnist } from '../../datasets';
import { peerPython } from '../peer-python';
import { arg, mean, runMain } from './common';

const ROOT = path.join(__dirname, '..', '..', '..');

async function main(): Promise<void> {
  const backend = await ready();
  const epochs = arg('epochs', 30);
  const seeds = Array.from({ length: arg('seeds', 2) }, (_, i) => i + 1);
  const nSamples = 500;
  const train = await loadMnist({ split: 'train', limit: 8000, seed: 0 });
  const test = await loadMnist({ split: 'test', limit: 1000, seed: 0 });
  const x = train.images; //                                                                 [8000, 784] in [0, 1]
  const held = tf.tidy(() => test.images.slice([0, 0], [500, 784])).arraySync() as number[][];
  const held2 = tf.tidy(() => test.images.slice([500, 0], [500, 784])).arraySync() as number[][];
  const indep = independentPixels(x.arraySync() as number[][], nSamples, 3);
  console.log(`backend ${backend}; energy distance to 500 held-out digits: real vs real ${energyDistance(held2, held).toFixed(3)}, independent pixels ${energyDistance(indep, held).toFixed(3)}`);
  const python = peerPython();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-ddpm-digits-'));
  // The PyTorch twin has no dataRange: it trains on the digits mapped onto [-1, 1], as genlab's model does inside.
  const scaled = rescale(x, [0, 1], [-1, 1]);
  fs.writeFileSync(path.join(dir, 'data.f32'), Buffer.from(new Float32Array(scaled.dataSync()).buffer));
  scaled.dispose();
  const ours: number[] = [];
  const oursClipped: number[] = [];
  const peer: number[] = [];
  try {
    for (const seed of seeds) {
      const model = new DDPM({ dataShape: [784], dataRange: [0, 1], seed });
      let t0 = Date.now();
      await model.fit(x, { epochs, progress: false });
      const secs = (Date.now() - t0) / 1000;
      t0 = Date.now();
      const s = await model.sample(nSamples, { seed: 1000 + seed, clip: false }); // the twin's sampler does not clip
      ours.push(energyDistance(s.arraySync(), held));
      console.log(`genlab seed ${seed}: energy distance ${ours.at(-1)!.toFixed(3)} (training ${secs.toFixed(0)} s, sampling ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      const c = await model.sample(nSamples, { seed: 1000 + seed }); //                 clipped: the default with a dataRange
      oursClipped.push(energyDistance(c.arraySync(), held));
      console.log(`genlab seed ${seed}, clipped x0: energy distance ${oursClipped.at(-1)!.toFixed(3)}`);
      tf.dispose([s, c]);
      model.dispose();
      if (python) {
        fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ n: 8000, d: 784, epochs, lr: 1e-3, seed, samples: nSamples, threads: 1 }));
        const r = spawnSync(python, [path.join(ROOT, 'bench', 'quality', 'ddpm.py'), 'quality', path.join(dir, 'data.f32'), path.join(dir, 'meta.json'), path.join(dir, 'out.f32')], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`ddpm.py failed: ${r.stderr}`);
        const info = JSON.parse(r.stdout.trim().split('\n').pop()!) as { torch: string; seconds: number; loss: number };
        const buf = fs.readFileSync(path.join(dir, 'out.f32'));
        const f = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
        const pts = Array.from({ length: nSamples }, (_, i) => Array.from(f.subarray(784 * i, 784 * (i + 1)), (v) => (v + 1) / 2)); // back to [0, 1]
        peer.push(energyDistance(pts, held));
        console.log(`PyTorch ${info.torch} seed ${seed}: energy distance ${peer.at(-1)!.toFixed(3)} (training ${info.seconds.toFixed(0)} s, final loss ${info.loss.toFixed(4)})`);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    tf.dispose([train.images, test.images]);
  }
  console.log(`mean energy distance: genlab ${mean(ours).toFixed(3)} (clipped ${mean(oursClipped).toFixed(3)})${peer.length ? `, PyTorch ${mean(peer).toFixed(3)}` : ' (PyTorch not run: no Python with torch)'}`);
}

runMain(main);
