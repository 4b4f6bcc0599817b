/**
 * The mini-batch loop shared by the gradient-trained models (VAE, Autoencoder): seeded shuffling, one
 * tidy-wrapped step per batch, metrics summed on the device and read once per epoch, progress reporting,
 * divergence detection, and no leaked tensors.
 * @internal
 */
import { tf } from '../engine/backend';
import { Random } from '../engine/random';
import { createProgress, EpochMetrics } from '../display/progress';
import { fusedAdam } from '../engine/kernels';
import { assertPositiveInteger, assertPositiveNumber, describeValue } from '../core/validate';

/** Validated epochs, batch size and learning rate of a `fit` call, with the model's defaults filled in. */
export function resolveFitOptions(
  opts: { epochs?: number; batchSize?: number; learningRate?: number; onEpoch?: unknown },
  defaults: { epochs: number; batchSize: number; learningRate: number },
): { epochs: number; batchSize: number; learningRate: number } {
  const epochs = opts.epochs ?? defaults.epochs;
  assertPositiveInteger('epochs', epochs);
  const batchSize = opts.batchSize ?? defaults.batchSize;
  assertPositiveInteger('batchSize', batchSize);
  const learningRate = opts.learningRate ?? defaults.learningRate;
  assertPositiveNumber('learningRate', learningRate);
  if (opts.onEpoch !== undefined && typeof opts.onEpoch !== 'function') {
    throw new TypeError(`onEpoch must be a function; got ${describeValue(opts.onEpoch)}`);
  }
  return { epochs, batchSize, learningRate };
}

/**
 * An Adam optimiser for `learningRate`, reusing `current` (and its moment estimates) when the rate is unchanged.
 * It is genlab's fused Adam (lib/engine/kernels.ts): tf.train.adam's maths, one native kernel per variable when the
 * optional OpenBLAS addon is built, tfjs's own update otherwise.
 */
export function adamFor(current: tf.Optimizer | null, currentRate: number, learningRate: number, epsilon: number): tf.Optimizer {
  if (current && currentRate === learningRate) return current;
  current?.dispose();
  return fusedAdam(learningRate, 0.9, 0.999, epsilon);
}

/** What {@link runEpochs} needs from a model. */
export interface EpochLoopSpec {
  /** Training data, flat `[n, D]`. */
  x: tf.Tensor2D;
  epochs: number;
  /** Capped at n. */
  batchSize: number;
  shuffle: boolean;
  rng: Random;
  /** Progress title, e.g. `VAE dense 784-400-20 bernoulli`. */
  title: string;
  progress: 'auto' | false;
  /** Names of the metrics `step` returns, in order; the first is the loss checked for divergence. */
  metricNames: string[];
  /**
   * One optimisation step on batch `xb` (`size` rows; `step` counts batches from 0 across epochs). Runs inside a
   * tidy; returns a `[metricNames.length]` tensor of the batch's metric *means* (it may be a kept tensor).
   */
  step(xb: tf.Tensor2D, size: number, step: number): tf.Tensor;
  /**
   * Called after each epoch with the epoch's metric means (weighted by batch rows); returns extra metrics (e.g.
   * validation) to report and record.
   */
  endEpoch?(epoch: number, means: Record<string, number>): Record<string, number> | Promise<Record<string, number>>;
  /** The user's callback. */
  onEpoch?(epoch: number, logs: Record<string, number>): void | Promise<void>;
  /** Used in the divergence message, e.g. `VAE.fit`. */
  caller: string;
  /** Used in the divergence message. */
  learningRate: number;
}

/** Runs the epochs; returns every reported metric per epoch. */
export async function runEpochs(spec: EpochLoopSpec): Promise<Record<string, number[]>> {
  const X = spec.x;
  const n = X.shape[0];
  const batchSize = Math.min(spec.batchSize, n);
  const batches = Math.ceil(n / batchSize);
  const k = spec.metricNames.length;
  const history: Record<string, number[]> = {};
  const reporter = createProgress({ title: spec.title, epochs: spec.epochs, batchesPerEpoch: batches, mode: spec.progress });
  let step = 0;
  try {
    for (let epoch = 1; epoch <= spec.epochs; epoch++) {
      const order = spec.shuffle ? spec.rng.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
      const idx = tf.tensor1d(order, 'int32');
      let sums: tf.Tensor = tf.zeros([k]); // running sum of metric * rows
      try {
        for (let b = 0; b < batches; b++) {
          const start = b * batchSize;
          const size = Math.min(batchSize, n - start);
          const s = step++;
          const next = tf.tidy(() => {
            const xb = tf.gather(X, idx.slice(start, size)) as tf.Tensor2D; //                          [b, D]
            const m = spec.step(xb, size, s);
            const out = sums.add(m.mul(size));
            m.dispose();
            return out;
          });
          sums.dispose();
          sums = next;
          reporter.batch(b + 1);
        }
      } finally {
        idx.dispose();
      }
      const totals = await sums.data();
      sums.dispose();
      const logs: Record<string, number> = {};
      spec.metricNames.forEach((name, i) => (logs[name] = totals[i] / n));
      const loss = logs[spec.metricNames[0]];
      if (!Number.isFinite(loss)) {
        throw new Error(
          `${spec.caller} diverged at epoch ${epoch}: the ${spec.metricNames[0]} is ${loss}; lower learningRate (got ${spec.learningRate}) or check x`,
        );
      }
      if (spec.endEpoch) Object.assign(logs, await spec.endEpoch(epoch, logs));
      for (const [name, v] of Object.entries(logs)) (history[name] ??= []).push(v);
      reporter.epoch(epoch, logs as EpochMetrics);
      if (spec.onEpoch) await spec.onEpoch(epoch, logs);
      await new Promise<void>((resolve) => setImmediate(resolve)); // let notebook displays refresh
    }
  } finally {
    reporter.end();
  }
  return history;
}

/** Trainable tf.Variables of tfjs-layers models (what an optimiser updates). */
export function trainableVariables(...models: tf.LayersModel[]): tf.Variable[] {
  return models.flatMap((m) => m.trainableWeights.map((w) => w.read() as tf.Variable));
}

/**
 * One gradient step: differentiates `lossAndMetrics` (returns `[loss, metricsVector]`) with respect to `vars`,
 * applies the optimiser, returns the metrics vector (kept past the gradient scope; the caller disposes it).
 */
export function gradientStep(
  optimizer: tf.Optimizer,
  vars: tf.Variable[],
  lossAndMetrics: () => [tf.Scalar, tf.Tensor],
): tf.Tensor {
  let metrics: tf.Tensor | null = null;
  const { grads } = tf.variableGrads(() => {
    const [loss, m] = lossAndMetrics();
    metrics = tf.keep(m);
    return loss;
  }, vars);
  optimizer.applyGradients(grads);
  tf.dispose(Object.values(grads));
  return metrics as unknown as tf.Tensor;
}
