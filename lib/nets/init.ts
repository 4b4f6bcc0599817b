/**
 * Internal (not in the package's front door): the weight initialisers and width checks every network builder
 * shares -- the encoder and decoder factories next to this file and the GAN's generator and discriminator.
 */
import { tf } from '../engine/backend';
import { Random } from '../engine/random';
import { assertOneOf, assertPositiveInteger, describeValue } from '../core/validate';

/**
 * Weight initialisation: `'glorot'` (Keras's default: Glorot-uniform kernels, zero biases) or `'pytorch'`
 * (torch.nn's default for Linear/Conv2d/ConvTranspose2d: kernels and biases uniform in +-1/sqrt(fan_in)), to
 * reproduce a PyTorch lecture model from the same starting distribution.
 */
export type WeightInit = 'glorot' | 'pytorch';
const INITS: readonly WeightInit[] = ['glorot', 'pytorch'];

/** Layer initialiser settings for a layer with `fanIn` inputs per output (each call draws fresh seeds). */
export type LayerInit = (fanIn: number) => {
  kernelInitializer: ReturnType<typeof tf.initializers.glorotUniform>;
  biasInitializer: ReturnType<typeof tf.initializers.zeros>;
};

/**
 * The initialiser settings of `scheme` (default `'glorot'`), seeded from `rng`: spread `...init(fanIn)` into each
 * layer's config. `fanIn` is what tfjs and torch count: the input width of a dense layer, k*k*inChannels for a
 * convolution, k*k*outChannels for a transposed one (unused by Glorot, which tfjs computes itself).
 */
export function makeInit(rng: Random, scheme: WeightInit | undefined): LayerInit {
  const s = scheme ?? 'glorot';
  assertOneOf('init', s, INITS);
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

/** Checks a list of layer widths (or channel counts): an array of positive integers, e.g. `hiddenUnits: [400]`. */
export function checkUnits(name: string, units: unknown): asserts units is number[] {
  if (!Array.isArray(units)) throw new TypeError(`${name} must be an array of positive integers; got ${describeValue(units)}`);
  units.forEach((u, i) => assertPositiveInteger(`${name}[${i}]`, u));
}
