/**
 * One training epoch of genlab's DDPM against the same model in PyTorch (issue 15; the DDPM rows of bench/RESULTS.md,
 * every run in bench/HISTORY.md, "DDPM: one epoch on 10k digits"). Models: the default MLP noise predictor on flat digits
 * (concat(x, 64 sinusoidal) -> 128 -> 128 -> 128 -> 784, Adam 1e-3) and the default U-Net (16-32-64 channels,
 * Adam 2e-4), batch 128, T = 300, on the 10k bundled MNIST digits: genlab takes them in [0, 1] with
 * `dataRange: [0, 1]` (it maps them onto [-1, 1] itself), PyTorch reads them mapped so. Each side trains a warm-up
 * epoch first; the second epoch is timed. One thread each (PyTorch: torch.set_num_threads(1) and OMP/OpenBLAS
 * variables).
 *
 *   npm run build && node dist/bench/ddpm-epoch.js [--rows 10000] [--unet-rows 2000] [--no-peer]
 *
 * `--unet-rows`: genlab's U-Net epoch is timed on this many digits and scaled to 10k (the full epoch takes minutes
 * on WASM); PyTorch always runs the full 10k.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ready, tf } from '../lib/engine/backend';
import { DDPM } from '../lib/diffusion/ddpm';
import { rescale } from '../lib/core/data';
import { loadMnist } from '../datasets';
import { peerPython } from './peer-python';
import { arg } from './quality/common';

async function timeGenlab(kind: 'mlp' | 'unet', x: tf.Tensor2D): Promise<{ warm: number; epoch: number }> {
  const model = new DDPM({ dataShape: kind === 'mlp' ? [784] : [28, 28, 1], dataRange: [0, 1], seed: 1 });
  let t0 = Date.now();
  await model.fit(x, { epochs: 1, progress: false });
  const warm = (Date.now() - t0) / 1000;
  t0 = Date.now();
  await model.fit(x, { epochs: 1, progress: false });
  const epoch = (Date.now() - t0) / 1000;
  model.dispose();
  return { warm, epoch };
}

async function main(): Promise<void> {
  const backend = await ready();
  const rows = arg('rows', 10000);
  const unetRows = arg('unet-rows', 2000);
  const train = await loadMnist({ split: 'train' });
  const test = await loadMnist({ split: 'test' });
  const all = tf.tidy(() => tf.concat([train.images, test.images]).slice([0, 0], [rows, 784])) as tf.Tensor2D; // in [0, 1]
  tf.dispose([train.images, test.images]);
  const root = path.join(__dirname, '..', '..');
  const py = peerPython();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-ddpm-epoch-'));
  const file = path.join(dir, 'digits.f32');
  const scaled = rescale(all, [0, 1], [-1, 1]); // the PyTorch twin has no dataRange: it reads the digits as genlab trains on them
  fs.writeFileSync(file, Buffer.from((await scaled.data()).buffer));
  scaled.dispose();
  const lines: string[] = [];
  for (const kind of ['mlp', 'unet'] as const) {
    const n = kind === 'unet' ? Math.min(unetRows, rows) : rows;
    const x = tf.tidy(() => all.slice([0, 0], [n, 784])) as tf.Tensor2D;
    const g = await timeGenlab(kind, x);
    x.dispose();
    const scale = rows / n;
    let peer = 'not run';
    let ratio = '';
    if (py && !process.argv.includes('--no-peer')) {
      const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
      const r = spawnSync(py, [path.join(root, 'bench', 'quality', 'ddpm.py'), 'epoch', kind, file, String(rows), '1'], { encoding: 'utf8', env });
      if (r.status !== 0) throw new Error(`ddpm.py failed: ${r.stderr}`);
      const info = JSON.parse(r.stdout.trim().split('\n').pop()!);
      peer = `${info.seconds[1].toFixed(2)} (warm-up ${info.seconds[0].toFixed(2)}), torch ${info.torch}, ${info.params} parameters`;
      ratio = ((g.epoch * scale) / info.seconds[1]).toFixed(2);
    }
    const line = `| ${kind === 'mlp' ? 'DDPM MLP 784+64-128-128-128-784' : 'DDPM U-Net 16-32-64'} | ${(g.epoch * scale).toFixed(2)}${scale !== 1 ? ` (${n} rows x ${scale})` : ''} (warm-up ${(g.warm * scale).toFixed(2)}) | ${peer} | ${ratio} |`;
    console.log(line);
    lines.push(line);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  all.dispose();
  console.log(`\nbackend ${backend}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${new Date().toISOString().slice(0, 16)} UTC`);
  console.log('| model | genlab s/epoch | PyTorch s/epoch | ratio |\n|---|---|---|---|\n' + lines.join('\n'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
