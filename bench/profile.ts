/**
 * Per-kernel profile of a few training batches: `node dist/bench/profile.js --workload rbm [--batches 5]`.
 * Prints kernels by total time (tf.profile's kernelTimeMs), the share of wall time they account for, and the
 * number of kernel calls per batch -- the evidence behind each lever in bench/HISTORY.md.
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { tf, ready } from '../lib/engine/backend';
import { registerFastKernels } from '../lib/engine/kernels';
import { runWorkload, WORKLOADS, WorkloadName } from './workloads';
import { kernelTimes } from './stats';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { workload: { type: 'string', default: 'rbm' }, data: { type: 'string' }, rows: { type: 'string', default: '1280' } },
  });
  const workload = values.workload as WorkloadName;
  if (!WORKLOADS.includes(workload)) throw new Error(`--workload must be one of ${WORKLOADS.join(', ')}`);
  const backend = await ready();
  const report = registerFastKernels();
  const rows = Number(values.rows);
  let x: tf.Tensor2D;
  if (values.data) {
    const buf = fs.readFileSync(values.data);
    x = tf.tensor2d(new Float32Array(buf.buffer, buf.byteOffset, rows * 784), [rows, 784]);
  } else {
    x = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([rows, 784], 0, 1, 'float32', 1), 0.8), 'float32') as tf.Tensor2D);
  }
  await runWorkload(workload, x, 1, 1); // warm-up
  const t0 = performance.now();
  const info = await tf.profile(() => runWorkload(workload, x, 1, 2).then(() => undefined));
  const wall = performance.now() - t0;
  const byKernel = kernelTimes(info.kernels);
  const total = byKernel.reduce((s, [, e]) => s + e.ms, 0);
  console.log(`${workload} on ${backend} (${report.native ? 'native' : report.active ? 'transpose-fix' : 'stock'} kernels), ` +
    `${rows} rows: wall ${wall.toFixed(0)} ms (profiled), kernels ${total.toFixed(0)} ms`);
  for (const [name, e] of byKernel.slice(0, 25)) {
    console.log(`  ${name.padEnd(24)} ${e.ms.toFixed(1).padStart(9)} ms  ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  ${e.calls} calls`);
  }
  x.dispose();
}

main().catch((err) => {
  console.error((err as Error).stack ?? String(err));
  process.exit(1);
});
