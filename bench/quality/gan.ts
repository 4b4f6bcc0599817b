/**
 * GAN quality and speed against PyTorch (issue 15). Parts (run one with `--part NAME`, default all):
 * - `ring`: the 8-Gaussian ring (radius 2, std 0.02), 8000 points, 100 epochs, batch 128, genlab's dense default
 *   learning rate 1e-3 (and 2e-4 for contrast): G 2-128-128-2 linear output, no BatchNorm; D 2-128-128-1, no
 *   dropout; modes covered by 2000 samples (>= 20 within 0.06 = 3 std) per seed, genlab and the PyTorch twin
 *   (bench/quality/gan.py) on the same settings.
 * - `digits`: the course's dense GAN (G 100-256-512-1024-784 tanh, BatchNorm; D 784-1024-512-256-1, dropout 0.3;
 *   smoothing 0.9) on 8000 bundled training digits in [0, 1] (`dataRange: [0, 1]`: the GAN maps them onto its tanh
 *   range itself), Adam at `--digit-lr` (2e-4) with batch
 *   `--digit-batch` (128) and `--digit-average` (generatorAverage, 0) for `--digit-epochs` (5), seeds 1..`--digit-seeds`;
 *   energy distance of 500 samples to 500 held-out test digits after every epoch, against an independent-pixel
 *   baseline (`independentPixels`) and real-vs-real (500 other held-out digits), on the [-1, 1] scale of
 *   RESULTS-gan.md and of the PyTorch twin's data. Then the PyTorch twin
 *   (gan.py `digits`) trains the same model on the same digits (exported as float32 files) with the same settings
 *   and seeds and is scored the same way on the same held-out digits; `--digit-torch-only 1` skips genlab's runs.
 * - `time`: one epoch of the dense course GAN and the DCGAN on 10k digits, genlab vs PyTorch, wall and CPU seconds.
 * Usage: node dist/bench/quality/gan.js [--part ring|digits|time] [--seeds 3] [--epochs 100] [--digit-epochs 5]
 *   [--digit-lr 2e-4] [--digit-batch 128] [--digit-average 0] [--digit-seeds 1] [--digit-torch-only 0]
 * PyTorch: the first Python with torch of GENLAB_PEER_PYTHON, GENLAB_TORCH_PYTHON, .venv-peers, .venv (bench/peer-python.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ready, tf } from '../../lib/engine/backend';
import { GAN } from '../../lib/gan/gan';
import { rescale } from '../../lib/core/data';
import { energyDistance, independentPixels, modeCoverage } from '../../lib/metrics';
import { gaussianRing, gaussianRingModes, loadMnist } from '../../datasets';
import { arg, mean, runMain, runTwin, std } from './common';

function torch(args: string[]): Record<string, unknown> {
  return runTwin('gan.py', args);
}

/** The ring model of the quality check (the current G, no average: the game as RESULTS-gan.md measured it). */
export function ringGan(seed: number): GAN {
  return new GAN({
    dataShape: [2], latentDim: 2, generatorUnits: [128, 128], discriminatorUnits: [128, 128],
    outputActivation: 'linear', batchNorm: false, dropout: 0, generatorAverage: 0, seed,
  });
}

async function ring(): Promise<void> {
  const seeds = Array.from({ length: arg('seeds', 3) }, (_, i) => i + 1);
  const epochs = arg('epochs', 100);
  for (const lr of [1e-3, 2e-4]) {
    const covered: number[] = [];
    for (const seed of seeds) {
      const x = gaussianRing({ n: 8000, seed: 100 + seed });
      const gan = ringGan(seed);
      const t0 = Date.now();
      await gan.fit(x, { epochs, learningRate: lr, progress: false });
      const s = await gan.sample(2000, { seed: 7 });
      const c = modeCoverage(s.arraySync() as number[][], gaussianRingModes());
      covered.push(c.covered);
      console.log(`genlab lr ${lr} seed ${seed}: ${c.covered}/8 modes, ${(100 * c.fractionNear).toFixed(1)}% within 0.06, counts ${c.counts.join(',')} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      tf.dispose([x, s]);
      gan.dispose();
    }
    console.log(`genlab lr ${lr}: modes covered ${covered.join(', ')}; mean ${mean(covered).toFixed(1)} +- ${std(covered).toFixed(1)}`);
    const t = torch(['ring', seeds.join(','), String(epochs), String(lr), '8000']) as { runs: Array<{ seed: number; covered: number; fractionNear: number; counts: number[] }> };
    for (const r of t.runs) console.log(`PyTorch lr ${lr} seed ${r.seed}: ${r.covered}/8 modes, ${(100 * r.fractionNear).toFixed(1)}% within 0.06, counts ${r.counts.join(',')}`);
  }
}

async function digits(): Promise<void> {
  const epochs = arg('digit-epochs', 5);
  const lr = arg('digit-lr', 2e-4);
  const batchSize = arg('digit-batch', 128);
  const generatorAverage = arg('digit-average', 0);
  const seeds = Array.from({ length: arg('digit-seeds', 1) }, (_, i) => i + 1);
  const train = await loadMnist({ split: 'train', limit: 8000, seed: 0 });
  const test = await loadMnist({ split: 'test', limit: 1000, seed: 0 });
  const x = train.images; //                                  [n, 784] in [0, 1], what the GAN trains on
  // Scores and the PyTorch twin's data on [-1, 1]: the scale of RESULTS-gan.md (the twin's tanh G reads it as is).
  const pm1 = (t: tf.Tensor): number[][] => {
    const m = rescale(t, [0, 1], [-1, 1]);
    const rows = m.arraySync() as number[][];
    m.dispose();
    return rows;
  };
  const [held, held2] = [0, 500].map((start) => tf.tidy(() => pm1(test.images.slice([start, 0], [500, 784]))));
  const xPm1 = pm1(x);
  const indep = independentPixels(xPm1, 500, 3);
  console.log(`energy distance to 500 held-out digits: real vs real (500 other held-out digits) ${energyDistance(held2, held).toFixed(3)}, independent pixels ${energyDistance(indep, held).toFixed(3)}`);
  for (const seed of arg('digit-torch-only', 0) ? [] : seeds) {
    const gan = new GAN({ dataShape: [784], dataRange: [0, 1], labelSmoothing: 0.9, generatorAverage, seed });
    const t0 = Date.now();
    const eds: string[] = [];
    const h = await gan.fit(x, {
      epochs, learningRate: lr, batchSize, progress: false,
      onEpoch: async () => {
        const s = await gan.sample(500, { seed: 5 }); //                                        in [0, 1]
        eds.push(energyDistance(pm1(s), held).toFixed(3));
        s.dispose();
      },
    });
    console.log(`dense course GAN seed ${seed}, lr ${lr}, batch ${batchSize}, average ${generatorAverage}, ${epochs} epochs on ${x.shape[0]} digits (${((Date.now() - t0) / 1000).toFixed(0)} s): dReal ${h.dReal.map((v) => v.toFixed(3)).join(' ')} dFake ${h.dFake.map((v) => v.toFixed(3)).join(' ')}`);
    console.log(`  energy distance per epoch: ${eds.join(' ')}`);
    gan.dispose();
  }
  // the PyTorch twin on the same digits: float32 files in a temporary folder, scored on the same held-out digits
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-gan-digits-'));
  try {
    const f32 = (rows: number[][]): Buffer => Buffer.from(new Float32Array(rows.flat()).buffer);
    fs.writeFileSync(path.join(dir, 'train.f32'), f32(xPm1));
    fs.writeFileSync(path.join(dir, 'held.f32'), f32(held));
    const t = torch(['digits', dir, seeds.join(','), String(epochs), String(lr), String(batchSize), String(generatorAverage)]) as {
      torch: string; runs: Array<{ seed: number; ed: number[]; dReal: number[]; dFake: number[]; seconds: number }>;
    };
    for (const r of t.runs) {
      // the last epoch's samples again, scored by lib/metrics' energyDistance (checks the Python formula)
      const raw = fs.readFileSync(path.join(dir, `torch-seed${r.seed}.f32`));
      const flat = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
      const s = Array.from({ length: flat.length / 784 }, (_, i) => Array.from(flat.subarray(784 * i, 784 * (i + 1))));
      console.log(`PyTorch ${t.torch} seed ${r.seed}, same settings (${r.seconds.toFixed(0)} s): dReal ${r.dReal.map((v) => v.toFixed(3)).join(' ')} dFake ${r.dFake.map((v) => v.toFixed(3)).join(' ')}`);
      console.log(`  energy distance per epoch: ${r.ed.map((v) => v.toFixed(3)).join(' ')} (last, by lib/metrics: ${energyDistance(s, held).toFixed(3)})`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  tf.dispose([train.images, test.images]);
}

async function time(): Promise<void> {
  const rows = 10000;
  const reps = arg('time-epochs', 1);
  const x = tf.tidy(() => tf.randomUniform([rows, 784], -1, 1, 'float32', 1)) as tf.Tensor2D;
  for (const arch of ['dense', 'conv'] as const) {
    const gan = new GAN({ dataShape: arch === 'conv' ? [28, 28, 1] : [784], dataRange: [-1, 1], architecture: arch, labelSmoothing: 0.9, seed: 1 });
    const warm = x.slice([0, 0], [256, 784]);
    await gan.fit(warm, { epochs: 1, learningRate: 2e-4, progress: false }); // first calls of every kernel
    warm.dispose();
    const wall: number[] = [];
    const cpu: number[] = [];
    let t0 = Date.now();
    let c0 = process.cpuUsage();
    await gan.fit(x, {
      epochs: reps, learningRate: 2e-4, progress: false,
      onEpoch: () => {
        const c = process.cpuUsage(c0);
        wall.push((Date.now() - t0) / 1000);
        cpu.push((c.user + c.system) / 1e6);
        t0 = Date.now();
        c0 = process.cpuUsage();
      },
    });
    gan.dispose();
    const t = torch(['time', arch, String(rows), String(reps)]) as { torch: string; seconds: number[]; cpu: number[] };
    console.log(`${arch}: genlab wall ${wall.map((v) => v.toFixed(1)).join(', ')} s, CPU ${cpu.map((v) => v.toFixed(1)).join(', ')} s | PyTorch ${t.torch} wall ${t.seconds.map((v) => v.toFixed(1)).join(', ')} s, CPU ${t.cpu.map((v) => v.toFixed(1)).join(', ')} s`);
  }
  x.dispose();
}

runMain(async () => {
  const backend = await ready();
  const i = process.argv.indexOf('--part');
  const part = i >= 0 ? process.argv[i + 1] : 'all';
  console.log(`backend ${backend}`);
  if (part === 'ring' || part === 'all') await ring();
  if (part === 'digits' || part === 'all') await digits();
  if (part === 'time' || part === 'all') await time();
});
