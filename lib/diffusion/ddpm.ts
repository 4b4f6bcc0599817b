/**
 * Denoising diffusion probabilistic models (Ho et al. 2020) with DDIM sampling (Song et al. 2021).
 *
 * Forward process (fixed, lib/diffusion/schedule.ts): x_t = sqrt(alphaBar_t) x_0 + sqrt(1 - alphaBar_t) eps,
 * eps ~ N(0, I), t = 0 .. T-1. A network eps_theta(x_t, t) (lib/diffusion/networks.ts) is trained on the
 * "simple" loss
 *
 *   L = E_{x_0, t ~ U{0..T-1}, eps} || eps - eps_theta(sqrt(alphaBar_t) x_0 + sqrt(1 - alphaBar_t) eps, t) ||^2
 *
 * (the mean over elements, as PyTorch's MSELoss). Its minimiser is eps*(x_t, t) = E[eps | x_t] =
 * -sqrt(1 - alphaBar_t) grad log q(x_t): a noise predictor is a scaled score model. Sampling runs the reverse
 * chain from x_{T-1} ~ N(0, I): ancestral (Ho et al. Algorithm 2) or DDIM on a strided subsequence of steps.
 *
 * With the course's T = 300 and linear betas 1e-4 .. 0.02, alphaBar_{T-1} = 0.048, not 0: x_T keeps
 * sqrt(0.048) = 22% of x_0's amplitude, so N(0, I) is only approximately the end of the forward process.
 *
 * Defaults that follow the data (lib/core/defaults.ts): for low-dimensional vectors `[D]`, D <= 16 (points in the
 * plane), the MLP gets sin/cos features of x scaled by the data's spread, `sample` uses an exponential moving average
 * of the weights (0.999) and `fit` trains for a budget of 2500 steps; measured on the 2-D sets in
 * bench/quality/DEFAULTS.md. Wider vectors and images keep the course's settings.
 *
 * Data range: with `dataRange` (e.g. [0, 1] for pixels) the model maps the data affinely onto [-1, 1], the scale at
 * which the noise is drawn (Ho et al. scale images so), and maps x_t and samples back; sampling then clips the
 * predicted x_0 to [-1, 1] at every step (diffusers' `clip_sample`). Without it the data are used as given.
 *
 * Class-conditional generation with classifier-free guidance (Ho & Salimans 2022): with `classes: K` the network
 * also sees a label y in 0..K-1 (a learned embedding added to the time embedding); during training each row's label
 * is replaced by the null label K with probability `labelDropout`, so one network learns both eps(x_t, t, y) and
 * the unconditional eps(x_t, t, null). Sampling with labels and guidance w uses
 *
 *   eps = (1 + w) eps(x_t, t, y) - w eps(x_t, t, null) = eps_cond + w (eps_cond - eps_uncond)
 *
 * (Ho & Salimans' eq. 6 form: w = 0 is the plain conditional model; diffusers' `guidance_scale` is 1 + w).
 */
import { tf, ready } from '../engine/backend';
import { Random } from '../engine/random';
import { assertFiniteNumber, assertKnownOptions, assertOneOf, assertPositiveInteger, describeValue, optionKeys } from '../core/validate';
import { CompiledGradientStep, FitOptions, History, resolveFitOptions, resolveLoopOptions, fitOptionMap } from '../train/loop';
import { Generative, Model, SampleOptions } from '../core/model';
import { requireDataShape } from '../core/data-shape';
import { assertDataRange, DataRange, flattenData, rescale } from '../core/data';
import { BatchTensor, ChainTensor, DataShape } from '../core/shapes';
import { JsonValue, saveCheckpoint } from '../core/checkpoint';
import { networkTensors, restoreNetworks } from '../core/network-weights';
import { labelArray, type Labels } from '../core/labels';
import { BetaSchedule, DEFAULT_BETA_SCHEDULE, NoiseSchedule } from './schedule';
import { epochsForSteps, isSmallVector } from '../core/defaults';
import { WeightAverage } from '../train/average';
import { buildNoiseNetwork, MlpNetworkOptions, NetworkOptions, NoiseNetwork, resolveNetworkOptions, UNetOptions } from './networks';

/** Options for {@link DDPM}. */
export interface DDPMOptions<S extends DataShape = DataShape> {
  /**
   * Shape of one example: `[D]` for vectors (MLP network) or `[h, w, c]` for images (U-Net). It types the samples:
   * `[D]` gives `tf.Tensor2D`, `[h, w, c]` gives `tf.Tensor4D` (see {@link BatchTensor}).
   */
  dataShape: S;
  /** Diffusion steps T (integer >= 2). Default 300 (the course; Ho et al. use 1000). */
  timesteps?: number;
  /** Betas. Default `{ kind: 'linear', start: 1e-4, end: 0.02 }` (Ho et al.; the course); or `{ kind: 'cosine' }`. */
  betaSchedule?: BetaSchedule;
  /**
   * The noise predictor: `'mlp'` (default for `[D]`), `'unet'` (default for `[h, w, c]`), or their options
   * (`{ kind: 'mlp', hiddenUnits, embedDim, inputFeatures, inputScale }`, `{ kind: 'unet', channels, embedDim, groups }`).
   * For low-dimensional vectors (D <= 16) the MLP also sees sin/cos features of x at 6 octaves above the data's
   * standard deviation (taken at the first fit; see {@link MlpNetworkOptions.inputFeatures}).
   */
  network?: NetworkOptions;
  /**
   * The range `[low, high]` of the data, e.g. `[0, 1]` for pixel intensities: the model maps data affinely onto
   * [-1, 1] (the scale of the noise; the course's `2x - 1`) for training, and maps samples back, so data and samples
   * stay in the user's range. `fit` refuses data outside it, and `sample` clips its predicted x_0 to it by default
   * (see {@link DDPMSampleOptions.clip}). Default: none -- the model works on the data as given (any real data,
   * e.g. the 2-D ring), nothing is mapped, checked against a range or clipped.
   */
  dataRange?: DataRange;
  /**
   * Decay beta of an exponential moving average of the network's weights, in [0, 1); 0 = none. With beta > 0 every
   * training step updates the average (with the GAN's warm-up: lib/train/average.ts) and `sample` draws with the
   * averaged network, and so does `predictNoise` (Ho et al. use 0.9999 over 800k steps); training (`fit`,
   * `simpleLoss`) and `network` itself hold the current weights.
   * It removes the wobble Adam's last steps leave in the mixture's weights. Default 0.999 for low-dimensional vectors (D <= 16), else 0.
   */
  weightAverage?: number;
  /** Seed for weights, training noise, shuffling and (unless given per call) sampling. Default: random. */
  seed?: number;
  /**
   * Classes K (integer >= 1) of a class-conditional DDPM with classifier-free guidance (Ho & Salimans 2022): the
   * network also gets a label, `fit` needs `labels` (integers in [0, K)), `sample` takes `labels` and `guidance`.
   * Default: none (unconditional).
   */
  classes?: number;
  /**
   * With `classes`: the probability, in [0, 1), that `fit` replaces a training row's label by the null label K, so
   * the same network learns the unconditional eps as well (what guidance needs). Default 0.1 (Ho & Salimans found
   * 0.1 and 0.2 best).
   */
  labelDropout?: number;
}
const DDPM_KEYS = optionKeys<DDPMOptions>({ dataShape: true, timesteps: true, betaSchedule: true, network: true, dataRange: true, weightAverage: true, seed: true, classes: true, labelDropout: true });

/** Metrics of one {@link DDPM.fit} epoch. */
export interface DDPMEpochLogs {
  /** The simple loss: mean squared error between drawn and predicted noise (mean over elements, t uniform). */
  loss: number;
  /** Wall seconds of the epoch's training (without validation and callbacks). */
  seconds: number;
  /** The same loss on the `validation` data, at noise and steps t drawn once from a fixed seed (when given). */
  valLoss?: number;
}

/** Options for {@link DDPM.fit}. */
export interface DDPMFitOptions extends FitOptions<DDPMEpochLogs> {
  /**
   * Passes over the data, integer >= 1. Default for low-dimensional vectors (D <= 16): a budget of 2500 Adam steps,
   * ceil(2500 / ceil(n / batchSize)) epochs -- 40 on 8000 points, 157 on 2000 -- which takes the 8-Gaussian ring to
   * 8 of 8 modes with ~90% of samples within 3 std of one, in about 7 CPU seconds (wasm, one thread; 2000
   * ancestral samples take a few more; bench/quality/DEFAULTS.md). Otherwise 20 (the course): for 28x28 digits with
   * the default U-Net, DEFAULTS.md gives the time per epoch.
   */
  epochs?: number;
  /** Mini-batch size, integer >= 1 (capped at n). Default 128 (the course). */
  batchSize?: number;
  /** Adam step size > 0. Default 1e-3 for the MLP, 2e-4 for the U-Net (the course). */
  learningRate?: number;
  /** Reshuffle every epoch (seeded). Default true. */
  shuffle?: boolean;
  /**
   * Held-out data, same layout and range as `x`: after every epoch the simple loss on it is recorded as `valLoss`,
   * with steps t and noise eps drawn from a fixed seed (the same draws every epoch and every fit, so the numbers
   * compare); `earlyStopping` then watches `valLoss` by default.
   */
  validation?: tf.Tensor;
  /** `'auto'` (default): live bar in a notebook, a line per epoch in a terminal; `false`: silent. */
  progress?: 'auto' | false;
  /** Class-conditional models (`classes`): the label of each row of x, integers in [0, K). Required there, refused otherwise. */
  labels?: Labels;
  /** Class-conditional models with `validation`: the label of each validation row (no label dropout on them). */
  validationLabels?: Labels;
}
const FIT_KEYS = optionKeys<DDPMFitOptions>({ ...fitOptionMap(), labels: true, validationLabels: true });

/** Options for {@link DDPM.sample}. */
export interface DDPMSampleOptions extends SampleOptions {
  /** `'ancestral'` (default; Ho et al. Algorithm 2, every step) or `'ddim'` (Song et al.; `steps` strided steps). */
  sampler?: 'ancestral' | 'ddim';
  /** DDIM only: number of reverse steps, 1 .. T. Default 50 (the course). Ancestral always uses all T. */
  steps?: number;
  /** DDIM only: noise scale, 0 (deterministic, default) .. 1 (= ancestral when steps = T). */
  eta?: number;
  /**
   * Clip the predicted x_0 = (x_t - sqrt(1 - alphaBar_t) eps) / sqrt(alphaBar_t) to [-1, 1] (the working range,
   * i.e. `dataRange` in the user's units) at every step before the step uses it, as diffusers' `clip_sample`: the
   * ancestral step then takes the posterior mean q(x_{t-1} | x_t, x_0) at the clipped x_0, and DDIM re-derives eps
   * from the clipped x_0 (diffusers' `use_clipped_model_output`), so DDIM with eta = 1 on every step stays the
   * ancestral sampler. The last step is noise-free and lands on the clipped x_0, so the samples lie in `dataRange`.
   * Default: true when the model has a `dataRange`, false otherwise (data of unknown range: clipping to [-1, 1]
   * would cut it).
   */
  clip?: boolean;
  /** Also return the chain: `{ samples, trajectory, predictedX0, times }`. Default false. */
  returnTrajectory?: boolean;
  /**
   * Seed of x_T and of the step noise. Default: drawn from the model's generator. With a seed, `new Random(seed)`
   * draws x_{T-1} first (`normalArray(n * D)`, rows in order), then one `normalArray(n * D)` z per step, also for
   * a step that adds no noise: a hand-written sampler that draws the same way reproduces the samples.
   */
  seed?: number;
  /** Samples per network call (memory bound for the U-Net). Default 256. */
  batchSize?: number;
  /**
   * Class-conditional models: the class asked for, one number for all samples or one per sample (integers in
   * [0, K)). Without labels a class-conditional model samples unconditionally (the null label).
   */
  labels?: number | ArrayLike<number>;
  /**
   * Classifier-free guidance weight w >= 0 (needs `labels`): eps = (1 + w) eps_cond - w eps_uncond, Ho & Salimans'
   * form, so w = 0 (the default) is the plain conditional model; diffusers' `guidance_scale` is 1 + w. Larger w gives
   * samples more typical of their class and less diverse. Both predictions come from one batched network call.
   */
  guidance?: number;
}
const SAMPLE_KEYS = optionKeys<DDPMSampleOptions>({ sampler: true, steps: true, eta: true, clip: true, returnTrajectory: true, seed: true, batchSize: true, labels: true, guidance: true });

/** Options of {@link DDPM.predictNoise}. */
export interface DDPMPredictOptions {
  /** Class-conditional models: one label for all rows or one per row; default the null label (unconditional). */
  labels?: number | ArrayLike<number>;
  /** Guidance weight w >= 0 (needs `labels`), as in {@link DDPMSampleOptions.guidance}. Default 0. */
  guidance?: number;
}
const PREDICT_KEYS = optionKeys<DDPMPredictOptions>({ labels: true, guidance: true });

/** What {@link DDPM.sample} returns with `returnTrajectory: true` (every tensor in the user's range). */
export interface DDPMTrajectory<S extends DataShape = DataShape> {
  /** The final samples `[n, ...dataShape]`. */
  samples: BatchTensor<S>;
  /** The chain `[frames, n, ...dataShape]`: x at the start (pure noise) and after every reverse step. */
  trajectory: ChainTensor<S>;
  /**
   * The x_0 predicted at every reverse step, `[steps, n, ...dataShape]` (after clipping, when `clip` is on): frame i
   * is predicted from trajectory frame i, at step `times[i]`.
   */
  predictedX0: ChainTensor<S>;
  /** The step index of each trajectory frame: T-1 for the start, then the step reached (the last frame is -1, i.e. x_0). */
  times: number[];
}

/** Options for {@link DDPM.noise}. */
export interface DDPMNoiseOptions {
  /** Seed of eps. Default: drawn from the model's generator. */
  seed?: number;
  /** Use this eps (same shape as x0) instead of drawing one. */
  eps?: tf.Tensor;
}
const NOISE_KEYS = optionKeys<DDPMNoiseOptions>({ seed: true, eps: true });

/** Serialisable configuration (what a checkpoint stores). */
interface DDPMConfig {
  dataShape: number[];
  timesteps: number;
  betaSchedule: BetaSchedule;
  network: Required<MlpNetworkOptions> | Required<UNetOptions>;
  /** Absent in checkpoints written before `dataRange` existed (no map). */
  dataRange?: DataRange | null;
  /** Absent in checkpoints written before `weightAverage` existed (none). */
  weightAverage?: number;
  seed: number;
  /** Class-conditional models only (absent: unconditional). */
  classes?: number;
  labelDropout?: number;
}

/** The range the network works in: where the noise's scale puts the data (Ho et al. scale images to [-1, 1]). */
const WORKING_RANGE: DataRange = [-1, 1];

const DEFAULTS = {
  timesteps: 300 /* the course */,
  epochs: 20 /* the course */,
  batchSize: 128 /* the course */,
  learningRateMlp: 1e-3 /* toy DDPMs on 2-D data */,
  learningRateUnet: 2e-4 /* the course; Ho et al. */,
  adamEpsilon: 1e-8 /* PyTorch's Adam default */,
  ddimSteps: 50 /* the course */,
  sampleBatch: 256,
  validationSeed: 20200619 /* fixed: the validation loss draws the same t and eps every epoch */,
  /** Low-dimensional vectors (lib/core/defaults.ts): measured on the 2-D sets (bench/quality/DEFAULTS.md). */
  vector: { steps: 2500, weightAverage: 0.999 /* as the GAN's; 0.995 measured the same */ },
  labelDropout: 0.1 /* Ho & Salimans 2022: p_uncond 0.1 or 0.2 */,
} as const;

/**
 * A DDPM: a noise schedule, a noise-prediction network, the simple loss, ancestral and DDIM samplers. With a
 * `dataRange` (e.g. `[0, 1]` for pixels) it maps the data onto [-1, 1] for the network and the samples back.
 */
export class DDPM<S extends DataShape = DataShape> extends Model implements Generative<S> {
  readonly kind = 'DDPM';
  /** The schedule: betas, alphas, alphaBar and the step maths. */
  readonly scheduler: NoiseSchedule;
  /** The noise predictor eps_theta(x_t, t), on data in the working range (see {@link DDPMOptions.dataRange}). */
  readonly network: NoiseNetwork;
  /** Shape of one example. */
  readonly dataShape: number[];
  private readonly dim: number;
  private readonly config: DDPMConfig;
  private readonly rng: Random;
  /** The user's data range, mapped onto {@link WORKING_RANGE}; null: no map. */
  private readonly range: DataRange | null;
  /** The moving average of the network's weights (`weightAverage`), or null. */
  private readonly average: WeightAverage | null;
  /** Classes K of a class-conditional model (label K is the null label); 0 when unconditional. */
  readonly classes: number;
  /** Probability of the null label for a training row (class-conditional models; 0 otherwise). */
  readonly labelDropout: number;

  constructor(opts: DDPMOptions<S>) {
    super();
    if (opts === null || typeof opts !== 'object') throw new TypeError(`opts must be an object; got ${describeValue(opts)}`);
    assertKnownOptions('DDPM', opts, DDPM_KEYS);
    const shape = requireDataShape(opts.dataShape, [1, 3]); // [D] or [h, w, c] (lib/core/data-shape.ts)
    const timesteps = opts.timesteps ?? DEFAULTS.timesteps;
    assertPositiveInteger('timesteps', timesteps);
    if (timesteps < 2) throw new RangeError(`timesteps must be at least 2; got ${timesteps}`);
    const betaSchedule = opts.betaSchedule ?? { ...DEFAULT_BETA_SCHEDULE };
    this.scheduler = new NoiseSchedule(timesteps, betaSchedule);
    const network = resolveNetworkOptions(opts.network, shape);
    if (opts.dataRange !== undefined) assertDataRange('dataRange', opts.dataRange);
    this.range = opts.dataRange === undefined ? null : [opts.dataRange[0], opts.dataRange[1]];
    if (opts.seed !== undefined) assertFiniteNumber('seed', opts.seed);
    const weightAverage = opts.weightAverage ?? (isSmallVector(shape) ? DEFAULTS.vector.weightAverage : 0);
    assertFiniteNumber('weightAverage', weightAverage, { min: 0, max: 1, exclusiveMax: true });
    this.rng = new Random(opts.seed);
    this.dataShape = [...shape];
    this.dim = shape.reduce((a, b) => a * b, 1);
    if (opts.classes !== undefined) assertPositiveInteger('classes', opts.classes);
    if (opts.labelDropout !== undefined && opts.classes === undefined) throw new Error(`labelDropout needs classes (a class-conditional DDPM); got labelDropout ${describeValue(opts.labelDropout)} without classes`);
    const labelDropout = opts.classes === undefined ? 0 : (opts.labelDropout ?? DEFAULTS.labelDropout);
    assertFiniteNumber('labelDropout', labelDropout, { min: 0, max: 1, exclusiveMax: true });
    this.classes = opts.classes ?? 0;
    this.labelDropout = labelDropout;
    this.config = { dataShape: [...shape], timesteps, betaSchedule: { ...betaSchedule }, network, dataRange: this.range && [...this.range], weightAverage, seed: this.rng.seed };
    if (this.classes > 0) Object.assign(this.config, { classes: this.classes, labelDropout });
    this.network = buildNoiseNetwork(network, this.dataShape, timesteps, this.rng.seedInt(), this.classes);
    this.average = weightAverage > 0 ? new WeightAverage(this.network, weightAverage) : null;
  }

  /** Number of diffusion steps T. */
  get timesteps(): number {
    return this.scheduler.timesteps;
  }

  /** alphaBar_t for t = 0 .. T-1 (a copy). alphaBar_{T-1} is 0.048 for the default schedule: far from 0. */
  get alphaBar(): number[] {
    return Array.from(this.scheduler.alphaBar);
  }

  /** The data range mapped onto [-1, 1] (a copy), or null when the model works on the data as given. */
  get dataRange(): DataRange | null {
    return this.range && [this.range[0], this.range[1]];
  }

  /**
   * A short description, e.g. `mlp 2+sin/cos x 6 octaves+64-128-128-128-2, T=300 linear, average 0.999` (the
   * default for points in the plane; `, dataRange [0, 1]` when set, `, 10 classes` for a class-conditional model).
   */
  describe(): string {
    const range = this.range ? `, dataRange [${this.range[0]}, ${this.range[1]}]` : '';
    const average = this.average ? `, average ${this.average.beta}` : '';
    const classes = this.classes > 0 ? `, ${this.classes} classes` : '';
    return `${this.network.describe()}, T=${this.timesteps} ${this.config.betaSchedule.kind}${average}${range}${classes}`;
  }

  // ------------------------------------------------------------------------------------------------------
  // Forward process and the network

  /**
   * Draws x_t ~ q(x_t | x_0) = N(sqrt(alphaBar_t) x_0, (1 - alphaBar_t) I) in closed form (in the working range;
   * with a `dataRange`, x0 is mapped onto [-1, 1] first and x_t mapped back, so it shows like the data).
   * @param x0 `[n, ...dataShape]` or flat `[n, D]`, in `dataRange` when the model has one.
   * @param t one step for every row, or one per row (integers in [0, T)).
   * @returns x_t, same shape as x0.
   */
  noise<T extends tf.Tensor>(x0: T, t: number | number[], opts: DDPMNoiseOptions = {}): T {
    this.assertAlive();
    assertKnownOptions('DDPM.noise', opts, NOISE_KEYS);
    const { x: flat, owned } = this.flatData('x0', x0, false);
    try {
      const n = flat.shape[0];
      const ts = this.stepsFor(t, n);
      if (opts.eps !== undefined) this.checkEps(opts.eps, x0);
      const rng = opts.seed === undefined ? this.rng.fork() : new Random(opts.seed);
      return tf.tidy(() => {
        const eps = opts.eps ?? tf.tensor(rng.normalArray(n * this.dim), x0.shape);
        const { a, b } = this.coefficients(ts);
        const xt = this.toWorking(flat).mul(a).add(eps.reshape([n, this.dim]).mul(b)); //   sqrt(abar) x0 + sqrt(1 - abar) eps
        return this.fromWorking(xt).reshape(x0.shape) as T;
      });
    } finally {
      if (owned) flat.dispose();
    }
  }

  /**
   * The network's noise prediction eps_theta(x_t, t) -- for a class-conditional model eps_theta(x_t, t, y), with
   * `guidance` w the guided (1 + w) eps(x_t, t, y) - w eps(x_t, t, null) that sampling uses;
   * with the averaged weights when the model keeps an average (`weightAverage`; as `sample`).
   * @param x x_t, `[n, ...dataShape]` or flat `[n, D]`, in the data's units (as {@link DDPM.noise} returns it).
   * @param t one step for all rows or one per row.
   * @returns eps, same shape as x: noise in the working range's units (eps ~ N(0, I) in the forward process).
   */
  predictNoise<T extends tf.Tensor>(x: T, t: number | number[], opts: DDPMPredictOptions = {}): T {
    this.assertAlive();
    assertKnownOptions('DDPM.predictNoise', opts, PREDICT_KEYS);
    const { x: flat, owned } = this.flatData('x', x, false, false);
    try {
      const n = flat.shape[0];
      const ts = this.stepsFor(t, n);
      const { labels, guidance } = this.guidanceFor(opts, n);
      const predict = () => tf.tidy(() => this.guidedNoise(this.toWorking(flat), tf.tensor1d(ts, 'int32'), labels, guidance).reshape(x.shape) as T);
      return this.average ? this.average.use(predict) : predict();
    } finally {
      if (owned) flat.dispose();
    }
  }

  /**
   * The simple loss on one batch at the given steps and noise: the mean over elements of
   * (eps - eps_theta(sqrt(alphaBar_t) x0 + sqrt(1 - alphaBar_t) eps, t))^2, by the code a step of {@link DDPM.fit}
   * runs (`fit` draws t and eps itself), so a hand-written training step can be checked against it.
   * @param x0 `[n, ...dataShape]` or flat `[n, D]`, in `dataRange` when the model has one.
   * @param t one step for every row, or one per row (integers in [0, T)).
   * @param eps the noise, the shape of x0, in the working range's units (eps ~ N(0, I)).
   * @param labels class-conditional models: the label of each row (K, the null label, allowed); default the null label.
   * @returns the loss, a scalar tensor.
   */
  simpleLoss(x0: tf.Tensor, t: number | number[], eps: tf.Tensor, labels?: Labels): tf.Scalar {
    this.assertAlive();
    const { x: flat, owned } = this.flatData('x0', x0, true);
    try {
      const n = flat.shape[0];
      const ts = this.stepsFor(t, n);
      this.checkEps(eps, x0);
      const y = labels === undefined ? undefined : this.labelsOf('labels', labels, n, true);
      return tf.tidy(() => {
        const { a, b } = this.coefficients(ts);
        const yt = y && tf.tensor1d(y, 'int32');
        return this.epsLoss(this.toWorking(flat), eps.reshape([n, this.dim]), a, b, tf.tensor1d(ts, 'int32'), yt).mean() as tf.Scalar;
      });
    } finally {
      if (owned) flat.dispose();
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // Training

  /**
   * Trains eps_theta on the simple loss (mean squared error between drawn and predicted noise, t uniform) with
   * Adam on the shared loop. A second `fit` continues the first (epochs, Adam moments); `reset: true` starts afresh.
   * The data are checked first (shape, finite values, `dataRange`); a fit that diverges leaves the weights as after
   * its last finite epoch.
   * A class-conditional model (`classes`) needs `labels`; each batch then draws t, eps, and which rows get the null
   * label (probability `labelDropout`), in that order.
   * @param x `[n, ...dataShape]` or flat `[n, D]`, in `dataRange` when the model has one (e.g. pixels in [0, 1]).
   * @returns the history `{ epoch, seconds, loss, valLoss? ... }` (per-epoch means).
   */
  async fit(x: tf.Tensor, opts: DDPMFitOptions = {}): Promise<History> {
    assertKnownOptions('DDPM.fit', opts, FIT_KEYS);
    await ready();
    this.assertAlive();
    const small = isSmallVector(this.dataShape);
    const rows = x instanceof tf.Tensor && x.rank > 0 ? x.shape[0] : 1; // (the data are checked below)
    const { epochs, batchSize, learningRate } = resolveFitOptions(opts, {
      // low-dimensional vectors: a budget of steps, so that 2000 and 8000 points both converge
      epochs: small ? epochsForSteps(DEFAULTS.vector.steps, rows, opts.batchSize ?? DEFAULTS.batchSize) : DEFAULTS.epochs,
      batchSize: DEFAULTS.batchSize,
      learningRate: this.config.network.kind === 'unet' ? DEFAULTS.learningRateUnet : DEFAULTS.learningRateMlp,
    });
    const { reset } = resolveLoopOptions('DDPM.fit', opts);
    const owned: tf.Tensor[] = [];
    let compiled: CompiledGradientStep | null = null;
    try {
      // Data in the working range, [n, D]: checked (shape, finite, dataRange) before anything changes.
      const train = this.workingData('x', x, owned);
      const held = opts.validation === undefined ? undefined : this.workingData('validation', opts.validation, owned);
      const yAll = this.fitLabels('labels', opts.labels, train.shape[0], owned);
      const yHeld = held ? this.fitLabels('validationLabels', opts.validationLabels, held.shape[0], owned) : undefined;
      if (!held && opts.validationLabels !== undefined) throw new Error('validationLabels needs validation (the held-out data they label)');
      const valDraws = held && this.validationDraws(held.shape[0], owned);
      this.takeInputScale(train);
      if (reset) this.training.reset();
      const optimizer = this.training.adam(learningRate, DEFAULTS.adamEpsilon);
      const rng = this.training.generator(opts.seed, () => this.rng.fork()); // the training stream (carried across fits)
      const T = this.timesteps;
      // sqrt(alphaBar_t) and sqrt(1 - alphaBar_t) for t = 0 .. T-1, [T, 1] each, uploaded once: each step gathers its rows'.
      const roots = this.coefficients(Array.from({ length: T }, (_, t) => t));
      owned.push(roots.a, roots.b);
      // The simple loss of Ho et al. on the batch's rows of x with noise eps at steps t: gathers, loss, gradients and
      // Adam as one compiled step (engine/tensorflow-graph.ts).
      // Class-conditional: the batch's labels, with the dropped rows' (drop = 1) replaced by the null label K.
      const K = this.classes;
      const step = new CompiledGradientStep(this.network.variables, optimizer, ([xAll, rows, eps, t, rootA, rootB, labels, drop]) => {
        const y = labels && (tf.gather(labels, rows).add(drop.mul(tf.scalar(K, 'int32').sub(tf.gather(labels, rows)))) as tf.Tensor1D); // y + drop (K - y)
        const err = this.epsLoss(tf.gather(xAll, rows), eps, tf.gather(rootA, t), tf.gather(rootB, t), t as tf.Tensor1D, y);
        const loss = err.mean() as tf.Scalar; //                                       simple loss, mean over elements
        return [loss, loss.reshape([1])];
      }, 'ddpm_step');
      compiled = step;
      return await this.fitLoop(opts, {
        x: train,
        epochs,
        batchSize,
        rng,
        metricNames: ['loss'],
        learningRate,
        stepRows: (xAll, rows, size) => {
          const ts = Int32Array.from({ length: size }, () => rng.int(T)); //                       t ~ U{0..T-1}
          const eps = tf.tensor2d(rng.normalArray(size * this.dim), [size, this.dim]); //        [b, D]
          const drop = yAll && Int32Array.from({ length: size }, () => (rng.next() < this.labelDropout ? 1 : 0)); // null label?
          const inputs = [xAll, rows, eps, tf.tensor1d(ts, 'int32'), roots.a, roots.b];
          const metrics = step.run(yAll && drop ? [...inputs, yAll, tf.tensor1d(drop, 'int32')] : inputs);
          this.average?.update();
          return metrics;
        },
        validationData: held,
        validate: valDraws && (async (xv) => ({ loss: await this.validationLoss(xv, valDraws, yHeld) })),
      });
    } finally {
      compiled?.dispose();
      tf.dispose(owned);
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // Sampling

  /**
   * Draws n samples by running the reverse chain from N(0, I). `ancestral`: x_{t-1} = (x_t - beta_t /
   * sqrt(1 - alphaBar_t) eps_theta) / sqrt(alpha_t) + sqrt(betaTilde_t) z for t = T-1 .. 0 (no noise at t = 0).
   * `ddim`: the DDIM update on `steps` evenly strided steps (see {@link NoiseSchedule.ddimStep}); with eta = 1
   * and steps = T it is the ancestral sampler. With `clip` (the default when the model has a `dataRange`) each step
   * goes through the predicted x_0 clipped to the data's range (see {@link DDPMSampleOptions.clip}). A
   * class-conditional model samples the `labels` asked for, with classifier-free `guidance` w (eps = (1 + w)
   * eps_cond - w eps_uncond), or unconditionally (the null label) without labels.
   * @returns `[n, ...dataShape]` in the data's range, or `{ samples, trajectory, predictedX0, times }` with
   * `returnTrajectory`.
   */
  async sample(n: number, opts?: DDPMSampleOptions & { returnTrajectory?: false }): Promise<BatchTensor<S>>;
  async sample(n: number, opts: DDPMSampleOptions & { returnTrajectory: true }): Promise<DDPMTrajectory<S>>;
  async sample(n: number, opts: DDPMSampleOptions = {}): Promise<BatchTensor<S> | DDPMTrajectory<S>> {
    await ready();
    this.assertAlive();
    assertKnownOptions('DDPM.sample', opts, SAMPLE_KEYS);
    assertPositiveInteger('n', n);
    const sampler = opts.sampler ?? 'ancestral';
    assertOneOf('sampler', sampler, ['ancestral', 'ddim'] as const);
    if (sampler === 'ancestral' && (opts.steps !== undefined || opts.eta !== undefined)) {
      throw new Error(`steps and eta are DDIM options; the ancestral sampler runs all ${this.timesteps} steps (use sampler: 'ddim')`);
    }
    const steps = opts.steps ?? DEFAULTS.ddimSteps;
    const eta = opts.eta ?? 0;
    assertFiniteNumber('eta', eta, { min: 0 });
    const batch = opts.batchSize ?? DEFAULTS.sampleBatch;
    assertPositiveInteger('batchSize', batch);
    const clip = opts.clip ?? this.range !== null;
    if (typeof clip !== 'boolean') throw new TypeError(`clip must be true or false; got ${describeValue(clip)}`);
    if (opts.seed !== undefined) assertFiniteNumber('seed', opts.seed);
    const { labels, guidance } = this.guidanceFor(opts, n);
    const rng = opts.seed === undefined ? this.rng.fork() : new Random(opts.seed);
    const T = this.timesteps;
    // ancestral: every step T-1 .. 0; DDIM: `steps` evenly strided ones (stridedTimesteps checks 1 <= steps <= T)
    const times = sampler === 'ancestral' ? Array.from({ length: T }, (_, i) => T - 1 - i) : this.scheduler.stridedTimesteps(steps);
    const keepChain = opts.returnTrajectory === true;

    const run = () => this.reverseChain(n, rng, sampler, times, eta, clip, batch, keepChain, labels, guidance);
    return this.average ? this.average.useAsync(run) : run();
  }

  /** The reverse chain of {@link DDPM.sample} with the network as it is (the caller swaps in the average). */
  private async reverseChain(
    n: number, rng: Random, sampler: 'ancestral' | 'ddim', times: number[], eta: number, clip: boolean, batch: number, keepChain: boolean,
    labels: Int32Array | null, guidance: number,
  ): Promise<BatchTensor<S> | DDPMTrajectory<S>> {
    const T = this.timesteps;
    let x = tf.tensor2d(rng.normalArray(n * this.dim), [n, this.dim]); //                           x_{T-1} ~ N(0, I)
    const frames: tf.Tensor[] = keepChain ? [x.clone()] : [];
    const predicted: tf.Tensor[] = [];
    try {
      for (let i = 0; i < times.length; i++) {
        const t = times[i];
        const prev = i + 1 < times.length ? times[i + 1] : -1;
        const z = rng.normalArray(n * this.dim); // drawn every step (also when unused) so both samplers stay in step
        const eps = this.predictFlat(x, t, batch, labels, guidance); //                              [n, D]
        const next = tf.tidy(() => {
          const step = sampler === 'ancestral' ? this.ancestralMean(x, eps, t, clip) : this.ddimMean(x, eps, t, prev, eta, clip);
          if (keepChain) predicted.push(tf.keep(step.x0 ?? this.predictX0(x, eps, t, false)));
          return step.sigma > 0 ? step.mean.add(tf.tensor2d(z, [n, this.dim]).mul(step.sigma)) : step.mean;
        }) as tf.Tensor2D;
        eps.dispose();
        x.dispose();
        x = next;
        if (keepChain) frames.push(x.clone());
        if (i % 25 === 24) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      // Back to the user's range; with clip the samples are the clipped x_0 of the last (noise-free) step, in range
      // up to the map's rounding, which the final clip removes.
      const samples = tf.tidy(() => {
        const out = this.fromWorking(x);
        return (clip && this.range ? out.clipByValue(this.range[0], this.range[1]) : out).reshape([n, ...this.dataShape]);
      }) as BatchTensor<S>;
      x.dispose();
      if (!keepChain) return samples;
      const chain = (list: tf.Tensor[]) => tf.tidy(() => this.fromWorking(tf.stack(list)).reshape([list.length, n, ...this.dataShape])) as ChainTensor<S>;
      const trajectory = chain(frames);
      const predictedX0 = chain(predicted);
      tf.dispose([frames, predicted]);
      return { samples, trajectory, predictedX0, times: [T - 1, ...times.slice(1), -1] };
    } catch (err) {
      x.dispose();
      tf.dispose([frames, predicted]);
      throw err;
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // Files

  /** Saves configuration and network weights atomically (lib/core/checkpoint.ts); the optimiser state is not saved. */
  async save(dir: string): Promise<void> {
    this.assertAlive();
    await saveCheckpoint(dir, {
      kind: 'DDPM',
      config: this.config as unknown as JsonValue,
      tensors: networkTensors(this.networks()),
    });
  }

  /** Loads a model written by {@link DDPM.save}; refuses missing, corrupted or mismatched checkpoints. */
  static async load(dir: string): Promise<DDPM> {
    return DDPM.loadCheckpointed(
      dir,
      'DDPM',
      (config) => {
        const c = config as unknown as DDPMConfig;
        return new DDPM({
          // checkpoints written before the MLP's input features: raw x
          dataShape: c.dataShape, timesteps: c.timesteps, betaSchedule: c.betaSchedule, network: c.network.kind === 'mlp' ? { ...c.network, inputFeatures: (c.network as MlpNetworkOptions).inputFeatures ?? 0 } : c.network,
          ...(c.dataRange ? { dataRange: c.dataRange } : {}), weightAverage: c.weightAverage ?? 0, seed: c.seed,
          ...(c.classes ? { classes: c.classes, labelDropout: c.labelDropout } : {}),
        });
      },
      (model, tensors) => restoreNetworks(dir, tensors, model.networks()),
    );
  }

  /** The noise network's weights (what Adam updates) and their average: what a diverged fit puts back. */
  protected variables(): tf.Variable[] {
    return this.average ? [...this.network.variables, ...this.average.variables] : this.network.variables;
  }

  /** What a checkpoint holds: the network and (with `weightAverage`) its average and the average's step count. */
  private networks(): Record<string, { getWeights(): tf.Tensor[]; setWeights(w: tf.Tensor[]): void }> {
    return { network: this.network, ...this.average?.weightSets('networkAverage') };
  }

  /** Frees the network and its average (the base frees the optimiser state). */
  protected release(): void {
    this.network?.dispose(); // undefined when the constructor threw before building it
    this.average?.dispose();
  }

  // ------------------------------------------------------------------------------------------------------
  // Internals

  /**
   * One ancestral step's mean and noise scale from x_t and eps. Without clip: Ho et al.'s eps form; with clip: the
   * posterior mean q(x_{t-1} | x_t, x_0) at the clipped predicted x_0 (the same mean when nothing is clipped).
   */
  private ancestralMean(x: tf.Tensor2D, eps: tf.Tensor2D, t: number, clip: boolean): { mean: tf.Tensor; sigma: number; x0: tf.Tensor | null } {
    const c = this.scheduler.ancestralStep(t);
    if (!clip) return { mean: x.mul(c.cXt).add(eps.mul(c.cEps)), sigma: c.sigma, x0: null }; // (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t)
    const x0 = this.predictX0(x, eps, t, true);
    const p = this.scheduler.posterior(t);
    return { mean: x0.mul(p.cX0).add(x.mul(p.cXt)), sigma: c.sigma, x0 }; //           c0_t x0 + ct_t x_t
  }

  /**
   * One DDIM step's mean and noise scale (Song et al. eq. 12): sqrt(abar_prev) x0 + sqrt(1 - abar_prev - sigma^2) eps;
   * with clip, x0 is clipped and eps re-derived from it, eps = (x_t - sqrt(abar_t) x0) / sqrt(1 - abar_t).
   */
  private ddimMean(x: tf.Tensor2D, eps: tf.Tensor2D, t: number, prev: number, eta: number, clip: boolean): { mean: tf.Tensor; sigma: number; x0: tf.Tensor | null } {
    const c = this.scheduler.ddimStep(t, prev, eta);
    const x0 = this.predictX0(x, eps, t, clip);
    const a = this.scheduler.alphaBar[t];
    const e = clip ? x.sub(x0.mul(Math.sqrt(a))).div(Math.sqrt(1 - a)) : eps;
    return { mean: x0.mul(c.cX0).add(e.mul(c.cEps)), sigma: c.sigma, x0 };
  }

  /** The predicted x_0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t), clipped to the working range when `clip`. */
  private predictX0(x: tf.Tensor2D, eps: tf.Tensor2D, t: number, clip: boolean): tf.Tensor2D {
    const a = this.scheduler.alphaBar[t];
    const x0 = x.sub(eps.mul(Math.sqrt(1 - a))).div(Math.sqrt(a));
    return (clip ? x0.clipByValue(WORKING_RANGE[0], WORKING_RANGE[1]) : x0) as tf.Tensor2D;
  }

  /**
   * The squared noise-prediction error per element, `[b, D]`, of batch x0 with noise eps at steps t (coefficients a,
   * b), and labels y (class-conditional models; default the null label).
   */
  private epsLoss(x0: tf.Tensor, eps: tf.Tensor, a: tf.Tensor, b: tf.Tensor, t: tf.Tensor1D, y?: tf.Tensor1D): tf.Tensor {
    const size = x0.shape[0];
    const xt = x0.mul(a).add(eps.mul(b)).reshape([size, ...this.dataShape]); //  x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps
    const pred = this.network.apply(xt, t, y).reshape([size, this.dim]); //       eps_theta(x_t, t[, y])
    return tf.squaredDifference(pred, eps);
  }

  /** At the first fit of an MLP with input features of no given scale: the data's standard deviation is their scale. */
  private takeInputScale(train: tf.Tensor2D): void {
    const net = this.config.network;
    if (net.kind !== 'mlp' || net.inputFeatures === 0 || net.inputScale !== null) return;
    const std = tf.tidy(() => tf.moments(train).variance.sqrt().dataSync()[0]);
    net.inputScale = std > 0 && Number.isFinite(std) ? +std.toPrecision(6) : 1;
    this.network.setInputScale?.(net.inputScale);
  }

  /** Steps t and noise eps for `m` validation rows, from the fixed validation seed (`eps` is added to `owned`). */
  private validationDraws(m: number, owned: tf.Tensor[]): { ts: number[]; eps: tf.Tensor2D } {
    const rng = new Random(DEFAULTS.validationSeed);
    const ts = Array.from({ length: m }, () => rng.int(this.timesteps));
    const eps = tf.tensor2d(rng.normalArray(m * this.dim), [m, this.dim]);
    owned.push(eps);
    return { ts, eps };
  }

  /** The simple loss on validation data (working range) at the fixed draws, in blocks of the sampling batch. */
  private async validationLoss(x: tf.Tensor2D, draws: { ts: number[]; eps: tf.Tensor2D }, y?: tf.Tensor1D): Promise<number> {
    const m = x.shape[0];
    let total: tf.Tensor = tf.scalar(0);
    for (let s = 0; s < m; s += DEFAULTS.sampleBatch) {
      const size = Math.min(DEFAULTS.sampleBatch, m - s);
      const ts = draws.ts.slice(s, s + size);
      const next = tf.tidy(() => {
        const { a, b } = this.coefficients(ts);
        const err = this.epsLoss(x.slice([s, 0], [size, this.dim]), draws.eps.slice([s, 0], [size, this.dim]), a, b, tf.tensor1d(ts, 'int32'), y?.slice(s, size));
        return total.add(err.sum());
      });
      total.dispose();
      total = next;
    }
    const [sum] = await total.data();
    total.dispose();
    return sum / (m * this.dim);
  }

  /** `x` checked and flat `[n, D]`, mapped to the working range; new tensors are added to `owned`. */
  private workingData(name: string, x: tf.Tensor, owned: tf.Tensor[]): tf.Tensor2D {
    const { x: flat, owned: isNew } = this.flatData(name, x, true);
    if (isNew) owned.push(flat);
    const work = this.toWorking(flat);
    if (work !== flat) owned.push(work);
    return work;
  }

  /** {@link flattenData} with the model's shape and (for data, not x_t) its `dataRange`. */
  private flatData(name: string, x: unknown, finite: boolean, inRange = true): { x: tf.Tensor2D; owned: boolean } {
    return flattenData(name, x, this.dataShape, {
      finite,
      range: inRange && this.range ? this.range : undefined,
      rangeHint: "the DDPM's dataRange: rescale the data, or build the model with their range as dataRange",
    });
  }

  /** User range -> working range (the identity without a `dataRange`). */
  private toWorking<T extends tf.Tensor>(x: T): T {
    return this.range ? rescale(x, this.range, WORKING_RANGE) : x;
  }

  /** Working range -> user range (the identity without a `dataRange`). */
  private fromWorking<T extends tf.Tensor>(x: T): T {
    return this.range ? rescale(x, WORKING_RANGE, this.range) : x;
  }

  /** The (guided) eps_theta on flat x `[n, D]` (working range) at one step t, in blocks of `batch` rows. */
  private predictFlat(x: tf.Tensor2D, t: number, batch: number, labels: Int32Array | null, guidance: number): tf.Tensor2D {
    const n = x.shape[0];
    return tf.tidy(() => {
      const parts: tf.Tensor[] = [];
      for (let s = 0; s < n; s += batch) {
        const size = Math.min(batch, n - s);
        parts.push(this.guidedNoise(x.slice([s, 0], [size, this.dim]), tf.fill([size], t, 'int32') as tf.Tensor1D, labels?.subarray(s, s + size) ?? null, guidance));
      }
      return (parts.length === 1 ? parts[0] : tf.concat(parts, 0)) as tf.Tensor2D;
    });
  }

  /**
   * eps on flat x `[m, D]` (working range) at steps t `[m]`: without labels eps(x, t) (the null label for a
   * class-conditional model); with labels y and w = 0 eps(x, t, y); with w != 0 the guided
   * (1 + w) eps(x, t, y) - w eps(x, t, null), both halves from one network call on the doubled batch. Call in a tidy.
   */
  private guidedNoise(x: tf.Tensor2D, t: tf.Tensor1D, labels: Int32Array | null, guidance: number): tf.Tensor2D {
    const m = x.shape[0];
    const net = (xs: tf.Tensor, ts: tf.Tensor1D, ys?: tf.Tensor1D) => this.network.apply(xs.reshape([xs.shape[0], ...this.dataShape]), ts, ys).reshape([xs.shape[0], this.dim]);
    if (!labels) return net(x, t) as tf.Tensor2D;
    const y = tf.tensor1d(labels, 'int32');
    if (guidance === 0) return net(x, t, y) as tf.Tensor2D;
    const both = net(tf.concat([x, x], 0), tf.concat([t, t], 0), tf.concat([y, tf.fill([m], this.classes, 'int32') as tf.Tensor1D], 0)); // [2m, D]
    const [cond, uncond] = tf.split(both, 2, 0);
    return cond.mul(1 + guidance).sub(uncond.mul(guidance)) as tf.Tensor2D; //       (1 + w) eps_cond - w eps_uncond
  }

  /** Checks `labels` and `guidance` of a sample / predict call: labels as an Int32Array `[n]` (or null) and w. */
  private guidanceFor(opts: { labels?: number | ArrayLike<number>; guidance?: number }, n: number): { labels: Int32Array | null; guidance: number } {
    const guidance = opts.guidance ?? 0;
    assertFiniteNumber('guidance', guidance, { min: 0 });
    if (opts.labels === undefined) {
      if (opts.guidance !== undefined) throw new Error(`guidance needs labels (the classes asked for); got guidance ${guidance} without labels`);
      return { labels: null, guidance: 0 };
    }
    const given = typeof opts.labels === 'number' ? new Array<number>(n).fill(opts.labels) : opts.labels;
    return { labels: this.labelsOf('labels', given, n, false), guidance };
  }

  /** Labels checked against the model's classes (K itself, the null label, allowed when `nullAllowed`). */
  private labelsOf(name: string, labels: unknown, n: number, nullAllowed: boolean): Int32Array {
    if (this.classes === 0) throw new Error(`${name} need a class-conditional DDPM (new DDPM({ ..., classes: K })); this one is unconditional`);
    return labelArray(name, labels, n, this.classes + (nullAllowed ? 1 : 0));
  }

  /** fit's labels as an int32 tensor (added to `owned`): required for a class-conditional model, refused otherwise. */
  private fitLabels(name: string, labels: Labels | undefined, n: number, owned: tf.Tensor[]): tf.Tensor1D | undefined {
    if (labels === undefined) {
      if (this.classes > 0) throw new Error(`${name} are required: this DDPM is class-conditional (classes ${this.classes}); give one label in [0, ${this.classes}) per row`);
      return undefined;
    }
    const y = tf.tensor1d(this.labelsOf(name, labels, n, false), 'int32');
    owned.push(y);
    return y;
  }

  /** sqrt(alphaBar_t) and sqrt(1 - alphaBar_t) per row, `[n, 1]` each. */
  private coefficients(ts: number[]): { a: tf.Tensor2D; b: tf.Tensor2D } {
    const a = new Float32Array(ts.length);
    const b = new Float32Array(ts.length);
    ts.forEach((t, i) => {
      const ab = this.scheduler.alphaBar[t];
      a[i] = Math.sqrt(ab);
      b[i] = Math.sqrt(1 - ab);
    });
    return { a: tf.tensor2d(a, [ts.length, 1]), b: tf.tensor2d(b, [ts.length, 1]) };
  }

  /** Refuses noise `eps` that is not a tensor of x0's shape. */
  private checkEps(eps: unknown, x0: tf.Tensor): void {
    if (!(eps instanceof tf.Tensor)) throw new TypeError(`eps must be a tensor of the shape of x0 [${x0.shape.join(', ')}]; got ${describeValue(eps)}`);
    if (eps.shape.join(',') !== x0.shape.join(',')) {
      throw new RangeError(`eps must have the shape of x0 [${x0.shape.join(', ')}]; got [${eps.shape.join(', ')}]`);
    }
  }

  private stepsFor(t: number | number[], n: number): number[] {
    const ts = Array.isArray(t) ? t : new Array<number>(n).fill(t);
    if (ts.length !== n) throw new RangeError(`t must be one step or one per row (${n}); got ${ts.length} steps`);
    for (const s of ts) {
      if (!(Number.isInteger(s) && s >= 0 && s < this.timesteps)) throw new RangeError(`t must be integers in [0, ${this.timesteps}); got ${describeValue(s)}`);
    }
    return ts;
  }
}
