/**
 * The engine: the one `tf` instance, backend selection, seeded random numbers and the fast kernels registered
 * on the selected backend. Public here: what a notebook or program calls (`tf`, `ready`, `useBackend`,
 * `describeEnvironment`, `Random`, `scope`, `fusedAdam`, `fastKernelReport`). Kernel registration, compiled
 * steps and backend capabilities are plumbing for genlab's models: lib/internal.ts (`genlab/internal`). Which
 * kernel runs, and how fast, is decided in this folder alone.
 */
export { tf } from './tf';
export { BACKEND_CHOICES, BACKEND_ENV_VAR, ready, useBackend, describeEnvironment, isQuickMode, quick } from './backend';
export type { BackendChoice, SkippedBackend, EnvironmentVersions, EnvironmentDescription } from './backend';
export { Random } from './random';
export type { SeedLike } from './random';
export { scope } from './scope';
export { fusedAdam } from './fused-adam';
export { fastKernelReport } from './kernels';
export type { FastKernelReport } from './kernels';
