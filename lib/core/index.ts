/**
 * Core helpers every model uses: atomic checkpoints (save/load) and the network-weight bridge. Argument
 * validation (`./validate`) is internal: imported by modules, not part of the public API.
 */
export * from './checkpoint';
export * from './shapes'; // DataShape, BatchTensor, ChainTensor: output types by example shape
export * from './model'; //  Model (the base every family extends), Generative (the sampling contract)
export { type DataRange, flattenData } from './data';
