/**
 * The contract every genlab model keeps, written once (Keras' `Layer`/`Model`, PyTorch's `nn.Module`):
 *
 * - **lifecycle**: a model registers itself with the innermost open {@link scope} when built (the scope frees it
 *   unless it is returned), `dispose()` frees everything it holds and may be called twice, and any use afterwards
 *   throws `this GAN has been disposed` instead of tfjs' "Tensor is disposed" from deep inside;
 * - **training state**: every family trains through one {@link TrainingState} (epoch counter, training generator,
 *   optimisers, chains), so a second `fit` continues the first and `fit(x, { reset: true })` starts afresh;
 * - **variables**: {@link Model.variables} lists what defines the model, which the training loop checks and restores
 *   when a fit diverges (a failed fit loses nothing);
 * - **files**: `save(dir)` / `static load(dir)` through one checkpoint format ({@link Model.loadCheckpointed});
 * - `describe()`: a one-line summary, e.g. `dense G 100-256-512-1024-784 D 784-1024-512-256-1 non-saturating`.
 *
 * Generative families also keep the sampling contract of {@link Generative}.
 */
import type { tf } from '../engine/tf';
import { trackDisposable } from '../engine/scope';
import { assertBackendReady } from '../engine/backend';
import { TrainingState } from '../train/state';
import { runEpochs, type EpochLoopSpec, type FitOptions, type History, type OnEpoch } from '../train/loop';
import { loadCheckpoint, type JsonValue } from './checkpoint';
import type { BatchTensor, DataShape } from './shapes';

/** The base of every genlab model (see the module comment). */
export abstract class Model {
  /** The model's kind, as named in its checkpoints and its error messages, e.g. `'GAN'`. */
  abstract readonly kind: string;
  /**
   * What one `fit` carries to the next: epoch and batch counters, the training generator, optimisers, chains.
   * Disposed with the model.
   */
  protected readonly training = new TrainingState();
  private disposedFlag = false;

  constructor() {
    assertBackendReady(`new ${new.target.name}`); // before any weight is made: a clear error, not tfjs' own
    trackDisposable(this); // an enclosing genlab scope() frees the model unless it is returned
  }

  /** True once {@link Model.dispose} has run; the model cannot be used afterwards. */
  get isDisposed(): boolean {
    return this.disposedFlag;
  }

  /** Throws a clear error once the model has been disposed. Every public method calls it first. */
  protected assertAlive(): void {
    if (this.disposedFlag) throw new Error(`this ${this.kind} has been disposed`);
  }

  /** Frees every tensor the model holds (weights, optimiser state, chains). Safe to call twice. */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    this.training.dispose();
    this.release();
  }

  /**
   * Frees the family's own tensors and networks (called once, by `dispose`). It must cope with a model whose
   * constructor threw part-way (fields may be undefined): a scope may dispose such a model.
   */
  protected abstract release(): void;

  /**
   * Every variable that defines the model (weights, biases, BatchNorm statistics, moving averages): what a
   * diverged `fit` puts back (the training loop's `variables`).
   */
  protected abstract variables(): tf.Variable[];

  /** A one-line summary of the architecture and settings. */
  abstract describe(): string;

  /**
   * Runs a `fit`'s epochs through the one training loop ({@link runEpochs}). What every family passes alike is
   * filled in here: the user's `shuffle`, `progress`, `onEpoch` and `earlyStopping`; the model's training state
   * (a second fit continues the first) and its variables (put back if the fit diverges); `` `${kind}.fit` `` in
   * messages and `` `${kind} ${describe()}` `` as the progress title. The family gives its step, metrics and
   * validation, and may override any of the filled-in fields (e.g. a title naming the sampler).
   */
  protected fitLoop<L extends object>(opts: Pick<FitOptions<L>, 'shuffle' | 'progress' | 'onEpoch' | 'earlyStopping'>, spec: ModelLoopSpec): Promise<History> {
    return runEpochs({
      shuffle: opts.shuffle !== false,
      progress: opts.progress ?? 'auto',
      onEpoch: opts.onEpoch as OnEpoch | undefined, // the family's typed logs are a record of numbers to the loop
      earlyStopping: opts.earlyStopping,
      title: `${this.kind} ${this.describe()}`,
      caller: `${this.kind}.fit`,
      state: this.training,
      variables: this.variables(),
      ...spec,
    });
  }

  /**
   * Loads a checkpoint of `kind` from `dir` and builds the model from it: `build(config)` makes the model,
   * `fill(model, tensors)` copies the weights in. The checkpoint's tensors are freed afterwards, and the model is
   * disposed when `fill` throws (e.g. a shape mismatch), so a failed load leaks nothing.
   */
  protected static async loadCheckpointed<M extends Model>(
    dir: string,
    kind: string,
    build: (config: JsonValue) => M,
    fill: (model: M, tensors: Record<string, tf.Tensor>) => void | Promise<void>,
  ): Promise<M> {
    const ck = await loadCheckpoint(dir, kind);
    try {
      const model = build(ck.config);
      try {
        await fill(model, ck.tensors);
      } catch (e) {
        model.dispose();
        throw e;
      }
      return model;
    } finally {
      for (const t of Object.values(ck.tensors)) t.dispose();
    }
  }
}

/** What a family gives {@link Model.fitLoop}: the loop's spec without the fields the model fills in (which it may still override). */
export type ModelLoopSpec = Omit<EpochLoopSpec, 'shuffle' | 'progress' | 'onEpoch' | 'earlyStopping' | 'title' | 'caller' | 'state' | 'variables'> &
  Partial<Pick<EpochLoopSpec, 'shuffle' | 'title' | 'variables'>>;

/** Options every generative model's `sample` takes (families add their own). */
export interface SampleOptions {
  /** Seed of this draw (same seed, same samples); default: the model's own stream, so draws differ. */
  seed?: number;
}

/**
 * The sampling contract of every generative family (RBMs, VAE, EnergyModel, GAN, DDPM): `sample(n, opts)` draws
 * `n` examples and resolves to a `BatchTensor<S>`, `[n, ...dataShape]` (`tf.Tensor2D` for vectors, `tf.Tensor4D`
 * for images), in the range of the training data (`dataRange` where the family rescales). The caller disposes it.
 *
 * `sample` is async in every family: long samplers (DDPM's hundreds of denoising steps, Langevin chains, Gibbs
 * chains) yield to the notebook between steps so their progress shows and the kernel stays responsive, and on the
 * native backend results are read without blocking.
 */
export interface Generative<S extends DataShape = DataShape> {
  /** Shape of one example, e.g. `[784]` or `[28, 28, 1]`. */
  readonly dataShape: number[];
  /** Draws `n` examples, `[n, ...dataShape]`. */
  sample(n: number, opts?: SampleOptions): Promise<BatchTensor<S>>;
}
