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

/**
 * True when the environment variable `GENLAB_QUICK` is set to `1` (or `true`): notebooks then shrink epochs and
 * data so the whole lecture runs in under a minute (CI uses this).
 */
export function isQuickMode(): boolean {
  const v = (process.env.GENLAB_QUICK ?? '').toLowerCase();
  return v === '1' || v === 'true' || v === 'yes';
}

/**
 * Picks a setting by mode: `quick(10, 1)` is 10 normally and 1 in quick mode. Notebooks use it for epochs,
 * sample counts and data sizes, so the full and the quick run are one code path.
 */
export function quick<T>(full: T, quickValue: T): T {
  return isQuickMode() ? quickValue : full;
}
