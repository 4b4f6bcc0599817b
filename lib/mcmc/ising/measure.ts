/** Measuring configurations, from Monte Carlo or from an RBM's samples: energy and magnetisation per spin. */
import { assertFiniteNumber, assertKnownOptions, assertOneOf, assertPositiveInteger, describeValue, optionKeys } from '../../core/validate';

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
