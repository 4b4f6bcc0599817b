/**
 * The TensorFlow.js engine genlab runs on, and backend selection.
 *
 * SKELETON (platform issue #2 completes it): exports `tf` and `ready()`. Every genlab module imports `tf` from
 * here, never from '@tensorflow/tfjs' directly, so notebooks and the library share one engine and backend.
 */
import * as tf from '@tensorflow/tfjs';

/** The TensorFlow.js namespace genlab uses; import it from genlab so you share genlab's engine and backend. */
export { tf };

let readyPromise: Promise<string> | null = null;

/** Resolves once the selected backend is initialised; returns its name. Safe to call many times. */
export function ready(): Promise<string> {
  if (!readyPromise) readyPromise = tf.setBackend('cpu').then(() => tf.getBackend());
  return readyPromise;
}
