/**
 * Gradient-based Markov-chain Monte Carlo on tensors: unadjusted Langevin dynamics, the Metropolis-adjusted
 * Langevin algorithm (MALA) and Hamiltonian Monte Carlo (HMC), many chains at once.
 *
 * The target is pi(x) ∝ exp(logDensity(x)) on R^d; its gradient, the *score* s(x) = grad log pi(x), comes from
 * automatic differentiation (tf.grad) of the user's batched log density, so one call moves every chain. All
 * three samplers share one step-size convention (eps = `stepSize`, a length in x's units):
 *
 *   Langevin / MALA proposal:  x' = x + (eps^2 / 2) s(x) + eps z,             z ~ N(0, I)          [chains, d]
 *   HMC (L leapfrog steps):    p ~ N(0, I);  p += (eps/2) s(x);  L times { x += eps p; p += eps s(x) } with the
 *                              last momentum update halved; accept on H(x, p) = -log pi(x) + |p|^2 / 2.
 *
 * So MALA is exactly HMC with one leapfrog step. The Langevin proposal is the Euler-Maruyama step of the
 * diffusion dx = s(x) dt + sqrt(2) dW over a time step dt = eps^2 / 2, whose stationary law is pi; the
 * discretisation biases the unadjusted chain by O(eps^2) (for N(0, sigma^2): variance sigma^2 / (1 - eps^2 /
 * (4 sigma^2))). MALA and HMC remove the bias with a Metropolis-Hastings test.
 *
 * Step sizes can be tuned during burn-in by dual averaging (Hoffman & Gelman 2014, section 3.2.1) to a target
 * acceptance rate, each chain on its own; the step size is then frozen, so the recorded draws come from a
 * fixed, pi-invariant kernel. Results are plain arrays `[chain][draw][dim]`; {@link coordinateChains} cuts out
 * `[chain][draw]` of one coordinate for `rHat` and the ESS functions of ./diagnostics.
 */
import { tf } from '../engine/backend';
import { Random, SeedLike, toRandom } from '../engine/random';
import {
  assertFiniteNumber,
  assertKnownOptions,
  assertNonNegativeInteger,
  assertPositiveInteger,
  assertPositiveNumber,
  describeValue,
  optionKeys,
  OptionKeyMap,
} from '../core/validate';

/** Defaults with their reasons. */
const DEFAULTS = {
  stepSize: 0.1, // small enough for unit-scale targets in low dimension; adapt or tune it
  burnIn: 0, // keep everything unless asked (like metropolisHastings)
  leapfrogSteps: 10, // a common HMC length; eps * L ~ 1 travels across a unit-scale target
  targetAcceptanceMala: 0.574, // optimal MALA acceptance in high dimension (Roberts & Rosenthal 1998)
  targetAcceptanceHmc: 0.65, // optimal HMC acceptance in high dimension (Beskos et al. 2013)
} as const;

/** Dual-averaging constants of Hoffman & Gelman (2014), Algorithm 5. */
const DUAL_AVERAGING = { gamma: 0.05, t0: 10, kappa: 0.75 } as const;

/** Which gradient sampler produced a result (a continuation must use the same one). */
export type GradientSamplerKind = 'langevin' | 'mala' | 'hmc';

/** Step-size adaptation settings. */
export interface StepSizeAdaptation {
  /** Acceptance probability to aim for, in (0, 1). Default 0.574 (MALA) or 0.65 (HMC). */
  targetAcceptance?: number;
}
const ADAPTATION_KEYS = optionKeys<StepSizeAdaptation>({ targetAcceptance: true });

/** Where each chain stands, so that a run can continue (see `continueFrom`). */
export interface GradientSamplerState {
  /** The sampler that made it. */
  kind: GradientSamplerKind;
  /** Last position of each chain, `[chains][dim]`. */
  positions: number[][];
  /** Current step size of each chain (after adaptation: the frozen, averaged one). */
  stepSize: number[];
  /** Dual-averaging state per chain (iterations done m, running statistic H-bar, averaged log step, mu). */
  adaptation: { m: number[]; hBar: number[]; logStepBar: number[]; mu: number[] } | null;
  /** Seed for the next run when the continuation is given none. */
  nextSeed: number;
}

/** Options shared by {@link langevin}, {@link mala} and {@link hmc}. */
export interface GradientSamplerOptions {
  /**
   * log pi(x) up to an additive constant, batched over chains: `[chains, dim]` -> `[chains]`, built from tf ops
   * so it can be differentiated. Called inside tf.tidy; its intermediate tensors are freed.
   */
  logDensity: (x: tf.Tensor2D) => tf.Tensor1D;
  /** Starting points `[chains][dim]` (finite numbers, one row per chain). Required unless `continueFrom`. */
  initial?: number[][];
  /** Recorded steps per chain after burn-in (positive integer). */
  steps: number;
  /**
   * Step size eps > 0 (see the module comment: proposal x + eps^2/2 grad log pi + eps z; leapfrog step eps).
   * Default 0.1, or the previous run's per-chain value with `continueFrom`. With `adaptStepSize` it is the
   * starting value of the adaptation.
   */
  stepSize?: number;
  /** Steps run and discarded first (non-negative integer). Default 0. Step-size adaptation happens only here. */
  burnIn?: number;
  /** Seed (or generator) of the noise and the accept tests. Same seed, same chains. */
  seed?: SeedLike;
  /** Continue every chain from the last state of this result (positions, step sizes, adaptation). */
  continueFrom?: GradientSamplerResult;
}
const COMMON_KEY_MAP: OptionKeyMap<GradientSamplerOptions> = {
  logDensity: true, initial: true, steps: true, stepSize: true, burnIn: true, seed: true, continueFrom: true,
};
const COMMON_KEYS = optionKeys<GradientSamplerOptions>(COMMON_KEY_MAP);

/** Options of {@link langevin} (unadjusted Langevin algorithm). */
export type LangevinOptions = GradientSamplerOptions;

/** Options of {@link mala}. */
export interface MalaOptions extends GradientSamplerOptions {
  /**
   * Tune each chain's step size during burn-in by dual averaging to a target acceptance (Hoffman & Gelman
   * 2014): `true` (target 0.574) or `{ targetAcceptance }`. Needs `burnIn` > 0. Default false.
   */
  adaptStepSize?: boolean | StepSizeAdaptation;
}
const MALA_KEYS = optionKeys<MalaOptions>({ ...COMMON_KEY_MAP, adaptStepSize: true });

/** Options of {@link hmc}. */
export interface HmcOptions extends GradientSamplerOptions {
  /** Leapfrog steps L per proposal (positive integer). Default 10. Each costs one gradient evaluation. */
  leapfrogSteps?: number;
  /** As for {@link MalaOptions.adaptStepSize}; default target 0.65. Default false. */
  adaptStepSize?: boolean | StepSizeAdaptation;
}
const HMC_KEYS = optionKeys<HmcOptions>({ ...COMMON_KEY_MAP, adaptStepSize: true, leapfrogSteps: true });

/** The known options of each sampler. */
const SAMPLER_KEYS: Record<GradientSamplerKind, readonly string[]> = { langevin: COMMON_KEYS, mala: MALA_KEYS, hmc: HMC_KEYS };

/** Result of {@link langevin}, {@link mala} and {@link hmc}. */
export interface GradientSamplerResult {
  /** Recorded states `[chain][draw][dim]`: the state after each post-burn-in step (the start excluded). */
  samples: number[][][];
  /** Fraction of post-burn-in proposals accepted, per chain (1 for unadjusted Langevin: nothing is rejected). */
  acceptanceRate: number[];
  /** log pi of each recorded state, `[chain][draw]` (trace plots). */
  logDensities: number[][];
  /**
   * HMC only: H(x', p') - H(x, p) of each post-burn-in proposal, `[chain][draw]`: the leapfrog integrator's energy
   * error (O(eps^2) for fixed trajectory length; the accept test is exp(-that)).
   */
  energyErrors?: number[][];
  /** Gradient evaluations per chain in this run (burn-in included): the cost to set against ESS. */
  gradientEvaluations: number;
  /** Where the chains stand: pass the whole result as `continueFrom` to carry on. */
  state: GradientSamplerState;
}

/** Result of {@link hmc}: as {@link GradientSamplerResult}, with the leapfrog energy errors always recorded. */
export interface HmcResult extends GradientSamplerResult {
  /** H(x', p') - H(x, p) of each post-burn-in proposal, `[chain][draw]` (see {@link GradientSamplerResult.energyErrors}). */
  energyErrors: number[][];
}

/**
 * `[chain][draw]` series of coordinate `dim` from `[chain][draw][dim]` samples: the input of `rHat`, and of
 * `effectiveSampleSize` per chain.
 */
export function coordinateChains(samples: number[][][], dim: number): number[][] {
  if (!Array.isArray(samples) || samples.length === 0 || !Array.isArray(samples[0])) {
    throw new TypeError(`samples must be [chain][draw][dim] arrays; got ${describeValue(samples)}`);
  }
  const d = samples[0][0]?.length ?? 0;
  assertNonNegativeInteger('dim', dim);
  if (dim >= d) throw new RangeError(`dim must be below the ${d} coordinates of the samples; got ${dim}`);
  return samples.map((chain) => chain.map((x) => x[dim]));
}

// ---------------------------------------------------------------------------------------------------------
// Shared machinery

/** Checked settings of one run. */
interface Run {
  kind: GradientSamplerKind;
  logDensity: (x: tf.Tensor2D) => tf.Tensor1D;
  x0: number[][];
  chains: number;
  dim: number;
  steps: number;
  burnIn: number;
  stepSize: number[];
  rng: Random;
  adapt: { target: number; state: NonNullable<GradientSamplerState['adaptation']> } | null;
}

function checkInitial(initial: unknown): number[][] {
  if (!Array.isArray(initial) || initial.length === 0 || !Array.isArray(initial[0])) {
    throw new TypeError(`initial must be a non-empty [chains][dim] array of numbers; got ${describeValue(initial)}`);
  }
  const dim = (initial[0] as unknown[]).length;
  if (dim === 0) throw new RangeError('initial must have at least one coordinate per chain; got empty rows');
  return initial.map((row: unknown, c) => {
    if (!Array.isArray(row) || row.length !== dim) {
      throw new RangeError(`initial[${c}] must have ${dim} coordinates like initial[0]; got ${describeValue(row)}`);
    }
    row.forEach((v, j) => assertFiniteNumber(`initial[${c}][${j}]`, v));
    return row.slice() as number[];
  });
}

function resolveRun(
  kind: GradientSamplerKind,
  caller: string,
  opts: GradientSamplerOptions & { adaptStepSize?: boolean | StepSizeAdaptation },
): Run {
  if (opts === null || typeof opts !== 'object') throw new TypeError(`${caller} options must be an object; got ${describeValue(opts)}`);
  assertKnownOptions(caller, opts, SAMPLER_KEYS[kind]);
  const { logDensity, steps } = opts;
  if (typeof logDensity !== 'function') {
    throw new TypeError(`logDensity must be a function (x: Tensor2D [chains, dim]) => Tensor1D [chains]; got ${describeValue(logDensity)}`);
  }
  assertPositiveInteger('steps', steps);
  const burnIn = opts.burnIn ?? DEFAULTS.burnIn;
  assertNonNegativeInteger('burnIn', burnIn);
  const prev = opts.continueFrom;
  let x0: number[][];
  let prevState: GradientSamplerState | null = null;
  if (prev !== undefined) {
    if (prev === null || typeof prev !== 'object' || !prev.state || !Array.isArray(prev.state.positions)) {
      throw new TypeError(`continueFrom must be the result of an earlier ${kind}() call; got ${describeValue(prev)}`);
    }
    if (prev.state.kind !== kind) {
      throw new RangeError(`continueFrom must come from ${kind}(); got the result of ${prev.state.kind}()`);
    }
    if (opts.initial !== undefined) throw new RangeError('give either initial or continueFrom, not both');
    prevState = prev.state;
    x0 = checkInitial(prev.state.positions);
  } else {
    x0 = checkInitial(opts.initial);
  }
  const chains = x0.length;
  let stepSize: number[];
  if (opts.stepSize !== undefined) {
    assertPositiveNumber('stepSize', opts.stepSize);
    stepSize = new Array<number>(chains).fill(opts.stepSize);
  } else if (prevState) {
    stepSize = prevState.stepSize.slice();
  } else {
    stepSize = new Array<number>(chains).fill(DEFAULTS.stepSize);
  }
  const rng = opts.seed !== undefined ? toRandom(opts.seed) : new Random(prevState ? prevState.nextSeed : undefined);

  let adapt: Run['adapt'] = null;
  const a = opts.adaptStepSize;
  if (a !== undefined && a !== false) {
    if (a !== true && (a === null || typeof a !== 'object')) {
      throw new TypeError(`adaptStepSize must be true, false or { targetAcceptance }; got ${describeValue(a)}`);
    }
    if (typeof a === 'object') assertKnownOptions(`${caller} adaptStepSize`, a, ADAPTATION_KEYS);
    const target =
      (typeof a === 'object' ? a.targetAcceptance : undefined) ??
      (kind === 'hmc' ? DEFAULTS.targetAcceptanceHmc : DEFAULTS.targetAcceptanceMala);
    assertFiniteNumber('adaptStepSize.targetAcceptance', target, { min: 0, max: 1, exclusiveMin: true, exclusiveMax: true });
    if (burnIn === 0) {
      throw new RangeError('adaptStepSize needs burnIn > 0: the step size is tuned during burn-in only, then frozen');
    }
    // Continue a previous adaptation when there is one (and no new starting step size was given); else start
    // afresh at mu = log(10 eps0), H-bar = 0 (Algorithm 5).
    const state =
      prevState?.adaptation && opts.stepSize === undefined
        ? {
            m: prevState.adaptation.m.slice(),
            hBar: prevState.adaptation.hBar.slice(),
            logStepBar: prevState.adaptation.logStepBar.slice(),
            mu: prevState.adaptation.mu.slice(),
          }
        : {
            m: new Array<number>(chains).fill(0),
            hBar: new Array<number>(chains).fill(0),
            logStepBar: new Array<number>(chains).fill(0),
            mu: stepSize.map((e) => Math.log(10 * e)),
          };
    // The adaptation's working step is exp(log eps_m), not the averaged one it ended on.
    if (prevState?.adaptation && opts.stepSize === undefined) {
      stepSize = state.m.map((m, c) => (m > 0 ? Math.exp(state.mu[c] - (Math.sqrt(m) / DUAL_AVERAGING.gamma) * state.hBar[c]) : stepSize[c]));
    }
    adapt = { target, state };
  }
  return { kind, logDensity, x0, chains, dim: x0[0].length, steps, burnIn, stepSize, rng, adapt };
}

/**
 * log pi(x) `[chains]` and its gradient `[chains, dim]` in one pass (the chains are independent, so the gradient
 * of the sum is each chain's own gradient). Both returned tensors belong to the caller.
 */
function valueAndScore(logDensity: Run['logDensity'], x: tf.Tensor2D): { logp: tf.Tensor1D; score: tf.Tensor2D } {
  let logp: tf.Tensor1D | null = null;
  const score = tf.tidy(() =>
    tf.grad((xv: tf.Tensor) => {
      const lp = logDensity(xv as tf.Tensor2D);
      if (!(lp instanceof tf.Tensor) || lp.rank !== 1 || lp.shape[0] !== x.shape[0]) {
        throw new RangeError(`logDensity must return a Tensor1D of shape [${x.shape[0]}] (one value per chain); got ${describeValue(lp)}`);
      }
      logp = tf.keep(lp);
      return lp.sum();
    })(x),
  ) as tf.Tensor2D;
  return { logp: logp as unknown as tf.Tensor1D, score };
}

/** One chain-state: position, log density and score, all owned tensors. */
interface Chains {
  x: tf.Tensor2D;
  logp: tf.Tensor1D;
  score: tf.Tensor2D;
}

function disposeChains(c: Chains): void {
  c.x.dispose();
  c.logp.dispose();
  c.score.dispose();
}

/** One proposal for every chain: the new states and log of the acceptance ratio (`null`: always accept). */
interface Proposed {
  next: Chains;
  logAccept: tf.Tensor1D | null;
  energyError: tf.Tensor1D | null;
}

type Propose = (cur: Chains, eps: tf.Tensor2D, run: Run) => Proposed;

/** Drives burn-in, adaptation, recording and the accept/reject step common to all three samplers. */
function drive(run: Run, propose: Propose, gradsPerStep: number): GradientSamplerResult {
  const { chains, dim, steps, burnIn, rng, adapt } = run;
  const stepSize = run.stepSize.slice();
  const samples: number[][][] = Array.from({ length: chains }, () => []);
  const logDensities: number[][] = Array.from({ length: chains }, () => []);
  const energyErrors: number[][] | undefined = run.kind === 'hmc' ? Array.from({ length: chains }, () => []) : undefined;
  const accepted = new Array<number>(chains).fill(0);

  let cur: Chains = (() => {
    const x = tf.tensor2d(run.x0, [chains, dim], 'float32');
    const { logp, score } = valueAndScore(run.logDensity, x);
    return { x, logp, score };
  })();
  const lp0 = cur.logp.dataSync();
  for (let c = 0; c < chains; c++) {
    if (!Number.isFinite(lp0[c])) {
      disposeChains(cur);
      throw new RangeError(`logDensity at the start of chain ${c} must be finite; got ${lp0[c]}`);
    }
  }
  try {
    for (let step = 1; step <= burnIn + steps; step++) {
      const recording = step > burnIn;
      const eps = tf.tensor2d(Float32Array.from(stepSize), [chains, 1]);
      const prop = propose(cur, eps, run);
      eps.dispose();
      let acceptProb: Float32Array | null = null;
      let energyErr: Float32Array | null = null;
      let next: Chains;
      if (prop.logAccept === null) {
        disposeChains(cur);
        next = prop.next;
      } else {
        // Accept chain c when log u_c < log a_c (NaN, e.g. a trajectory that blew up, counts as rejection).
        const logA = prop.logAccept.dataSync() as Float32Array;
        if (prop.energyError) energyErr = prop.energyError.dataSync() as Float32Array;
        acceptProb = new Float32Array(chains);
        const mask = new Float32Array(chains);
        for (let c = 0; c < chains; c++) {
          const la = Number.isNaN(logA[c]) ? -Infinity : logA[c];
          acceptProb[c] = la >= 0 ? 1 : Math.exp(la);
          mask[c] = Math.log(rng.nextOpen()) < la ? 1 : 0;
          if (recording && mask[c] === 1) accepted[c]++;
        }
        const from = cur;
        next = tf.tidy(() => {
          const keep1 = tf.tensor1d(mask).cast('bool'); //                                          [chains]
          const keep2 = keep1.reshape([chains, 1]).tile([1, dim]); //                          [chains, dim]
          return {
            x: tf.where(keep2, prop.next.x, from.x) as tf.Tensor2D,
            logp: tf.where(keep1, prop.next.logp, from.logp) as tf.Tensor1D,
            score: tf.where(keep2, prop.next.score, from.score) as tf.Tensor2D,
          };
        });
        tf.dispose([prop.logAccept, prop.energyError ?? []]);
        disposeChains(prop.next);
        disposeChains(cur);
      }
      cur = next;
      // Dual averaging during burn-in (Hoffman & Gelman 2014, Alg. 5), per chain:
      //   H_m = (1 - 1/(m + t0)) H_{m-1} + (delta - alpha_m) / (m + t0);  log eps_m = mu - sqrt(m)/gamma * H_m;
      //   log epsbar_m = m^-kappa log eps_m + (1 - m^-kappa) log epsbar_{m-1};  eps = epsbar after burn-in.
      if (adapt && acceptProb && !recording) {
        const s = adapt.state;
        const { gamma, t0, kappa } = DUAL_AVERAGING;
        for (let c = 0; c < chains; c++) {
          const m = ++s.m[c];
          s.hBar[c] = (1 - 1 / (m + t0)) * s.hBar[c] + (adapt.target - acceptProb[c]) / (m + t0);
          const logEps = s.mu[c] - (Math.sqrt(m) / gamma) * s.hBar[c];
          const w = m ** -kappa;
          s.logStepBar[c] = w * logEps + (1 - w) * s.logStepBar[c];
          stepSize[c] = Math.exp(logEps);
        }
        if (step === burnIn) for (let c = 0; c < chains; c++) stepSize[c] = Math.exp(s.logStepBar[c]);
      }
      if (recording) {
        const xs = cur.x.dataSync();
        const lps = cur.logp.dataSync();
        if (run.kind === 'langevin' && !lps.every(Number.isFinite)) {
          throw new RangeError(`langevin diverged at step ${step}: log density ${Array.from(lps).find((v) => !Number.isFinite(v))}; lower stepSize (got ${stepSize[0]})`);
        }
        for (let c = 0; c < chains; c++) {
          samples[c].push(Array.from(xs.subarray(c * dim, (c + 1) * dim)));
          logDensities[c].push(lps[c]);
          if (energyErrors && energyErr) energyErrors[c].push(energyErr[c]);
        }
      }
    }
    const positions = cur.x.arraySync() as number[][];
    const result: GradientSamplerResult = {
      samples,
      acceptanceRate: accepted.map((a) => (run.kind === 'langevin' ? 1 : a / steps)),
      logDensities,
      gradientEvaluations: (burnIn + steps) * gradsPerStep,
      state: {
        kind: run.kind,
        positions,
        stepSize,
        adaptation: adapt ? adapt.state : null,
        nextSeed: rng.seedInt(),
      },
    };
    if (energyErrors) result.energyErrors = energyErrors;
    return result;
  } finally {
    disposeChains(cur);
  }
}

/** Standard normal noise `[chains, dim]` from the sampler's generator (seeded on every backend). */
function normal(rng: Random, chains: number, dim: number): tf.Tensor2D {
  return tf.tensor2d(rng.normalArray(chains * dim), [chains, dim]);
}

/** x + (eps^2 / 2) score + eps z: the Langevin (Euler-Maruyama) move, `[chains, dim]`. */
function langevinMove(cur: Chains, eps: tf.Tensor2D, z: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => cur.x.add(cur.score.mul(eps.square().mul(0.5))).add(z.mul(eps)) as tf.Tensor2D);
}

function evaluate(run: Run, x: tf.Tensor2D): Chains {
  const { logp, score } = valueAndScore(run.logDensity, x);
  return { x, logp, score };
}

// ---------------------------------------------------------------------------------------------------------
// The samplers

/**
 * Unadjusted Langevin algorithm (ULA): x' = x + (eps^2 / 2) grad log pi(x) + eps z, always accepted. Cheap
 * (one gradient per step) but biased: its stationary law is pi only as eps -> 0 (for N(0, sigma^2) the variance
 * is sigma^2 / (1 - eps^2 / (4 sigma^2))). It is the sampler of deep energy-based models' training.
 *
 * @example
 * const r = langevin({ logDensity: (x) => x.square().sum(1).mul(-0.5), initial: [[0, 0], [1, 1]], steps: 1000,
 *   stepSize: 0.3, seed: 1 });   // r.samples[chain][draw][dim]
 */
export function langevin(opts: LangevinOptions): GradientSamplerResult {
  const run = resolveRun('langevin', 'langevin', opts);
  return drive(
    run,
    (cur, eps) => {
      const z = normal(run.rng, run.chains, run.dim);
      const x = langevinMove(cur, eps, z);
      z.dispose();
      return { next: evaluate(run, x), logAccept: null, energyError: null };
    },
    1,
  );
}

/**
 * Metropolis-adjusted Langevin algorithm (Roberts & Tweedie 1996): propose the Langevin move
 * x' = x + (eps^2 / 2) s(x) + eps z and accept with probability min(1, a),
 *
 *   log a = log pi(x') - log pi(x) + log q(x | x') - log q(x' | x),
 *   log q(y | x) = -|y - x - (eps^2 / 2) s(x)|^2 / (2 eps^2) + const.
 *
 * The proposal is not symmetric (it drifts uphill), so the q-ratio -- the Hastings correction -- is needed for pi
 * to be stationary. One gradient per step.
 */
export function mala(opts: MalaOptions): GradientSamplerResult {
  const run = resolveRun('mala', 'mala', opts);
  return drive(
    run,
    (cur, eps) => {
      const z = normal(run.rng, run.chains, run.dim);
      const x = langevinMove(cur, eps, z);
      z.dispose();
      const next = evaluate(run, x);
      const logAccept = tf.tidy(() => {
        const e2 = eps.square(); //                                                             [chains, 1]
        // log q(to | from) up to the same constant for both directions:                       [chains]
        const logQ = (to: tf.Tensor2D, from: Chains): tf.Tensor1D =>
          to.sub(from.x).sub(from.score.mul(e2.mul(0.5))).square().sum(1).div(e2.reshape([-1]).mul(-2)) as tf.Tensor1D;
        const ratio = next.logp.sub(cur.logp);
        return ratio.add(logQ(cur.x, next)).sub(logQ(next.x, cur)) as tf.Tensor1D;
      });
      return { next, logAccept, energyError: null };
    },
    1,
  );
}

/**
 * Hamiltonian Monte Carlo (Duane et al. 1987; Neal 2011) with the leapfrog integrator. Position x, momentum
 * p ~ N(0, I), Hamiltonian H(x, p) = -log pi(x) + |p|^2 / 2. One proposal:
 *
 *   p <- p + (eps/2) s(x);   repeat L times: x <- x + eps p;  p <- p + eps s(x)   (the last update halved);
 *
 * accepted with probability min(1, exp(H(x, p) - H(x', p'))). Leapfrog is volume-preserving and reversible, so
 * no proposal-density term is needed; its energy error H' - H is O(eps^2) over a fixed trajectory length, which
 * keeps acceptance high on long moves. L gradients per step.
 */
export function hmc(opts: HmcOptions): HmcResult {
  const run = resolveRun('hmc', 'hmc', opts);
  const L = opts.leapfrogSteps ?? DEFAULTS.leapfrogSteps;
  assertPositiveInteger('leapfrogSteps', L);
  const result = drive(
    run,
    (cur, eps) => {
      const p0 = normal(run.rng, run.chains, run.dim); //                                          [chains, dim]
      let p = tf.tidy(() => p0.add(cur.score.mul(eps.mul(0.5))));
      let state: Chains | null = null;
      for (let l = 1; l <= L; l++) {
        const from = state ?? cur;
        const x = tf.tidy(() => from.x.add(p.mul(eps))) as tf.Tensor2D;
        if (state) disposeChains(state);
        state = evaluate(run, x);
        const s = state;
        const pNext = tf.tidy(() => p.add(s.score.mul(l === L ? eps.mul(0.5) : eps)));
        p.dispose();
        p = pNext;
      }
      const next = state as unknown as Chains;
      const energyError = tf.tidy(() => {
        // H' - H = [-log pi(x') + |p'|^2/2] - [-log pi(x) + |p|^2/2]                        [chains]
        const kinetic = (q: tf.Tensor): tf.Tensor => q.square().sum(1).mul(0.5);
        return next.logp.neg().add(kinetic(p)).sub(cur.logp.neg().add(kinetic(p0))) as tf.Tensor1D;
      });
      const logAccept = energyError.neg() as tf.Tensor1D;
      tf.dispose([p0, p]);
      return { next, logAccept, energyError };
    },
    L,
  );
  const { energyErrors } = result; // drive records them for every hmc run
  if (!energyErrors) throw new Error('hmc: drive recorded no energy errors');
  return { ...result, energyErrors };
}
