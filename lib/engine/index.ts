/**
 * The engine: the one `tf` instance, backend selection, seeded random numbers and the fast kernels registered
 * on the selected backend. Models call `tf` ops and the few fused ops exported here; which kernel runs, and how
 * fast, is decided in this folder alone.
 */
export { tf } from './tf';
export * from './backend';
export * from './random';
export { scope } from './scope';
export { FUSED_ADAM_KERNEL, FusedAdamOptimizer, fusedAdam } from './fused-adam';
export { registerFastKernels, unregisterFastKernels, fastKernelReport } from './kernels';
export type { FastKernelOptions, FastKernelReport } from './kernels';
export { COMPILE_ENV_VAR, CompiledFunction, compilationAvailable, compileFunction, compileStats } from './tensorflow-graph';
