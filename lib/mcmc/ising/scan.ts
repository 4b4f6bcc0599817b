/** The Ising lecture's curves in one call: one annealed chain across temperatures, the algorithm chosen per temperature. */
import type { SeedLike } from '../../engine/random';
import { assertFiniteNumber, assertKnownOptions, assertOneOf, describeValue, optionKeys } from '../../core/validate';
import { IsingAlgorithm, IsingModel } from './model';
import { IsingThermodynamics, isingThermodynamics } from './thermodynamics';
import { ISING_CRITICAL_TEMPERATURE } from './onsager';

/**
 * The algorithm 'auto' picks at a temperature (in units of J, J > 0; for another J pass T / J): Wolff for
 * T <= 1.5 Tc -- near and below Tc, where single-spin Metropolis slows down critically and cannot tunnel between
 * +m and -m -- and Metropolis above, where clusters are tiny and single-spin updates decorrelate in a few sweeps.
 * One argument, so `temperatures.map(isingAutoAlgorithm)` is safe.
 */
export function isingAutoAlgorithm(temperature: number): IsingAlgorithm {
  return temperature <= 1.5 * ISING_CRITICAL_TEMPERATURE ? 'wolff' : 'metropolis';
}

/** Options of {@link isingTemperatureScan}. */
export interface IsingTemperatureScanOptions {
  /** Lattice side L (integer >= 2). */
  L: number;
  /** Temperatures in the order to visit them; order them high to low to anneal one chain. */
  temperatures: readonly number[];
  /** Sweeps measured at each temperature (after its burn-in). */
  sweeps: number;
  /** Sweeps discarded at each temperature before measuring. Default 100. */
  burnIn?: number;
  /** 'auto' (default, see {@link isingAutoAlgorithm}), 'metropolis' or 'wolff'. */
  algorithm?: 'auto' | IsingAlgorithm;
  /** Record every `thin`-th sweep. Default 1. */
  thin?: number;
  /** Coupling J. Default 1. */
  J?: number;
  /** Seed (or generator). */
  seed?: SeedLike;
}

const ISING_TEMPERATURE_SCAN_OPTION_KEYS = optionKeys<IsingTemperatureScanOptions>({
  L: true, temperatures: true, sweeps: true, burnIn: true, algorithm: true, thin: true, J: true, seed: true,
});

/** One temperature of {@link isingTemperatureScan}: the thermodynamics and the algorithm used. */
export interface IsingScanPoint extends IsingThermodynamics {
  /** The temperature. */
  temperature: number;
  /** The algorithm used there. */
  algorithm: IsingAlgorithm;
}

/**
 * Energy, |m|, specific heat and susceptibility per spin (with error bars) across temperatures: one chain
 * visits the temperatures in the given order, continuing from the previous state (so a high-to-low list
 * anneals), with `burnIn` sweeps at each before measuring. The curves of the Ising lecture in one call.
 *
 * @example
 * const scan = isingTemperatureScan({ L: 16, temperatures: [3.5, 3, 2.6, 2.4, 2.27, 2.1, 1.8, 1.5], sweeps: 2000, seed: 1 });
 * scan.map((p) => [p.temperature, p.energy.value, p.absMagnetization.value]);
 */
export function isingTemperatureScan(options: IsingTemperatureScanOptions): IsingScanPoint[] {
  assertKnownOptions('isingTemperatureScan', options, ISING_TEMPERATURE_SCAN_OPTION_KEYS);
  if (options === null || options === undefined) throw new TypeError('isingTemperatureScan needs options { L, temperatures, sweeps, ... }');
  const { L, temperatures, sweeps } = options;
  if (!Array.isArray(temperatures) || temperatures.length === 0) {
    throw new RangeError(`temperatures must be a non-empty array of positive numbers; got ${describeValue(temperatures)}`);
  }
  temperatures.forEach((T, i) => assertFiniteNumber(`temperatures[${i}]`, T, { min: 0, exclusiveMin: true }));
  const choice = options.algorithm ?? 'auto';
  assertOneOf('algorithm', choice, ['auto', 'metropolis', 'wolff'] as const);
  const model = new IsingModel({ L, J: options.J, seed: options.seed });
  return temperatures.map((temperature) => {
    const algorithm = choice === 'auto' ? (model.J > 0 ? isingAutoAlgorithm(temperature / model.J) : 'metropolis') : choice;
    const run = model.sample({ temperature, sweeps, burnIn: options.burnIn, thin: options.thin, algorithm });
    return { temperature, algorithm, ...isingThermodynamics(run) };
  });
}
