/**
 * Quality check of genlab's EnergyModel (issue 14) on the 8-Gaussian ring (8000 points, radius 2, std 0.02), default
 * settings but K = 60 Langevin steps per update (the default before issue #27), 100 epochs, against the same
 * short-run EBM written in PyTorch (bench/quality/ebm.py) on the same data:
 * samples drawn from noise must cover >= 7 of 8 modes (20+ samples within 0.06 = 3 std), at least half of them
 * that close, with an energy distance to held-out data far below that of a single Gaussian fitted to the data.
 *
 * Run (from the repository root; one process per seed and side can run side by side):
 *   npx tsc -p tsconfig.json
 *   node dist/bench/quality/ebm.js --seeds 1,2,3 --side both --out /tmp/ebm-runs.json [--epochs 100]
 *   node dist/bench/quality/ebm.js --report /tmp/ebm-runs.json [more.json ...] [--write]
 * `--side torch|both` needs a python with torch: GENLAB_PEER_PYTHON, else .venv-peers/bin/python, else .venv/bin/python.
 * `--write` rewrites bench/quality/RESULTS-ebm.md. `--eval-every 10` also records an evaluation every 10 epochs.
 * PyTorch standalone (how RESULTS-ebm.md was made, runs in parallel with genlab's):
 *   node dist/bench/quality/ebm.js --write-data DIR --seeds 1,2,3          # DIR/ring<seed>.f32, the same rings
 *   python bench/quality/ebm.py --data DIR/ring1.f32 --out DIR/s1.f32 --seed 1 --eval-every 10 > DIR/s1.log
 *   node dist/bench/quality/ebm.js --score-torch DIR --out torch-runs.json
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ready, tf } from '../../lib/engine/backend';
import { EnergyModel } from '../../lib/ebm';
import { gaussianRing } from '../../datasets/synthetic';
import { scoreRing, type RingFigures } from '../../test/defaults/ring';
import { PEER_PYTHON_HOW, peerPython } from '../peer-python';
import { arg, mean, publishReport, runMain, std } from './common';

const N_TRAIN = 8000;
const N_SAMPLES = 2000;
const ROOT = path.join(__dirname, '..', '..', '..');

/** One trained model's figures. */
interface Run extends RingFigures {
  side: 'genlab' | 'PyTorch';
  seed: number;
  epochs: number;
  secondsPerEpoch: number[];
  /** CPU seconds per epoch (user + system of the process): fairer than wall time on a busy machine. */
  cpuSecondsPerEpoch: number[];
  version: string;
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The ring scores of test/defaults/ring.ts (2000 held-out points of seed 100 + seed, a fitted Gaussian's draws). */
function score(side: Run['side'], seed: number, epochs: number, samples: number[][], train: number[][], seconds: number[], cpu: number[], version: string): Run {
  return {
    side,
    seed,
    epochs,
    ...scoreRing(samples, train, seed),
    secondsPerEpoch: seconds,
    cpuSecondsPerEpoch: cpu,
    version,
  };
}

function torchPython(): string {
  const found = peerPython();
  if (!found) throw new Error(`no python with torch: ${PEER_PYTHON_HOW}`);
  return found;
}

async function train(seed: number, epochs: number, side: string, evalEvery: number, out?: string): Promise<Run[]> {
  const data = gaussianRing({ n: N_TRAIN, seed });
  const trainPoints = data.arraySync() as number[][];
  const runs: Run[] = [];
  if (side === 'genlab' || side === 'both') {
    const model = new EnergyModel({ dataShape: [2], seed }); // default settings but K (below)
    const seconds: number[] = [];
    const cpu: number[] = [];
    let t0 = Date.now();
    let c0 = process.cpuUsage();
    await model.fit(data, {
      epochs,
      langevin: { steps: 60 }, // K of RESULTS-ebm.md and of ebm.py (the default for vectors is now 10: DEFAULTS.md)
      progress: false,
      onEpoch: async (epoch, logs) => {
        seconds.push((Date.now() - t0) / 1000);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1e6);
        if (epoch % 10 === 0) console.log(`genlab seed ${seed} epoch ${epoch}: ${JSON.stringify(logs)}`);
        if (evalEvery > 0 && epoch % evalEvery === 0 && epoch < epochs) {
          // An intermediate evaluation (same sampler settings and seed as the final one), recorded as its own row.
          const s = await model.sample(N_SAMPLES, { seed: 1000 + seed });
          runs.push(score('genlab', seed, epoch, s.arraySync(), trainPoints, seconds.slice(), cpu.slice(), `genlab (${tf.getBackend()})`));
          s.dispose();
          if (out) fs.writeFileSync(out, JSON.stringify(runs, null, 1));
        }
        c0 = process.cpuUsage();
        t0 = Date.now();
      },
    });
    const s = await model.sample(N_SAMPLES, { seed: 1000 + seed });
    runs.push(score('genlab', seed, epochs, s.arraySync(), trainPoints, seconds, cpu, `genlab (${tf.getBackend()})`));
    s.dispose();
    model.dispose();
  }
  if (side === 'torch' || side === 'both') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-ebm-quality-'));
    fs.writeFileSync(path.join(dir, 'ring.f32'), Buffer.from(new Float32Array(data.dataSync()).buffer));
    const out = path.join(dir, 'samples.f32');
    const script = path.join(ROOT, 'bench', 'quality', 'ebm.py');
    const r = spawnSync(torchPython(), [script, '--data', path.join(dir, 'ring.f32'), '--out', out, '--epochs', String(epochs), '--seed', String(seed), '--samples', String(N_SAMPLES)], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    if (r.status !== 0) throw new Error(`ebm.py failed: ${r.stderr}`);
    const line = r.stdout.split('\n').find((l) => l.startsWith('EBM_RESULT '));
    const info = JSON.parse(line!.slice('EBM_RESULT '.length)) as { seconds: number[]; cpu: number[]; torch: string };
    const buf = fs.readFileSync(out);
    const f = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const samples = Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]]);
    runs.push(score('PyTorch', seed, epochs, samples, trainPoints, info.seconds, info.cpu, `PyTorch ${info.torch}`));
    fs.rmSync(dir, { recursive: true, force: true });
  }
  data.dispose();
  return runs;
}

const median = (xs: number[]): number => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};

function report(runs: Run[]): string {
  const lines: string[] = [];
  const date = new Date().toISOString().slice(0, 10);
  lines.push('# EnergyModel quality: genlab vs PyTorch (short-run EBM on the 8-Gaussian ring)', '');
  lines.push(`Generated by \`bench/quality/ebm.ts\` on ${date}. Reproduce:`, '', '```sh');
  lines.push('npx tsc -p tsconfig.json');
  lines.push('node dist/bench/quality/ebm.js --seeds 1,2,3 --side both --out /tmp/ebm-runs.json');
  lines.push('node dist/bench/quality/ebm.js --report /tmp/ebm-runs.json --write', '```', '');
  lines.push('**Data:** `gaussianRing({ n: 8000, seed })`: 8 modes on a circle of radius 2, std 0.02. **Model and training, both');
  lines.push('sides:** genlab `new EnergyModel({ dataShape: [2], seed })` and `fit(x, { epochs: 100, langevin: { steps: 60 } })` with every');
  lines.push('other setting at its default, i.e. energy MLP 2-128-128-1 (SiLU, PyTorch init), batch 256, Adam 1e-3, replay buffer 10000 with');
  lines.push('5% fresh uniform noise over the data range, K = 60 Langevin steps x <- clip(x - 0.01 grad E + 0.005 z), alpha 0.1;');
  lines.push('PyTorch: the same model written with torch ops (`bench/quality/ebm.py`, one thread). **Evaluation:** 2000 chains');
  lines.push('from uniform noise, `sample`\'s default 200 Langevin steps (PyTorch: 60) with the training step and noise; a mode is covered with 20+ samples within 0.06');
  lines.push('(3 std); energy distance (Szekely-Rizzo, `energyDistance`) to 2000 held-out ring points, against that of 2000 draws');
  lines.push('from a single Gaussian fitted to the training data.', '');
  lines.push('| side | seed | epochs | modes covered | samples within 0.06 | energy distance | fitted Gaussian | pass |');
  lines.push('|---|---|---|---|---|---|---|---|');
  const pass = (r: Run): boolean => r.covered >= 7 && r.fractionNear >= 0.5 && r.energyDistance < 0.25 * r.gaussianEnergyDistance;
  for (const r of runs) {
    lines.push(`| ${r.side} | ${r.seed} | ${r.epochs} | ${r.covered}/8 | ${(100 * r.fractionNear).toFixed(1)}% | ${r.energyDistance.toFixed(4)} | ${r.gaussianEnergyDistance.toFixed(4)} | ${pass(r) ? 'PASS' : 'fail'} |`);
  }
  lines.push('');
  for (const side of ['genlab', 'PyTorch'] as const) {
    const rs = runs.filter((r) => r.side === side);
    if (!rs.length) continue;
    const f = rs.map((r) => 100 * r.fractionNear);
    lines.push(`- ${side} (${rs[0].version}): modes covered ${rs.map((r) => r.covered).join(', ')}; within 0.06: mean ${mean(f).toFixed(1)}% (std ${std(f).toFixed(1)}); energy distance mean ${mean(rs.map((r) => r.energyDistance)).toFixed(4)} vs fitted Gaussian ${mean(rs.map((r) => r.gaussianEnergyDistance)).toFixed(4)}; median epoch ${median(rs.flatMap((r) => r.secondsPerEpoch.slice(1))).toFixed(2)} s wall, ${median(rs.flatMap((r) => r.cpuSecondsPerEpoch.slice(1))).toFixed(2)} s CPU.`);
  }
  lines.push('', 'Criterion (issue 14): >= 7 of 8 modes, >= 50% of samples within 0.06, energy distance below a quarter of the');
  const mine = runs.filter((r) => r.side === 'genlab');
  lines.push(`fitted Gaussian's. Result: **${mine.length === 0 ? 'no genlab runs' : mine.every(pass) ? 'PASS' : 'FAIL'}** for genlab over the seeds above.`);
  lines.push('', 'Timings are wall-clock on a shared 2-core machine (other jobs running), so treat them as rough; bench/RESULTS.md has the');
  lines.push('epoch-time comparison.');
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  await ready();
  const reportIdx = process.argv.indexOf('--report');
  if (reportIdx >= 0) {
    const files = process.argv.slice(reportIdx + 1).filter((a) => !a.startsWith('--'));
    const runs = files.flatMap((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as Run[]);
    runs.sort((a, b) => (a.side !== b.side ? (a.side === 'genlab' ? -1 : 1) : a.seed !== b.seed ? a.seed - b.seed : a.epochs - b.epochs));
    publishReport(report(runs), 'RESULTS-ebm.md');
    return;
  }
  const scoreDir = option('score-torch');
  if (scoreDir) {
    // Score samples files `<dir>/s<seed>.f32[.<epoch>]` written by `ebm.py --out <dir>/s<seed>.f32 --eval-every k`,
    // with the timings from its log `<dir>/s<seed>.log` (EBM_EVAL / EBM_RESULT lines).
    const runs: Run[] = [];
    for (const f of fs.readdirSync(scoreDir).filter((n) => /^s\d+\.f32/.test(n))) {
      const seed = Number(/^s(\d+)/.exec(f)![1]);
      const logLines = fs.readFileSync(path.join(scoreDir, `s${seed}.log`), 'utf8').split('\n');
      const epochSuffix = /\.f32\.(\d+)$/.exec(f);
      const final = logLines.find((l) => l.startsWith('EBM_RESULT '));
      const info = epochSuffix
        ? { ...JSON.parse(logLines.find((l) => l.startsWith('EBM_EVAL ') && JSON.parse(l.slice(9)).epoch === Number(epochSuffix[1]))!.slice(9)), torch: '' }
        : JSON.parse(final!.slice('EBM_RESULT '.length));
      const epoch = epochSuffix ? Number(epochSuffix[1]) : info.seconds.length;
      const buf = fs.readFileSync(path.join(scoreDir, f));
      const v = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
      const samples = Array.from({ length: v.length / 2 }, (_, i) => [v[2 * i], v[2 * i + 1]]);
      const data = gaussianRing({ n: N_TRAIN, seed });
      runs.push(score('PyTorch', seed, epoch, samples, data.arraySync() as number[][], info.seconds, info.cpu, `PyTorch ${info.torch || '2.x'}`));
      data.dispose();
    }
    fs.writeFileSync(option('out') ?? path.join(scoreDir, 'runs.json'), JSON.stringify(runs, null, 1));
    console.log(report(runs));
    return;
  }
  if (option('write-data')) {
    // Writes the ring of each seed for a standalone ebm.py run: <dir>/ring<seed>.f32.
    for (const seed of (option('seeds') ?? '1,2,3').split(',').map(Number)) {
      const data = gaussianRing({ n: N_TRAIN, seed });
      fs.writeFileSync(path.join(option('write-data')!, `ring${seed}.f32`), Buffer.from(new Float32Array(data.dataSync()).buffer));
      data.dispose();
    }
    return;
  }
  const seeds = (option('seeds') ?? '1,2,3').split(',').map(Number);
  const epochs = arg('epochs', 100);
  const side = option('side') ?? 'both';
  const out = option('out');
  const runs: Run[] = [];
  for (const seed of seeds) {
    runs.push(...(await train(seed, epochs, side, arg('eval-every', 0), out)));
    if (out) fs.writeFileSync(out, JSON.stringify(runs, null, 1));
  }
  console.log(report(runs));
}

runMain(main);
