/**
 * Deep energy-based models (Du & Mordatch 2019; Foster, "Generative Deep Learning", ch. 7): a network assigns
 * every point x an energy E_theta(x), the model density is
 *
 *   p_theta(x) = exp(-E_theta(x)) / Z(theta),    Z(theta) = integral exp(-E_theta(x)) dx   (never computed),
 *
 * and maximum likelihood needs only samples of the model, because
 *
 *   grad_theta log p_theta(x) = -grad_theta E_theta(x) + E_{x' ~ p_theta}[grad_theta E_theta(x')]
 *
 * (positive phase on the data minus negative phase on the model's own samples; the RBM lectures' identity). So
 * training minimises the contrastive loss
 *
 *   L = mean_data E(x+) - mean_negatives E(x-) + alpha * (mean E(x+)^2 + mean E(x-)^2),
 *
 * whose theta-gradient is minus that log-likelihood gradient when the negatives x- are draws of p_theta, plus a
 * small penalty that keeps energies near 0 (it stops E drifting off to +-infinity, which the loss alone allows).
 * Negatives come from short-run Langevin dynamics on x, which needs only the score s(x) = -grad_x E(x):
 *
 *   x <- clip(x - stepSize * grad_x E(x) + noise * z),   z ~ N(0, I),  K = langevinSteps times,
 *
 * started from a replay buffer of earlier negatives (mostly) and fresh uniform noise (freshFraction of them), so
 * chains persist across updates and grow long without costing more per step (Du & Mordatch's buffer). Step and
 * noise are decoupled, as in those papers: noise^2 / (2 stepSize) is the temperature the chains sample at, below 1
 * on purpose (sharper samples).
 *
 * The replay buffer is part of the model (saved with it, sampled from with `from: 'buffer'`), so a failed `fit` puts
 * it back too: the buffer is copied after every finite epoch, and when the fit diverges (a NaN loss, weight or chain)
 * the weights and the buffer are restored as they were after the last finite epoch.
 */
import { ready, tf } from '../engine/backend';
import { Random } from '../engine/random';
import { CompiledFunction, compileFunction } from '../engine/tensorflow-graph';
import {
  assertFiniteNumber,
  assertKnownOptions,
  assertNonNegativeInteger,
  assertOneOf,
  assertPositiveInteger,
  assertPositiveNumber,
  describeValue,
  optionKeys,
} from '../core/validate';
import { FitOptions, History, OnEpoch, resolveFitOptions, resolveLoopOptions, gradientStep, fitOptionMap } from '../train/loop';
import { denseDecoder } from '../nets/factories';
import { WEIGHT_INITS, WeightInit } from '../nets/layer-init';
import { JsonValue, saveCheckpoint } from '../core/checkpoint';
import { networkTensors, networkVariables, restoreNetworks } from '../core/network-weights';
import { WeightAverage } from '../train/average';
import { FlatData, flattenData, observedRange } from '../core/data';
import { Generative, Model, SampleOptions } from '../core/model';
import { requireDataShape } from '../core/data-shape';
import { BatchTensor, DataShape } from '../core/shapes';
import { convEnergyNetwork } from './networks';
import { epochsForSteps, isSmallVector, rangeText } from '../core/defaults';

/** Options of {@link EnergyModel}. */
export interface EnergyModelOptions<S extends DataShape = DataShape> {
  /**
   * Shape of one example: `[d]` for vectors (a dense energy network) or `[height, width, channels]` for images
   * (a convolutional one). E.g. `[2]` for the 8-Gaussian ring, `[28, 28, 1]` for digits. It also types the samples:
   * `[d]` gives `tf.Tensor2D`, `[h, w, c]` gives `tf.Tensor4D` (see {@link BatchTensor}).
   */
  dataShape: S;
  /** Dense only: hidden widths. Default `[128, 128]` (the 2-128-128-1 SiLU network of the EBM literature's 2-D tests). */
  hiddenUnits?: number[];
  /**
   * Conv only: filters of the stride-2 convolutions (kernel 5 for the first, 3 after). Default `[16, 32, 64, 64]`
   * (Foster ch. 7); each halves the image (rounding up).
   */
  convFilters?: number[];
  /** Conv only: width of the dense layer before the energy. Default 64 (Foster ch. 7). */
  convDenseUnits?: number;
  /** Weight initialisation, see lib/nets. Default `'pytorch'` (the reference implementations are PyTorch). */
  init?: WeightInit;
  /**
   * Decay beta of an exponential moving average of the energy network's weights, in [0, 1); 0 = none. With beta > 0
   * `fit` starts the average at the weights it starts from and updates it after every Adam step (the GAN's and the
   * DDPM's warm-up: lib/train/average.ts); from then on `sample`, `energy` and `score` use the averaged network (the
   * model's energy, as the DDPM's `predictNoise`). Training uses the current weights: the replay buffer's chains,
   * the loss, `phaseGradients`, the logged energies and `validation`; `network` holds them. A model that `fit` has
   * not trained (new, or trained by hand through `network`) has no average yet and uses its weights as they are.
   * The average removes the random tilt Adam's last steps leave in the energy, which shifts samples of broad data
   * (bench/quality/DEFAULTS.md). Default 0.999 for small vectors (up to 16 coordinates), as the GAN's and the
   * DDPM's; 0 for wider vectors and images.
   */
  weightAverage?: number;
  /** Seed of the weights, the buffer, the Langevin noise and the shuffling. Default: random. */
  seed?: number;
}
const MODEL_KEYS = optionKeys<EnergyModelOptions>({
  dataShape: true, hiddenUnits: true, convFilters: true, convDenseUnits: true, init: true, weightAverage: true, seed: true,
});

/** Langevin settings shared by {@link EnergyModel.fit} and {@link EnergyModel.sample}. */
export interface LangevinSettings {
  /**
   * Langevin steps K per chain (non-negative integer). `fit`: default 10 for vectors (the buffer's chains persist,
   * so short runs suffice: on the ring K = 10 forms the 8 modes in fewer updates than K = 60 and at a third of the
   * cost; bench/quality/DEFAULTS.md), 60 for images (Du & Mordatch 2019; Foster ch. 7).
   * `sample`: default 200 for vectors (chains from noise need longer than training's persistent buffer chains: on
   * the ring 60 steps put 41% of samples within 0.06 of a mode, 200 steps 91%), 60 for images.
   */
  steps?: number;
  /**
   * Gradient step size in x <- x - stepSize * grad E + noise * z (> 0). Default for small vectors (up to 16
   * coordinates): taken from the data at the first fit with `noise` (temperature noise^2 / (2 stepSize) =
   * 10 (l / sigma)^2, at most 0.5; see {@link EnergyModel}): about 0.01 on the ring (the 2-D reference setting), 0.06
   * on a Gaussian of std 1. Wider vectors 0.01; images 10 (Foster ch. 7, with `gradientClip` 0.03).
   */
  stepSize?: number;
  /**
   * Standard deviation of the added noise (>= 0). Default for small vectors: taken from the data at the first fit,
   * 3 l sqrt(l / sigma), at most sigma / 4 (see {@link EnergyModel}): about 0.005 on the ring (the references'
   * value), 0.25 on a Gaussian of std 1. Wider vectors and images 0.005 (both references).
   */
  noise?: number;
  /**
   * Clip each coordinate of grad_x E to [-gradientClip, gradientClip] before the step (> 0, or `Infinity` for none).
   * Default: none for vectors, 0.03 for images (Foster ch. 7: with stepSize 10 a pixel moves at most 0.3 per step).
   */
  gradientClip?: number;
}
const LANGEVIN_KEYS = optionKeys<LangevinSettings>({ steps: true, stepSize: true, noise: true, gradientClip: true });

/**
 * The metrics of one epoch of {@link EnergyModel.fit} (means over the epoch's batches), as `onEpoch` receives them
 * and the history records them.
 */
export interface EnergyModelEpochLogs {
  /** The contrastive loss with the penalty: mean E(x+) - mean E(x-) + alpha * (mean E(x+)^2 + mean E(x-)^2). */
  loss: number;
  /** Mean energy on the data batches. */
  energyPositive: number;
  /** Mean energy on the Langevin negatives. */
  energyNegative: number;
  /** Mean distance a chain moved during its K Langevin steps. */
  langevinMove: number;
  /** Mean |grad_x E| at the negatives (last Langevin step). */
  scoreNorm: number;
  /** Mean energy over the whole replay buffer, at the end of the epoch. */
  bufferEnergy: number;
  /** With `validation`: the loss's form on the held-out data against the buffer (see {@link EnergyModelFitOptions.validation}). */
  valLoss?: number;
  /** With `validation`: mean energy on the held-out data (compare with `energyPositive`). */
  valEnergyPositive?: number;
  /** Wall time of the epoch's training. */
  seconds: number;
}

/** Options of {@link EnergyModel.fit}. */
export interface EnergyModelFitOptions extends FitOptions<EnergyModelEpochLogs> {
  /**
   * Passes over the data (positive integer). Default for vectors: enough epochs for 2500 steps (79 epochs of 8000
   * points in batches of 256, 313 of 2000), which form all 8 ring modes on every seed measured, in about 25 s on one
   * core (wasm; bench/quality/DEFAULTS.md). Images: 100.
   */
  epochs?: number;
  /** Mini-batch size; also the number of negatives per step. Default 256 (vectors), 128 (images). */
  batchSize?: number;
  /** Adam step size (> 0). Default 1e-3 (vectors), 1e-4 (images; Foster ch. 7). */
  learningRate?: number;
  /**
   * Held-out data, same layout as `x` (finite), scored after every epoch without a Langevin step: `valLoss` is the
   * training loss with the held-out data as positives and the whole replay buffer at the end of the epoch (the
   * persistent chains: the model's current samples) as negatives, mean E(held-out) - mean E(buffer) + alpha *
   * (mean E(held-out)^2 + mean E(buffer)^2), and `valEnergyPositive` is mean E(held-out). Held-out energies rising
   * above `energyPositive` (the training data's) mean the model memorises its data. `earlyStopping` then watches
   * `valLoss` by default.
   */
  validation?: tf.Tensor;
  /** Called after every epoch with that epoch's metrics; may return extra metrics to record (see {@link OnEpoch}). */
  onEpoch?: OnEpoch<EnergyModelEpochLogs>;
  /** Langevin settings of the negative phase (see {@link LangevinSettings}). */
  langevin?: LangevinSettings;
  /** Weight alpha of the energy magnitude penalty alpha * (E(x+)^2 + E(x-)^2) (>= 0). Default 0.1 (Du & Mordatch). */
  alpha?: number;
  /** Replay buffer size (positive integer). Default 10000 (Du & Mordatch; Foster ch. 7 uses 8192). */
  bufferSize?: number;
  /** Fraction of each batch of chains restarted from uniform noise rather than the buffer, in [0, 1]. Default 0.05. */
  freshFraction?: number;
}
const FIT_OPTION_KEYS = optionKeys<EnergyModelFitOptions>({ ...fitOptionMap(), langevin: true, alpha: true, bufferSize: true, freshFraction: true });

/**
 * What {@link EnergyModel.fit} returns: one array per metric of {@link EnergyModelEpochLogs} (`valLoss` and
 * `valEnergyPositive` only with `validation`), one entry per epoch, and `epoch` (numbers continuing across fits).
 */
export type EnergyModelHistory = History & { [K in keyof EnergyModelEpochLogs | 'epoch']-?: number[] };

/** Options of {@link EnergyModel.sample}. */
export interface EnergyModelSampleOptions extends SampleOptions, LangevinSettings {
  /**
   * Where chains start: `'noise'` (default; uniform over the training data's range), `'buffer'` (random replay
   * buffer entries: the persistent chains of training), or a tensor of n starting points (to continue chains).
   */
  from?: 'noise' | 'buffer' | tf.Tensor;
  /** Seed of the start and the noise (same seed, same samples). Default: drawn from the model's generator. */
  seed?: number;
}
const SAMPLE_KEYS = optionKeys<EnergyModelSampleOptions>({
  steps: true, stepSize: true, noise: true, gradientClip: true, from: true, seed: true,
});

/** Options of {@link EnergyModel.save}. */
export interface EnergyModelSaveOptions {
  /**
   * Whether the checkpoint holds the replay buffer (bufferSize x D floats: 31 MB for 10 000 digits). Default true;
   * false keeps only the network and the data range (a model that samples from noise).
   */
  buffer?: boolean;
}
const SAVE_KEYS = optionKeys<EnergyModelSaveOptions>({ buffer: true });

/** Options of {@link EnergyModel.phaseGradients}. */
export interface PhaseGradientOptions {
  /** Weights of the negatives `[m]` (summing to 1). Default uniform, 1/m. */
  weights?: tf.Tensor1D;
  /** Penalty weight alpha (>= 0). Default 0. */
  alpha?: number;
}
const PHASE_KEYS = optionKeys<PhaseGradientOptions>({ weights: true, alpha: true });

/** Defaults with their reasons, per kind of data. */
const DEFAULTS = {
  hiddenUnits: [128, 128] /* the EBM literature's 2-D network */,
  convFilters: [16, 32, 64, 64] /* Foster ch. 7 */,
  convDenseUnits: 64 /* Foster ch. 7 */,
  init: 'pytorch' /* the reference implementations are PyTorch */,
  steps: 2500 /* vectors: the ring's 8 modes form after 1100-1600 steps (bench/quality/DEFAULTS.md); in epochs from n */,
  epochs: 100 /* images */,
  alpha: 0.1 /* Du & Mordatch 2019 */,
  bufferSize: 10000 /* Du & Mordatch 2019 */,
  freshFraction: 0.05 /* Du & Mordatch 2019: 95% of chains persist */,
  adamEpsilon: 1e-8 /* PyTorch's Adam default */,
  weightAverage: 0.999 /* small vectors: as the GAN's and the DDPM's (bench/quality/DEFAULTS.md) */,
  // vectors: the EBM literature's 2-D settings, with K = 10 Langevin steps per update (bench/quality/DEFAULTS.md)
  dense: { batchSize: 256, learningRate: 1e-3, steps: 10, sampleSteps: 200, stepSize: 0.01, noise: 0.005, gradientClip: Infinity },
  // images: Foster ch. 7
  conv: { batchSize: 128, learningRate: 1e-4, steps: 60, sampleSteps: 60, stepSize: 10, noise: 0.005, gradientClip: 0.03 },
} as const;

/** How often a long `sample` lets the event loop run (notebook displays, timers), in milliseconds. */
const YIELD_EVERY_MS = 200;

/** What a checkpoint stores besides the weights. */
interface EnergyModelConfig {
  dataShape: number[];
  architecture: 'dense' | 'conv';
  hiddenUnits: number[];
  convFilters: number[];
  convDenseUnits: number;
  init: WeightInit;
  seed: number;
  /** Range of the training data, [lo, hi]: the box of fresh noise and of the sample clip. null before fit. */
  range: [number, number] | null;
  /**
   * Default Langevin step and noise taken from the data at the first fit (small vectors; {@link langevinFromData}),
   * or null: the fixed defaults (images, wide vectors, before fit, and checkpoints written before this field).
   */
  langevin?: { stepSize: number; noise: number } | null;
  /** Decay of the weights' moving average, 0 = none (`weightAverage`). Absent in checkpoints written before it: 0. */
  weightAverage?: number;
}

/** Resolved Langevin settings. */
interface Langevin {
  steps: number;
  stepSize: number;
  noise: number;
  gradientClip: number;
}

/** Mean and mean square of energies. */
interface EnergyMoments {
  mean: number;
  meanSquare: number;
}

/**
 * A deep energy-based model p(x) ∝ exp(-E_theta(x)) trained by maximum likelihood with short-run Langevin
 * negatives from a replay buffer. `new EnergyModel({ dataShape: [2], seed: 1 })` for points in the plane (samples
 * `tf.Tensor2D`), `new EnergyModel({ dataShape: [28, 28, 1] })` for digits (samples `tf.Tensor4D`). For vectors the
 * defaults alone train the ring to all 8 modes (2500 steps, about 25 s on one core; see each option for its default
 * and reason). For small vectors the first fit takes the Langevin noise and step from two widths of the data, its
 * std sigma and its local width l (the median distance from a point to its nearest 2%): the noise 3 l sqrt(l / sigma)
 * (at most sigma / 4) resolves sharp modes (0.005 on the ring) yet crosses broad data in tens of steps (0.25 on
 * `correlatedGaussian`), and the temperature 10 (l / sigma)^2 (at most 0.5) keeps the energy's range over the data
 * near 1. They are saved with the model (`describe()` shows them); checkpoints from before keep the fixed 0.01 / 0.005.
 * Small vectors also sample from a moving average of the energy's weights (`weightAverage` 0.999), which takes
 * out the tilt Adam's last steps leave in the energy.
 *
 * A genlab {@link Model}: registered with an enclosing `scope()`, `dispose()` frees the network, its average, the
 * optimiser state, the compiled Langevin steps and the buffer; a second `fit` continues the first (epochs, Adam
 * moments, buffer, average), `fit(x, { reset: true })` starts afresh (new optimiser and a fresh-noise buffer; the
 * weights and their average are kept).
 */
export class EnergyModel<S extends DataShape = DataShape> extends Model implements Generative<S> {
  readonly kind = 'EnergyModel';
  /** The energy network x -> E(x), `[n, ...dataShape]` -> `[n, 1]`, with the current (training) weights, not their average (`weightAverage`). */
  readonly network: tf.LayersModel;
  /** Shape of one example. */
  readonly dataShape: number[];
  /** Flattened width D of an example. */
  readonly inputDim: number;
  /** `'dense'` (vector data) or `'conv'` (images), chosen by `dataShape`. */
  readonly architecture: 'dense' | 'conv';
  private readonly config: EnergyModelConfig;
  /** The model's own generator: weights, and each `sample` without a seed (a fork); training forks its own. */
  private readonly rng: Random;
  /** Replay buffer `[size * D]` on the host (gathered and written back per batch), or null before fit. */
  private buffer: Float32Array | null = null;
  /** Compiled Langevin steps by setting (see {@link EnergyModel.langevinStep}); freed with the model. */
  private readonly langevinSteps = new Map<string, CompiledFunction>();
  /** The moving average of the network's weights (`weightAverage`; lib/train/average.ts), made by the first fit, or null. */
  private average: WeightAverage | null = null;

  constructor(opts: EnergyModelOptions<S>) {
    super();
    if (opts === null || typeof opts !== 'object') throw new TypeError(`opts must be an object; got ${describeValue(opts)}`);
    assertKnownOptions('EnergyModel', opts, MODEL_KEYS);
    const shape = requireDataShape(opts.dataShape, [1, 3]); // [D] or [h, w, c] (lib/core/data-shape.ts)
    const architecture = shape.length === 1 ? 'dense' : 'conv';
    const hiddenUnits = opts.hiddenUnits ?? [...DEFAULTS.hiddenUnits];
    const convFilters = opts.convFilters ?? [...DEFAULTS.convFilters];
    const convDenseUnits = opts.convDenseUnits ?? DEFAULTS.convDenseUnits;
    const init = opts.init ?? DEFAULTS.init;
    assertOneOf('init', init, WEIGHT_INITS);
    const weightAverage = opts.weightAverage ?? (isSmallVector(shape) ? DEFAULTS.weightAverage : 0);
    assertFiniteNumber('weightAverage', weightAverage, { min: 0, max: 1, exclusiveMax: true });
    if (opts.seed !== undefined) assertFiniteNumber('seed', opts.seed);
    const rng = new Random(opts.seed);
    const netSeed = rng.seedInt();
    this.network =
      architecture === 'dense'
        ? // E: R^d -> R, the dense stack of lib/nets with one linear output unit.
          denseDecoder({ latentDim: shape[0], hiddenUnits, outputDim: 1, activation: 'swish', seed: netSeed, init })
        : convEnergyNetwork({ inputShape: shape as [number, number, number], filters: convFilters, denseUnits: convDenseUnits, seed: netSeed, init });
    this.dataShape = shape.slice();
    this.inputDim = shape.reduce((a, b) => a * b, 1);
    this.architecture = architecture;
    this.rng = rng;
    this.config = { dataShape: shape.slice(), architecture, hiddenUnits, convFilters, convDenseUnits, init, seed: rng.seed, range: null, langevin: null, weightAverage };
  }

  /** The energy network's weights and biases and (after the first fit, with `weightAverage`) their average: what a diverged fit puts back. */
  protected variables(): tf.Variable[] {
    const own = networkVariables(this.network);
    return this.average ? [...own, ...this.average.variables] : own;
  }

  /** Runs `f` with the averaged weights in the network when the model keeps an average (see `weightAverage`). */
  private averaged<T>(f: () => T): T {
    return this.average ? this.average.use(f) : f();
  }

  // ------------------------------------------------------------------------------------------------------
  // Energy and score

  /**
   * E_theta(x) of each example: `[n, D]` or `[n, ...dataShape]` -> `[n]`; with the averaged weights once `fit` keeps
   * an average (`weightAverage`; the energy `sample` draws from).
   */
  energy(x: tf.Tensor): tf.Tensor1D {
    this.assertAlive();
    return this.averaged(() => tf.tidy(() => this.energyT(this.flat('x', x))));
  }

  /**
   * The score s(x) = grad_x log p(x) = -grad_x E(x), same shape as `x` (`[n, D]` or `[n, ...dataShape]`). Z does not
   * depend on x, so it drops out. With the averaged weights once `fit` keeps an average (as {@link energy}).
   */
  score<T extends tf.Tensor>(x: T): T {
    this.assertAlive();
    return this.averaged(() => tf.tidy(() => this.energyGrad(this.flat('x', x)).neg().reshape(x.shape)) as T);
  }

  // ------------------------------------------------------------------------------------------------------
  // Training

  /**
   * Maximum-likelihood training with Langevin negatives from a replay buffer (see the module comment). One step
   * per batch of `batchSize` data: draw `batchSize` chains (a `freshFraction` of them restarted from noise), run K
   * Langevin steps, write them back to the buffer, and take an Adam step on the contrastive loss. The first fit
   * sets the data range (the box of fresh noise and of the chains). A fit that diverges leaves the weights and the
   * buffer as after its last finite epoch and says so.
   * @param x Training data `[n, D]` or `[n, ...dataShape]`, finite.
   * @returns Per-epoch metrics (see {@link EnergyModelHistory}).
   */
  async fit(x: tf.Tensor, opts: EnergyModelFitOptions = {}): Promise<EnergyModelHistory> {
    this.assertAlive();
    assertKnownOptions('EnergyModel.fit', opts, FIT_OPTION_KEYS);
    await ready();
    const { reset } = resolveLoopOptions('EnergyModel.fit', opts);
    const kind = DEFAULTS[this.architecture];
    const batchSize = opts.batchSize ?? kind.batchSize;
    assertPositiveInteger('batchSize', batchSize);
    this.resolveLangevin('EnergyModel.fit langevin', opts.langevin ?? {}); // checked before any work
    const alpha = opts.alpha ?? DEFAULTS.alpha;
    assertFiniteNumber('alpha', alpha, { min: 0 });
    const bufferSize = opts.bufferSize ?? DEFAULTS.bufferSize;
    assertPositiveInteger('bufferSize', bufferSize);
    const fresh = opts.freshFraction ?? DEFAULTS.freshFraction;
    assertFiniteNumber('freshFraction', fresh, { min: 0, max: 1 });
    const data = flattenData('x', x, this.dataShape, { finite: true });
    let held: FlatData | null = null;
    try {
      const { epochs, learningRate } = resolveFitOptions(opts, {
        // vectors: a budget of steps, so that 2000 and 8000 points both converge
        epochs: this.architecture === 'dense' ? epochsForSteps(DEFAULTS.steps, data.x.shape[0], batchSize) : DEFAULTS.epochs,
        batchSize,
        learningRate: kind.learningRate,
      });
      if (opts.validation !== undefined) held = flattenData('validation', opts.validation, this.dataShape, { finite: true });
      if (reset) {
        this.training.reset();
        this.buffer = null; // fresh chains
      }
      if (!this.config.range) {
        this.config.range = observedRange(data.x); // the box of fresh noise and of the chains
        // small vectors: the Langevin step and noise from the data's widths (langevinFromData)
        if (isSmallVector(this.dataShape)) this.config.langevin = langevinFromData(data.x);
      }
      const lg = this.resolveLangevin('EnergyModel.fit langevin', opts.langevin ?? {});
      const rng = this.training.generator(opts.seed, () => this.rng.fork());
      const D = this.inputDim;
      if (!this.buffer || this.buffer.length !== bufferSize * D) this.buffer = this.uniform(bufferSize * D, rng);
      const buffer = this.buffer;
      const lastFinite = buffer.slice(); // the buffer as after the last finite epoch (before this fit, at first)
      const vars = networkVariables(this.network); // what Adam updates
      const decay = this.config.weightAverage ?? 0;
      if (decay > 0 && !this.average) this.average = new WeightAverage(this.network, decay); // starts at these weights
      const optimizer = this.training.adam(learningRate, DEFAULTS.adamEpsilon);
      let bufferMoments: EnergyMoments = { mean: NaN, meanSquare: NaN };
      try {
        return (await this.fitLoop(opts, {
          x: data.x,
          epochs,
          batchSize,
          rng,
          metricNames: ['loss', 'energyPositive', 'energyNegative', 'langevinMove', 'scoreNorm'],
          learningRate,
          step: (xb, size) => {
            // 1. Chains: buffer entries, a fresh-noise share restarted.                                [b, D]
            const idx = Array.from({ length: size }, () => rng.int(bufferSize));
            const start = new Float32Array(size * D);
            idx.forEach((j, i) => {
              if (rng.next() < fresh) start.set(this.uniform(D, rng), i * D);
              else start.set(buffer.subarray(j * D, (j + 1) * D), i * D);
            });
            // 2. K Langevin steps give the negatives, written back to the buffer.
            const x0 = tf.tensor2d(start, [size, D]);
            const { x: neg, scoreNorm } = this.runLangevin(x0, lg, rng);
            const negData = neg.dataSync();
            idx.forEach((j, i) => buffer.set(negData.subarray(i * D, (i + 1) * D), j * D));
            const move = tf.tidy(() => neg.sub(x0).square().sum(1).sqrt().mean());
            x0.dispose();
            // 3. An Adam step on the contrastive loss (positive phase on xb, negative phase on the chains).
            const metrics = gradientStep(optimizer, vars, () => {
              const { loss, ePos, eNeg } = this.contrastiveLoss(xb, neg, alpha);
              return [loss, tf.stack([loss, ePos, eNeg])];
            });
            this.average?.update();
            const out = tf.concat([metrics, move.reshape([1]), tf.scalar(scoreNorm).reshape([1])]);
            tf.dispose([neg, move, metrics]);
            return out;
          },
          // NaN chains with finite weights (an overflowing step) count as a divergence too.
          parametersFinite: () => allFinite(buffer) || 'the chains of the replay buffer became NaN or infinite',
          endEpoch: () => {
            lastFinite.set(buffer); // called after the loop found the epoch finite
            bufferMoments = this.energyMoments(buffer.length / D, (s, m) => tf.tensor2d(buffer.subarray(s * D, (s + m) * D), [m, D]));
            return { bufferEnergy: bufferMoments.mean };
          },
          validationData: held?.x,
          validate: (xv) => {
            // The loss's form with held-out positives and the buffer as negatives (see the `validation` option).
            const e = this.energyMoments(xv.shape[0], (s, m) => xv.slice([s, 0], [m, D]));
            const loss = e.mean - bufferMoments.mean + alpha * (e.meanSquare + bufferMoments.meanSquare);
            return { loss, energyPositive: e.mean };
          },
        })) as EnergyModelHistory;
      } catch (e) {
        buffer.set(lastFinite); // the loop put the weights back; the chains go back with them
        throw e;
      }
    } finally {
      if (data.owned) data.x.dispose();
      if (held?.owned) held.x.dispose();
    }
  }

  /**
   * The contrastive loss on positives `pos` `[b, D]` and negatives `neg` `[m, D]` (see the module comment), with
   * optional weights on the negatives (default uniform 1/m): its theta-gradient with alpha = 0 is
   * E_neg[grad E] - E_data[grad E], minus the log-likelihood gradient when the negatives follow p_theta.
   */
  private contrastiveLoss(pos: tf.Tensor2D, neg: tf.Tensor2D, alpha: number, weights?: tf.Tensor1D): { loss: tf.Scalar; ePos: tf.Scalar; eNeg: tf.Scalar } {
    const e = this.energyT(tf.concat([pos, neg]) as tf.Tensor2D, true); //                        [b + m]
    const [ep, en] = tf.split(e, [pos.shape[0], neg.shape[0]]);
    const ePos = ep.mean() as tf.Scalar;
    const eNeg = (weights ? en.mul(weights).sum() : en.mean()) as tf.Scalar;
    const penalty = ep.square().mean().add(weights ? en.square().mul(weights).sum() : en.square().mean());
    const loss = ePos.sub(eNeg).add(penalty.mul(alpha)) as tf.Scalar;
    return { loss, ePos, eNeg };
  }

  /**
   * The gradient of the training loss with respect to each weight of the network (`network.trainableWeights`
   * order), on positives `pos` and (weighted) negatives `neg`: positive phase minus negative phase,
   * E_data[grad E] - sum_i w_i grad E(neg_i), plus alpha's penalty. With exact model weights w_i = p_theta(x_i) over
   * an enumerable set and alpha = 0 it is minus the exact log-likelihood gradient (test/ebm.test.ts checks this).
   * @param pos Positives `[b, D]` or `[b, ...dataShape]`.
   * @param neg Negatives `[m, D]` or `[m, ...dataShape]`.
   * @returns One gradient per weight tensor (the caller disposes them).
   */
  phaseGradients(pos: tf.Tensor, neg: tf.Tensor, opts: PhaseGradientOptions = {}): tf.Tensor[] {
    this.assertAlive();
    assertKnownOptions('EnergyModel.phaseGradients', opts, PHASE_KEYS);
    const alpha = opts.alpha ?? 0;
    assertFiniteNumber('alpha', alpha, { min: 0 });
    const vars = networkVariables(this.network); // the current weights (training's gradient), not the average
    return tf.tidy(() => {
      const p = this.flat('pos', pos);
      const n = this.flat('neg', neg);
      if (opts.weights && (opts.weights.rank !== 1 || opts.weights.shape[0] !== n.shape[0])) {
        throw new RangeError(`weights must be a Tensor1D of shape [${n.shape[0]}]; got ${describeValue(opts.weights)}`);
      }
      const { grads } = tf.variableGrads(() => this.contrastiveLoss(p, n, alpha, opts.weights).loss, vars);
      return vars.map((v) => grads[v.name]);
    });
  }

  // ------------------------------------------------------------------------------------------------------
  // Sampling

  /**
   * n samples by Langevin dynamics on the learned energy, `[n, ...dataShape]` (`tf.Tensor2D` `[n, d]` for vectors,
   * `tf.Tensor4D` for images). Starts from uniform noise over the training data's range (default), from the replay
   * buffer, or from given points; long runs let the notebook breathe between steps. Same seed, same samples.
   * With the averaged weights once `fit` keeps an average (`weightAverage`).
   */
  async sample(n: number, opts: EnergyModelSampleOptions = {}): Promise<BatchTensor<S>> {
    this.assertAlive();
    assertKnownOptions('EnergyModel.sample', opts, SAMPLE_KEYS);
    await ready();
    assertPositiveInteger('n', n);
    const { from = 'noise', seed, ...rest } = opts;
    const lg = this.resolveLangevin('EnergyModel.sample', { steps: DEFAULTS[this.architecture].sampleSteps, ...rest });
    if (seed !== undefined) assertFiniteNumber('seed', seed);
    const rng = seed === undefined ? this.rng.fork() : new Random(seed);
    const D = this.inputDim;
    let x: tf.Tensor2D;
    if (from instanceof tf.Tensor) {
      const f = flattenData('from', from, this.dataShape, { finite: true });
      if (f.x.shape[0] !== n) {
        if (f.owned) f.x.dispose();
        throw new RangeError(`from must hold n = ${n} starting points; got shape [${from.shape.join(', ')}]`);
      }
      x = f.owned ? f.x : f.x.clone();
    } else {
      assertOneOf('from', from, ['noise', 'buffer'] as const);
      const start = new Float32Array(n * D);
      if (from === 'buffer') {
        if (!this.buffer) throw new Error("sample from 'buffer' needs a replay buffer: call fit first (or load a checkpoint saved with its buffer)");
        const size = this.buffer.length / D;
        for (let i = 0; i < n; i++) {
          const j = rng.int(size);
          start.set(this.buffer.subarray(j * D, (j + 1) * D), i * D);
        }
      } else {
        start.set(this.uniform(n * D, rng));
      }
      x = tf.tensor2d(start, [n, D]);
    }
    const chains = async (): Promise<void> => {
      let lastYield = Date.now();
      for (let k = 0; k < lg.steps; k++) {
        if (Date.now() - lastYield > YIELD_EVERY_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastYield = Date.now();
          this.assertAlive(); // disposed while sampling
        }
        const { next } = this.langevinMove(x, lg, rng, false);
        x.dispose();
        x = next;
      }
    };
    try {
      await (this.average ? this.average.useAsync(chains) : chains());
      return tf.tidy(() => x.reshape([n, ...this.dataShape])) as BatchTensor<S>;
    } finally {
      x.dispose();
    }
  }

  /**
   * One Langevin step `[x, z] -> [x']` (and `|grad E(x)|` averaged over the chains when `withNorm`), compiled once
   * per setting (engine/tensorflow-graph.ts: on the native backend one TensorFlow op per step instead of ~40;
   * elsewhere it runs as written). The noise z comes in as an input, drawn by the model's own generator:
   *   x' = clip(x - stepSize * clip(grad_x E(x), +-gradientClip) + noise * z, lo, hi).
   */
  private langevinStep(lg: Langevin, lo: number, hi: number, withNorm: boolean): CompiledFunction {
    const key = JSON.stringify([lg.stepSize, lg.noise, lg.gradientClip, lo, hi, withNorm]);
    let step = this.langevinSteps.get(key);
    if (!step) {
      step = compileFunction(([x, z]) => {
        let g = this.energyGrad(x as tf.Tensor2D); //                                                   [n, D]
        const norm = withNorm ? [g.square().sum(1).sqrt().mean()] : [];
        if (lg.gradientClip !== Infinity) g = g.clipByValue(-lg.gradientClip, lg.gradientClip) as tf.Tensor2D;
        return [x.sub(g.mul(lg.stepSize)).add(z.mul(lg.noise)).clipByValue(lo, hi), ...norm];
      }, 'langevin');
      this.langevinSteps.set(key, step);
    }
    return step;
  }

  /**
   * One Langevin step of every chain `x` `[n, D]` (not consumed), its noise drawn from `rng`; with `withNorm` also the
   * mean |grad E| at `x` (a scalar the caller disposes).
   */
  private langevinMove(x: tf.Tensor2D, lg: Langevin, rng: Random, withNorm: boolean): { next: tf.Tensor2D; norm: tf.Scalar | null } {
    const [lo, hi] = this.config.range ?? [-1, 1];
    const [n, D] = x.shape;
    const z = tf.tensor2d(rng.normalArray(n * D), [n, D]);
    const step = this.langevinStep(lg, lo, hi, withNorm);
    const [next, norm] = tf.tidy(() => step.call([x, z]));
    z.dispose();
    return { next: next as tf.Tensor2D, norm: (norm as tf.Scalar | undefined) ?? null };
  }

  /** Langevin chains from `x0` `[n, D]` (not consumed) for training; returns the end points and the mean |grad E| at the last step. */
  private runLangevin(x0: tf.Tensor2D, lg: Langevin, rng: Random): { x: tf.Tensor2D; scoreNorm: number } {
    let x = x0.clone();
    let scoreNorm = 0;
    for (let k = 0; k < lg.steps; k++) {
      const { next, norm } = this.langevinMove(x, lg, rng, k === lg.steps - 1);
      x.dispose();
      x = next;
      if (norm) {
        scoreNorm = norm.dataSync()[0];
        norm.dispose();
      }
    }
    return { x, scoreNorm };
  }

  // ------------------------------------------------------------------------------------------------------
  // Save and load

  /**
   * Saves the network (with its average, once fit keeps one), the data range and (unless `buffer: false`) the replay buffer to `dir` atomically
   * (lib/core/checkpoint.ts). A model loaded without its buffer samples from noise (the default `from`); sampling
   * `from: 'buffer'` or a further `fit` then starts from fresh noise chains.
   */
  async save(dir: string, opts: EnergyModelSaveOptions = {}): Promise<void> {
    this.assertAlive();
    assertKnownOptions('EnergyModel.save', opts, SAVE_KEYS);
    const keepBuffer = opts.buffer ?? true;
    if (typeof keepBuffer !== 'boolean') throw new TypeError(`buffer must be a boolean; got ${describeValue(keepBuffer)}`);
    const tensors: Record<string, tf.Tensor> = networkTensors(this.networks());
    const buffer = this.buffer && keepBuffer ? tf.tensor2d(this.buffer, [this.buffer.length / this.inputDim, this.inputDim]) : null;
    if (buffer) tensors.buffer = buffer;
    try {
      await saveCheckpoint(dir, { kind: 'EnergyModel', config: { ...(this.config as unknown as { [key: string]: JsonValue }) }, tensors });
    } finally {
      buffer?.dispose();
    }
  }

  /** Loads a model written by {@link EnergyModel.save}; refuses missing, corrupted or mismatched checkpoints. */
  static async load(dir: string): Promise<EnergyModel> {
    return Model.loadCheckpointed(
      dir,
      'EnergyModel',
      (config) => {
        const c = config as unknown as EnergyModelConfig;
        const model = new EnergyModel({
          dataShape: c.dataShape, hiddenUnits: c.hiddenUnits, convFilters: c.convFilters, convDenseUnits: c.convDenseUnits, init: c.init,
          weightAverage: c.weightAverage ?? 0, seed: c.seed, // absent before the average: none
        });
        model.config.range = c.range;
        model.config.langevin = c.langevin ?? null; // absent before data-dependent settings: the fixed ones
        return model;
      },
      (model, tensors) => {
        const { buffer, ...weights } = tensors;
        // the average, when the saved model had one (a model saved before its first fit has none yet)
        const decay = model.config.weightAverage ?? 0;
        if (decay > 0 && 'networkAverage/0' in weights) model.average = new WeightAverage(model.network, decay);
        restoreNetworks(dir, weights, model.networks());
        if (buffer) {
          if (buffer.rank !== 2 || buffer.shape[1] !== model.inputDim) {
            throw new Error(`checkpoint at ${dir}: the buffer has shape [${buffer.shape.join(', ')}]; expected [n, ${model.inputDim}]`);
          }
          model.buffer = buffer.dataSync().slice() as Float32Array;
        }
      },
    );
  }

  /** What a checkpoint holds besides the buffer: the network and (once fit keeps one) its average with the step count. */
  private networks(): Record<string, { getWeights(): tf.Tensor[]; setWeights(w: tf.Tensor[]): void }> {
    return { network: this.network, ...this.average?.weightSets('networkAverage') };
  }

  /** Frees the network, its average, the compiled Langevin steps and the buffer (the base frees the training state). */
  protected release(): void {
    for (const step of this.langevinSteps?.values() ?? []) step.dispose();
    this.langevinSteps?.clear();
    this.network?.dispose();
    this.average?.dispose();
    this.buffer = null;
  }

  /**
   * A short description, e.g. `dense 2-128-128-1, average 0.999` (with `weightAverage`) or `conv 28x28x1 filters
   * 16-32-64-64 dense 64`, and after the first fit the data range it took (the box of fresh noise and of the chains), e.g. `, data in [-2.07, 2.07]`, and for
   * small vectors the default Langevin settings it took from the data, e.g. `, Langevin step 0.0102 noise 0.00510`.
   */
  describe(): string {
    const c = this.config;
    const range = rangeText(c.range);
    const lg = c.langevin ? `, Langevin step ${c.langevin.stepSize.toPrecision(3)} noise ${c.langevin.noise.toPrecision(3)}` : '';
    const average = c.weightAverage ? `, average ${c.weightAverage}` : '';
    return (c.architecture === 'dense'
      ? `dense ${[c.dataShape[0], ...c.hiddenUnits, 1].join('-')}`
      : `conv ${c.dataShape.join('x')} filters ${c.convFilters.join('-')} dense ${c.convDenseUnits}`) + average + range + lg;
  }

  // ------------------------------------------------------------------------------------------------------
  // Internals

  /** E(x) `[n]` for flat x `[n, D]`. */
  private energyT(x: tf.Tensor2D, training = false): tf.Tensor1D {
    const input = this.architecture === 'dense' ? x : x.reshape([x.shape[0], ...this.dataShape]);
    return (this.network.apply(input, { training }) as tf.Tensor).reshape([-1]) as tf.Tensor1D;
  }

  /**
   * grad_x E(x) `[n, D]`. Dense networks: backpropagation written out (below), several times faster on small
   * batches than tf.grad through the layers; conv networks: tf.grad of sum E (the examples are independent).
   */
  private energyGrad(x: tf.Tensor2D): tf.Tensor2D {
    if (this.architecture === 'dense') return this.denseEnergyGrad(x);
    return tf.grad((v: tf.Tensor) => this.energyT(v as tf.Tensor2D).sum())(x) as tf.Tensor2D;
  }

  /**
   * The dense network's input gradient by hand. Layers a_l = h_{l-1} W_l + b_l, h_l = swish(a_l) = a_l sigmoid(a_l),
   * E = h_{L-1} w_L + b_L. Backwards: delta_{L-1} = w_L^T * swish'(a_{L-1}), delta_l = (delta_{l+1} W_{l+1}^T) *
   * swish'(a_l), grad_x E = delta_1 W_1^T, with swish'(a) = s + a s (1 - s), s = sigmoid(a).
   */
  private denseEnergyGrad(x: tf.Tensor2D): tf.Tensor2D {
    const layers = this.denseWeights();
    const slopes: tf.Tensor2D[] = []; // swish'(a_l), [n, units_l]
    let h: tf.Tensor2D = x;
    for (let l = 0; l < layers.length - 1; l++) {
      const a = h.matMul(layers[l].kernel).add(layers[l].bias) as tf.Tensor2D; //                  [n, units]
      const s = tf.sigmoid(a);
      slopes.push(s.add(a.mul(s).mul(tf.scalar(1).sub(s))) as tf.Tensor2D);
      h = a.mul(s) as tf.Tensor2D;
    }
    const last = layers[layers.length - 1].kernel; //                                                [units, 1]
    let delta = slopes[slopes.length - 1].mul(last.reshape([1, -1])) as tf.Tensor2D; //            [n, units]
    for (let l = layers.length - 2; l >= 1; l--) {
      delta = delta.matMul(layers[l].kernel, false, true).mul(slopes[l - 1]) as tf.Tensor2D;
    }
    return delta.matMul(layers[0].kernel, false, true) as tf.Tensor2D; //                          [n, D]
  }

  /** Kernels `[in, out]` and biases `[out]` of the dense network's layers, first to last. */
  private denseWeights(): Array<{ kernel: tf.Tensor2D; bias: tf.Tensor1D }> {
    return this.network.layers
      .filter((layer) => layer.getClassName() === 'Dense')
      .map((layer) => {
        const [kernel, bias] = layer.getWeights();
        return { kernel: kernel as tf.Tensor2D, bias: bias as tf.Tensor1D };
      });
  }

  /** Mean and mean square of E over `n` examples, in blocks: `rows(start, size)` makes the flat rows `[size, D]`. */
  private energyMoments(n: number, rows: (start: number, size: number) => tf.Tensor2D): EnergyMoments {
    const block = this.architecture === 'dense' ? 4096 : 256;
    let sum = 0;
    let sumSquare = 0;
    for (let s = 0; s < n; s += block) {
      const [a, b] = tf.tidy(() => {
        const e = this.energyT(rows(s, Math.min(block, n - s)));
        return Array.from(tf.stack([e.sum(), e.square().sum()]).dataSync());
      });
      sum += a;
      sumSquare += b;
    }
    return { mean: sum / n, meanSquare: sumSquare / n };
  }

  /** `count` uniform values over the data range. */
  private uniform(count: number, rng: Random): Float32Array {
    const [lo, hi] = this.config.range ?? [-1, 1];
    const u = rng.uniformArray(count);
    for (let i = 0; i < count; i++) u[i] = lo + (hi - lo) * u[i];
    return u;
  }

  private resolveLangevin(caller: string, s: LangevinSettings): Langevin {
    if (s === null || typeof s !== 'object') throw new TypeError(`${caller} settings must be an object; got ${describeValue(s)}`);
    assertKnownOptions(caller, s, LANGEVIN_KEYS);
    const d = DEFAULTS[this.architecture];
    const fromData = this.config.langevin ?? d;
    const out: Langevin = {
      steps: s.steps ?? d.steps,
      stepSize: s.stepSize ?? fromData.stepSize,
      noise: s.noise ?? fromData.noise,
      gradientClip: s.gradientClip ?? d.gradientClip,
    };
    assertNonNegativeInteger('steps', out.steps);
    assertPositiveNumber('stepSize', out.stepSize);
    assertFiniteNumber('noise', out.noise, { min: 0 });
    if (out.gradientClip !== Infinity) assertPositiveNumber('gradientClip', out.gradientClip);
    return out;
  }

  /** `x` checked against the example shape and flat, `[n, D]` (call inside a tidy: a reshape is a new tensor). */
  private flat(name: string, x: unknown): tf.Tensor2D {
    return flattenData(name, x, this.dataShape, { finite: false }).x;
  }
}

/**
 * Default Langevin step and noise for small vectors, from two widths of the data `[n, D]`: sigma, the root mean
 * square of the coordinates' standard deviations, and the local width l, the median distance from a point to its
 * nearest 2% (of at most 1000 evenly spaced rows). The noise per step is 3 l sqrt(l / sigma), at most sigma / 4:
 * about l / 3 on clustered data (l << sigma: the ring's 0.005 for modes 0.02 wide) so that chains resolve the modes,
 * sigma / 4 on broad data (l ~ sigma / 5: a Gaussian) so that they cross it in tens of steps. The temperature
 * noise^2 / (2 stepSize) is 10 (l / sigma)^2, at most 0.5: the ring's 0.00125 (sharp samples), about 0.5 on a
 * Gaussian (the energy then spans about 1 over the data, where the network is precise). Null when a width is 0.
 */
function langevinFromData(x: tf.Tensor2D): { stepSize: number; noise: number } | null {
  const [n, D] = x.shape;
  const values = x.dataSync();
  let variance = 0;
  for (let j = 0; j < D; j++) {
    let sum = 0;
    let sumSquare = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i * D + j];
      sum += v;
      sumSquare += v * v;
    }
    variance += Math.max(0, sumSquare / n - (sum / n) ** 2) / D;
  }
  const sigma = Math.sqrt(variance);
  const m = Math.min(n, LOCAL_WIDTH.rows);
  const k = Math.max(1, Math.round(LOCAL_WIDTH.fraction * (m - 1)));
  const rows = Array.from({ length: m }, (_, i) => Math.floor((i * n) / m));
  const radii = rows.map((a) => {
    const d = rows.filter((b) => b !== a).map((b) => {
      let s = 0;
      for (let j = 0; j < D; j++) s += (values[a * D + j] - values[b * D + j]) ** 2;
      return s;
    });
    return Math.sqrt(d.sort((p, q) => p - q)[k - 1] ?? 0);
  });
  const local = radii.sort((p, q) => p - q)[m >> 1] ?? 0;
  if (!(sigma > 0 && local > 0)) return null;
  const ratio = Math.min(1, local / sigma);
  const noise = Math.min(sigma / 4, 3 * local * Math.sqrt(ratio));
  const temperature = Math.min(0.5, 10 * ratio * ratio);
  return { stepSize: (noise * noise) / (2 * temperature), noise };
}

/** The local width's neighbourhood ({@link langevinFromData}): the nearest 2% of at most 1000 rows. */
const LOCAL_WIDTH = { rows: 1000, fraction: 0.02 } as const;

/** Whether every value is finite (a scan on the host). */
function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}
