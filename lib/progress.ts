/**
 * Training progress: one interface for every `fit`, shown as a live bar and loss curve in a notebook and as a
 * plain line in a terminal or CI log.
 *
 * SKELETON (display issue #3 completes the implementation; the interface below is what models code against).
 */

/** Metrics reported at the end of an epoch (loss, reconstruction error, log-likelihood, ...). */
export type EpochMetrics = Record<string, number>;

/** Where a training loop reports. Created by {@link createProgress}. */
export interface ProgressReporter {
  /** Called after each mini-batch; `done` counts batches completed in the current epoch. */
  batch(done: number, metrics?: EpochMetrics): void;
  /** Called once per epoch (1-based) with that epoch's metrics. */
  epoch(epoch: number, metrics: EpochMetrics): void;
  /** Called once at the end (also after an error), so displays can finalise. */
  end(): void;
}

/** Options for {@link createProgress}. */
export interface ProgressOptions {
  /** Title shown before the bar, e.g. 'BernoulliRBM CD-1'. */
  title: string;
  /** Number of epochs planned. */
  epochs: number;
  /** Number of mini-batches per epoch. */
  batchesPerEpoch: number;
  /**
   * `'auto'` (default): a live display in a tslab notebook, a one-line report in a terminal or log;
   * `false`: silent.
   */
  mode?: 'auto' | false;
}

/** Creates the reporter for one training run. */
export function createProgress(opts: ProgressOptions): ProgressReporter {
  if (opts.mode === false) return { batch() {}, epoch() {}, end() {} };
  return {
    batch() {},
    epoch(epoch, metrics) {
      const parts = Object.entries(metrics).map(([k, v]) => `${k} ${v.toPrecision(5)}`);
      process.stdout.write(`${opts.title} epoch ${epoch}/${opts.epochs}  ${parts.join('  ')}\n`);
    },
    end() {},
  };
}
