/**
 * The noise schedule of a DDPM (Ho et al. 2020) and the step maths of its samplers, apart from any network
 * (as Hugging Face diffusers' `DDPMScheduler` / `DDIMScheduler`): plain numbers in float64, no tensors.
 *
 * Steps are indexed t = 0 .. T-1 (diffusers' convention; the paper's t = 1 .. T is t + 1 here):
 *
 *   beta_t in (0, 1),   alpha_t = 1 - beta_t,   alphaBar_t = prod_{s <= t} alpha_s
 *   forward marginal     q(x_t | x_0) = N( sqrt(alphaBar_t) x_0, (1 - alphaBar_t) I )
 *   posterior (t >= 1)   q(x_{t-1} | x_t, x_0) = N( c0_t x_0 + ct_t x_t, betaTilde_t I ),
 *                        c0_t = sqrt(alphaBar_{t-1}) beta_t / (1 - alphaBar_t),
 *                        ct_t = sqrt(alpha_t) (1 - alphaBar_{t-1}) / (1 - alphaBar_t),
 *                        betaTilde_t = (1 - alphaBar_{t-1}) / (1 - alphaBar_t) beta_t
 *   with alphaBar_{-1} = 1 (so the step out of t = 0 is deterministic: c0 = 1, ct = 0, betaTilde = 0).
 *
 * How far from pure noise the last step is: for the course's T = 300 with linear betas 1e-4 .. 0.02,
 * alphaBar_{T-1} = 0.048 (sqrt = 0.22: x_T still holds 22% of x_0's amplitude); Ho et al.'s T = 1000 gives 4e-5.
 * Sampling starts from N(0, I) all the same, so a T = 300 model starts from a slightly wrong distribution.
 */
import { assertFiniteNumber, assertKnownOptions, assertOneOf, assertPositiveInteger, describeValue, optionKeys } from '../core/validate';

/** Linear betas (Ho et al. 2020): beta_t evenly spaced from `start` to `end`. */
export interface LinearBetaSchedule {
  kind: 'linear';
  /** beta_0, in (0, 1). Default 1e-4 (Ho et al.; the course). */
  start?: number;
  /** beta_{T-1}, in (0, 1). Default 0.02 (Ho et al.; the course). */
  end?: number;
}

/**
 * Cosine schedule (Nichol & Dhariwal 2021): alphaBar(t) = f(t) / f(0), f(t) = cos^2(((t / T + s) / (1 + s)) pi / 2),
 * betas = min(1 - alphaBar_t / alphaBar_{t-1}, maxBeta). Destroys information more evenly over t than linear betas.
 */
export interface CosineBetaSchedule {
  kind: 'cosine';
  /** Offset s keeping beta_0 from being tiny; > 0. Default 0.008 (Nichol & Dhariwal). */
  s?: number;
  /** Cap on beta_t, in (0, 1). Default 0.999 (Nichol & Dhariwal). */
  maxBeta?: number;
}

/** A beta schedule: `{ kind: 'linear', start, end }` or `{ kind: 'cosine' }`. */
export type BetaSchedule = LinearBetaSchedule | CosineBetaSchedule;

const LINEAR_KEYS = optionKeys<LinearBetaSchedule>({ kind: true, start: true, end: true });
const COSINE_KEYS = optionKeys<CosineBetaSchedule>({ kind: true, s: true, maxBeta: true });

/** The course's schedule (Ho et al. 2020). */
export const DEFAULT_BETA_SCHEDULE: Readonly<LinearBetaSchedule> = Object.freeze({ kind: 'linear', start: 1e-4, end: 0.02 });

/** Betas of a schedule, validated (every option checked, values named in errors). */
export function makeBetas(timesteps: number, schedule: BetaSchedule = DEFAULT_BETA_SCHEDULE): Float64Array {
  assertPositiveInteger('timesteps', timesteps);
  if (schedule === null || typeof schedule !== 'object') {
    throw new TypeError(`betaSchedule must be { kind: 'linear' | 'cosine', ... }; got ${describeValue(schedule)}`);
  }
  assertOneOf('betaSchedule.kind', schedule.kind, ['linear', 'cosine'] as const);
  const betas = new Float64Array(timesteps);
  if (schedule.kind === 'linear') {
    assertKnownOptions('betaSchedule (linear)', schedule, LINEAR_KEYS);
    const start = schedule.start ?? 1e-4;
    const end = schedule.end ?? 0.02;
    assertFiniteNumber('betaSchedule.start', start, { min: 0, max: 1, exclusiveMin: true, exclusiveMax: true });
    assertFiniteNumber('betaSchedule.end', end, { min: 0, max: 1, exclusiveMin: true, exclusiveMax: true });
    for (let t = 0; t < timesteps; t++) betas[t] = timesteps === 1 ? start : start + ((end - start) * t) / (timesteps - 1);
  } else {
    assertKnownOptions('betaSchedule (cosine)', schedule, COSINE_KEYS);
    const s = schedule.s ?? 0.008;
    const maxBeta = schedule.maxBeta ?? 0.999;
    assertFiniteNumber('betaSchedule.s', s, { min: 0, exclusiveMin: true });
    assertFiniteNumber('betaSchedule.maxBeta', maxBeta, { min: 0, max: 1, exclusiveMin: true, exclusiveMax: true });
    const f = (u: number) => Math.cos(((u / timesteps + s) / (1 + s)) * (Math.PI / 2)) ** 2;
    for (let t = 0; t < timesteps; t++) betas[t] = Math.min(1 - f(t + 1) / f(t), maxBeta);
  }
  return betas;
}

/** Coefficients of one reverse step x_t -> x_prev of the DDIM family (prev = -1: the final step to x_0). */
export interface StepCoefficients {
  /** Multiplies the predicted x_0. */
  cX0: number;
  /** Multiplies the predicted noise eps. */
  cEps: number;
  /** Standard deviation of the fresh noise added. */
  sigma: number;
}

/** Betas, alphas, alphaBar and the closed forms of the forward process, posterior and reverse steps. */
export class NoiseSchedule {
  /** Number of diffusion steps T. */
  readonly timesteps: number;
  /** beta_t, t = 0 .. T-1. */
  readonly betas: Float64Array;
  /** alpha_t = 1 - beta_t. */
  readonly alphas: Float64Array;
  /** alphaBar_t = prod_{s <= t} alpha_s (decreasing from alpha_0 towards 0). */
  readonly alphaBar: Float64Array;

  constructor(timesteps: number, schedule: BetaSchedule = DEFAULT_BETA_SCHEDULE) {
    this.betas = makeBetas(timesteps, schedule);
    this.timesteps = timesteps;
    this.alphas = this.betas.map((b) => 1 - b);
    this.alphaBar = new Float64Array(timesteps);
    let p = 1;
    for (let t = 0; t < timesteps; t++) this.alphaBar[t] = p *= this.alphas[t];
  }

  /** alphaBar_t with alphaBar_{-1} = 1. */
  alphaBarAt(t: number): number {
    return t < 0 ? 1 : this.alphaBar[this.checkT(t)];
  }

  /** log SNR_t = log(alphaBar_t / (1 - alphaBar_t)): the signal-to-noise ratio of x_t on a log scale. */
  logSnr(t: number): number {
    const a = this.alphaBarAt(t);
    return Math.log(a / (1 - a));
  }

  /** q(x_t | x_0) = N(meanCoef * x_0, variance I). */
  marginal(t: number): { meanCoef: number; variance: number } {
    const a = this.alphaBarAt(t);
    return { meanCoef: Math.sqrt(a), variance: 1 - a };
  }

  /** q(x_{t-1} | x_t, x_0) = N(cX0 x_0 + cXt x_t, variance I), t in 0 .. T-1 (t = 0: x_0 itself, variance 0). */
  posterior(t: number): { cX0: number; cXt: number; variance: number } {
    this.checkT(t);
    const a = this.alphaBar[t];
    const aPrev = this.alphaBarAt(t - 1);
    const beta = this.betas[t];
    return {
      cX0: (Math.sqrt(aPrev) * beta) / (1 - a),
      cXt: (Math.sqrt(this.alphas[t]) * (1 - aPrev)) / (1 - a),
      variance: ((1 - aPrev) / (1 - a)) * beta,
    };
  }

  /**
   * One DDIM step (Song et al. 2021, eq. 12) from t to prev < t (prev = -1 ends at x_0), in terms of the predicted
   * x0 = (x_t - sqrt(1 - alphaBar_t) eps) / sqrt(alphaBar_t):
   *   x_prev = sqrt(alphaBar_prev) x0 + sqrt(1 - alphaBar_prev - sigma^2) eps + sigma z,
   *   sigma = eta sqrt((1 - alphaBar_prev) / (1 - alphaBar_t)) sqrt(1 - alphaBar_t / alphaBar_prev).
   * eta = 0 is deterministic; eta = 1 with prev = t - 1 is exactly the ancestral step with variance betaTilde_t
   * (its mean and variance are those of the posterior with x_0 replaced by the predicted x0).
   */
  ddimStep(t: number, prev: number, eta: number): StepCoefficients {
    this.checkT(t);
    if (!(Number.isInteger(prev) && prev >= -1 && prev < t)) throw new RangeError(`prev must be an integer in [-1, ${t}); got ${describeValue(prev)}`);
    const a = this.alphaBar[t];
    const aPrev = this.alphaBarAt(prev);
    const sigma = eta * Math.sqrt((1 - aPrev) / (1 - a)) * Math.sqrt(1 - a / aPrev);
    return { cX0: Math.sqrt(aPrev), cEps: Math.sqrt(Math.max(0, 1 - aPrev - sigma * sigma)), sigma };
  }

  /**
   * The ancestral (DDPM) step from t to t-1 with eps predicted: x_{t-1} = (x_t - beta_t / sqrt(1 - alphaBar_t) eps)
   * / sqrt(alpha_t) + sqrt(betaTilde_t) z (Ho et al. Algorithm 2, with the posterior variance betaTilde, diffusers'
   * "fixed_small"). Returned as coefficients on x_t and eps.
   */
  ancestralStep(t: number): { cXt: number; cEps: number; sigma: number } {
    this.checkT(t);
    const a = this.alphaBar[t];
    return {
      cXt: 1 / Math.sqrt(this.alphas[t]),
      cEps: -this.betas[t] / (Math.sqrt(this.alphas[t]) * Math.sqrt(1 - a)),
      sigma: Math.sqrt(this.posterior(t).variance),
    };
  }

  /** `steps` timesteps from T-1 down to 0 for a strided sampler (evenly spaced, always starting at T-1). */
  stridedTimesteps(steps: number): number[] {
    assertPositiveInteger('steps', steps);
    if (steps > this.timesteps) throw new RangeError(`steps must be at most timesteps (${this.timesteps}); got ${steps}`);
    const out: number[] = [];
    for (let i = 0; i < steps; i++) out.push(Math.round(((this.timesteps - 1) * (steps - 1 - i)) / Math.max(1, steps - 1)));
    if (steps === 1) return [this.timesteps - 1];
    return out;
  }

  private checkT(t: number): number {
    if (!(Number.isInteger(t) && t >= 0 && t < this.timesteps)) {
      throw new RangeError(`t must be an integer in [0, ${this.timesteps}); got ${describeValue(t)}`);
    }
    return t;
  }
}
