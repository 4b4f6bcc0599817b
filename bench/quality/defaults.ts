/**
 * Defaults on the data they are given (issue #27): every family of test/defaults/cases.ts built with nothing but
 * `dataShape: [2]` and `seed`, trained with its default epochs, scored per seed (test/defaults/ring.ts), and the
 * PyTorch twins of the GAN's and the DDPM's defaults (bench/quality/gan.py and ddpm.py `ring-data`) on the same ring
 * points. Prints the markdown
 * tables of bench/quality/DEFAULTS.md. Runs one model at a time (the machine is shared).
 *
 * Usage: node dist/bench/quality/defaults.js [--part ring|ring2000|gaussian|torch|digits|all] [--family GAN|EnergyModel|DDPM]
 *   [--seeds 1,2,3] [--out runs.json]            the runs (appended to runs.json when given), then their tables
 *   node dist/bench/quality/defaults.js --report runs.json [more.json ...]     the tables of saved runs
 * Experiments (not in DEFAULTS.md): --part ring --n 2000 --model '{"latentDim":4}' --fit '{"epochs":60}' --eval-every 5
 * PyTorch: the first Python with torch of GENLAB_PEER_PYTHON, GENLAB_TORCH_PYTHON, .venv-peers, .venv (bench/peer-python.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ready, tf } from '../../lib/engine/backend';
import { epochsForSteps } from '../../lib/core/defaults';
import { DEFAULTS_CASES } from '../../test/defaults/cases';
import { dataCheck, ringCheck, scoreRing, RING } from '../../test/defaults/ring';
import { gaussianRing } from '../../datasets/synthetic';
import { loadMnist } from '../../datasets/mnist';
import { PEER_PYTHON_HOW, peerPython } from '../peer-python';
import { mean, runMain } from './common';

const ROOT = path.join(__dirname, '..', '..', '..');

/** One run's figures, as the tables show them. */
interface Run {
  part: string;
  family: string;
  side: string;
  seed: number;
  n: number;
  epochs: number;
  covered?: number;
  fractionNear?: number;
  energyDistance: number;
  gaussianEnergyDistance: number;
  realEnergyDistance?: number;
  fitSeconds?: number;
  fitCpuSeconds: number;
  describe: string;
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/**
 * The PyTorch twins of genlab's defaults for [2] (lib/gan/gan.ts and lib/diffusion/ddpm.ts DEFAULTS.vector), each
 * with its script's arguments after the data folder and seeds: the same network, data, steps and weight average.
 */
const TWINS: Record<string, { script: string; args: (epochs: number) => string[]; describe: string }> = {
  // 2500 steps of 128, Adam 1e-3, average 0.999
  GAN: { script: 'gan.py', args: (epochs) => [String(epochs), '1e-3', '0.999'], describe: 'dense G 2-128-128-2 linear D 2-128-128-1 non-saturating average 0.999' },
  // 2500 steps of 128, Adam 1e-3, average 0.999, 6 octaves of input features
  DDPM: { script: 'ddpm.py', args: (epochs) => [String(epochs), '1e-3', '0.999', '6'], describe: 'mlp 2+sin/cos x 6 octaves+64-128-128-128-2, T=300 linear, average 0.999' },
};

/** A default's PyTorch twin ({@link TWINS}) on genlab's ring points of each seed. */
function torchRing(family: string, seeds: number[], n: number): Run[] {
  const twin = TWINS[family];
  const python = peerPython();
  if (!python) throw new Error(`no python with torch for the PyTorch twin: ${PEER_PYTHON_HOW}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-defaults-'));
  try {
    for (const seed of seeds) {
      const x = gaussianRing({ n, seed });
      fs.writeFileSync(path.join(dir, `ring${seed}.f32`), Buffer.from(new Float32Array(x.dataSync()).buffer));
      x.dispose();
    }
    const epochs = epochsForSteps(2500, n, 128);
    const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
    const py = spawnSync(python, [path.join(ROOT, 'bench', 'quality', twin.script), 'ring-data', dir, seeds.join(','), ...twin.args(epochs), String(RING.samples)], {
      encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (py.status !== 0) throw new Error(`PyTorch twin failed (exit ${py.status}); see its error above (${python})`);
    const out = JSON.parse(py.stdout) as { torch: string; runs: Array<{ seed: number; seconds: number; cpu: number }> };
    return out.runs.map((r) => {
      const raw = fs.readFileSync(path.join(dir, `torch-ring${r.seed}.f32`));
      const s = tf.tensor2d(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), [RING.samples, 2]);
      const x = gaussianRing({ n, seed: r.seed });
      const score = scoreRing(s, x, r.seed);
      tf.dispose([s, x]);
      return {
        part: 'torch', family, side: `PyTorch ${out.torch}`, seed: r.seed, n, epochs, ...score,
        fitSeconds: r.seconds, fitCpuSeconds: r.cpu, describe: twin.describe,
      };
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What the image defaults cost: each family built with `dataShape: [28, 28, 1]` and seed 1, one epoch (its default
 * recipe otherwise) on the first `rows` training digits in [0, 1], timed after a one-batch warm-up fit.
 */
async function digitCost(families: typeof DEFAULTS_CASES, rows: number): Promise<void> {
  const digits = await loadMnist({ split: 'train', limit: rows });
  const x = digits.images.reshape([rows, 28, 28, 1]);
  try {
    for (const family of families) {
      const model = family.build([28, 28, 1], 1);
      try {
        const warm = x.slice([0, 0, 0, 0], [8, 28, 28, 1]);
        await model.fit(warm, { epochs: 1, batchSize: 8, progress: false }); // compiles, allocates
        warm.dispose();
        const c0 = process.cpuUsage();
        const t0 = Date.now();
        await model.fit(x, { epochs: 1, progress: false });
        const c = process.cpuUsage(c0);
        const cpu = (c.user + c.system) / 1e6;
        console.log(JSON.stringify({ part: 'digits', family: family.name, describe: model.describe(), rows, wallSeconds: (Date.now() - t0) / 1000, cpuSeconds: cpu, cpuPer1000: (1000 * cpu) / rows }));
      } finally {
        model.dispose();
      }
    }
  } finally {
    x.dispose();
    digits.images.dispose();
  }
}

const pct = (v: number | undefined): string => (v === undefined ? '' : `${(100 * v).toFixed(1)}%`);

/** The markdown tables of `runs`. */
function tables(runs: Run[]): string {
  const lines: string[] = [];
  const ring = runs.filter((r) => r.part !== 'gaussian');
  if (ring.length) {
    lines.push('| family | side | n | seed | epochs | modes | within 0.06 | energy distance | fitted Gaussian | ratio | fit s (wall / CPU) |');
    lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of ring) {
      lines.push(`| ${r.family} | ${r.side} | ${r.n} | ${r.seed} | ${r.epochs} | ${r.covered}/8 | ${pct(r.fractionNear)} | ${r.energyDistance.toFixed(4)} | ${r.gaussianEnergyDistance.toFixed(4)} | ${(r.energyDistance / r.gaussianEnergyDistance).toFixed(3)} | ${r.fitSeconds?.toFixed(0) ?? ''} / ${r.fitCpuSeconds.toFixed(0)} |`);
    }
    lines.push('');
  }
  const gauss = runs.filter((r) => r.part === 'gaussian');
  if (gauss.length) {
    lines.push('| family | n | seed | epochs | energy distance | fitted Gaussian | real vs real | fit s (CPU) |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of gauss) {
      lines.push(`| ${r.family} | ${r.n} | ${r.seed} | ${r.epochs} | ${r.energyDistance.toFixed(4)} | ${r.gaussianEnergyDistance.toFixed(4)} | ${r.realEnergyDistance?.toFixed(4)} | ${r.fitCpuSeconds.toFixed(0)} |`);
    }
    lines.push('');
  }
  const groups = new Map<string, Run[]>();
  for (const r of runs) groups.set(`${r.part} ${r.family} ${r.side} n ${r.n}`, [...(groups.get(`${r.part} ${r.family} ${r.side} n ${r.n}`) ?? []), r]);
  for (const [key, rs] of groups) {
    lines.push(`- ${key}: ${rs.length} seed(s), mean fit ${mean(rs.map((r) => r.fitCpuSeconds)).toFixed(1)} s CPU (${rs[0].describe})`);
  }
  return lines.join('\n');
}

async function experiment(seeds: number[]): Promise<void> {
  const families = DEFAULTS_CASES.filter((c) => !option('family') || c.name === option('family'));
  const n = Number(option('n') ?? RING.n);
  const options = JSON.parse(option('model') ?? '{}') as Record<string, unknown>;
  const fit = JSON.parse(option('fit') ?? '{}') as Record<string, unknown>;
  const every = Number(option('eval-every') ?? 0);
  for (const family of families) {
    for (const seed of seeds) {
      const c0 = process.cpuUsage();
      const r = await ringCheck(family, seed, {
        n, options, fit,
        onEpoch: every > 0 ? async (epoch, model, train) => {
          if (epoch % every !== 0) return;
          const s = await model.sample(RING.samples, { seed: 1000 + seed });
          const sc = scoreRing(s, train, seed);
          s.dispose();
          const c = process.cpuUsage(c0);
          console.log(`  ${family.name} seed ${seed} epoch ${epoch}: ${sc.covered}/8, near ${pct(sc.fractionNear)}, ED ${sc.energyDistance.toFixed(4)} (Gaussian ${sc.gaussianEnergyDistance.toFixed(4)}), CPU ${((c.user + c.system) / 1e6).toFixed(0)} s`);
        } : undefined,
      });
      console.log(`${r.family} seed ${r.seed} n ${n} ${r.describe}, ${r.epochs} epochs: ${r.covered}/8 [${r.counts.join(',')}], near ${pct(r.fractionNear)}, ED ${r.energyDistance.toFixed(4)} vs Gaussian ${r.gaussianEnergyDistance.toFixed(4)}; fit ${r.fitSeconds.toFixed(1)} s wall, ${r.fitCpuSeconds.toFixed(1)} s CPU`);
    }
  }
}

runMain(async () => {
  console.log(`backend ${await ready()}`);
  const reportAt = process.argv.indexOf('--report');
  if (reportAt >= 0) {
    const files = process.argv.slice(reportAt + 1).filter((a) => !a.startsWith('--'));
    console.log(tables(files.flatMap((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as Run[])));
    return;
  }
  const seeds = (option('seeds') ?? '1,2,3').split(',').map(Number);
  if (option('model') || option('fit') || option('eval-every') || option('n')) return experiment(seeds);
  const part = option('part') ?? 'all';
  const families = DEFAULTS_CASES.filter((c) => !option('family') || c.name === option('family'));
  const out = option('out');
  const runs: Run[] = out && fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, 'utf8')) as Run[]) : [];
  const keep = (r: Run): void => {
    runs.push(r);
    console.log(JSON.stringify(r));
    if (out) fs.writeFileSync(out, JSON.stringify(runs, null, 1));
  };
  for (const [name, n] of [['ring', RING.n], ['ring2000', 2000]] as const) {
    if (part !== name && part !== 'all') continue;
    for (const family of families) {
      for (const seed of seeds) {
        const r = await ringCheck(family, seed, { n });
        keep({ part: name, side: `genlab (${tf.getBackend()})`, n, ...r });
      }
    }
  }
  if (part === 'gaussian' || part === 'all') {
    for (const family of families) {
      for (const seed of seeds) {
        const r = await dataCheck(family, 'correlatedGaussian', seed);
        keep({ part: 'gaussian', family: family.name, side: `genlab (${tf.getBackend()})`, seed, n: RING.n, ...r });
      }
    }
  }
  if (part === 'digits') return digitCost(families, Number(option('rows') ?? 1000));
  if (part === 'torch' || part === 'all') families.filter((f) => TWINS[f.name]).forEach((f) => torchRing(f.name, seeds, RING.n).forEach(keep));
  console.log(tables(runs));
});
