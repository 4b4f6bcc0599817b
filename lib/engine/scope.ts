/**
 * `scope`: tf.tidy for code that awaits. Notebook cells train, sample and plot with `await`; tf.tidy cannot wrap
 * them (it refuses a function that returns a promise), so their tensors had to be disposed by hand. `scope` frees
 * them the same way tidy does.
 */
import { tf } from './tf';
import { ready } from './backend';

/**
 * Runs `fn` (sync or async) once the backend is ready, then disposes every tensor created while it ran except the
 * tensors in its result (a tensor, or tensors anywhere inside returned arrays and objects) and tensors kept with
 * `tf.keep`. Variables (model weights, optimiser state) are never disposed: a model built or trained inside a scope
 * stays usable; dispose the model itself when done with it.
 *
 * Like tf.tidy, scopes nest, and a scope tracks every tensor created while it is open: do not run other tensor code
 * concurrently with an open scope (notebook cells run one at a time, which is the intended use). If `fn` throws,
 * its tensors are disposed and the error is rethrown.
 *
 * @example
 * const fantasy = await scope(async () => {
 *   await rbm.fit(train, { epochs: 5 });
 *   const v = rbm.sample({ chains: 16 });     // freed when the scope ends...
 *   showImages(v, { cols: 8 });
 *   return rbm.sample({ chains: 4 });        // ...this one is returned and stays alive
 * });
 */
export async function scope<T>(fn: () => T | Promise<T>): Promise<T> {
  if (typeof fn !== 'function') throw new TypeError(`scope needs a function () => result; got ${typeof fn}`);
  await ready();
  const engine = tf.engine();
  engine.startScope('genlab.scope');
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    engine.endScope();
    throw e;
  }
  engine.endScope(result as unknown as tf.TensorContainer);
  return result;
}
