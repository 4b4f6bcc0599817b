/** Display for notebooks: figures, image grids, tables, progress bars, and the environment table. */
export * from './environment';
export * from './progress';
export * from './plot';
export * from './images';
export * from './table';
export { LiveOutput, displayBundle } from './notebook'; // live, in-place outputs (e.g. samples as a model trains)
