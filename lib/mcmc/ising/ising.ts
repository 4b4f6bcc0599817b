/**
 * The two-dimensional Ising model on an L x L periodic square lattice: Metropolis and Wolff sampling on
 * typed arrays, exact results by enumeration for small lattices, Onsager's infinite-lattice solution, and
 * thermodynamic estimates with autocorrelation-aware error bars.
 *
 * Conventions (k_B = 1, zero field):
 *   H(s) = -J * sum_<ij> s_i s_j,  s_i in {-1, +1},  each nearest-neighbour bond counted once (2N bonds,
 *   N = L^2; on a 2 x 2 torus a site's left and right neighbour coincide and that pair is counted twice).
 *   Site i = row * L + col (row-major), the layout of every configuration genlab returns.
 *   Per-spin observables: e = E / N, m = (1/N) sum_i s_i (signed).
 *   Specific heat per spin  C = N * Var(e) / T^2  = Var(E) / (N T^2).
 *   Susceptibility per spin chi = N * (<m^2> - <|m|>^2) / T  -- the finite-lattice convention with |m|
 *   (Newman & Barkema 1999, eq. 3.53; Landau & Binder): in zero field on a finite lattice <m> = 0 by symmetry,
 *   so N <m^2> / T (also reported, as `susceptibilityZeroField` in exact results) grows like N below Tc.
 */
import { autocorrelationTime, Estimate } from '../diagnostics';
import { Random, SeedLike, toRandom } from '../../engine/random';
import {
  assertFiniteNumber,
  assertKnownOptions,
  assertNonNegativeInteger,
  assertOneOf,
  assertPositiveInteger,
  describeValue,
  optionKeys,
} from '../../core/validate';

/** Onsager's critical temperature of the square-lattice Ising model for J = 1: 2 / ln(1 + sqrt 2) ~= 2.269185. */
export const ISING_CRITICAL_TEMPERATURE = 2 / Math.log(1 + Math.SQRT2);

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

/** Neighbour table of an L x L torus: entries 4i..4i+3 are the right, left, down and up neighbours of site i. */
function periodicNeighbours(L: number): Int32Array {
  const nb = new Int32Array(4 * L * L);
  for (let r = 0; r < L; r++) {
    for (let c = 0; c < L; c++) {
      const i = r * L + c;
      nb[4 * i] = r * L + ((c + 1) % L);
      nb[4 * i + 1] = r * L + ((c + L - 1) % L);
      nb[4 * i + 2] = ((r + 1) % L) * L + c;
      nb[4 * i + 3] = ((r + L - 1) % L) * L + c;
    }
  }
  return nb;
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
   */
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

// ---------------------------------------------------------------------------------------------------------
// Measuring configurations (Monte Carlo or RBM samples)

/** Options of {@link measureIsing}. */
export interface MeasureIsingOptions {
  /** Lattice size L (each configuration has L^2 values, row-major). */
  L: number;
  /** Coupling J. Default 1. */
  J?: number;
  /**
   * How values encode spins: 'spin' (default) values are +-1; 'binary' values are 0/1 with 1 = spin up,
   * the encoding of `isingConfigurations` and of RBM visible units (a value > 0.5 counts as up).
   */
  encoding?: 'spin' | 'binary';
}

const MEASURE_ISING_OPTION_KEYS = optionKeys<MeasureIsingOptions>({ L: true, J: true, encoding: true });

/**
 * Energy and magnetisation per spin of configurations stored back to back, e.g. `tensor.dataSync()` of a
 * [n, L^2] batch of RBM samples, or a list of Int8Array configurations.
 */
export function measureIsing(
  configurations: ArrayLike<number> | ArrayLike<number>[],
  options: MeasureIsingOptions,
): { energy: number[]; magnetization: number[] } {
  assertKnownOptions('measureIsing', options, MEASURE_ISING_OPTION_KEYS);
  if (options === null || options === undefined) throw new TypeError('measureIsing needs options { L, J?, encoding? }');
  const { L } = options;
  assertPositiveInteger('L', L);
  if (L < 2) throw new RangeError(`L must be an integer >= 2; got ${L}`);
  const J = options.J ?? 1;
  assertFiniteNumber('J', J);
  const encoding = options.encoding ?? 'spin';
  assertOneOf('encoding', encoding, ['spin', 'binary'] as const);
  const N = L * L;
  const rows: ArrayLike<number>[] = [];
  if (Array.isArray(configurations) && configurations.length > 0 && typeof configurations[0] !== 'number') {
    (configurations as ArrayLike<number>[]).forEach((c, r) => {
      if (!c || c.length !== N) throw new RangeError(`configurations[${r}] must have L*L = ${N} values; got ${describeValue(c)}`);
      rows.push(c);
    });
  } else {
    const flat = configurations as ArrayLike<number>;
    if (!flat || typeof flat.length !== 'number' || flat.length % N !== 0 || flat.length === 0) {
      throw new RangeError(`configurations must hold a whole number of L*L = ${N} configurations; got ${describeValue(flat)} of length ${flat?.length}`);
    }
    const view = ArrayBuffer.isView(flat) ? (flat as unknown as Float32Array) : Float64Array.from(flat);
    for (let r = 0; r < flat.length / N; r++) rows.push(view.subarray(r * N, (r + 1) * N));
  }
  const energy: number[] = [];
  const magnetization: number[] = [];
  const s = new Int8Array(N);
  for (const row of rows) {
    let m = 0;
    for (let i = 0; i < N; i++) {
      const v = row[i];
      if (encoding === 'binary') s[i] = v > 0.5 ? 1 : -1;
      else if (v === 1 || v === -1) s[i] = v;
      else throw new RangeError(`configurations must contain only +1 and -1 with encoding 'spin'; got ${describeValue(v)}`);
      m += s[i];
    }
    let b = 0;
    for (let r = 0; r < L; r++) {
      for (let c = 0; c < L; c++) {
        const i = r * L + c;
        b += s[i] * (s[r * L + ((c + 1) % L)] + s[((r + 1) % L) * L + c]);
      }
    }
    energy.push((-J * b) / N);
    magnetization.push(m / N);
  }
  return { energy, magnetization };
}

// ---------------------------------------------------------------------------------------------------------
// Thermodynamics with error bars

/** Input of {@link isingThermodynamics}: a result of `IsingModel.sample`, or the same fields by hand. */
export interface IsingSeries {
  /** Energy per spin of each sample. */
  energy: ArrayLike<number>;
  /** Signed magnetisation per spin of each sample. */
  magnetization: ArrayLike<number>;
  /** Temperature the samples were drawn at (> 0). */
  temperature: number;
  /** Lattice size L (N = L^2 spins). */
  L: number;
}

/** Thermodynamic estimates per spin, each with a one-sigma error bar; see {@link isingThermodynamics}. */
export interface IsingThermodynamics {
  /** <e> = <E> / N. */
  energy: Estimate;
  /** <|m|>. */
  absMagnetization: Estimate;
  /** <m^2>. */
  magnetizationSquared: Estimate;
  /** C = N * Var(e) / T^2. */
  specificHeat: Estimate;
  /** chi = N * (<m^2> - <|m|>^2) / T = N * Var(|m|) / T. */
  susceptibility: Estimate;
  /** Integrated autocorrelation time of the energy series, in recorded samples. */
  tauEnergy: number;
  /** Integrated autocorrelation time of the |m| series, in recorded samples. */
  tauAbsMagnetization: number;
  /** Number of samples. */
  n: number;
}

/** f applied to every value, into a Float64Array (a plain loop: TypedArray.from with a map function is slow in V8). */
function mapSeries(x: ArrayLike<number>, f: (v: number) => number): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
  return out;
}

/**
 * Mean energy, |m|, m^2, specific heat and susceptibility per spin from energy and magnetisation series,
 * with error bars that account for autocorrelation (Sokal's window, c = 5):
 * - means: stderr = sqrt(Var * tau / n);
 * - C = (N / T^2) * mean of y_i = (e_i - <e>)^2 and chi = (N / T) * mean of z_i = (|m_i| - <|m|>)^2, with
 *   the error of those means computed from the autocorrelation time of the y and z series themselves.
 * Every error bar is one standard error from the autocorrelation-corrected variance (never sqrt(Var / n) on the
 * correlated draws, which is too small by sqrt(tau)); +-1.96 stderr covers the exact 4x4 values in 192 of 200
 * seeds (test/ising.test.ts; the iid formula covers |m| in 112). Bias: the means are unbiased once the chain is
 * in equilibrium (burn-in discarded); C and chi use the sample mean inside the square, which biases them low by
 * a factor of about (1 - tau / n) -- negligible for n >> tau, below the error bar otherwise. tau itself is
 * underestimated on runs shorter than ~50 tau (see `autocorrelationTime`'s `converged` flag).
 * Conventions as in the module notes (chi uses |m|, the finite-lattice convention).
 */
export function isingThermodynamics(series: IsingSeries): IsingThermodynamics {
  const { energy, magnetization, temperature, L } = series;
  assertFiniteNumber('temperature', temperature, { min: 0, exclusiveMin: true });
  assertPositiveInteger('L', L);
  if (!energy || !magnetization || energy.length !== magnetization.length) {
    throw new RangeError(`energy and magnetization must be series of the same length; got ${energy?.length} and ${magnetization?.length}`);
  }
  const N = L * L;
  const n = energy.length;
  const absM = mapSeries(magnetization, Math.abs);
  const m2 = mapSeries(magnetization, (m) => m * m);
  const e = autocorrelationTime(energy);
  const a = autocorrelationTime(absM);
  const q = autocorrelationTime(m2);
  const y = mapSeries(energy, (v) => (v - e.mean) ** 2);
  const z = mapSeries(absM, (v) => (v - a.mean) ** 2);
  const cy = autocorrelationTime(y);
  const cz = autocorrelationTime(z);
  return {
    energy: { value: e.mean, stderr: e.stderr },
    absMagnetization: { value: a.mean, stderr: a.stderr },
    magnetizationSquared: { value: q.mean, stderr: q.stderr },
    specificHeat: { value: (N * cy.mean) / temperature ** 2, stderr: (N * cy.stderr) / temperature ** 2 },
    susceptibility: { value: (N * cz.mean) / temperature, stderr: (N * cz.stderr) / temperature },
    tauEnergy: e.tau,
    tauAbsMagnetization: a.tau,
    n,
  };
}

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

// ---------------------------------------------------------------------------------------------------------
// Exact results

/** Largest L for which {@link isingExact} enumerates (2^25 ~ 3.4e7 states, about a second, cached). */
export const ISING_EXACT_MAX_L = 5;

/** Exact thermodynamics of a finite L x L periodic lattice; per-spin quantities as in the module notes. */
export interface IsingExactResult {
  /** <E> / N. */
  energy: number;
  /** <|m|>. */
  absMagnetization: number;
  /** <m^2>. */
  magnetizationSquared: number;
  /** C = Var(E) / (N T^2). */
  specificHeat: number;
  /** chi = N (<m^2> - <|m|>^2) / T (finite-lattice convention). */
  susceptibility: number;
  /** N <m^2> / T (the zero-field susceptibility of the finite lattice, <m> = 0). */
  susceptibilityZeroField: number;
  /** log Z. */
  logZ: number;
  /** Free energy per spin f = -T log Z / N. */
  freeEnergy: number;
}

/** The density of states g(E, M) of an L x L periodic lattice: every (E, M) that occurs and its count. */
export interface IsingDensityOfStates {
  /** L. */
  L: number;
  /** Total energy E / J = -sum_<ij> s_i s_j of each entry. */
  energy: number[];
  /** Total magnetisation M = sum_i s_i of each entry. */
  magnetization: number[];
  /** Number of configurations with that (E, M); they sum to 2^(L^2). */
  count: number[];
}

const dosCache = new Map<number, IsingDensityOfStates>();

/**
 * Counts all 2^(L^2) configurations by total energy and magnetisation (L = 2..5). The enumeration walks a
 * Gray code, so consecutive configurations differ by one spin and E, M update in O(1); cached per L.
 */
export function isingDensityOfStates(L: number): IsingDensityOfStates {
  assertPositiveInteger('L', L);
  if (L < 2 || L > ISING_EXACT_MAX_L) {
    throw new RangeError(
      `L must be an integer in [2, ${ISING_EXACT_MAX_L}] for exact enumeration (2^(L^2) states); got ${L}. ` +
        'For larger lattices compare with onsagerEnergy / onsagerMagnetization (infinite lattice).',
    );
  }
  const cached = dosCache.get(L);
  if (cached) return cached;
  const N = L * L;
  const nb = periodicNeighbours(L);
  // Histogram over b = sum_<ij> s_i s_j in [-2N, 2N] and M in [-N, N]: index (b + 2N) * (2N + 1) + (M + N).
  const width = 2 * N + 1;
  const hist = new Float64Array((4 * N + 1) * width);
  const s = new Int8Array(N).fill(-1);
  let b = 2 * N;
  let M = -N;
  hist[(b + 2 * N) * width + (M + N)] = 1;
  const total = 2 ** N;
  for (let k = 1; k < total; k++) {
    const i = 31 - Math.clz32(k & -k); // Gray code: flip the lowest set bit's position of k
    const q = 4 * i;
    const si = s[i];
    b -= 2 * si * (s[nb[q]] + s[nb[q + 1]] + s[nb[q + 2]] + s[nb[q + 3]]);
    M -= 2 * si;
    s[i] = -si;
    hist[(b + 2 * N) * width + (M + N)]++;
  }
  const out: IsingDensityOfStates = { L, energy: [], magnetization: [], count: [] };
  for (let bi = 0; bi <= 4 * N; bi++) {
    for (let mi = 0; mi < width; mi++) {
      const cnt = hist[bi * width + mi];
      if (cnt > 0) {
        out.energy.push(-(bi - 2 * N));
        out.magnetization.push(mi - N);
        out.count.push(cnt);
      }
    }
  }
  dosCache.set(L, out);
  return out;
}

/**
 * Exact equilibrium averages of the L x L periodic Ising model at `temperature`, by enumerating all 2^(L^2)
 * configurations (L = 2..5; L = 5 takes about a second the first time, then the density of states is cached).
 *
 * @param L Lattice size, integer in [2, 5].
 * @param temperature T > 0.
 * @param J Coupling (finite, non-zero). Default 1.
 */
export function isingExact(L: number, temperature: number, J = 1): IsingExactResult {
  assertFiniteNumber('temperature', temperature, { min: 0, exclusiveMin: true });
  assertFiniteNumber('J', J);
  if (J === 0) throw new RangeError('J must be a non-zero finite number; got 0');
  const dos = isingDensityOfStates(L);
  const N = L * L;
  const beta = 1 / temperature;
  // log weight of an entry: log g + (-beta * J * E_J), with E_J = E / J as stored; shift by the maximum.
  const logw = dos.energy.map((e, k) => Math.log(dos.count[k]) - beta * J * e);
  const shift = Math.max(...logw);
  let z = 0;
  let e1 = 0;
  let e2 = 0;
  let am = 0;
  let m2 = 0;
  dos.energy.forEach((eJ, k) => {
    const w = Math.exp(logw[k] - shift);
    const E = J * eJ;
    const m = dos.magnetization[k] / N;
    z += w;
    e1 += w * E;
    e2 += w * E * E;
    am += w * Math.abs(m);
    m2 += w * m * m;
  });
  e1 /= z;
  e2 /= z;
  am /= z;
  m2 /= z;
  const logZ = shift + Math.log(z);
  return {
    energy: e1 / N,
    absMagnetization: am,
    magnetizationSquared: m2,
    specificHeat: (e2 - e1 * e1) / (N * temperature * temperature),
    susceptibility: (N * (m2 - am * am)) / temperature,
    susceptibilityZeroField: (N * m2) / temperature,
    logZ,
    freeEnergy: (-temperature * logZ) / N,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Onsager's solution for the infinite lattice

/** Complete elliptic integrals K(k) and E(k) (modulus k, 0 <= k < 1) by the arithmetic-geometric mean. */
function ellipticKE(k: number): { K: number; E: number } {
  let a = 1;
  let b = Math.sqrt(Math.max(0, 1 - k * k));
  let c = k;
  let sum = 0.5 * c * c; // sum_{n>=0} 2^(n-1) c_n^2
  let pow = 0.5;
  for (let it = 0; it < 60 && Math.abs(c) > 1e-16; it++) {
    const an = (a + b) / 2;
    const bn = Math.sqrt(a * b);
    c = (a - b) / 2;
    a = an;
    b = bn;
    pow *= 2;
    sum += pow * c * c;
  }
  const K = Math.PI / (2 * a);
  return { K, E: K * (1 - sum) };
}

function onsagerArgs(temperature: number, J: number): { bj: number; k: number; t2: number } {
  assertFiniteNumber('temperature', temperature, { min: 0, exclusiveMin: true });
  assertFiniteNumber('J', J, { min: 0, exclusiveMin: true });
  const bj = (2 * J) / temperature; // 2 beta J
  const k = Math.min(1, (2 * Math.tanh(bj)) / Math.cosh(bj)); // = 2 sinh / cosh^2, finite at low T
  const t2 = Math.tanh(bj) ** 2;
  return { bj, k, t2 };
}

/**
 * Onsager's exact internal energy per spin of the infinite square lattice (zero field, J = 1; for another J > 0
 * use {@link onsagerSolution}):
 *
 *   u = -J coth(2 beta J) [1 + (2 / pi) (2 tanh^2(2 beta J) - 1) K(k)],   k = 2 sinh(2 beta J) / cosh^2(2 beta J),
 *
 * with K the complete elliptic integral of the first kind. u(Tc) = -sqrt(2) J. One argument, so
 * `temperatures.map(onsagerEnergy)` is safe.
 */
export function onsagerEnergy(temperature: number): number {
  return onsagerEnergyJ(temperature, 1);
}

function onsagerEnergyJ(temperature: number, J: number): number {
  const { bj, k, t2 } = onsagerArgs(temperature, J);
  const f = 2 * t2 - 1;
  if (Math.abs(f) < 1e-15) return -J / Math.tanh(bj);
  return (-J / Math.tanh(bj)) * (1 + (2 / Math.PI) * f * ellipticKE(k).K);
}

/**
 * Onsager's (and Yang's) spontaneous magnetisation per spin of the infinite lattice (J = 1; see
 * {@link onsagerSolution} for another J): m = (1 - sinh(2 beta J)^-4)^(1/8) below Tc = 2J / ln(1 + sqrt 2), and 0
 * above. One argument, so `temperatures.map(onsagerMagnetization)` is safe.
 */
export function onsagerMagnetization(temperature: number): number {
  return onsagerMagnetizationJ(temperature, 1);
}

function onsagerMagnetizationJ(temperature: number, J: number): number {
  const { bj } = onsagerArgs(temperature, J);
  const x = 1 - Math.sinh(bj) ** -4;
  return x > 0 ? x ** 0.125 : 0;
}

/**
 * Onsager's specific heat per spin of the infinite lattice (k_B = 1), which diverges logarithmically at Tc:
 *
 *   c = (4 / pi) (beta J coth 2 beta J)^2 { K(k) - E(k) - (1 - tanh^2 2 beta J) [pi / 2 + (2 tanh^2 2 beta J - 1) K(k)] }
 *
 * (the temperature derivative of {@link onsagerEnergy}; E is the complete elliptic integral of the second kind).
 *
 * Returns Infinity exactly at Tc. J = 1 (see {@link onsagerSolution} for another J); one argument, so
 * `temperatures.map(onsagerSpecificHeat)` is safe.
 */
export function onsagerSpecificHeat(temperature: number): number {
  return onsagerSpecificHeatJ(temperature, 1);
}

function onsagerSpecificHeatJ(temperature: number, J: number): number {
  const { bj, k, t2 } = onsagerArgs(temperature, J);
  if (k >= 1) return Infinity;
  const { K, E } = ellipticKE(k);
  const pre = (4 / Math.PI) * ((bj / 2) / Math.tanh(bj)) ** 2;
  return pre * (K - E - (1 - t2) * (Math.PI / 2 + (2 * t2 - 1) * K));
}

/** Options of {@link onsagerSolution}. */
export interface OnsagerOptions {
  /** Coupling J > 0. Default 1. */
  J?: number;
}

const ONSAGER_OPTION_KEYS = optionKeys<OnsagerOptions>({ J: true });

/** Onsager's infinite-lattice solution for one coupling: one-argument functions of the temperature. */
export interface OnsagerSolution {
  /** Internal energy per spin u(T) (see {@link onsagerEnergy}). */
  energy(temperature: number): number;
  /** Spontaneous magnetisation per spin m(T) (see {@link onsagerMagnetization}). */
  magnetization(temperature: number): number;
  /** Specific heat per spin c(T) (see {@link onsagerSpecificHeat}). */
  specificHeat(temperature: number): number;
  /** The critical temperature 2J / ln(1 + sqrt 2). */
  criticalTemperature: number;
}

/**
 * Onsager's solution for coupling `J` (default 1): `onsagerSolution({ J: 2 }).energy(4)` equals
 * `2 * onsagerEnergy(2)` (u scales as J u(T / J)). Its functions take one argument, safe for `Array.map`.
 */
export function onsagerSolution(options: OnsagerOptions = {}): OnsagerSolution {
  assertKnownOptions('onsagerSolution', options, ONSAGER_OPTION_KEYS);
  const J = options?.J ?? 1;
  assertFiniteNumber('J', J, { min: 0, exclusiveMin: true });
  return {
    energy: (temperature: number) => onsagerEnergyJ(temperature, J),
    magnetization: (temperature: number) => onsagerMagnetizationJ(temperature, J),
    specificHeat: (temperature: number) => onsagerSpecificHeatJ(temperature, J),
    criticalTemperature: ISING_CRITICAL_TEMPERATURE * J,
  };
}
