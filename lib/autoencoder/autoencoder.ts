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
import { flattenData, type FlatData } from '../core/data';
import { resolveDataShape, shapeSize, unflatten } from '../core/data-shape';
import { Model } from '../core/model';
import type { BatchTensor, DataShape } from '../core/shapes';
import { convDecoder, convEncoder, denseDecoder, HiddenActivation } from '../nets/factories';
import { FitOptions, gradientStep, History, resolveFitOptions, resolveLoopOptions, trainableVariables, fitOptionMap } from '../train/loop';
import { JsonValue, saveCheckpoint } from '../core/checkpoint';
import { networkTensors, networkVariables, restoreNetworks } from '../core/network-weights';

/**
 * Input corruption of a denoising autoencoder (Vincent et al. 2008), applied to the training inputs only: the loss
 * compares g(f(corrupt(x))) with the clean x. `encode`, `reconstruct` and `reconstructionError` never corrupt.
 * - `{ kind: 'gaussian', std }`: x~ = x + std * eps, eps ~ N(0, 1) per element (std > 0; not clipped);
 * - `{ kind: 'mask', rate }`: x~ = x * m, m ~ Bernoulli(1 - rate) per element (masking noise: a fraction `rate`
 *   in [0, 1) of the inputs set to 0).
 * The noise is drawn from the model's training generator (seeded by `seed`), so a seeded run reproduces.
 */
export type Corruption = { kind: 'gaussian'; std: number } | { kind: 'mask'; rate: number };

/** Options for {@link Autoencoder}; `S` is the example shape (`[784]`, `[28, 28, 1]`), which types the outputs. */
export interface AutoencoderOptions<S extends DataShape = DataShape> {
  /**
   * `'dense'` (default): dense layers `D -> hiddenUnits... -> codeDim` and the mirror image back (examples of any
   * `dataShape` are flattened). `'conv'`: the Keras lecture's convolutional stack (lib/nets `convEncoder`/`convDecoder`:
   * stride-2 3x3 convolutions with `convFilters`, a dense layer of `convDenseUnits`, the code; transposed
   * convolutions back), on images of `dataShape` `[height, width, channels]`.
   */
  architecture?: 'dense' | 'conv';
  /**
   * Shape of one example: `[D]` (e.g. `[784]`) or `[height, width, channels]` (e.g. `[28, 28, 1]`; a conv
   * autoencoder needs this, with height and width divisible by 2^convFilters.length). Data may be passed as
   * `[n, D]` (D the product, row-major h, w, c as loadMnist gives it) or `[n, ...dataShape]`; `reconstruct` and
   * `decode` return `[n, ...dataShape]`: `tf.Tensor2D` for `[D]`, `tf.Tensor4D` for `[h, w, c]`. Give this or one of
   * its older names, `inputDim` or `inputShape`.
   */
  dataShape?: S;
  /**
   * Older name: `inputDim: 784` is `dataShape: [784]` (the outputs are then typed `tf.Tensor`: prefer `dataShape`).
   * Next to `dataShape` or `inputShape` it must equal their size. Integer >= 1.
   */
  inputDim?: number;
  /** Older name of `dataShape` for the images of a conv autoencoder (`architecture: 'conv'` only). */
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
  architecture: true, dataShape: true, inputDim: true, inputShape: true, hiddenUnits: true, convFilters: true, convDenseUnits: true,
  corruption: true, codeDim: true, loss: true, linear: true, activation: true, codeActivation: true, seed: true,
});

const CORRUPTION_KEYS = {
  gaussian: optionKeys<Extract<Corruption, { kind: 'gaussian' }>>({ kind: true, std: true }),
  mask: optionKeys<Extract<Corruption, { kind: 'mask' }>>({ kind: true, rate: true }),
} as const;

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

/** Metrics of one epoch of {@link Autoencoder.fit}. */
export interface AutoencoderEpochLogs {
  /** Mean per-element training loss ('mse' or 'bce'). */
  loss: number;
  /** Wall seconds of the epoch's training (without validation and callbacks). */
  seconds: number;
  /** The loss on `validation` (when given). */
  valLoss?: number;
}

/**
 * Options for {@link Autoencoder.fit}: the loop's (see {@link FitOptions}: `validation`, `onEpoch`, `reset`,
 * `earlyStopping`, ...) with the autoencoder's defaults.
 */
export interface AutoencoderFitOptions extends FitOptions<AutoencoderEpochLogs> {
  /** Passes over the data. Integer >= 1. Default 10. */
  epochs?: number;
  /** Mini-batch size. Integer >= 1. Default 256 (the Keras lecture). */
  batchSize?: number;
  /** Adam step size, > 0. Default 1e-3. */
  learningRate?: number;
  /** Reshuffle every epoch (seeded). Default true. */
  shuffle?: boolean;
  /** Held-out data, same layout as `x`: its loss is reported per epoch as `valLoss`. */
  validation?: tf.Tensor;
}

const AUTOENCODER_FIT_OPTION_KEYS = optionKeys<AutoencoderFitOptions>({ ...fitOptionMap() });

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
  dataShape: number[];
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
 * / save / load):
 * - `new Autoencoder({ dataShape: [784], hiddenUnits: [256], codeDim: 64, loss: 'bce' })`: the lecture's Keras model;
 * - `{ dataShape: [784], codeDim: 10, loss: 'mse', linear: true }`: the one PCA explains;
 * - `{ dataShape: [784], hiddenUnits: [512, 256, 128], codeDim: 16 }`: a stacked (deep) autoencoder, trained end to
 *   end (not greedily layer by layer);
 * - `{ architecture: 'conv', dataShape: [28, 28, 1], codeDim: 16, loss: 'bce' }`: convolutional;
 * - any of these with `corruption: { kind: 'gaussian', std: 0.5 }` or `{ kind: 'mask', rate: 0.3 }`: denoising.
 *
 * Data are `[n, D]` or `[n, ...dataShape]` tensors ('bce': values in [0, 1]); `reconstruct` and `decode` return
 * `[n, ...dataShape]`, typed by `S` (`tf.Tensor2D` for `dataShape: [784]`, `tf.Tensor4D` for `[28, 28, 1]`).
 */
export class Autoencoder<S extends DataShape = DataShape> extends Model {
  readonly kind = 'Autoencoder';
  /** x -> code. */
  readonly encoder: tf.LayersModel;
  /** code -> output logits ('bce') or values ('mse'). */
  readonly decoder: tf.LayersModel;
  /** Shape of one example, e.g. `[784]` or `[28, 28, 1]`. */
  readonly dataShape: number[];
  /** Values per example D (the product of `dataShape`). */
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

  constructor(opts: AutoencoderOptions<S>) {
    super();
    try {
      assertKnownOptions('Autoencoder', opts, AUTOENCODER_OPTION_KEYS);
      if (opts === null || typeof opts !== 'object') throw new TypeError(`opts must be an object; got ${describeValue(opts)}`);
      const architecture = opts.architecture ?? 'dense';
      assertOneOf('architecture', architecture, ['dense', 'conv'] as const);
      const shape = resolveDataShape(opts);
      let inputShape: [number, number, number] | null = null;
      if (architecture === 'conv') {
        if (!shape || shape.length !== 3) {
          throw new RangeError(`a conv Autoencoder needs dataShape (or inputShape) [height, width, channels]; got ${shape ? `[${shape.join(', ')}]` : 'undefined'}`);
        }
        inputShape = [shape[0], shape[1], shape[2]];
        if (opts.hiddenUnits !== undefined && opts.hiddenUnits.length > 0) throw new RangeError(`hiddenUnits is for architecture 'dense'; a conv Autoencoder takes convFilters and convDenseUnits; got hiddenUnits ${describeValue(opts.hiddenUnits)}`);
        if (opts.linear) throw new RangeError("linear: true needs architecture 'dense'");
      } else {
        if (opts.inputShape !== undefined) throw new RangeError(`inputShape is for architecture 'conv'; got ${describeValue(opts.inputShape)} with a dense Autoencoder (a dense one takes dataShape)`);
        if (opts.convFilters !== undefined || opts.convDenseUnits !== undefined) throw new RangeError("convFilters and convDenseUnits are for architecture 'conv'");
        if (!shape) throw new TypeError('dataShape (or inputDim) must be given: the shape of one example, e.g. [784]');
      }
      const inputDim = shapeSize(shape);
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
      if (inputShape) {
        // The lib/nets conv factories the VAE uses, with a single code output: [n, h, w, c] -> [n, k] -> [n, h, w, c].
        this.encoder = convEncoder({
          inputShape,
          latentDim: opts.codeDim,
          filters: convFilters,
          denseUnits: convDenseUnits,
          head: 'code',
          codeActivation: opts.codeActivation ?? 'linear',
          seed: this.rng.seedInt(),
        });
        this.decoder = convDecoder({ latentDim: opts.codeDim, outputShape: inputShape, filters: [...convFilters].reverse(), seed: this.rng.seedInt() });
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
        dataShape: [...shape],
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
      this.dataShape = [...shape];
      this.inputShape = inputShape;
      this.corruption = corruption;
      this.inputDim = inputDim;
      this.codeDim = opts.codeDim;
      this.loss = loss;
      this.linear = linear;
    } catch (e) {
      this.dispose(); // frees a network built before the error
      throw e;
    }
  }

  /**
   * Trains with Adam on the per-element mean loss, through genlab's one training loop (lib/train).
   *
   * Resuming: a second `fit` continues where the previous one stopped -- epoch numbers go on (6..10 after 5) and
   * the Adam moments carry over (while the learning rate is unchanged); with the same options, fit(2 epochs) then
   * fit(3) equals fit(5). `reset: true` starts afresh (new Adam state, epoch counter 0; the weights are kept). A fit
   * that diverges (NaN or infinite loss or weights) throws and leaves the weights as after its last finite epoch.
   * @param x Training data `[n, D]` or `[n, ...dataShape]`, finite ('bce': in [0, 1]).
   * @returns The {@link History}: `epoch`, `seconds`, `loss`, and `valLoss` with `validation`.
   */
  async fit(x: tf.Tensor, opts: AutoencoderFitOptions = {}): Promise<History> {
    assertKnownOptions('Autoencoder.fit', opts, AUTOENCODER_FIT_OPTION_KEYS);
    await ready();
    this.assertAlive();
    const { epochs, batchSize, learningRate } = resolveFitOptions(opts, AE_DEFAULTS);
    const { reset } = resolveLoopOptions('Autoencoder.fit', opts);
    const data = this.flat('x', x, true);
    let val: FlatData | null = null;
    try {
      if (opts.validation !== undefined) val = this.flat('validation', opts.validation, true);
      if (reset) this.training.reset();
      const optimizer = this.training.adam(learningRate, AE_DEFAULTS.adamEpsilon);
      const rng = this.training.generator(opts.seed, () => this.rng.fork()); // the training stream (carried across fits)
      const vars = trainableVariables(this.encoder, this.decoder);
      return await this.fitLoop(opts, {
        x: data.x,
        epochs,
        batchSize,
        rng,
        title: `${this.corruption ? 'Denoising autoencoder' : 'Autoencoder'} ${this.describe()}`,
        metricNames: ['loss'],
        learningRate,
        step: (xb) =>
          gradientStep(optimizer, vars, () => {
            const loss = this.lossT(xb, true, this.corruption !== null ? rng : null);
            return [loss, loss.reshape([1])];
          }),
        validationData: val?.x,
        validate: (v) => ({ loss: this.meanLoss(v) }),
      });
    } finally {
      if (data.owned) data.x.dispose();
      if (val?.owned) val.x.dispose();
    }
  }

  /** The codes `[n, codeDim]` of `x` (`[n, D]` or `[n, ...dataShape]`; caller disposes). */
  encode(x: tf.Tensor): tf.Tensor2D {
    this.assertAlive();
    const data = this.flat('x', x, false);
    try {
      return tf.tidy(() => this.encodeT(data.x, false));
    } finally {
      if (data.owned) data.x.dispose();
    }
  }

  /** The reconstructions `[n, ...dataShape]` of codes `[n, codeDim]` (sigmoid applied for 'bce'; caller disposes). */
  decode(code: tf.Tensor2D): BatchTensor<S> {
    this.assertAlive();
    assertMatrix('code', code, { width: this.codeDim, checkFinite: false });
    return tf.tidy(() => unflatten(this.outputOf(this.decodeT(code, false)), this.dataShape) as BatchTensor<S>);
  }

  /** decode(encode(x)): `[n, ...dataShape]` for `x` `[n, D]` or `[n, ...dataShape]` (caller disposes). */
  reconstruct(x: tf.Tensor): BatchTensor<S> {
    this.assertAlive();
    const data = this.flat('x', x, false);
    try {
      return tf.tidy(() => unflatten(this.outputOf(this.decodeT(this.encodeT(data.x, false), false)), this.dataShape) as BatchTensor<S>);
    } finally {
      if (data.owned) data.x.dispose();
    }
  }

  /** The mean per-element loss on `x` (the quantity `fit` reports). Synchronous, like the RBMs'. */
  reconstructionError(x: tf.Tensor): number {
    this.assertAlive();
    const data = this.flat('x', x, true);
    try {
      return this.meanLoss(data.x);
    } finally {
      if (data.owned) data.x.dispose();
    }
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
      return `conv ${c.dataShape.join('x')} [${c.convFilters.join(',')}]-${c.convDenseUnits}-${this.codeDim} ${this.loss}${noise}`;
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
   * truncated one. Stored: the configuration (architecture, dataShape, hiddenUnits, convFilters, convDenseUnits,
   * corruption, codeDim, loss, linear, activation, codeActivation, seed) as JSON and the encoder's and decoder's
   * weights in layer order. NOT stored: the Adam optimiser state -- `fit` after `load` starts a fresh Adam (moments
   * at zero), and the shuffling generator restarts from the seed.
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
      dataShape: [...c.dataShape],
      hiddenUnits: [...c.hiddenUnits],
      convFilters: [...c.convFilters],
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
    return Autoencoder.loadCheckpointed(
      dir,
      AE_KIND,
      (c) => {
        if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new Error(`checkpoint at ${dir} has no Autoencoder config`);
        // The constructor validates every field again (a hand-edited config is refused with the field's name).
        // Checkpoints written before dataShape hold inputDim (and inputShape for conv); before the conv and
        // denoising options, neither architecture nor corruption: a dense, plain model.
        const cfg = c as unknown as AutoencoderConfig & { inputDim?: number; inputShape?: [number, number, number] | null };
        const conv = cfg.architecture === 'conv';
        return new Autoencoder({
          architecture: conv ? 'conv' : 'dense',
          dataShape: cfg.dataShape ?? cfg.inputShape ?? (cfg.inputDim === undefined ? undefined : [cfg.inputDim]),
          ...(conv ? { convFilters: cfg.convFilters, convDenseUnits: cfg.convDenseUnits } : { hiddenUnits: cfg.hiddenUnits }),
          ...(cfg.corruption ? { corruption: cfg.corruption } : {}),
          codeDim: cfg.codeDim,
          loss: cfg.loss,
          linear: cfg.linear,
          activation: cfg.activation,
          codeActivation: cfg.codeActivation,
          seed: cfg.seed,
        });
      },
      (ae, tensors) => restoreNetworks(dir, tensors, { encoder: ae.encoder, decoder: ae.decoder }),
    );
  }

  /** Every weight of the encoder and the decoder (what a diverged `fit` puts back). */
  protected variables(): tf.Variable[] {
    return networkVariables(this.encoder, this.decoder);
  }

  /** Frees the networks (either may be missing when the constructor failed). */
  protected release(): void {
    (this.encoder as tf.LayersModel | undefined)?.dispose();
    (this.decoder as tf.LayersModel | undefined)?.dispose();
  }

  /** Checks data (shape; with `full` also finite, and in [0, 1] for 'bce') and returns it flat `[n, D]`. */
  private flat(name: string, x: unknown, full: boolean): FlatData {
    return flattenData(name, x, this.dataShape, {
      finite: full,
      range: full && this.loss === 'bce' ? [0, 1] : undefined,
      rangeHint: "loss 'bce' takes data in [0, 1]; use loss 'mse' for other data",
    });
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
   * m ~ Bernoulli(1 - rate) (mask); the seed of the tfjs draw comes from the training stream `rng`.
   */
  private corrupt(x: tf.Tensor2D, rng: Random): tf.Tensor2D {
    const c = this.corruption;
    if (c === null) return x;
    const seed = rng.seedInt();
    if (c.kind === 'gaussian') return x.add(tf.randomNormal(x.shape, 0, c.std, 'float32', seed)) as tf.Tensor2D;
    return x.mul(tf.randomUniform(x.shape, 0, 1, 'float32', seed).greaterEqual(c.rate).toFloat()) as tf.Tensor2D;
  }

  /** Mean per-element loss of a batch against the clean x, from inputs corrupted with `corruptWith`'s draws when given (differentiable; inside a tidy). */
  private lossT(x: tf.Tensor2D, training: boolean, corruptWith: Random | null = null): tf.Scalar {
    const out = this.decodeT(this.encodeT(corruptWith ? this.corrupt(x, corruptWith) : x, training), training);
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
}
