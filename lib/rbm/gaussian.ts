/**
 * Gaussian-Bernoulli RBM: real-valued visible units with per-unit standard deviations sigma_i, binary hidden units.
 *
 * Energy (the lectures' form; v in R^nV, h in {0,1}^nH):
 *   E(v, h) = sum_i (v_i - a_i)^2 / (2 sigma_i^2) - b.h - sum_ij (v_i / sigma_i^2) W_ij h_j
 * Conditionals:  P(h_j = 1 | v) = sigmoid(b_j + sum_i v_i W_ij / sigma_i^2),   v | h ~ N(a + W h, diag(sigma^2)).
 * Free energy:   F(v) = sum_i (v_i - a_i)^2 / (2 sigma_i^2) - sum_j softplus(b_j + (v / sigma^2) W)_j.
 * Partition function, integrating v in closed form for each hidden state (m = W h):
 *   Z = (2 pi)^(nV/2) prod_i sigma_i * sum_h exp( b.h + sum_i (2 a_i m_i + m_i^2) / (2 sigma_i^2) ).
 * Sufficient statistics s = -dE/dtheta, with z_i = log sigma_i^2 the learned variance parameter:
 *   dW: (v / sigma^2) h^T,  da: (v - a) / sigma^2,  db: h,  dz_i: ((v_i - a_i)^2 / 2 - v_i (W h)_i) / sigma_i^2.
 * Standardise continuous data (zero mean, unit variance per feature) before training with sigma = 1.
 *
 * Learning the variances (`learnSigma: true`; Cho, Ilin & Raiko 2011, "Improved learning of Gaussian-Bernoulli
 * restricted Boltzmann machines"; Melchior, Wang & Wiskott 2017, "Gaussian-binary restricted Boltzmann machines for
 * modeling natural image statistics"). The energy above is Cho et al.'s form (the coupling sees v / sigma^2), and the
 * learned parameter is z_i = log sigma_i^2, unconstrained, so that sigma_i = exp(z_i / 2) > 0. Write E with
 * e^{-z_i} = 1 / sigma_i^2:
 *   E(v, h) = sum_i e^{-z_i} [ (v_i - a_i)^2 / 2 - v_i (W h)_i ] - b.h
 *   dE/dz_i = -e^{-z_i} [ (v_i - a_i)^2 / 2 - v_i (W h)_i ]
 * and since log p(v) = log sum_h e^{-E(v,h)} - log Z, with d log Z / dz = <-dE/dz>_{p(v,h)},
 *   d log p(v) / dz_i = e^{-z_i} ( < (v_i - a_i)^2 / 2 - v_i (W h)_i >_{p(h|v)} - < same >_{p(v,h)} ).
 * The bracket is linear in h, so the data term uses P(h|v) in place of h exactly (shapes: v [n, nV], P(h|v)
 * [n, nH], W h -> P(h|v) W^T [n, nV]; the statistic is summed over rows to [nV]); the model term is estimated on the
 * negative chain like every other statistic.
 *
 * Why a plain `learnSigma` fails on separated clusters (what the fit options below address). At W = 0 the model
 * is one Gaussian N(a, diag(sigma^2)); with a at the data mean the z-gradient is (Var_data(v_i) / sigma_i^2 - 1) / 2,
 * so sigma_i^2 runs to the data variance C_ii. Linearising P(h_j|v) = sigmoid(b_j + sum_k v_k W_kj / sigma_k^2)
 * around W = 0 (s_j = sigmoid(b_j)) gives the W-gradient
 *   dL/dW = diag(1/sigma^2) (C diag(1/sigma^2) - I) W diag(s (1 - s)),     C = Cov_data(v)   [nV, nV]
 * so W grows out of its tiny initial values only while sigma^2 is below the data variance along some direction,
 * and stops growing when sigma^2 reaches it: the single Gaussian with sigma^2 = C_ii is a (degenerate) saddle.
 * Learning z at full speed from the first update lets sigma win that race (it needs to move log(C / sigma0^2), W needs
 * to grow by a factor 1 / weightStd), and the model stays one Gaussian -- what happened here before. Remedies:
 * - `sigmaWarmupEpochs` (Cho et al. fix sigma during the first epochs): sigma stays at its initial value while W
 *   breaks the symmetry; then sigma shrinks towards the width of the components, no longer the data's spread.
 * - `sigmaLearningRate`: a separate step size for z (Melchior et al.'s PyDeep uses a tenth of W's).
 * - Preconditioned mean steps: with `learnSigma`, the updates of the visible biases a_i and of row i of W are
 *   multiplied by sigma_i^2. Their gradients carry a factor 1 / sigma_i^2 (the Fisher information of a Gaussian
 *   mean), so a step size that suits sigma = 1 becomes sigma^-2 times too large once sigma has shrunk to the
 *   clusters' width (0.3: 11 times) and training turns erratic; sigma_i^2 x gradient is the natural-gradient step
 *   for the means, the same in data units whatever sigma is. z's Fisher information is constant (1/2 for a Gaussian),
 *   so its gradient is already scaled. A positive diagonal preconditioner keeps the fixed points of the update.
 * - Scaled hidden-bias steps: with `learnSigma`, the step of the hidden biases b is multiplied by the mean precision
 *   mean_i 1 / sigma_i^2. Unit j is on where b_j + sum_i v_i W_ij / sigma_i^2 > 0: the coupling term grows as
 *   1 / sigma^2 (and, with the preconditioned steps above, so do its changes), so a unit's threshold b_j must reach
 *   about |W_j|^2 / sigma^2 -- of order 10 on standardised clusters of width 0.2 -- to switch the unit on at one cluster
 *   and off at the others. With plain steps b stayed within +-1.5 while sigma shrank: the units stayed soft, lined
 *   up along the data's main axis as two groups of clones, and the clusters between the two ends were drawn as a
 *   binomial smear of partial codes (35-40 % of the mass between clusters, sigma grown to twice the clusters' width
 *   to cover it: mixture 101 of RESULTS-gbrbm.md). The same failure came from the exact gradient (log Z enumerated)
 *   with these steps, and went away with the scaled bias step or with Adam: the optimiser, not the sampler, was at
 *   fault, and that layout is within the model's reach (8 hidden units reached log-likelihood -0.78 per point
 *   against the truth's -0.74 there, with Adam on the exact gradient). At sigma = 1 the scale is 1.
 * What made training reliable on held-out mixtures of four separated clusters (bench/quality/RESULTS-gbrbm.md, the
 * same figures from a PyTorch twin): sigma started below the clusters' width (0.3 on standardised data) so that it
 * approaches it from below, W at a tenth of the data's scale (weightStd 0.1: the warm-up then suffices), 16 hidden
 * units, PCD with parallel tempering (8 temperatures, 100 chains), a step decaying linearly to zero
 * (`finalLearningRate: 0`, base.ts), which removes the drift the negative chains' noise causes in the weights of the
 * clusters, and the scaled hidden-bias steps above, without which one layout in three failed on every seed.
 * CD-k suits a quick fit; plain PCD does not: once sigma has shrunk to the clusters' width the persistent chains cannot
 * cross between clusters, and their negative phase keeps lowering the weight of the clusters they sit in until the
 * others' data have almost no probability (Melchior et al. found CD better for Gaussian-binary RBMs too). With PCD
 * use `parallelTempering` (Cho et al.): the hot replicas cross. CD-1 in turn learns sigma and the component means
 * well but sees little of the relative weights of separated clusters, so those vary from run to run.
 * With `learnSigma: false` none of this applies and the updates are the plain gradient steps.
 */
import { tf } from '../engine/backend';
import { Random } from '../engine/random';
import { assertFiniteNumber, assertKnownOptions, assertNonNegativeInteger, describeValue, optionKeys } from '../core/validate';
import type { DataChecks } from '../core/data';
import type { DataShape } from '../core/shapes';
import { AISTarget } from '../mcmc/ais';
import { JsonValue } from '../core/checkpoint';
import { bernoulli, ownedVariable, RBM, RBM_FIT_OPTION_KEYS, RBM_OPTION_KEYS, RBMFitOptions, RBMOptions, RBMStats, RBMWeights, RBMWeightsInput, resolveVisible } from './base';
import { History } from '../train/loop';

/** Options of {@link GaussianBernoulliRBM}. */
export interface GaussianBernoulliRBMOptions<S extends DataShape = DataShape> extends RBMOptions<S> {
  /** Standard deviation of the visible units: one number for all, or one per unit. Default 1 (standardised data). */
  sigma?: number | number[];
  /**
   * Learn the log-variances log sigma_i^2 too (clamped to sigma in [1e-3, 1e3]). Default false. On standardised data
   * with separated clusters, start `sigma` below the clusters' width (e.g. 0.3) with `weightStd: 0.1` and train by
   * PCD with `parallelTempering` and `finalLearningRate: 0` (see {@link GaussianBernoulliRBM.fit}).
   */
  learnSigma?: boolean;
}

const GAUSSIAN_RBM_OPTION_KEYS: readonly string[] = [
  ...RBM_OPTION_KEYS,
  ...optionKeys<Omit<GaussianBernoulliRBMOptions, keyof RBMOptions>>({ sigma: true, learnSigma: true }),
];

/** Training options of {@link GaussianBernoulliRBM.fit}: those of every RBM plus how sigma is learned. */
export interface GaussianRBMFitOptions extends RBMFitOptions {
  /**
   * `learnSigma` models only: step size of z = log sigma^2 (plain SGD with the fit's momentum; it decays with the
   * fit's step when `finalLearningRate` is set). Default: the fit's `learningRate`; >= 0 (0 keeps sigma fixed).
   */
  sigmaLearningRate?: number;
  /**
   * `learnSigma` models only: epochs at the start of training during which sigma stays at its value while W and the
   * biases learn (Cho et al. 2011), so that W can break the single-Gaussian symmetry before sigma grows to the data's
   * spread (see the module doc). Counted over resumed fits from the model's first epoch (or the last `reset: true`).
   * With the sigma^2-scaled steps W grows by a factor e every 1 / (learningRate (Var(v) - sigma^2)) updates, so from
   * weightStd 0.01 it needs about 5 / (learningRate (Var(v) - sigma^2)) updates (from 0.1: about 2.3 / ...): raise
   * this for few batches per epoch or a small learning rate. Default 10; a non-negative integer (0: sigma learns from the start).
   */
  sigmaWarmupEpochs?: number;
}

const GAUSSIAN_RBM_FIT_OPTION_KEYS: readonly string[] = [
  ...RBM_FIT_OPTION_KEYS,
  ...optionKeys<Omit<GaussianRBMFitOptions, keyof RBMFitOptions>>({ sigmaLearningRate: true, sigmaWarmupEpochs: true }),
];

/** What the running fit uses for z = log sigma^2 (see {@link GaussianRBMFitOptions}). */
const SIGMA_DEFAULTS = {
  /** Epochs with sigma fixed: enough updates for W to leave ~0.01 at lr 0.01 with 20+ batches per epoch. */
  warmupEpochs: 10,
} as const;

/** Parameters of a Gaussian-Bernoulli RBM (tensors owned by the caller). */
export interface GaussianRBMWeights extends RBMWeights {
  /** Standard deviations sigma_i, [nVisible]. */
  sigma: tf.Tensor1D;
}

/** Values for {@link GaussianBernoulliRBM.setWeights}. */
export interface GaussianRBMWeightsInput extends RBMWeightsInput {
  /** Standard deviations sigma_i > 0, [nVisible]. */
  sigma?: tf.Tensor1D | number[] | Float32Array;
}

const LOG_VAR_MIN = 2 * Math.log(1e-3);
const LOG_VAR_MAX = 2 * Math.log(1e3);

/**
 * A Gaussian-Bernoulli RBM for continuous data (see the module doc for the energy).
 *
 * @example
 * const rbm = new GaussianBernoulliRBM({ nVisible: 2, nHidden: 8, seed: 0 });
 * await rbm.fit(standardisedData, { epochs: 50, batchSize: 50, learningRate: 0.005, k: 1, persistent: true });
 * const points = await rbm.sample(500, { steps: 200, seed: 1 }); // [500, 2]
 */
export class GaussianBernoulliRBM<S extends DataShape = [number]> extends RBM<S> {
  /** 'GaussianBernoulliRBM'. */
  readonly kind = 'GaussianBernoulliRBM';
  /** Whether `fit` learns sigma. */
  readonly learnSigma: boolean;
  /** z = log sigma^2, [nV]. */
  protected logVar: tf.Variable<tf.Rank.R1>;

  /** See {@link GaussianBernoulliRBMOptions}. */
  constructor(opts: GaussianBernoulliRBMOptions<S>) {
    assertKnownOptions('GaussianBernoulliRBM', opts, GAUSSIAN_RBM_OPTION_KEYS);
    super(GaussianBernoulliRBM.checkOptions(opts));
    const sigma = opts.sigma ?? 1;
    const sig = typeof sigma === 'number' ? new Array<number>(this.nVisible).fill(sigma) : sigma;
    this.learnSigma = opts.learnSigma ?? false;
    this.logVar = ownedVariable(tf.tensor1d(sig.map((s) => 2 * Math.log(s))));
  }

  /** Validates the Gaussian options before any tensor is made. */
  private static checkOptions<S extends DataShape>(opts: GaussianBernoulliRBMOptions<S>): GaussianBernoulliRBMOptions<S> {
    if (opts === null || typeof opts !== 'object') throw new TypeError(`options must be an object; got ${describeValue(opts)}`);
    const { nVisible } = resolveVisible(opts);
    const sigma = opts.sigma ?? 1;
    const learnSigma = opts.learnSigma ?? false;
    if (typeof learnSigma !== 'boolean') throw new TypeError(`learnSigma must be true or false; got ${describeValue(learnSigma)}`);
    if (typeof sigma === 'number') assertFiniteNumber('sigma', sigma, { min: 0, exclusiveMin: true });
    else if (Array.isArray(sigma) && sigma.length === nVisible) {
      sigma.forEach((s, i) => assertFiniteNumber(`sigma[${i}]`, s, { min: 0, exclusiveMin: true }));
    } else {
      throw new RangeError(`sigma must be a positive number or an array of nVisible = ${nVisible} positive numbers; got ${describeValue(sigma)}`);
    }
    return opts;
  }

  /**
   * Loads a model saved with `save(dir)`. `S` states the stored model's example shape for the types (default
   * `[number]`), as for {@link BernoulliRBM.load}.
   */
  static async load<S extends DataShape = [number]>(dir: string): Promise<GaussianBernoulliRBM<S>> {
    return RBM.loadWith(
      dir,
      'GaussianBernoulliRBM',
      (c, dataShape) =>
        new GaussianBernoulliRBM<S>({ dataShape: dataShape as S, nHidden: c.nHidden as number, seed: c.seed as number, learnSigma: c.learnSigma === true }),
    );
  }

  protected override restoreExtra(tensors: Record<string, tf.Tensor>, dir: string): void {
    const z = tensors.logVar;
    if (!z || z.rank !== 1 || z.shape[0] !== this.nVisible) throw new Error(`checkpoint at ${dir} lacks a valid tensor 'logVar' [${this.nVisible}]`);
    this.logVar.assign(z as tf.Tensor1D);
    this.version++;
  }

  protected dataChecks(): DataChecks {
    return {}; // real-valued units: any finite values (standardise them first)
  }

  /** 1 / sigma^2, [nV]. */
  private precision(): tf.Tensor1D {
    return tf.exp(tf.neg(this.logVar));
  }

  protected hiddenInput(v: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(tf.mul(v, this.precision()), this.W), this.b); // b + (v / sigma^2) W   [n, nH]
  }

  protected visibleMean(h: tf.Tensor2D): tf.Tensor2D {
    return tf.add(this.timesWt(h), this.a); // a + W h   [n, nV]
  }

  protected sampleVisible(h: tf.Tensor2D, rng: Random, beta = 1): tf.Tensor2D {
    return this.visibleFromNoise(h, this.visibleNoise(rng, h.shape[0]), beta);
  }

  protected visibleNoise(rng: Random, n: number): tf.Tensor2D {
    return tf.tensor2d(rng.normalArray(n * this.nVisible), [n, this.nVisible]); // eps ~ N(0, 1)   [n, nV]
  }

  protected visibleFromNoise(h: tf.Tensor2D, eps: tf.Tensor2D, beta = 1): tf.Tensor2D {
    // At inverse temperature beta: v | h ~ N(a + W h, sigma^2 / beta), v = a + W h + eps sigma / sqrt(beta).
    const std = tf.exp(tf.mul(tf.sub(this.logVar, Math.log(beta)), 0.5));
    return tf.add(this.visibleMean(h), tf.mul(eps, std));
  }

  protected energy(v: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor1D {
    // E(v, h) = sum_i (v_i - a_i)^2 / (2 sigma_i^2) - b.h - ((v / sigma^2) W).h   [n]
    const prec = this.precision();
    const quad = tf.mul(tf.sum(tf.mul(tf.square(tf.sub(v, this.a)), prec), 1), 0.5);
    const inter = tf.add(tf.sum(tf.mul(h, this.b), 1), tf.sum(tf.mul(tf.matMul(tf.mul(v, prec), this.W), h), 1));
    return tf.sub(quad, inter) as tf.Tensor1D;
  }

  protected independentVisible(n: number, rng: Random): tf.Tensor2D {
    return tf.tidy(() => {
      const eps = tf.tensor2d(rng.normalArray(n * this.nVisible), [n, this.nVisible]);
      return tf.add(this.a, tf.mul(eps, tf.exp(tf.mul(this.logVar, 0.5)))) as tf.Tensor2D;
    });
  }

  protected weightOperand(v: tf.Tensor2D): tf.Tensor2D {
    // W's statistic: sum_rows (v / sigma^2) h^T   [nV, nH]. With learnSigma the step of row i is preconditioned by
    // sigma_i^2 (module doc), which leaves sum_rows v h^T: v itself is the operand.
    return this.learnSigma ? v : tf.mul(v, this.precision());
  }

  protected stats(v: tf.Tensor2D, ph: tf.Tensor2D): RBMStats {
    const prec = this.precision();
    const centred = tf.sub(v, this.a); // v - a   [n, nV]
    const s: RBMStats = {
      // sum_rows (v - a) / sigma^2   [nV]; with learnSigma preconditioned by sigma^2 (module doc): sum_rows (v - a)
      visibleBias: this.learnSigma ? tf.sum(centred, 0) : tf.sum(tf.mul(centred, prec), 0),
      // sum_rows P(h|v)   [nH]; with learnSigma scaled by mean_i 1 / sigma_i^2 (module doc: the hidden biases keep pace
      // with the coupling (v / sigma^2) W they must offset)
      hiddenBias: this.learnSigma ? tf.mul(tf.sum(ph, 0), tf.mean(prec)) : tf.sum(ph, 0),
    };
    if (this.learnSigma) {
      // ((v - a)^2 / 2 - v (W h)) / sigma^2 with h -> P(h|v)
      const quad = tf.sub(tf.mul(tf.square(centred), 0.5), tf.mul(v, this.timesWt(ph)));
      s.logVar = tf.sum(tf.mul(quad, prec), 0);
    }
    return s;
  }

  protected trainables(): Record<string, tf.Variable> {
    const t: Record<string, tf.Variable> = { W: this.W, visibleBias: this.a, hiddenBias: this.b };
    if (this.learnSigma) t.logVar = this.logVar;
    return t;
  }

  /** The running fit's step size for z (undefined: the fit's learningRate) and warm-up epochs. */
  private sigmaSchedule: { learningRate?: number; warmupEpochs: number } = { warmupEpochs: SIGMA_DEFAULTS.warmupEpochs };

  /**
   * Trains as {@link RBM.fit} does (CD-k or PCD-k; same options, history and resuming). With `learnSigma`, z = log
   * sigma^2 learns too, after `sigmaWarmupEpochs` (default 10) and with step `sigmaLearningRate` (default the
   * learningRate), the mean parameters' steps are scaled by sigma^2 and the hidden biases' by mean_i 1 / sigma_i^2
   * (see the module doc for the maths and why).
   *
   * @example
   * const rbm = new GaussianBernoulliRBM({ nVisible: 2, nHidden: 4, learnSigma: true, seed: 1 });
   * await rbm.fit(x, { epochs: 30, batchSize: 20, learningRate: 0.02, sigmaWarmupEpochs: 10 });
   */
  override async fit(x: tf.Tensor, opts: GaussianRBMFitOptions = {}): Promise<History> {
    const { sigmaLearningRate, sigmaWarmupEpochs } = opts; // unknown option names: RBM.fit checks (fitOptionKeys)
    if (sigmaLearningRate !== undefined) assertFiniteNumber('sigmaLearningRate', sigmaLearningRate, { min: 0 });
    if (sigmaWarmupEpochs !== undefined) assertNonNegativeInteger('sigmaWarmupEpochs', sigmaWarmupEpochs);
    if (!this.learnSigma && (sigmaLearningRate !== undefined || sigmaWarmupEpochs !== undefined)) {
      const name = sigmaLearningRate !== undefined ? 'sigmaLearningRate' : 'sigmaWarmupEpochs';
      throw new RangeError(`${name} applies only to a model built with learnSigma: true; this one keeps sigma fixed`);
    }
    this.sigmaSchedule = { learningRate: sigmaLearningRate, warmupEpochs: sigmaWarmupEpochs ?? SIGMA_DEFAULTS.warmupEpochs };
    return super.fit(x, opts);
  }

  protected override fitOptionKeys(): readonly string[] {
    return GAUSSIAN_RBM_FIT_OPTION_KEYS;
  }

  protected override learningRateOf(name: string, lr: number, decay: number): number {
    if (name !== 'logVar') return lr;
    if (this.training.epoch < this.sigmaSchedule.warmupEpochs) return 0; // epochs completed so far (resumes too)
    const own = this.sigmaSchedule.learningRate;
    return own === undefined ? lr : own * decay; // sigmaLearningRate decays with the fit's step
  }

  protected override constrain(): void {
    if (this.learnSigma) this.logVar.assign(tf.clipByValue(this.logVar, LOG_VAR_MIN, LOG_VAR_MAX));
  }

  protected visibleBiasFromData(x: tf.Tensor2D): tf.Tensor1D {
    return tf.mean(x, 0) as tf.Tensor1D;
  }

  protected freeEnergyUnchecked(v: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const quad = tf.mul(tf.sum(tf.mul(tf.square(tf.sub(v, this.a)), this.precision()), 1), 0.5); // [n]
      return tf.sub(quad, tf.sum(tf.softplus(this.hiddenInput(v)), 1)) as tf.Tensor1D;
    });
  }

  protected override enumeratedUnits(): number {
    return this.nHidden;
  }
  protected override enumeratedLayerName(): string {
    return 'hidden';
  }

  protected logPartitionExact(): number {
    const constant = tf.tidy(() => 0.5 * this.nVisible * Math.log(2 * Math.PI) + 0.5 * tf.sum(this.logVar).dataSync()[0]);
    return (
      constant +
      this.enumerate(this.nHidden, this.nVisible, (h) => {
        const m = this.timesWt(h); // W h   [count, nV]
        const gauss = tf.mul(tf.sum(tf.mul(tf.add(tf.mul(m, tf.mul(this.a, 2)), tf.square(m)), this.precision()), 1), 0.5);
        return tf.add(tf.sum(tf.mul(h, this.b), 1), gauss) as tf.Tensor1D;
      })
    );
  }

  protected aisTarget(aA: tf.Tensor1D): AISTarget {
    // Base A: W = 0, visible means aA, same sigma; log Z_A = nV/2 log(2 pi) + sum_i log sigma_i + nH log 2.
    // log p*_beta(v) = -sum_i [(1-beta)(v_i - aA_i)^2 + beta (v_i - a_i)^2] / (2 sigma_i^2) + sum_j softplus(beta x_j),
    // x = b + (v / sigma^2) W. Transition at beta: h ~ sigmoid(beta x), v ~ N((1-beta) aA + beta (a + W h), sigma^2).
    const logZBase = tf.tidy(
      () => 0.5 * this.nVisible * Math.log(2 * Math.PI) + 0.5 * tf.sum(this.logVar).dataSync()[0] + this.nHidden * Math.LN2,
    );
    const [prec, std] = tf.tidy(() => [this.precision(), tf.exp(tf.mul(this.logVar, 0.5))]);
    const self = this;
    const nV = this.nVisible;
    return {
      logZBase,
      dispose() {
        tf.dispose([prec, std]);
      },
      initial(runs, rng) {
        return tf.tidy(() => tf.add(aA, tf.mul(tf.tensor2d(rng.normalArray(runs * nV), [runs, nV]), std)) as tf.Tensor2D);
      },
      step(v, betaPrev, beta, last, rng) {
        return tf.tidy(() => {
          const x = self.hiddenInput(v); // [R, nH]
          // d/dbeta of the quadratic part: -[(v - a)^2 - (v - aA)^2] / (2 sigma^2)
          const dq = tf.mul(tf.sum(tf.mul(tf.sub(tf.square(tf.sub(v, self.a)), tf.square(tf.sub(v, aA))), prec), 1), -0.5);
          const dLogW = tf.add(
            tf.mul(dq, beta - betaPrev),
            tf.sum(tf.sub(tf.softplus(tf.mul(x, beta)), tf.softplus(tf.mul(x, betaPrev))), 1),
          ) as tf.Tensor1D;
          let next: tf.Tensor2D | undefined;
          if (!last) {
            const h = bernoulli(tf.sigmoid(tf.mul(x, beta)) as tf.Tensor2D, rng);
            const mean = tf.add(tf.mul(aA, 1 - beta), tf.mul(tf.add(self.timesWt(h), self.a), beta));
            next = tf.add(mean, tf.mul(tf.tensor2d(rng.normalArray(v.shape[0] * nV), [v.shape[0], nV]), std)) as tf.Tensor2D;
          }
          return { dLogW, v: next };
        });
      },
    };
  }

  /** Copies of W, visibleBias, hiddenBias and sigma; the caller owns them. */
  override getWeights(): GaussianRBMWeights {
    return { ...super.getWeights(), sigma: tf.tidy(() => tf.exp(tf.mul(this.logVar, 0.5)) as tf.Tensor1D) };
  }

  /** Sets any of W, visibleBias, hiddenBias, sigma (checked). */
  override setWeights(w: GaussianRBMWeightsInput): void {
    super.setWeights(w);
  }

  protected override setExtraWeights(w: GaussianRBMWeightsInput, staged: [tf.Variable, tf.Tensor][]): void {
    if (w.sigma === undefined) return;
    const s = w.sigma instanceof tf.Tensor ? w.sigma.clone() : tf.tensor1d(Array.from(w.sigma as ArrayLike<number>));
    const ok = s.rank === 1 && s.shape[0] === this.nVisible;
    const positive = ok && tf.tidy(() => tf.all(tf.logicalAnd(tf.isFinite(s), tf.greater(s, 0))).dataSync()[0]);
    if (!ok || !positive) {
      const shape = s.shape.join(', ');
      s.dispose();
      throw new RangeError(`sigma must be ${this.nVisible} finite positive numbers; got shape [${shape}]${ok ? ' with values <= 0 or not finite' : ''}`);
    }
    staged.push([this.logVar, tf.tidy(() => tf.mul(tf.log(s), 2))]);
    s.dispose();
  }

  protected override trainablesForSave(): Record<string, tf.Tensor> {
    return { ...super.trainablesForSave(), logVar: this.logVar };
  }

  protected extraConfig(): Record<string, JsonValue> {
    return { learnSigma: this.learnSigma };
  }

  /** W, the biases and z = log sigma^2 (which defines the model whether or not it is learned). */
  protected override variables(): tf.Variable[] {
    return [...super.variables(), this.logVar];
  }

  protected override release(): void {
    super.release();
    this.logVar?.dispose();
  }

  /** E.g. `GaussianBernoulliRBM 2-4, sigma learned` (or `sigma fixed`). */
  override describe(): string {
    return `${super.describe()}, sigma ${this.learnSigma ? 'learned' : 'fixed'}`;
  }
}
