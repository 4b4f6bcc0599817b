/**
 * Variational autoencoders (Kingma & Welling 2014): dense and convolutional, Bernoulli or Gaussian decoders,
 * trained on the ELBO with the reparameterisation trick and Adam; ELBO and IWAE (Burda et al. 2016) estimates
 * in nats; encode / decode / sample / latent-grid helpers; atomic save and load.
 *
 * The model, with x in R^D (flattened) and z in R^L:
 *
 *   p(z) = N(0, I),   q(z | x) = N(mu(x), diag(exp(logVar(x))))                 (encoder: mu, logVar [n, L])
 *   Bernoulli:  p(x | z) = prod_d sigmoid(l_d)^x_d (1 - sigmoid(l_d))^(1 - x_d)  (decoder: logits l [n, D])
 *   Gaussian:   p(x | z) = N(x | m(z), sigma^2 I)                                (decoder: means m [n, D])
 *
 *   ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z))  <=  log p(x)
 *
 * The Bernoulli log-likelihood is computed from the logits, log p(x|z) = sum_d [x_d l_d - softplus(l_d)], which
 * is exact for binary x and never takes log(0).
 */
import { ready, tf } from '../engine/backend';
import { normalQuantile } from '../mcmc/diagnostics';
import { Random } from '../engine/random';
import {
  assertKnownOptions,
  optionKeys,
  assertFiniteNumber,
  assertMatrix,
  assertNonNegativeInteger,
  assertOneOf,
  assertPositiveInteger,
  assertPositiveNumber,
  describeValue,
} from '../core/validate';
import { flattenData, type FlatData } from '../core/data';
import { resolveDataShape, shapeSize, unflatten } from '../core/data-shape';
import { Model, type Generative, type SampleOptions } from '../core/model';
import type { BatchTensor, DataShape } from '../core/shapes';
import { CompiledGradientStep, FitOptions, gradientStep, History, resolveFitOptions, resolveLoopOptions, trainableVariables, fitOptionMap } from '../train/loop';
import { compilationAvailable } from '../engine/tensorflow-graph';
import { klDiagonalGaussianUnchecked } from './kl';
import { convDecoder, convEncoder, denseDecoder, denseEncoder, HiddenActivation, WeightInit } from '../nets/factories';
import { reparameterise } from '../nets/latent';
import { JsonValue, readCheckpointManifest, saveCheckpoint } from '../core/checkpoint';
import { networkTensors, networkVariables, restoreNetworks } from '../core/network-weights';

/** The decoder's observation model. */
export type Likelihood = 'bernoulli' | 'gaussian';
const LIKELIHOODS: readonly Likelihood[] = ['bernoulli', 'gaussian'];

/**
 * Options for {@link VAE}: `dataShape` `[D]` + `hiddenUnits` (dense) or `dataShape` `[h, w, c]` (conv, the default
 * for images without `hiddenUnits`). `S` is the example shape, which types the outputs.
 */
export interface VAEOptions<S extends DataShape = DataShape> {
  /**
   * `'dense'` (an MLP on flat inputs; the default unless `dataShape` is an image shape and `hiddenUnits` is not
   * given) or `'conv'` (the Keras lecture model on images).
   */
  architecture?: 'dense' | 'conv';
  /**
   * Shape of one example: `[D]` (e.g. `[784]`) or `[height, width, channels]` (e.g. `[28, 28, 1]`; a conv VAE needs
   * this, with h and w divisible by 4: two halvings; a dense VAE flattens it). Data may be passed as `[n, D]` (D the
   * product, row-major h, w, c) or `[n, ...dataShape]`; `sample`, `decode`, `reconstruct` and `latentGrid` return
   * `[n, ...dataShape]`: `tf.Tensor2D` for `[D]`, `tf.Tensor4D` for `[h, w, c]`. Give this or one of its older
   * names, `inputDim` or `inputShape`.
   */
  dataShape?: S;
  /**
   * Older name: `inputDim: 784` is `dataShape: [784]` (the outputs are then typed `tf.Tensor`: prefer
   * `dataShape`). Next to `dataShape` or `inputShape` it must equal their size. Integer >= 1.
   */
  inputDim?: number;
  /** Older name of `dataShape` for images: `inputShape: [28, 28, 1]` is `dataShape: [28, 28, 1]`. */
  inputShape?: [number, number, number];
  /** Dense: hidden widths of the encoder, first to last, e.g. `[400]`; the decoder mirrors them. Default `[400]`. */
  hiddenUnits?: number[];
  /** Latent dimension L (integer >= 1): 2 for the latent-plane pictures, 20 for the PyTorch lecture model. */
  latentDim: number;
  /**
   * `'bernoulli'` (default; data in [0, 1], exact log-likelihood for binary data) or `'gaussian'` with fixed
   * standard deviation `sigma` (any real data).
   */
  likelihood?: Likelihood;
  /** Gaussian likelihood only: the decoder's fixed standard deviation, > 0. Default 1. */
  sigma?: number;
  /** Seed for the weight initialisation, shuffling and the reparameterisation noise. Default: random. */
  seed?: number;
  /**
   * Weight initialisation of the factory networks: `'glorot'` (default; Keras) or `'pytorch'` (torch.nn's
   * U(+-1/sqrt(fan_in)) for weights and biases, as in the PyTorch lecture model).
   */
  init?: WeightInit;
  /** Dense only: hidden activation. Default `'relu'` (both lectures). */
  activation?: HiddenActivation;
  /** Conv only: filters of the encoder's stride-2 convolutions. Default `[32, 64]` (decoder mirrors them). */
  convFilters?: number[];
  /** Conv only: width of the encoder's dense layer. Default 16 (the Keras lecture). */
  convDenseUnits?: number;
  /**
   * Your own encoder (replaces the factory one): a `tf.LayersModel` taking `[n, D]` or `[n, h, w, c]` and returning
   * `[mean, logVar]` (each `[n, L]`) or one `[n, 2L]` tensor. See lib/nets/factories.ts for the contract.
   */
  encoder?: tf.LayersModel;
  /** Your own decoder: `[n, L]` -> logits (Bernoulli) or means (Gaussian), shape `[n, D]` or `[n, h, w, c]`. */
  decoder?: tf.LayersModel;
}

const VAE_OPTION_KEYS = optionKeys<VAEOptions>({
  architecture: true, dataShape: true, inputDim: true, inputShape: true, hiddenUnits: true, latentDim: true, likelihood: true, sigma: true,
  seed: true, init: true, activation: true, convFilters: true, convDenseUnits: true, encoder: true, decoder: true,
});

/**
 * Options for {@link VAE.fit}: the loop's (see {@link FitOptions}: `validation`, `onEpoch`, `reset`,
 * `earlyStopping`, ...) with the VAE's defaults, and the KL weight and its warm-up.
 */
export interface VAEFitOptions extends FitOptions<VAEEpochLogs> {
  /** Passes over the data. Integer >= 1. Default 10 (the PyTorch lecture). */
  epochs?: number;
  /** Mini-batch size. Integer >= 1 (capped at the data size). Default 128 (both lectures). */
  batchSize?: number;
  /** Adam step size, > 0. Default 1e-3 (both lectures). */
  learningRate?: number;
  /** Weight of the KL term (beta-VAE; 1 is the ELBO). >= 0. Default 1. */
  beta?: number;
  /**
   * Epochs over which the KL weight rises linearly (per batch) from 0 to `beta`. 0 = no warm-up. Default 0. The
   * position in the warm-up carries over to a resumed `fit` (it counts batches since the first fit or `reset`).
   */
  klWarmup?: number;
  /** Reshuffle the data every epoch (seeded). Default true. */
  shuffle?: boolean;
  /**
   * Held-out data, same layout as `x`: its negative ELBO (one sample, beta = 1) is reported per epoch as `valLoss`,
   * with `valReconstruction` and `valKl`.
   */
  validation?: tf.Tensor;
}

const VAE_FIT_OPTION_KEYS = optionKeys<VAEFitOptions>({ ...fitOptionMap(), beta: true, klWarmup: true });

/** Metrics of one epoch, in nats per example. */
export interface VAEEpochLogs {
  /**
   * Training objective: reconstruction + beta * kl (the negative ELBO when beta = 1). During a KL warm-up the
   * weight changes per batch, and this is the mean of the batch objectives.
   */
  loss: number;
  /** -E_q[log p(x|z)], one reparameterised sample per example. */
  reconstruction: number;
  /** KL(q(z|x) || p(z)), closed form. */
  kl: number;
  /** The KL weight at the end of the epoch. */
  beta: number;
  /** Wall seconds of the epoch's training (without validation and callbacks). */
  seconds: number;
  /** Validation negative ELBO (when `validation` is given). */
  valLoss?: number;
  /** Validation reconstruction term. */
  valReconstruction?: number;
  /** Validation KL term. */
  valKl?: number;
}

/** Options for {@link VAE.elbo}. */
export interface ElboOptions {
  /** Monte Carlo samples of z per example for E_q[log p(x|z)] (the KL is exact). Integer >= 1. Default 1. */
  samples?: number;
  /** Seed of the noise. Default: drawn from the model's generator. */
  seed?: number;
}

const ELBO_OPTION_KEYS = optionKeys<ElboOptions>({ samples: true, seed: true });

/** Options for {@link VAE.iwae}. */
export interface IwaeOptions {
  /** Importance samples k per example (k = 1 gives the ELBO; Burda et al. use 50 and 5000). Integer >= 1. */
  samples: number;
  /** Seed of the noise. Default: drawn from the model's generator. */
  seed?: number;
}

const IWAE_OPTION_KEYS = optionKeys<IwaeOptions>({ samples: true, seed: true });

/** Options for {@link VAE.iwaeEstimate}. */
export interface IwaeEstimateOptions extends IwaeOptions {
  /** Independent evaluations whose spread gives the error bar. Default 10; integer >= 2. */
  repeats?: number;
}

/** The option names of {@link IwaeEstimateOptions}, for `assertKnownOptions`. */
const IWAE_ESTIMATE_OPTION_KEYS = optionKeys<IwaeEstimateOptions>({ samples: true, seed: true, repeats: true });

/** An IWAE estimate with its Monte Carlo error bar; see {@link VAE.iwaeEstimate}. */
export interface IwaeEstimate {
  /** Mean over the repeats of the k-sample bound averaged over rows (nats): unbiased for E[L_k], below log p(x). */
  value: number;
  /**
   * Standard error of `value`: sd(repeat values) / sqrt(repeats), one sigma of the Monte Carlo noise from the
   * z draws (the rows are fixed). It does not include the bound's gap log p(x) - E[L_k] >= 0.
   */
  stderr: number;
  /** The value of each independent evaluation. */
  repeats: number[];
  /** Importance samples k per row and evaluation. */
  samples: number;
}

/** Options for {@link VAE.sample}. */
export interface VAESampleOptions extends SampleOptions {
  /** Seed of z ~ N(0, I) (and of the pixel noise with `draw`). Default: drawn from the model's generator. */
  seed?: number;
  /**
   * false (default): return the decoder means E[x | z] (grey-level images, as in the lectures); true: draw
   * x ~ p(x | z) (binary pixels for Bernoulli).
   */
  draw?: boolean;
}

const VAE_SAMPLE_OPTION_KEYS = optionKeys<VAESampleOptions>({ seed: true, draw: true });

/** Options for {@link VAE.latentGrid}. */
export interface LatentGridOptions {
  /** Points per axis (the picture is n x n images). Integer >= 1. Default 30 (the Keras lecture). */
  n?: number;
  /**
   * `[lo, hi]`: evenly spaced z values (default `[-3, 3]`); `'quantiles'`: z = Phi^-1(p) at p = (i + 0.5) / n, so
   * the grid covers equal prior mass per cell (Kingma & Welling's figure).
   */
  range?: [number, number] | 'quantiles';
  /** Which two latent dimensions span the plane; the others stay 0. Default `[0, 1]`. */
  dims?: [number, number];
}

const LATENT_GRID_OPTION_KEYS = optionKeys<LatentGridOptions>({ n: true, range: true, dims: true });

/** Defaults with their reasons. */
const DEFAULTS = {
  hiddenUnits: [400] /* the PyTorch lecture model */,
  epochs: 10 /* the PyTorch lecture */,
  batchSize: 128 /* both lectures */,
  learningRate: 1e-3 /* Adam's default; both lectures */,
  adamEpsilon: 1e-8 /* PyTorch's Adam default (tfjs uses 1e-7) */,
  beta: 1 /* the ELBO */,
  sigma: 1 /* unit-variance Gaussian decoder */,
  gridN: 30 /* the Keras lecture's 30x30 grid */,
  decodeBudgetDense: 4096 /* decoded samples per block in ELBO/IWAE: ~13 MB of logits at D = 784 */,
  decodeBudgetConv: 256 /* conv decoders hold 28x28x32 maps per sample: ~26 MB per block */,
} as const;

const LOG_2PI = Math.log(2 * Math.PI);

/** Serializable configuration (what a checkpoint stores). */
interface VAEConfig {
  architecture: 'dense' | 'conv';
  dataShape: number[];
  hiddenUnits: number[];
  latentDim: number;
  likelihood: Likelihood;
  sigma: number;
  seed: number;
  activation: HiddenActivation;
  convFilters: number[];
  convDenseUnits: number;
  init: WeightInit;
  custom: boolean;
}

/**
 * A variational autoencoder. Dense: `new VAE({ dataShape: [784], hiddenUnits: [400], latentDim: 20, likelihood:
 * 'bernoulli', seed: 1 })` (the PyTorch lecture model). Convolutional: `new VAE({ dataShape: [28, 28, 1],
 * architecture: 'conv', latentDim: 2, likelihood: 'bernoulli', seed: 1 })` (the Keras lecture model).
 *
 * Data are `[n, D]` or `[n, ...dataShape]` tensors; Bernoulli data must lie in [0, 1]. What it returns as data
 * (`sample`, `decode`, `reconstruct`, `latentGrid`) is `[n, ...dataShape]`, typed by `S`: `tf.Tensor2D` for
 * `dataShape: [784]`, `tf.Tensor4D` for `[28, 28, 1]`.
 */
export class VAE<S extends DataShape = DataShape> extends Model implements Generative<S> {
  readonly kind = 'VAE';
  /** The encoder network x -> (mean, logVar). */
  readonly encoder: tf.LayersModel;
  /** The decoder network z -> logits (Bernoulli) or means (Gaussian). */
  readonly decoder: tf.LayersModel;
  /** Shape of one example, e.g. `[784]` or `[28, 28, 1]`. */
  readonly dataShape: number[];
  /** Flattened input width D (the product of `dataShape`). */
  readonly inputDim: number;
  /** `dataShape` when it is an image shape `[h, w, c]`, else null. */
  readonly inputShape: [number, number, number] | null;
  /** Latent dimension L. */
  readonly latentDim: number;
  /** Observation model. */
  readonly likelihood: Likelihood;
  /** Gaussian decoder standard deviation (unused for Bernoulli). */
  readonly sigma: number;
  /** `'dense'` or `'conv'`. */
  readonly architecture: 'dense' | 'conv';
  private readonly config: VAEConfig;
  private readonly rng: Random;
  /** Shape the encoder takes after the batch axis (flat [D] or [h, w, c]). */
  private readonly encoderInput: number[];

  constructor(opts: VAEOptions<S>) {
    super(); // registers the model with the enclosing scope(); this.training carries the KL warm-up and Adam state
    assertKnownOptions('VAE', opts, VAE_OPTION_KEYS);
    if (opts === null || typeof opts !== 'object') throw new TypeError(`opts must be an object; got ${describeValue(opts)}`);
    const shape = resolveDataShape(opts);
    const architecture = opts.architecture ?? (shape?.length === 3 && !opts.hiddenUnits ? 'conv' : 'dense');
    assertOneOf('architecture', architecture, ['dense', 'conv'] as const);
    assertPositiveInteger('latentDim', opts.latentDim);
    const likelihood = opts.likelihood ?? 'bernoulli';
    assertOneOf('likelihood', likelihood, LIKELIHOODS);
    const sigma = opts.sigma ?? DEFAULTS.sigma;
    assertPositiveNumber('sigma', sigma);
    if (opts.seed !== undefined) assertFiniteNumber('seed', opts.seed);
    const rng = new Random(opts.seed);
    const activation = opts.activation ?? 'relu';
    const convFilters = opts.convFilters ?? [32, 64];
    const convDenseUnits = opts.convDenseUnits ?? 16;
    const hiddenUnits = opts.hiddenUnits ?? [...DEFAULTS.hiddenUnits];
    const init = opts.init ?? 'glorot';
    assertOneOf('init', init, ['glorot', 'pytorch'] as const);

    if (!shape) throw new TypeError('dataShape must be given: the shape of one example, e.g. [784] or [28, 28, 1] (or its older names inputDim, inputShape)');
    if (architecture === 'conv' && shape.length !== 3) {
      throw new RangeError(`a conv VAE needs dataShape (or inputShape) [height, width, channels]; got [${shape.join(', ')}]`);
    }
    const inputShape: [number, number, number] | null = shape.length === 3 ? [shape[0], shape[1], shape[2]] : null;
    const inputDim = shapeSize(shape);
    const L = opts.latentDim;
    const encSeed = rng.seedInt();
    const decSeed = rng.seedInt();
    if (opts.encoder !== undefined && !(opts.encoder instanceof tf.LayersModel)) {
      throw new TypeError(`encoder must be a tf.LayersModel; got ${describeValue(opts.encoder)}`);
    }
    if (opts.decoder !== undefined && !(opts.decoder instanceof tf.LayersModel)) {
      throw new TypeError(`decoder must be a tf.LayersModel; got ${describeValue(opts.decoder)}`);
    }
    const built: tf.LayersModel[] = []; // factory networks, freed if a check below fails (the caller's are theirs)
    const factory = (make: () => tf.LayersModel): tf.LayersModel => {
      const net = make();
      built.push(net);
      return net;
    };
    try {
      const encoder =
        opts.encoder ??
        factory(() =>
          architecture === 'conv'
            ? convEncoder({ inputShape: inputShape!, latentDim: L, filters: convFilters, denseUnits: convDenseUnits, seed: encSeed, init })
            : denseEncoder({ inputDim, hiddenUnits, latentDim: L, activation, seed: encSeed, init }),
        );
      const decoder =
        opts.decoder ??
        factory(() =>
          architecture === 'conv'
            ? convDecoder({ latentDim: L, outputShape: inputShape!, filters: [...convFilters].reverse(), seed: decSeed, init })
            : denseDecoder({ latentDim: L, hiddenUnits: [...hiddenUnits].reverse(), outputDim: inputDim, activation, seed: decSeed, init }),
        );
      this.encoderInput = checkNetworks(encoder, decoder, inputDim, L);
      this.encoder = encoder;
      this.decoder = decoder;
    } catch (e) {
      built.forEach((net) => net.dispose());
      throw e;
    }
    this.dataShape = [...shape];
    this.inputDim = inputDim;
    this.inputShape = inputShape;
    this.latentDim = L;
    this.likelihood = likelihood;
    this.sigma = sigma;
    this.architecture = architecture;
    this.rng = rng;
    this.config = {
      architecture,
      dataShape: [...shape],
      hiddenUnits,
      latentDim: L,
      likelihood,
      sigma,
      seed: rng.seed,
      activation,
      convFilters,
      convDenseUnits,
      init,
      custom: opts.encoder !== undefined || opts.decoder !== undefined,
    };
  }

  // ------------------------------------------------------------------------------------------------------
  // Training

  /**
   * Trains on `x` by maximising the ELBO with the reparameterisation trick (z = mean + exp(logVar/2) * eps,
   * eps ~ N(0, I), one sample per example) and Adam, through genlab's one training loop (lib/train). One
   * tidy-wrapped step per batch; the epoch's metrics are read from the device once per epoch.
   *
   * Resuming: a second `fit` continues where the previous one stopped -- epoch numbers go on (6..10 after 5), the
   * Adam moments and step count carry over (while the learning rate is unchanged), and so does the KL warm-up
   * position; with the same options, fit(2 epochs) then fit(3) equals fit(5). `reset: true` starts afresh: new
   * Adam state, warm-up from 0, epoch counter 0; the weights are kept. A fit that diverges (NaN or infinite loss or
   * weights) throws and leaves the weights as after its last finite epoch.
   * @param x Training data `[n, D]` or `[n, ...dataShape]`, finite; Bernoulli data in [0, 1].
   * @returns The {@link History}: `epoch`, `seconds`, `loss`, `reconstruction`, `kl` (nats per example), `beta`
   *   (the KL weight at the end of each epoch), and `valLoss`, `valReconstruction`, `valKl` with `validation`.
   */
  async fit(x: tf.Tensor, opts: VAEFitOptions = {}): Promise<History> {
    assertKnownOptions('VAE.fit', opts, VAE_FIT_OPTION_KEYS);
    await ready();
    this.assertAlive();
    const { epochs, batchSize: batchSizeOpt, learningRate } = resolveFitOptions(opts, DEFAULTS);
    const { reset } = resolveLoopOptions('VAE.fit', opts);
    const beta = opts.beta ?? DEFAULTS.beta;
    assertFiniteNumber('beta', beta, { min: 0 });
    const klWarmup = opts.klWarmup ?? 0;
    assertNonNegativeInteger('klWarmup', klWarmup);
    const data = this.flat('x', x, true);
    let val: FlatData | null = null;
    try {
      if (opts.validation !== undefined) val = this.flat('validation', opts.validation, true);
    } catch (e) {
      if (data.owned) data.x.dispose();
      throw e;
    }
    const n = data.x.shape[0];
    const batches = Math.ceil(n / Math.min(batchSizeOpt, n));
    const warmupSteps = klWarmup * batches;
    const betaAt = (step: number): number => (warmupSteps > 0 ? beta * Math.min(1, (step + 1) / warmupSteps) : beta);
    const vars = trainableVariables(this.encoder, this.decoder);
    if (reset) this.training.reset();
    const optimizer = this.training.adam(learningRate, DEFAULTS.adamEpsilon);
    const L = this.latentDim;
    let betaT = beta;
    // The negative ELBO of batch xb [b, D] with noise [b, L] and KL weight beta, and its parts.
    const lossAndMetrics = (xb: tf.Tensor2D, noise: tf.Tensor2D, betaT: tf.Scalar | number): [tf.Scalar, tf.Tensor] => {
      const [mean, logVar] = this.encodeT(xb, true); //                                        [b, L] each
      const z = reparameterise(mean, logVar, noise); // z = mean + exp(logVar / 2) * eps         [b, L]
      const out = this.decodeT(z, true); //                                                   [b, D]
      const rec = tf.neg(this.logLikT(xb, out)).mean(); // -E_q log p(x|z), one sample            []
      const kl = klDiagonalGaussianUnchecked(mean, logVar).mean(); //                            []
      const loss = rec.add(kl.mul(betaT)) as tf.Scalar;
      return [loss, tf.stack([loss, rec, kl])];
    };
    // On the native TensorFlow backend: the batch's gather, forward and backward pass as one TensorFlow function.
    const compiled = compilationAvailable()
      ? new CompiledGradientStep(vars, optimizer, ([x, rows, noise, betaS]) => lossAndMetrics(tf.gather(x, rows) as tf.Tensor2D, noise as tf.Tensor2D, betaS as tf.Scalar), 'vae_step')
      : null;
    const rng = this.training.generator(opts.seed, () => this.rng.fork()); // the training stream (carried across fits)
    const drawNoise = (size: number): tf.Tensor2D => tf.tensor2d(rng.normalArray(size * L), [size, L]); // [b, L]
    try {
      return await this.fitLoop(opts, {
        x: data.x,
        epochs,
        batchSize: batchSizeOpt,
        rng,
        metricNames: ['loss', 'reconstruction', 'kl'],
        learningRate,
        step: (xb, size, step) => {
          betaT = betaAt(step);
          const noise = drawNoise(size);
          return gradientStep(optimizer, vars, () => lossAndMetrics(xb, noise, betaT));
        },
        stepRows: compiled
          ? (x, rows, size, step) => {
              betaT = betaAt(step);
              return compiled.run([x, rows, drawNoise(size), tf.scalar(betaT)]);
            }
          : undefined,
        endEpoch: () => ({ beta: betaT }),
        validationData: val?.x,
        validate: (v) => {
          const t = this.elboTermsMean(v, 1, this.rng.fork()); // beta = 1: the negative ELBO
          return { loss: t.rec + t.kl, reconstruction: t.rec, kl: t.kl };
        },
      });
    } finally {
      compiled?.dispose();
      if (data.owned) data.x.dispose();
      if (val?.owned) val.x.dispose();
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // Likelihood bounds

  /**
   * Mean per-example ELBO in nats: E_q[log p(x|z)] (Monte Carlo with `samples` draws) - KL(q(z|x) || p(z))
   * (exact). Bernoulli: the exact log-likelihood of binary data; Gaussian: includes -D/2 log(2 pi sigma^2).
   * An unbiased Monte Carlo estimate of the ELBO, which is a lower bound on log p(x) (the gap is KL(q || posterior));
   * no error bar: {@link VAE.iwaeEstimate} with `samples: 1` gives the ELBO with one.
   */
  async elbo(x: tf.Tensor, opts: ElboOptions = {}): Promise<number> {
    assertKnownOptions('VAE.elbo', opts, ELBO_OPTION_KEYS);
    const rows = await this.elboPerExample(x, opts);
    return mean(rows);
  }

  /** The ELBO of each example (nats), as {@link VAE.elbo} averages it. */
  async elboPerExample(x: tf.Tensor, opts: ElboOptions = {}): Promise<Float32Array> {
    assertKnownOptions('VAE.elboPerExample', opts, ELBO_OPTION_KEYS);
    await ready();
    this.assertAlive();
    const samples = opts.samples ?? 1;
    assertPositiveInteger('samples', samples);
    const rng = this.evalRng(opts.seed);
    const data = this.flat('x', x, true);
    try {
      const t = tf.tidy(() => {
        const { rec, kl } = this.elboTermsT(data.x, samples, rng);
        return rec.sub(kl);
      });
      const out = (await t.data()) as Float32Array;
      t.dispose();
      return out;
    } finally {
      if (data.owned) data.x.dispose();
    }
  }

  /**
   * Mean per-example importance-weighted bound (Burda et al. 2016) in nats:
   * log (1/k) sum_i p(x, z_i) / q(z_i | x), z_i ~ q(z | x). Rises with k towards log p(x); k = 1 is the ELBO.
   * Computed in blocks (log-sum-exp over samples), so k in the thousands fits in memory.
   * One noisy draw of the bound, biased low as an estimate of log p(x) and without an error bar: use
   * {@link VAE.iwaeEstimate} for one.
   */
  async iwae(x: tf.Tensor, opts: IwaeOptions): Promise<number> {
    assertKnownOptions('VAE.iwae', opts, IWAE_OPTION_KEYS);
    const rows = await this.iwaePerExample(x, opts);
    return mean(rows);
  }

  /**
   * The IWAE bound with an honest error bar: `repeats` independent evaluations of {@link VAE.iwae} (fresh z draws,
   * same rows), value = their mean, stderr = their sd / sqrt(repeats).
   *
   * Bias: each evaluation is an unbiased estimate of E[L_k], the expected k-sample bound, which is a LOWER bound
   * on the mean log p(x) (Burda et al. 2016: E[L_1] = ELBO <= E[L_k] <= E[L_{k+1}] <= log p(x)); as an estimate of
   * log p(x) it is therefore biased low, by a gap that shrinks as k grows (the error bar does not include it).
   * The error bar is the Monte Carlo standard error of the mean over repeats (one sigma); value +- t * stderr
   * (Student's t, repeats - 1 dof) covers E[L_k] at the nominal rate (test/vae.test.ts measures it on a
   * linear-Gaussian model with exact ELBO). Cost: `repeats` times {@link VAE.iwae}.
   */
  async iwaeEstimate(x: tf.Tensor, opts: IwaeEstimateOptions): Promise<IwaeEstimate> {
    this.assertAlive();
    if (opts === null || typeof opts !== 'object') throw new TypeError(`opts must be { samples, repeats?, seed? }; got ${describeValue(opts)}`);
    assertKnownOptions('VAE.iwaeEstimate', opts, IWAE_ESTIMATE_OPTION_KEYS);
    await ready();
    const repeats = opts.repeats ?? 10;
    assertPositiveInteger('repeats', repeats);
    if (repeats < 2) throw new RangeError(`repeats must be an integer >= 2 (their spread is the error bar); got ${describeValue(repeats)}`);
    const rng = this.evalRng(opts.seed);
    const values: number[] = [];
    for (let r = 0; r < repeats; r++) values.push(await this.iwae(x, { samples: opts.samples, seed: rng.fork().seed }));
    const value = values.reduce((a, b) => a + b, 0) / repeats;
    const sd = Math.sqrt(values.reduce((a, v) => a + (v - value) ** 2, 0) / (repeats - 1));
    return { value, stderr: sd / Math.sqrt(repeats), repeats: values, samples: opts.samples };
  }

  /** The IWAE bound of each example (nats), as {@link VAE.iwae} averages it. */
  async iwaePerExample(x: tf.Tensor, opts: IwaeOptions): Promise<Float32Array> {
    assertKnownOptions('VAE.iwaePerExample', opts, IWAE_OPTION_KEYS);
    await ready();
    this.assertAlive();
    if (opts === null || typeof opts !== 'object') throw new TypeError(`opts must be { samples }; got ${describeValue(opts)}`);
    const k = opts.samples;
    assertPositiveInteger('samples', k);
    const rng = this.evalRng(opts.seed);
    const data = this.flat('x', x, true);
    try {
      const X = data.x;
      const n = X.shape[0];
      const budget = this.decodeBudget();
      const rowsPerBlock = Math.max(1, Math.min(n, Math.floor(budget / k)));
      const sampleChunk = Math.min(k, budget);
      const out = new Float32Array(n);
      for (let r0 = 0; r0 < n; r0 += rowsPerBlock) {
        const b = Math.min(rowsPerBlock, n - r0);
        const t = tf.tidy(() => {
          const xb = X.slice([r0, 0], [b, this.inputDim]);
          const [mu, logVar] = this.encodeT(xb, false); //                                          [b, L]
          const logVarSum = logVar.sum(-1); //                                                        [b]
          const chunks: tf.Tensor[] = [];
          for (let s0 = 0; s0 < k; s0 += sampleChunk) {
            const s = Math.min(sampleChunk, k - s0);
            chunks.push(
              tf.tidy(() => {
                const eps = tf.tensor3d(rng.normalArray(s * b * this.latentDim), [s, b, this.latentDim]);
                const z = reparameterise(mu, logVar, eps); //                                        [s, b, L]
                const out3 = this.decodeT(z.reshape([s * b, this.latentDim]), false).reshape([s, b, this.inputDim]);
                const logPx = this.logLikT(xb, out3); // log p(x | z_i)                              [s, b]
                // log p(z) - log q(z|x) = -1/2 sum z^2 + 1/2 sum (eps^2 + logVar)  (the 2 pi terms cancel)
                const logPz = tf.square(z).sum(-1).mul(-0.5);
                const logQz = tf.square(eps).sum(-1).add(logVarSum).mul(-0.5);
                return logPx.add(logPz).sub(logQz); //                                               [s, b]
              }),
            );
          }
          const logW = chunks.length === 1 ? chunks[0] : tf.concat(chunks, 0); //                   [k, b]
          return tf.logSumExp(logW, 0).sub(Math.log(k)); //                                          [b]
        });
        out.set((await t.data()) as Float32Array, r0);
        t.dispose();
      }
      return out;
    } finally {
      if (data.owned) data.x.dispose();
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // Encoding, decoding, sampling

  /**
   * The approximate posterior q(z|x) = N(mean, diag(exp(logVar))). Returns two `[n, L]` tensors (caller disposes).
   * @param x `[n, D]` or `[n, ...dataShape]`.
   */
  encode(x: tf.Tensor): { mean: tf.Tensor2D; logVar: tf.Tensor2D } {
    this.assertAlive();
    const data = this.flat('x', x, false);
    try {
      const [mean, logVar] = tf.tidy(() => this.encodeT(data.x, false));
      return { mean, logVar };
    } finally {
      if (data.owned) data.x.dispose();
    }
  }

  /**
   * The decoder's mean E[x | z] for each row of `z` `[m, L]`: pixel probabilities (Bernoulli) or means (Gaussian),
   * `[m, ...dataShape]`. Caller disposes.
   */
  decode(z: tf.Tensor | number[][]): BatchTensor<S> {
    this.assertAlive();
    const zt = z instanceof tf.Tensor ? z : tf.tensor2d(z as number[][]);
    try {
      assertMatrix('z', zt, { width: this.latentDim, checkFinite: false });
      return tf.tidy(() => unflatten(this.meanOf(this.decodeT(zt as tf.Tensor2D, false)), this.dataShape) as BatchTensor<S>);
    } finally {
      if (zt !== z) zt.dispose();
    }
  }

  /**
   * Encodes `x` (`[n, D]` or `[n, ...dataShape]`) to its posterior mean and decodes it: E[x | z = mean(x)],
   * `[n, ...dataShape]`. Caller disposes.
   */
  reconstruct(x: tf.Tensor): BatchTensor<S> {
    this.assertAlive();
    const data = this.flat('x', x, false);
    try {
      return tf.tidy(() => {
        const [m] = this.encodeT(data.x, false);
        return unflatten(this.meanOf(this.decodeT(m, false)), this.dataShape) as BatchTensor<S>;
      });
    } finally {
      if (data.owned) data.x.dispose();
    }
  }

  /**
   * `n` samples from the model: z ~ N(0, I), then E[x | z] (or x ~ p(x|z) with `draw`), `[n, ...dataShape]`. Same
   * `seed`, same samples. Caller disposes.
   */
  async sample(n: number, opts: VAESampleOptions = {}): Promise<BatchTensor<S>> {
    assertKnownOptions('VAE.sample', opts, VAE_SAMPLE_OPTION_KEYS);
    await ready();
    this.assertAlive();
    assertPositiveInteger('n', n);
    const rng = this.evalRng(opts.seed);
    const D = this.inputDim;
    return tf.tidy(() => {
      const z = tf.tensor2d(rng.normalArray(n * this.latentDim), [n, this.latentDim]); //            [n, L]
      const m = this.meanOf(this.decodeT(z, false)); //                                   E[x | z]  [n, D]
      let x: tf.Tensor2D = m;
      if (opts.draw && this.likelihood === 'bernoulli') {
        x = tf.tensor2d(rng.uniformArray(n * D), [n, D]).less(m).toFloat() as tf.Tensor2D; // x_d ~ Bernoulli(m_d)
      } else if (opts.draw) {
        x = m.add(tf.tensor2d(rng.normalArray(n * D), [n, D]).mul(this.sigma)); //               x ~ N(m, sigma^2 I)
      }
      return unflatten(x, this.dataShape) as BatchTensor<S>;
    });
  }

  /**
   * Decoded images over a 2D grid of latent values (the "manifold" picture): `[n*n, ...dataShape]`, row-major with
   * the first latent dimension increasing left to right and the second decreasing top to bottom (so the picture has
   * the usual axes). Other latent dimensions are 0. Pair with an image-grid display of n columns.
   */
  latentGrid(opts: LatentGridOptions = {}): BatchTensor<S> {
    assertKnownOptions('VAE.latentGrid', opts, LATENT_GRID_OPTION_KEYS);
    this.assertAlive();
    const { z } = latentGridPoints(this.latentDim, opts);
    return tf.tidy(() => {
      const points = tf.tensor2d(z, [z.length / this.latentDim, this.latentDim]); //                      [n*n, L]
      return unflatten(this.meanOf(this.decodeT(points, false)), this.dataShape) as BatchTensor<S>;
    });
  }

  // ------------------------------------------------------------------------------------------------------
  // Files

  /**
   * Saves the model to directory `dir` atomically (see lib/core/checkpoint.ts): a crash mid-save leaves the previous
   * checkpoint loadable; a corrupted file is refused on load. Custom encoders/decoders are saved with their
   * topology.
   */
  async save(dir: string): Promise<void> {
    this.assertAlive();
    const tensors = networkTensors({ encoder: this.encoder, decoder: this.decoder });
    const config: { [key: string]: JsonValue } = { ...(this.config as unknown as { [key: string]: JsonValue }) };
    if (this.config.custom) {
      config.encoderTopology = this.encoder.toJSON(null, false) as unknown as JsonValue;
      config.decoderTopology = this.decoder.toJSON(null, false) as unknown as JsonValue;
    }
    await saveCheckpoint(dir, { kind: 'VAE', config, tensors });
  }

  /** Loads a model written by {@link VAE.save}; refuses missing, corrupted or truncated checkpoints. */
  static async load(dir: string): Promise<VAE> {
    // tfjs rebuilds a saved topology asynchronously: custom networks are made from the manifest first.
    const manifest = readCheckpointManifest(dir);
    const saved = manifest.config as unknown as VAEConfig & { encoderTopology?: JsonValue; decoderTopology?: JsonValue };
    const nets: tf.LayersModel[] = [];
    if (manifest.kind === 'VAE' && saved?.custom) {
      for (const topology of [saved.encoderTopology, saved.decoderTopology]) {
        nets.push(await tf.models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] }));
      }
    }
    let owned = true; // the networks are freed with the model once it is built
    try {
      return await VAE.loadCheckpointed(
        dir,
        'VAE',
        (config) => {
          // Checkpoints written before dataShape hold inputDim and inputShape (null for a flat input).
          const c = config as unknown as VAEConfig & { inputDim?: number; inputShape?: [number, number, number] | null };
          const vae = new VAE({
            architecture: c.architecture,
            dataShape: c.dataShape ?? c.inputShape ?? (c.inputDim === undefined ? undefined : [c.inputDim]),
            hiddenUnits: c.hiddenUnits,
            latentDim: c.latentDim,
            likelihood: c.likelihood,
            sigma: c.sigma,
            seed: c.seed,
            activation: c.activation,
            convFilters: c.convFilters,
            convDenseUnits: c.convDenseUnits,
            init: c.init,
            encoder: nets[0],
            decoder: nets[1],
          });
          owned = false;
          return vae;
        },
        (vae, tensors) => restoreNetworks(dir, tensors, { encoder: vae.encoder, decoder: vae.decoder }),
      );
    } finally {
      if (owned) nets.forEach((net) => net.dispose());
    }
  }

  /** Every weight of the encoder and the decoder: what the optimiser updates, and what a diverged `fit` puts back. */
  protected variables(): tf.Variable[] {
    return networkVariables(this.encoder, this.decoder);
  }

  /** Frees the networks (missing when the constructor failed). */
  protected release(): void {
    (this.encoder as tf.LayersModel | undefined)?.dispose();
    (this.decoder as tf.LayersModel | undefined)?.dispose();
  }

  /** A short description, e.g. `dense 784-400-20 bernoulli`. */
  describe(): string {
    const c = this.config;
    const body =
      c.architecture === 'conv'
        ? `conv ${c.dataShape.join('x')} [${c.convFilters.join(',')}]-${c.convDenseUnits}-${c.latentDim}`
        : `dense ${[this.inputDim, ...c.hiddenUnits, c.latentDim].join('-')}`;
    return `${c.custom ? 'custom ' : ''}${body} ${c.likelihood}`;
  }

  // ------------------------------------------------------------------------------------------------------
  // Internals (call inside tf.tidy)

  /** Encoder on flat x [n, D] -> [mean, logVar], each [n, L]. */
  private encodeT(x: tf.Tensor2D, training: boolean): [tf.Tensor2D, tf.Tensor2D] {
    const input = this.encoderInput.length === 1 ? x : x.reshape([x.shape[0], ...this.encoderInput]);
    const out = this.encoder.apply(input, { training }) as tf.Tensor | tf.Tensor[];
    if (Array.isArray(out)) return [out[0] as tf.Tensor2D, out[1] as tf.Tensor2D];
    const [m, lv] = tf.split(out, 2, -1);
    return [m as tf.Tensor2D, lv as tf.Tensor2D];
  }

  /** Decoder on z [m, L] -> flat logits or means [m, D]. */
  private decodeT(z: tf.Tensor2D, training: boolean): tf.Tensor2D {
    const out = this.decoder.apply(z, { training }) as tf.Tensor;
    return (out.rank === 2 ? out : out.reshape([z.shape[0], this.inputDim])) as tf.Tensor2D;
  }

  /** Decoder output -> E[x | z]: sigmoid of the logits (Bernoulli) or the means themselves (Gaussian). */
  private meanOf(out: tf.Tensor2D): tf.Tensor2D {
    return this.likelihood === 'bernoulli' ? (tf.sigmoid(out) as tf.Tensor2D) : out;
  }

  /**
   * log p(x | z) summed over the D pixels; `out` (decoder output) may carry extra leading axes ([s, b, D] against
   * x [b, D]). Bernoulli: sum_d [x_d l_d - softplus(l_d)]. Gaussian: -|x - m|^2 / (2 sigma^2) - D/2 log(2 pi sigma^2).
   */
  private logLikT(x: tf.Tensor, out: tf.Tensor): tf.Tensor {
    if (this.likelihood === 'bernoulli') return tf.mul(x, out).sub(tf.softplus(out)).sum(-1);
    const s2 = this.sigma * this.sigma;
    return tf
      .squaredDifference(x, out)
      .sum(-1)
      .mul(-0.5 / s2)
      .sub(0.5 * this.inputDim * (LOG_2PI + Math.log(s2)));
  }

  /** Per-example E_q[log p(x|z)] (average over `samples` draws) and KL, in row blocks. Returns [n] each. */
  private elboTermsT(X: tf.Tensor2D, samples: number, rng: Random): { rec: tf.Tensor1D; kl: tf.Tensor1D } {
    const n = X.shape[0];
    const L = this.latentDim;
    const rows = Math.max(1, Math.min(n, Math.floor(this.decodeBudget() / samples)));
    const recs: tf.Tensor[] = [];
    const kls: tf.Tensor[] = [];
    for (let r0 = 0; r0 < n; r0 += rows) {
      const b = Math.min(rows, n - r0);
      const [rec, kl] = tf.tidy(() => {
        const xb = X.slice([r0, 0], [b, this.inputDim]);
        const [mu, logVar] = this.encodeT(xb, false);
        const eps = tf.tensor3d(rng.normalArray(samples * b * L), [samples, b, L]);
        const z = reparameterise(mu, logVar, eps).reshape([samples * b, L]) as tf.Tensor2D; //     [samples * b, L]
        const out = this.decodeT(z, false).reshape([samples, b, this.inputDim]);
        return [this.logLikT(xb, out).mean(0), klDiagonalGaussianUnchecked(mu, logVar)];
      });
      recs.push(rec);
      kls.push(kl);
    }
    const rec = (recs.length === 1 ? recs[0] : tf.concat(recs)) as tf.Tensor1D;
    const kl = (kls.length === 1 ? kls[0] : tf.concat(kls)) as tf.Tensor1D;
    if (recs.length > 1) tf.dispose([...recs, ...kls]);
    return { rec, kl };
  }

  /** Mean negative reconstruction term and KL over X (nats), one read. */
  private elboTermsMean(X: tf.Tensor2D, samples: number, rng: Random): { rec: number; kl: number } {
    const t = tf.tidy(() => {
      const { rec, kl } = this.elboTermsT(X, samples, rng);
      return tf.stack([rec.mean().neg(), kl.mean()]);
    });
    const [rec, kl] = t.dataSync();
    t.dispose();
    return { rec, kl };
  }

  private decodeBudget(): number {
    return this.architecture === 'conv' ? DEFAULTS.decodeBudgetConv : DEFAULTS.decodeBudgetDense;
  }

  private evalRng(seed: number | undefined): Random {
    if (seed !== undefined) assertFiniteNumber('seed', seed);
    return seed === undefined ? this.rng.fork() : new Random(seed);
  }

  /**
   * Checks data and returns it flat `[n, D]` (`owned`: a new tensor, to dispose). `full` also checks finiteness
   * (and [0, 1] for Bernoulli), which reads the data once.
   */
  private flat(name: string, x: unknown, full: boolean): FlatData {
    return flattenData(name, x, this.dataShape, {
      finite: full,
      range: full && this.likelihood === 'bernoulli' ? [0, 1] : undefined,
      rangeHint: "a Bernoulli VAE takes data in [0, 1]; use likelihood: 'gaussian' for other data",
    });
  }

}

/**
 * The latent points of {@link VAE.latentGrid}: `z` (flat, `n*n` rows of `latentDim`), and the axis values
 * `xs` (left to right) and `ys` (top to bottom, decreasing).
 */
export function latentGridPoints(
  latentDim: number,
  opts: LatentGridOptions = {},
): { z: Float32Array; xs: number[]; ys: number[] } {
  assertKnownOptions('latentGridPoints', opts, LATENT_GRID_OPTION_KEYS);
  assertPositiveInteger('latentDim', latentDim);
  const n = opts.n ?? DEFAULTS.gridN;
  assertPositiveInteger('n', n);
  const range = opts.range ?? [-3, 3];
  const dims = opts.dims ?? [0, 1];
  if (latentDim < 2) throw new RangeError(`latentGrid needs latentDim >= 2; got ${latentDim}`);
  if (!Array.isArray(dims) || dims.length !== 2) throw new RangeError(`dims must be two latent indices; got ${describeValue(dims)}`);
  dims.forEach((d, i) => {
    assertNonNegativeInteger(`dims[${i}]`, d);
    if (d >= latentDim) throw new RangeError(`dims[${i}] must be < latentDim = ${latentDim}; got ${d}`);
  });
  if (dims[0] === dims[1]) throw new RangeError(`dims must name two different latent dimensions; got [${dims.join(', ')}]`);
  let axis: number[];
  if (range === 'quantiles') {
    axis = Array.from({ length: n }, (_, i) => normalQuantile((i + 0.5) / n));
  } else {
    if (!Array.isArray(range) || range.length !== 2) {
      throw new RangeError(`range must be [lo, hi] or 'quantiles'; got ${describeValue(range)}`);
    }
    assertFiniteNumber('range[0]', range[0]);
    assertFiniteNumber('range[1]', range[1], { min: range[0], exclusiveMin: true });
    axis = Array.from({ length: n }, (_, i) => (n === 1 ? (range[0] + range[1]) / 2 : range[0] + ((range[1] - range[0]) * i) / (n - 1)));
  }
  const xs = axis;
  const ys = [...axis].reverse();
  const z = new Float32Array(n * n * latentDim);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const row = (r * n + c) * latentDim;
      z[row + dims[0]] = xs[c];
      z[row + dims[1]] = ys[r];
    }
  }
  return { z, xs, ys };
}

/** Phi^-1(p) for the standard normal; defined with the chain diagnostics (one implementation). */
export { normalQuantile };

/**
 * Checks the networks' symbolic shapes against the VAE's contract (lib/nets/factories.ts): the encoder takes
 * `inputDim` values per example and outputs `[mean, logVar]` (`[n, L]` each) or one `[n, 2L]`; the decoder takes
 * `[n, L]` and outputs `inputDim` values per example. Returns the encoder's input shape after the batch axis.
 */
function checkNetworks(encoder: tf.LayersModel, decoder: tf.LayersModel, inputDim: number, L: number): number[] {
  const encIn = encoder.inputs[0].shape.slice(1);
  if (encIn.some((d) => d === null) || shapeSize(encIn as number[]) !== inputDim) {
    throw new RangeError(`encoder must take inputs of ${inputDim} values per example; its input shape is [${encoder.inputs[0].shape.join(', ')}]`);
  }
  const encOut = encoder.outputs.map((o) => o.shape.slice(1));
  const encOk =
    (encOut.length === 2 && encOut.every((s) => s.length === 1 && s[0] === L)) ||
    (encOut.length === 1 && encOut[0].length === 1 && encOut[0][0] === 2 * L);
  if (!encOk) {
    throw new RangeError(
      `encoder must output [mean, logVar] of shape [n, ${L}] each (or one [n, ${2 * L}]); got ${encOut.map((s) => `[n, ${s.join(', ')}]`).join(' and ')}`,
    );
  }
  const decIn = decoder.inputs[0].shape.slice(1);
  if (decIn.length !== 1 || decIn[0] !== L) {
    throw new RangeError(`decoder must take [n, ${L}] latent inputs; its input shape is [${decoder.inputs[0].shape.join(', ')}]`);
  }
  const decOut = decoder.outputs[0].shape.slice(1);
  if (decoder.outputs.length !== 1 || decOut.some((d) => d === null) || shapeSize(decOut as number[]) !== inputDim) {
    throw new RangeError(`decoder must output ${inputDim} values per example; its output shape is [${decoder.outputs[0].shape.join(', ')}]`);
  }
  return encIn as number[];
}

function mean(xs: Float32Array): number {
  let s = 0;
  for (const v of xs) s += v;
  return s / xs.length;
}
