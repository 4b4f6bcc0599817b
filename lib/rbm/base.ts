/**
 * What every RBM in genlab shares: parameters, `fit` by CD-k / PCD through the training loop (the update itself is
 * in contrastive-divergence.ts), Gibbs sampling, exact log Z by enumeration (chunked), AIS, checkpoints.
 * {@link BernoulliRBM} and {@link GaussianBernoulliRBM} fill in the energy-specific parts (conditionals, free
 * energy, sufficient statistics).
 *
 * Notation (shapes in brackets): visible v [n, nV], hidden h [n, nH], weights W [nV, nH], visible biases a [nV],
 * hidden biases b [nH]. p(v, h) = exp(-E(v, h)) / Z, free energy F(v) = -log sum_h exp(-E(v, h)), so
 * p(v) = exp(-F(v)) / Z. The log-likelihood gradient is a difference of expectations of the sufficient statistics
 * s(v, h) = -dE/dtheta: d log p(v) / d theta = <s>_data - <s>_model (positive minus negative phase).
 * Data may come as rows [n, nV] or, for a model built with `dataShape: [h, w, c]`, as images [n, h, w, c]; the
 * visible layer sees them flattened to [n, nV], nV = h w c, and `sample` returns the model's `dataShape`.
 */
import { tf } from '../engine/backend';
import { Random, toRandom } from '../engine/random';
import { assertFiniteNumber, assertKnownOptions, assertOneOf, assertPositiveInteger, describeValue, optionKeys } from '../core/validate';
import { capabilities, ready } from '../engine/backend';
import { Model, type Generative, type SampleOptions } from '../core/model';
import { flattenData, type DataChecks, type FlatData } from '../core/data';
import type { BatchTensor, DataShape } from '../core/shapes';
import { resolveDataShape, shapeSize } from '../core/data-shape';
import { AIS_OPTION_KEYS, AISOptions, AISResult, AISTarget, logMeanExp, meanAndStderr, resolveAISOptions, ReverseAISRuns, runAIS, runReverseAIS, studentT975 } from '../mcmc/ais';
import { JsonValue, saveCheckpoint } from '../core/checkpoint';
import { nativeBernoulli, uniformArray } from '../engine/kernels';
import { FitOptions, History, MEASURE_EVERY, MeasureEvery, OnEpoch, resolveLoopOptions, fitOptionMap } from '../train/loop';
import { CompiledFunction, compilationAvailable, compileFunction } from '../engine/tensorflow-graph';
import { assignUpdate, CDUpdateOptions, contrastiveDivergence, RBMConditionals, RBMStats, StepNoise } from './contrastive-divergence';

export type { RBMStats } from './contrastive-divergence';

/** Largest layer `logPartition` enumerates (2^25 = 33.5 million states). */
export const MAX_ENUMERATED_UNITS = 25;
/** Elements per tensor in chunked computations (enumeration, pseudo-likelihood): bounds memory to ~16 MB. */
const CHUNK_ELEMENTS = 1 << 22;

/**
 * Options shared by the RBM constructors. Give the visible layer's size as `dataShape` (the shape of one example,
 * e.g. `[784]` or `[28, 28, 1]`) or as `nVisible` (the number of visible units, the same as `dataShape: [nVisible]`);
 * when both are given they must agree (nVisible = the product of dataShape).
 */
export interface RBMOptions<S extends DataShape = DataShape> {
  /**
   * Shape of one example, e.g. `[784]` or `[28, 28, 1]`: the visible layer has their product of units, `fit` takes
   * `[n, nVisible]` or `[n, ...dataShape]`, and `sample(n)` returns `[n, ...dataShape]`. Default `[nVisible]`.
   */
  dataShape?: S;
  /** Number of visible units (input width); a positive integer. Default: the product of `dataShape`. */
  nVisible?: number;
  /** Number of binary hidden units; a positive integer. */
  nHidden: number;
  /** Seed for weights and sampling; same seed, same run on the CPU and WASM backends. Default: random. */
  seed?: number;
  /** Standard deviation of the initial weights, drawn from N(0, weightStd^2). Default 0.01 (Hinton's guide). */
  weightStd?: number;
}

/** Every key of {@link RBMOptions} (each RBM constructor adds its own). */
export const RBM_OPTION_KEYS = optionKeys<RBMOptions>({ dataShape: true, nVisible: true, nHidden: true, seed: true, weightStd: true });

/**
 * The visible layer of an RBM from its options: `dataShape`, `nVisible`, or both when they agree. Errors name the
 * option: `nVisible (10) and dataShape ([28, 28, 1], 784 units) disagree`.
 */
export function resolveVisible(opts: { dataShape?: unknown; nVisible?: unknown }): { dataShape: number[]; nVisible: number } {
  const dataShape = resolveDataShape(opts, { flatName: 'nVisible' });
  if (!dataShape) throw new TypeError('nVisible or dataShape is required (e.g. nVisible: 784 or dataShape: [28, 28, 1])');
  return { dataShape, nVisible: shapeSize(dataShape) };
}

/** Options of {@link RBM.logLikelihoodBounds}: those of AIS, with cheaper defaults (RAISE runs per data row). */
export interface LogLikelihoodBoundsOptions extends AISOptions {
  /** Runs per batch, for forward AIS and per data row for RAISE. Default 10 here; positive integer. */
  runs?: number;
  /** Independent batches (their spread gives the error bars). Default 5 here; integer >= 2. */
  batches?: number;
  /** Schedule (see `aisSchedule`). Default `'fast'` here (1451 temperatures). */
  betas?: number[] | 'salakhutdinov2008' | 'fast' | number;
}

/** Result of {@link RBM.logLikelihoodBounds}: mean log-likelihood per row, nats. */
export interface LogLikelihoodBounds {
  /** RAISE estimate minus t stderr (t: Student's 97.5 % point, batches - 1 dof): conservative lower end. */
  lower: number;
  /** Forward-AIS estimate plus t stderr: upper end. */
  upper: number;
  /** Forward-AIS estimate mean(-F(x)) - log Z_AIS (optimistic: a stochastic upper bound). */
  estimate: number;
  /** One-sigma error of `estimate` (the AIS log Z stderr, from independent batches). */
  estimateStderr: number;
  /** RAISE estimate (a stochastic lower bound on the annealing model's log-likelihood; conservative). */
  raise: number;
  /** One-sigma error of `raise`, from independent batches. */
  raiseStderr: number;
  /** The forward AIS result behind `estimate`. */
  logZ: AISResult;
}

/** The metrics `fit` records each epoch (the history adds `epoch`, `seconds` and `valReconstructionError`). */
export interface RBMEpochLogs {
  /**
   * The mean-field squared reconstruction error sum_i (v_i - E[v_i | h = P(h|v)])^2 (what
   * {@link RBM.reconstructionError} computes), measured during the epoch's updates: by default (`measureEvery:
   * 'epoch'`) the mean over the rows of one batch, the epoch's last full batch, with the parameters its update
   * starts from; with `measureEvery: 'batch'` the mean over all the epoch's rows, each batch before its update.
   * (Before `measureEvery` existed it was always the latter.)
   */
  reconstructionError: number;
}

/**
 * Training options of `fit`: the loop's (epochs, batchSize, learningRate, shuffle, validation, onEpoch, progress,
 * reset, earlyStopping; see {@link FitOptions}) with the RBM's defaults, and contrastive divergence's own.
 */
export interface RBMFitOptions extends FitOptions<RBMEpochLogs> {
  /** Passes over the data. Default 10; positive integer. */
  epochs?: number;
  /** Rows per mini-batch. Default 100; positive integer (the last batch of an epoch may be smaller). */
  batchSize?: number;
  /** Step size of the gradient ascent on the log-likelihood. Default 0.01; >= 0. */
  learningRate?: number;
  /** Gibbs steps per update: CD-k or PCD-k. Default 1; positive integer. */
  k?: number;
  /**
   * `false` (default): contrastive divergence, chains restart at the data of each batch. `true`: persistent CD (PCD,
   * Tieleman 2008): `chains` fantasy particles carried from batch to batch and on to the next `fit` call, started
   * from the independent model given by the visible biases at the first `fit` (or after `reset: true` or a diverged
   * fit).
   */
  persistent?: boolean;
  /** PCD only: number of persistent chains (fantasy particles). Default `batchSize`. */
  chains?: number;
  /**
   * PCD only: draw the negative phase by parallel tempering (Desjardins et al. 2010) instead of plain persistent
   * Gibbs chains -- inverse temperatures 1 = beta_0 > ... > 0, or a number K >= 2 for 1, 1 - 1/K, ..., 1/K (see
   * `sample`). `chains` replicas per temperature; each update runs k tempered sweeps with swaps and uses the beta = 1
   * replicas. Costs K times PCD per update; helps when the model grows separated modes. Default: off.
   */
  parallelTempering?: number[] | number;
  /**
   * Step size at the end of this `fit` call: the step decays linearly, update by update, from `learningRate` at the
   * first update to `finalLearningRate` at the last (Tieleman 2008 decays PCD's rate to zero). A decaying step
   * averages out the noise of the negative phase, which otherwise keeps moving the relative weights of separated
   * modes (PCD and parallel tempering). Default: `learningRate` (constant); >= 0.
   */
  finalLearningRate?: number;
  /** Momentum in [0, 1): velocity = momentum * velocity + learningRate * gradient. Default 0. */
  momentum?: number;
  /** L2 penalty on W: gradient -= weightDecay * W. Default 0; >= 0. */
  weightDecay?: number;
  /** Shuffle the rows every epoch (seeded). Default true. */
  shuffle?: boolean;
  /**
   * Initialise the visible biases from the data (log-odds of the pixel means, clipped, for binary units; the mean
   * for Gaussian units). Default: true on the first `fit` of a freshly constructed model, false afterwards or after
   * `setWeights` / `load`.
   */
  initVisibleBias?: boolean;
  /**
   * Called after every epoch with the epoch number (1-based, continuing across resumed fits) and its metrics
   * `{ reconstructionError, valReconstructionError?, seconds }`; may be async. Numbers it returns are added to the
   * metrics, the history and the progress. Reach the model through the variable that holds it:
   * `onEpoch: () => ({ testLogLikelihood: rbm.logLikelihood(test) })`.
   */
  onEpoch?: OnEpoch<RBMEpochLogs>;
  /**
   * Seed for this run's shuffling and sampling. Default: the stream of the previous `fit` continues (so a resumed
   * fit equals one long fit); the first `fit` draws one from the model's generator.
   */
  seed?: number;
  /**
   * Held-out data, `[m, nVisible]` or `[m, ...dataShape]`: its mean reconstruction error is recorded after every
   * epoch as `valReconstructionError` (which `earlyStopping` then watches by default).
   */
  validation?: tf.Tensor;
  /**
   * Which batches the recorded `reconstructionError` is measured on. CD does not need it: measuring a batch costs a
   * product P(h|v0) W^T [B, nH] x [nH, nV] on top of CD-1's five of that size. `'epoch'` (default): one batch per
   * epoch, the last full one, before its update -- nearly free, a noisier curve (the mean over one batch's rows).
   * `'batch'`: every batch before its update, averaged over the epoch's rows -- a smoother curve, for about a fifth
   * more time per epoch (what `fit` always did before this option). For the error of the trained model on all the
   * data call {@link RBM.reconstructionError}; for held-out data after every epoch pass `validation`.
   */
  measureEvery?: MeasureEvery;
}

export const RBM_FIT_OPTION_KEYS = optionKeys<RBMFitOptions>({
  ...fitOptionMap(), k: true, persistent: true, chains: true, parallelTempering: true, finalLearningRate: true, momentum: true,
  weightDecay: true, initVisibleBias: true, measureEvery: true,
});

/** Parameters as tensors (the caller owns and must dispose them) -- see `getWeights`. */
export interface RBMWeights {
  /** Weights, [nVisible, nHidden]. */
  W: tf.Tensor2D;
  /** Visible biases a, [nVisible]. */
  visibleBias: tf.Tensor1D;
  /** Hidden biases b, [nHidden]. */
  hiddenBias: tf.Tensor1D;
}

/** Values for `setWeights`: tensors or plain arrays; omitted fields keep their value. */
export interface RBMWeightsInput {
  /** [nVisible, nHidden] */
  W?: tf.Tensor2D | number[][];
  /** [nVisible] */
  visibleBias?: tf.Tensor1D | number[] | Float32Array;
  /** [nHidden] */
  hiddenBias?: tf.Tensor1D | number[] | Float32Array;
}

/**
 * Options of `sample(n, opts)`; `n`, the first argument, is the number of independent chains (samples returned).
 * (An older `sample({ chains })` took it as an option; `chains` is refused with a pointer to `n`.)
 */
export interface RBMSampleOptions extends SampleOptions {
  /** Gibbs steps (v -> h -> v) from the start. Default 1000; positive integer. */
  steps?: number;
  /** Seed of this draw (same seed, same samples). Default: drawn from the model's generator, so draws differ. */
  seed?: number;
  /**
   * Start states, `[n, nVisible]` or `[n, ...dataShape]` (e.g. the result of an earlier `sample` to continue its
   * chains). Default: samples from the independent model given by the visible biases.
   */
  init?: tf.Tensor;
  /** Return E[v | h] of the last step instead of a sample (smoother images). Default false. */
  meanField?: boolean;
  /**
   * Parallel tempering (replica exchange, Swendsen & Wang 1986; for RBMs Desjardins et al. 2010): an array of
   * inverse temperatures 1 = beta_0 > beta_1 > ... > 0, or a number K >= 2 for K levels 1, 1 - 1/K, ..., 1/K.
   * Each level runs the same Gibbs sweeps on p_beta(v, h) proportional to exp(-beta E(v, h)); after every sweep
   * neighbouring levels propose to swap states (accepted with probability
   * min(1, exp((beta_k - beta_k+1) (E_k - E_k+1))), even and odd pairs alternating). Hot levels cross energy barriers,
   * so the beta = 1 chains, which are returned, mix between modes much faster. Cost: K times plain Gibbs. Default: off.
   */
  parallelTempering?: number[] | number;
}

const RBM_SAMPLE_OPTION_KEYS = optionKeys<RBMSampleOptions>({
  steps: true, seed: true, init: true, meanField: true, parallelTempering: true,
});

/** Wall-clock interval at which `sample`'s Gibbs chains yield to the event loop (notebook displays, timers). */
const SAMPLE_YIELD_MS = 200;

/** Options of `gibbs`. */
export interface RBMGibbsOptions {
  /** Seed for this call's draws. Default: the model's generator. */
  seed?: number;
}

const RBM_GIBBS_OPTION_KEYS = optionKeys<RBMGibbsOptions>({ seed: true });

/** A non-trainable variable holding `t`'s values; `t` is disposed (tf.variable keeps its argument alive otherwise). */
export function ownedVariable<R extends tf.Rank>(t: tf.Tensor<R>): tf.Variable<R> {
  const v = tf.variable(t, false);
  t.dispose();
  return v;
}

/** Bernoulli samples: 1 where u < p, with u uniform from the seeded generator. Call inside a tidy. */
export function bernoulli(p: tf.Tensor2D, rng: Random): tf.Tensor2D {
  const fast = nativeBernoulli(p, rng); // the same draws in one native pass, where the addon is built
  if (fast) return fast;
  const [n, m] = p.shape;
  const u = tf.tensor2d(rng.uniformArray(n * m), [n, m]);
  // Native TensorFlow: cast(u < p), two ops (step(p - u) is a subtraction plus two); the same samples, since p - u > 0
  // exactly when u < p in floating point. Elsewhere step(p - u) = 1 where u < p, else 0: float32 throughout (a
  // bool -> float32 cast keeps a byte buffer on the CPU backend).
  if (capabilities().ownKernels) return bernoulliFrom(p, u);
  return tf.step(tf.sub(p, u)) as tf.Tensor2D;
}

/** The Bernoulli(p) sample that uniforms `u` (same shape) determine: 1 where u < p, else 0 (float32). */
export function bernoulliFrom(p: tf.Tensor2D, u: tf.Tensor2D): tf.Tensor2D {
  return tf.cast(tf.less(u, p), 'float32') as tf.Tensor2D;
}

/** Checks / expands the `parallelTempering` option into inverse temperatures 1 = beta_0 > ... > 0. */
export function resolveTemperingBetas(pt: number[] | number): number[] {
  if (typeof pt === 'number') {
    if (!Number.isInteger(pt) || pt < 2) throw new RangeError(`parallelTempering must be an integer >= 2 or an array of inverse temperatures; got ${describeValue(pt)}`);
    return Array.from({ length: pt }, (_, k) => 1 - k / pt);
  }
  if (!Array.isArray(pt) || pt.length < 2) throw new RangeError(`parallelTempering must be an array of at least 2 inverse temperatures; got ${describeValue(pt)}`);
  pt.forEach((b, k) => {
    if (typeof b !== 'number' || !Number.isFinite(b) || b <= 0 || b > 1 || (k > 0 && b >= pt[k - 1])) {
      throw new RangeError(`parallelTempering must decrease strictly from 1 and stay in (0, 1]; got [${pt.join(', ')}]`);
    }
  });
  if (pt[0] !== 1) throw new RangeError(`parallelTempering must start at beta = 1 (the model itself); got ${pt[0]}`);
  return pt;
}

/** Rows start .. start+count-1 of all 2^nBits binary vectors (bit j of the row index is column j), [count, nBits]. */
export function binaryStates(nBits: number, start: number, count: number): tf.Tensor2D {
  const out = new Float32Array(count * nBits);
  for (let r = 0; r < count; r++) {
    const x = start + r;
    for (let j = 0; j < nBits; j++) out[r * nBits + j] = Math.floor(x / 2 ** j) % 2;
  }
  return tf.tensor2d(out, [count, nBits]);
}

/** log sum exp of numbers combined in double precision. */
export function logSumExpNumbers(xs: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, xs[i]);
  if (!Number.isFinite(m)) return m;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += Math.exp(xs[i] - m);
  return m + Math.log(s);
}

function toTensor(name: string, value: unknown, shape: number[]): tf.Tensor {
  let t: tf.Tensor;
  if (value instanceof tf.Tensor) t = value.clone();
  else if (Array.isArray(value) || value instanceof Float32Array) t = tf.tensor(value as number[]);
  else throw new TypeError(`${name} must be a tensor or an array of shape [${shape.join(', ')}]; got ${describeValue(value)}`);
  const ok = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  if (!ok) {
    const got = t.shape.join(', ');
    t.dispose();
    throw new RangeError(`${name} must have shape [${shape.join(', ')}]; got [${got}]`);
  }
  const finite = tf.tidy(() => tf.all(tf.isFinite(t)).dataSync()[0]);
  if (!finite) {
    t.dispose();
    throw new RangeError(`${name} must contain only finite values; got NaN or Infinity`);
  }
  return t;
}

/**
 * The shared machinery of genlab's RBMs. Not constructed directly: use {@link BernoulliRBM} or
 * {@link GaussianBernoulliRBM}. `S` is the shape of one example (`[nVisible]` unless built with another
 * `dataShape`): it types what `sample` returns (`tf.Tensor2D` for `[784]`, `tf.Tensor4D` for `[28, 28, 1]`).
 */
export abstract class RBM<S extends DataShape = DataShape> extends Model implements Generative<S> {
  /** Shape of one example, e.g. `[784]` or `[28, 28, 1]` (`[nVisible]` unless built with a `dataShape`). */
  readonly dataShape: number[];
  /** Number of visible units (the product of `dataShape`). */
  readonly nVisible: number;
  /** Number of hidden units. */
  readonly nHidden: number;
  /** The seed the model was created with. */
  readonly seed: number;
  protected rng: Random;
  /** W [nV, nH]. */
  protected W: tf.Variable<tf.Rank.R2>;
  /** a [nV]. */
  protected a: tf.Variable<tf.Rank.R1>;
  /** b [nH]. */
  protected b: tf.Variable<tf.Rank.R1>;
  /** Visible biases have been set (from data, setWeights or a checkpoint); fit then leaves them alone. */
  protected biasesSet = false;
  /** Base-rate visible biases from the first fit's data, for AIS. */
  protected baseRate: Float32Array | null = null;
  /** Bumped whenever the parameters change; keys the cache of the exact log Z. */
  protected version = 0;
  private cachedLogZ: { version: number; value: number } | null = null;

  protected constructor(opts: RBMOptions<S>) {
    if (opts === null || typeof opts !== 'object') throw new TypeError(`options must be an object; got ${describeValue(opts)}`);
    const { dataShape, nVisible } = resolveVisible(opts);
    assertPositiveInteger('nHidden', opts.nHidden);
    if (opts.seed !== undefined) assertFiniteNumber('seed', opts.seed);
    const weightStd = opts.weightStd ?? 0.01;
    assertFiniteNumber('weightStd', weightStd, { min: 0 });
    super(); // registers the model with the enclosing scope()
    this.dataShape = dataShape;
    this.nVisible = nVisible;
    this.nHidden = opts.nHidden;
    this.rng = toRandom(opts.seed);
    this.seed = this.rng.seed;
    const init = this.rng.fork();
    const w = init.normalArray(this.nVisible * this.nHidden).map((x) => x * weightStd);
    this.W = ownedVariable(tf.tensor2d(w, [this.nVisible, this.nHidden]));
    this.a = ownedVariable(tf.zeros([this.nVisible]));
    this.b = ownedVariable(tf.zeros([this.nHidden]));
  }

  // ---- energy-specific parts (implemented by the subclasses) ------------------------------------------------

  /** What valid data for this model satisfy besides the shape (finite values; binary units: values in [0, 1]). */
  protected abstract dataChecks(): DataChecks;
  /** Input to the hidden units, [n, nH]: b + v' W with v' = v (binary) or v / sigma^2 (Gaussian). */
  protected abstract hiddenInput(v: tf.Tensor2D): tf.Tensor2D;
  /** E[v | h], [n, nV]. */
  protected abstract visibleMean(h: tf.Tensor2D): tf.Tensor2D;
  /** A sample v ~ p(v | h) (at inverse temperature `beta`: from p_beta(v | h) proportional to exp(-beta E)), [n, nV]. */
  protected abstract sampleVisible(h: tf.Tensor2D, rng: Random, beta?: number): tf.Tensor2D;
  /**
   * The random numbers one visible sample needs, [n, nV] (uniforms for binary units, standard normals for Gaussian
   * ones), drawn as {@link RBM.sampleVisible} draws them: `visibleFromNoise(h, visibleNoise(rng, n))` is the same
   * sample as `sampleVisible(h, rng)`. The compiled training step draws its noise first and passes it in.
   */
  protected abstract visibleNoise(rng: Random, n: number): tf.Tensor2D;
  /** The sample v ~ p(v | h) that `noise` (from {@link RBM.visibleNoise}) determines, [n, nV]. */
  protected abstract visibleFromNoise(h: tf.Tensor2D, noise: tf.Tensor2D): tf.Tensor2D;
  /** Energy E(v, h) per row, [n]. */
  protected abstract energy(v: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor1D;
  /** Start states of chains: samples of the visible units with W = 0, [n, nV]. */
  protected abstract independentVisible(n: number, rng: Random): tf.Tensor2D;
  /**
   * Sufficient statistics summed over rows, s(v, P(h|v)), for each trained parameter except W, whose statistic
   * sum_rows x h^T the update forms from {@link RBM.weightOperand} as one product for both phases
   * (contrastive-divergence.ts).
   */
  protected abstract stats(v: tf.Tensor2D, ph: tf.Tensor2D): RBMStats;
  /** x with W's sufficient statistic = x^T P(h|v) summed over rows: v (binary units) or v / sigma^2 (Gaussian). */
  protected abstract weightOperand(v: tf.Tensor2D): tf.Tensor2D;
  /** The trained parameters by the names `stats` uses. */
  protected abstract trainables(): Record<string, tf.Variable>;
  /** Visible biases fitted to data (no weights), [nV]. */
  protected abstract visibleBiasFromData(x: tf.Tensor2D): tf.Tensor1D;
  /** Free energy per row, [n]. */
  protected abstract freeEnergyUnchecked(v: tf.Tensor2D): tf.Tensor1D;
  /** Exact log Z by enumeration (the caller checked the size). */
  protected abstract logPartitionExact(): number;
  /** The AIS base model and transitions. */
  protected abstract aisTarget(baseVisibleBias: tf.Tensor1D): AISTarget;
  /** Extra configuration stored in checkpoints. */
  protected abstract extraConfig(): Record<string, JsonValue>;
  /** Post-update projection (e.g. clamp log-variances); default none. */
  protected constrain(): void {}
  /**
   * The largest parameter magnitude a fit accepts before it counts as diverged (the training loop then puts the last
   * sound weights back). Default Infinity: only NaN and infinite values count.
   */
  protected parameterLimit(): number {
    return Infinity;
  }
  /** The option names `fit` accepts (a subclass with extra fit options extends the list). */
  protected fitOptionKeys(): readonly string[] {
    return RBM_FIT_OPTION_KEYS;
  }
  /**
   * Step size of parameter `name` in the update about to run (`lr`: the fit's learningRate at this update, i.e.
   * `decay` times the fit's `learningRate`, see `finalLearningRate`). Default `lr` for every parameter;
   * {@link GaussianBernoulliRBM} scales and delays its log-variances.
   */
  protected learningRateOf(_name: string, lr: number, _decay: number): number {
    return lr;
  }

  /**
   * h W^T, [n, nV] (the rows of W h). A transposed product: how it runs fast (BLAS flags, or an explicit transpose
   * where the backend's transposed product is slow) is the engine's business (lib/engine/kernels.ts).
   */
  protected timesWt(h: tf.Tensor2D): tf.Tensor2D {
    return tf.matMul(h, this.W, false, true);
  }

  /** The model's conditionals and statistics, as the CD update takes them (contrastive-divergence.ts). */
  private conditionals(): RBMConditionals {
    return {
      hiddenInput: (v) => this.hiddenInput(v),
      stats: (v, ph) => this.stats(v, ph),
      weightOperand: (v) => this.weightOperand(v),
    };
  }

  // ---- data at the boundary ----------------------------------------------------------------------------------

  /**
   * `x` checked as data for this model (shape `[n, nVisible]` or `[n, ...dataShape]`, finite, in range; errors name
   * `name`) and flat, `[n, nVisible]`; `owned`: a reshaped copy the caller disposes.
   */
  protected flatData(name: string, x: unknown): FlatData {
    return flattenData(name, x, this.dataShape, this.dataChecks());
  }

  /** `f` applied to `x` checked and flattened (see {@link RBM.flatData}); the flat copy is freed afterwards. */
  protected withData<T>(name: string, x: unknown, f: (v: tf.Tensor2D) => T): T {
    const { x: v, owned } = this.flatData(name, x);
    try {
      return f(v);
    } finally {
      if (owned) v.dispose();
    }
  }

  // ---- common API --------------------------------------------------------------------------------------------

  /**
   * P(h = 1 | v) for each row of `v` ([n, nVisible] or [n, ...dataShape]): [n, nHidden]. The caller owns the result.
   */
  transform(v: tf.Tensor): tf.Tensor2D {
    this.assertAlive();
    return this.withData('v', v, (flat) => tf.tidy(() => tf.sigmoid(this.hiddenInput(flat))));
  }

  /** Free energy F(v) per row, [n]: p(v) = exp(-F(v)) / Z. Numerically stable (softplus). */
  freeEnergy(v: tf.Tensor): tf.Tensor1D {
    this.assertAlive();
    return this.withData('v', v, (flat) => tf.tidy(() => this.freeEnergyUnchecked(flat)));
  }

  /**
   * Mean-field reconstruction of each row of `v`: E[v | h = P(h = 1 | v)], in the shape of `v` ([n, nVisible] or
   * [n, ...dataShape]) -- one deterministic pass v -> P(h|v) -> E[v|h] with no sampling. For a {@link BernoulliRBM}
   * it is sigmoid(a + P(h|v) W^T) (probabilities in (0, 1)); for a {@link GaussianBernoulliRBM} the conditional
   * mean a + P(h|v) W^T. `v` must be valid data for the model (binary models: values in [0, 1]).
   * {@link RBM.reconstructionError} is the mean over rows of sum_i (v_i - reconstruct(v)_i)^2.
   * The caller owns (must dispose) the result.
   *
   * @example
   * const vHat = rbm.reconstruct(x); // [n, nVisible]
   */
  reconstruct<T extends tf.Tensor>(v: T): T {
    this.assertAlive();
    return this.withData('v', v, (flat) => tf.tidy(() => this.meanFieldReconstruction(flat).reshape(v.shape) as T));
  }

  /**
   * Mean squared reconstruction error: mean over rows of sum_i (v_i - E[v_i | h = P(h|v)])^2 (deterministic
   * mean-field pass v -> P(h|v) -> E[v|h], i.e. {@link RBM.reconstruct}). The quantity `fit` records per epoch as
   * `reconstructionError`, there on one batch (or every batch) during the updates (see `measureEvery`).
   */
  reconstructionError(v: tf.Tensor): number {
    this.assertAlive();
    return this.withData('v', v, (flat) => tf.tidy(() => this.reconstructionSum(flat).div(flat.shape[0]).dataSync()[0]));
  }

  /** E[v | h = P(h|v)], [n, nV] (no input check; call inside a tidy). */
  protected meanFieldReconstruction(v: tf.Tensor2D): tf.Tensor2D {
    return this.visibleMean(tf.sigmoid(this.hiddenInput(v))); // [n, nH] -> [n, nV]
  }

  /** Sum over rows of the mean-field squared reconstruction error (scalar tensor). */
  protected reconstructionSum(v: tf.Tensor2D): tf.Scalar {
    return this.reconstructionSumFrom(v, tf.sigmoid(this.hiddenInput(v)));
  }

  /** {@link RBM.reconstructionSum} of `v` [n, nV] given its P(h = 1 | v) `ph` [n, nH]: sum (v - E[v | ph])^2. */
  private reconstructionSumFrom(v: tf.Tensor2D, ph: tf.Tensor2D): tf.Scalar {
    return tf.sum(tf.squaredDifference(v, this.visibleMean(ph)));
  }

  /** The mean reconstruction error of a training batch v0 [B, nV] from its positive phase `ph0` [B, nH]: [1]. */
  private batchReconstruction(v0: tf.Tensor2D, ph0: tf.Tensor2D): tf.Tensor1D {
    return tf.reshape(tf.div(this.reconstructionSumFrom(v0, ph0), v0.shape[0]), [1]);
  }

  /**
   * Runs `steps` full Gibbs sweeps v -> h -> v from each row of `v` and returns the final visible sample, in the
   * shape of `v` ([n, nVisible] or [n, ...dataShape]; the caller owns it).
   */
  gibbs<T extends tf.Tensor>(v: T, steps = 1, opts: RBMGibbsOptions = {}): T {
    assertKnownOptions(`${this.kind}.gibbs`, opts, RBM_GIBBS_OPTION_KEYS);
    this.assertAlive();
    assertPositiveInteger('steps', steps);
    const rng = opts.seed === undefined ? this.rng : new Random(opts.seed);
    return this.withData('v', v, (flat) => {
      let cur = flat;
      for (let s = 0; s < steps; s++) {
        const next = this.gibbsSweep(cur, rng, false);
        if (cur !== flat) cur.dispose();
        cur = next;
      }
      const out = cur.reshape(v.shape) as T; // a new tensor even when the shape is unchanged
      cur.dispose();
      return out;
    });
  }

  /** One Gibbs sweep v -> h ~ P(h|v) -> v ~ p(v|h) (with `meanField`, E[v|h] instead of the last sample), [n, nV]. */
  private gibbsSweep(v: tf.Tensor2D, rng: Random, meanField: boolean): tf.Tensor2D {
    return tf.tidy(() => {
      const h = bernoulli(tf.sigmoid(this.hiddenInput(v)), rng);
      return meanField ? this.visibleMean(h) : this.sampleVisible(h, rng);
    });
  }

  /**
   * `n` samples of the model ("fantasy particles"): `n` independent Gibbs chains run `steps` sweeps (default 1000)
   * from `init` or from the independent model given by the visible biases, optionally with parallel tempering
   * (see {@link RBMSampleOptions}). Resolves to `[n, ...dataShape]` (`[n, nVisible]` for a model built with
   * `nVisible`); the caller owns it. The chains yield to the event loop now and then, so a notebook stays responsive.
   *
   * @example
   * const fantasy = await rbm.sample(16, { steps: 1000, meanField: true, seed: 3 }); // [16, 784]
   * const further = await rbm.sample(16, { init: fantasy, steps: 100 });              // the same chains, continued
   */
  async sample(n: number, opts: RBMSampleOptions = {}): Promise<BatchTensor<S>> {
    if (opts !== null && typeof opts === 'object' && 'chains' in opts) {
      throw new TypeError(
        `${this.kind}.sample takes the number of chains as its first argument, sample(n, { steps, ... }); ` +
          `got the option chains: ${describeValue((opts as { chains: unknown }).chains)}`,
      );
    }
    assertKnownOptions(`${this.kind}.sample`, opts, RBM_SAMPLE_OPTION_KEYS);
    await ready();
    this.assertAlive();
    assertPositiveInteger('n', n);
    const steps = opts.steps ?? 1000;
    assertPositiveInteger('steps', steps);
    if (opts.seed !== undefined) assertFiniteNumber('seed', opts.seed);
    const betas = opts.parallelTempering === undefined ? null : resolveTemperingBetas(opts.parallelTempering);
    const meanField = opts.meanField ?? false;
    if (typeof meanField !== 'boolean') throw new TypeError(`meanField must be true or false; got ${describeValue(meanField)}`);
    const init = opts.init === undefined ? null : this.flatData('init', opts.init);
    if (init && init.x.shape[0] !== n) {
      if (init.owned) init.x.dispose();
      throw new RangeError(`init must have n = ${n} rows; got shape [${opts.init!.shape.join(', ')}]`);
    }
    const rng = opts.seed === undefined ? this.rng.fork() : new Random(opts.seed);
    const start = init ? init.x : this.independentVisible(n, rng); //                                     [n, nV]
    let out: tf.Tensor2D;
    try {
      out = betas ? await this.temperedChain(start, steps, rng, meanField, betas) : await this.gibbsChain(start, steps, rng, meanField);
    } finally {
      if (!init || init.owned) start.dispose();
    }
    if (this.dataShape.length === 1) return out as BatchTensor<S>;
    const shaped = out.reshape([n, ...this.dataShape]);
    out.dispose();
    return shaped as BatchTensor<S>;
  }

  /** `steps` Gibbs sweeps from `v` [n, nV] (not disposed), yielding now and then; the last one mean-field if asked. */
  private async gibbsChain(v: tf.Tensor2D, steps: number, rng: Random, meanField: boolean): Promise<tf.Tensor2D> {
    let cur = v;
    let lastYield = Date.now();
    try {
      for (let s = 0; s < steps; s++) {
        const next = this.gibbsSweep(cur, rng, meanField && s === steps - 1);
        if (cur !== v) cur.dispose();
        cur = next;
        if (Date.now() - lastYield > SAMPLE_YIELD_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          this.assertAlive(); // the model may have been disposed meanwhile
          lastYield = Date.now();
        }
      }
    } catch (e) {
      if (cur !== v) cur.dispose();
      throw e;
    }
    return cur;
  }

  /** Parallel tempering from `v` (copied to every level); returns the beta = 1 level's final state. */
  private async temperedChain(v: tf.Tensor2D, steps: number, rng: Random, meanField: boolean, betas: number[]): Promise<tf.Tensor2D> {
    let vs: tf.Tensor2D[] = betas.map(() => v.clone());
    let hs: tf.Tensor2D[] = [];
    let lastYield = Date.now();
    try {
      for (let s = 0; s < steps; s++) {
        const next = tf.tidy(() => this.temperedSweep(vs, betas, rng, s % 2));
        tf.dispose([...vs, ...hs]);
        ({ vs, hs } = next);
        if (Date.now() - lastYield > SAMPLE_YIELD_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          this.assertAlive();
          lastYield = Date.now();
        }
      }
      return meanField && hs.length > 0 ? tf.tidy(() => this.visibleMean(hs[0])) : vs[0].clone();
    } finally {
      tf.dispose([...vs, ...hs]);
    }
  }

  /**
   * One parallel-tempering sweep (call inside a tidy): a Gibbs sweep v -> h -> v at each inverse temperature, so
   * (v_k, h_k) is a joint sample of p_beta_k(v, h) ~ exp(-beta_k E), then replica exchange between the pairs
   * (k, k+1) with k = parity, parity + 2, ...: accept with probability min(1, exp((beta_k - beta_k+1)(E_k - E_k+1))).
   * Tensors only (no reads), so it can sit inside a training loop. `vs`: K states [C, nV]; returns the new ones.
   */
  protected temperedSweep(vs: tf.Tensor2D[], betas: number[], rng: Random, parity: number): { vs: tf.Tensor2D[]; hs: tf.Tensor2D[] } {
    const C = vs[0].shape[0];
    const hs = betas.map((beta, k) => bernoulli(tf.sigmoid(tf.mul(this.hiddenInput(vs[k]), beta)) as tf.Tensor2D, rng)); // [C, nH] each
    const out = betas.map((beta, k) => this.sampleVisible(hs[k], rng, beta)); // [C, nV] each
    const energies = betas.map((_, k) => this.energy(out[k], hs[k])); // [C] each
    for (let k = parity; k + 1 < betas.length; k += 2) {
      const logA = tf.mul(tf.sub(energies[k], energies[k + 1]), betas[k] - betas[k + 1]); // [C]
      const accept = tf.less(tf.log(tf.tensor1d(rng.uniformArray(C))), logA).reshape([C, 1]); // [C, 1] bool
      [out[k], out[k + 1]] = [tf.where(accept, out[k + 1], out[k]), tf.where(accept, out[k], out[k + 1])];
      [hs[k], hs[k + 1]] = [tf.where(accept, hs[k + 1], hs[k]), tf.where(accept, hs[k], hs[k + 1])];
    }
    return { vs: out, hs };
  }

  /**
   * Exact log Z (nats) by enumerating the states of the smaller binary layer in chunks (for Gaussian visible units
   * the hidden layer is enumerated and the Gaussian integral is done in closed form). Refuses when the enumerated
   * layer has more than 25 units: use {@link logPartitionAIS} then. The value is cached until the parameters change
   * (so `logLikelihood(test)` and `logLikelihood(train)` after one epoch enumerate once).
   */
  logPartition(): number {
    this.assertAlive();
    const n = this.enumeratedUnits();
    if (n > MAX_ENUMERATED_UNITS) {
      throw new RangeError(
        `logPartition enumerates 2^${n} states (the ${this.enumeratedLayerName()} layer has ${n} units); that is too many ` +
          `(limit ${MAX_ENUMERATED_UNITS} units). Use logPartitionAIS({ runs: 100 }) for an estimate of log Z instead.`,
      );
    }
    if (this.cachedLogZ?.version !== this.version) this.cachedLogZ = { version: this.version, value: this.logPartitionExact() };
    return this.cachedLogZ.value;
  }

  /** Units of the layer `logPartition` enumerates. */
  protected enumeratedUnits(): number {
    return Math.min(this.nVisible, this.nHidden);
  }
  protected enumeratedLayerName(): string {
    return this.nHidden <= this.nVisible ? 'hidden' : 'visible';
  }

  /**
   * log-sum-exp over all 2^nBits binary states of `score(states)` ([count] per chunk), chunked so that tensors stay
   * below ~4M elements; chunk results are combined in double precision.
   */
  protected enumerate(nBits: number, width: number, score: (states: tf.Tensor2D) => tf.Tensor1D): number {
    const total = 2 ** nBits;
    const chunk = Math.max(1, Math.min(total, Math.floor(CHUNK_ELEMENTS / Math.max(width, nBits))));
    const parts: number[] = [];
    for (let start = 0; start < total; start += chunk) {
      const count = Math.min(chunk, total - start);
      parts.push(tf.tidy(() => tf.logSumExp(score(binaryStates(nBits, start, count))).dataSync()[0]));
    }
    return logSumExpNumbers(parts);
  }

  /**
   * Estimate of log Z by annealed importance sampling (Salakhutdinov & Murray 2008) from a base-rate RBM with zero
   * weights: `runs` x `batches` independent runs (default 100 x 10) on the 'fast' schedule (1451 inverse
   * temperatures); see {@link AISOptions}, AIS_DEFAULTS and the notes in mcmc/ais.ts.
   * Returns `{ logZ, stderr, batchLogZ, ess, deltaStderr, logZBase, logWeights, runs, batches, temperatures }`.
   * `logZ` is biased low (a stochastic lower bound on log Z); `stderr` is the standard error from the spread of
   * the independent batches (one sigma of the scatter, not the bias).
   * Cost: runs x batches x temperatures Gibbs sweeps (1.45 million chain-sweeps by default, as many as the former
   * 100 runs x 14 501 temperatures); on a 784-16 RBM that took 160-180 s on this shared 2-core machine,
   * and lands within 0.1 nat of the exact log Z there (bench/ais-defaults.ts).
   */
  async logPartitionAIS(opts: AISOptions = {}): Promise<AISResult> {
    assertKnownOptions(`${this.kind}.logPartitionAIS`, opts, AIS_OPTION_KEYS);
    await ready();
    this.assertAlive();
    if (opts === null || typeof opts !== 'object') throw new TypeError(`options must be an object; got ${describeValue(opts)}`);
    assertKnownOptions('logPartitionAIS', opts, AIS_OPTION_KEYS);
    if (opts.seed !== undefined) assertFiniteNumber('seed', opts.seed);
    const rng = opts.seed === undefined ? this.rng.fork() : new Random(opts.seed);
    const base = this.aisBaseRate(opts.data);
    try {
      return await runAIS(this.aisTarget(base), opts, rng);
    } finally {
      base.dispose();
    }
  }

  /** Visible biases of the AIS base model: from `data`, else the first fit's base rate, else the model's own. */
  private aisBaseRate(data: tf.Tensor | undefined): tf.Tensor1D {
    if (data !== undefined) return this.withData('data', data, (flat) => this.visibleBiasFromData(flat));
    return this.baseRate ? tf.tensor1d(this.baseRate) : this.a.clone();
  }

  /**
   * A sandwich around the mean log-likelihood of the rows of `x` (nats) for models too large for the exact
   * log Z, after Burda, Grosse & Salakhutdinov (2015):
   * - `estimate`: mean(-F(x)) - log Z_AIS, with forward AIS's log Z ({@link logPartitionAIS}). Forward AIS's
   *   log Z is biased low, so this is optimistic (a stochastic upper bound).
   * - `upper` = estimate + t * its stderr, t = Student's 97.5 % quantile with batches - 1 degrees of freedom
   *   (2.78 for 5 batches): an upper end that holds with about 97.5 % probability when the bias of AIS's log Z
   *   is small next to its stderr (the bias only pushes `estimate` up, so it never hurts this side).
   * - `raise`: reverse AIS (RAISE), the mean over rows of log-mean-exp of the reverse weights (see
   *   `runReverseAIS` in mcmc/ais.ts): a stochastic lower bound on the log-likelihood of the annealing model,
   *   which approaches the RBM as the schedule lengthens -- conservative (too low rather than too high).
   * - `lower` = raise - t * its stderr (same t): the conservative lower end.
   * Both stderrs come from the spread of `batches` independent batches of runs (one sigma), so [lower, upper]
   * holds the log-likelihood with probability about 95 % or more (measured on exactly solvable RBMs in
   * test/ais.test.ts).
   * If `lower` and `upper` are close, the log-likelihood is pinned down; if far apart, lengthen `betas`.
   *
   * Cost: forward AIS runs x batches chains, RAISE rows x runs x batches chains, each over the schedule, so RAISE
   * costs `rows` times forward AIS. Defaults: runs 10, batches 5, betas `'fast'` (1451 temperatures). Measured on
   * a 784-16 Fashion-MNIST RBM, 50 test rows, runs 2 x batches 5, 1000 temperatures: 23 s, and the exact value
   * lay inside [lower, upper] = [exact - 0.70, exact + 2.30] (bench/RESULTS.md).
   *
   * @param x Data rows [n, nVisible] or [n, ...dataShape] (e.g. 50-500 test images; the cost grows with n).
   */
  async logLikelihoodBounds(x: tf.Tensor, opts: LogLikelihoodBoundsOptions = {}): Promise<LogLikelihoodBounds> {
    this.assertAlive();
    assertKnownOptions(`${this.kind}.logLikelihoodBounds`, opts, AIS_OPTION_KEYS);
    await ready();
    if (opts.seed !== undefined) assertFiniteNumber('seed', opts.seed);
    const o: AISOptions = { ...opts, runs: opts.runs ?? 10, batches: opts.batches ?? 5, betas: opts.betas ?? 'fast' };
    resolveAISOptions(o, `${this.kind}.logLikelihoodBounds`);
    const data = this.flatData('x', x);
    try {
      return await this.boundsOn(data.x, o);
    } finally {
      if (data.owned) data.x.dispose();
    }
  }

  /** {@link RBM.logLikelihoodBounds} on checked, flat rows `x` [n, nV] with its options resolved. */
  private async boundsOn(x: tf.Tensor2D, o: AISOptions): Promise<LogLikelihoodBounds> {
    const { runs, batches, betas } = resolveAISOptions(o, `${this.kind}.logLikelihoodBounds`);
    const rng = o.seed === undefined ? this.rng.fork() : new Random(o.seed);
    const forward = await this.logPartitionAIS({ ...o, seed: rng.fork().seed });
    const negF = tf.tidy(() => tf.neg(this.freeEnergyUnchecked(x)).dataSync()) as Float32Array; // [n]
    const meanNegF = negF.reduce((s, v) => s + v, 0) / negF.length;
    const base = this.aisBaseRate(o.data);
    let rev: ReverseAISRuns;
    try {
      rev = await runReverseAIS(this.aisTarget(base), x, runs * batches, betas, rng.fork());
    } finally {
      base.dispose();
    }
    // Batch b of row i: log p_ann(x_i) ~= -F(x_i) + log-mean-exp(-rho) over the batch's runs.
    const perBatch = Array.from({ length: batches }, (_, b) => {
      let s = 0;
      rev.rho.forEach((r, i) => (s += negF[i] + logMeanExp(Array.from(r.subarray(b * runs, (b + 1) * runs), (v: number) => -v))));
      return s / rev.rho.length;
    });
    const raise = rev.rho.reduce((s, r, i) => s + negF[i] + logMeanExp(Array.from(r, (v: number) => -v)), 0) / rev.rho.length;
    const raiseStderr = meanAndStderr(perBatch).stderr;
    const estimate = meanNegF - forward.logZ;
    const t = studentT975(batches - 1);
    return {
      lower: raise - t * raiseStderr,
      upper: estimate + t * forward.stderr,
      estimate,
      estimateStderr: forward.stderr,
      raise,
      raiseStderr,
      logZ: forward,
    };
  }

  /**
   * Mean log p(v) over the rows of `v`, in nats (a log density for Gaussian visible units):
   * mean(-F(v)) - log Z. Without `logZ` the exact {@link logPartition} is used (small models only); pass an AIS
   * estimate for large models -- then the result inherits AIS's bias (optimistic: AIS's log Z is biased low) and its
   * error bar is the AIS stderr; {@link RBM.logLikelihoodBounds} gives both sides.
   */
  logLikelihood(v: tf.Tensor, logZ?: number): number {
    this.assertAlive();
    if (logZ !== undefined) assertFiniteNumber('logZ', logZ);
    return this.withData('v', v, (flat) => {
      const z = logZ ?? this.logPartition();
      const meanNegF = tf.tidy(() => tf.mean(tf.neg(this.freeEnergyUnchecked(flat))).dataSync()[0]);
      return meanNegF - z;
    });
  }

  /** Copies of the parameters as tensors: W [nVisible, nHidden], visibleBias [nVisible], hiddenBias [nHidden]. Caller owns them. */
  getWeights(): RBMWeights {
    this.assertAlive();
    return { W: this.W.clone(), visibleBias: this.a.clone(), hiddenBias: this.b.clone() };
  }

  /** Sets any of W, visibleBias, hiddenBias (tensors are copied, arrays converted); shapes and finiteness checked. */
  setWeights(w: RBMWeightsInput): void {
    this.assertAlive();
    if (w === null || typeof w !== 'object') throw new TypeError(`weights must be an object; got ${describeValue(w)}`);
    const staged: [tf.Variable, tf.Tensor][] = [];
    try {
      if (w.W !== undefined) staged.push([this.W, toTensor('W', w.W, [this.nVisible, this.nHidden])]);
      if (w.visibleBias !== undefined) staged.push([this.a, toTensor('visibleBias', w.visibleBias, [this.nVisible])]);
      if (w.hiddenBias !== undefined) staged.push([this.b, toTensor('hiddenBias', w.hiddenBias, [this.nHidden])]);
      this.setExtraWeights(w, staged);
    } catch (err) {
      for (const [, t] of staged) t.dispose();
      throw err;
    }
    for (const [v, t] of staged) {
      v.assign(t);
      t.dispose();
    }
    this.version++;
    if (w.visibleBias !== undefined) this.biasesSet = true;
  }

  /** Subclass hook for extra parameters in setWeights (validate and push onto `staged`). */
  protected setExtraWeights(_w: RBMWeightsInput, _staged: [tf.Variable, tf.Tensor][]): void {}

  /** Saves the model atomically to the directory `dir` (see lib/checkpoint). */
  async save(dir: string): Promise<void> {
    this.assertAlive();
    const tensors: Record<string, tf.Tensor> = { ...this.trainablesForSave() };
    const config: Record<string, JsonValue> = {
      dataShape: this.dataShape,
      nVisible: this.nVisible,
      nHidden: this.nHidden,
      seed: this.seed,
      ...this.extraConfig(),
    };
    if (this.baseRate) tensors.baseRate = tf.tensor1d(this.baseRate);
    try {
      await saveCheckpoint(dir, { kind: this.kind, config, tensors });
    } finally {
      tensors.baseRate?.dispose();
    }
  }

  /** Subclass hook: restores parameters beyond W, visibleBias, hiddenBias from checkpoint tensors. */
  protected restoreExtra(_tensors: Record<string, tf.Tensor>, _dir: string): void {}

  /** Parameters written by `save` (by name). */
  protected trainablesForSave(): Record<string, tf.Tensor> {
    return { W: this.W, visibleBias: this.a, hiddenBias: this.b };
  }

  /**
   * Reads a checkpoint of this kind (see {@link Model.loadCheckpointed}): `build` makes the model from the stored
   * config and its `dataShape` (`[nVisible]` in checkpoints written before models had one), then the weights, the
   * subclass's extra parameters and the AIS base rate are copied in.
   */
  protected static async loadWith<T extends RBM>(
    dir: string,
    kind: string,
    build: (config: Record<string, JsonValue>, dataShape: number[]) => T,
  ): Promise<T> {
    return Model.loadCheckpointed(
      dir,
      kind,
      (config) => {
        if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new Error(`checkpoint at ${dir} has no model config`);
        const dataShape = Array.isArray(config.dataShape) ? (config.dataShape as number[]) : [config.nVisible as number];
        return build(config, dataShape);
      },
      (model, tensors) => {
        for (const name of ['W', 'visibleBias', 'hiddenBias']) {
          if (!tensors[name]) throw new Error(`checkpoint at ${dir} lacks tensor '${name}'`);
        }
        model.setWeights(tensors as RBMWeightsInput);
        model.restoreExtra(tensors, dir);
        if (tensors.baseRate) model.baseRate = tensors.baseRate.dataSync() as Float32Array;
      },
    );
  }

  /** Every variable that defines the model: W, the visible and hidden biases (and the subclass's own). */
  protected override variables(): tf.Variable[] {
    return [this.W, this.a, this.b];
  }

  /** Frees the weights (the base frees the training state). Copes with a model whose constructor threw part-way. */
  protected override release(): void {
    for (const v of [this.W, this.a, this.b]) v?.dispose();
  }

  /** A one-line summary, e.g. `BernoulliRBM 784-500` or `BernoulliRBM 28x28x1-500` (visible shape - hidden units). */
  override describe(): string {
    return `${this.kind} ${this.dataShape.join('x')}-${this.nHidden}`;
  }

  // ---- training -----------------------------------------------------------------------------------------------

  /**
   * Trains by contrastive divergence (CD-k, `persistent: false`, default) or persistent contrastive divergence
   * (PCD-k, `persistent: true`) with plain SGD plus optional momentum and weight decay, through genlab's one
   * training loop (lib/train): seeded shuffling, progress, `onEpoch`, validation, early stopping, and an error if
   * the weights become NaN or infinite. The update itself is in contrastive-divergence.ts. `x` is `[n, nVisible]` or
   * `[n, ...dataShape]`, checked before training (finite; binary units: values in [0, 1]).
   *
   * A fit that diverges loses nothing: the weights are put back as they were after the last finite epoch (or before
   * the fit), the persistent chains and velocities are dropped (the next fit starts new ones), and the error says so.
   *
   * Resuming: a second `fit` continues where the previous one stopped. The epoch numbers go on (a second 5-epoch fit
   * reports epochs 6..10), and the persistent chains (PCD, parallel tempering), the momentum velocities and the
   * training random stream carry over, so `fit(x, { epochs: 2 })` then `fit(x, { epochs: 3 })` trains exactly as
   * `fit(x, { epochs: 5 })` with the same options (when the second call passes no new `seed`). `reset: true`
   * starts afresh: new chains and velocities, epoch counter 0; the weights are kept.
   *
   * @returns The {@link History} of this call: `epoch`, `seconds`, `reconstructionError` (mean over rows of the
   *   squared error sum_i (v_i - E[v_i | h = P(h|v)])^2, mean-field, during the updates: on the epoch's last full
   *   batch by default, over all its batches with `measureEvery: 'batch'`; see {@link RBMEpochLogs}),
   *   `valReconstructionError` with `validation`, and every metric `onEpoch` returned (NaN on epochs where it
   *   returned none).
   */
  async fit(x: tf.Tensor, opts: RBMFitOptions = {}): Promise<History> {
    assertKnownOptions(`${this.kind}.fit`, opts, this.fitOptionKeys());
    await ready();
    this.assertAlive();
    if (opts === null || typeof opts !== 'object') throw new TypeError(`options must be an object; got ${describeValue(opts)}`);
    const epochs = opts.epochs ?? 10;
    const batchSize = opts.batchSize ?? 100;
    const learningRate = opts.learningRate ?? 0.01;
    const finalLearningRate = opts.finalLearningRate ?? learningRate;
    const k = opts.k ?? 1;
    const persistent = opts.persistent ?? false;
    const chains = opts.chains ?? batchSize;
    const momentum = opts.momentum ?? 0;
    const weightDecay = opts.weightDecay ?? 0;
    const shuffle = opts.shuffle ?? true;
    const measureEvery = opts.measureEvery ?? 'epoch';
    assertPositiveInteger('epochs', epochs);
    assertPositiveInteger('batchSize', batchSize);
    assertFiniteNumber('learningRate', learningRate, { min: 0 });
    assertFiniteNumber('finalLearningRate', finalLearningRate, { min: 0 });
    assertPositiveInteger('k', k);
    if (typeof persistent !== 'boolean') throw new TypeError(`persistent must be true or false; got ${describeValue(persistent)}`);
    assertPositiveInteger('chains', chains);
    assertFiniteNumber('momentum', momentum, { min: 0, max: 1, exclusiveMax: true });
    assertFiniteNumber('weightDecay', weightDecay, { min: 0 });
    if (opts.seed !== undefined) assertFiniteNumber('seed', opts.seed);
    assertOneOf('measureEvery', measureEvery, MEASURE_EVERY);
    if (opts.onEpoch !== undefined && typeof opts.onEpoch !== 'function') {
      throw new TypeError(`onEpoch must be a function; got ${describeValue(opts.onEpoch)}`);
    }
    const { reset } = resolveLoopOptions(`${this.kind}.fit`, opts);
    const tempering = opts.parallelTempering === undefined ? null : resolveTemperingBetas(opts.parallelTempering);
    if (tempering && !persistent) throw new RangeError('parallelTempering needs persistent: true (it replaces the persistent chains)');
    const run: FitRun = { epochs, batchSize, learningRate, finalLearningRate, k, persistent, chains, momentum, weightDecay, shuffle, tempering, reset, measureEvery };
    // The data, checked and flattened to [n, nV] before anything changes (a refused fit leaves the model as it was).
    const data = this.flatData('x', x);
    let validation: FlatData | undefined;
    try {
      if (opts.validation !== undefined) validation = this.flatData('validation', opts.validation);
      return await this.fitOn(data.x, validation?.x, opts, run);
    } catch (e) {
      this.version++; // a diverged fit put weights back: the cached log Z is stale
      throw e;
    } finally {
      if (data.owned) data.x.dispose();
      if (validation?.owned) validation.x.dispose();
    }
  }

  /** {@link RBM.fit} on checked, flat data `x` [n, nV] with its options resolved in `run`. */
  private async fitOn(x: tf.Tensor2D, validation: tf.Tensor2D | undefined, opts: RBMFitOptions, run: FitRun): Promise<History> {
    const { epochs, batchSize, learningRate, finalLearningRate, k, persistent, chains, momentum, weightDecay, shuffle, tempering, reset, measureEvery } = run;
    const state = this.training;
    if (reset) state.reset();
    const rng = state.generator(opts.seed, () => this.rng.fork());

    if (opts.initVisibleBias ?? !this.biasesSet) {
      const a0 = this.visibleBiasFromData(x);
      this.a.assign(a0);
      this.version++;
      this.baseRate ??= a0.dataSync() as Float32Array;
      a0.dispose();
      this.biasesSet = true;
    }

    // Carried between fits (see TrainingState): velocities while momentum is on; PCD chains [chains, nV] or the
    // tempering replicas (one [chains, nV] per temperature), started from the independent model given by the
    // visible biases when there are none of the right shape. What this fit does not use is dropped.
    const params = this.trainables();
    let velocity = state.get<Record<string, tf.Tensor>>('velocity') as Record<string, tf.Variable> | undefined;
    if (momentum > 0 && !velocity) {
      velocity = {};
      for (const [name, p] of Object.entries(params)) velocity[name] = ownedVariable(tf.zerosLike(p));
      state.set('velocity', velocity);
    } else if (momentum === 0) {
      state.set('velocity', undefined);
      velocity = undefined;
    }
    const fits = (t: tf.Tensor2D | undefined) => t !== undefined && t.shape[0] === chains;
    if (!persistent || tempering) state.set('chain', undefined);
    else if (!fits(state.get<tf.Tensor2D>('chain'))) state.set('chain', this.independentVisible(chains, rng));
    if (!tempering) state.set('replicas', undefined);
    else {
      const held = state.get<tf.Tensor2D[]>('replicas');
      if (!held || held.length !== tempering.length || !fits(held[0])) state.set('replicas', tempering.map(() => this.independentVisible(chains, rng)));
    }

    const update = { learningRate, momentum, weightDecay, k };
    // The step size of each update: linear from learningRate to finalLearningRate over this call's updates
    // (stepIndex counts on across resumed fits: the decay starts at this call's first update).
    const updates = epochs * Math.ceil(x.shape[0] / batchSize);
    let firstStep: number | undefined;
    const rateAt = (stepIndex: number): CDUpdateOptions => {
      firstStep ??= stepIndex;
      const t = Math.min(1, (stepIndex - firstStep) / Math.max(1, updates - 1));
      return { ...update, learningRate: learningRate + (finalLearningRate - learningRate) * t };
    };
    // On the native TensorFlow backend the CD/PCD update runs as one recorded TensorFlow function per batch shape
    // (engine/tensorflow-graph.ts) with a constant step; parallel tempering's sweeps and a decaying step stay op by op.
    const decaying = finalLearningRate !== learningRate;
    const compiled = !tempering && !decaying && compilationAvailable() ? this.compiledTrainStep(params, velocity ?? {}, update, persistent) : null;
    // Each step returns the batch's mean reconstruction error [1] when the loop measures the batch (measureEvery), else null.
    const step = (v0: tf.Tensor2D, _size: number, stepIndex: number, measure: boolean): tf.Tensor | null => {
      let negative: tf.Tensor2D | undefined;
      if (tempering) {
        // k tempered sweeps of the replicas; the beta = 1 replicas are this update's negative phase.
        const old = state.get<tf.Tensor2D[]>('replicas')!;
        let vs = old;
        for (let s = 0; s < k; s++) vs = this.temperedSweep(vs, tempering, rng, (stepIndex * k + s) % 2).vs;
        state.set('replicas', vs.map((v) => tf.keep(v))); // disposes the old replicas
        negative = vs[0];
      }
      const chain = persistent && !tempering ? state.get<tf.Tensor2D>('chain')! : null;
      const r = this.trainStep(v0, chain, params, velocity ?? {}, rateAt(stepIndex), rng, measure, negative, learningRate);
      if (chain) state.set('chain', tf.keep(r.chain)); // the new persistent state; the old one is disposed
      this.version++;
      return r.meanRecon;
    };
    // The compiled step gathers its batch itself.
    const stepRows = compiled
      ? (data: tf.Tensor2D, rows: tf.Tensor1D, _size: number, _stepIndex: number, measure: boolean): tf.Tensor | null => {
          const chain = persistent ? state.get<tf.Tensor2D>('chain')! : null;
          const r = compiled.run(data, rows, chain, rng, measure);
          if (chain) state.set('chain', tf.keep(r.chain));
          this.version++;
          return r.meanRecon;
        }
      : undefined;
    return this.fitLoop(opts, {
      x,
      epochs,
      batchSize,
      shuffle,
      rng,
      title: `${this.kind} ${persistent ? 'PCD' : 'CD'}-${k}`,
      metricNames: ['reconstructionError'],
      measureEvery,
      step,
      stepRows,
      learningRate,
      validationData: validation,
      validate: (v) => ({ reconstructionError: tf.tidy(() => this.reconstructionSum(v).div(v.shape[0]).dataSync()[0]) }),
      parametersFinite: Number.isFinite(this.parameterLimit()) ? () => this.parametersSound() : undefined,
      divergenceAdvice: `Lower learningRate (got ${learningRate}) or momentum (got ${momentum}), or scale the data.`,
    }).finally(() => compiled?.dispose());
  }

  /**
   * One CD-k / PCD-k update on the batch v0 [B, nV] (call inside a tidy): {@link contrastiveDivergence} with noise
   * drawn from `rng`, its new values assigned, then the model's constraint. The negative chain starts at v0 (CD) or at
   * the persistent `chain` [C, nV] (PCD); with `negativeSample` (parallel tempering) that [C, nV] sample is the
   * negative phase and no chain is run. `opts.learningRate` is this update's step, `baseRate` the fit's
   * `learningRate` (they differ while the step decays). Returns the chain's final visible state (the new persistent
   * state) and, when `measure`, the batch's mean reconstruction error [1] with the parameters before the update
   * (else null: CD does not need it).
   */
  protected trainStep(
    v0: tf.Tensor2D,
    chain: tf.Tensor2D | null,
    params: Record<string, tf.Variable>,
    velocity: Record<string, tf.Variable>,
    opts: CDUpdateOptions,
    rng: Random,
    measure: boolean,
    negativeSample?: tf.Tensor2D,
    baseRate = opts.learningRate,
  ): { chain: tf.Tensor2D; meanRecon: tf.Tensor1D | null } {
    const noise: StepNoise = { bernoulli: (p) => bernoulli(p, rng), visible: (h) => this.sampleVisible(h, rng) };
    const decay = baseRate > 0 ? opts.learningRate / baseRate : 1;
    const rates = (name: string): number => this.learningRateOf(name, opts.learningRate, decay);
    const r = contrastiveDivergence(this.conditionals(), v0, chain, params, velocity, opts, rates, noise, negativeSample);
    const meanRecon = measure ? this.batchReconstruction(v0, r.positive) : null; // before the parameters move
    this.applyUpdate(params, velocity, r.next);
    return { chain: r.chain, meanRecon };
  }

  /** True when every parameter is at most {@link RBM.parameterLimit} in magnitude (one read), else the reason. */
  private parametersSound(): true | string {
    const largest = tf.tidy(() => tf.max(tf.stack(this.variables().map((v) => tf.max(tf.abs(v))))).dataSync()[0]);
    if (largest <= this.parameterLimit()) return true; // NaN fails this test too
    return Number.isFinite(largest)
      ? `a weight reached ${largest.toExponential(1)}, beyond ${this.parameterLimit()} where float32 steps of 1 no longer register`
      : 'the weights became NaN or infinite';
  }

  /** Assigns an update's new values (see {@link assignUpdate}) and applies the model's constraint. */
  private applyUpdate(params: Record<string, tf.Variable>, velocity: Record<string, tf.Variable>, next: Record<string, tf.Tensor>): void {
    assignUpdate(params, velocity, next);
    this.constrain();
  }

  /**
   * {@link RBM.trainStep} as one compiled function (engine/tensorflow-graph.ts): the noise of the step is drawn
   * first, in the order trainStep draws it (the hidden sample of the chain's start, then per sweep the visible
   * noise and, but for the last sweep, the next hidden sample's uniforms), so both give the same run; the
   * per-parameter learning rates come in as scalars (the Gaussian RBM's log-variance rate changes after its warm-up).
   */
  private compiledTrainStep(
    params: Record<string, tf.Variable>,
    velocity: Record<string, tf.Variable>,
    opts: CDUpdateOptions,
    persistent: boolean,
  ): {
    run(x: tf.Tensor2D, rows: tf.Tensor1D, chain: tf.Tensor2D | null, rng: Random, measure: boolean): { chain: tf.Tensor2D; meanRecon: tf.Tensor | null };
    dispose(): void;
  } {
    const names = Object.keys(params);
    let keys: string[] = []; // the update's output names, in output order (fixed when recorded)
    // Two recordings: the update alone, and the update with the batch's reconstruction error (measured batches).
    const record = (measure: boolean): CompiledFunction =>
      compileFunction((inputs) => {
        const [x, rows, ...rest] = inputs;
        const v0 = tf.gather(x, rows) as tf.Tensor2D; //                                                    [B, nV]
        const chain = persistent ? (rest.shift() as tf.Tensor2D) : null;
        const rateInputs = rest.splice(0, names.length);
        let next = 0;
        const noise: StepNoise = {
          bernoulli: (p) => bernoulliFrom(p, rest[next++] as tf.Tensor2D),
          visible: (h) => this.visibleFromNoise(h, rest[next++] as tf.Tensor2D),
        };
        const rates = (name: string): tf.Tensor => rateInputs[names.indexOf(name)];
        const r = contrastiveDivergence(this.conditionals(), v0, chain, params, velocity, opts, rates, noise);
        keys = Object.keys(r.next);
        const monitor = measure ? [this.batchReconstruction(v0, r.positive)] : []; // mean reconstruction error  [1]
        return [r.chain, ...monitor, ...keys.map((k) => r.next[k])];
      }, `${this.kind}_cd${opts.k}${measure ? '_measured' : ''}`);
    const fns = new Map<boolean, CompiledFunction>();
    return {
      run: (x, rows, chain, rng, measure) => {
        const C = chain ? chain.shape[0] : rows.shape[0];
        const hiddenNoise = () => tf.tensor2d(uniformArray(rng, C * this.nHidden), [C, this.nHidden]);
        const noise: tf.Tensor[] = [hiddenNoise()];
        for (let s = 0; s < opts.k; s++) {
          noise.push(this.visibleNoise(rng, C));
          if (s < opts.k - 1) noise.push(hiddenNoise());
        }
        const rates = names.map((name) => tf.scalar(this.learningRateOf(name, opts.learningRate, 1)));
        let fn = fns.get(measure);
        if (!fn) fns.set(measure, (fn = record(measure)));
        const [newChain, ...outputs] = fn.call([x, rows, ...(chain ? [chain] : []), ...rates, ...noise]);
        const meanRecon = measure ? outputs.shift()! : null;
        const next: Record<string, tf.Tensor> = {};
        keys.forEach((k, i) => (next[k] = outputs[i]));
        this.applyUpdate(params, velocity, next);
        return { chain: newChain as tf.Tensor2D, meanRecon };
      },
      dispose: () => fns.forEach((fn) => fn.dispose()),
    };
  }
}

/** The resolved settings of one `fit` call. */
interface FitRun extends CDUpdateOptions {
  /** Step size at the last update (linear decay from learningRate). */
  finalLearningRate: number;
  epochs: number;
  batchSize: number;
  persistent: boolean;
  chains: number;
  shuffle: boolean;
  /** Inverse temperatures of parallel tempering, or null. */
  tempering: number[] | null;
  reset: boolean;
  /** Which batches `reconstructionError` is measured on. */
  measureEvery: MeasureEvery;
}
