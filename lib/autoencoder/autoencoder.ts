/**
 * Autoencoders for the recap lecture (the exact PCA a linear autoencoder is compared with is in ./pca.ts).
 *
 * An autoencoder x -> code = f(x) -> x_hat = g(code) is trained to reconstruct its input. With linear f and g and
 * the squared error it learns the same subspace as the top-k principal components (Baldi & Hornik 1989), though
 * not the components themselves (any invertible mixing of the code gives the same reconstructions): compare the
 * subspaces with `principalAngles` (./pca.ts), or the reconstruction errors.
 *
 * Losses are per-element means (the Keras convention): 'mse' = mean (x - x_hat)^2, 'bce' = mean of
 * -[x log x_hat + (1 - x) log(1 - x_hat)], the latter computed from logits (softplus(l) - x l) for stability.
 */
import { ready, tf } from '../engine/backend';
import { trackDisposable } from '../engine/scope';
import { Random } from '../engine/random';
import {
  assertFiniteNumber,
  assertKnownOptions,
  assertMatrix,
  assertOneOf,
  assertPositiveInteger,
  assertPositiveNumber,
  describeValue,
  optionKeys,
} from '../core/validate';
import { convDecoder, convEncoder, denseDecoder, HiddenActivation } from '../nets/factories';
import { gradientStep, History, LoopFitOptions, resolveFitOptions, resolveLoopOptions, runEpochs, trainableVariables } from '../train/loop';
import { TrainingState } from '../train/state';
import { JsonValue, loadCheckpoint, saveCheckpoint } from '../core/checkpoint';
import { networkTensors, restoreModel } from '../core/network-weights';

/**
 * Input corruption of a denoising autoencoder (Vincent et al. 2008), applied to the training inputs only: the loss
 * compares g(f(corrupt(x))) with the clean x. `encode`, `reconstruct` and `reconstructionError` never corrupt.
 * - `{ kind: 'gaussian', std }`: x~ = x + std * eps, eps ~ N(0, 1) per element (std > 0; not clipped);
 * - `{ kind: 'mask', rate }`: x~ = x * m, m ~ Bernoulli(1 - rate) per element (masking noise: a fraction `rate`
 *   in [0, 1) of the inputs set to 0).
 * The noise is drawn from the model's training generator (seeded by `seed`), so a seeded run reproduces.
 */
export type Corruption = { kind: 'gaussian'; std: number } | { kind: 'mask'; rate: number };

/** Options for {@link Autoencoder}. */
export interface AutoencoderOptions {
  /**
   * `'dense'` (default): dense layers `inputDim -> hiddenUnits... -> codeDim` and the mirror image back.
   * `'conv'`: the Keras lecture's convolutional stack (lib/nets `convEncoder`/`convDecoder`: stride-2 3x3
   * convolutions with `convFilters`, a dense layer of `convDenseUnits`, the code; transposed convolutions back),
   * on images of `inputShape`. Data is still passed flat, `[n, h*w*c]` (row-major h, w, c, as loadMnist gives it).
   */
  architecture?: 'dense' | 'conv';
  /** Input width D (e.g. 784). Integer >= 1. Required for 'dense'; for 'conv' it may be left out (= h*w*c). */
  inputDim?: number;
  /** Image shape `[height, width, channels]` for `architecture: 'conv'`, e.g. `[28, 28, 1]`; height and width divisible by 2^convFilters.length. */
  inputShape?: [number, number, number];
  /**
   * Hidden widths of the dense encoder, first to last (the decoder mirrors them): `[256]` is the lecture's shallow
   * model, `[512, 256, 128]` a stacked (deep) autoencoder trained end to end. Default `[]`. Dense only.
   */
  hiddenUnits?: number[];
  /** Filters of the conv encoder's stride-2 convolutions (the decoder reverses them). Default `[32, 64]`. Conv only. */
  convFilters?: number[];
  /** Width of the dense layer between the conv features and the code. Default 64. Conv only. */
  convDenseUnits?: number;
  /** Denoising: corrupt the training inputs (see {@link Corruption}). Default: none (a plain autoencoder). */
  corruption?: Corruption;
  /** Code (bottleneck) width k. Integer >= 1. */
  codeDim: number;
  /**
   * `'mse'` (default; linear output) or `'bce'` (sigmoid output, data in [0, 1]). Both are per-element means.
   */
  loss?: 'mse' | 'bce';
  /** All layers linear (no activations; with 'mse' the output is linear): the autoencoder that PCA explains. Default false. */
  linear?: boolean;
  /** Hidden activation when not `linear`. Default `'relu'`. */
  activation?: HiddenActivation;
  /** Activation of the code layer when not `linear`. Default: `activation` (dense), `'linear'` (conv). */
  codeActivation?: HiddenActivation;
  /** Seed for initialisation and shuffling. Default: random. */
  seed?: number;
}

const AUTOENCODER_OPTION_KEYS = optionKeys<AutoencoderOptions>({
  architecture: true, inputDim: true, inputShape: true, hiddenUnits: true, convFilters: true, convDenseUnits: true, corruption: true,
  codeDim: true, loss: true, linear: true, activation: true, codeActivation: true, seed: true,
});

const CORRUPTION_KEYS = { gaussian: ['kind', 'std'], mask: ['kind', 'rate'] } as const;

/** Checks a corruption option and returns a copy (what the config stores). */
function checkCorruption(c: unknown): Corruption {
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new TypeError(`corruption must be { kind: 'gaussian', std } or { kind: 'mask', rate }; got ${describeValue(c)}`);
  const kind = (c as { kind?: unknown }).kind;
  assertOneOf('corruption.kind', kind, ['gaussian', 'mask'] as const);
  assertKnownOptions('Autoencoder corruption', c, CORRUPTION_KEYS[kind]);
  if (kind === 'gaussian') {
    const std = (c as { std?: unknown }).std;
    assertPositiveNumber('corruption.std', std);
    return { kind, std: std as number };
  }
  const rate = (c as { rate?: unknown }).rate;
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new RangeError(`corruption.rate must be a number in [0, 1); got ${describeValue(rate)}`);
  return { kind, rate };
}

/** Options for {@link Autoencoder.fit} (with `reset` and `earlyStopping` from the training loop, see {@link LoopFitOptions}). */
export interface AutoencoderFitOptions extends LoopFitOptions {
  /** Passes over the data. Integer >= 1. Default 10. */
  epochs?: number;
  /** Mini-batch size. Integer >= 1. Default 256 (the Keras lecture). */
  batchSize?: number;
  /** Adam step size, > 0. Default 1e-3. */
  learningRate?: number;
  /** Reshuffle every epoch (seeded). Default true. */
  shuffle?: boolean;
  /** Held-out data `[m, D]`: its loss is reported per epoch as `valLoss`. */
  validation?: tf.Tensor2D;
  /** Called after every epoch (awaited if it returns a promise). */
  onEpoch?: (epoch: number, logs: { loss: number; valLoss?: number }) => void | Promise<void>;
  /** `'auto'` (default) or `false` (silent). */
  progress?: 'auto' | false;
}

const AUTOENCODER_FIT_OPTION_KEYS = optionKeys<AutoencoderFitOptions>({
  epochs: true, batchSize: true, learningRate: true, shuffle: true, validation: true, onEpoch: true, progress: true,
  reset: true, earlyStopping: true,
});

/** The end-to-end affine maps of a linear autoencoder, as plain arrays (see {@link Autoencoder.linearMaps}). */
export interface LinearMaps {
  /** W_enc, `[D][k]`: code = x W_enc + b_enc. */
  encoderWeight: number[][];
  /** b_enc, `[k]`. */
  encoderBias: number[];
  /** W_dec, `[k][D]`: x_hat = code W_dec + b_dec; its rows span the learned subspace. */
  decoderWeight: number[][];
  /** b_dec, `[D]`. */
  decoderBias: number[];
}

/** Serializable configuration (what a checkpoint stores): every constructor option, resolved. */
interface AutoencoderConfig {
  architecture: 'dense' | 'conv';
  inputDim: number;
  inputShape: [number, number, number] | null;
  hiddenUnits: number[];
  convFilters: number[];
  convDenseUnits: number;
  corruption: Corruption | null;
  codeDim: number;
  loss: 'mse' | 'bce';
  linear: boolean;
  activation: HiddenActivation;
  codeActivation: HiddenActivation;
  seed: number;
}

/** Checkpoint kind written by {@link Autoencoder.save}. */
const AE_KIND = 'Autoencoder';

const AE_DEFAULTS = {
  epochs: 10,
  batchSize: 256 /* the Keras lecture */,
  learningRate: 1e-3 /* Adam's default */,
  adamEpsilon: 1e-8 /* as PyTorch */,
} as const;

/**
 * An autoencoder, dense or convolutional, plain or denoising, one API for all (fit / encode / decode / reconstruct
 * / save / load; data always flat `[n, D]`):
 * - `new Autoencoder({ inputDim: 784, hiddenUnits: [256], codeDim: 64, loss: 'bce' })`: the lecture's Keras model;
 * - `{ inputDim: 784, codeDim: 10, loss: 'mse', linear: true }`: the one PCA explains;
 * - `{ inputDim: 784, hiddenUnits: [512, 256, 128], codeDim: 16 }`: a stacked (deep) autoencoder, trained end to
 *   end (not greedily layer by layer);
 * - `{ architecture: 'conv', inputShape: [28, 28, 1], codeDim: 16, loss: 'bce' }`: convolutional;
 * - any of these with `corruption: { kind: 'gaussian', std: 0.5 }` or `{ kind: 'mask', rate: 0.3 }`: denoising.
 */
export class Autoencoder {
  /** x -> code. */
  readonly encoder: tf.LayersModel;
  /** code -> output logits ('bce') or values ('mse'). */
  readonly decoder: tf.LayersModel;
  readonly inputDim: number;
  readonly codeDim: number;
  readonly loss: 'mse' | 'bce';
  readonly linear: boolean;
  /** `'dense'` or `'conv'`. */
  readonly architecture: 'dense' | 'conv';
  /** `[h, w, c]` of a conv autoencoder; null for dense. */
  readonly inputShape: [number, number, number] | null;
  /** The training-input corruption of a denoising autoencoder; null for a plain one. */
  readonly corruption: Corruption | null;
  private readonly rng: Random;
  private readonly config: AutoencoderConfig;
  /** What a second `fit` continues from: the epoch counter and the Adam state. */
  private readonly training = new TrainingState();
  private disposed = false;

  constructor(opts: AutoencoderOptions) {
    assertKnownOptions('Autoencoder', opts, AUTOENCODER_OPTION_KEYS);
    if (opts === null || typeof opts !== 'object') throw new TypeError(`opts must be an object; got ${describeValue(opts)}`);
    const architecture = opts.architecture ?? 'dense';
    assertOneOf('architecture', architecture, ['dense', 'conv'] as const);
    let inputShape: [number, number, number] | null = null;
    let inputDim: number;
    if (architecture === 'conv') {
      const sh = opts.inputShape;
      if (!Array.isArray(sh) || sh.length !== 3) throw new RangeError(`inputShape must be [height, width, channels] for a conv Autoencoder; got ${describeValue(sh)}`);
      sh.forEach((d, i) => assertPositiveInteger(`inputShape[${i}]`, d));
      inputShape = [sh[0], sh[1], sh[2]];
      inputDim = sh[0] * sh[1] * sh[2];
      if (opts.inputDim !== undefined && opts.inputDim !== inputDim) throw new RangeError(`inputDim must equal h*w*c = ${inputDim} of inputShape; got ${describeValue(opts.inputDim)}`);
      if (opts.hiddenUnits !== undefined && opts.hiddenUnits.length > 0) throw new RangeError(`hiddenUnits is for architecture 'dense'; a conv Autoencoder takes convFilters and convDenseUnits; got hiddenUnits ${describeValue(opts.hiddenUnits)}`);
      if (opts.linear) throw new RangeError("linear: true needs architecture 'dense'");
    } else {
      if (opts.inputShape !== undefined) throw new RangeError(`inputShape is for architecture 'conv'; got ${describeValue(opts.inputShape)} with a dense Autoencoder`);
      if (opts.convFilters !== undefined || opts.convDenseUnits !== undefined) throw new RangeError("convFilters and convDenseUnits are for architecture 'conv'");
      assertPositiveInteger('inputDim', opts.inputDim);
      inputDim = opts.inputDim;
    }
    assertPositiveInteger('codeDim', opts.codeDim);
    const convFilters = [...(opts.convFilters ?? [32, 64])];
    const convDenseUnits = opts.convDenseUnits ?? 64;
    const corruption = opts.corruption === undefined ? null : checkCorruption(opts.corruption);
    const hidden = opts.hiddenUnits ?? [];
    const loss = opts.loss ?? 'mse';
    assertOneOf('loss', loss, ['mse', 'bce'] as const);
    if (opts.seed !== undefined) assertFiniteNumber('seed', opts.seed);
    const linear = opts.linear ?? false;
    const activation: HiddenActivation = linear ? 'linear' : opts.activation ?? 'relu';
    const codeActivation: HiddenActivation = linear ? 'linear' : opts.codeActivation ?? activation;
    this.rng = new Random(opts.seed);
    if (architecture === 'conv') {
      // The lib/nets conv factories the VAE uses, with a single code output: [n, h, w, c] -> [n, k] -> [n, h, w, c].
      this.encoder = convEncoder({
        inputShape: inputShape!,
        latentDim: opts.codeDim,
        filters: convFilters,
        denseUnits: convDenseUnits,
        head: 'code',
        codeActivation: opts.codeActivation ?? 'linear',
        seed: this.rng.seedInt(),
      });
      this.decoder = convDecoder({ latentDim: opts.codeDim, outputShape: inputShape!, filters: [...convFilters].reverse(), seed: this.rng.seedInt() });
    } else {
      // The encoder is a dense stack ending in the code layer: the decoder factory builds exactly that.
      this.encoder = denseDecoder({
        latentDim: inputDim,
        hiddenUnits: hidden,
        outputDim: opts.codeDim,
        activation,
        outputActivation: codeActivation,
        seed: this.rng.seedInt(),
      });
      this.decoder = denseDecoder({
        latentDim: opts.codeDim,
        hiddenUnits: [...hidden].reverse(),
        outputDim: inputDim,
        activation,
        seed: this.rng.seedInt(),
      });
    }
    // Every option resolved (hiddenUnits checked by the factories above): what save() writes.
    this.config = {
      architecture,
      inputDim,
      inputShape,
      hiddenUnits: [...hidden],
      convFilters,
      convDenseUnits,
      corruption,
      codeDim: opts.codeDim,
      loss,
      linear,
      activation,
      codeActivation: architecture === 'conv' ? opts.codeActivation ?? 'linear' : codeActivation,
      seed: this.rng.seed,
    };
    this.architecture = architecture;
    this.inputShape = inputShape;
    this.corruption = corruption;
    this.inputDim = inputDim;
    this.codeDim = opts.codeDim;
    this.loss = loss;
    this.linear = linear;
    trackDisposable(this); // an enclosing genlab scope() frees the model unless it is returned
  }

  /**
   * Trains with Adam on the per-element mean loss, through genlab's one training loop (lib/train).
   *
   * Resuming: a second `fit` continues where the previous one stopped -- epoch numbers go on (6..10 after 5) and
   * the Adam moments carry over (while the learning rate is unchanged); with the same options, fit(2 epochs) then
   * fit(3) equals fit(5). `reset: true` starts afresh (new Adam state, epoch counter 0; the weights are kept).
   * @returns The {@link History}: `epoch`, `seconds`, `loss`, and `valLoss` with `validation`.
   */
  async fit(x: tf.Tensor2D, opts: AutoencoderFitOptions = {}): Promise<History> {
    assertKnownOptions('Autoencoder.fit', opts, AUTOENCODER_FIT_OPTION_KEYS);
    await ready();
    this.assertAlive();
    const { epochs, batchSize, learningRate } = resolveFitOptions(opts, AE_DEFAULTS);
    const { reset } = resolveLoopOptions('Autoencoder.fit', opts);
    this.checkData('x', x, true);
    if (opts.validation !== undefined) this.checkData('validation', opts.validation, true);
    if (reset) this.training.reset();
    const optimizer = this.training.adam(learningRate, AE_DEFAULTS.adamEpsilon);
    const vars = trainableVariables(this.encoder, this.decoder);
    return runEpochs({
      x,
      epochs,
      batchSize,
      shuffle: opts.shuffle !== false,
      rng: this.rng,
      title: `${this.corruption ? 'Denoising autoencoder' : 'Autoencoder'} ${this.describe()}`,
      progress: opts.progress ?? 'auto',
      metricNames: ['loss'],
      caller: 'Autoencoder.fit',
      learningRate,
      step: (xb) =>
        gradientStep(optimizer, vars, () => {
          const loss = this.lossT(xb, true, this.corruption !== null);
          return [loss, loss.reshape([1])];
        }),
      validationData: opts.validation,
      validate: (v) => ({ loss: this.meanLoss(v) }),
      earlyStopping: opts.earlyStopping,
      state: this.training,
      onEpoch: opts.onEpoch as ((epoch: number, logs: Record<string, number>) => void | Promise<void>) | undefined,
    });
  }

  /** The codes `[n, codeDim]` of `x` `[n, D]` (caller disposes). */
  encode(x: tf.Tensor2D): tf.Tensor2D {
    this.assertAlive();
    this.checkData('x', x, false);
    return tf.tidy(() => this.encodeT(x, false));
  }

  /** The reconstructions `[n, D]` of codes `[n, codeDim]` (sigmoid applied for 'bce'). */
  decode(code: tf.Tensor2D): tf.Tensor2D {
    this.assertAlive();
    assertMatrix('code', code, { width: this.codeDim, checkFinite: false });
    return tf.tidy(() => this.outputOf(this.decodeT(code, false)));
  }

  /** decode(encode(x)). */
  reconstruct(x: tf.Tensor2D): tf.Tensor2D {
    this.assertAlive();
    this.checkData('x', x, false);
    return tf.tidy(() => this.outputOf(this.decodeT(this.encodeT(x, false), false)));
  }

  /** The mean per-element loss on `x` (the quantity `fit` reports). Synchronous, like the RBMs'. */
  reconstructionError(x: tf.Tensor2D): number {
    this.assertAlive();
    this.checkData('x', x, true);
    return this.meanLoss(x);
  }

  /**
   * For a linear autoencoder, the end-to-end affine maps: code = x W_enc + b_enc (`W_enc` [D, k]) and
   * x_hat = code W_dec + b_dec (`W_dec` [k, D]); the rows of `W_dec` span the learned subspace (compare with PCA's
   * components via `principalAngles`, ./pca.ts). Plain arrays: nothing to dispose.
   */
  linearMaps(): LinearMaps {
    this.assertAlive();
    if (!this.linear) throw new Error('linearMaps() needs a linear autoencoder (linear: true)');
    const compose = (model: tf.LayersModel): [number[][], number[]] =>
      tf.tidy(() => {
        const w = model.getWeights(); // [kernel0, bias0, kernel1, bias1, ...]
        let W = w[0] as tf.Tensor2D;
        let b = w[1] as tf.Tensor1D;
        for (let i = 2; i < w.length; i += 2) {
          // (x W + b) W' + b' = x (W W') + (b W' + b')
          b = tf.matMul(b.expandDims(0), w[i] as tf.Tensor2D).squeeze([0]).add(w[i + 1]) as tf.Tensor1D;
          W = tf.matMul(W, w[i] as tf.Tensor2D);
        }
        return [W.arraySync(), b.arraySync()];
      });
    const [encoderWeight, encoderBias] = compose(this.encoder);
    const [decoderWeight, decoderBias] = compose(this.decoder);
    return { encoderWeight, encoderBias, decoderWeight, decoderBias };
  }

  /** e.g. `784-256-64 bce`, `linear 784-10 mse`, `conv 28x28x1 [32,64]-64-16 bce`, with the corruption if any. */
  describe(): string {
    const noise = this.corruption === null ? '' : this.corruption.kind === 'gaussian' ? `, gaussian noise ${this.corruption.std}` : `, mask ${this.corruption.rate}`;
    if (this.architecture === 'conv') {
      const c = this.config;
      return `conv ${c.inputShape!.join('x')} [${c.convFilters.join(',')}]-${c.convDenseUnits}-${this.codeDim} ${this.loss}${noise}`;
    }
    return this.describeDense() + noise;
  }

  private describeDense(): string {
    const widths = [this.inputDim, ...this.encoder.layers.slice(1, -1).map((l) => (l.getConfig().units as number)), this.codeDim];
    return `${this.linear ? 'linear ' : ''}${widths.join('-')} ${this.loss}`;
  }

  /**
   * Saves the model to the directory `dir` (created if missing) atomically, through lib/core/checkpoint.ts: a crash
   * mid-save leaves the previous checkpoint there loadable, and {@link Autoencoder.load} refuses a corrupted or
   * truncated one. Stored: the configuration (architecture, inputDim, inputShape, hiddenUnits, convFilters,
   * convDenseUnits, corruption, codeDim, loss, linear, activation, codeActivation, seed) as JSON and the encoder's and decoder's weights in layer order. NOT stored: the Adam
   * optimiser state -- `fit` after `load` starts a fresh Adam (moments at zero), and the shuffling generator
   * restarts from the seed.
   *
   * @example
   * await ae.save('models/ae');
   * const again = await Autoencoder.load('models/ae');
   */
  async save(dir: string): Promise<void> {
    this.assertAlive();
    const tensors = networkTensors({ encoder: this.encoder, decoder: this.decoder });
    const c = this.config;
    const config = {
      ...c,
      hiddenUnits: [...c.hiddenUnits],
      convFilters: [...c.convFilters],
      inputShape: c.inputShape ? [...c.inputShape] : null,
      corruption: c.corruption ? { ...c.corruption } : null,
    } as unknown as { [key: string]: JsonValue };
    await saveCheckpoint(dir, { kind: AE_KIND, config, tensors });
  }

  /**
   * Loads a model written by {@link Autoencoder.save}. Refuses, with an error naming the directory or file and the
   * problem, a missing, corrupted or truncated checkpoint and a checkpoint of another model kind (an RBM, a VAE).
   * The loaded model gives the same `encode` / `reconstruct` outputs as the saved one (bit for bit on the same
   * backend) and can be trained further with `fit` (with a fresh optimiser: see {@link Autoencoder.save}).
   */
  static async load(dir: string): Promise<Autoencoder> {
    const ck = await loadCheckpoint(dir, AE_KIND);
    try {
      const c = ck.config;
      if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new Error(`checkpoint at ${dir} has no Autoencoder config`);
      const cfg = c as unknown as AutoencoderConfig;
      // The constructor validates every field again (a hand-edited config is refused with the field's name).
      // Checkpoints written before the conv and denoising options lack those fields: a dense, plain model.
      const conv = cfg.architecture === 'conv';
      const ae = new Autoencoder({
        architecture: conv ? 'conv' : 'dense',
        inputDim: cfg.inputDim,
        ...(conv ? { inputShape: cfg.inputShape!, convFilters: cfg.convFilters, convDenseUnits: cfg.convDenseUnits } : { hiddenUnits: cfg.hiddenUnits }),
        ...(cfg.corruption ? { corruption: cfg.corruption } : {}),
        codeDim: cfg.codeDim,
        loss: cfg.loss,
        linear: cfg.linear,
        activation: cfg.activation,
        codeActivation: cfg.codeActivation,
        seed: cfg.seed,
      });
      return restoreModel(dir, ck.tensors, ae);
    } finally {
      for (const t of Object.values(ck.tensors)) t.dispose();
    }
  }

  /** Frees the weights and optimiser state. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.training.dispose();
    this.encoder.dispose();
    this.decoder.dispose();
  }

  /** Codes `[n, k]` of flat inputs `[n, D]` (reshaped to images for conv; inside a tidy). */
  private encodeT(x: tf.Tensor2D, training: boolean): tf.Tensor2D {
    const input = this.inputShape ? x.reshape([-1, ...this.inputShape]) : x;
    return this.encoder.apply(input, { training }) as tf.Tensor2D;
  }

  /** Decoder outputs (logits or values) as flat `[n, D]` (inside a tidy). */
  private decodeT(code: tf.Tensor2D, training: boolean): tf.Tensor2D {
    const out = this.decoder.apply(code, { training }) as tf.Tensor;
    return (this.inputShape ? out.reshape([-1, this.inputDim]) : out) as tf.Tensor2D;
  }

  /**
   * The corrupted copy x~ of a batch `[n, D]` (inside a tidy): x + std eps (gaussian) or x * m with
   * m ~ Bernoulli(1 - rate) (mask); the seed of the tfjs draw comes from the model's generator.
   */
  private corrupt(x: tf.Tensor2D): tf.Tensor2D {
    const c = this.corruption;
    if (c === null) return x;
    const seed = this.rng.seedInt();
    if (c.kind === 'gaussian') return x.add(tf.randomNormal(x.shape, 0, c.std, 'float32', seed)) as tf.Tensor2D;
    return x.mul(tf.randomUniform(x.shape, 0, 1, 'float32', seed).greaterEqual(c.rate).toFloat()) as tf.Tensor2D;
  }

  /** Mean per-element loss of a batch against the clean x, from corrupted inputs when `corrupt` (differentiable; inside a tidy). */
  private lossT(x: tf.Tensor2D, training: boolean, corrupt = false): tf.Scalar {
    const out = this.decodeT(this.encodeT(corrupt ? this.corrupt(x) : x, training), training);
    if (this.loss === 'bce') return tf.softplus(out).sub(tf.mul(x, out)).mean() as tf.Scalar; // BCE from logits
    return tf.squaredDifference(x, out).mean() as tf.Scalar;
  }

  private meanLoss(x: tf.Tensor2D): number {
    const t = tf.tidy(() => this.lossT(x, false));
    const v = t.dataSync()[0];
    t.dispose();
    return v;
  }

  private outputOf(out: tf.Tensor2D): tf.Tensor2D {
    return this.loss === 'bce' ? (tf.sigmoid(out) as tf.Tensor2D) : out;
  }

  private checkData(name: string, x: unknown, full: boolean): asserts x is tf.Tensor2D {
    assertMatrix(name, x, {
      width: this.inputDim,
      checkFinite: full,
      range: full && this.loss === 'bce' ? [0, 1] : undefined,
    });
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error('this Autoencoder has been disposed');
  }
}
