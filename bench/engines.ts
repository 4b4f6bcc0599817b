/**
 * `npm run build && node dist/bench/engines.js [--only rbm,dense_vae,conv_vae] [--threads 1,default]
 *                                              [--contenders wasm,tensorflow,torch,keras] [--record]`
 *
 * genlab's two engines against the modern peers (issue 12 item 6): the three 10k-digit workloads (bench/workloads.ts)
 * on genlab's `wasm` (+ OpenBLAS addon) and `tensorflow` backends, PyTorch 2.x (bench/peers/<w>.py) and Keras 3
 * on TensorFlow 2.x (bench/peers/keras_<w>.py), the peers run by the project's `.venv` Python (pip's torch and
 * tensorflow-cpu). Each run is a fresh process training two epochs; the second is timed (the first pays one-off
 * costs). At 1 thread and at the machine's default (one per core):
 *   wasm        1 thread always for WASM; the OpenBLAS addon's products get GENLAB_BLAS_THREADS = 1 or cores,
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
function command(c: Contender, workload: string, data: string, threads: number): { cmd: string; args: string[]; env: Record<string, string> } {
  const common = ['--data', data, '--epochs', '2', '--seed', '1'];
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

function main(): void {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      threads: { type: 'string', default: '1,default' },
      contenders: { type: 'string', default: CONTENDERS.join(',') },
      record: { type: 'boolean', default: false },
    },
  });
  const workloads = values.only ? values.only.split(',') : [...WORKLOADS];
  const threadList = (values.threads ?? '1,default').split(',').map((t) => (t === 'default' ? 0 : Number(t)));
  const contenders = (values.contenders ?? '').split(',') as Contender[];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-engines-'));
  const data = path.join(tmp, 'mnist10k.f32');
  run(process.execPath, [childJs, 'prepare', '--dataset', 'mnist10k', '--out', data], { GENLAB_BACKEND: 'wasm' });
  const load0 = os.loadavg();
  const t0 = Date.now();
  const results: Record<string, Result | string> = {};
  for (const w of workloads) {
    for (const th of threadList) {
      for (const c of contenders) {
        const key = `${w}/${th}/${c}`;
        const { cmd, args, env } = command(c, w, data, th);
        try {
          const r = run(cmd, args, env);
          results[key] = r;
          console.log(`${key}: epochs ${r.seconds.map((s) => fmt(s)).join('/')} s wall, ${r.cpuSeconds.map((s) => fmt(s)).join('/')} CPU-s, loss ${fmt(r.finalLoss)}`);
        } catch (e) {
          results[key] = (e as Error).message.split('\n')[0];
          console.log(`${key}: FAILED ${results[key]}`);
        }
      }
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  const header = `| workload | threads | ${contenders.map((c) => `${c} wall / CPU s`).join(' | ')} | genlab tensorflow / fastest peer (CPU s) |`;
  const lines = [header, `|---|---|${contenders.map(() => '---:').join('|')}|---:|`];
  for (const w of workloads) {
    for (const th of threadList) {
      const get = (c: Contender) => results[`${w}/${th}/${c}`];
      const second = (c: Contender, k: 'seconds' | 'cpuSeconds') => {
        const r = get(c);
        return typeof r === 'object' ? r[k][1] : undefined;
      };
      const peers = (['torch', 'keras'] as Contender[]).map((c) => second(c, 'cpuSeconds')).filter((x): x is number => x !== undefined);
      const tfCpu = second('tensorflow', 'cpuSeconds');
      const ratio = tfCpu !== undefined && peers.length ? tfCpu / Math.min(...peers) : undefined;
      lines.push(
        `| ${w} | ${th === 0 ? `default (${os.availableParallelism()})` : th} | ` +
          contenders.map((c) => (typeof get(c) === 'string' ? 'failed' : `${fmt(second(c, 'seconds'))} / ${fmt(second(c, 'cpuSeconds'))}`)).join(' | ') +
          ` | ${fmt(ratio)} |`,
      );
    }
  }
  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const note =
    `Run ${when} on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'} (${os.totalmem() / 2 ** 30 | 0} GiB), ` +
    `load average ${load0.map((l) => l.toFixed(1)).join(' ')} at start, ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at end, ` +
    `${((Date.now() - t0) / 1000).toFixed(0)} s. Second epoch of two, one process per cell, 10k binarised MNIST digits.`;
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
