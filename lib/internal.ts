/**
 * `genlab/internal`: the plumbing genlab's own models, tests, benchmarks and scripts are built from. No stability
 * promise: names and signatures here change with the library. Users import from `genlab` (lib/index.ts), which
 * exports what notebooks and programs call: the models, their option and result types, `History`, `tf`, `ready`,
 * `scope`, `Random`, samplers, diagnostics, datasets and display.
 *
 * Each group below is what a model needs from one layer (lib/README.md names the rooms).
 */

// engine/: kernel registration, fused Adam's internals, compiled steps, backend capabilities, scope registration,
// the GroupNorm op the U-Net is built from.
export { registerFastKernels, unregisterFastKernels } from './engine/kernels';
export type { FastKernelOptions } from './engine/kernels';
export { FUSED_ADAM_KERNEL, FusedAdamOptimizer } from './engine/fused-adam';
export { COMPILE_ENV_VAR, CompiledFunction, compilationAvailable, compileFunction, compileStats } from './engine/tensorflow-graph';
export { capabilities, parseBackendChoice } from './engine/backend';
export { groupNorm } from './engine/group-norm';
export type { GroupNormOptions } from './engine/group-norm';
export type { BackendCapabilities } from './engine/backend';
export { toRandom } from './engine/random';
export { trackDisposable } from './engine/scope';
export type { Disposable } from './engine/scope';

// core/: the checkpoint format under every model's save and load.
export { saveCheckpoint, loadCheckpoint, readCheckpointManifest } from './core/checkpoint';
export type {
  JsonValue,
  CheckpointDtype,
  CheckpointData,
  CheckpointTensorEntry,
  CheckpointManifest,
  SaveCheckpointOptions,
} from './core/checkpoint';

// train/: the one loop and what a model hands it (its public face, `History` and the fit option types, is in `genlab`).
export {
  runEpochs,
  resolveFitOptions,
  resolveLoopOptions,
  LOOP_FIT_KEYS,
  adamFor,
  trainableVariables,
  gradientStep,
  CompiledGradientStep,
} from './train/loop';
export type { EpochLoopSpec } from './train/loop';
export { TrainingState } from './train/state';
export type { Carried } from './train/state';
