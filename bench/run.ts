/**
 * `npm run bench [-- --quick] [--only rbm,dense_vae,...] [--reps N] [--variants stock,transpose,native]
 *                [--no-peer] [--no-record] [--no-notebooks]`
 *
 * genlab against PyTorch on the same machine and data (issue 7). For every workload, genlab and its PyTorch peer
 * (bench/peers/<name>.py, Debian's python3-torch at /usr/bin/python3, one thread) run back to back, each in a
 * fresh process, `--reps` times; the harness prints and records seconds per epoch (median), the ratio
 * genlab/PyTorch, the backend and kernels, and peak memory (process RSS of both). The 60k Fashion-MNIST runs
 * also check issue 7 item 3: no growth of live tensors or RSS across epochs, and peak RSS within a few hundred
 * MB above the data.
 *
 * Workloads (`--only` filters by these names):
 *   rbm, dense_vae, conv_vae                        first 10k binarised MNIST digits, one epoch each;
 *   fashion_rbm, fashion_dense_vae, fashion_conv_vae   the 60k Fashion-MNIST training set;
 *   notebooks, notebooks_quick                      wall time of the whole notebook suite (npm run lectures),
 *                                                   default and quick mode.
 * `--quick`: one repetition, the 10k workloads and the quick notebook suite only, nothing recorded.
 * `--variants`: genlab's kernel levers to compare (lib/engine/kernels.ts): `stock` (tfjs as shipped), `transpose`
 * (explicit transposes, no addon), `native` (OpenBLAS addon; genlab's default when it is built).
 * Results: printed, written to build/bench/latest.json, and (full runs) to the generated table in
 * bench/RESULTS.md between the `bench:begin` / `bench:end` markers.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './stats';

const RESULT_PREFIX = 'BENCH_RESULT ';
const PYTHON = '/usr/bin/python3';
/**
 * The peer runs on one thread, as the issue asks: `torch.set_num_threads(1)` (bench/peers/torch_common.py) does not
 * reach the OpenBLAS that Debian's PyTorch calls for its products, which otherwise starts a thread per core
 * (measured: the RBM peer used 1.1 CPU-s in a 0.55 s epoch). genlab's addon is set to one thread to match
 * (`native`; its default is one per core, the `native2` variant).
 */
const PEER_ENV = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

/** Moves the first `warmup` epochs of a run out of the timed ones. */
function dropWarmup(r: RunResult, warmup: number): RunResult {
  return { ...r, warmupSeconds: r.seconds.slice(0, warmup), seconds: r.seconds.slice(warmup), cpuSeconds: r.cpuSeconds.slice(warmup) };
}
const root = path.resolve(__dirname, '..', '..');
const childJs = path.join(__dirname, 'child.js');
const peersDir = path.join(root, 'bench', 'peers');

interface Spec {
  name: string;
  workload: 'rbm' | 'dense_vae' | 'conv_vae';
  dataset: 'mnist10k' | 'fashion60k';
  /** Epochs per process (>= 2 where growth across epochs is checked). */
  epochs: number;
  /** Repetitions in a full run (quick: 1). */
  reps: number;
  /**
   * Warm-up epochs per process, trained and timed but left out of the per-epoch median (both sides alike): the
   * first epoch also pays one-off costs (V8 compiling tfjs' JavaScript, first use of each kernel and buffer size;
   * PyTorch's allocator). They are reported separately as the first-epoch ratio.
   */
  warmup: number;
}

const SPECS: Spec[] = [
  { name: 'rbm', workload: 'rbm', dataset: 'mnist10k', epochs: 2, reps: 3, warmup: 1 },
  { name: 'dense_vae', workload: 'dense_vae', dataset: 'mnist10k', epochs: 2, reps: 3, warmup: 1 },
  { name: 'conv_vae', workload: 'conv_vae', dataset: 'mnist10k', epochs: 1, reps: 2, warmup: 1 },
  // 60k: one-off costs are small against a long epoch, so no warm-up (3 epochs also check memory growth).
  { name: 'fashion_rbm', workload: 'rbm', dataset: 'fashion60k', epochs: 3, reps: 1, warmup: 0 },
  { name: 'fashion_dense_vae', workload: 'dense_vae', dataset: 'fashion60k', epochs: 3, reps: 1, warmup: 0 },
  { name: 'fashion_conv_vae', workload: 'conv_vae', dataset: 'fashion60k', epochs: 1, reps: 1, warmup: 0 },
];

const VARIANT_ENV: Record<string, Record<string, string>> = {
  stock: { GENLAB_FAST_KERNELS: '0' },
  transpose: { GENLAB_NATIVE: '0' },
  native: { GENLAB_BLAS_THREADS: '1' },
  // Both cores for genlab's addon (the peer stays on one thread: compare the CPU-s ratio too).
  native2: { GENLAB_BLAS_THREADS: '2' },
};

/** What one process reported (genlab child or PyTorch peer). */
interface RunResult {
  /** Seconds of each timed epoch (after the warm-up epochs). */
  seconds: number[];
  cpuSeconds: number[];
  /** Seconds of the warm-up epochs (left out of `seconds`). */
  warmupSeconds?: number[];
  finalLoss: number;
  rssAfterEpoch: number[];
  tensorsAfterEpoch?: number[];
  peakRssMB: number;
  implementation: string;
  backend?: string;
  kernels?: { native: boolean; active: boolean; threads: number; note: string };
  dataMB?: number;
  rssBeforeMB?: number;
}

interface Row {
  name: string;
  variant: string;
  genlab: RunResult[];
  peer: RunResult[];
  peerNote?: string;
  memoryCheck?: string;
}

function runProcess(cmd: string, args: string[], env: Record<string, string> = {}, timeoutS = 1800): RunResult {
  const r = spawnSync(cmd, args, {
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...env },
    encoding: 'utf8',
    timeout: timeoutS * 1000,
    maxBuffer: 64 * 2 ** 20,
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (r.status !== 0 || !line) {
    const err = `${r.stderr ?? ''}`.trim().split('\n').slice(-5).join('\n');
    throw new Error(`${path.basename(args[0] ?? cmd)} ${args.slice(1).join(' ')} failed (${r.status ?? r.signal}):\n${err}`);
  }
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as RunResult;
}

/** Whether Debian's PyTorch is usable, else why not. */
function torchStatus(): string | null {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? null : 'python3-torch is not installed for /usr/bin/python3 (apt-get install python3-torch)';
}

/** A run's epoch times for the log: warm-up epochs in brackets. */
const epochList = (r: RunResult) =>
  [...(r.warmupSeconds ?? []).map((s) => `(${fmt(s)})`), ...r.seconds.map((s) => fmt(s))].join('/');
/** Seconds of the first epoch (warm-up included), median over runs. */
const firstEpoch = (runs: RunResult[]) => median(runs.map((r) => (r.warmupSeconds?.length ? r.warmupSeconds[0] : r.seconds[0])));
/** Seconds per epoch of a set of runs: the median over every timed epoch of every run. */
const perEpoch = (runs: RunResult[]) => median(runs.flatMap((r) => r.seconds));
/** CPU seconds per epoch (all threads), median over every epoch of every run. */
const cpuPerEpoch = (runs: RunResult[]) => median(runs.flatMap((r) => r.cpuSeconds ?? []));
const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

/** Issue 7 item 3 on a multi-epoch run: live tensors constant, RSS flat after epoch 1, peak within budget. */
function memoryCheck(r: RunResult): string {
  const t = r.tensorsAfterEpoch ?? [];
  const rss = r.rssAfterEpoch;
  const tensorsFlat = t.every((n) => n === t[0]);
  const growth = rss.length >= 2 ? rss[rss.length - 1] - rss[1 < rss.length - 1 ? 1 : 0] : 0;
  // rssBeforeMB is taken once the data set is loaded (the file's bytes and the tensor's copy on the backend), so
  // what training adds is the peak above it.
  const above = r.peakRssMB - (r.rssBeforeMB ?? 0);
  const ok = tensorsFlat && growth < 50 && above < 500;
  return (
    `${ok ? 'PASS' : 'FAIL'}: tensors after each epoch ${t.join('/')}, RSS after each epoch ` +
    `${rss.map((x) => x.toFixed(0)).join('/')} MB (growth after epoch 1: ${growth.toFixed(0)} MB, limit 50), ` +
    `peak ${r.peakRssMB.toFixed(0)} MB = ${fmt(r.rssBeforeMB ?? 0, 0)} MB with the data loaded (data ` +
    `${fmt(r.dataMB ?? 0, 0)} MB) + ${above.toFixed(0)} MB training (limit 500)`
  );
}

function notebookSuite(quick: boolean): { seconds: number; note: string } {
  const script = path.resolve(__dirname, '..', 'scripts', 'lectures.js');
  const nbDir = path.join(root, 'notebooks');
  const count = fs.existsSync(nbDir) ? fs.readdirSync(nbDir).filter((f) => f.endsWith('.ipynb')).length : 0;
  if (!fs.existsSync(script) || count === 0) return { seconds: NaN, note: 'no notebooks or no lectures script yet' };
  const t0 = performance.now();
  const args = [script, '--no-export', '--keep-going', ...(quick ? ['--quick'] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 3600 * 1000, env: process.env });
  const seconds = (performance.now() - t0) / 1000;
  const failed = r.status === 0 ? '' : `, exit ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().split('\n').slice(-1)[0]}`;
  return { seconds, note: `${count} notebooks${failed}` };
}

function table(rows: Row[], notebooks: Array<{ name: string; seconds: number; note: string }>): string {
  const lines = [
    '| workload | genlab variant | genlab s/epoch | PyTorch s/epoch | ratio | CPU-s ratio | first-epoch ratio | genlab peak RSS | PyTorch peak RSS | backend, kernels |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const g = perEpoch(r.genlab);
    const p = perEpoch(r.peer);
    const k = r.genlab[0]?.kernels;
    const kernels = !k ? '' : k.native ? `native OpenBLAS x${k.threads}` : k.active ? 'explicit transposes' : 'stock tfjs';
    lines.push(
      `| ${r.name} | ${r.variant} | ${fmt(g)} | ${r.peerNote ? 'skipped' : fmt(p)} | ${r.peerNote ? '-' : fmt(g / p)} | ` +
        `${r.peerNote ? '-' : fmt(cpuPerEpoch(r.genlab) / cpuPerEpoch(r.peer))} | ` +
        `${r.peerNote ? '-' : fmt(firstEpoch(r.genlab) / firstEpoch(r.peer))} | ` +
        `${fmt(Math.max(...r.genlab.map((x) => x.peakRssMB)), 0)} MB | ` +
        `${r.peer.length ? fmt(Math.max(...r.peer.map((x) => x.peakRssMB)), 0) + ' MB' : '-'} | ` +
        `${r.genlab[0]?.backend ?? '?'}, ${kernels} |`,
    );
  }
  for (const n of notebooks) lines.push(`| ${n.name} | (suite wall time) | ${fmt(n.seconds, 0)} s total | | | | | | | ${n.note} |`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      reps: { type: 'string' },
      variants: { type: 'string', default: 'native' },
      'no-peer': { type: 'boolean', default: false },
      'no-record': { type: 'boolean', default: false },
      'no-notebooks': { type: 'boolean', default: false },
    },
  });
  const quick = values.quick === true;
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : null;
  const variants = (values.variants ?? 'native').split(',').map((s) => s.trim());
  for (const v of variants) if (!(v in VARIANT_ENV)) throw new Error(`--variants: unknown ${v}; use ${Object.keys(VARIANT_ENV).join(', ')}`);
  const want = (name: string) => (only ? only.includes(name) : !quick || !name.startsWith('fashion'));
  const torchNote = values['no-peer'] ? 'peer disabled (--no-peer)' : torchStatus();
  if (torchNote) console.log(`PyTorch peer skipped: ${torchNote}`);

  const start = performance.now();
  const loadAtStart = os.loadavg();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-bench-'));
  const dataFiles: Record<string, string> = {};
  const rows: Row[] = [];
  try {
    for (const spec of SPECS.filter((s) => want(s.name))) {
      if (!dataFiles[spec.dataset]) {
        const file = path.join(tmp, `${spec.dataset}.f32`);
        runProcess(process.execPath, [childJs, 'prepare', '--dataset', spec.dataset, '--out', file]);
        dataFiles[spec.dataset] = file;
      }
      const reps = values.reps ? Number(values.reps) : quick ? 1 : spec.reps;
      for (const variant of variants) {
        const row: Row = { name: spec.name, variant, genlab: [], peer: [], peerNote: torchNote ?? undefined };
        for (let rep = 0; rep < reps; rep++) {
          // One pair, back to back: genlab then PyTorch, each in a fresh process.
          const epochs = spec.epochs + spec.warmup;
          const common = ['--data', dataFiles[spec.dataset], '--epochs', String(epochs), '--seed', String(rep + 1)];
          const child = [childJs, 'train', '--workload', spec.workload, ...common];
          row.genlab.push(dropWarmup(runProcess(process.execPath, child, VARIANT_ENV[variant]), spec.warmup));
          const needPeer = !torchNote && (variant === variants[0]);
          const peer = [path.join(peersDir, `${spec.workload}.py`), ...common];
          if (needPeer) row.peer.push(dropWarmup(runProcess(PYTHON, peer, PEER_ENV), spec.warmup));
          const g = row.genlab[rep];
          const p = row.peer[rep];
          console.log(
            `${spec.name} [${variant}] rep ${rep + 1}/${reps}: genlab ${epochList(g)} s/epoch` +
              (p ? `, PyTorch ${epochList(p)} s/epoch, ratio ${fmt(median(g.seconds) / median(p.seconds))}` : '') +
              `  (${g.implementation}; loss ${fmt(g.finalLoss)}${p ? ` vs ${fmt(p.finalLoss)}` : ''})`,
          );
        }
        if (variant !== variants[0]) row.peer = rows.find((r) => r.name === spec.name)?.peer ?? [];
        if (spec.epochs >= 2) {
          row.memoryCheck = memoryCheck(row.genlab[0]);
          console.log(`  memory (issue 7 item 3): ${row.memoryCheck}`);
        }
        rows.push(row);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const notebooks: Array<{ name: string; seconds: number; note: string }> = [];
  if (!values['no-notebooks']) {
    for (const q of quick ? [true] : [false, true]) {
      const name = q ? 'notebooks_quick' : 'notebooks';
      if (!want(name) && !(quick && !only)) continue;
      console.log(`running the notebook suite (${q ? 'quick' : 'default'} mode)...`);
      const r = notebookSuite(q);
      notebooks.push({ name, ...r });
      console.log(`${name}: ${fmt(r.seconds, 0)} s (${r.note})`);
    }
  }
  const md = table(rows, notebooks);
  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const header =
    `Run ${when} on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, load average at start ` +
    `${loadAtStart.map((l) => l.toFixed(1)).join(' ')}, at end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, total ${fmt((performance.now() - start) / 1000, 0)} s. ` +
    `Seconds per epoch are medians over every timed epoch of every repetition (10k workloads: after one warm-up ` +
    `epoch per process, on both sides); ratio = genlab / PyTorch wall time (target <= 1.5); CPU-s ratio = the ` +
    `same with CPU seconds (all threads), less sensitive to other load on the machine; first-epoch ratio = the ` +
    `ratio of the first epochs, warm-up included. PyTorch and genlab's native addon each run one thread (native2: genlab's addon on two).`;
  console.log(`\n${header}\n\n${md}`);
  for (const r of rows) if (r.memoryCheck) console.log(`${r.name}: ${r.memoryCheck}`);
  const resultsDir = path.join(root, 'build', 'bench');
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.writeFileSync(path.join(resultsDir, 'latest.json'), JSON.stringify({ when, rows, notebooks }, null, 1));
  if (!quick && !values['no-record']) record(header, md, rows);
}

/** Replaces the generated block of bench/RESULTS.md (between the markers), keeping the written analysis. */
function record(header: string, md: string, rows: Row[]): void {
  const file = path.join(root, 'bench', 'RESULTS.md');
  const begin = '<!-- bench:begin (generated by npm run bench; do not edit by hand) -->';
  const end = '<!-- bench:end -->';
  const memory = rows.filter((r) => r.memoryCheck).map((r) => `- ${r.name}: ${r.memoryCheck}`);
  const block = `${begin}\n${header}\n\n${md}\n\n${memory.length ? `Memory (issue 7 item 3):\n${memory.join('\n')}\n` : ''}${end}`;
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : `# Benchmarks\n\n${begin}\n${end}\n`;
  const i = old.indexOf(begin);
  const j = old.indexOf(end);
  const next = i >= 0 && j > i ? old.slice(0, i) + block + old.slice(j + end.length) : `${old}\n${block}\n`;
  fs.writeFileSync(file, next);
  console.log(`recorded in ${path.relative(process.cwd(), file)}`);
}

main().catch((err) => {
  console.error((err as Error).stack ?? String(err));
  process.exit(1);
});
