/**
 * The one TensorFlow.js instance genlab runs on. Every module imports `tf` through the engine, never from
 * '@tensorflow/tfjs' directly, so notebooks and the library share one engine and one backend.
 */
import * as tf from '@tensorflow/tfjs';

/** The TensorFlow.js namespace genlab uses; import it from genlab so you share genlab's engine and backend. */
export { tf };
