/**
 * Core helpers every model uses. Public: the output types by example shape. Internal: argument validation
 * (`./validate`, imported by modules) and the checkpoint format under every model's save and load
 * (lib/internal.ts, `genlab/internal`).
 */
export * from './shapes'; // DataShape, BatchTensor, ChainTensor: output types by example shape
export * from './model'; //  Model (the base every family extends), Generative (the sampling contract)
export { type DataRange, flattenData } from './data';
export * from './read'; //   toNumber, toArray, toRows, last: results back to plain numbers without casts
