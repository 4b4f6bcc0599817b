/**
 * The 2D Ising model: Metropolis and Wolff updates, measurements with error bars, exact small-lattice enumeration,
 * Onsager's solution. Conventions (H = -J sum s_i s_j, per-spin observables, the finite-lattice susceptibility):
 * lattice.ts.
 */
export { IsingModel } from './model'; //                              the model and its sweeps
export type { IsingAlgorithm, IsingModelOptions, IsingSampleOptions, IsingSampleResult } from './model';
export { measureIsing } from './measure'; //                          energy and magnetisation of configurations
export type { MeasureIsingOptions } from './measure';
export { isingThermodynamics } from './thermodynamics'; //            estimates with error bars
export type { IsingSeries, IsingThermodynamics } from './thermodynamics';
export { isingAutoAlgorithm, isingTemperatureScan } from './scan'; // one chain across temperatures
export type { IsingTemperatureScanOptions, IsingScanPoint } from './scan';
export { ISING_EXACT_MAX_L, isingDensityOfStates, isingExact } from './exact'; // enumeration, L <= 5
export type { IsingExactResult, IsingDensityOfStates } from './exact';
export { ISING_CRITICAL_TEMPERATURE, onsagerEnergy, onsagerMagnetization, onsagerSpecificHeat, onsagerSolution } from './onsager';
export type { OnsagerOptions, OnsagerSolution } from './onsager';
