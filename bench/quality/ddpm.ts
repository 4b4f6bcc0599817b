/**
 * Quality check of genlab's DDPM against PyTorch (issue 15): default settings (T = 300, linear betas 1e-4 .. 0.02,
 * the MLP noise predictor concat(x, 64 sinusoidal features) -> 128 -> 128 -> 128 (SiLU) -> 2, Adam 1e-3, batch 128),
 * 100 epochs on 8000 points of the 8-Gaussian ring (radius 2, std 0.02), ancestral sampling. Target: all 8 modes
 * covered and most samples within 0.2 of a mode. The same model and settings in PyTorch (bench/quality/ddpm.py)
 * train on the same points; both sample sets are scored by the same code (lib/metrics).
 *
 * Run (from the repository root):
 *   npm run build && node dist/bench/quality/ddpm.js [--seeds 3] [--epochs 100] [--samples 2000] [--write]
 * `--write` rewrites bench/quality/RESULTS-ddpm.md. The PyTorch peer runs with $GENLAB_PEER_PYTHON, else
 * .venv-peers/bin/python, else .venv/bin/python (each needs torch and numpy: `pip install torch numpy`).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ready, tf } from '../../lib/engine/backend';
import { DDPM } from '../../lib/diffusion/ddpm';
import { energyDistance, modeCoverage } from '../../lib/metrics/samples';
import { gaussianRing, gaussianRingModes } from '../../datasets';
import { peerPython } from '../peer-python';
import { arg, mean, publishReport, runMain, std } from './common';

interface Score {
  covered: number;
  near02: number;
  near006: number;
  energy: number;
  seconds: number;
}

function score(samples: number[][], heldOut: number[][], seconds: number): Score {
  const modes = gaussianRingModes();
  const wide = modeCoverage(samples, modes, { radius: 0.2 });
  const tight = modeCoverage(samples, modes, { radius: 0.06 });
  return { covered: wide.covered, near02: wide.fractionNear, near006: tight.fractionNear, energy: energyDistance(samples.slice(0, 1000), heldOut), seconds };
}

function rows(name: string, s: Score[]): string {
  const f = (k: keyof Score, digits: number) => `${mean(s.map((x) => x[k])).toFixed(digits)} ± ${std(s.map((x) => x[k])).toFixed(digits)}`;
  const each = s.map((x) => `${x.covered}/8, ${(100 * x.near02).toFixed(1)}%`).join('; ');
  return `| ${name} | ${f('covered', 1)} | ${(100 * mean(s.map((x) => x.near02))).toFixed(1)}% ± ${(100 * std(s.map((x) => x.near02))).toFixed(1)} | ${(100 * mean(s.map((x) => x.near006))).toFixed(1)}% ± ${(100 * std(s.map((x) => x.near006))).toFixed(1)} | ${f('energy', 4)} | ${f('seconds', 0)} | ${each} |`;
}

async function main(): Promise<void> {
  const backend = await ready();
  const nSeeds = arg('seeds', 3);
  const epochs = arg('epochs', 100);
  const nSamples = arg('samples', 2000);
  const n = 8000;
  const heldOutT = gaussianRing({ n: 1000, seed: 999 });
  const heldOut = heldOutT.arraySync() as number[][];
  heldOutT.dispose();
  const ref = gaussianRing({ n: 1000, seed: 998 });
  const baseline = energyDistance(ref.arraySync() as number[][], heldOut);
  ref.dispose();
  const python = peerPython();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-ddpm-quality-'));
  const ours: Score[] = [];
  const peer: Score[] = [];
  let torchVersion = 'not run';
  for (let seed = 1; seed <= nSeeds; seed++) {
    const x = gaussianRing({ n, seed });
    const model = new DDPM({ dataShape: [2], seed });
    const t0 = Date.now();
    await model.fit(x, { epochs, progress: false });
    const secs = (Date.now() - t0) / 1000;
    const s = await model.sample(nSamples, { seed: 1000 + seed });
    ours.push(score(s.arraySync() as number[][], heldOut, secs));
    console.log(`genlab seed ${seed}:`, ours[ours.length - 1]);
    if (python) {
      fs.writeFileSync(path.join(dir, 'data.f32'), Buffer.from((await x.data()).buffer));
      fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ n, d: 2, epochs, lr: 1e-3, seed, samples: nSamples, threads: 1 }));
      const r = spawnSync(python, [path.join(__dirname, '..', '..', '..', 'bench', 'quality', 'ddpm.py'), 'quality', path.join(dir, 'data.f32'), path.join(dir, 'meta.json'), path.join(dir, 'out.f32')], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ddpm.py failed: ${r.stderr}`);
      const info = JSON.parse(r.stdout.trim().split('\n').pop()!);
      torchVersion = info.torch;
      const buf = fs.readFileSync(path.join(dir, 'out.f32'));
      const f = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
      const pts = Array.from({ length: nSamples }, (_, i) => [f[2 * i], f[2 * i + 1]]);
      peer.push(score(pts, heldOut, info.seconds));
      console.log(`pytorch seed ${seed}:`, peer[peer.length - 1]);
    }
    tf.dispose([x, s]);
    model.dispose();
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const pass = ours.every((s) => s.covered === 8 && s.near02 > 0.5);
  const report = [
    '# DDPM quality: the 8-Gaussian ring (issue 15)',
    '',
    `Default settings (T = 300, linear betas 1e-4 .. 0.02, MLP concat(x, 64 sinusoidal) -> 128 -> 128 -> 128 SiLU -> 2,`,
    `simple eps-MSE loss, Adam 1e-3, batch 128), ${epochs} epochs on ${n} points of the ring (8 modes, radius 2, std 0.02),`,
    `${nSamples} ancestral samples per run, seeds 1..${nSeeds}. genlab backend: ${backend}; PyTorch ${torchVersion} (1 thread),`,
    'the same model, settings and training points (bench/quality/ddpm.py), scored by the same code (lib/metrics).',
    '',
    '| model | modes covered (>= 20 samples within 0.2) | samples within 0.2 of a mode | within 0.06 (3 std) | energy distance to 1000 held-out points | training s | per seed |',
    '|---|---|---|---|---|---|---|',
    rows('genlab DDPM', ours),
    peer.length ? rows('PyTorch DDPM', peer) : '| PyTorch DDPM | not run: no Python with torch found | | | | | |',
    '',
    `Real-vs-real energy distance (1000 fresh ring points vs the same held-out points): ${baseline.toFixed(4)}.`,
    '',
    `Target (all 8 modes, most samples within 0.2, every seed): ${pass ? 'met' : 'NOT met'}.`,
    '',
    'Within 0.06 (3 std) is the issue\'s reference figure for a plain PyTorch DDPM with an MLP (25-48%); both columns',
    'should land in that range. Training seconds are wall time on a shared machine (other sessions running): they',
    'are no speed comparison (see bench/RESULTS.md for that).',
    '',
    `Command: \`node dist/bench/quality/ddpm.js --seeds ${nSeeds} --epochs ${epochs} --samples ${nSamples} --write\` (${new Date().toISOString().slice(0, 16)} UTC).`,
    '',
  ].join('\n');
  publishReport(report, 'RESULTS-ddpm.md');
}

runMain(main);
