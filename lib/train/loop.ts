/**
 * The one training loop of genlab: every gradient- or CD-trained model (RBM, VAE, Autoencoder, and the families
 * to come) plugs into {@link runEpochs} with a `step` and its metric names. The loop owns seeded shuffling, one
 * tidy-wrapped step per batch, metrics (of every batch, or of one per epoch) summed on the device and read once per
 * epoch, progress reporting, divergence detection, validation, early stopping, the epoch counter of resumed fits,
 * and the {@link History}; it leaks no tensors.
 *
 * Data flow per epoch:  x [n, D] --permutation(rng)--> batches xb [b, D] --step--> metric means [k]
 *   --sum on device--> one read --> logs {metric: mean} (+ validation val*, + onEpoch extras) --> History.
 */
import { tf } from '../engine/backend';
import { Random } from '../engine/random';
import { createProgress, EpochMetrics, ProgressOptions } from '../display/progress';
import { FusedAdamOptimizer, fusedAdam } from '../engine/fused-adam';
import { CompiledFunction, compilationAvailable, compileFunction } from '../engine/tensorflow-graph';
import { assertFiniteNumber, assertKnownOptions, assertNonNegativeInteger, assertPositiveInteger, assertPositiveNumber, describeValue, optionKeys, type OptionKeyMap } from '../core/validate';
import type { TrainingState } from './state';

/**
 * What every model's `fit` returns, in the spirit of Keras' `History.history`: one array per metric, one entry per
 * epoch of that `fit` call. Always carries `epoch` (epoch numbers, 1-based, continuing across resumed fits: a
 * second `fit` of 5 epochs after one of 5 gives 6..10) and `seconds` (wall time of each epoch's training, without
 * validation and callbacks); then the model's metrics (e.g. `loss`), validation metrics (`valLoss`, ...) and
 * whatever `onEpoch` returned. A metric missing on some epochs holds NaN there, so every array lines up with `epoch`.
 */
export type History = Record<string, number[]>;

/** Options of Keras' EarlyStopping callback, for every model's `fit`. */
export interface EarlyStoppingOptions {
  /**
   * The metric watched, by its history name (e.g. `'valLoss'`, `'loss'`, or a metric `onEpoch` returns). Default:
   * `'valLoss'` when validation data is given, else the model's first metric (its loss).
   */
  monitor?: string;
  /** Epochs without improvement after which training stops; 0 stops at the first. Integer >= 0. Default 0 (Keras). */
  patience?: number;
  /** The smallest change that counts as an improvement. >= 0. Default 0. */
  minDelta?: number;
  /** `'min'` (default: losses) or `'max'` (e.g. a log-likelihood): the direction of improvement. */
  mode?: 'min' | 'max';
}

/** Known keys of {@link EarlyStoppingOptions}. */
const EARLY_STOPPING_KEYS = optionKeys<EarlyStoppingOptions>({ monitor: true, patience: true, minDelta: true, mode: true });

/** Options every model's `fit` takes for the loop itself, next to its own (epochs, batchSize, ...). */
export interface LoopFitOptions {
  /**
   * `false` (default): a second `fit` continues where the previous one stopped -- epoch numbers go on (6..10 after
   * 5 epochs), and the optimiser state (Adam moments, momentum), persistent chains, KL warm-up position and the
   * training random stream carry over, so fit(2 epochs) then fit(3) trains as fit(5) would. `true`: start afresh --
   * new optimiser state and chains, epoch counter 0; the weights are kept.
   */
  reset?: boolean;
  /** Stop when a watched metric stops improving (see {@link EarlyStoppingOptions}). Default: off. */
  earlyStopping?: EarlyStoppingOptions;
}

/** The keys of {@link LoopFitOptions}, for the known-options list of each model's `fit`. */
export const LOOP_FIT_KEYS = optionKeys<LoopFitOptions>({ reset: true, earlyStopping: true });

/**
 * The callback every model's `fit` takes: called after each epoch (after validation) with the epoch number
 * (1-based, continuing across resumed fits) and that epoch's metrics, e.g. `{ loss, valLoss, seconds }`. It may
 * return extra numbers (e.g. `{ testLogLikelihood: -98.2 }`): they are added to the epoch's metrics, the progress
 * line and the {@link History}. Awaited when it returns a promise. `L` is the model's metric record.
 */
export type OnEpoch<L extends object = Record<string, number>> = (
  epoch: number,
  logs: L & Record<string, number>,
) => void | Record<string, number> | Promise<void | Record<string, number>>;

/**
 * The options every model's `fit` accepts (each family adds its own, e.g. the VAE's `beta`). Defaults are the
 * family's; each family's options type documents them.
 */
export interface FitOptions<L extends object = Record<string, number>> extends LoopFitOptions {
  /** Passes over the data. Integer >= 1. */
  epochs?: number;
  /** Mini-batch size. Integer >= 1 (capped at the data size). */
  batchSize?: number;
  /** The optimiser's step size, > 0. */
  learningRate?: number;
  /** Reshuffle the data every epoch (seeded). Default true. */
  shuffle?: boolean;
  /**
   * Held-out data, same layout as `x`: the model's loss on it is recorded after every epoch as `valLoss` (and its
   * other validation metrics as `val...`); `earlyStopping` then watches `valLoss` by default.
   */
  validation?: tf.Tensor;
  /** Called after every epoch (see {@link OnEpoch}). */
  onEpoch?: OnEpoch<L>;
  /** `'auto'` (default): a live bar in a notebook, one line per epoch in a terminal; `false`: silent. */
  progress?: 'auto' | false;
  /**
   * Seed of the training's random stream (shuffling, noise, negatives): same seed, same run. Default: the stream
   * carried from the previous fit, or a fork of the model's own generator on the first fit (or after `reset`).
   */
  seed?: number;
}

/** The keys of {@link FitOptions} (each family adds its own). */
export const FIT_KEYS = optionKeys<FitOptions>(fitOptionMap());

/**
 * The {@link FitOptions} keys as an `optionKeys` map, for a family to spread into its own:
 * `optionKeys<VAEFitOptions>({ ...fitOptionMap(), beta: true, klWarmup: true })`.
 */
export function fitOptionMap(): OptionKeyMap<FitOptions> {
  return {
    epochs: true, batchSize: true, learningRate: true, shuffle: true, validation: true, onEpoch: true, progress: true,
    reset: true, earlyStopping: true, seed: true,
  };
}

/** Checks the loop's own fit options (`reset`, `earlyStopping`); returns `reset` resolved. */
export function resolveLoopOptions(caller: string, opts: LoopFitOptions): { reset: boolean } {
  const reset = opts.reset ?? false;
  if (typeof reset !== 'boolean') throw new TypeError(`reset must be true or false; got ${describeValue(reset)}`);
  const es = opts.earlyStopping;
  if (es !== undefined) {
    if (es === null || typeof es !== 'object' || Array.isArray(es)) {
      throw new TypeError(`earlyStopping must be an object such as { monitor: 'valLoss', patience: 3 }; got ${describeValue(es)}`);
    }
    assertKnownOptions(`${caller} earlyStopping`, es, EARLY_STOPPING_KEYS);
    if (es.monitor !== undefined && typeof es.monitor !== 'string') throw new TypeError(`earlyStopping.monitor must be a metric name; got ${describeValue(es.monitor)}`);
    if (es.patience !== undefined) assertNonNegativeInteger('earlyStopping.patience', es.patience);
    if (es.minDelta !== undefined) assertFiniteNumber('earlyStopping.minDelta', es.minDelta, { min: 0 });
    if (es.mode !== undefined && es.mode !== 'min' && es.mode !== 'max') throw new RangeError(`earlyStopping.mode must be 'min' or 'max'; got ${describeValue(es.mode)}`);
  }
  return { reset };
}

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
 * It is genlab's fused Adam (lib/engine/fused-adam.ts): tf.train.adam's maths, one native kernel per variable when the
 * optional OpenBLAS addon is built, tfjs's own update otherwise.
 */
export function adamFor(
  current: tf.Optimizer | null,
  currentRate: number,
  learningRate: number,
  epsilon: number,
  beta1 = 0.9,
  beta2 = 0.999,
): tf.Optimizer {
  if (current && currentRate === learningRate) return current;
  current?.dispose();
  return fusedAdam(learningRate, beta1, beta2, epsilon);
}

/** What {@link runEpochs} needs from a model. Fields marked optional may be left out by any model. */
export interface EpochLoopSpec {
  /** Training data, flat `[n, D]`. */
  x: tf.Tensor2D;
  /** Epochs to run in this call. */
  epochs: number;
  /** Capped at n. */
  batchSize: number;
  shuffle: boolean;
  /** The generator of the shuffling (the model may draw its noise from it too). */
  rng: Random;
  /** Progress title, e.g. `VAE dense 784-400-20 bernoulli`. */
  title: string;
  /** `'auto'`, `false` (silent), or a forced `'notebook'` / `'terminal'` form (see createProgress). */
  progress: ProgressOptions['mode'];
  /** Names of the metrics `step` returns, in order; the first is the loss checked for divergence. */
  metricNames: string[];
  /**
   * Optional: which batches the step measures its metrics on. `'batch'` (default): every batch; an epoch's metrics
   * are the means over all its rows. `'epoch'`: one batch per epoch, the epoch's last full batch (see
   * {@link measuredBatch}); an epoch's metrics are that batch's means. For a model whose metrics cost work the
   * update does not need (the RBM's reconstruction error), so that an epoch costs what the bare update costs.
   */
  measureEvery?: MeasureEvery;
  /**
   * One optimisation step on batch `xb` (`size` rows; `step` counts batches from 0 across epochs -- and across
   * resumed fits when `state` is given). Runs inside a tidy; returns a `[metricNames.length]` tensor of the batch's
   * metric *means* (it may be a kept tensor). `measure` says whether the loop wants this batch's metrics (always
   * true unless `measureEvery` is `'epoch'`): when it is false the step may skip them and return null, and what it
   * returns is ignored. Required unless `stepRows` is given.
   */
  step?(xb: tf.Tensor2D, size: number, step: number, measure: boolean): tf.Tensor | null;
  /**
   * Optional, used instead of `step` when given: the same step handed the whole data `x` and the batch's row
   * indices `rows` ([size], int32, uploaded from JavaScript), for a model whose compiled step gathers its batch
   * itself (on the native backend an eager gather between compiled steps costs more than the gather inside one).
   */
  stepRows?(x: tf.Tensor2D, rows: tf.Tensor1D, size: number, step: number, measure: boolean): tf.Tensor | null;
  /**
   * Called after each epoch with the epoch's metric means (weighted by batch rows); returns extra metrics (e.g.
   * the current KL weight) to report and record.
   */
  endEpoch?(epoch: number, means: Record<string, number>): Record<string, number> | Promise<Record<string, number>>;
  /**
   * The user's callback, after validation; numbers it returns (e.g. `{ testLogLikelihood: ... }`) are added to
   * the epoch's metrics, the history and the progress.
   */
  onEpoch?(epoch: number, logs: Record<string, number>): void | Record<string, number> | Promise<void | Record<string, number>>;
  /** Used in the divergence message, e.g. `VAE.fit`. */
  caller: string;
  /** Used in the divergence message. */
  learningRate: number;
  /**
   * Optional: the model's training state. Epochs are then numbered from `state.epoch + 1`, the batch counter starts
   * at `state.step`, and both advance (a second fit continues the first). Without it, epochs count from 1.
   */
  state?: TrainingState;
  /** Optional: held-out data `[m, D]` passed to `validate` after every epoch. */
  validationData?: tf.Tensor2D;
  /**
   * Optional: metrics of the model on `validationData` (plain numbers, e.g. `{ loss, reconstruction, kl }`); the
   * loop records each as `val` + its capitalised name (`valLoss`, `valReconstruction`, `valKl`).
   */
  validate?(x: tf.Tensor2D): Record<string, number> | Promise<Record<string, number>>;
  /** Optional: stop when a metric stops improving (Keras' EarlyStopping; checked with {@link resolveLoopOptions}). */
  earlyStopping?: EarlyStoppingOptions;
  /**
   * Optional: every variable that defines the model (weights, biases, BatchNorm statistics, averages). The loop
   * checks once per epoch that they are finite, and keeps a copy of them from before the fit and after each finite
   * epoch: when the fit diverges (a non-finite loss or weight), the variables are put back as they were after the
   * last finite epoch, what `state` carries (optimiser moments, chains) is dropped, and the error says so.
   */
  variables?: tf.Variable[];
  /**
   * Optional: a family's own soundness check of its parameters (once per epoch, with the loss), for what `variables`'
   * finiteness does not cover (e.g. weights too large to train further). `false` or a reason (a phrase such as `a
   * weight reached 1e+30`) is handled as a divergence (see `variables`); `true` passes.
   */
  parametersFinite?(): boolean | string;
  /** Optional: the advice ending a divergence message. Default: lower learningRate (with its value) or check x. */
  divergenceAdvice?: string;
}

/**
 * Which batches a training step measures its metrics on (see {@link EpochLoopSpec.measureEvery}): `'batch'`, every
 * batch; `'epoch'`, one batch per epoch ({@link measuredBatch}).
 */
export type MeasureEvery = 'batch' | 'epoch';

/** The values of {@link MeasureEvery}, for checking an option. */
export const MEASURE_EVERY: readonly MeasureEvery[] = ['epoch', 'batch'];

/**
 * The batch measured under `measureEvery: 'epoch'`, 0-based: the epoch's last full batch (`batchSize` rows, with
 * `batchSize` capped at `n`), i.e. the last batch, or the one before it when the last is a short remainder.
 */
export function measuredBatch(n: number, batchSize: number): number {
  const size = Math.min(batchSize, n);
  return Math.floor(n / size) - 1;
}

/** `valLoss` for `loss`: the history name of a validation metric. */
function validationName(name: string): string {
  return `val${name.charAt(0).toUpperCase()}${name.slice(1)}`;
}

/** Decides after each epoch whether to stop (Keras' EarlyStopping: `patience` epochs without improvement). */
class EarlyStopper {
  private best = NaN;
  private wait = 0;
  constructor(
    private readonly monitor: string,
    private readonly patience: number,
    private readonly minDelta: number,
    private readonly sign: number, // +1: lower is better, -1: higher is better
  ) {}

  /**
   * True when training should stop after this epoch. The monitored metric must be there on the first epoch (else
   * a misspelt name would silently disable the stop); later epochs without it (e.g. an `onEpoch` metric computed
   * every 10th epoch) neither improve nor count against the patience.
   */
  update(logs: Record<string, number>, firstEpoch: boolean): boolean {
    if (!(this.monitor in logs)) {
      if (!firstEpoch) return false;
      throw new Error(`earlyStopping.monitor '${this.monitor}' is not a recorded metric; recorded: ${Object.keys(logs).map((k) => `'${k}'`).join(', ')}`);
    }
    const v = this.sign * logs[this.monitor];
    if (Number.isNaN(v)) return false;
    if (Number.isNaN(this.best) || v < this.best - this.minDelta) {
      this.best = v;
      this.wait = 0;
      return false;
    }
    this.wait++;
    return this.wait >= this.patience;
  }
}

/** Wall clock for the progress yields (let notebook displays and timers run during long epochs). */
const YIELD_EVERY_MS = 200;

/** Runs the epochs; returns the {@link History} of this call (see {@link EpochLoopSpec} for resuming). */
export async function runEpochs(spec: EpochLoopSpec): Promise<History> {
  if (!spec.step && !spec.stepRows) throw new Error(`${spec.caller}: runEpochs needs step or stepRows`);
  const X = spec.x;
  const n = X.shape[0];
  const batchSize = Math.min(spec.batchSize, n);
  const batches = Math.ceil(n / batchSize);
  const k = spec.metricNames.length;
  const state = spec.state;
  const first = (state?.epoch ?? 0) + 1; // number of this call's first epoch
  const history: History = { epoch: [], seconds: [] };
  const es = spec.earlyStopping;
  const stopper = es
    ? new EarlyStopper(
        es.monitor ?? (spec.validationData ? validationName(spec.metricNames[0]) : spec.metricNames[0]),
        es.patience ?? 0,
        es.minDelta ?? 0,
        es.mode === 'max' ? -1 : 1,
      )
    : null;
  const title = first > 1 ? `${spec.title} (resumed at epoch ${first})` : spec.title;
  const reporter = createProgress({ title, epochs: spec.epochs, batchesPerEpoch: batches, mode: spec.progress });
  let step = state?.step ?? 0;
  let lastYield = Date.now();
  const guard = new DivergenceGuard(spec.variables ?? [], state);
  const measured = spec.measureEvery === 'epoch' ? measuredBatch(n, batchSize) : -1; // -1: every batch
  try {
    for (let e = 0; e < spec.epochs; e++) {
      const epoch = first + e;
      const t0 = performance.now();
      const order = spec.shuffle ? spec.rng.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
      const idx = spec.stepRows ? null : tf.tensor1d(order, 'int32');
      let sums: tf.Tensor = tf.zeros([k]); // running sum of metric * rows, over the measured batches
      let rows = 0; // rows of the measured batches
      try {
        for (let b = 0; b < batches; b++) {
          const start = b * batchSize;
          const size = Math.min(batchSize, n - start);
          const s = step++;
          const measure = measured < 0 || b === measured;
          const next = tf.tidy(() => {
            const m = spec.stepRows
              ? spec.stepRows(X, tf.tensor1d(order.subarray(start, start + size), 'int32'), size, s, measure)
              : spec.step!(tf.gather(X, idx!.slice(start, size)) as tf.Tensor2D, size, s, measure); // batch xb [b, D]
            if (!measure) {
              m?.dispose();
              return undefined;
            }
            if (!m) throw new Error(`${spec.caller}: the training step returned no metrics for a measured batch`);
            const out = sums.add(m.mul(size));
            m.dispose();
            return out;
          });
          if (next) {
            sums.dispose();
            sums = next;
            rows += size;
          }
          if (state) state.step = step;
          reporter.batch(b + 1);
          if (Date.now() - lastYield > YIELD_EVERY_MS) {
            await new Promise<void>((resolve) => setImmediate(resolve));
            lastYield = Date.now();
          }
        }
      } finally {
        idx?.dispose();
      }
      const totals = await sums.data();
      sums.dispose();
      const logs: Record<string, number> = {};
      spec.metricNames.forEach((name, i) => (logs[name] = totals[i] / rows));
      const seconds = (performance.now() - t0) / 1000;
      const loss = logs[spec.metricNames[0]];
      const finite = await guard.finite();
      const sound = finite ? (spec.parametersFinite?.() ?? true) : false;
      if (sound !== true || !Number.isFinite(loss)) {
        const what = sound === true ? `the ${spec.metricNames[0]} is ${loss}` : typeof sound === 'string' ? sound : 'the weights became NaN or infinite';
        const kept = guard.restore(first - 1);
        const advice = spec.divergenceAdvice ?? `Lower learningRate (got ${spec.learningRate}) or check x.`;
        throw new Error([`${spec.caller} diverged at epoch ${epoch}: ${what}.`, kept, advice].filter((s) => s).join(' '));
      }
      if (state) state.epoch = epoch; // the epoch's updates are done: a later fit continues after it
      guard.save(epoch, step);
      if (spec.endEpoch) Object.assign(logs, await spec.endEpoch(epoch, logs));
      if (spec.validationData && spec.validate) {
        for (const [name, v] of Object.entries(await spec.validate(spec.validationData))) logs[validationName(name)] = v;
      }
      logs.seconds = seconds;
      if (spec.onEpoch) {
        const extra = await spec.onEpoch(epoch, { ...logs });
        if (extra && typeof extra === 'object') {
          for (const [name, v] of Object.entries(extra)) if (typeof v === 'number') logs[name] = v;
        }
      }
      // One entry per epoch in every array: a metric first seen now is NaN before, a missing one NaN now.
      history.epoch.push(epoch);
      for (const name of Object.keys(logs)) history[name] ??= new Array<number>(e).fill(NaN);
      for (const [name, values] of Object.entries(history)) if (name !== 'epoch') values.push(logs[name] ?? NaN);
      reporter.epoch(e + 1, logs as EpochMetrics);
      const stop = stopper?.update(logs, e === 0) ?? false;
      await new Promise<void>((resolve) => setImmediate(resolve)); // let notebook displays refresh
      lastYield = Date.now();
      if (stop) break;
    }
  } finally {
    guard.dispose();
    reporter.end();
  }
  return history;
}

/**
 * A copy of a model's variables from before a fit and after each finite epoch, put back when the fit diverges, so
 * that a failed fit loses nothing (the model is as it was after its last finite epoch).
 */
class DivergenceGuard {
  private copy: tf.Tensor[];
  private savedEpoch = -1; // -1: the copy is from before this fit
  private savedStep: number;

  constructor(
    private readonly variables: tf.Variable[],
    private readonly state: TrainingState | undefined,
  ) {
    this.copy = variables.map((v) => tf.keep(v.clone()));
    this.savedStep = state?.step ?? 0;
  }

  /** Whether every variable is finite (one read for all of them). */
  async finite(): Promise<boolean> {
    if (this.variables.length === 0) return true;
    // A sum is finite only if every term is (a sum of huge finite weights overflowing counts as diverged too).
    const total = tf.tidy(() => tf.addN(this.variables.map((v) => v.sum().toFloat())));
    const [value] = await total.data();
    total.dispose();
    return Number.isFinite(value);
  }

  /** Records the variables after a finite epoch. */
  save(epoch: number, step: number): void {
    if (this.variables.length === 0) return;
    tf.dispose(this.copy);
    this.copy = this.variables.map((v) => tf.keep(v.clone()));
    this.savedEpoch = epoch;
    this.savedStep = step;
  }

  /** Puts the saved variables back and drops the carried training state; returns a sentence saying what was kept. */
  restore(epochBeforeFit: number): string {
    if (this.variables.length === 0) return '';
    this.variables.forEach((v, i) => v.assign(this.copy[i]));
    if (this.state) {
      this.state.dropCarried(); // optimiser moments and chains may hold NaN: the next fit starts them afresh
      this.state.step = this.savedStep;
    }
    return this.savedEpoch < 0
      ? epochBeforeFit > 0
        ? `The model is as it was before this fit (after epoch ${epochBeforeFit}); its optimiser state was reset.`
        : 'The model is as it was before this fit; its optimiser state was reset.'
      : `The model is as it was after epoch ${this.savedEpoch}, the last finite one; its optimiser state was reset.`;
  }

  dispose(): void {
    tf.dispose(this.copy);
    this.copy = [];
  }
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
  const { metrics, grads } = metricsAndGradients(vars, lossAndMetrics);
  optimizer.applyGradients(grads);
  tf.dispose(Object.values(grads));
  return metrics;
}

/** The metrics vector (kept past the gradient scope) and the loss's gradients by variable name. */
function metricsAndGradients(vars: tf.Variable[], lossAndMetrics: () => [tf.Scalar, tf.Tensor]): { metrics: tf.Tensor; grads: tf.NamedTensorMap } {
  let metrics: tf.Tensor | null = null;
  const { grads } = tf.variableGrads(() => {
    const [loss, m] = lossAndMetrics();
    metrics = tf.keep(m);
    return loss;
  }, vars);
  return { metrics: metrics as unknown as tf.Tensor, grads };
}

/**
 * {@link gradientStep} for a loss written as a function of explicit inputs, so that the whole step can be compiled:
 * on the native TensorFlow backend the forward and backward passes -- and with genlab's {@link FusedAdamOptimizer}
 * the Adam update too -- run as one recorded TensorFlow function per batch shape (engine/tensorflow-graph.ts);
 * elsewhere this is `gradientStep`.
 *
 * `lossAndMetrics(inputs)` follows the contract of a compiled function: everything that changes from batch to batch
 * (the batch, the noise, a scheduled weight as a scalar tensor) comes in `inputs`, no random draws or read-backs
 * inside; the variables in `vars` are read afresh at every call. The optimiser is fixed for the step's life.
 */
export class CompiledGradientStep {
  private readonly names: string[];
  /** Gradients only; the optimiser then updates op by op (any optimiser, any backend). */
  private readonly grads: CompiledFunction;
  /** Gradients and the fused Adam update in one function (native backend, FusedAdamOptimizer). */
  private withUpdate: CompiledFunction | null = null;
  private generation = -1;

  constructor(
    private readonly vars: tf.Variable[],
    private readonly optimizer: tf.Optimizer,
    private readonly lossAndMetrics: (inputs: tf.Tensor[]) => [tf.Scalar, tf.Tensor],
    private readonly label = 'gradient_step',
  ) {
    this.names = vars.map((v) => v.name);
    this.grads = compileFunction((inputs) => this.gradients(inputs), label);
  }

  /** [metrics, ...gradients in `vars` order]. */
  private gradients(inputs: tf.Tensor[]): tf.Tensor[] {
    const { metrics, grads } = metricsAndGradients(this.vars, () => this.lossAndMetrics(inputs));
    return [metrics, ...this.names.map((n) => grads[n])];
  }

  /** Why this step runs op by op on the native backend (its recording failed), or null. */
  get fallback(): string | null {
    return this.withUpdate?.fallback ?? this.grads.fallback;
  }

  /** One step on `inputs`: gradients, then the optimiser's update; returns the metrics vector (the caller disposes it). */
  run(inputs: tf.Tensor[]): tf.Tensor {
    const adam = this.optimizer instanceof FusedAdamOptimizer && compilationAvailable() ? this.optimizer : null;
    if (adam && adam.prepareCompiledUpdate(this.names)) {
      if (!this.withUpdate || adam.slotGeneration !== this.generation) {
        this.withUpdate?.dispose(); // it captured resource variables that were since replaced
        this.generation = adam.slotGeneration;
        this.withUpdate = compileFunction((inputs) => {
          const [metrics, ...grads] = this.gradients(inputs);
          return [metrics, ...adam.recordUpdate(grads)];
        }, `${this.label}_adam`);
      }
      const [metrics, ...updated] = this.withUpdate.call(inputs);
      adam.finishCompiledUpdate(this.names, updated);
      tf.dispose(updated);
      return metrics;
    }
    const [metrics, ...grads] = this.grads.call(inputs);
    const named: tf.NamedTensorMap = {};
    this.names.forEach((name, i) => (named[name] = grads[i]));
    this.optimizer.applyGradients(named);
    tf.dispose(grads);
    return metrics;
  }

  /** Frees its recorded functions. */
  dispose(): void {
    this.grads.dispose();
    this.withUpdate?.dispose();
  }
}
