/**
 * GAN quality and speed against PyTorch (issue 15). Parts (run one with `--part NAME`, default all):
 * - `ring`: the 8-Gaussian ring (radius 2, std 0.02), 8000 points, 100 epochs, batch 128, genlab's dense default
 *   learning rate 1e-3 (and 2e-4 for contrast): G 2-128-128-2 linear output, no BatchNorm; D 2-128-128-1, no
 *   dropout; modes covered by 2000 samples (>= 20 within 0.06 = 3 std) per seed, genlab and the PyTorch twin
 *   (bench/quality/gan.py) on the same settings.
 * - `digits`: the course's dense GAN (G 100-256-512-1024-784 tanh, BatchNorm; D 784-1024-512-256-1, dropout 0.3;
 *   smoothing 0.9; Adam 2e-4) on the bundled 10k training digits scaled to [-1, 1]; energy distance of 500
 *   samples to 500 held-out test digits, against an independent-pixel baseline (each pixel drawn from its own
 *   training marginal) and real-vs-real (500 training digits).
 * - `time`: one epoch of the dense course GAN and the DCGAN on 10k digits, genlab vs PyTorch, wall and CPU seconds.
 * Usage: node dist/bench/quality/gan.js [--part ring|digits|time] [--seeds 3] [--epochs 100] [--digit-epochs 5]
 * PyTorch: GENLAB_TORCH_PYTHON (default .venv-peers/bin/python of the checkout) with torch installed.
 */
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ready, tf } from '../../lib/engine/backend';
import { Random } from '../../lib/engine/random';
import { GAN } from '../../lib/gan/gan';
import { energyDistance, modeCoverage } from '../../lib/metrics';
import { gaussianRing, gaussianRingModes, loadMnist } from '../../datasets';
import { arg, mean, runMain, std } from './common';

const ROOT = path.join(__dirname, '..', '..', '..');
const PYTHON = process.env.GENLAB_TORCH_PYTHON ?? path.join(ROOT, '.venv-peers', 'bin', 'python');

function torch(args: string[]): Record<string, unknown> {
  const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const py = spawnSync(PYTHON, [path.join(ROOT, 'bench', 'quality', 'gan.py'), ...args], {
    encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26,
  });
  if (py.status !== 0) throw new Error(`PyTorch twin failed (exit ${py.status}); is torch installed for ${PYTHON}?`);
  return JSON.parse(py.stdout);
}

/** The ring model of the quality check (genlab defaults for everything else). */
export function ringGan(seed: number): GAN {
  return new GAN({
    dataShape: [2], latentDim: 2, generatorUnits: [128, 128], discriminatorUnits: [128, 128],
    outputActivation: 'linear', batchNorm: false, dropout: 0, seed,
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
      const s = gan.sample(2000, { seed: 7 });
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
  const train = await loadMnist({ split: 'train' });
  const test = await loadMnist({ split: 'test' });
  const x = tf.tidy(() => train.images.mul(2).sub(1)) as tf.Tensor2D; // [0, 1] -> [-1, 1]
  const held = tf.tidy(() => test.images.slice([0, 0], [500, 784]).mul(2).sub(1)).arraySync() as number[][];
  const realTrain = tf.tidy(() => x.slice([0, 0], [500, 784])).arraySync() as number[][];
  // independent pixels: pixel j of "image" i comes from a random training image
  const rng = new Random(3);
  const all = x.dataSync();
  const n = x.shape[0];
  const indep = Array.from({ length: 500 }, () => Array.from({ length: 784 }, (_, j) => all[rng.int(n) * 784 + j]));
  const gan = new GAN({ dataShape: [784], labelSmoothing: 0.9, seed: 1 });
  const t0 = Date.now();
  const h = await gan.fit(x, { epochs, learningRate: 2e-4, progress: false });
  const s = gan.sample(500, { seed: 5 });
  const fake = s.arraySync() as number[][];
  console.log(`dense course GAN, ${epochs} epochs on ${n} digits (${((Date.now() - t0) / 1000).toFixed(0)} s): dReal ${h.dReal.map((v) => v.toFixed(3)).join(' ')} dFake ${h.dFake.map((v) => v.toFixed(3)).join(' ')}`);
  console.log(`energy distance to 500 held-out digits: GAN ${energyDistance(fake, held).toFixed(3)}, independent pixels ${energyDistance(indep, held).toFixed(3)}, real train digits ${energyDistance(realTrain, held).toFixed(3)}`);
  tf.dispose([x, s, train.images, test.images]);
  gan.dispose();
}

async function time(): Promise<void> {
  const rows = 10000;
  const reps = arg('time-epochs', 1);
  const x = tf.tidy(() => tf.randomUniform([rows, 784], -1, 1, 'float32', 1)) as tf.Tensor2D;
  for (const arch of ['dense', 'conv'] as const) {
    const gan = new GAN({ dataShape: arch === 'conv' ? [28, 28, 1] : [784], architecture: arch, labelSmoothing: 0.9, seed: 1 });
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
