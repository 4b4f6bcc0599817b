/**
 * What every network factory sets up per layer, written once: the weight initialisation of a layer from its fan-in
 * (Keras' Glorot or PyTorch's default) and the check of a list of layer widths. Internal to lib/ (the factories in
 * this folder and the families' own networks, e.g. ebm/networks.ts, use it); not part of the public barrel.
 */
import { tf } from '../engine/backend';
import type { Random } from '../engine/random';
import { assertOneOf, assertPositiveInteger, describeValue } from '../core/validate';

/**
 * Weight initialisation: `'glorot'` (Keras's default: Glorot-uniform kernels, zero biases) or `'pytorch'`
 * (torch.nn's default for Linear/Conv2d/ConvTranspose2d: kernels and biases uniform in +-1/sqrt(fan_in)), to
 * reproduce a PyTorch lecture model from the same starting distribution.
 */
export type WeightInit = 'glorot' | 'pytorch';
/** The {@link WeightInit} schemes, for `assertOneOf`. */
export const WEIGHT_INITS: readonly WeightInit[] = ['glorot', 'pytorch'];

/** Layer initialiser settings for a layer with `fanIn` inputs per output (each call draws fresh seeds). */
export type LayerInit = (fanIn: number) => {
  kernelInitializer: ReturnType<typeof tf.initializers.glorotUniform>;
  biasInitializer: ReturnType<typeof tf.initializers.zeros>;
};

/**
 * The initialisers of `scheme` (default `'glorot'`; checked by name as `init`), seeded from `rng`: spread the result
 * into a layer's arguments, `tf.layers.dense({ units, ...init(fanIn) })`.
 */
export function layerInit(rng: Random, scheme: WeightInit | undefined): LayerInit {
  const s = scheme ?? 'glorot';
  assertOneOf('init', s, WEIGHT_INITS);
  return (fanIn) => {
    if (s === 'glorot') return { kernelInitializer: tf.initializers.glorotUniform({ seed: rng.seedInt() }), biasInitializer: tf.initializers.zeros() };
    // torch: kaiming_uniform_(a = sqrt(5)) = U(+-1/sqrt(fan_in)) = varianceScaling(1/3, fanIn, uniform); bias likewise.
    // tfjs computes a kernel's fan-in as torch does for Linear, Conv2d and (k*k*out) ConvTranspose2d.
    const bound = 1 / Math.sqrt(fanIn);
    return {
      kernelInitializer: tf.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed: rng.seedInt() }),
      biasInitializer: tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: rng.seedInt() }),
    };
  };
}

/** Checks a list of layer widths (or filter counts): an array of positive integers, e.g. `hiddenUnits`. */
export function checkUnits(name: string, units: unknown): asserts units is number[] {
  if (!Array.isArray(units)) throw new TypeError(`${name} must be an array of positive integers; got ${describeValue(units)}`);
  units.forEach((u, i) => assertPositiveInteger(`${name}[${i}]`, u));
}
