/**
 * Seconds per training step of the two models issue 24 is about, for measuring one engine lever at a time:
 * the DDPM U-Net (16-32-64, batch 128) and the DCGAN (genlab's conv GAN, batch 128), each fitted for one epoch on
 * `--rows` random images after a warm-up epoch, `--repeats` times; the minimum per step is the figure (the machine
 * is shared: the minimum is the least disturbed run; the CPU seconds of all threads are printed too). `--profile`
 * adds a per-kernel table of one epoch (tf.profile's wall times), `--cpu-profile` one of CPU times.
 *
 *   GENLAB_BACKEND=wasm GENLAB_BLAS_THREADS=1 node dist/bench/engine-steps.js --model unet [--rows 512] [--repeats 5]
 *   GENLAB_BACKEND=tensorflow node dist/bench/engine-steps.js --model dcgan --profile
 */
import { parseArgs } from 'node:util';
import { tf, ready } from '../lib/engine/backend';
import { fastKernelReport } from '../lib/engine/kernels';
import { DDPM } from '../lib/diffusion/ddpm';
import { GAN } from '../lib/gan/gan';
import { kernelTimes } from './stats';

const BATCH = 128;

interface Fittable {
  fit(x: tf.Tensor, opts: { epochs: number; batchSize: number; progress: false }): Promise<unknown>;
  dispose(): void;
}

function build(model: string): Fittable {
  if (model === 'unet') return new DDPM({ dataShape: [28, 28, 1], dataRange: [0, 1], seed: 1 });
  if (model === 'dcgan') {
    return new GAN({ dataShape: [28, 28, 1], dataRange: [0, 1], architecture: 'conv', labelSmoothing: 0.9, seed: 1 });
  }
  throw new Error(`--model must be unet or dcgan; got ${model}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'unet' },
      rows: { type: 'string', default: '512' },
      repeats: { type: 'string', default: '5' },
      profile: { type: 'boolean', default: false },
      'cpu-profile': { type: 'boolean', default: false },
    },
  });
  const backend = await ready();
  const rows = Number(values.rows);
  const steps = Math.ceil(rows / BATCH);
  const x = tf.tidy(() => tf.randomUniform([rows, 28, 28, 1], 0, 1, 'float32', 1));
  const model = build(values.model!);
  const fit = () => model.fit(x, { epochs: 1, batchSize: BATCH, progress: false });
  await fit(); // warm-up: first calls of every kernel, recordings of compiled steps
  const perStep: number[] = [];
  const cpuPerStep: number[] = [];
  for (let r = 0; r < Number(values.repeats); r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await fit();
    perStep.push((performance.now() - t0) / 1000 / steps);
    const c = process.cpuUsage(c0);
    cpuPerStep.push((c.user + c.system) / 1e6 / steps);
  }
  const report = fastKernelReport();
  const min = Math.min(...perStep);
  console.log(
    `${values.model} on ${backend} (${report.native ? `addon, ${report.threads} threads` : 'no addon'}), batch ${BATCH}: ` +
      `min ${min.toFixed(3)} s/step (CPU ${Math.min(...cpuPerStep).toFixed(3)} s), all ${perStep.map((s) => s.toFixed(3)).join(' ')}`,
  );
  if (values['cpu-profile']) {
    const table = await cpuProfile(backend, fit);
    const total = [...table.values()].reduce((a, e) => a + e.ms, 0);
    console.log(`kernels ${(total / steps).toFixed(0)} CPU ms/step (outermost kernel calls)`);
    for (const [name, e] of [...table.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
      console.log(`  ${name.padEnd(28)} ${(e.ms / steps).toFixed(1).padStart(8)} ms/step ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  ${e.calls / steps} calls/step`);
    }
  }
  if (values.profile) {
    const info = await tf.profile(async () => {
      await fit();
    });
    const byKernel = kernelTimes(info.kernels);
    const total = byKernel.reduce((s, [, e]) => s + e.ms, 0);
    console.log(`kernels ${(total / steps).toFixed(0)} ms/step`);
    for (const [name, e] of byKernel.slice(0, 25)) {
      console.log(`  ${name.padEnd(28)} ${(e.ms / steps).toFixed(1).padStart(8)} ms/step ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  ${e.calls / steps} calls/step`);
    }
  }
  model.dispose();
  x.dispose();
}

/**
 * CPU milliseconds per kernel over one `run()`: every kernel of the backend wrapped to read the process's CPU clock
 * (all threads) around its outermost calls. Robust to other load on the machine, unlike tf.profile's wall times.
 */
async function cpuProfile(backend: string, run: () => Promise<unknown>): Promise<Map<string, { ms: number; calls: number }>> {
  const table = new Map<string, { ms: number; calls: number }>();
  const originals = tf.getKernelsForBackend(backend);
  let depth = 0;
  for (const k of originals) {
    tf.unregisterKernel(k.kernelName, backend);
    tf.registerKernel({
      ...k,
      kernelFunc: ((args: Parameters<tf.KernelFunc>[0]) => {
        if (depth > 0) return k.kernelFunc(args);
        depth++;
        const c0 = process.cpuUsage();
        try {
          return k.kernelFunc(args);
        } finally {
          const c = process.cpuUsage(c0);
          depth--;
          const e = table.get(k.kernelName) ?? { ms: 0, calls: 0 };
          e.ms += (c.user + c.system) / 1000;
          e.calls++;
          table.set(k.kernelName, e);
        }
      }) as tf.KernelFunc,
    });
  }
  try {
    await run();
  } finally {
    for (const k of originals) {
      tf.unregisterKernel(k.kernelName, backend);
      tf.registerKernel(k);
    }
  }
  return table;
}

main().catch((err) => {
  console.error((err as Error).stack ?? String(err));
  process.exit(1);
});
