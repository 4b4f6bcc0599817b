/**
 * Seeded pseudo-random numbers shared by every sampler in genlab.
 *
 * One generator, xoshiro128** (Blackman & Vigna 2018), seeded through splitmix32, so that a seed gives the
 * same stream on every backend and machine. Tensor-valued randomness is drawn from this stream too
 * (see {@link Random.uniformArray}), never from `Math.random`, so runs reproduce on the CPU and WASM backends.
 */

/** Anything genlab accepts where a seed is expected: a number, or an existing generator to draw from. */
export type SeedLike = number | Random;

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const TWO_POW_32 = 4294967296;

/**
 * A seeded generator (xoshiro128**). Cheap to create; `fork()` derives an independent child stream, which is
 * how a model hands reproducible randomness to sub-computations.
 */
export class Random {
  // State in an Int32Array: V8 keeps it unboxed, which makes a draw about 4x cheaper than four number fields.
  private readonly s = new Int32Array(4);
  private spareNormal: number | null = null;
  /** The seed this generator was created with. */
  readonly seed: number;

  /**
   * @param seed Any finite number (its 32-bit pattern is used). Omit it for a seed drawn from `Math.random`,
   *   which is then readable as `.seed` so the run can be repeated.
   */
  constructor(seed?: number) {
    if (seed !== undefined && !Number.isFinite(seed)) {
      throw new RangeError(`seed must be a finite number; got ${String(seed)}`);
    }
    this.seed = seed === undefined ? Math.floor(Math.random() * TWO_POW_32) : seed;
    const init = splitmix32(Math.floor(this.seed) ^ Math.floor(this.seed / TWO_POW_32));
    for (let i = 0; i < 4; i++) this.s[i] = init() | 0;
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /**
   * @internal For the engine only (lib/engine/kernels/bernoulli.ts): the live xoshiro128** state, four 32-bit words that a
   * native sampler reads and advances in place, so that it draws exactly the stream {@link Random.nextUint32}
   * would. Not part of the public API.
   */
  stateForKernels(): Int32Array {
    return this.s;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const s = this.s;
    const s1 = s[1];
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s[2] ^= s[0];
    s[3] ^= s1;
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform double in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** A uniform double in (0, 1): safe to take the logarithm of. */
  nextOpen(): number {
    return (this.nextUint32() + 0.5) / TWO_POW_32;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A standard normal deviate (Marsaglia's polar method; the second deviate of each pair is kept). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    return u * f;
  }

  /** `n` uniform floats in [0, 1) as a Float32Array (e.g. to build a tensor of Bernoulli thresholds). */
  uniformArray(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.nextUint32() / TWO_POW_32;
    return out;
  }

  /**
   * `n` standard normal deviates as a Float32Array: exactly `n` calls of {@link Random.normal} (same values, same
   * state afterwards, the spare deviate included), with the generator's state in local variables, which V8 runs
   * about 1.5 times as fast (a DDPM step on digits draws 100 000 of them).
   */
  normalArray(n: number): Float32Array {
    const out = new Float32Array(n);
    let i = 0;
    if (n > 0 && this.spareNormal !== null) out[i++] = this.normal();
    const st = this.s;
    let [s0, s1, s2, s3] = st;
    while (i < n) {
      let u = 0;
      let v = 0;
      let s: number;
      do {
        for (let k = 0; k < 2; k++) {
          // nextUint32() on the local state; the first draw ends in u, the second in v (uniform on [-1, 1))
          const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
          const t = s1 << 9;
          s2 ^= s0;
          s3 ^= s1;
          s1 ^= s2;
          s0 ^= s3;
          s2 ^= t;
          s3 = rotl(s3, 11);
          u = v;
          v = 2 * (r / TWO_POW_32) - 1;
        }
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const f = Math.sqrt((-2 * Math.log(s)) / s); // Marsaglia's polar method, as normal() draws it
      out[i++] = u * f;
      if (i < n) out[i++] = v * f;
      else this.spareNormal = v * f;
    }
    st.set([s0, s1, s2, s3]);
    return out;
  }

  /** A random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** A 31-bit integer seed for APIs that take one (for example tf.randomUniform or a child generator). */
  seedInt(): number {
    return this.nextUint32() >>> 1;
  }

  /** An exact copy: the same state, so the copy and this generator draw the same numbers from here on. */
  clone(): Random {
    const r = new Random(this.seed);
    r.s.set(this.s);
    r.spareNormal = this.spareNormal;
    return r;
  }

  /** A new generator whose stream is independent of this one's continuation. */
  fork(): Random {
    return new Random(this.nextUint32() * TWO_POW_32 + this.nextUint32());
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Turns a seed option into a generator: a number seeds a new one, a generator is used as it is. */
export function toRandom(seed?: SeedLike): Random {
  return seed instanceof Random ? seed : new Random(seed);
}
