/**
 * Gradients registered in place of TensorFlow.js's own (for every backend: gradients are not per backend).
 *
 * tfjs's gradients of `Mean` and `Sum` spread dy over the reduced axes by multiplying it with `ones(x.shape)`, a
 * tensor made in JavaScript: an array the size of x filled and copied onto the backend at every step. For the mean
 * squared error of a DDPM batch on digits ([128, 784]) that is 0.4-0.7 ms on WASM, against 14 us for the same ones
 * made by the backend (`onesLike(x)`, one kernel) and 20 us for the product itself. Here the ones are made by the
 * backend: the same operations on the same values, so the gradients are equal bit for bit (test/kernels.test.ts).
 */
import { tf } from '../tf';

/** Originals of the replaced gradients, by kernel name. */
const originals = new Map<string, tf.GradConfig>();

/** dy reshaped to x's rank (1 on the reduced axes) times ones like x: dy spread over x's shape. */
function spread(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): { spread: tf.Tensor; reduceSize: number } {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const shape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const reduceSize = axes.reduce((size, a) => size * x.shape[a], 1);
  return { spread: tf.mul(tf.reshape(dy, shape), tf.onesLike(x)), reduceSize };
}

const REPLACEMENTS: tf.GradConfig[] = [
  {
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => ({
      x: () => {
        const s = spread(dy as tf.Tensor, x, (attrs as { axis: number | number[] }).axis);
        return tf.div(s.spread, s.reduceSize);
      },
    }),
  },
  {
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => ({
      x: () => spread(dy as tf.Tensor, x, (attrs as { axis: number | number[] }).axis).spread,
    }),
  },
];

/** Registers the replacements (idempotent); returns their names as `gradient/<Kernel>`. */
export function replaceGradients(): string[] {
  for (const config of REPLACEMENTS) {
    if (!originals.has(config.kernelName)) originals.set(config.kernelName, tf.getGradient(config.kernelName)!);
    tf.registerGradient(config);
  }
  return REPLACEMENTS.map((c) => `gradient/${c.kernelName}`);
}

/** Puts TensorFlow.js's own gradients back. */
export function restoreGradients(): void {
  for (const original of originals.values()) tf.registerGradient(original);
  originals.clear();
}
