/**
 * Markov-chain Monte Carlo on plain numbers: Metropolis-Hastings and Gibbs sampling.
 *
 * These samplers work on small continuous state vectors (`number[]`) with JavaScript callbacks -- the teaching
 * examples of the MCMC lectures -- and need no tensors. Every sampler takes a `seed` (number or `Random`) so
 * runs reproduce. All functions are synchronous; `await` on their result works as well.
 *
 * Continuing a chain: every chain sampler's result carries `end` (a {@link ChainEnd}: the last state and a snapshot
 * of the generator). Pass the result back as `continueFrom` (instead of `initial` and `seed`) and the sampler
 * carries on exactly where it stopped: two runs of n steps give the same samples as one run of 2n steps with the
 * same seed (when n is a multiple of `thin`). A sampler written later follows the same three steps: put
 * `continueFrom?: ContinuableResult` in its options, start with {@link chainStart}, finish with {@link chainEnd}.
 */
import { Random, SeedLike, toRandom } from '../engine/random';
import {
  assertFiniteNumber,
  assertKnownOptions,
  assertNonNegativeInteger,
  assertPositiveInteger,
  describeValue,
  optionKeys,
} from '../core/validate';

/** Defaults of the samplers, each with its reason. */
const DEFAULTS = {
  proposalStd: 1, // unit-scale targets; tune for an acceptance rate of about 0.2-0.5
  burnIn: 0, // keep everything unless asked: the lectures show the burn-in on purpose
  thin: 1, // thinning only saves memory; error bars come from the autocorrelation time
  scan: 'systematic', // the classic Gibbs sweep x_1, ..., x_d
} as const;

/**
 * Where a sampler run stopped: the chain's last state (with thinning, not necessarily the last recorded sample) and
 * a snapshot of its generator, taken at the end and never advanced (continuing twice from one result gives the
 * same continuation twice).
 */
export interface ChainEnd {
  /** The chain's last state. */
  readonly state: readonly number[];
  /** The generator as it was after the run's last draw. */
  readonly rng: Random;
}

/** A sampler result that can be continued: pass it as `continueFrom` to the same sampler. */
export interface ContinuableResult {
  /** Where the run stopped. */
  readonly end: ChainEnd;
}

/**
 * The start of a chain run: `continueFrom`'s last state and a copy of its generator, or else `initial` (checked;
 * `fallback` when omitted) and a generator from `seed`. `initial` and `seed` together with `continueFrom` are an
 * error: the continued chain already has both.
 */
export function chainStart(
  options: { initial?: readonly number[]; seed?: SeedLike; continueFrom?: ContinuableResult },
  fallback?: readonly number[],
): { state: number[]; rng: Random } {
  const from = options.continueFrom;
  if (from === undefined) {
    const initial = options.initial ?? fallback;
    return { state: checkState('initial', initial), rng: toRandom(options.seed) };
  }
  if (from === null || typeof from !== 'object' || !from.end || !(from.end.rng instanceof Random)) {
    throw new TypeError(`continueFrom must be the result of an earlier run of this sampler; got ${describeValue(from)}`);
  }
  for (const key of ['initial', 'seed'] as const) {
    if (options[key] !== undefined) {
      throw new RangeError(`give either continueFrom or ${key}, not both: continueFrom carries the chain's state and generator`);
    }
  }
  return { state: checkState('continueFrom.end.state', from.end.state), rng: from.end.rng.clone() };
}

/** The `end` of a run, for its result: a copy of the last state and a snapshot of the generator. */
export function chainEnd(state: readonly number[], rng: Random): ChainEnd {
  return Object.freeze({ state: Object.freeze(state.slice()), rng: rng.clone() });
}

/** A proposed move with its Hastings correction, returned by a custom proposal. */
export interface Proposal {
  /** The proposed state x' (same dimension as the current state). */
  state: number[];
  /**
   * log q(x | x') - log q(x' | x): the log ratio of the reverse to the forward proposal density. Zero (the
   * default) for symmetric proposals such as a random walk.
   */
  logProposalRatio?: number;
}

/**
 * A custom proposal: given the current state (do not modify it) and the sampler's generator, return the
 * proposed state (symmetric proposal) or a {@link Proposal} carrying the Hastings correction.
 */
export type ProposalFunction = (current: number[], rng: Random) => number[] | Proposal;

/** Options of {@link metropolisHastings}. */
export interface MetropolisHastingsOptions {
  /**
   * log pi(x) up to an additive constant (the normalisation is never needed). May return -Infinity outside
   * the support (the move is then rejected); NaN is an error. Read x, do not modify it.
   */
  logDensity: (x: number[]) => number;
  /**
   * Starting state x_0, a non-empty array of finite numbers with log pi(x_0) > -Infinity. Required unless
   * `continueFrom` is given.
   */
  initial?: readonly number[];
  /** Number of Metropolis-Hastings steps after burn-in (positive integer). */
  steps: number;
  /**
   * Standard deviation of the Gaussian random-walk proposal x' = x + proposalStd * N(0, I): one number for
   * every coordinate or one per coordinate, each > 0. Default 1. Ignored when `proposal` is given.
   * Tune it for an acceptance rate of roughly 0.2-0.5 (0.234 is optimal in high dimension).
   */
  proposalStd?: number | readonly number[];
  /** Seed (or generator) for proposals and acceptance draws. Same seed, same chain. */
  seed?: SeedLike;
  /**
   * An earlier result of this sampler: the chain continues from its last state with its generator (omit `initial`
   * and `seed`). Two runs of n steps give the samples of one run of 2n steps.
   */
  continueFrom?: ContinuableResult;
  /** A custom proposal replacing the Gaussian random walk (see {@link ProposalFunction}). */
  proposal?: ProposalFunction;
  /** Steps run and discarded before recording (non-negative integer). Default 0. */
  burnIn?: number;
  /** Record every `thin`-th state (positive integer). Default 1: `steps` samples. */
  thin?: number;
}

const METROPOLIS_HASTINGS_OPTION_KEYS = optionKeys<MetropolisHastingsOptions>({
  logDensity: true, initial: true, steps: true, proposalStd: true, seed: true, continueFrom: true, proposal: true,
  burnIn: true, thin: true,
});

/** Result of {@link metropolisHastings}. */
export interface MetropolisHastingsResult extends ContinuableResult {
  /** Recorded states, `[floor(steps / thin)][dim]`: the state after steps thin, 2*thin, ... (x_0 excluded). */
  samples: number[][];
  /** Fraction of the `steps` post-burn-in proposals that were accepted, in [0, 1]. */
  acceptanceRate: number;
  /** log pi of each recorded sample (handy for trace plots). */
  logDensities: number[];
}

function checkState(name: string, x: unknown): number[] {
  if (!Array.isArray(x) && !ArrayBuffer.isView(x)) {
    throw new TypeError(`${name} must be an array of numbers; got ${describeValue(x)}`);
  }
  const arr = Array.from(x as ArrayLike<number>);
  if (arr.length === 0) throw new RangeError(`${name} must have at least one coordinate; got an empty array`);
  arr.forEach((v, i) => assertFiniteNumber(`${name}[${i}]`, v));
  return arr;
}

function checkLogDensity(value: number, where: string): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value === Infinity) {
    throw new RangeError(`logDensity must return a finite number or -Infinity; got ${describeValue(value)} at ${where}`);
  }
  return value;
}

/**
 * Metropolis-Hastings sampling of a density known up to normalisation.
 *
 * From state x, propose x' ~ q(x' | x) and accept it with probability
 *
 *   a = min(1, pi(x') q(x | x') / (pi(x) q(x' | x))),
 *
 * computed in logs: log u < logDensity(x') - logDensity(x) + logProposalRatio with u ~ U(0, 1). This
 * satisfies detailed balance with respect to pi, so pi is the stationary distribution. The default proposal is
 * a Gaussian random walk (symmetric, so the proposal ratio is 1 and this is Metropolis's original algorithm).
 *
 * @example
 * const rho = 0.8; // correlated 2D Gaussian
 * const { samples, acceptanceRate } = metropolisHastings({
 *   logDensity: ([x, y]) => -(x * x - 2 * rho * x * y + y * y) / (2 * (1 - rho * rho)),
 *   initial: [0, 0], steps: 10000, proposalStd: 1, seed: 1 });
 */
export function metropolisHastings(options: MetropolisHastingsOptions): MetropolisHastingsResult {
  assertKnownOptions('metropolisHastings', options, METROPOLIS_HASTINGS_OPTION_KEYS);
  if (options === null || options === undefined) throw new TypeError('metropolisHastings needs options { logDensity, initial, steps, ... }');
  const { logDensity, steps, proposal } = options;
  if (typeof logDensity !== 'function') {
    throw new TypeError(`logDensity must be a function (x) => log pi(x); got ${describeValue(logDensity)}`);
  }
  const { state: x0, rng } = chainStart(options);
  assertPositiveInteger('steps', steps);
  const burnIn = options.burnIn ?? DEFAULTS.burnIn;
  assertNonNegativeInteger('burnIn', burnIn);
  const thin = options.thin ?? DEFAULTS.thin;
  assertPositiveInteger('thin', thin);
  const dim = x0.length;
  let std: number[] = [];
  if (proposal === undefined) {
    const ps = options.proposalStd ?? DEFAULTS.proposalStd;
    if (typeof ps === 'number') {
      assertFiniteNumber('proposalStd', ps, { min: 0, exclusiveMin: true });
      std = new Array<number>(dim).fill(ps);
    } else {
      if (!Array.isArray(ps) || ps.length !== dim) {
        throw new RangeError(`proposalStd must be a number or an array of ${dim} numbers (one per coordinate); got ${describeValue(ps)}`);
      }
      ps.forEach((s, i) => assertFiniteNumber(`proposalStd[${i}]`, s, { min: 0, exclusiveMin: true }));
      std = ps.slice();
    }
  } else if (typeof proposal !== 'function') {
    throw new TypeError(`proposal must be a function (current, rng) => state; got ${describeValue(proposal)}`);
  }

  let x = x0;
  let logp = checkLogDensity(logDensity(x), 'initial');
  if (logp === -Infinity) throw new RangeError('initial must lie in the support: logDensity(initial) is -Infinity');

  const samples: number[][] = [];
  const logDensities: number[] = [];
  let accepted = 0;
  const total = burnIn + steps;
  for (let step = 1; step <= total; step++) {
    // Propose x' and its log Hastings correction log q(x|x') - log q(x'|x).
    let next: number[];
    let logRatio = 0;
    if (proposal === undefined) {
      next = new Array<number>(dim);
      for (let j = 0; j < dim; j++) next[j] = x[j] + std[j] * rng.normal();
    } else {
      const p = proposal(x, rng);
      if (Array.isArray(p)) next = p;
      else {
        next = p.state;
        logRatio = p.logProposalRatio ?? 0;
        if (Number.isNaN(logRatio)) throw new RangeError(`proposal returned logProposalRatio NaN at step ${step}`);
      }
      if (!Array.isArray(next) || next.length !== dim) {
        throw new RangeError(`proposal must return a state of ${dim} numbers; got ${describeValue(next)} at step ${step}`);
      }
    }
    const logpNext = checkLogDensity(logDensity(next), `step ${step}`);
    // Accept with probability min(1, exp(log pi(x') - log pi(x) + logRatio)); -Infinity is always rejected.
    const logA = logpNext - logp + logRatio;
    const accept = logpNext > -Infinity && (logA >= 0 || Math.log(rng.nextOpen()) < logA);
    if (accept) {
      x = next;
      logp = logpNext;
    }
    if (step > burnIn) {
      if (accept) accepted++;
      if ((step - burnIn) % thin === 0) {
        samples.push(x.slice());
        logDensities.push(logp);
      }
    }
  }
  return { samples, acceptanceRate: accepted / steps, logDensities, end: chainEnd(x, rng) };
}

// ---------------------------------------------------------------------------------------------------------
// Gibbs sampling

/** Options of {@link gibbsBivariateGaussian}. */
export interface GibbsBivariateGaussianOptions {
  /** Mean (mu_x, mu_y). Default [0, 0]. */
  mean?: readonly [number, number] | readonly number[];
  /** Correlation coefficient rho, in (-1, 1). The lectures use 0.5. */
  rho: number;
  /** Standard deviations (sigma_x, sigma_y), one number for both or a pair, each > 0. Default 1. */
  sigma?: number | readonly [number, number] | readonly number[];
  /** Number of full Gibbs steps (x then y) recorded after burn-in (positive integer). */
  steps: number;
  /** Starting point (x_0, y_0). Default the mean. Start far away to see the burn-in in the path. */
  initial?: readonly [number, number] | readonly number[];
  /** Full steps run before recording samples (they still appear in `path`). Default 0. */
  burnIn?: number;
  /** Seed (or generator). Same seed, same chain. */
  seed?: SeedLike;
  /** An earlier result: continue that chain (omit `initial` and `seed`); see {@link MetropolisHastingsOptions}. */
  continueFrom?: ContinuableResult;
}

const GIBBS_BIVARIATE_GAUSSIAN_OPTION_KEYS = optionKeys<GibbsBivariateGaussianOptions>({
  mean: true, rho: true, sigma: true, steps: true, initial: true, burnIn: true, seed: true, continueFrom: true,
});

/** Result of {@link gibbsBivariateGaussian}. */
export interface GibbsBivariateGaussianResult extends ContinuableResult {
  /** `[steps][2]`: the state (x, y) after each full step following burn-in. */
  samples: number[][];
  /**
   * `[2 * (burnIn + steps) + 1][2]`: the initial point and the state after every half-step (x update, then
   * y update), from the very start. Drawn as a line it is the axis-parallel zig-zag of the Gibbs sampler.
   */
  path: number[][];
}

function pair(name: string, v: number | readonly number[]): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (!Array.isArray(v) || v.length !== 2) {
    throw new RangeError(`${name} must be a pair of numbers [x, y]; got ${describeValue(v)}`);
  }
  return [v[0], v[1]];
}

/** Checked mean and standard deviations of a bivariate Gaussian option block. */
function gaussianParameters(options: { mean?: readonly number[]; sigma?: number | readonly number[] }): {
  mx: number;
  my: number;
  sx: number;
  sy: number;
} {
  const [mx, my] = pair('mean', options.mean ?? [0, 0]);
  assertFiniteNumber('mean[0]', mx);
  assertFiniteNumber('mean[1]', my);
  const [sx, sy] = pair('sigma', options.sigma ?? 1);
  assertFiniteNumber('sigma[0]', sx, { min: 0, exclusiveMin: true });
  assertFiniteNumber('sigma[1]', sy, { min: 0, exclusiveMin: true });
  return { mx, my, sx, sy };
}

/**
 * Gibbs sampling of a bivariate Gaussian with correlation rho: the demonstration of the Gibbs lecture.
 *
 * The full conditionals of (x, y) ~ N(mu, [[sx^2, rho sx sy], [rho sx sy, sy^2]]) are Gaussian:
 *
 *   x | y ~ N(mu_x + rho * sx / sy * (y - mu_y), sx^2 * (1 - rho^2))
 *   y | x ~ N(mu_y + rho * sy / sx * (x - mu_x), sy^2 * (1 - rho^2))
 *
 * and one step draws x from the first, then y from the second, using the new x. The chain's lag-1
 * autocorrelation of x is rho^2, so strongly correlated targets mix slowly.
 */
export function gibbsBivariateGaussian(options: GibbsBivariateGaussianOptions): GibbsBivariateGaussianResult {
  assertKnownOptions('gibbsBivariateGaussian', options, GIBBS_BIVARIATE_GAUSSIAN_OPTION_KEYS);
  if (options === null || options === undefined) throw new TypeError('gibbsBivariateGaussian needs options { rho, steps, ... }');
  const { rho, steps } = options;
  assertFiniteNumber('rho', rho, { min: -1, max: 1, exclusiveMin: true, exclusiveMax: true });
  assertPositiveInteger('steps', steps);
  const burnIn = options.burnIn ?? DEFAULTS.burnIn;
  assertNonNegativeInteger('burnIn', burnIn);
  const { mx, my, sx, sy } = gaussianParameters(options);
  if (options.initial !== undefined) pair('initial', options.initial);
  const start = chainStart(options, [mx, my]);
  if (start.state.length !== 2) throw new RangeError(`continueFrom must come from a 2-D chain; got a state of ${start.state.length} numbers`);
  let [x, y] = start.state;
  const rng = start.rng;

  const sdx = sx * Math.sqrt(1 - rho * rho); // conditional standard deviations
  const sdy = sy * Math.sqrt(1 - rho * rho);
  const path: number[][] = [[x, y]];
  const samples: number[][] = [];
  for (let step = 1; step <= burnIn + steps; step++) {
    x = mx + rho * (sx / sy) * (y - my) + sdx * rng.normal();
    path.push([x, y]);
    y = my + rho * (sy / sx) * (x - mx) + sdy * rng.normal();
    path.push([x, y]);
    if (step > burnIn) samples.push([x, y]);
  }
  return { samples, path, end: chainEnd([x, y], rng) };
}

/** Options of {@link bivariateGaussianSamples}. */
export interface BivariateGaussianSamplesOptions {
  /** Mean (mu_x, mu_y). Default [0, 0]. */
  mean?: readonly number[];
  /** Correlation coefficient in (-1, 1). */
  rho: number;
  /** Standard deviations, one number or a pair, each > 0. Default 1. */
  sigma?: number | readonly number[];
  /** Number of independent draws (positive integer). */
  n: number;
  /** Seed (or generator). */
  seed?: SeedLike;
}

const BIVARIATE_GAUSSIAN_SAMPLES_OPTION_KEYS = optionKeys<BivariateGaussianSamplesOptions>({
  mean: true, rho: true, sigma: true, n: true, seed: true,
});

/**
 * Independent exact draws from the bivariate Gaussian (via its Cholesky factor): the "true samples" to set
 * beside the Gibbs chain. x = mu_x + sx * z1, y = mu_y + sy * (rho * z1 + sqrt(1 - rho^2) * z2).
 *
 * @returns `[n][2]` points.
 */
export function bivariateGaussianSamples(options: BivariateGaussianSamplesOptions): number[][] {
  assertKnownOptions('bivariateGaussianSamples', options, BIVARIATE_GAUSSIAN_SAMPLES_OPTION_KEYS);
  if (options === null || options === undefined) throw new TypeError('bivariateGaussianSamples needs options { rho, n, ... }');
  const { rho, n } = options;
  assertFiniteNumber('rho', rho, { min: -1, max: 1, exclusiveMin: true, exclusiveMax: true });
  assertPositiveInteger('n', n);
  const { mx, my, sx, sy } = gaussianParameters(options);
  const rng = toRandom(options.seed);
  const c = Math.sqrt(1 - rho * rho);
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const z1 = rng.normal();
    const z2 = rng.normal();
    out.push([mx + sx * z1, my + sy * (rho * z1 + c * z2)]);
  }
  return out;
}

/**
 * A draw from the full conditional of one coordinate: given the whole current state (read it, do not modify
 * it) and the generator, return a new value for that coordinate.
 */
export type FullConditional = (state: number[], rng: Random) => number;

/** Options of {@link gibbsSampler}. */
export interface GibbsSamplerOptions {
  /** conditionals[i] samples coordinate i from p(x_i | x_{-i}); one per coordinate of `initial`. */
  conditionals: FullConditional[];
  /** Starting state (finite numbers; same length as `conditionals`). Required unless `continueFrom` is given. */
  initial?: readonly number[];
  /** Number of full sweeps recorded after burn-in (positive integer). */
  steps: number;
  /** Seed (or generator) passed to the conditionals. */
  seed?: SeedLike;
  /** An earlier result: continue that chain (omit `initial` and `seed`); see {@link MetropolisHastingsOptions}. */
  continueFrom?: ContinuableResult;
  /** Sweeps run before recording. Default 0. */
  burnIn?: number;
  /** Record every `thin`-th sweep. Default 1. */
  thin?: number;
  /**
   * 'systematic' (default): update coordinates 0, 1, ..., d-1 in order each sweep. 'random': each sweep
   * makes d updates of uniformly chosen coordinates (a reversible chain).
   */
  scan?: 'systematic' | 'random';
}

const GIBBS_SAMPLER_OPTION_KEYS = optionKeys<GibbsSamplerOptions>({
  conditionals: true, initial: true, steps: true, seed: true, continueFrom: true, burnIn: true, thin: true, scan: true,
});

/** Result of {@link gibbsSampler}. */
export interface GibbsSamplerResult extends ContinuableResult {
  /** `[floor(steps / thin)][dim]`: the state after each recorded sweep. */
  samples: number[][];
}

/**
 * A general Gibbs sampler for models given by their full conditionals p(x_i | x_{-i}). Each sweep replaces
 * every coordinate in turn by a draw from its conditional given the current values of all the others; the
 * joint distribution is stationary because each single update leaves it invariant.
 *
 * @example
 * // The lecture's bivariate Gaussian, written with explicit conditionals:
 * const rho = 0.5, s = Math.sqrt(1 - rho * rho);
 * const { samples } = gibbsSampler({
 *   conditionals: [(st, r) => rho * st[1] + s * r.normal(), (st, r) => rho * st[0] + s * r.normal()],
 *   initial: [0, 0], steps: 5000, seed: 1 });
 */
export function gibbsSampler(options: GibbsSamplerOptions): GibbsSamplerResult {
  assertKnownOptions('gibbsSampler', options, GIBBS_SAMPLER_OPTION_KEYS);
  if (options === null || options === undefined) throw new TypeError('gibbsSampler needs options { conditionals, initial, steps, ... }');
  const { conditionals, steps } = options;
  const { state, rng } = chainStart(options);
  if (!Array.isArray(conditionals) || conditionals.length !== state.length) {
    throw new RangeError(
      `conditionals must be an array of ${state.length} functions (one per coordinate of initial); got ${describeValue(conditionals)}`,
    );
  }
  conditionals.forEach((f, i) => {
    if (typeof f !== 'function') throw new TypeError(`conditionals[${i}] must be a function (state, rng) => number; got ${describeValue(f)}`);
  });
  assertPositiveInteger('steps', steps);
  const burnIn = options.burnIn ?? DEFAULTS.burnIn;
  assertNonNegativeInteger('burnIn', burnIn);
  const thin = options.thin ?? DEFAULTS.thin;
  assertPositiveInteger('thin', thin);
  const scan = options.scan ?? DEFAULTS.scan;
  if (scan !== 'systematic' && scan !== 'random') {
    throw new RangeError(`scan must be one of 'systematic', 'random'; got ${describeValue(scan)}`);
  }
  const dim = state.length;
  const samples: number[][] = [];
  for (let sweep = 1; sweep <= burnIn + steps; sweep++) {
    for (let u = 0; u < dim; u++) {
      const i = scan === 'systematic' ? u : rng.int(dim);
      const v = conditionals[i](state, rng);
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new RangeError(`conditionals[${i}] must return a finite number; got ${describeValue(v)} at sweep ${sweep}`);
      }
      state[i] = v;
    }
    if (sweep > burnIn && (sweep - burnIn) % thin === 0) samples.push(state.slice());
  }
  return { samples, end: chainEnd(state, rng) };
}
