/**
 * Restricted Boltzmann machines with binary units (and, re-exported from rbm-gaussian, Gaussian visible units).
 *
 * Bernoulli-Bernoulli energy (v in {0,1}^nV, h in {0,1}^nH):
 *   E(v, h) = -a.v - b.h - v^T W h
 * Conditionals factorise:  P(h_j = 1 | v) = sigmoid(b_j + (v W)_j),  P(v_i = 1 | h) = sigmoid(a_i + (W h)_i).
 * Free energy (summing h out):  F(v) = -a.v - sum_j softplus(b_j + (v W)_j),   p(v) = exp(-F(v)) / Z.
 * Sufficient statistics s = -dE/dtheta:  dW: v h^T,  da: v,  db: h.
 */
import { tf } from '../engine/backend';
import { uniformArray } from '../engine/kernels';
import { Random } from '../engine/random';
import { describeValue, assertFiniteNumber, assertKnownOptions, optionKeys } from '../core/validate';
import type { DataChecks } from '../core/data';
import type { DataShape } from '../core/shapes';
import { AISTarget } from '../mcmc/ais';
import { JsonValue } from '../core/checkpoint';
import { bernoulli, bernoulliFrom, RBM, RBM_OPTION_KEYS, RBMOptions, RBMStats } from './base';

export { RBM, MAX_ENUMERATED_UNITS } from './base';
export type { RBMOptions, RBMFitOptions, RBMEpochLogs, RBMWeights, RBMWeightsInput, RBMSampleOptions } from './base';
export { aisSchedule } from '../mcmc/ais';
export type { AISOptions, AISResult, AISSchedulePreset } from '../mcmc/ais';
export * from './gaussian';

/** Visible-bias initialisation clips pixel means to [EPS, 1 - EPS] before the log-odds: biases stay within +-6.9. */
export const RBM_LOG_ODDS_EPS = 1e-3;

/**
 * Largest parameter magnitude a {@link BernoulliRBM} fit accepts: 2^24. The data are in [0, 1] and the gradient is
 * bounded (|<s>_data - <s>_model| <= 1), so a runaway learning rate (1e30) leaves the weights huge but finite; beyond
 * 2^24 float32 (24-bit significand) cannot even resolve a change of 1, every learning step is lost, and the fit counts
 * as diverged (the last sound weights are put back) instead of returning a dead model.
 */
export const RBM_MAX_PARAMETER = 2 ** 24;

/** Options of {@link BernoulliRBM.pseudoLogLikelihood}. */
export interface PseudoLikelihoodOptions {
  /**
   * `'all'` (default): the exact pseudo-log-likelihood sum_i log P(v_i | v_-i) over every unit (cost nVisible free
   * energies per row, chunked). `'one'`: the cheap stochastic estimate nVisible * log P(v_i | v_-i) for one random
   * unit i per row (scikit-learn's `score_samples`).
   */
  units?: 'all' | 'one';
  /** Seed for `units: 'one'` (default: drawn from the model's generator). */
  seed?: number;
}

const PSEUDO_LIKELIHOOD_OPTION_KEYS = optionKeys<PseudoLikelihoodOptions>({ units: true, seed: true });

/**
 * A Bernoulli-Bernoulli RBM (binary visible and hidden units). `S`, the shape of one example, follows from the
 * options: `[number]` with `nVisible` or `dataShape: [784]` (samples are `tf.Tensor2D`), `[number, number, number]`
 * with `dataShape: [28, 28, 1]` (samples are `tf.Tensor4D`).
 *
 * @example
 * const rbm = new BernoulliRBM({ nVisible: 784, nHidden: 16, seed: 1 });
 * const hist = await rbm.fit(train, { epochs: 5, batchSize: 100, learningRate: 0.01, k: 1, persistent: true,
 *   onEpoch: () => ({ testLogLikelihood: rbm.logLikelihood(test) }) });
 * const fantasy = await rbm.sample(16, { steps: 1000, seed: 2 }); // [16, 784]
 */
export class BernoulliRBM<S extends DataShape = [number]> extends RBM<S> {
  /** 'BernoulliRBM'. */
  readonly kind = 'BernoulliRBM';

  /** See {@link RBMOptions}: dataShape or nVisible, nHidden, seed, weightStd (default 0.01). */
  constructor(opts: RBMOptions<S>) {
    assertKnownOptions('BernoulliRBM', opts, RBM_OPTION_KEYS);
    super(opts);
  }

  /**
   * Loads a model saved with `save(dir)`; refuses corrupted checkpoints and checkpoints of other kinds. `S` states
   * the stored model's example shape for the types (e.g. `BernoulliRBM.load<[28, 28, 1]>(dir)`); default `[number]`.
   */
  static async load<S extends DataShape = [number]>(dir: string): Promise<BernoulliRBM<S>> {
    return RBM.loadWith(dir, 'BernoulliRBM', (c, dataShape) => new BernoulliRBM<S>({ dataShape: dataShape as S, nHidden: c.nHidden as number, seed: c.seed as number }));
  }

  protected dataChecks(): DataChecks {
    return { range: [0, 1] }; // binary units: data in [0, 1] (fractional values act as probabilities)
  }

  protected override parameterLimit(): number {
    return RBM_MAX_PARAMETER;
  }

  protected hiddenInput(v: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(v, this.W), this.b); // b + v W   [n, nH]
  }

  protected visibleMean(h: tf.Tensor2D): tf.Tensor2D {
    return tf.sigmoid(tf.add(this.timesWt(h), this.a)) as tf.Tensor2D; // sigmoid(a + W h)   [n, nV]
  }

  protected sampleVisible(h: tf.Tensor2D, rng: Random, beta = 1): tf.Tensor2D {
    if (beta === 1) return bernoulli(this.visibleMean(h), rng);
    return bernoulli(tf.sigmoid(tf.mul(tf.add(this.timesWt(h), this.a), beta)) as tf.Tensor2D, rng);
  }

  protected visibleNoise(rng: Random, n: number): tf.Tensor2D {
    return tf.tensor2d(uniformArray(rng, n * this.nVisible), [n, this.nVisible]); // u ~ U(0, 1)   [n, nV]
  }

  protected visibleFromNoise(h: tf.Tensor2D, u: tf.Tensor2D): tf.Tensor2D {
    return bernoulliFrom(this.visibleMean(h), u); // v = 1 where u < P(v = 1 | h)
  }

  protected energy(v: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor1D {
    // E(v, h) = -a.v - b.h - (v W).h   [n]
    return tf.neg(tf.add(tf.add(tf.sum(tf.mul(v, this.a), 1), tf.sum(tf.mul(h, this.b), 1)), tf.sum(tf.mul(tf.matMul(v, this.W), h), 1))) as tf.Tensor1D;
  }

  protected independentVisible(n: number, rng: Random): tf.Tensor2D {
    return tf.tidy(() => bernoulli(tf.tile(tf.sigmoid(this.a).reshape([1, this.nVisible]), [n, 1]) as tf.Tensor2D, rng));
  }

  protected stats(v: tf.Tensor2D, ph: tf.Tensor2D): RBMStats {
    return {
      visibleBias: tf.sum(v, 0), // [nV]
      hiddenBias: tf.sum(ph, 0), // [nH]
    };
  }

  protected weightOperand(v: tf.Tensor2D): tf.Tensor2D {
    return v; // W's statistic: sum_rows v h^T   [nV, nH]
  }

  protected trainables(): Record<string, tf.Variable> {
    return { W: this.W, visibleBias: this.a, hiddenBias: this.b };
  }

  protected visibleBiasFromData(x: tf.Tensor2D): tf.Tensor1D {
    // a_i = log(p_i / (1 - p_i)), p_i = mean of pixel i clipped to [eps, 1 - eps] (Hinton's practical guide, sec. 8).
    return tf.tidy(() => {
      const p = tf.clipByValue(tf.mean(x, 0), RBM_LOG_ODDS_EPS, 1 - RBM_LOG_ODDS_EPS);
      return tf.log(tf.div(p, tf.sub(1, p))) as tf.Tensor1D;
    });
  }

  protected freeEnergyUnchecked(v: tf.Tensor2D): tf.Tensor1D {
    // F(v) = -a.v - sum_j softplus(b_j + (v W)_j)   [n]
    return tf.tidy(() => tf.sub(tf.neg(tf.sum(tf.mul(v, this.a), 1)), tf.sum(tf.softplus(this.hiddenInput(v)), 1)) as tf.Tensor1D);
  }

  protected logPartitionExact(): number {
    if (this.nHidden <= this.nVisible) {
      // log Z = log sum_h exp(b.h) prod_i (1 + exp(a_i + (W h)_i)) = LSE_h [ b.h + sum_i softplus(a_i + (h W^T)_i) ]
      return this.enumerate(this.nHidden, this.nVisible, (h) =>
        tf.add(tf.sum(tf.mul(h, this.b), 1), tf.sum(tf.softplus(tf.add(this.timesWt(h), this.a)), 1)) as tf.Tensor1D,
      );
    }
    // log Z = LSE_v [ -F(v) ]
    return this.enumerate(this.nVisible, this.nHidden, (v) => tf.neg(this.freeEnergyUnchecked(v)));
  }

  /**
   * Mean over rows of the pseudo-log-likelihood sum_i log P(v_i | v_-i) (nats), with
   * P(v_i | v_-i) = sigmoid(F(v with bit i flipped) - F(v)). See {@link PseudoLikelihoodOptions}.
   * Not the log-likelihood: a different objective (neither bound nor estimate of log p(v)). `'all'` is exact; `'one'`
   * is an unbiased but noisy estimate of it (variance from the random unit; no error bar is returned).
   */
  pseudoLogLikelihood(v: tf.Tensor, opts: PseudoLikelihoodOptions = {}): number {
    assertKnownOptions('BernoulliRBM.pseudoLogLikelihood', opts, PSEUDO_LIKELIHOOD_OPTION_KEYS);
    this.assertAlive();
    const units = opts.units ?? 'all';
    if (units !== 'all' && units !== 'one') throw new RangeError(`units must be 'all' or 'one'; got ${describeValue(units)}`);
    if (opts.seed !== undefined) assertFiniteNumber('seed', opts.seed);
    return this.withData('v', v, (rows) => this.pseudoLogLikelihoodOf(rows, units, opts.seed));
  }

  /** {@link BernoulliRBM.pseudoLogLikelihood} of checked rows `v` [n, nV]. */
  private pseudoLogLikelihoodOf(v: tf.Tensor2D, units: 'all' | 'one', seed: number | undefined): number {
    const n = v.shape[0];
    const nV = this.nVisible;
    const nH = this.nHidden;
    if (units === 'one') {
      const rng = seed === undefined ? this.rng.fork() : new Random(seed);
      const idx = new Int32Array(n).map(() => rng.int(nV));
      return tf.tidy(() => {
        const flip = tf.oneHot(tf.tensor1d(idx, 'int32'), nV).toFloat(); // [n, nV]
        const vFlipped = tf.abs(tf.sub(v, flip)) as tf.Tensor2D; // v with bit i flipped
        const d = tf.sub(this.freeEnergyUnchecked(vFlipped), this.freeEnergyUnchecked(v)); // [n]
        return tf.mean(tf.mul(tf.neg(tf.softplus(tf.neg(d))), nV)).dataSync()[0]; // nV log sigmoid(d)
      });
    }
    // All units: rows in chunks of r so that [r, nV, nH] stays below ~4M elements.
    const r = Math.max(1, Math.floor((1 << 22) / (nV * nH)));
    let total = 0;
    for (let start = 0; start < n; start += r) {
      const rows = Math.min(r, n - start);
      total += tf.tidy(() => {
        const vb = tf.slice(v, [start, 0], [rows, nV]) as tf.Tensor2D;
        const pre = this.hiddenInput(vb); // [r, nH]
        const s = tf.sub(1, tf.mul(vb, 2)); // +1 where v_i = 0, -1 where v_i = 1   [r, nV]
        // F(v~_i) - F(v) = -a_i s_i - sum_j [softplus(pre_j + s_i W_ij) - softplus(pre_j)]   [r, nV]
        const flipped = tf.add(pre.reshape([rows, 1, nH]), tf.mul(s.reshape([rows, nV, 1]), this.W.reshape([1, nV, nH])));
        const dSoft = tf.sub(tf.sum(tf.softplus(flipped), 2), tf.sum(tf.softplus(pre), 1).reshape([rows, 1]));
        const d = tf.sub(tf.neg(tf.mul(s, this.a)), dSoft);
        return tf.sum(tf.neg(tf.softplus(tf.neg(d)))).dataSync()[0]; // sum log sigmoid(d)
      });
    }
    return total / n;
  }

  protected aisTarget(aA: tf.Tensor1D): AISTarget {
    // Base A: W = 0, visible biases aA, hidden biases 0 (nH hidden units contribute 2^nH to Z_A).
    // log p*_beta(v) = (1 - beta) aA.v + beta a.v + sum_j softplus(beta (b + v W)_j)
    const logZBase = tf.tidy(() => tf.sum(tf.softplus(aA)).dataSync()[0]) + this.nHidden * Math.LN2;
    const dA = tf.sub(this.a, aA); // a - aA   [nV]
    const W = this.W;
    const self = this;
    return {
      logZBase,
      dispose() {
        dA.dispose();
      },
      initial(runs, rng) {
        return tf.tidy(() => bernoulli(tf.tile(tf.sigmoid(aA).reshape([1, -1]), [runs, 1]) as tf.Tensor2D, rng));
      },
      step(v, betaPrev, beta, last, rng) {
        return tf.tidy(() => {
          const x = tf.add(tf.matMul(v, W), self.b); // [R, nH]
          const dLogW = tf.add(
            tf.mul(tf.sum(tf.mul(v, dA), 1), beta - betaPrev),
            tf.sum(tf.sub(tf.softplus(tf.mul(x, beta)), tf.softplus(tf.mul(x, betaPrev))), 1),
          ) as tf.Tensor1D;
          let next: tf.Tensor2D | undefined;
          if (!last) {
            const h = bernoulli(tf.sigmoid(tf.mul(x, beta)) as tf.Tensor2D, rng);
            // P(v_i = 1 | h) at beta: sigmoid((1 - beta) aA_i + beta (a_i + (W h)_i))
            const pre = tf.add(tf.mul(aA, 1 - beta), tf.mul(tf.add(self.timesWt(h), self.a), beta));
            next = bernoulli(tf.sigmoid(pre) as tf.Tensor2D, rng);
          }
          return { dLogW, v: next };
        });
      },
    };
  }

  protected extraConfig(): Record<string, JsonValue> {
    return {};
  }
}
