/**
 * Small factories for the encoder and decoder networks of a {@link VAE} (and an {@link Autoencoder}), as
 * tfjs-layers models. A VAE composes one encoder and one decoder; pass your own `tf.LayersModel`s instead to
 * change the architecture.
 *
 * Contracts (what a VAE expects from any encoder/decoder, factory-made or yours):
 * - encoder: input `[n, inputDim]` (dense) or `[n, h, w, c]` (conv); outputs `[mean, logVar]`, two `[n, latentDim]`
 *   tensors (or one `[n, 2*latentDim]` tensor, split as mean | logVar).
 * - decoder: input `[n, latentDim]`; output `[n, inputDim]` or `[n, h, w, c]` holding the *logits* of the
 *   Bernoulli means (no sigmoid: the VAE applies it, and uses the logits for a numerically stable likelihood), or
 *   the Gaussian means for `likelihood: 'gaussian'`.
 */
import { tf } from '../engine/backend';
import { Random } from '../engine/random';
import { assertKnownOptions, assertOneOf, assertPositiveInteger, describeValue, optionKeys } from '../core/validate';
import { checkUnits, makeInit, type LayerInit as Init, type WeightInit } from './init';

export type { WeightInit } from './init';

/** Activation functions the factories accept for hidden layers. */
export type HiddenActivation = 'relu' | 'tanh' | 'sigmoid' | 'elu' | 'selu' | 'softplus' | 'swish' | 'linear';
const ACTIVATIONS: readonly HiddenActivation[] = ['relu', 'tanh', 'sigmoid', 'elu', 'selu', 'softplus', 'swish', 'linear'];

/** Options for {@link denseEncoder}. */
export interface DenseEncoderOptions {
  /** Input width (e.g. 784 for 28x28 images). Integer >= 1. */
  inputDim: number;
  /** Widths of the hidden layers, first to last, e.g. `[400]` (PyTorch lecture) or `[512, 512]`. May be empty. */
  hiddenUnits: number[];
  /** Dimension of the latent space. Integer >= 1. */
  latentDim: number;
  /** Hidden activation. Default `'relu'`. */
  activation?: HiddenActivation;
  /** Seed of the weight initialisers. Default: drawn at random. */
  seed?: number;
  /** Initialisation scheme, see {@link WeightInit}. Default `'glorot'`. */
  init?: WeightInit;
}

const DENSE_ENCODER_OPTION_KEYS = optionKeys<DenseEncoderOptions>({
  inputDim: true, hiddenUnits: true, latentDim: true, activation: true, seed: true, init: true,
});

/** Options for {@link denseDecoder}. */
export interface DenseDecoderOptions {
  /** Dimension of the latent space (decoder input). Integer >= 1. */
  latentDim: number;
  /** Widths of the hidden layers, first to last, e.g. `[400]`. A VAE passes its encoder's list reversed. */
  hiddenUnits: number[];
  /** Output width. Integer >= 1. */
  outputDim: number;
  /** Hidden activation. Default `'relu'`. */
  activation?: HiddenActivation;
  /** Output activation. Default `'linear'` (logits or Gaussian means, as a VAE expects). */
  outputActivation?: HiddenActivation;
  /** Seed of the weight initialisers. Default: drawn at random. */
  seed?: number;
  /** Initialisation scheme, see {@link WeightInit}. Default `'glorot'`. */
  init?: WeightInit;
}

const DENSE_DECODER_OPTION_KEYS = optionKeys<DenseDecoderOptions>({
  latentDim: true, hiddenUnits: true, outputDim: true, activation: true, outputActivation: true, seed: true, init: true,
});

/** Options for {@link convEncoder}. */
export interface ConvEncoderOptions {
  /** Image shape `[height, width, channels]`; height and width must be divisible by 2^(filters.length). */
  inputShape: [number, number, number];
  /** Dimension of the latent space. Integer >= 1. */
  latentDim: number;
  /** Filters of the stride-2 3x3 convolutions. Default `[32, 64]` (the Keras lecture model). */
  filters?: number[];
  /** Width of the dense layer after flattening. Default 16 (the Keras lecture model). */
  denseUnits?: number;
  /**
   * What the network ends in: `'gaussian'` (default; two `[n, latentDim]` outputs, mean and logVar, for a VAE) or
   * `'code'` (one `[n, latentDim]` output, the code of a deterministic {@link Autoencoder}).
   */
  head?: 'gaussian' | 'code';
  /** Activation of the code layer with `head: 'code'`. Default `'linear'`. */
  codeActivation?: HiddenActivation;
  /** Seed of the weight initialisers. Default: drawn at random. */
  seed?: number;
  /** Initialisation scheme, see {@link WeightInit}. Default `'glorot'`. */
  init?: WeightInit;
}

const CONV_ENCODER_OPTION_KEYS = optionKeys<ConvEncoderOptions>({
  inputShape: true, latentDim: true, filters: true, denseUnits: true, head: true, codeActivation: true, seed: true, init: true,
});

/** Options for {@link convDecoder}. */
export interface ConvDecoderOptions {
  /** Dimension of the latent space (decoder input). Integer >= 1. */
  latentDim: number;
  /** Output image shape `[height, width, channels]`; height and width divisible by 2^(filters.length). */
  outputShape: [number, number, number];
  /**
   * Filters of the stride-2 3x3 transposed convolutions, first to last. Default `[64, 32]` (the Keras lecture
   * model); the dense layer maps the latent to `(h / 2^k) * (w / 2^k) * filters[0]` units.
   */
  filters?: number[];
  /** Seed of the weight initialisers. Default: drawn at random. */
  seed?: number;
  /** Initialisation scheme, see {@link WeightInit}. Default `'glorot'`. */
  init?: WeightInit;
}

const CONV_DECODER_OPTION_KEYS = optionKeys<ConvDecoderOptions>({
  latentDim: true, outputShape: true, filters: true, seed: true, init: true,
});

function checkShape(name: string, shape: unknown, downsample: number): asserts shape is [number, number, number] {
  if (!Array.isArray(shape) || shape.length !== 3) {
    throw new RangeError(`${name} must be [height, width, channels]; got ${describeValue(shape)}`);
  }
  shape.forEach((d, i) => assertPositiveInteger(`${name}[${i}]`, d));
  if (shape[0] % downsample !== 0 || shape[1] % downsample !== 0) {
    throw new RangeError(
      `${name} height and width must be divisible by ${downsample} (one halving per conv layer); got [${shape.join(', ')}]`,
    );
  }
}

/** Dense layers of the given widths applied in turn to `input`. */
function denseStack(input: tf.SymbolicTensor, widths: number[], activation: HiddenActivation, w: Init): tf.SymbolicTensor {
  let h = input;
  for (const units of widths) h = tf.layers.dense({ units, activation, ...w(lastDim(h)) }).apply(h) as tf.SymbolicTensor;
  return h;
}

function lastDim(t: tf.SymbolicTensor): number {
  return t.shape[t.shape.length - 1] as number;
}

/**
 * A dense encoder `inputDim -> hiddenUnits... -> (mean, logVar)`: the PyTorch lecture model's encoder for
 * `hiddenUnits: [400]`. Returns a `tf.LayersModel` with two outputs, each `[n, latentDim]`.
 */
export function denseEncoder(opts: DenseEncoderOptions): tf.LayersModel {
  assertKnownOptions('denseEncoder', opts, DENSE_ENCODER_OPTION_KEYS);
  assertPositiveInteger('inputDim', opts.inputDim);
  checkUnits('hiddenUnits', opts.hiddenUnits);
  assertPositiveInteger('latentDim', opts.latentDim);
  const activation = opts.activation ?? 'relu';
  assertOneOf('activation', activation, ACTIVATIONS);
  const rng = new Random(opts.seed);
  const w = makeInit(rng, opts.init);
  const input = tf.input({ shape: [opts.inputDim], name: 'x' });
  const h = denseStack(input, opts.hiddenUnits, activation, w);
  const mean = tf.layers.dense({ units: opts.latentDim, ...w(lastDim(h)), name: uniqueName('z_mean') });
  const logVar = tf.layers.dense({ units: opts.latentDim, ...w(lastDim(h)), name: uniqueName('z_log_var') });
  return tf.model({ inputs: input, outputs: [mean.apply(h) as tf.SymbolicTensor, logVar.apply(h) as tf.SymbolicTensor] });
}

/** A dense decoder `latentDim -> hiddenUnits... -> outputDim` with a linear output (logits). */
export function denseDecoder(opts: DenseDecoderOptions): tf.LayersModel {
  assertKnownOptions('denseDecoder', opts, DENSE_DECODER_OPTION_KEYS);
  assertPositiveInteger('latentDim', opts.latentDim);
  checkUnits('hiddenUnits', opts.hiddenUnits);
  assertPositiveInteger('outputDim', opts.outputDim);
  const activation = opts.activation ?? 'relu';
  assertOneOf('activation', activation, ACTIVATIONS);
  const outputActivation = opts.outputActivation ?? 'linear';
  assertOneOf('outputActivation', outputActivation, ACTIVATIONS);
  const rng = new Random(opts.seed);
  const w = makeInit(rng, opts.init);
  const input = tf.input({ shape: [opts.latentDim], name: 'z' });
  const h = denseStack(input, opts.hiddenUnits, activation, w);
  const out = tf.layers.dense({ units: opts.outputDim, activation: outputActivation, ...w(lastDim(h)) });
  return tf.model({ inputs: input, outputs: out.apply(h) as tf.SymbolicTensor });
}

/**
 * The Keras lecture encoder: Conv2D(32, 3x3, stride 2, same, relu) -> Conv2D(64, ...) -> Flatten ->
 * Dense(16, relu) -> (z_mean, z_log_var). For 28x28x1 input the feature maps are 14x14x32 and 7x7x64.
 */
export function convEncoder(opts: ConvEncoderOptions): tf.LayersModel {
  assertKnownOptions('convEncoder', opts, CONV_ENCODER_OPTION_KEYS);
  const filters = opts.filters ?? [32, 64];
  checkUnits('filters', filters);
  checkShape('inputShape', opts.inputShape, 2 ** filters.length);
  assertPositiveInteger('latentDim', opts.latentDim);
  const denseUnits = opts.denseUnits ?? 16;
  assertPositiveInteger('denseUnits', denseUnits);
  const head = opts.head ?? 'gaussian';
  assertOneOf('head', head, ['gaussian', 'code'] as const);
  const codeActivation = opts.codeActivation ?? 'linear';
  assertOneOf('codeActivation', codeActivation, ACTIVATIONS);
  const rng = new Random(opts.seed);
  const w = makeInit(rng, opts.init);
  const input = tf.input({ shape: opts.inputShape, name: 'image' });
  let h: tf.SymbolicTensor = input;
  for (const f of filters) {
    h = tf.layers
      .conv2d({ filters: f, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', ...w(9 * lastDim(h)) })
      .apply(h) as tf.SymbolicTensor;
  }
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  h = tf.layers.dense({ units: denseUnits, activation: 'relu', ...w(lastDim(h)) }).apply(h) as tf.SymbolicTensor;
  if (head === 'code') {
    const code = tf.layers.dense({ units: opts.latentDim, activation: codeActivation, ...w(lastDim(h)), name: uniqueName('code') });
    return tf.model({ inputs: input, outputs: code.apply(h) as tf.SymbolicTensor });
  }
  const mean = tf.layers.dense({ units: opts.latentDim, ...w(lastDim(h)), name: uniqueName('z_mean') });
  const logVar = tf.layers.dense({ units: opts.latentDim, ...w(lastDim(h)), name: uniqueName('z_log_var') });
  return tf.model({ inputs: input, outputs: [mean.apply(h) as tf.SymbolicTensor, logVar.apply(h) as tf.SymbolicTensor] });
}

/**
 * The Keras lecture decoder: Dense(7*7*64, relu) -> Reshape(7, 7, 64) -> Conv2DTranspose(64, 3x3, stride 2, same,
 * relu) -> Conv2DTranspose(32, ...) -> Conv2DTranspose(channels, 3x3, stride 1, same) giving logits
 * `[n, h, w, channels]` (the lecture's sigmoid is applied by the VAE).
 */
export function convDecoder(opts: ConvDecoderOptions): tf.LayersModel {
  assertKnownOptions('convDecoder', opts, CONV_DECODER_OPTION_KEYS);
  const filters = opts.filters ?? [64, 32];
  checkUnits('filters', filters);
  assertPositiveInteger('latentDim', opts.latentDim);
  const down = 2 ** filters.length;
  checkShape('outputShape', opts.outputShape, down);
  const [h0, w0, c] = [opts.outputShape[0] / down, opts.outputShape[1] / down, opts.outputShape[2]];
  const rng = new Random(opts.seed);
  const w = makeInit(rng, opts.init);
  const input = tf.input({ shape: [opts.latentDim], name: 'z' });
  let h: tf.SymbolicTensor = tf.layers
    .dense({ units: h0 * w0 * filters[0], activation: 'relu', ...w(opts.latentDim) })
    .apply(input) as tf.SymbolicTensor;
  h = tf.layers.reshape({ targetShape: [h0, w0, filters[0]] }).apply(h) as tf.SymbolicTensor;
  for (const f of filters) {
    h = tf.layers
      .conv2dTranspose({ filters: f, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', ...w(9 * f) })
      .apply(h) as tf.SymbolicTensor;
  }
  h = tf.layers
    .conv2dTranspose({ filters: c, kernelSize: 3, strides: 1, padding: 'same', ...w(9 * c) })
    .apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: h });
}

let nameCounter = 0;
/** Layer names must be unique per model; the counter keeps them unique across models too. */
function uniqueName(base: string): string {
  nameCounter += 1;
  return `${base}_${nameCounter}`;
}
