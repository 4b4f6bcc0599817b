/**
 * One measurement in a fresh process (so peak RSS belongs to one workload), driven by bench/run.ts:
 *
 *   node dist/bench/child.js prepare --dataset mnist10k|fashion60k --out FILE
 *       writes the data set as raw little-endian float32 [n, 784] (binarised at 0.5), the file both genlab and
 *       the PyTorch peers read, so both train on identical data;
 *   node dist/bench/child.js train --workload NAME --data FILE --epochs E [--seed S]
 *       trains and prints one line `BENCH_RESULT {json}` (NAME: one of bench/workload-plan.ts' WORKLOADS);
 *   node dist/bench/child.js params --workload NAME[,NAME...]
 *       prints `BENCH_RESULT {name: trainable parameters of genlab's model}`, what the PyTorch twins check theirs against.
 *
 * Environment: GENLAB_FAST_KERNELS / GENLAB_NATIVE / GENLAB_BLAS_THREADS select the kernel levers
 * (lib/engine/kernels.ts), GENLAB_BACKEND the backend.
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { tf, ready } from '../lib/engine/backend';
import { registerFastKernels } from '../lib/engine/kernels';
import { loadMnist } from '../datasets/mnist';
import { loadFashionMnist } from '../datasets/fashion-mnist';
import { parameterCount, runWorkload, WORKLOADS, WorkloadName } from './workloads';

export const RESULT_PREFIX = 'BENCH_RESULT ';
const WIDTH = 784;

/** The first 10k MNIST digits (the bundled set: its 8000 train + 2000 test digits) or the 60k Fashion-MNIST train set. */
async function prepare(dataset: string, out: string): Promise<number> {
  let x: tf.Tensor2D;
  if (dataset === 'mnist10k') {
    const train = await loadMnist({ split: 'train', binarize: 'threshold' });
    const test = await loadMnist({ split: 'test', binarize: 'threshold' });
    x = tf.concat([train.images, test.images]);
    tf.dispose([train.images, test.images]);
  } else if (dataset === 'fashion60k') {
    x = (await loadFashionMnist({ split: 'train', binarize: 'threshold' })).images;
  } else throw new Error(`unknown dataset ${dataset}`);
  const data = (await x.data()) as Float32Array;
  fs.writeFileSync(out, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  const n = x.shape[0];
  x.dispose();
  return n;
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      dataset: { type: 'string' }, out: { type: 'string' }, workload: { type: 'string' }, data: { type: 'string' },
      epochs: { type: 'string', default: '1' }, seed: { type: 'string', default: '1' },
    },
  });
  const backend = await ready();
  const kernels = registerFastKernels();
  if (positionals[0] === 'prepare') {
    const n = await prepare(values.dataset ?? '', values.out ?? '');
    console.log(RESULT_PREFIX + JSON.stringify({ rows: n }));
    return;
  }
  const names = (values.workload ?? '').split(',') as WorkloadName[];
  for (const w of names) if (!WORKLOADS.includes(w)) throw new Error(`--workload must be one of ${WORKLOADS.join(', ')}; got ${w}`);
  if (positionals[0] === 'params') {
    console.log(RESULT_PREFIX + JSON.stringify(Object.fromEntries(names.map((w) => [w, parameterCount(w)]))));
    return;
  }
  if (names.length !== 1) throw new Error(`train takes one --workload; got ${values.workload}`);
  const [workload] = names;
  const buf = fs.readFileSync(values.data ?? '');
  const flat = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const x = tf.tensor2d(flat, [flat.length / WIDTH, WIDTH]);
  const dataMB = buf.byteLength / 2 ** 20;
  const rssBeforeMB = process.memoryUsage().rss / 2 ** 20;
  const r = await runWorkload(workload, x, Number(values.epochs), Number(values.seed));
  x.dispose();
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  console.log(
    RESULT_PREFIX +
      JSON.stringify({ ...r, backend, kernels, dataMB, rssBeforeMB, peakRssMB, rows: flat.length / WIDTH }),
  );
}

main().catch((err) => {
  console.error((err as Error).stack ?? String(err));
  process.exit(1);
});
