/** The Ising model itself: its state and its Metropolis and Wolff sweeps (conventions: lattice.ts). */
import { Random, SeedLike, toRandom } from '../../engine/random';
import { assertFiniteNumber, assertKnownOptions, assertNonNegativeInteger, assertOneOf, assertPositiveInteger, describeValue, optionKeys } from '../../core/validate';
import { periodicNeighbours } from './lattice';

/** Defaults of {@link IsingModel.sample}, each with its reason. */
const SAMPLE_DEFAULTS = {
  burnIn: 100, // sweeps: enough to equilibrate L <= 32 away from Tc from any start (use more near Tc with Metropolis)
  thin: 1, // record every sweep; the error bars account for the autocorrelation instead
  algorithm: 'metropolis', // the textbook algorithm of the lectures
  initial: 'current', // continue the chain, so a list of temperatures anneals one chain
} as const;

/** The update algorithms of {@link IsingModel.sample}. */
export type IsingAlgorithm = 'metropolis' | 'wolff';

/** Options of the {@link IsingModel} constructor. */
export interface IsingModelOptions {
  /** Linear size: the lattice is L x L with periodic boundaries. Integer >= 2. */
  L: number;
  /** Coupling J (finite, non-zero). J > 0 ferromagnet (default 1); J < 0 antiferromagnet (Metropolis only). */
  J?: number;
  /** Seed (or generator) for the initial state and all updates. Same seed, same run. */
  seed?: SeedLike;
}

const ISING_MODEL_OPTION_KEYS = optionKeys<IsingModelOptions>({ L: true, J: true, seed: true });

/** Options of {@link IsingModel.sample}. */
export interface IsingSampleOptions {
  /** Temperature T > 0 (in units of J / k_B). Tc ~= 2.269 for J = 1. */
  temperature: number;
  /** Number of sweeps after burn-in (positive integer); a sample is recorded every `thin` sweeps. */
  sweeps: number;
  /** Sweeps run and discarded first to reach equilibrium (non-negative integer). Default 100. */
  burnIn?: number;
  /**
   * 'metropolis' (default): single-spin flips; 'wolff': single-cluster updates (Wolff 1989), which beat
   * critical slowing down near Tc and tunnel between +m and -m below it. Wolff needs J > 0.
   */
  algorithm?: IsingAlgorithm;
  /** Record every `thin`-th sweep (positive integer). Default 1. */
  thin?: number;
  /**
   * Starting state: 'current' (default; continue from the model's present state, which starts random --
   * handy for lowering the temperature step by step), 'random' (infinite temperature), 'up' / 'down'
   * (all +1 / all -1, zero temperature), or an Int8Array of N = L^2 spins +-1.
   */
  initial?: 'current' | 'random' | 'up' | 'down' | Int8Array;
  /** Also return a copy of every recorded configuration (Int8Array of +-1, row-major). Default false. */
  returnConfigurations?: boolean;
}

const ISING_SAMPLE_OPTION_KEYS = optionKeys<IsingSampleOptions>({
  temperature: true, sweeps: true, burnIn: true, algorithm: true, thin: true, initial: true, returnConfigurations: true,
});

/** Result of {@link IsingModel.sample}: one entry per recorded sweep. */
export interface IsingSampleResult {
  /** Energy per spin e = E / N of each recorded configuration. */
  energy: number[];
  /** Signed magnetisation per spin m = (1/N) sum s_i of each recorded configuration. */
  magnetization: number[];
  /** The recorded configurations (Int8Array of N spins +-1), when `returnConfigurations` was set. */
  configurations?: Int8Array[];
  /** The temperature sampled. */
  temperature: number;
  /** Lattice size L. */
  L: number;
  /** Coupling J. */
  J: number;
  /** Algorithm used. */
  algorithm: IsingAlgorithm;
  /** Metropolis: fraction of accepted single-spin flips after burn-in. */
  acceptanceRate?: number;
  /** Wolff: mean number of spins per cluster (over burn-in and sampling). */
  meanClusterSize?: number;
  /** Wolff: cluster updates per sweep used after burn-in (see {@link IsingModel.sample}). */
  clustersPerSweep?: number;
}

/**
 * An L x L periodic Ising model with state in an Int8Array of +-1 spins.
 *
 * What a sweep is:
 * - Metropolis: N = L^2 single-spin attempts at uniformly random sites; a flip with energy change dE is
 *   accepted with probability min(1, exp(-dE / T)), read from a table of the 5 possible dE = 2 J s_i h_i,
 *   h_i in {-4, -2, 0, 2, 4}.
 * - Wolff: a fixed number k of single-cluster updates chosen so that a sweep flips about N spins on average:
 *   k = max(1, round(N / <cluster size>)), with the mean cluster size measured during burn-in (at least one
 *   pilot pass of clusters totalling >= N spins is made, also when burnIn = 0). So a Wolff sweep touches as
 *   many spins as a Metropolis sweep and autocorrelation times in sweeps are comparable ("time per spin").
 *   k is fixed while measuring because stopping "when N spins have flipped" would bias measurements towards
 *   states that grow large clusters.
 */
export class IsingModel {
  /** Linear size L. */
  readonly L: number;
  /** Number of spins N = L^2. */
  readonly N: number;
  /** Coupling J. */
  readonly J: number;
  private readonly rng: Random;
  private readonly uniform: Random;
  private spins: Int8Array;
  /** neighbours[4i .. 4i+3] = right, left, down, up of site i (periodic). */
  private readonly neighbours: Int32Array;
  private readonly stack: Int32Array;

  /**
   * A lattice of L x L spins, each set to +-1 at random (seeded).
   *
   * @example
   * const model = new IsingModel({ L: 8, seed: 1 }); // J = 1, Tc ~= 2.269
   */
  constructor(options: IsingModelOptions) {
    assertKnownOptions('IsingModel', options, ISING_MODEL_OPTION_KEYS);
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`options must be an object { L, J?, seed? }; got ${describeValue(options)}`);
    }
    const { L } = options;
    assertPositiveInteger('L', L);
    if (L < 2) throw new RangeError(`L must be an integer >= 2; got ${L}`);
    if (L > 4096) throw new RangeError(`L must be at most 4096; got ${L}`);
    const J = options.J ?? 1;
    assertFiniteNumber('J', J);
    if (J === 0) throw new RangeError('J must be a non-zero finite number; got 0');
    this.L = L;
    this.N = L * L;
    this.J = J;
    this.rng = toRandom(options.seed);
    this.uniform = this.rng.fork();
    this.neighbours = periodicNeighbours(L);
    this.stack = new Int32Array(this.N);
    this.spins = new Int8Array(this.N);
    this.randomize();
  }

  /** A copy of the current configuration (N spins +-1, row-major). */
  getState(): Int8Array {
    return this.spins.slice();
  }

  /** Sets the configuration: an Int8Array of N = L^2 values, each +1 or -1. */
  setState(spins: Int8Array): void {
    if (!(spins instanceof Int8Array) || spins.length !== this.N) {
      throw new RangeError(`state must be an Int8Array of L*L = ${this.N} spins; got ${describeValue(spins)}${spins instanceof Int8Array ? ` of length ${spins.length}` : ''}`);
    }
    for (let i = 0; i < this.N; i++) {
      if (spins[i] !== 1 && spins[i] !== -1) throw new RangeError(`state must contain only +1 and -1; got ${spins[i]} at site ${i}`);
    }
    this.spins = spins.slice();
  }

  /** Sets every spin independently to +-1 with probability 1/2 (infinite temperature). */
  randomize(): void {
    for (let i = 0; i < this.N; i++) this.spins[i] = this.rng.nextUint32() & 1 ? 1 : -1;
  }

  /** Energy per spin e = E / N of the current configuration. */
  energy(): number {
    return (-this.J * this.bondSum()) / this.N;
  }

  /** Signed magnetisation per spin of the current configuration. */
  magnetization(): number {
    let m = 0;
    for (let i = 0; i < this.N; i++) m += this.spins[i];
    return m / this.N;
  }

  /** sum over bonds of s_i s_j (each bond once: right and down neighbour of every site); an integer. */
  private bondSum(): number {
    const s = this.spins;
    const nb = this.neighbours;
    let b = 0;
    for (let i = 0; i < this.N; i++) b += s[i] * (s[nb[4 * i]] + s[nb[4 * i + 2]]);
    return b;
  }

  /**
   * One sweep at `temperature`, for animations and hand-written loops. Metropolis: N single-spin attempts.
   * Wolff: `clusters` cluster updates when given, else clusters until at least N spins have flipped -- a
   * data-dependent stopping rule that is fine for annealing and pictures but slightly favours states that grow
   * large clusters, so measure with {@link IsingModel.sample} (a fixed number of clusters per sweep) instead.
   *
   * @returns Metropolis: the number of accepted flips; Wolff: the number of spins flipped.
   */
  sweep(temperature: number, algorithm: IsingAlgorithm = 'metropolis', clusters?: number): number {
    assertFiniteNumber('temperature', temperature, { min: 0, exclusiveMin: true });
    assertOneOf('algorithm', algorithm, ['metropolis', 'wolff'] as const);
    if (algorithm === 'metropolis') return this.metropolisSweep(metropolisTable(this.J, temperature));
    this.checkWolff();
    const p = 1 - Math.exp((-2 * this.J) / temperature);
    if (clusters !== undefined) {
      assertPositiveInteger('clusters', clusters);
      let flipped = 0;
      for (let k = 0; k < clusters; k++) flipped += this.wolffUpdate(p);
      return flipped;
    }
    let flipped = 0;
    while (flipped < this.N) flipped += this.wolffUpdate(p);
    return flipped;
  }

  private checkWolff(): void {
    if (this.J < 0) throw new RangeError(`algorithm 'wolff' needs a ferromagnetic coupling J > 0; got J = ${this.J}`);
  }

  /** N single-spin Metropolis attempts at random sites; `table[k]` = acceptance for s_i h_i = 2k - 4. */
  private metropolisSweep(table: Float64Array): number {
    const s = this.spins;
    const nb = this.neighbours;
    const rng = this.uniform;
    const n = this.N;
    let accepted = 0;
    for (let t = 0; t < n; t++) {
      const i = (rng.next() * n) | 0;
      const q = 4 * i;
      // s_i h_i in {-4, -2, 0, 2, 4}; dE = 2 J s_i h_i.
      const k = (s[i] * (s[nb[q]] + s[nb[q + 1]] + s[nb[q + 2]] + s[nb[q + 3]]) + 4) >> 1;
      const a = table[k];
      if (a >= 1 || rng.next() < a) {
        s[i] = -s[i];
        accepted++;
      }
    }
    return accepted;
  }

  /**
   * One Wolff cluster update: grow a cluster of aligned spins from a random seed site, adding each aligned
   * neighbour with probability p = 1 - exp(-2 J / T), and flip it (spins are flipped as they join, so a
   * flipped spin is never added twice). Always accepted. Returns the cluster size.
   */
  private wolffUpdate(p: number): number {
    const s = this.spins;
    const nb = this.neighbours;
    const rng = this.uniform;
    const stack = this.stack;
    const seed = (rng.next() * this.N) | 0;
    const s0 = s[seed];
    s[seed] = -s0;
    let top = 0;
    stack[top++] = seed;
    let size = 1;
    while (top > 0) {
      const i = stack[--top];
      for (let d = 0; d < 4; d++) {
        const j = nb[4 * i + d];
        if (s[j] === s0 && rng.next() < p) {
          s[j] = -s0;
          stack[top++] = j;
          size++;
        }
      }
    }
    return size;
  }

  /**
   * Samples the Boltzmann distribution exp(-H / T) / Z: `burnIn` sweeps, then `sweeps` sweeps recording the
   * energy and signed magnetisation per spin (and optionally the configuration) after every `thin`-th.
   * The model keeps its final state, so consecutive calls continue one chain (`initial: 'current'`).
   *
   * @example
   * const model = new IsingModel({ L: 16, seed: 1 });
   * const run = model.sample({ temperature: 2.3, sweeps: 2000, burnIn: 200, algorithm: 'wolff' });
   * const th = isingThermodynamics(run); // energy, |m|, C and chi with error bars
   *
   * With `returnConfigurations: true` the result's `configurations` is typed as present (`run.configurations[0]`
   * needs no `!`).
   */
  sample(options: IsingSampleOptions & { returnConfigurations: true }): IsingSampleResult & { configurations: Int8Array[] };
  /** As above; `configurations` is set only when `returnConfigurations` is true. */
  sample(options: IsingSampleOptions): IsingSampleResult;
  sample(options: IsingSampleOptions): IsingSampleResult {
    assertKnownOptions('IsingModel.sample', options, ISING_SAMPLE_OPTION_KEYS);
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`options must be an object { temperature, sweeps, ... }; got ${describeValue(options)}`);
    }
    const { temperature, sweeps } = options;
    assertFiniteNumber('temperature', temperature, { min: 0, exclusiveMin: true });
    assertPositiveInteger('sweeps', sweeps);
    const burnIn = options.burnIn ?? SAMPLE_DEFAULTS.burnIn;
    assertNonNegativeInteger('burnIn', burnIn);
    const thin = options.thin ?? SAMPLE_DEFAULTS.thin;
    assertPositiveInteger('thin', thin);
    const algorithm = options.algorithm ?? SAMPLE_DEFAULTS.algorithm;
    assertOneOf('algorithm', algorithm, ['metropolis', 'wolff'] as const);
    if (algorithm === 'wolff') this.checkWolff();
    const initial = options.initial ?? SAMPLE_DEFAULTS.initial;
    if (initial instanceof Int8Array) this.setState(initial);
    else {
      assertOneOf('initial', initial, ['current', 'random', 'up', 'down'] as const);
      if (initial === 'random') this.randomize();
      else if (initial === 'up') this.spins.fill(1);
      else if (initial === 'down') this.spins.fill(-1);
    }
    const keep = options.returnConfigurations ?? false;

    const energy: number[] = [];
    const magnetization: number[] = [];
    const configurations: Int8Array[] | undefined = keep ? [] : undefined;
    const record = (): void => {
      energy.push(this.energy());
      magnetization.push(this.magnetization());
      if (configurations) configurations.push(this.spins.slice());
    };
    const result: IsingSampleResult = { energy, magnetization, temperature, L: this.L, J: this.J, algorithm };

    if (algorithm === 'metropolis') {
      const table = metropolisTable(this.J, temperature);
      for (let t = 0; t < burnIn; t++) this.metropolisSweep(table);
      let accepted = 0;
      for (let t = 1; t <= sweeps; t++) {
        accepted += this.metropolisSweep(table);
        if (t % thin === 0) record();
      }
      result.acceptanceRate = accepted / (sweeps * this.N);
    } else {
      const p = 1 - Math.exp((-2 * this.J) / temperature);
      // Burn-in (at least one pilot pass): flip clusters until ~N spins per sweep, measuring cluster sizes.
      let clusters = 0;
      let flippedTotal = 0;
      for (let t = 0; t < Math.max(1, burnIn); t++) {
        let flipped = 0;
        while (flipped < this.N) {
          flipped += this.wolffUpdate(p);
          clusters++;
        }
        flippedTotal += flipped;
      }
      const perSweep = Math.max(1, Math.round((this.N * clusters) / flippedTotal));
      for (let t = 1; t <= sweeps; t++) {
        for (let k = 0; k < perSweep; k++) {
          flippedTotal += this.wolffUpdate(p);
          clusters++;
        }
        if (t % thin === 0) record();
      }
      result.meanClusterSize = flippedTotal / clusters;
      result.clustersPerSweep = perSweep;
    }
    if (configurations) result.configurations = configurations;
    return result;
  }
}

/** Acceptance probabilities min(1, exp(-dE / T)) for dE = 2 J x, x = s_i h_i = 2k - 4, k = 0..4. */
function metropolisTable(J: number, temperature: number): Float64Array {
  const table = new Float64Array(5);
  for (let k = 0; k < 5; k++) table[k] = Math.min(1, Math.exp((-2 * J * (2 * k - 4)) / temperature));
  return table;
}
