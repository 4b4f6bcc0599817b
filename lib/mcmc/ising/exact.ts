/** Exact results for small lattices: the density of states by enumeration, and equilibrium averages from it. */
import { assertFiniteNumber, assertPositiveInteger } from '../../core/validate';
import { periodicNeighbours } from './lattice';

/** Largest L for which {@link isingExact} enumerates (2^25 ~ 3.4e7 states, about a second, cached). */
export const ISING_EXACT_MAX_L = 5;

/** Exact thermodynamics of a finite L x L periodic lattice; per-spin quantities as in lattice.ts. */
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
