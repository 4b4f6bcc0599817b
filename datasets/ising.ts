/**
 * Ising configurations sampled by Monte Carlo at several temperatures: the training data of "RBMs learn Ising
 * thermodynamics" (Torlai & Melko 2016, PRB 94, 165134), generated with genlab's {@link IsingModel} and cached
 * as a small binary file per temperature in genlab's git-ignored cache folder, so re-running a notebook is fast.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IsingAlgorithm, IsingModel, ISING_CRITICAL_TEMPERATURE, isingAutoAlgorithm, measureIsing } from '../lib/mcmc/ising';
import { Random } from '../lib/engine/random';
import {
  assertFiniteNumber,
  assertKnownOptions,
  assertNonNegativeInteger,
  assertOneOf,
  assertPositiveInteger,
  describeValue,
  optionKeys,
} from '../lib/core/validate';
import { cacheDir, writeFileAtomic } from './cache';

/** Options of {@link isingConfigurations}. */
export interface IsingConfigurationsOptions {
  /** Lattice side: L x L periodic lattice, N = L^2 spins per configuration. Integer in [2, 64]. Torlai & Melko use 8. */
  L: number;
  /** Temperatures to sample (each finite, > 0), in units of J / k_B; Tc ~= 2.269. */
  temperatures: readonly number[];
  /** Configurations kept per temperature (positive integer). */
  samplesPerTemperature: number;
  /** Sweeps between kept configurations (positive integer; see `IsingModel` for what a sweep is). Default 10. */
  sweepsBetween?: number;
  /** Sweeps discarded before the first kept configuration (non-negative integer). Default 1000. */
  burnIn?: number;
  /**
   * Seed (a number, so it can name the cache file). Each temperature gets its own stream derived from
   * (seed, temperature), so a temperature's data do not depend on which other temperatures are asked for.
   * Default 1.
   */
  seed?: number;
  /**
   * 'auto' (default): Wolff cluster updates for T <= 1.5 Tc -- near and below Tc, where single-spin
   * Metropolis slows down critically and cannot tunnel between +m and -m -- and Metropolis above
   * (`isingAutoAlgorithm`). 'metropolis' or 'wolff' force one algorithm at every temperature.
   */
  algorithm?: 'auto' | IsingAlgorithm;
  /** Read and write the cache. Default true. False always samples afresh and writes nothing. */
  cache?: boolean;
}

const ISING_CONFIGURATIONS_OPTION_KEYS = optionKeys<IsingConfigurationsOptions>({
  L: true, temperatures: true, samplesPerTemperature: true, sweepsBetween: true, burnIn: true, seed: true, algorithm: true,
  cache: true,
});

/** The configurations of one temperature. */
export interface IsingTemperatureSet {
  /** The temperature. */
  temperature: number;
  /**
   * `samplesPerTemperature` configurations back to back as 0/1 values (1 = spin up, s = 2v - 1), row-major
   * sites: `tf.tensor2d(set.configurations, set.shape)` is the RBM's training matrix.
   */
  configurations: Float32Array;
  /** [samplesPerTemperature, L^2]. */
  shape: [number, number];
  /** Energy per spin of each configuration (J = 1). */
  energy: number[];
  /** Signed magnetisation per spin of each configuration. */
  magnetization: number[];
  /** Algorithm that produced them. */
  algorithm: IsingAlgorithm;
  /** True when read from the cache. */
  fromCache: boolean;
}

/** Result of {@link isingConfigurations}. */
export interface IsingConfigurationsResult {
  /** Lattice side L. */
  L: number;
  /** Spins per configuration, L^2. */
  nSpins: number;
  /** One set per requested temperature, in the order given. */
  sets: IsingTemperatureSet[];
}

/** Magic bytes of the cache file format, version 1. */
export const ISING_CACHE_MAGIC = 'GLISING1';
const HEADER_BYTES = 8 + 4 + 4 + 8 + 4; // magic, L, n, temperature (float64), FNV-1a checksum of the spins

const DEFAULTS = {
  sweepsBetween: 10, // several autocorrelation times of |m| for L = 8 away from Tc with Metropolis, ~1 with Wolff
  burnIn: 1000, // plenty for L <= 32 from an ordered ('up') or random start
  seed: 1,
} as const;

/** FNV-1a hash of bytes, to detect a damaged cache file. */
function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h;
}

/** A 32-bit seed for (seed, temperature): mixes the temperature's float64 bits into the user seed. */
function temperatureSeed(seed: number, temperature: number): number {
  const words = new Uint32Array(new Float64Array([temperature]).buffer);
  let h = (seed >>> 0) ^ 0x9e3779b9;
  for (const w of [words[0], words[1], Math.floor(seed / 4294967296) >>> 0]) {
    h = Math.imul(h ^ w, 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  }
  return h;
}

function cacheFile(L: number, T: number, n: number, between: number, burnIn: number, alg: IsingAlgorithm, seed: number): string {
  const name = `ising-L${L}-T${T}-n${n}-every${between}-burn${burnIn}-${alg}-seed${seed}.bin`;
  return path.join(cacheDir(), 'ising', name);
}

/** Reads a cache file; null if absent, damaged or for other parameters (it is then regenerated). */
function readCache(file: string, L: number, n: number, T: number): Int8Array | null {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return null;
  }
  const N = L * L;
  if (buf.length !== HEADER_BYTES + n * N) return null;
  if (buf.toString('latin1', 0, 8) !== ISING_CACHE_MAGIC) return null;
  if (buf.readUInt32LE(8) !== L || buf.readUInt32LE(12) !== n || buf.readDoubleLE(16) !== T) return null;
  const spins = new Int8Array(buf.buffer, buf.byteOffset + HEADER_BYTES, n * N).slice();
  if (fnv1a(new Uint8Array(spins.buffer)) !== buf.readUInt32LE(24)) return null;
  for (let i = 0; i < spins.length; i++) if (spins[i] !== 1 && spins[i] !== -1) return null;
  return spins;
}

function writeCache(file: string, L: number, n: number, T: number, spins: Int8Array): void {
  const buf = Buffer.alloc(HEADER_BYTES + spins.length);
  buf.write(ISING_CACHE_MAGIC, 0, 'latin1');
  buf.writeUInt32LE(L, 8);
  buf.writeUInt32LE(n, 12);
  buf.writeDoubleLE(T, 16);
  buf.writeUInt32LE(fnv1a(new Uint8Array(spins.buffer, spins.byteOffset, spins.length)), 24);
  Buffer.from(spins.buffer, spins.byteOffset, spins.length).copy(buf, HEADER_BYTES);
  try {
    writeFileAtomic(file, buf);
  } catch {
    // a read-only cache folder only costs speed
  }
}

/**
 * Ising configurations at each temperature, sampled with {@link IsingModel} (J = 1, periodic L x L), as 0/1
 * Float32 rows for RBM training, with their energies and magnetisations per spin.
 *
 * One chain per temperature (started all-up below Tc, random above): `burnIn` sweeps, then a configuration
 * every `sweepsBetween` sweeps. Results are cached per temperature under `<genlab>/.cache/genlab/ising/`
 * (or `$GENLAB_CACHE_DIR/ising/`); a damaged cache file is ignored and rewritten. Synchronous.
 *
 * @example
 * const data = isingConfigurations({ L: 8, temperatures: [1.5, 2.27, 3.5], samplesPerTemperature: 5000, seed: 1 });
 * const x = tf.tensor2d(data.sets[0].configurations, data.sets[0].shape); // [5000, 64] of 0/1
 */
export function isingConfigurations(options: IsingConfigurationsOptions): IsingConfigurationsResult {
  assertKnownOptions('isingConfigurations', options, ISING_CONFIGURATIONS_OPTION_KEYS);
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object { L, temperatures, samplesPerTemperature, ... }; got ${describeValue(options)}`);
  }
  const { L, temperatures, samplesPerTemperature: n } = options;
  assertPositiveInteger('L', L);
  if (L < 2 || L > 64) throw new RangeError(`L must be an integer in [2, 64]; got ${L}`);
  if (!Array.isArray(temperatures) || temperatures.length === 0) {
    throw new RangeError(`temperatures must be a non-empty array of positive numbers; got ${describeValue(temperatures)}`);
  }
  temperatures.forEach((T, i) => assertFiniteNumber(`temperatures[${i}]`, T, { min: 0, exclusiveMin: true }));
  assertPositiveInteger('samplesPerTemperature', n);
  const between = options.sweepsBetween ?? DEFAULTS.sweepsBetween;
  assertPositiveInteger('sweepsBetween', between);
  const burnIn = options.burnIn ?? DEFAULTS.burnIn;
  assertNonNegativeInteger('burnIn', burnIn);
  const seed = options.seed ?? DEFAULTS.seed;
  assertFiniteNumber('seed', seed);
  const algorithmOption = options.algorithm ?? 'auto';
  assertOneOf('algorithm', algorithmOption, ['auto', 'metropolis', 'wolff'] as const);
  const useCache = options.cache ?? true;
  const N = L * L;

  const sets = temperatures.map((T): IsingTemperatureSet => {
    const algorithm = algorithmOption === 'auto' ? isingAutoAlgorithm(T) : algorithmOption;
    const file = cacheFile(L, T, n, between, burnIn, algorithm, seed);
    let spins = useCache ? readCache(file, L, n, T) : null;
    const fromCache = spins !== null;
    if (!spins) {
      const model = new IsingModel({ L, seed: new Random(temperatureSeed(seed, T)) });
      const run = model.sample({
        temperature: T,
        sweeps: n * between,
        thin: between,
        burnIn,
        algorithm,
        initial: T < ISING_CRITICAL_TEMPERATURE ? 'up' : 'random',
        returnConfigurations: true,
      });
      spins = new Int8Array(n * N);
      (run.configurations ?? []).forEach((c, r) => (spins as Int8Array).set(c, r * N));
      if (useCache) writeCache(file, L, n, T, spins);
    }
    const { energy, magnetization } = measureIsing(spins, { L });
    const configurations = new Float32Array(spins.length); // v = (s + 1) / 2 (a plain loop: TypedArray.from with a map is slow)
    for (let i = 0; i < spins.length; i++) configurations[i] = (spins[i] + 1) >> 1;
    return { temperature: T, configurations, shape: [n, N], energy, magnetization, algorithm, fromCache };
  });
  return { L, nSpins: N, sets };
}
