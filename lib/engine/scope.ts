/**
 * `scope`: tf.tidy for code that awaits. Notebook cells train, sample and plot with `await`; tf.tidy cannot wrap
 * them (it refuses a function that returns a promise), so their tensors had to be disposed by hand. `scope` frees
 * them the same way tidy does.
 */
import { tf } from './tf';
import { ready } from './backend';

/** Something a scope can free: genlab's models register themselves with {@link trackDisposable} when built. */
export interface Disposable {
  dispose(): void;
}

/** The models built in each open scope, innermost last. */
const openScopes: Set<Disposable>[] = [];

/** Called by genlab's model constructors: the innermost open {@link scope} (if any) disposes `model` at its end. */
export function trackDisposable(model: Disposable): void {
  openScopes[openScopes.length - 1]?.add(model);
}

/** The objects reachable from a scope's result through arrays, plain objects, Maps and Sets (what it returns). */
function reachable(value: unknown, seen = new Set<unknown>()): Set<unknown> {
  if (value === null || typeof value !== 'object' || seen.has(value)) return seen;
  seen.add(value);
  const proto = Object.getPrototypeOf(value);
  if (Array.isArray(value) || value instanceof Set) for (const v of value) reachable(v, seen);
  else if (value instanceof Map) for (const [k, v] of value) reachable(k, seen), reachable(v, seen);
  else if (proto === Object.prototype || proto === null) for (const v of Object.values(value)) reachable(v, seen);
  return seen;
}

/**
 * Runs `fn` (sync or async) once the backend is ready, then disposes every tensor created while it ran except the
 * tensors in its result (a tensor, or tensors anywhere inside returned arrays and objects) and tensors kept with
 * `tf.keep`; genlab models (RBMs, VAEs, autoencoders) built inside are disposed too unless returned. Variables that
 * belong to a model built outside (weights, optimiser state) are never touched: a model trained inside a scope stays
 * usable.
 *
 * Like tf.tidy, scopes nest, and a scope tracks every tensor created while it is open: do not run other tensor code
 * concurrently with an open scope (notebook cells run one at a time, which is the intended use). If `fn` throws,
 * its tensors are disposed and the error is rethrown.
 *
 * @example
 * const fantasy = await scope(async () => {
 *   await rbm.fit(train, { epochs: 5 });
 *   const v = await rbm.sample(16);          // freed when the scope ends...
 *   showImages(v, { cols: 8 });
 *   return await rbm.sample(4);              // ...this one is returned and stays alive
 * });
 */
export async function scope<T>(fn: () => T | Promise<T>): Promise<T> {
  if (typeof fn !== 'function') throw new TypeError(`scope needs a function () => result; got ${typeof fn}`);
  await ready();
  const engine = tf.engine();
  const models = new Set<Disposable>();
  openScopes.push(models);
  engine.startScope('genlab.scope');
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    engine.endScope();
    openScopes.splice(openScopes.lastIndexOf(models), 1);
    models.forEach((m) => m.dispose());
    throw e;
  }
  engine.endScope(result as unknown as tf.TensorContainer);
  openScopes.splice(openScopes.lastIndexOf(models), 1);
  const kept = reachable(result);
  for (const m of models) {
    if (kept.has(m)) trackDisposable(m); // returned: the enclosing scope (if any) owns it now
    else m.dispose();
  }
  return result;
}
