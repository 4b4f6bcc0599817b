/**
 * `npm run build && node dist/bench/engines.js [--only rbm,dense_vae,conv_vae] [--threads 1,default]
 *                        [--contenders wasm,tensorflow,torch,keras] [--epochs 4] [--rounds 1] [--record]`
 *
 * genlab's two engines against the modern peers (issue 12 item 6): the three 10k-digit workloads (bench/workloads.ts)
 * on genlab's `wasm` (+ OpenBLAS addon) and `tensorflow` backends, PyTorch 2.x (bench/peers/<w>.py) and Keras 3
 * on TensorFlow 2.x (bench/peers/keras_<w>.py), the peers run by the project's `.venv` Python (pip's torch and
 * tensorflow-cpu). Each run is a fresh process training `--epochs` epochs (default 4); the first pays one-off costs,
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
 * bench/RESULTS.md between the `engines:begin` / `engines:end` markers.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './stats';

const RESULT_PREFIX = 'BENCH_RESULT ';
const root = path.resolve(__dirname, '..', '..');
const childJs = path.join(__dirname, 'child.js');
const peersDir = path.join(root, 'bench', 'peers');
const venvPython = path.join(root, '.venv', 'bin', 'python');
const WORKLOADS = ['rbm', 'dense_vae', 'conv_vae'] as const;
const CONTENDERS = ['wasm', 'tensorflow', 'torch', 'keras'] as const;
type Contender = (typeof CONTENDERS)[number];

interface Result {
  seconds: number[];
  cpuSeconds: number[];
  finalLoss: number;
  implementation: string;
}

function run(cmd: string, args: string[], env: Record<string, string>): Result {
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 3600_000, maxBuffer: 64 * 2 ** 20 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (r.status !== 0 || !line) {
    throw new Error(`${path.basename(args[0])} failed (${r.status ?? r.signal}): ${(r.stderr ?? '').trim().split('\n').slice(-4).join('\n')}`);
  }
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as Result;
}

/** Command and environment of one contender at `threads` (0 = the machine's default). */
function command(c: Contender, workload: string, data: string, threads: number, epochs: number): { cmd: string; args: string[]; env: Record<string, string> } {
  const common = ['--data', data, '--epochs', String(epochs), '--seed', '1'];
  const cores = String(os.availableParallelism());
  const one = threads === 1;
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
      return {
        cmd: venvPython,
        args: [path.join(peersDir, `${workload}.py`), ...common, '--threads', one ? '1' : '0'],
        env: one ? { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' } : {},
      };
    case 'keras':
      return { cmd: venvPython, args: [path.join(peersDir, `keras_${workload}.py`), ...common, '--threads', one ? '1' : '0'], env: {} };
  }
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
      record: { type: 'boolean', default: false },
    },
  });
  const workloads = values.only ? values.only.split(',') : [...WORKLOADS];
  const threadList = (values.threads ?? '1,default').split(',').map((t) => (t === 'default' ? 0 : Number(t)));
  const contenders = (values.contenders ?? '').split(',') as Contender[];
  for (const c of contenders) if (!CONTENDERS.includes(c)) throw new Error(`--contenders: unknown ${c}; known: ${CONTENDERS.join(', ')}`);
  const epochs = positiveInt('epochs', values.epochs);
  const rounds = positiveInt('rounds', values.rounds);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-engines-'));
  const data = path.join(tmp, 'mnist10k.f32');
  run(process.execPath, [childJs, 'prepare', '--dataset', 'mnist10k', '--out', data], { GENLAB_BACKEND: 'wasm' });
  const load0 = os.loadavg();
  const t0 = Date.now();
  const results: Record<string, Array<Result | string>> = {};
  for (let round = 0; round < rounds; round++) {
    for (const w of workloads) {
      for (const th of threadList) {
        for (const c of contenders) {
          const key = `${w}/${th}/${c}`;
          const { cmd, args, env } = command(c, w, data, th, epochs);
          let r: Result | string;
          try {
            r = run(cmd, args, env);
            console.log(`round ${round + 1} ${key}: epochs ${r.seconds.map((s) => fmt(s)).join('/')} s wall, ${r.cpuSeconds.map((s) => fmt(s)).join('/')} CPU-s, loss ${fmt(r.finalLoss)}`);
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
      lines.push(`| ${w} | ${th === 0 ? `default (${os.availableParallelism()})` : th} | ${contenders.map(cell).join(' | ')} | ${ratios.join(' | ')} |`);
    }
  }
  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const note =
    `Run ${when} on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'} (${os.totalmem() / 2 ** 30 | 0} GiB), ` +
    `load average ${load0.map((l) => l.toFixed(1)).join(' ')} at start, ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at end, ` +
    `${((Date.now() - t0) / 1000).toFixed(0)} s. ${rounds} round(s); per run the median of epochs 2-${epochs}; one process per cell, 10k binarised MNIST digits.`;
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
