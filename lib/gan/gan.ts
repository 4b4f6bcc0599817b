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
 * samples as speckle. The warm-up d_t (TensorFlow's ExponentialMovingAverage with num_updates) keeps the average
 * from remembering the random initial weights in short runs. The game itself trains on the current weights.
 */
import { ready, tf } from '../engine/backend';
import { trackDisposable } from '../engine/scope';
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
import { gradientStep, resolveFitOptions, runEpochs, trainableVariables } from '../train/loop';
import { fusedAdam } from '../engine/fused-adam';
import { JsonValue, loadCheckpoint, saveCheckpoint } from '../core/checkpoint';
import { networkTensors, restoreOrDispose } from '../core/network-weights';


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
  /** Dimension L of z, integer >= 1. Default 100 (the course). */
  latentDim?: number;
  /** `'dense'` (default: MLPs) or `'conv'` (DCGAN-style pair for images such as 28x28 digits). */
  architecture?: 'dense' | 'conv';
  /**
   * Dense: hidden widths of G, first to last. Default `[256, 512, 1024]` (the course). Conv: channels of the
   * 1/4- and 1/2-resolution feature maps, default `[128, 64]` (G: dense -> 7x7x128 -> 14x14x64 -> 28x28xc).
   */
  generatorUnits?: number[];
  /**
   * Dense: hidden widths of D, first to last. Default `[1024, 512, 256]` (the course). Conv: channels of D's two
   * stride-2 5x5 convolutions, default `[64, 128]`.
   */
  discriminatorUnits?: number[];
  /** G's output activation: `'tanh'` (default; data in [-1, 1], the course) or `'linear'` (any real data). */
  outputActivation?: 'tanh' | 'linear';
  /** BatchNorm after each hidden layer of G (momentum 0.9, i.e. PyTorch's 0.1). Default true (the course). */
  batchNorm?: boolean;
  /** Dropout rate after each hidden layer of D, in [0, 1). Default 0.3 (the course) dense, 0.3 conv. */
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
   * early in training (bench/quality/RESULTS-gan.md). Default 0 (the course does not average).
   */
  generatorAverage?: number;
  /** Seed of the weights, shuffling, z draws and dropout masks. Default: random. */
  seed?: number;
}
/** The keys of {@link GANOptions} (checked by the compiler against the interface). */
const GAN_OPTION_KEYS = optionKeys<GANOptions>({
  dataShape: true, latentDim: true, architecture: true, generatorUnits: true, discriminatorUnits: true,
  outputActivation: true, batchNorm: true, dropout: true, leakySlope: true, loss: true, labelSmoothing: true,
  latent: true, generatorAverage: true, seed: true,
});

/** Options for {@link GAN.fit}. */
export interface GANFitOptions {
  /** Passes over the data. Integer >= 1. Default 20 (the course). */
  epochs?: number;
  /** Real examples per step (and as many fakes). Integer >= 1, capped at n. Default 128 (the course). */
  batchSize?: number;
  /**
   * Adam step size of both networks, > 0. Default per architecture: 2e-4 for conv (DCGAN's); 2e-4 for dense too,
   * measured on the 8-Gaussian ring with 100 epochs (bench/quality/RESULTS-gan.md: 8/8 modes for 3 of 3 seeds,
   * against 5, 5 and 8 at 1e-3). 1e-3 gets further in short runs (30 epochs: 4 modes against 1 at 2e-4) but
   * keeps hopping between modes. The course's MNIST dense GAN also uses 2e-4.
   */
  learningRate?: number;
  /** D updates per step (same real batch, fresh z each). Integer >= 1. Default 1. */
  discriminatorSteps?: number;
  /** G updates per step. Integer >= 0; 0 freezes G (trains D alone, e.g. towards D*). Default 1. */
  generatorSteps?: number;
  /** Reshuffle the data every epoch (seeded). Default true. */
  shuffle?: boolean;
  /** Called after every epoch with that epoch's means (awaited if it returns a promise). */
  onEpoch?: (epoch: number, logs: GANEpochLogs) => void | Promise<void>;
  /** `'auto'` (default): live bar in a notebook, one line per epoch in a terminal; `false`: silent. */
  progress?: 'auto' | false;
}
/** The keys of {@link GANFitOptions}. */
const GAN_FIT_KEYS = optionKeys<GANFitOptions>({
  epochs: true, batchSize: true, learningRate: true, discriminatorSteps: true, generatorSteps: true, shuffle: true,
  onEpoch: true, progress: true,
});

/** One epoch's means over its batches (D figures from the D steps, in training mode). */
export interface GANEpochLogs {
  /** D's loss -V(G, D) in nats (BCE on reals + BCE on fakes); log 4 = 1.386 at equilibrium without smoothing. */
  dLoss: number;
  /** G's loss (see {@link GANLoss}); NaN when `generatorSteps` is 0. */
  gLoss: number;
  /** Mean D(x) on the real batches. */
  dReal: number;
  /** Mean D(G(z)) on the fakes of the D steps. */
  dFake: number;
}

/** What {@link GAN.fit} returns: one entry per epoch (plus `epoch` and `seconds` when the loop records them). */
export interface GANHistory {
  dLoss: number[];
  gLoss: number[];
  dReal: number[];
  dFake: number[];
  [metric: string]: number[];
}

/** Options for {@link GAN.sample}. */
export interface GANSampleOptions {
  /** Latent points `[n, L]` to map (e.g. a fixed grid reused every epoch); default: fresh draws from p(z). */
  z?: tf.Tensor;
  /** Seed of the z draws when `z` is not given. Default: the model's stream. */
  seed?: number;
}
const SAMPLE_KEYS = optionKeys<GANSampleOptions>({ z: true, seed: true });

const DEFAULTS = {
  latentDim: 100,
  dense: { generatorUnits: [256, 512, 1024], discriminatorUnits: [1024, 512, 256], learningRate: 2e-4 },
  conv: { generatorUnits: [128, 64], discriminatorUnits: [64, 128], learningRate: 2e-4 },
  dropout: 0.3,
  leakySlope: 0.2,
  epochs: 20,
  batchSize: 128,
  beta1: 0.5,
  beta2: 0.999,
  adamEpsilon: 1e-8,
  bnMomentum: 0.9,
  convKernel: 5,
};

interface GANConfig {
  dataShape: number[];
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

/**
 * A GAN. The course's dense MNIST model: `new GAN({ dataShape: [784], latentDim: 100, labelSmoothing: 0.9,
 * seed: 1 })` (G 100-256-512-1024-784 tanh with BatchNorm and LeakyReLU; D 784-1024-512-256-1 with dropout 0.3),
 * trained with `fit(x)` (Adam 2e-4, batch 128, 20 epochs) on data in [-1, 1]. A DCGAN for digits: `new GAN({ dataShape:
 * [28, 28, 1], architecture: 'conv', seed: 1 })`.
 *
 * Data are `[n, D]` tensors (image models also take `[n, h, w, c]`); samples come back as `[n, ...dataShape]`.
 */
export class GAN<S extends DataShape = DataShape> {
  /** G: `[n, L]` -> `[n, ...dataShape]` (tanh or linear output). */
  readonly generator: tf.LayersModel;
  /** D without its dropout: `[n, ...dataShape]` -> logits `[n, 1]` (D(x) = sigmoid(logit)). */
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
  private optD: tf.Optimizer | null = null;
  private optG: tf.Optimizer | null = null;
  private optRate = NaN;
  /** The moving average of G's weights (`generator.getWeights()` order), or null when `generatorAverage` is 0. */
  private readonly average: tf.Variable[] | null;
  /** Updates the average has had (t in the module comment). */
  private averageSteps = 0;
  private disposed = false;

  constructor(opts: GANOptions<S>) {
    if (opts === null || typeof opts !== 'object') throw new TypeError(`opts must be an object; got ${describeValue(opts)}`);
    assertKnownOptions('GAN', opts, GAN_OPTION_KEYS);
    const architecture = opts.architecture ?? 'dense';
    assertOneOf('architecture', architecture, ['dense', 'conv'] as const);
    const shape = opts.dataShape;
    if (!Array.isArray(shape) || (shape.length !== 1 && shape.length !== 3)) {
      throw new RangeError(`dataShape must be [D] or [height, width, channels]; got ${describeValue(shape)}`);
    }
    shape.forEach((d, i) => assertPositiveInteger(`dataShape[${i}]`, d));
    if (architecture === 'conv' && (shape.length !== 3 || shape[0] % 4 !== 0 || shape[1] % 4 !== 0)) {
      throw new RangeError(`a conv GAN needs dataShape [h, w, c] with h and w divisible by 4; got [${shape.join(', ')}]`);
    }
    const latentDim = opts.latentDim ?? DEFAULTS.latentDim;
    assertPositiveInteger('latentDim', latentDim);
    const arch = DEFAULTS[architecture];
    const generatorUnits = opts.generatorUnits ?? [...arch.generatorUnits];
    const discriminatorUnits = opts.discriminatorUnits ?? [...arch.discriminatorUnits];
    checkUnits('generatorUnits', generatorUnits, architecture === 'conv' ? 2 : undefined);
    checkUnits('discriminatorUnits', discriminatorUnits, architecture === 'conv' ? 2 : undefined);
    const outputActivation = opts.outputActivation ?? 'tanh';
    assertOneOf('outputActivation', outputActivation, ['tanh', 'linear'] as const);
    const batchNorm = opts.batchNorm ?? true;
    if (typeof batchNorm !== 'boolean') throw new TypeError(`batchNorm must be true or false; got ${describeValue(batchNorm)}`);
    const dropout = opts.dropout ?? DEFAULTS.dropout;
    assertFiniteNumber('dropout', dropout, { min: 0, max: 1, exclusiveMax: true });
    const leakySlope = opts.leakySlope ?? DEFAULTS.leakySlope;
    assertFiniteNumber('leakySlope', leakySlope, { min: 0 });
    const loss = opts.loss ?? 'non-saturating';
    assertOneOf('loss', loss, LOSSES);
    const labelSmoothing = opts.labelSmoothing ?? 1;
    assertFiniteNumber('labelSmoothing', labelSmoothing, { min: 0, max: 1, exclusiveMin: true });
    const latent = opts.latent ?? 'normal';
    assertOneOf('latent', latent, LATENTS);
    const generatorAverage = opts.generatorAverage ?? 0;
    assertFiniteNumber('generatorAverage', generatorAverage, { min: 0, max: 1, exclusiveMax: true });
    if (opts.seed !== undefined) assertFiniteNumber('seed', opts.seed);
    const rng = new Random(opts.seed);

    this.dataShape = [...shape];
    this.dataDim = shape.reduce((a, b) => a * b, 1);
    this.latentDim = latentDim;
    this.architecture = architecture;
    this.config = {
      dataShape: [...shape], latentDim, architecture, generatorUnits, discriminatorUnits, outputActivation, batchNorm,
      dropout, leakySlope, loss, labelSmoothing, latent, generatorAverage, seed: rng.seed,
    };
    const gSeed = new Random(rng.seedInt());
    const dSeed = new Random(rng.seedInt());
    this.rng = rng;
    this.generator = architecture === 'conv' ? this.convGenerator(gSeed) : this.denseGenerator(gSeed);
    try {
      this.discriminator = architecture === 'conv' ? this.convDiscriminator(dSeed) : this.denseDiscriminator(dSeed);
    } catch (e) {
      this.generator.dispose();
      throw e;
    }
    // the average starts at the initial weights (the warm-up forgets them within a few steps)
    this.average = generatorAverage > 0 ? this.generator.getWeights().map((w) => tf.variable(w, false)) : null;
    trackDisposable(this); // an enclosing genlab scope() frees the model unless it is returned
  }

  // ------------------------------------------------------------------------------------------------------
  // Networks

  /** z [n, L] -> (Dense -> [BatchNorm] -> LeakyReLU) per hidden width -> Dense(D, tanh|linear) -> dataShape. */
  private denseGenerator(rng: Random): tf.LayersModel {
    const c = this.config;
    const layers: tf.layers.Layer[] = [];
    let inputShape: number[] | undefined = [c.latentDim];
    for (const units of c.generatorUnits) {
      layers.push(tf.layers.dense({ units, inputShape, useBias: !c.batchNorm, ...glorot(rng) }));
      inputShape = undefined;
      if (c.batchNorm) layers.push(tf.layers.batchNormalization({ momentum: DEFAULTS.bnMomentum, epsilon: 1e-5 }));
      layers.push(tf.layers.leakyReLU({ alpha: c.leakySlope }));
    }
    layers.push(tf.layers.dense({ units: this.dataDim, inputShape, activation: c.outputActivation, ...glorot(rng) }));
    if (c.dataShape.length === 3) layers.push(tf.layers.reshape({ targetShape: c.dataShape }));
    return tf.sequential({ layers });
  }

  /** x -> (Dense -> LeakyReLU [-> dropout in training]) per hidden width -> Dense(1) logit. */
  private denseDiscriminator(rng: Random): tf.LayersModel {
    const c = this.config;
    const layers: tf.layers.Layer[] = [];
    if (c.dataShape.length === 3) layers.push(tf.layers.flatten({ inputShape: c.dataShape }));
    let inputShape: number[] | undefined = c.dataShape.length === 3 ? undefined : [this.dataDim];
    for (const units of c.discriminatorUnits) {
      layers.push(tf.layers.dense({ units, inputShape, ...glorot(rng) }));
      inputShape = undefined;
      layers.push(tf.layers.leakyReLU({ alpha: c.leakySlope }));
    }
    layers.push(tf.layers.dense({ units: 1, inputShape, ...glorot(rng) }));
    return tf.sequential({ layers });
  }

  /**
   * DCGAN generator for [h, w, c] images (h, w divisible by 4), with k = 5 kernels and units [F1, F2]:
   * z -> Dense(h/4 * w/4 * F1) -> BN -> LeakyReLU -> reshape [h/4, w/4, F1]
   *   -> ConvT(F2, k, stride 2) -> BN -> LeakyReLU   [h/2, w/2, F2]
   *   -> ConvT(c, k, stride 2) -> tanh|linear        [h, w, c]
   */
  private convGenerator(rng: Random): tf.LayersModel {
    const c = this.config;
    const [h, w, ch] = c.dataShape;
    const [f1, f2] = c.generatorUnits;
    const k = DEFAULTS.convKernel;
    const bn = (): tf.layers.Layer[] => (c.batchNorm ? [tf.layers.batchNormalization({ momentum: DEFAULTS.bnMomentum, epsilon: 1e-5 })] : []);
    return tf.sequential({
      layers: [
        tf.layers.dense({ units: (h / 4) * (w / 4) * f1, inputShape: [c.latentDim], useBias: !c.batchNorm, ...glorot(rng) }),
        ...bn(),
        tf.layers.leakyReLU({ alpha: c.leakySlope }),
        tf.layers.reshape({ targetShape: [h / 4, w / 4, f1] }),
        tf.layers.conv2dTranspose({ filters: f2, kernelSize: k, strides: 2, padding: 'same', useBias: !c.batchNorm, ...glorot(rng) }),
        ...bn(),
        tf.layers.leakyReLU({ alpha: c.leakySlope }),
        tf.layers.conv2dTranspose({ filters: ch, kernelSize: k, strides: 2, padding: 'same', activation: c.outputActivation, ...glorot(rng) }),
      ],
    });
  }

  /**
   * DCGAN discriminator with units [F1, F2]: x [h, w, c] -> Conv(F1, 5, stride 2) -> LeakyReLU [-> dropout]
   * -> Conv(F2, 5, stride 2) -> LeakyReLU [-> dropout] -> flatten -> Dense(1) logit.
   */
  private convDiscriminator(rng: Random): tf.LayersModel {
    const c = this.config;
    const [f1, f2] = c.discriminatorUnits;
    const k = DEFAULTS.convKernel;
    return tf.sequential({
      layers: [
        tf.layers.conv2d({ filters: f1, kernelSize: k, strides: 2, padding: 'same', inputShape: c.dataShape, ...glorot(rng) }),
        tf.layers.leakyReLU({ alpha: c.leakySlope }),
        tf.layers.conv2d({ filters: f2, kernelSize: k, strides: 2, padding: 'same', ...glorot(rng) }),
        tf.layers.leakyReLU({ alpha: c.leakySlope }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 1, ...glorot(rng) }),
      ],
    });
  }

  /** G(z) as flat `[n, D]`; `training` uses batch statistics in BatchNorm (and updates the moving ones). */
  private generateT(z: tf.Tensor2D, training: boolean): tf.Tensor2D {
    const out = this.generator.apply(z, { training }) as tf.Tensor;
    return out.reshape([z.shape[0], this.dataDim]);
  }

  /**
   * D's logits `[n]` for flat `x` `[n, D]`. In training, dropout follows every LeakyReLU with masks from the
   * model's seeded stream (tfjs' own dropout layer is either unseeded or repeats one mask).
   */
  private logitsT(x: tf.Tensor2D, training: boolean): tf.Tensor1D {
    const n = x.shape[0];
    let h: tf.Tensor = this.config.dataShape.length === 3 ? x.reshape([n, ...this.config.dataShape]) : x;
    const p = this.config.dropout;
    for (const layer of this.discriminator.layers) {
      h = layer.apply(h, { training }) as tf.Tensor;
      if (training && p > 0 && layer.getClassName() === 'LeakyReLU') {
        const size = h.size;
        const u = tf.tensor(this.rng.uniformArray(size), h.shape); //                   U(0, 1), one per unit
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

  // ------------------------------------------------------------------------------------------------------
  // Training

  /**
   * Trains G and D on `x` (see the module comment for the losses). One tidy-wrapped step per batch:
   * `discriminatorSteps` D updates then `generatorSteps` G updates. Throws if dLoss becomes NaN or infinite.
   * @param x Training data `[n, D]` (image models: or `[n, h, w, c]`); with a tanh output, values in [-1, 1].
   * @returns Per-epoch means of dLoss, gLoss, dReal = mean D(x), dFake = mean D(G(z)).
   */
  async fit(x: tf.Tensor, opts: GANFitOptions = {}): Promise<GANHistory> {
    await ready();
    this.assertAlive();
    assertKnownOptions('GAN.fit', opts, GAN_FIT_KEYS);
    const { epochs, batchSize, learningRate } = resolveFitOptions(opts, {
      epochs: DEFAULTS.epochs,
      batchSize: DEFAULTS.batchSize,
      learningRate: DEFAULTS[this.architecture].learningRate,
    });
    const kD = opts.discriminatorSteps ?? 1;
    assertPositiveInteger('discriminatorSteps', kD);
    const kG = opts.generatorSteps ?? 1;
    assertNonNegativeInteger('generatorSteps', kG);
    const data = this.toFlat('x', x, true);
    this.setOptimizers(learningRate);
    const optD = this.optD!;
    const optG = this.optG!;
    const dVars = trainableVariables(this.discriminator);
    const gVars = trainableVariables(this.generator);
    const s = this.config.labelSmoothing;
    const minimax = this.config.loss === 'minimax';
    let history: Record<string, number[]>;
    try {
      history = await runEpochs({
        x: data.x,
        epochs,
        batchSize,
        shuffle: opts.shuffle !== false,
        rng: this.rng,
        title: `GAN ${this.describe()}`,
        progress: opts.progress ?? 'auto',
        metricNames: ['dLoss', 'gLoss', 'dReal', 'dFake'],
        caller: 'GAN.fit',
        learningRate,
        step: (xb, size) => {
          let dSum: tf.Tensor = tf.zeros([3]); //                                      [dLoss, dReal, dFake] summed
          for (let i = 0; i < kD; i++) {
            const fake = this.generateT(this.latentT(size, this.rng), true); //                        [b, D]
            const m = gradientStep(optD, dVars, () => {
              const lr = this.logitsT(xb, true); //                                                     [b]
              const lf = this.logitsT(fake, true); //                                                   [b]
              // BCE(sigmoid(l), s) = softplus(l) - s l;  BCE(sigmoid(l), 0) = softplus(l)
              const lossReal = tf.softplus(lr).sub(lr.mul(s)).mean();
              const lossFake = tf.softplus(lf).mean();
              const loss = lossReal.add(lossFake) as tf.Scalar;
              return [loss, tf.stack([loss, tf.sigmoid(lr).mean(), tf.sigmoid(lf).mean()])];
            });
            const next = dSum.add(m);
            m.dispose();
            dSum = next;
          }
          let gSum: tf.Tensor = tf.scalar(kG === 0 ? NaN : 0);
          for (let i = 0; i < kG; i++) {
            const z = this.latentT(size, this.rng);
            const m = gradientStep(optG, gVars, () => {
              const lf = this.logitsT(this.generateT(z, true), true); //                               [b]
              // non-saturating: -log sigmoid(l) = softplus(-l);  minimax: log(1 - sigmoid(l)) = -softplus(l)
              const loss = (minimax ? tf.softplus(lf).neg().mean() : tf.softplus(lf.neg()).mean()) as tf.Scalar;
              return [loss, loss];
            });
            gSum = gSum.add(m);
            m.dispose(); // kept by gradientStep past the step's tidy
          }
          if (kG > 0) this.updateAverage();
          const d = dSum.div(kD);
          const g = gSum.div(Math.max(kG, 1)).reshape([1]);
          return tf.concat([d.slice(0, 1), g, d.slice(1, 2)]); //                  [dLoss, gLoss, dReal, dFake]
        },
        onEpoch: opts.onEpoch as ((epoch: number, logs: Record<string, number>) => void | Promise<void>) | undefined,
      });
    } finally {
      if (data.owned) data.x.dispose();
    }
    return history as GANHistory;
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
   * Samples G(z) in inference mode (BatchNorm with its moving statistics): `[n, ...dataShape]` (caller disposes).
   * @param n Number of samples (must equal z's rows when `z` is given).
   */
  sample(n: number, opts: GANSampleOptions = {}): BatchTensor<S> {
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
      return this.withAverage(() => tf.tidy(() => this.generateT(z, false).reshape([n, ...this.dataShape]))) as BatchTensor<S>;
    } finally {
      if (z !== opts.z) z.dispose();
    }
  }

  /** w_avg <- d_t w_avg + (1 - d_t) w over all of G's weights (BatchNorm statistics too); no-op without averaging. */
  private updateAverage(): void {
    if (!this.average) return;
    const t = this.averageSteps++;
    const d = Math.min(this.config.generatorAverage, (1 + t) / (10 + t));
    const w = this.generator.getWeights();
    tf.tidy(() => this.average!.forEach((a, i) => a.assign(a.mul(d).add(w[i].mul(1 - d)))));
  }

  /** Runs `f` with G's weights swapped for their average (when averaging), then puts the current ones back. */
  private withAverage<T>(f: () => T): T {
    if (!this.average) return f();
    const current = this.generator.getWeights().map((w) => w.clone());
    this.generator.setWeights(this.average);
    try {
      return f();
    } finally {
      this.generator.setWeights(current);
      tf.dispose(current);
    }
  }

  /** D(x) = sigmoid(logit) in inference mode (no dropout): `[n]` probabilities that x is real (caller disposes). */
  discriminate(x: tf.Tensor): tf.Tensor1D {
    this.assertAlive();
    const data = this.toFlat('x', x, false);
    try {
      return tf.tidy(() => tf.sigmoid(this.logitsT(data.x, false)));
    } finally {
      if (data.owned) data.x.dispose();
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // Files

  /** Saves both networks (with BatchNorm statistics, and G's average) to `dir` atomically (lib/core/checkpoint.ts). */
  async save(dir: string): Promise<void> {
    this.assertAlive();
    const tensors = networkTensors(this.networks());
    await saveCheckpoint(dir, { kind: 'GAN', config: this.config as unknown as JsonValue, tensors });
  }

  /** Loads a model written by {@link GAN.save}; refuses missing, corrupted or mismatched checkpoints. */
  static async load(dir: string): Promise<GAN> {
    const ck = await loadCheckpoint(dir, 'GAN');
    try {
      const gan = new GAN(ck.config as unknown as GANOptions);
      return restoreOrDispose(dir, ck.tensors, gan, gan.networks());
    } finally {
      for (const t of Object.values(ck.tensors)) t.dispose();
    }
  }

  /** Frees both networks and the optimisers' state. The model cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.optD?.dispose();
    this.optG?.dispose();
    this.generator.dispose();
    this.discriminator.dispose();
    if (this.average) tf.dispose(this.average);
  }

  /** What a checkpoint holds: G, D and (when averaging) G's average, each with getWeights / setWeights. */
  private networks(): Record<string, { getWeights(): tf.Tensor[]; setWeights(w: tf.Tensor[]): void }> {
    const nets: Record<string, { getWeights(): tf.Tensor[]; setWeights(w: tf.Tensor[]): void }> = { generator: this.generator, discriminator: this.discriminator };
    const avg = this.average;
    if (avg) nets.generatorAverage = { getWeights: () => avg, setWeights: (w) => avg.forEach((a, i) => a.assign(w[i])) };
    return nets;
  }

  /** A short description, e.g. `dense G 100-256-512-1024-784 D 784-1024-512-256-1 non-saturating`. */
  describe(): string {
    const c = this.config;
    const smooth = (c.labelSmoothing < 1 ? ` smoothing ${c.labelSmoothing}` : '') + (c.generatorAverage > 0 ? ` average ${c.generatorAverage}` : '');
    if (c.architecture === 'conv') {
      return `conv ${c.dataShape.join('x')} G [${c.generatorUnits.join(',')}] D [${c.discriminatorUnits.join(',')}] ${c.loss}${smooth}`;
    }
    const g = [c.latentDim, ...c.generatorUnits, this.dataDim].join('-');
    const d = [this.dataDim, ...c.discriminatorUnits, 1].join('-');
    return `dense G ${g} D ${d} ${c.loss}${smooth}`;
  }

  // ------------------------------------------------------------------------------------------------------
  // Helpers

  /** Two Adam optimisers with beta1 = 0.5; kept (with their moments) across fits at the same rate. */
  private setOptimizers(learningRate: number): void {
    if (this.optD && this.optRate === learningRate) return;
    this.optD?.dispose();
    this.optG?.dispose();
    this.optD = fusedAdam(learningRate, DEFAULTS.beta1, DEFAULTS.beta2, DEFAULTS.adamEpsilon);
    this.optG = fusedAdam(learningRate, DEFAULTS.beta1, DEFAULTS.beta2, DEFAULTS.adamEpsilon);
    this.optRate = learningRate;
  }

  /** Validates data and returns it flat `[n, D]`; `owned` says whether the returned tensor is new (to dispose). */
  private toFlat(name: string, x: unknown, full: boolean): { x: tf.Tensor2D; owned: boolean } {
    if (!(x instanceof tf.Tensor)) throw new TypeError(`${name} must be a tf.Tensor; got ${describeValue(x)}`);
    let flat: tf.Tensor2D;
    let owned = false;
    const shape = this.dataShape;
    if (x.rank === 2) {
      flat = x as tf.Tensor2D;
    } else if (x.rank === shape.length + 1 && x.shape.slice(1).every((d: number, i: number) => d === shape[i])) {
      flat = x.reshape([x.shape[0], this.dataDim]);
      owned = true;
    } else {
      throw new RangeError(`${name} must have shape [n, ${this.dataDim}] or [n, ${shape.join(', ')}]; got [${x.shape.join(', ')}]`);
    }
    try {
      assertMatrix(name, flat, {
        width: this.dataDim,
        checkFinite: full,
        range: full && this.config.outputActivation === 'tanh' ? [-1, 1] : undefined,
      });
    } catch (e) {
      if (owned) flat.dispose();
      if (e instanceof RangeError && /values in/.test(e.message)) {
        throw new RangeError(`${e.message}: a tanh generator only makes values in [-1, 1]; rescale the data or use outputActivation: 'linear'`);
      }
      throw e;
    }
    return { x: flat, owned };
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error('this GAN has been disposed');
  }
}

/** Glorot-uniform kernel (seeded from `rng`) and zero bias: Keras's default. */
function glorot(rng: Random): { kernelInitializer: ReturnType<typeof tf.initializers.glorotUniform>; biasInitializer: ReturnType<typeof tf.initializers.zeros> } {
  return { kernelInitializer: tf.initializers.glorotUniform({ seed: rng.seedInt() }), biasInitializer: tf.initializers.zeros() };
}

function checkUnits(name: string, units: unknown, length?: number): asserts units is number[] {
  if (!Array.isArray(units)) throw new TypeError(`${name} must be an array of positive integers; got ${describeValue(units)}`);
  if (length !== undefined && units.length !== length) {
    throw new RangeError(`${name} of a conv GAN must hold ${length} channel counts; got ${describeValue(units)}`);
  }
  units.forEach((u, i) => assertPositiveInteger(`${name}[${i}]`, u));
}
