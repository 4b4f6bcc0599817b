/**
 * Internal (not exported from the package): the state of each genlab generator, so that native samplers
 * (lib/engine/kernels.ts) can draw the very stream lib/engine/random.ts would, and advance it in place.
 */
export const generatorStates = new WeakMap<object, Int32Array>();
