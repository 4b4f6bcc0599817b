/**
 * Generative adversarial networks (Goodfellow et al. 2014): a generator G: z -> x and a discriminator D: x -> (0, 1)
 * trained against each other, dense (the course's MNIST GAN) or convolutional (a DCGAN-style pair for 28x28
 * images, Radford et al. 2016).
 *
 * The game, with x in R^D (flattened), z in R^L and D(x) = sigmoid(l(x)) (the network returns the logit l):
 *
 *   V(G, D) = E_{x ~ p_data} log D(x) + E_{z ~ p(z)} log(1 - D(G(z)))
 *   D step:   minimise  dLoss = -V = BCE(D(x), s) + BCE(D(G(z)), 0)
 *             = mean softplus(l_real) - s * l_real  +  mean softplus(l_fake)         (s = label smoothing, 1 = none)
 *   G step:   non-saturating (default): minimise  -E log D(G(z))      = mean softplus(-l_fake)
 *             minimax (the original):    minimise   E log(1 - D(G(z))) = -mean softplus(l_fake)
 *
 * For fixed G the best discriminator is D*(x) = p_data(x) / (p_data(x) + p_g(x)) (with smoothing s it is
 * s p_data / (p_data + p_g), so 0.45 rather than 0.5 at equilibrium for s = 0.9), and V(G, D*) =
 * -log 4 + 2 JSD(p_data || p_g): at D* the reported `dLoss` is log 4 - 2 JSD, 1.386 when p_g = p_data.
 * The minimax G loss saturates when D rejects the fakes confidently (its gradient in l_fake is sigmoid(l_fake)
 * -> 0); the non-saturating loss has gradient 1 - sigmoid(l_fake) -> 1 there.
 *
 * Every fit step runs `discriminatorSteps` D updates (each on the same real batch with fresh z) and then
 * `generatorSteps` G updates, with two Adam optimisers (beta1 = 0.5, as DCGAN).
 *
 * Optionally (`generatorAverage` = beta > 0) the model keeps an exponential moving average of G's weights,
 *   w_avg <- d_t w_avg + (1 - d_t) w,   d_t = min(beta, (1 + t) / (10 + t))   after the t-th step (t = 0, 1, ...),
 * and samples with it (Yazici et al. 2019, "The unusual effectiveness of averaging in GAN training"): G's weights
 * keep moving around the game's equilibrium, and the average cancels much of that motion, which shows in the
 * samples as speckle. The game itself trains on the current weights (the average: lib/train/average.ts, which the
 * DDPM shares).
 *
 * Data range: a tanh generator makes values in [-1, 1]; the model maps the user's `dataRange` (e.g. [0, 1] for pixel
 * intensities) affinely onto it for training and maps samples back, x_net = -1 + 2 (x - lo) / (hi - lo), so
 * `fit(digits01)` and `sample()` both work in [0, 1]. Without a `dataRange` the first fit's data set it (their
 * minimum and maximum); it is saved with the model.
 *
 * Training goes through genlab's one loop (lib/train) and the model's {@link TrainingState}: a second `fit`
 * continues the first (epoch numbers, both Adam optimisers and the training random stream), `reset: true` starts
 * afresh, and a fit that diverges leaves G, D, the BatchNorm statistics and the average as after the last finite
 * epoch.
 */
import { ready, tf } from '../engine/backend';
import { BatchTensor, DataShape } from '../core/shapes';
import { Random } from '../engine/random';
import {
  assertFiniteNumber,
  assertKnownOptions,
  assertMatrix,
  assertNonNegativeInteger,
  assertOneOf,
  assertPositiveInteger,
  describeValue,
  optionKeys,
} from '../core/validate';
import { FitOptions, gradientStep, OnEpoch, resolveFitOptions, resolveLoopOptions, trainableVariables, fitOptionMap } from '../train/loop';
import { JsonValue, saveCheckpoint } from '../core/checkpoint';
import { networkTensors, restoreNetworks } from '../core/network-weights';
import { requireDataShape } from '../core/data-shape';
import { Model, type Generative, type SampleOptions } from '../core/model';
import { assertDataRange, DataRange, flattenData, FlatData, observedRange, rescale } from '../core/data';
import { checkUnits, LayerInit, layerInit } from '../nets/layer-init';
import { epochsForSteps, isSmallVector, rangeText } from '../core/defaults';
import { WeightAverage } from '../train/average';

/** Generator objective: `'non-saturating'` (default, -log D(G(z))) or `'minimax'` (log(1 - D(G(z))), the original). */
export type GANLoss = 'non-saturating' | 'minimax';
const LOSSES: readonly GANLoss[] = ['non-saturating', 'minimax'];

/** The prior p(z): standard normal (default) or uniform on [-1, 1]^L (Raschka's GAN, the course's week 16). */
export type GANLatent = 'normal' | 'uniform';
const LATENTS: readonly GANLatent[] = ['normal', 'uniform'];

/** Options for {@link GAN}. */
export interface GANOptions<S extends DataShape = DataShape> {
  /**
   * Shape of one example: `[D]` for vectors (e.g. `[2]` for the ring, `[784]` for flat digits) or
   * `[height, width, channels]` for images. Conv needs `[h, w, c]` with h and w divisible by 4. It types the
   * samples: `[D]` gives `tf.Tensor2D`, `[h, w, c]` gives `tf.Tensor4D` (see {@link BatchTensor}).
   */
  dataShape: S;
  /**
   * The range `[low, high]` of the data, e.g. `[0, 1]` for pixel intensities. With a tanh output the GAN maps it
   * onto [-1, 1] for training and maps samples back, so `fit`, `sample` and `discriminate` all work in this range;
   * data outside it are refused. Default: taken from the first fit's data (their minimum and maximum) and saved with
   * the model. With a linear output no map is needed: the range then only documents (and checks) the data.
   */
  dataRange?: DataRange;
  /**
   * Dimension L of z, integer >= 1. Default: D, the size of the data, for low-dimensional vectors `[D]` (D <= 16: a
   * ring in the plane needs no 100-dimensional latent); 100 otherwise (the course).
   */
  latentDim?: number;
  /** `'dense'` (default: MLPs) or `'conv'` (DCGAN-style pair for images such as 28x28 digits). */
  architecture?: 'dense' | 'conv';
  /**
   * Dense: hidden widths of G, first to last. Default `[128, 128]` for low-dimensional vectors (D <= 16), else
   * `[256, 512, 1024]` (the course). Conv: channels of the 1/4- and 1/2-resolution feature maps, default `[128, 64]`
   * (G: dense -> 7x7x128 -> 14x14x64 -> 28x28xc).
   */
  generatorUnits?: number[];
  /**
   * Dense: hidden widths of D, first to last. Default `[128, 128]` for low-dimensional vectors (D <= 16), else
   * `[1024, 512, 256]` (the course). Conv: channels of D's two stride-2 5x5 convolutions, default `[64, 128]`.
   */
  discriminatorUnits?: number[];
  /**
   * G's output activation: `'tanh'` (outputs in [-1, 1], mapped onto `dataRange`) or `'linear'` (any real values).
   * Default `'linear'` for low-dimensional vectors (D <= 16, e.g. points in the plane) without a `dataRange`;
   * `'tanh'` otherwise (the course's images, and any data given a `dataRange`: the samples then stay inside it).
   */
  outputActivation?: 'tanh' | 'linear';
  /**
   * BatchNorm after each hidden layer of G (momentum 0.9, i.e. PyTorch's 0.1). Default false for low-dimensional
   * vectors (D <= 16: with it the ring GAN covers 1 mode of 8), true otherwise (the course).
   */
  batchNorm?: boolean;
  /** Dropout rate after each hidden layer of D, in [0, 1). Default 0 for low-dimensional vectors (D <= 16), else 0.3 (the course). */
  dropout?: number;
  /** Negative slope of the LeakyReLU activations of both networks, >= 0. Default 0.2. */
  leakySlope?: number;
  /** Generator loss, see {@link GANLoss}. Default `'non-saturating'`. */
  loss?: GANLoss;
  /**
   * One-sided label smoothing: the target of real examples in the D loss, in (0, 1]. Default 1 (none); the course
   * uses 0.9. Fakes keep target 0 (smoothing them too moves D* towards the fakes).
   */
  labelSmoothing?: number;
  /** The prior p(z), see {@link GANLatent}. Default `'normal'`. */
  latent?: GANLatent;
  /**
   * Decay beta of an exponential moving average of G's weights (with warm-up; see the module comment), in [0, 1);
   * 0 = none. With beta > 0, `sample` uses the averaged generator, which removes much of the speckle of a dense G
   * early in training (bench/quality/RESULTS-gan.md). Default 0.999 for low-dimensional vectors (D <= 16: it stops
   * the ring GAN hopping between modes at Adam 1e-3; bench/quality/DEFAULTS.md), else 0 (the course does not average).
   */
  generatorAverage?: number;
  /** Seed of the weights, shuffling, z draws and dropout masks. Default: random. */
  seed?: number;
}
/** The keys of {@link GANOptions} (checked by the compiler against the interface). */
const GAN_OPTION_KEYS = optionKeys<GANOptions>({
  dataShape: true, dataRange: true, latentDim: true, architecture: true, generatorUnits: true, discriminatorUnits: true,
  outputActivation: true, batchNorm: true, dropout: true, leakySlope: true, loss: true, labelSmoothing: true,
  latent: true, generatorAverage: true, seed: true,
});

/**
 * Options for {@link GAN.fit}: the loop's (`reset`, `earlyStopping`, `validation`, ...; see {@link FitOptions}) and
 * the game's (`discriminatorSteps`, `generatorSteps`).
 */
export interface GANFitOptions extends FitOptions<GANEpochLogs> {
  /**
   * Passes over the data. Integer >= 1. Default for low-dimensional vectors (D <= 16): enough epochs for 2500 steps
   * (40 epochs of 8000 points in batches of 128, 157 of 2000), which cover 8 of 8 ring modes on every seed measured
   * (bench/quality/DEFAULTS.md) in about 13 s of CPU on one core (wasm); otherwise 20 (the course).
   */
  epochs?: number;
  /** Real examples per step (and as many fakes). Integer >= 1, capped at n. Default 128 (the course). */
  batchSize?: number;
  /**
   * Adam step size of both networks, > 0. Default 1e-3 for low-dimensional vectors (D <= 16; with the averaged
   * generator it covers the ring's 8 modes after about 950 steps, where 2e-4 needs about 3000;
   * bench/quality/DEFAULTS.md), else 2e-4 (the course's MNIST GAN, and DCGAN's).
   */
  learningRate?: number;
  /** D updates per step (same real batch, fresh z each). Integer >= 1. Default 1. */
  discriminatorSteps?: number;
  /** G updates per step. Integer >= 0; 0 freezes G (trains D alone, e.g. towards D*). Default 1. */
  generatorSteps?: number;
  /**
   * Held-out real examples, same layout and range as `x`: after every epoch D's loss on them and as many fresh
   * fakes is recorded as `valDLoss`, and its mean D(x) on them as `valDReal` (D in inference mode: no dropout; G
   * with its BatchNorm moving statistics). `earlyStopping` watches `valDLoss` by default.
   */
  validation?: tf.Tensor;
  /**
   * Seed of this run's shuffling, z draws and dropout masks. Default: the stream of the previous `fit` continues
   * (so a resumed fit equals one long fit); the first `fit` draws one from the model's generator.
   */
  seed?: number;
  /** Called after every epoch with its {@link GANEpochLogs}; may return extra metrics (see {@link OnEpoch}). */
  onEpoch?: OnEpoch<GANEpochLogs>;
}
/** The keys of {@link GANFitOptions}. */
const GAN_FIT_KEYS = optionKeys<GANFitOptions>({ ...fitOptionMap(), discriminatorSteps: true, generatorSteps: true });

/** One epoch's metrics: means over its batches (D figures from the D steps, in training mode). */
export interface GANEpochLogs {
  /** D's loss -V(G, D) in nats (BCE on reals + BCE on fakes); log 4 = 1.386 at equilibrium without smoothing. */
  dLoss: number;
  /** G's loss (see {@link GANLoss}); NaN when `generatorSteps` is 0. */
  gLoss: number;
  /** Mean D(x) on the real batches. */
  dReal: number;
  /** Mean D(G(z)) on the fakes of the D steps. */
  dFake: number;
  /** Wall seconds of the epoch's training (without validation and callbacks). */
  seconds: number;
  /** D's loss on the held-out reals and as many fresh fakes (with `validation`). */
  valDLoss?: number;
  /** Mean D(x) on the held-out reals (with `validation`). */
  valDReal?: number;
}

/**
 * What {@link GAN.fit} returns: one entry per epoch of that call -- `epoch` (numbers continue across resumed fits),
 * `seconds`, `dLoss`, `gLoss`, `dReal`, `dFake`, with `validation` `valDLoss` and `valDReal`, and whatever `onEpoch`
 * returned.
 */
export interface GANHistory {
  epoch: number[];
  seconds: number[];
  dLoss: number[];
  gLoss: number[];
  dReal: number[];
  dFake: number[];
  [metric: string]: number[];
}

/** Options for {@link GAN.sample}. */
export interface GANSampleOptions extends SampleOptions {
  /** Latent points `[n, L]` to map (e.g. a fixed grid reused every epoch); default: fresh draws from p(z). */
  z?: tf.Tensor;
  /** Seed of the z draws when `z` is not given. Default: the model's stream. */
  seed?: number;
}
const SAMPLE_KEYS = optionKeys<GANSampleOptions>({ z: true, seed: true });

/**
 * Defaults, each with its reason. The data shape picks the recipe (lib/core/defaults.ts): `vector` for
 * low-dimensional vectors `[D]` (D <= 16, e.g. points in the plane), `course` for wider vectors and images (the
 * course's MNIST GAN; `conv` has the DCGAN's networks). Options the user passes always win over these.
 */
const DEFAULTS = {
  // Measured on the 8-Gaussian ring and the correlated Gaussian of datasets/synthetic.ts, 3 seeds each, with the
  // PyTorch twin (bench/quality/DEFAULTS.md).
  vector: {
    latentDim: 'data' as const, //                                   z the size of the data (a 2-D ring needs no 100-D z)
    generatorUnits: [128, 128], discriminatorUnits: [128, 128], // small MLPs: the ring needs no more
    batchNorm: false, dropout: 0, //   the MNIST tricks collapse the ring to 1 mode of 8 (bench/quality/RESULTS-gan.md)
    linearOutput: true, //                        any real values; a given dataRange asks for tanh (samples inside it)
    generatorAverage: 0.999, //      samples from G's weight average: 8/8 modes from ~950 steps, no mode hopping
    learningRate: 1e-3, //    with the average; 2e-4 needs ~3000 steps for 8/8, 1e-3 alone hops between modes
    steps: 2500, //  8/8 modes on every seed, ~70% of samples within 3 std of a mode; ~13 s CPU (wasm)
  },
  course: {
    latentDim: 100, generatorUnits: [256, 512, 1024], discriminatorUnits: [1024, 512, 256], // the course's MNIST GAN
    batchNorm: true, dropout: 0.3, linearOutput: false, generatorAverage: 0, learningRate: 2e-4, epochs: 20, // the course
  },
  conv: { generatorUnits: [128, 64], discriminatorUnits: [64, 128], learningRate: 2e-4 }, // DCGAN (Radford et al. 2016)
  leakySlope: 0.2,
  batchSize: 128, //                                                                      the course, both recipes
  betas: { beta1: 0.5, beta2: 0.999 }, // DCGAN's Adam (Radford et al. 2016): beta1 0.5 damps the game's oscillation
  adamEpsilon: 1e-8,
  bnMomentum: 0.9,
  convKernel: 5,
  validationChunk: 1024, // rows of held-out data scored at a time
};

/** The range a tanh generator makes. */
const TANH_RANGE: DataRange = [-1, 1];

/** What a GAN is built from (its options resolved), saved in its checkpoints. */
interface GANConfig {
  dataShape: number[];
  /** Given, or taken from the first fit's data (tanh output); null until then. */
  dataRange: DataRange | null;
  latentDim: number;
  architecture: 'dense' | 'conv';
  generatorUnits: number[];
  discriminatorUnits: number[];
  outputActivation: 'tanh' | 'linear';
  batchNorm: boolean;
  dropout: number;
  leakySlope: number;
  loss: GANLoss;
  labelSmoothing: number;
  latent: GANLatent;
  generatorAverage: number;
  seed: number;
}

/** A network as a checkpoint sees it: its weights in a fixed order. */
interface WeightSet {
  getWeights(): tf.Tensor[];
  setWeights(w: tf.Tensor[]): void;
}

/**
 * A GAN. The course's dense MNIST model: `new GAN({ dataShape: [784], dataRange: [0, 1], latentDim: 100,
 * labelSmoothing: 0.9, seed: 1 })` (G 100-256-512-1024-784 tanh with BatchNorm and LeakyReLU; D 784-1024-512-256-1
 * with dropout 0.3), trained with `await gan.fit(digits)` (Adam 2e-4, beta1 0.5, batch 128, 20 epochs) on pixel
 * intensities in [0, 1]; `await gan.sample(36)` gives digits in [0, 1] too. A DCGAN for digits: `new GAN({
 * dataShape: [28, 28, 1], dataRange: [0, 1], architecture: 'conv', seed: 1 })`.
 *
 * The defaults follow the data. For low-dimensional vectors (`[D]`, D <= 16) `new GAN({ dataShape: [2] })` alone is
 * the small GAN measured on the 8-Gaussian ring (z in R^2, G 2-128-128-2 linear, D 2-128-128-1, no BatchNorm or
 * dropout, Adam 1e-3, samples from G's weight average, 2500 steps): 8 of 8 modes on every seed in about 13 s on one
 * core; wider vectors and images get the course's networks above. See each option for its default and reason.
 *
 * Data are `[n, D]` tensors (image models also take `[n, h, w, c]`); samples come back as `[n, ...dataShape]`.
 */
export class GAN<S extends DataShape = DataShape> extends Model implements Generative<S> {
  readonly kind = 'GAN';
  /** G: `[n, L]` -> `[n, ...dataShape]` (tanh or linear output, in the network's range: [-1, 1] for tanh). */
  readonly generator: tf.LayersModel;
  /** D without its dropout: `[n, ...dataShape]` -> logits `[n, 1]` (D(x) = sigmoid(logit)), in the network's range. */
  readonly discriminator: tf.LayersModel;
  /** Shape of one example. */
  readonly dataShape: number[];
  /** Flattened example width D. */
  readonly dataDim: number;
  /** Latent dimension L. */
  readonly latentDim: number;
  /** `'dense'` or `'conv'`. */
  readonly architecture: 'dense' | 'conv';
  private readonly config: GANConfig;
  private readonly rng: Random;
  /** The moving average of G's weights with its step count (lib/train/average.ts), or null when `generatorAverage` is 0. */
  private readonly average: WeightAverage | null;

  constructor(opts: GANOptions<S>) {
    super();
    if (opts === null || typeof opts !== 'object') throw new TypeError(`opts must be an object; got ${describeValue(opts)}`);
    assertKnownOptions('GAN', opts, GAN_OPTION_KEYS);
    const architecture = opts.architecture ?? 'dense';
    assertOneOf('architecture', architecture, ['dense', 'conv'] as const);
    const shape = requireDataShape(opts.dataShape, [1, 3]); // [D] or [h, w, c] (lib/core/data-shape.ts)
    if (architecture === 'conv' && (shape.length !== 3 || shape[0] % 4 !== 0 || shape[1] % 4 !== 0)) {
      throw new RangeError(`a conv GAN needs dataShape [h, w, c] with h and w divisible by 4; got [${shape.join(', ')}]`);
    }
    if (opts.dataRange !== undefined) assertDataRange('dataRange', opts.dataRange);
    const small = isSmallVector(shape);
    const recipe = small ? DEFAULTS.vector : DEFAULTS.course;
    const latentDim = opts.latentDim ?? (recipe.latentDim === 'data' ? shape[0] : recipe.latentDim);
    assertPositiveInteger('latentDim', latentDim);
    const arch = architecture === 'conv' ? DEFAULTS.conv : recipe;
    const generatorUnits = opts.generatorUnits ?? [...arch.generatorUnits];
    const discriminatorUnits = opts.discriminatorUnits ?? [...arch.discriminatorUnits];
    checkUnits('generatorUnits', generatorUnits);
    checkUnits('discriminatorUnits', discriminatorUnits);
    if (architecture === 'conv') {
      for (const [name, units] of [['generatorUnits', generatorUnits], ['discriminatorUnits', discriminatorUnits]] as const) {
        if (units.length !== 2) throw new RangeError(`${name} of a conv GAN must hold 2 channel counts; got ${describeValue(units)}`);
      }
    }
    const outputActivation = opts.outputActivation ?? (recipe.linearOutput && opts.dataRange === undefined ? 'linear' : 'tanh');
    assertOneOf('outputActivation', outputActivation, ['tanh', 'linear'] as const);
    const batchNorm = opts.batchNorm ?? recipe.batchNorm;
    if (typeof batchNorm !== 'boolean') throw new TypeError(`batchNorm must be true or false; got ${describeValue(batchNorm)}`);
    const dropout = opts.dropout ?? recipe.dropout;
    assertFiniteNumber('dropout', dropout, { min: 0, max: 1, exclusiveMax: true });
    const leakySlope = opts.leakySlope ?? DEFAULTS.leakySlope;
    assertFiniteNumber('leakySlope', leakySlope, { min: 0 });
    const loss = opts.loss ?? 'non-saturating';
    assertOneOf('loss', loss, LOSSES);
    const labelSmoothing = opts.labelSmoothing ?? 1;
    assertFiniteNumber('labelSmoothing', labelSmoothing, { min: 0, max: 1, exclusiveMin: true });
    const latent = opts.latent ?? 'normal';
    assertOneOf('latent', latent, LATENTS);
    const generatorAverage = opts.generatorAverage ?? recipe.generatorAverage;
    assertFiniteNumber('generatorAverage', generatorAverage, { min: 0, max: 1, exclusiveMax: true });
    if (opts.seed !== undefined) assertFiniteNumber('seed', opts.seed);
    const rng = new Random(opts.seed);

    this.dataShape = [...shape];
    this.dataDim = shape.reduce((a, b) => a * b, 1);
    this.latentDim = latentDim;
    this.architecture = architecture;
    this.config = {
      dataShape: [...shape], dataRange: opts.dataRange ? [opts.dataRange[0], opts.dataRange[1]] : null, latentDim, architecture,
      generatorUnits, discriminatorUnits, outputActivation, batchNorm, dropout, leakySlope, loss, labelSmoothing, latent,
      generatorAverage, seed: rng.seed,
    };
    const gInit = layerInit(new Random(rng.seedInt()), 'glorot');
    const dInit = layerInit(new Random(rng.seedInt()), 'glorot');
    this.rng = rng;
    try {
      this.generator = architecture === 'conv' ? this.convGenerator(gInit) : this.denseGenerator(gInit);
      this.discriminator = architecture === 'conv' ? this.convDiscriminator(dInit) : this.denseDiscriminator(dInit);
      this.average = generatorAverage > 0 ? new WeightAverage(this.generator, generatorAverage) : null;
    } catch (e) {
      this.dispose(); // frees what was built (release copes with a partly built model)
      throw e;
    }
  }

  /**
   * The range of the data and of the samples: the `dataRange` given, or the one the first fit's data set; before
   * that the generator's own range ([-1, 1] for tanh), and undefined for a linear output without `dataRange` (any
   * real values).
   */
  get dataRange(): DataRange | undefined {
    const r = this.config.dataRange ?? (this.config.outputActivation === 'tanh' ? TANH_RANGE : null);
    return r ? [r[0], r[1]] : undefined;
  }

  // ------------------------------------------------------------------------------------------------------
  // Networks

  /** z [n, L] -> (Dense -> [BatchNorm] -> LeakyReLU) per hidden width -> Dense(D, tanh|linear) -> dataShape. */
  private denseGenerator(init: LayerInit): tf.LayersModel {
    const c = this.config;
    const layers: tf.layers.Layer[] = [];
    let inputShape: number[] | undefined = [c.latentDim];
    let fanIn = c.latentDim;
    for (const units of c.generatorUnits) {
      layers.push(tf.layers.dense({ units, inputShape, useBias: !c.batchNorm, ...init(fanIn) }));
      inputShape = undefined;
      fanIn = units;
      if (c.batchNorm) layers.push(tf.layers.batchNormalization({ momentum: DEFAULTS.bnMomentum, epsilon: 1e-5 }));
      layers.push(tf.layers.leakyReLU({ alpha: c.leakySlope }));
    }
    layers.push(tf.layers.dense({ units: this.dataDim, inputShape, activation: c.outputActivation, ...init(fanIn) }));
    if (c.dataShape.length === 3) layers.push(tf.layers.reshape({ targetShape: c.dataShape }));
    return tf.sequential({ layers });
  }

  /** x -> (Dense -> LeakyReLU [-> dropout in training]) per hidden width -> Dense(1) logit. */
  private denseDiscriminator(init: LayerInit): tf.LayersModel {
    const c = this.config;
    const layers: tf.layers.Layer[] = [];
    if (c.dataShape.length === 3) layers.push(tf.layers.flatten({ inputShape: c.dataShape }));
    let inputShape: number[] | undefined = c.dataShape.length === 3 ? undefined : [this.dataDim];
    let fanIn = this.dataDim;
    for (const units of c.discriminatorUnits) {
      layers.push(tf.layers.dense({ units, inputShape, ...init(fanIn) }));
      inputShape = undefined;
      fanIn = units;
      layers.push(tf.layers.leakyReLU({ alpha: c.leakySlope }));
    }
    layers.push(tf.layers.dense({ units: 1, inputShape, ...init(fanIn) }));
    return tf.sequential({ layers });
  }

  /**
   * DCGAN generator for [h, w, c] images (h, w divisible by 4), with k = 5 kernels and units [F1, F2]:
   * z -> Dense(h/4 * w/4 * F1) -> BN -> LeakyReLU -> reshape [h/4, w/4, F1]
   *   -> ConvT(F2, k, stride 2) -> BN -> LeakyReLU   [h/2, w/2, F2]
   *   -> ConvT(c, k, stride 2) -> tanh|linear        [h, w, c]
   */
  private convGenerator(init: LayerInit): tf.LayersModel {
    const c = this.config;
    const [h, w, ch] = c.dataShape;
    const [f1, f2] = c.generatorUnits;
    const k = DEFAULTS.convKernel;
    const bn = (): tf.layers.Layer[] => (c.batchNorm ? [tf.layers.batchNormalization({ momentum: DEFAULTS.bnMomentum, epsilon: 1e-5 })] : []);
    return tf.sequential({
      layers: [
        tf.layers.dense({ units: (h / 4) * (w / 4) * f1, inputShape: [c.latentDim], useBias: !c.batchNorm, ...init(c.latentDim) }),
        ...bn(),
        tf.layers.leakyReLU({ alpha: c.leakySlope }),
        tf.layers.reshape({ targetShape: [h / 4, w / 4, f1] }),
        tf.layers.conv2dTranspose({ filters: f2, kernelSize: k, strides: 2, padding: 'same', useBias: !c.batchNorm, ...init(k * k * f2) }),
        ...bn(),
        tf.layers.leakyReLU({ alpha: c.leakySlope }),
        tf.layers.conv2dTranspose({ filters: ch, kernelSize: k, strides: 2, padding: 'same', activation: c.outputActivation, ...init(k * k * ch) }),
      ],
    });
  }

  /**
   * DCGAN discriminator with units [F1, F2]: x [h, w, c] -> Conv(F1, 5, stride 2) -> LeakyReLU [-> dropout]
   * -> Conv(F2, 5, stride 2) -> LeakyReLU [-> dropout] -> flatten -> Dense(1) logit.
   */
  private convDiscriminator(init: LayerInit): tf.LayersModel {
    const c = this.config;
    const [h, w, ch] = c.dataShape;
    const [f1, f2] = c.discriminatorUnits;
    const k = DEFAULTS.convKernel;
    return tf.sequential({
      layers: [
        tf.layers.conv2d({ filters: f1, kernelSize: k, strides: 2, padding: 'same', inputShape: c.dataShape, ...init(k * k * ch) }),
        tf.layers.leakyReLU({ alpha: c.leakySlope }),
        tf.layers.conv2d({ filters: f2, kernelSize: k, strides: 2, padding: 'same', ...init(k * k * f1) }),
        tf.layers.leakyReLU({ alpha: c.leakySlope }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 1, ...init((h / 4) * (w / 4) * f2) }),
      ],
    });
  }

  /** G(z) as flat `[n, D]` in the network's range; `training` uses batch statistics in BatchNorm (and updates the moving ones). */
  private generateT(z: tf.Tensor2D, training: boolean): tf.Tensor2D {
    const out = this.generator.apply(z, { training }) as tf.Tensor;
    return out.reshape([z.shape[0], this.dataDim]);
  }

  /**
   * D's logits `[n]` for flat `x` `[n, D]` in the network's range. In training, dropout follows every LeakyReLU with
   * masks drawn from `rng` (tfjs' own dropout layer is either unseeded or repeats one mask).
   */
  private logitsT(x: tf.Tensor2D, rng: Random | null): tf.Tensor1D {
    const n = x.shape[0];
    const training = rng !== null;
    let h: tf.Tensor = this.config.dataShape.length === 3 ? x.reshape([n, ...this.config.dataShape]) : x;
    const p = this.config.dropout;
    for (const layer of this.discriminator.layers) {
      h = layer.apply(h, { training }) as tf.Tensor;
      if (rng && p > 0 && layer.getClassName() === 'LeakyReLU') {
        const u = tf.tensor(rng.uniformArray(h.size), h.shape); //                     U(0, 1), one per unit
        h = h.mul(u.greaterEqual(p).toFloat().div(1 - p)); //                            inverted dropout
      }
    }
    return h.reshape([n]);
  }

  /** z ~ p(z), `[n, L]`. */
  private latentT(n: number, rng: Random): tf.Tensor2D {
    const L = this.latentDim;
    if (this.config.latent === 'uniform') {
      return tf.tensor2d(rng.uniformArray(n * L).map((u) => 2 * u - 1), [n, L]);
    }
    return tf.tensor2d(rng.normalArray(n * L), [n, L]);
  }

  /** User data -> the network's range (tanh: dataRange onto [-1, 1]); `x` itself when no map applies. */
  private toNet<T extends tf.Tensor>(x: T): T {
    const r = this.config.dataRange;
    return r && this.config.outputActivation === 'tanh' ? rescale(x, r, TANH_RANGE) : x;
  }

  /** The network's range -> the user's (the inverse of {@link GAN.toNet}). */
  private fromNet<T extends tf.Tensor>(y: T): T {
    const r = this.config.dataRange;
    return r && this.config.outputActivation === 'tanh' ? rescale(y, TANH_RANGE, r) : y;
  }

  // ------------------------------------------------------------------------------------------------------
  // Training

  /**
   * D's loss -V on logits of reals `lr` and fakes `lf` (sums over the rows, not means; s = label smoothing):
   * BCE(sigmoid(l), s) = softplus(l) - s l on the reals, BCE(sigmoid(l), 0) = softplus(l) on the fakes.
   */
  private dLossSums(lr: tf.Tensor1D, lf: tf.Tensor1D): { real: tf.Scalar; fake: tf.Scalar } {
    const s = this.config.labelSmoothing;
    return { real: tf.softplus(lr).sub(lr.mul(s)).sum(), fake: tf.softplus(lf).sum() };
  }

  /**
   * Trains G and D on `x` (see the module comment for the losses) through genlab's training loop: one tidy-wrapped
   * step per batch, `discriminatorSteps` D updates then `generatorSteps` G updates, each network with its own Adam
   * (beta1 0.5, beta2 0.999).
   *
   * Resuming: a second `fit` continues the first -- epoch numbers go on, both Adam optimisers keep their moments
   * (while the learning rate is unchanged) and the training random stream continues. `reset: true` starts afresh
   * (new optimisers, epoch counter 0; the weights, the BatchNorm statistics and the average are kept). A fit that
   * diverges (a NaN loss or weight) throws and leaves the model as after its last finite epoch.
   * @param x Training data `[n, D]` (image models: or `[n, h, w, c]`), finite, in `dataRange` (the first fit sets
   *   it when it was not given and the output is tanh).
   * @returns The {@link GANHistory}: per-epoch means of dLoss, gLoss, dReal = mean D(x), dFake = mean D(G(z)).
   */
  async fit(x: tf.Tensor, opts: GANFitOptions = {}): Promise<GANHistory> {
    await ready();
    this.assertAlive();
    assertKnownOptions('GAN.fit', opts, GAN_FIT_KEYS);
    const batchSize = opts.batchSize ?? DEFAULTS.batchSize;
    assertPositiveInteger('batchSize', batchSize);
    const { reset } = resolveLoopOptions('GAN.fit', opts);
    const kD = opts.discriminatorSteps ?? 1;
    assertPositiveInteger('discriminatorSteps', kD);
    const kG = opts.generatorSteps ?? 1;
    assertNonNegativeInteger('generatorSteps', kG);
    if (opts.seed !== undefined) assertFiniteNumber('seed', opts.seed);
    const tanh = this.config.outputActivation === 'tanh';
    const data = this.checkData('x', x, this.config.dataRange);
    let val: FlatData | null = null;
    try {
      const small = isSmallVector(this.dataShape);
      const { epochs, learningRate } = resolveFitOptions(opts, {
        // low-dimensional vectors: a budget of steps, so that 2000 and 8000 points both converge
        epochs: small ? epochsForSteps(DEFAULTS.vector.steps, data.x.shape[0], batchSize) : DEFAULTS.course.epochs,
        batchSize,
        learningRate: this.architecture === 'conv' ? DEFAULTS.conv.learningRate : small ? DEFAULTS.vector.learningRate : DEFAULTS.course.learningRate,
      });
      // a tanh GAN without a dataRange takes it from its first fit's data (kept once every check has passed)
      const range = this.config.dataRange ?? (tanh ? observedRange(data.x) : null);
      if (opts.validation !== undefined) val = this.checkData('validation', opts.validation, range);
      if (tanh) this.config.dataRange = range;

      if (reset) this.training.reset();
      const rng = this.training.generator(opts.seed, () => this.rng.fork());
      const optD = this.training.adam(learningRate, DEFAULTS.adamEpsilon, DEFAULTS.betas, 'adamD');
      const optG = this.training.adam(learningRate, DEFAULTS.adamEpsilon, DEFAULTS.betas, 'adamG');
      const dVars = trainableVariables(this.discriminator);
      const gVars = trainableVariables(this.generator);
      const minimax = this.config.loss === 'minimax';
      const history = await this.fitLoop(opts, {
        x: data.x,
        epochs,
        batchSize,
        rng,
        metricNames: ['dLoss', 'gLoss', 'dReal', 'dFake'],
        learningRate,
        step: (batch, size) => {
          const xb = this.toNet(batch); //                                                    [b, D], network range
          let dSum: tf.Tensor = tf.zeros([3]); //                                      [dLoss, dReal, dFake] summed
          for (let i = 0; i < kD; i++) {
            const fake = this.generateT(this.latentT(size, rng), true); //                            [b, D]
            const m = gradientStep(optD, dVars, () => {
              const lr = this.logitsT(xb, rng); //                                                      [b]
              const lf = this.logitsT(fake, rng); //                                                    [b]
              const { real, fake: fakeLoss } = this.dLossSums(lr, lf);
              const loss = real.add(fakeLoss).div(size) as tf.Scalar;
              return [loss, tf.stack([loss, tf.sigmoid(lr).mean(), tf.sigmoid(lf).mean()])];
            });
            const next = dSum.add(m);
            m.dispose();
            dSum = next;
          }
          let gSum: tf.Tensor = tf.scalar(kG === 0 ? NaN : 0);
          for (let i = 0; i < kG; i++) {
            const z = this.latentT(size, rng);
            const m = gradientStep(optG, gVars, () => {
              const lf = this.logitsT(this.generateT(z, true), rng); //                                [b]
              // non-saturating: -log sigmoid(l) = softplus(-l);  minimax: log(1 - sigmoid(l)) = -softplus(l)
              const loss = (minimax ? tf.softplus(lf).neg().mean() : tf.softplus(lf.neg()).mean()) as tf.Scalar;
              return [loss, loss];
            });
            gSum = gSum.add(m);
            m.dispose(); // kept by gradientStep past the step's tidy
          }
          if (kG > 0) this.average?.update();
          const d = dSum.div(kD);
          const g = gSum.div(Math.max(kG, 1)).reshape([1]);
          return tf.concat([d.slice(0, 1), g, d.slice(1, 2)]); //                  [dLoss, gLoss, dReal, dFake]
        },
        validationData: val?.x,
        validate: (v) => this.heldOutScores(v, this.rng.fork()),
      });
      return history as GANHistory;
    } finally {
      if (data.owned) data.x.dispose();
      if (val?.owned) val.x.dispose();
    }
  }

  /**
   * D on held-out reals `x` (flat, the user's range) and as many fresh fakes, both in inference mode: its loss -V
   * (as in training) and its mean D(x) on the reals. Scored in chunks, read once.
   */
  private async heldOutScores(x: tf.Tensor2D, rng: Random): Promise<{ dLoss: number; dReal: number }> {
    const n = x.shape[0];
    let sums: tf.Tensor = tf.zeros([2]); //                                            [loss sum, D(x) sum]
    for (let start = 0; start < n; start += DEFAULTS.validationChunk) {
      const size = Math.min(DEFAULTS.validationChunk, n - start);
      const next = tf.tidy(() => {
        const lr = this.logitsT(this.toNet(x.slice([start, 0], [size, this.dataDim])), null); //           [m]
        const lf = this.logitsT(this.generateT(this.latentT(size, rng), false), null); //                  [m]
        const { real, fake } = this.dLossSums(lr, lf);
        return sums.add(tf.stack([real.add(fake), tf.sigmoid(lr).sum()]));
      });
      sums.dispose();
      sums = next;
    }
    const [loss, dReal] = await sums.data();
    sums.dispose();
    return { dLoss: loss / n, dReal: dReal / n };
  }

  // ------------------------------------------------------------------------------------------------------
  // Sampling and scoring

  /**
   * Draws z from p(z): `[n, L]` (caller disposes). Pass the result to {@link GAN.sample} every epoch to watch
   * the same latent points as training proceeds.
   * @param seed Seed of the draws; default: the model's stream.
   */
  sampleLatent(n: number, seed?: number): tf.Tensor2D {
    this.assertAlive();
    assertPositiveInteger('n', n);
    if (seed !== undefined) assertFiniteNumber('seed', seed);
    return this.latentT(n, seed === undefined ? this.rng.fork() : new Random(seed));
  }

  /**
   * Samples G(z) in inference mode (BatchNorm with its moving statistics; the averaged G with `generatorAverage`),
   * mapped back to the data's range ({@link GAN.dataRange}): `[n, ...dataShape]` (caller disposes).
   * @param n Number of samples (must equal z's rows when `z` is given).
   */
  async sample(n: number, opts: GANSampleOptions = {}): Promise<BatchTensor<S>> {
    await ready();
    this.assertAlive();
    assertKnownOptions('GAN.sample', opts, SAMPLE_KEYS);
    assertPositiveInteger('n', n);
    let z: tf.Tensor2D;
    if (opts.z !== undefined) {
      assertMatrix('z', opts.z, { width: this.latentDim });
      if (opts.z.shape[0] !== n) throw new RangeError(`z must have n = ${n} rows; got shape [${opts.z.shape.join(', ')}]`);
      z = opts.z;
    } else {
      z = this.sampleLatent(n, opts.seed);
    }
    try {
      const draw = () => tf.tidy(() => this.fromNet(this.generateT(z, false)).reshape([n, ...this.dataShape])) as BatchTensor<S>;
      return this.average ? this.average.use(draw) : draw();
    } finally {
      if (z !== opts.z) z.dispose();
    }
  }

  /**
   * D(x) = sigmoid(logit) in inference mode (no dropout): `[n]` probabilities that x is real (caller disposes).
   * @param x Data `[n, D]` (image models: or `[n, h, w, c]`) in the data's range, like `fit`'s.
   */
  discriminate(x: tf.Tensor): tf.Tensor1D {
    this.assertAlive();
    const data = flattenData('x', x, this.dataShape, { finite: false });
    try {
      return tf.tidy(() => tf.sigmoid(this.logitsT(this.toNet(data.x), null)));
    } finally {
      if (data.owned) data.x.dispose();
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // Files

  /**
   * Saves both networks (with BatchNorm statistics, and G's average with its step count) and the configuration
   * (with `dataRange`) to `dir` atomically (lib/core/checkpoint.ts).
   */
  async save(dir: string): Promise<void> {
    this.assertAlive();
    const tensors = networkTensors(this.networks());
    await saveCheckpoint(dir, { kind: 'GAN', config: this.config as unknown as JsonValue, tensors });
  }

  /** Loads a model written by {@link GAN.save}; refuses missing, corrupted or mismatched checkpoints. */
  static async load(dir: string): Promise<GAN> {
    return GAN.loadCheckpointed(
      dir,
      'GAN',
      (config) => {
        const c = config as unknown as GANConfig;
        return new GAN({ ...c, dataRange: c.dataRange ?? undefined });
      },
      (gan, tensors) => {
        const nets = gan.networks();
        // checkpoints written before the average's step count was saved: the count starts again at 0
        if (!('generatorAverageSteps/0' in tensors)) delete nets.generatorAverageSteps;
        restoreNetworks(dir, tensors, nets);
      },
    );
  }

  /** Every variable of G and D (weights, biases, BatchNorm moving statistics) and G's average with its step count. */
  protected variables(): tf.Variable[] {
    const own = [this.generator, this.discriminator].flatMap((m) => m.weights.map((w) => w.read() as tf.Variable));
    return this.average ? [...own, ...this.average.variables] : own;
  }

  /** Frees both networks and the average (the optimisers go with the training state). */
  protected release(): void {
    // fields are undefined when the constructor threw part-way
    this.generator?.dispose();
    this.discriminator?.dispose();
    this.average?.dispose();
  }

  /** What a checkpoint holds: G, D and (when averaging) G's average and its step count, as weight sets. */
  private networks(): Record<string, WeightSet> {
    const nets: Record<string, WeightSet> = { generator: this.generator, discriminator: this.discriminator };
    return this.average ? { ...nets, ...this.average.weightSets('generatorAverage') } : nets;
  }

  /**
   * A short description with the defaults resolved, e.g. `dense G 100-256-512-1024-784 D 784-1024-512-256-1
   * non-saturating` (the course's), `dense G 2-128-128-2 linear D 2-128-128-1 non-saturating average 0.999` (the
   * default for points in the plane); `data in [lo, hi]` once the range is known (given, or taken by the first fit).
   */
  describe(): string {
    const c = this.config;
    const smooth = (c.labelSmoothing < 1 ? ` smoothing ${c.labelSmoothing}` : '') + (c.generatorAverage > 0 ? ` average ${c.generatorAverage}` : '');
    const range = rangeText(c.dataRange);
    const linear = c.outputActivation === 'linear' ? ' linear' : '';
    if (c.architecture === 'conv') {
      return `conv ${c.dataShape.join('x')} G [${c.generatorUnits.join(',')}]${linear} D [${c.discriminatorUnits.join(',')}] ${c.loss}${smooth}${range}`;
    }
    const g = [c.latentDim, ...c.generatorUnits, this.dataDim].join('-') + linear;
    const d = [this.dataDim, ...c.discriminatorUnits, 1].join('-');
    return `dense G ${g} D ${d} ${c.loss}${smooth}${range}`;
  }

  // ------------------------------------------------------------------------------------------------------
  // Helpers

  /**
   * Checks training data (shape, finite, within `range` when one is known) and returns it flat `[n, D]`; an
   * out-of-range error names dataRange.
   */
  private checkData(name: string, x: unknown, range: DataRange | null): FlatData {
    const rangeHint = range
      ? `the GAN's dataRange is [${range[0]}, ${range[1]}] (given to the constructor, or taken from the first fit's data): ` +
        'pass data in that range, or build the GAN with a dataRange that covers them'
      : undefined;
    return flattenData(name, x, this.dataShape, { finite: true, range: range ?? undefined, rangeHint });
  }
}
