/**
 * The convolutional energy network of Foster's chapter 7 (after Du & Mordatch 2019), as a tfjs-layers model:
 *
 *   image [n, h, w, c] -> Conv(f1, 5x5, stride 2) -> Conv(f2, 3x3, stride 2) -> ... (swish after each)
 *     -> Flatten -> Dense(denseUnits, swish) -> Dense(1)  = E(x) [n, 1]
 *
 * 'same' padding, so each convolution halves height and width (rounding up): 28 -> 14 -> 7 -> 4 -> 2.
 * Swish (SiLU) rather than ReLU: the Langevin sampler needs grad_x E, and a ReLU network's is piecewise constant.
 */
import { tf } from '../engine/backend';
import { Random } from '../engine/random';
import { assertPositiveInteger } from '../core/validate';
import { checkUnits, layerInit, WeightInit } from '../nets/layer-init';

/** Options of {@link convEnergyNetwork}. */
export interface ConvEnergyNetworkConfig {
  /** Image shape `[height, width, channels]`. */
  inputShape: [number, number, number];
  /** Filters of the stride-2 convolutions, first to last (non-empty). */
  filters: number[];
  /** Width of the dense layer before the output (positive integer). */
  denseUnits: number;
  /** Seed of the initialisers. */
  seed?: number;
  /** `'pytorch'` (U(+-1/sqrt(fan_in)) kernels and biases) or `'glorot'` (see lib/nets/layer-init.ts). */
  init: WeightInit;
}

/** Builds the network; see the module comment. */
export function convEnergyNetwork(opts: ConvEnergyNetworkConfig): tf.LayersModel {
  checkUnits('convFilters', opts.filters);
  if (opts.filters.length === 0) throw new RangeError('convFilters must hold at least one filter count; got []');
  assertPositiveInteger('convDenseUnits', opts.denseUnits);
  const init = layerInit(new Random(opts.seed), opts.init);
  const input = tf.input({ shape: opts.inputShape });
  let h: tf.SymbolicTensor = input;
  let channels = opts.inputShape[2];
  opts.filters.forEach((f, i) => {
    const k = i === 0 ? 5 : 3;
    h = tf.layers
      .conv2d({ filters: f, kernelSize: k, strides: 2, padding: 'same', activation: 'swish', ...init(k * k * channels) })
      .apply(h) as tf.SymbolicTensor;
    channels = f;
  });
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  const flat = h.shape[1] as number;
  h = tf.layers.dense({ units: opts.denseUnits, activation: 'swish', ...init(flat) }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 1, ...init(opts.denseUnits) }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}
