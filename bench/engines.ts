/**
 * `npm run build && node dist/bench/engines.js [--only rbm,dense_vae,...] [--threads 1,default]
 *                        [--contenders wasm,tensorflow,torch,keras] [--epochs 4] [--rounds 1] [--rows N|w=N,...] [--record]
 *                        [--estimate]`
 *
 * genlab's two engines against the modern peers (issue 12 item 6; issue 24 item 1: every family), one epoch of each
 * workload (bench/workload-plan.ts; genlab's side in bench/workloads.ts):
 *   rbm, dense_vae, conv_vae      RBM 784-500 CD-1, dense VAE 784-512-512-20, the Keras lecture's conv VAE;
 *   dense_gan, dcgan              the course's dense GAN (G 100-256-512-1024-784 with BatchNorm, D 784-1024-512-256-1
 *                                 with dropout 0.3) and the conv GAN's defaults (DCGAN), smoothing 0.9, batch 128;
 *   ddpm_mlp, ddpm_unet,          the DDPM's MLP noise predictor on flat digits, its U-Net at 16-32-64 (the default
 *   ddpm_unet_notebook            and 'ddpm-digits'') and at lecture 14's 8-16-32, T = 300, batch 128;
 *   conv_ebm                      'ebm-digits'' conv EnergyModel, 128 fresh chains of K = 60 Langevin steps per update.
 * each on genlab's `wasm` (+ OpenBLAS addon) and `tensorflow` backends, PyTorch 2.x (bench/peers/<w>.py, run by the first
 * Python with torch: bench/peer-python.ts) and, where there is a twin, Keras 3 on TensorFlow 2.x
 * (bench/peers/keras_<w>.py, run by the project's `.venv`; the RBM and VAEs only). Each PyTorch twin checks that its
 * trainable parameter count equals genlab's (`node dist/bench/child.js params`) and fails otherwise. Data: the first
 * 10k binarised MNIST digits, or the first `rows` of them: the slow workloads default to fewer (DCGAN, U-Nets, EBM:
 * 2000), `--rows N` sets all, `--rows dcgan=4000,conv_ebm=1000` some. The grid's rough time is printed first
 * (`--estimate`: only that).
 * Each run is a fresh process training `--epochs` epochs (default 4); the first pays one-off costs,
 * and an epoch's time is the median of the others. `--rounds R` repeats every cell R times, the contenders
 * interleaved so that a slow spell of the machine hits all of them; a cell shows the median over rounds, and the
 * ratios to the fastest peer are taken per round (median, with the range). At 1 thread and at the machine's
 * default (one per core):
 *   wasm        WASM's own kernels run on 1 thread; the native addon's (products, convolutions, large
 *               elementwise passes) get GENLAB_BLAS_THREADS = 1 or cores (its default),
 *   tensorflow  TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS = 1, or TensorFlow's default,
 *   torch       torch.set_num_threads(1) + OMP/OpenBLAS 1, or PyTorch's default,
 *   keras       tf.config.threading 1, or TensorFlow's default.
 * Prints a markdown table of wall and CPU seconds (all threads) per epoch; `--record` writes it into
 * bench/RESULTS.md between the `engines:begin` / `engines:end` markers. The full grid (3 rounds):
 * `node dist/bench/engines.js --rounds 3 --record`, about 60-90 minutes on a quiet 2-core machine.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './stats';
import { peerPython, PEER_PYTHON_HOW } from './peer-python';
import { CONTENDERS, Contender, PLAN, WORKLOADS, WorkloadName } from './workload-plan';

const RESULT_PREFIX = 'BENCH_RESULT ';
const root = path.resolve(__dirname, '..', '..');
const childJs = path.join(__dirname, 'child.js');
const peersDir = path.join(root, 'bench', 'peers');
const venvPython = path.join(root, '.venv', 'bin', 'python');
/** Digits in the prepared file (the bundled 10k); a workload trains on the first `rows` of them. */
const ALL_ROWS = 10000;
/** Rough seconds a run takes to start (process, framework, data), for the estimate. */
const STARTUP: Record<Contender, number> = { wasm: 3, tensorflow: 6, torch: 3, keras: 8 };
/** Rough wall-time factor of the machine's default threads against 1 thread (2 cores), for the estimate. */
const DEFAULT_THREADS_FACTOR = 0.7;

interface Result {
  seconds: number[];
  cpuSeconds: number[];
  finalLoss: number;
  implementation: string;
  /** The PyTorch twin's trainable parameters (checked against genlab's). */
  parameters?: number;
}

function run(cmd: string, args: string[], env: Record<string, string>): Result {
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 3600_000, maxBuffer: 64 * 2 ** 20 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (r.status !== 0 || !line) {
    throw new Error(`${path.basename(args[0])} failed (${r.status ?? r.signal}): ${(r.stderr ?? '').trim().split('\n').slice(-4).join('\n')}`);
  }
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as Result;
}

/** Whether `c` has a twin of workload `w` (Keras: only where bench/peers/keras_<w>.py exists). */
const hasTwin = (c: Contender, w: WorkloadName) => c !== 'keras' || fs.existsSync(path.join(peersDir, `keras_${w}.py`));

interface Setting {
  data: string;
  threads: number;
  epochs: number;
  /** The Python with torch (bench/peer-python.ts), or null. */
  torchPython: string | null;
  /** genlab's trainable parameter count of the workload, for the PyTorch twin's check. */
  params: number;
}

/** Command and environment of one contender at `threads` (0 = the machine's default). */
function command(c: Contender, workload: WorkloadName, s: Setting): { cmd: string; args: string[]; env: Record<string, string> } {
  const common = ['--data', s.data, '--epochs', String(s.epochs), '--seed', '1'];
  const cores = String(os.availableParallelism());
  const one = s.threads === 1;
  switch (c) {
    case 'wasm':
      return { cmd: process.execPath, args: [childJs, 'train', '--workload', workload, ...common], env: { GENLAB_BACKEND: 'wasm', GENLAB_BLAS_THREADS: one ? '1' : cores } };
    case 'tensorflow':
      return {
        cmd: process.execPath,
        args: [childJs, 'train', '--workload', workload, ...common],
        env: { GENLAB_BACKEND: 'tensorflow', ...(one ? { TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' } : {}) },
      };
    case 'torch':
      if (!s.torchPython) throw new Error(`no Python with torch: ${PEER_PYTHON_HOW}`);
      return {
        cmd: s.torchPython,
        args: [path.join(peersDir, `${workload}.py`), ...common, '--threads', one ? '1' : '0', '--params', String(s.params)],
        env: one ? { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' } : {},
      };
    case 'keras':
      return { cmd: venvPython, args: [path.join(peersDir, `keras_${workload}.py`), ...common, '--threads', one ? '1' : '0'], env: {} };
  }
}

/** `--rows`: one count for every workload (`2000`) or per workload (`dcgan=4000,conv_ebm=1000`); others keep PLAN's. */
function rowsOf(spec: string | undefined, workloads: WorkloadName[]): Record<string, number> {
  const rows: Record<string, number> = Object.fromEntries(workloads.map((w) => [w, PLAN[w].rows]));
  for (const part of spec ? spec.split(',') : []) {
    const [a, b] = part.includes('=') ? part.split('=') : [undefined, part];
    const n = Number(b);
    if (!Number.isInteger(n) || n < 1 || n > ALL_ROWS) throw new Error(`--rows must be integers in 1..${ALL_ROWS} (N or workload=N,...); got ${part}`);
    if (a === undefined) for (const w of workloads) rows[w] = n;
    else if (!(WORKLOADS as readonly string[]).includes(a)) throw new Error(`--rows: unknown workload ${a}; known: ${WORKLOADS.join(', ')}`);
    else rows[a] = n;
  }
  return rows;
}

const fmt = (x: number | undefined, d = 2) => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '-');

/** One run's epoch time: the median of its epochs after the first. */
function epochTime(r: Result, k: 'seconds' | 'cpuSeconds'): number {
  return median(r[k].length > 1 ? r[k].slice(1) : r[k]);
}

function positiveInt(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer; got ${v}`);
  return n;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      threads: { type: 'string', default: '1,default' },
      contenders: { type: 'string', default: CONTENDERS.join(',') },
      epochs: { type: 'string', default: '4' },
      rounds: { type: 'string', default: '1' },
      rows: { type: 'string' },
      record: { type: 'boolean', default: false },
      estimate: { type: 'boolean', default: false },
    },
  });
  const workloads = (values.only ? values.only.split(',') : [...WORKLOADS]) as WorkloadName[];
  for (const w of workloads) if (!WORKLOADS.includes(w)) throw new Error(`--only: unknown workload ${w}; known: ${WORKLOADS.join(', ')}`);
  const threadList = (values.threads ?? '1,default').split(',').map((t) => (t === 'default' ? 0 : Number(t)));
  const contenders = (values.contenders ?? '').split(',') as Contender[];
  for (const c of contenders) if (!CONTENDERS.includes(c)) throw new Error(`--contenders: unknown ${c}; known: ${CONTENDERS.join(', ')}`);
  const epochs = positiveInt('epochs', values.epochs);
  const rounds = positiveInt('rounds', values.rounds);
  const rows = rowsOf(values.rows, workloads);

  // The grid's time, roughly: every run's start plus its epochs at the plan's 1-thread speeds.
  let estimate = 0;
  for (const w of workloads) {
    for (const th of threadList) {
      for (const c of contenders.filter((c) => hasTwin(c, w))) {
        const epoch = ((PLAN[w].secondsPer1k[c] ?? 0) * rows[w]) / 1000;
        estimate += rounds * (STARTUP[c] + epochs * epoch * (th === 1 ? 1 : DEFAULT_THREADS_FACTOR));
      }
    }
  }
  for (const w of workloads) console.log(`${w}: ${PLAN[w].title}, ${rows[w]} digits`);
  console.log(
    `grid: ${workloads.length} workloads x threads ${values.threads} x ${contenders.join(', ')} x ${rounds} round(s), ${epochs} epochs a run: ` +
      `about ${(estimate / 60).toFixed(0)} minutes on a quiet machine (rough: bench/workload-plan.ts' speeds)`,
  );
  if (values.estimate) return;
  const torchPython = contenders.includes('torch') ? peerPython() : null;
  if (contenders.includes('torch')) console.log(`PyTorch twins: ${torchPython ?? `none found (${PEER_PYTHON_HOW})`}`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-engines-'));
  const all = path.join(tmp, 'mnist10k.f32');
  run(process.execPath, [childJs, 'prepare', '--dataset', 'mnist10k', '--out', all], { GENLAB_BACKEND: 'wasm' });
  // one file per data size: the first n digits of the 10k, the same bytes for every contender
  const dataFile = (n: number) => {
    const f = path.join(tmp, `mnist${n}.f32`);
    if (!fs.existsSync(f)) fs.writeFileSync(f, fs.readFileSync(all).subarray(0, n * 784 * 4));
    return f;
  };
  const params = contenders.includes('torch')
    ? (run(process.execPath, [childJs, 'params', '--workload', workloads.join(',')], { GENLAB_BACKEND: 'wasm' }) as unknown as Record<WorkloadName, number>)
    : ({} as Record<WorkloadName, number>);
  const load0 = os.loadavg();
  const t0 = Date.now();
  const results: Record<string, Array<Result | string>> = {};
  for (let round = 0; round < rounds; round++) {
    for (const w of workloads) {
      for (const th of threadList) {
        for (const c of contenders.filter((c) => hasTwin(c, w))) {
          const key = `${w}/${th}/${c}`;
          let r: Result | string;
          try {
            const { cmd, args, env } = command(c, w, { data: dataFile(rows[w]), threads: th, epochs, torchPython, params: params[w] });
            r = run(cmd, args, env);
            const count = r.parameters !== undefined ? `, ${r.parameters} parameters (genlab ${params[w]})` : '';
            console.log(`round ${round + 1} ${key}: epochs ${r.seconds.map((s) => fmt(s)).join('/')} s wall, ${r.cpuSeconds.map((s) => fmt(s)).join('/')} CPU-s, loss ${fmt(r.finalLoss, 4)}${count}`);
          } catch (e) {
            r = (e as Error).message.split('\n')[0];
            console.log(`round ${round + 1} ${key}: FAILED ${r}`);
          }
          (results[key] ??= []).push(r);
        }
      }
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  const peerNames = (['torch', 'keras'] as Contender[]).filter((c) => contenders.includes(c));
  const genlabNames = (['tensorflow', 'wasm'] as Contender[]).filter((c) => contenders.includes(c));
  const ratioHeads = genlabNames.map((g) => `${g} / fastest peer (wall)`);
  if (genlabNames.includes('tensorflow') && peerNames.includes('keras')) ratioHeads.push('tensorflow / keras (wall)');
  const header = `| workload | threads | ${contenders.map((c) => `${c} wall / CPU s`).join(' | ')} | ${ratioHeads.join(' | ')} |`;
  const lines = [header, `|---|---|${contenders.map(() => '---:').join('|')}|${ratioHeads.map(() => '---:').join('|')}|`];
  for (const w of workloads) {
    for (const th of threadList) {
      const ok = (c: Contender) => (results[`${w}/${th}/${c}`] ?? []).filter((r): r is Result => typeof r === 'object');
      const cell = (c: Contender) => {
        if (!hasTwin(c, w)) return '-';
        const rs = ok(c);
        if (!rs.length) return 'failed';
        return `${fmt(median(rs.map((r) => epochTime(r, 'seconds'))))} / ${fmt(median(rs.map((r) => epochTime(r, 'cpuSeconds'))))}`;
      };
      // Ratios per round (the same round's runs), then their median and range.
      const ratio = (g: Contender, against: Contender[]) => {
        const per: number[] = [];
        for (let round = 0; round < rounds; round++) {
          const at = (c: Contender) => results[`${w}/${th}/${c}`]?.[round];
          const mine = at(g);
          const theirs = against.map(at).filter((r): r is Result => typeof r === 'object');
          if (typeof mine === 'object' && theirs.length) per.push(epochTime(mine, 'seconds') / Math.min(...theirs.map((r) => epochTime(r, 'seconds'))));
        }
        if (!per.length) return '-';
        return rounds > 1 ? `${fmt(median(per))} (${fmt(Math.min(...per))}-${fmt(Math.max(...per))})` : fmt(per[0]);
      };
      const ratios = genlabNames.map((g) => ratio(g, peerNames));
      if (genlabNames.includes('tensorflow') && peerNames.includes('keras')) ratios.push(ratio('tensorflow', ['keras']));
      const name = rows[w] === ALL_ROWS ? w : `${w} (${rows[w]} digits)`;
      lines.push(`| ${name} | ${th === 0 ? `default (${os.availableParallelism()})` : th} | ${contenders.map(cell).join(' | ')} | ${ratios.join(' | ')} |`);
    }
  }
  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const note =
    `Run ${when} on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'} (${os.totalmem() / 2 ** 30 | 0} GiB), ` +
    `load average ${load0.map((l) => l.toFixed(1)).join(' ')} at start, ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at end, ` +
    `${((Date.now() - t0) / 1000).toFixed(0)} s. ${rounds} round(s); per run the median of epochs 2-${epochs}; one process per cell; ` +
    `the first 10k binarised MNIST digits, or the first n where the workload says (n digits); \`-\`: no twin.`;
  const md = `${note}\n\n${lines.join('\n')}`;
  console.log(`\n${md}`);
  fs.mkdirSync(path.join(root, 'build', 'bench'), { recursive: true });
  fs.writeFileSync(path.join(root, 'build', 'bench', 'engines.json'), JSON.stringify({ when, results }, null, 1));
  if (values.record) {
    const file = path.join(root, 'bench', 'RESULTS.md');
    const begin = '<!-- engines:begin (generated by node dist/bench/engines.js --record) -->';
    const end = '<!-- engines:end -->';
    const old = fs.readFileSync(file, 'utf8');
    const i = old.indexOf(begin);
    const j = old.indexOf(end);
    const block = `${begin}\n${md}\n${end}`;
    fs.writeFileSync(file, i >= 0 && j > i ? old.slice(0, i) + block + old.slice(j + end.length) : `${old}\n${block}\n`);
  }
}

main();
