/**
 * Contrastive divergence: the update that trains every genlab RBM (CD-k, Hinton 2002; persistent CD, PCD-k,
 * Tieleman 2008), written as the maths. The model (lib/rbm/base.ts) supplies the energy-specific conditionals and
 * sufficient statistics; this file is the learning rule.
 *
 * Notation (shapes in brackets): data rows v0 [B, nV], negative chains [C, nV], weights W [nV, nH], and for each
 * parameter theta its sufficient statistic s_theta(v, h) = -dE(v, h)/dtheta (Bernoulli units: s_W = v h^T,
 * s_a = v, s_b = h; see bernoulli.ts and gaussian.ts).
 *
 * (1) The log-likelihood gradient is a difference of two expectations (p(v) = exp(-F(v)) / Z):
 *       d log p(v) / d theta = <s_theta>_data - <s_theta>_model,
 *     the positive phase over the data with h ~ P(h | v), the negative phase over the model's joint p(v, h).
 * (2) Positive phase: s is linear in h, so P(h = 1 | v0) stands in for h exactly (Rao-Blackwellised):
 *       <s>_data = (1/B) sum_rows s(v0, P(h | v0)).
 * (3) Negative phase: <s>_model needs Z, so CD-k runs k Gibbs sweeps and uses where they end,
 *       h0 ~ P(h | start),  v1 ~ p(v | h0),  h1 ~ P(h | v1),  ...,  vk ~ p(v | h_{k-1}),
 *       <s>_model ~ (1/C) sum_chains s(vk, P(h | vk)),
 *     starting at the batch itself (CD: start = v0, C = B) or at persistent chains carried from update to update
 *     (PCD: start = the chains, whose vk becomes the new chain state). With parallel tempering the caller hands in
 *     the beta = 1 replicas as vk and no sweep runs here.
 * (4) Gradient estimate: g_theta = <s_theta>_data - <s_theta>_model; for W
 *       g_W = (1/B) v0^T P(h | v0) - (1/C) vk^T P(h | vk)                                               [nV, nH]
 * (5) Update, stochastic gradient ascent with learning rate lr, momentum mu and L2 weight decay lambda (on W only):
 *       velocity <- mu velocity + lr (g - lambda W),   theta <- theta + velocity;
 *     with mu = 0 (no velocity kept): theta <- theta + lr (g - lambda W).
 *
 * {@link contrastiveDivergence} computes the new values (no side effects: it also runs inside a compiled TensorFlow
 * function); {@link assignUpdate} writes them into the variables.
 */
import { tf } from '../engine/tf';
import { addProduct } from '../engine/kernels';

/** The sufficient statistics of one batch, summed over rows; keys are parameter names. */
export type RBMStats = Record<string, tf.Tensor>;

/** What the update needs from the model: its conditionals and sufficient statistics (see lib/rbm/base.ts). */
export interface RBMConditionals {
  /** Input to the hidden units, [n, nH]: P(h = 1 | v) = sigmoid(hiddenInput(v)). */
  hiddenInput(v: tf.Tensor2D): tf.Tensor2D;
  /** s(v, P(h|v)) summed over rows for every trained parameter but W (W's comes from `weightOperand`). */
  stats(v: tf.Tensor2D, ph: tf.Tensor2D): RBMStats;
  /** x with W's statistic = x^T P(h|v) summed over rows: v (binary units) or v / sigma^2 (Gaussian), [n, nV]. */
  weightOperand(v: tf.Tensor2D): tf.Tensor2D;
}

/** Where the Gibbs sweeps' random samples come from: drawn on the spot, or from noise handed in (compiled step). */
export interface StepNoise {
  /** A Bernoulli sample of the probabilities `p`. */
  bernoulli(p: tf.Tensor2D): tf.Tensor2D;
  /** A sample of the visible units given hidden states `h`. */
  visible(h: tf.Tensor2D): tf.Tensor2D;
}

/** The hyper-parameters of one CD-k / PCD-k update. */
export interface CDUpdateOptions {
  learningRate: number;
  momentum: number;
  weightDecay: number;
  /** Gibbs sweeps of the negative phase. */
  k: number;
}

/** What one update computes. */
export interface CDUpdate {
  /** Where the negative chains ended, vk [C, nV]: the new persistent state under PCD. */
  chain: tf.Tensor2D;
  /**
   * The positive phase's P(h = 1 | v0) [B, nH], from the parameters before the update: the batch's mean-field
   * reconstruction E[v | P(h | v0)] (a monitor, not part of the update) starts from it, one product instead of two.
   */
  positive: tf.Tensor2D;
  /** New parameter values by name and, with momentum, new velocities under `velocity/<name>`. */
  next: Record<string, tf.Tensor>;
}

/** Prefix of the velocity entries in {@link CDUpdate.next}. */
export const VELOCITY = 'velocity/';

/**
 * One CD-k / PCD-k update on the batch v0 [B, nV] (call inside a tidy), stages (2)-(5) of the module doc: returns
 * the new parameter values without assigning them.
 *
 * @param chain The persistent chains [C, nV] (PCD), or null to start the chains at v0 (CD).
 * @param params The trained variables by the names `model.stats` uses, W included.
 * @param velocity The velocities by parameter name (read only when `opts.momentum > 0`).
 * @param rate The step size of each parameter but W (W's is `opts.learningRate`).
 * @param negativeSample Optional vk [C, nV] already drawn (parallel tempering): no sweep is run.
 */
export function contrastiveDivergence(
  model: RBMConditionals,
  v0: tf.Tensor2D,
  chain: tf.Tensor2D | null,
  params: Record<string, tf.Variable>,
  velocity: Record<string, tf.Variable>,
  opts: CDUpdateOptions,
  rate: (name: string) => number | tf.Tensor,
  noise: StepNoise,
  negativeSample?: tf.Tensor2D,
): CDUpdate {
  const B = v0.shape[0];
  const P = (v: tf.Tensor2D): tf.Tensor2D => tf.sigmoid(model.hiddenInput(v)); //             P(h = 1 | v)   [n, nH]

  // (2) Positive phase: P(h | v0) on the data.
  const ph0 = P(v0); //                                                                                          [B, nH]

  // (3) Negative phase: k Gibbs sweeps from the data (CD) or the persistent chains (PCD) to vk and P(h | vk).
  let vk: tf.Tensor2D;
  let phk: tf.Tensor2D;
  if (negativeSample) {
    vk = negativeSample; //                                                  [C, nV], already drawn (parallel tempering)
    phk = P(vk);
  } else {
    let h = noise.bernoulli(chain ? P(chain) : ph0); //                                         h0 ~ P(h | start)   [C, nH]
    vk = chain ?? v0;
    phk = ph0;
    for (let s = 0; s < opts.k; s++) {
      vk = noise.visible(h); //                                                                   v_{s+1} ~ p(v | h_s)   [C, nV]
      phk = P(vk); //                                                                                              [C, nH]
      if (s < opts.k - 1) h = noise.bernoulli(phk); //                                     the last sweep keeps P(h | vk)
    }
  }
  const C = vk.shape[0];

  // (4) Gradient estimate g = <s>_data - <s>_model, every statistic from the current parameters, before any moves.
  const pos = model.stats(v0, ph0); //                                              sum_rows s(v0, P(h | v0)), by name
  const neg = model.stats(vk, phk); //                                              sum_chains s(vk, P(h | vk))
  // g_W for both phases as one product over the stacked rows:
  //   g_W = (1/B) x0^T P(h | v0) - (1/C) xk^T P(h | vk) = X^T Y,   X = [x0; xk] [B + C, nV],   Y = [ph0 / B; -phk / C] [B + C, nH]
  // with x = model.weightOperand(v) (v for binary units).
  const X = tf.concat([model.weightOperand(v0), model.weightOperand(vk)], 0) as tf.Tensor2D;
  const { learningRate: lr, momentum, weightDecay } = opts;
  const W = params.W;
  const next: Record<string, tf.Tensor> = {};

  // (5) Update.
  if (momentum === 0) {
    // W <- (1 - lr lambda) W + X^T (lr Y): the product accumulates onto W (one pass with native BLAS).
    const Y = tf.concat([tf.mul(ph0, lr / B), tf.mul(phk, -lr / C)], 0) as tf.Tensor2D;
    const base = weightDecay > 0 ? tf.mul(W, 1 - lr * weightDecay) : W;
    next.W = addProduct(base, X, Y, true);
  } else {
    // velocity_W <- mu velocity_W + lr (X^T Y - lambda W);   W <- W + velocity_W
    const Y = tf.concat([tf.div(ph0, B), tf.div(phk, -C)], 0) as tf.Tensor2D;
    const gW = weightDecay > 0 ? addProduct(tf.mul(W, -weightDecay), X, Y, true) : tf.matMul(X, Y, true, false);
    const delta = tf.add(tf.mul(velocity.W, momentum), tf.mul(gW, lr));
    next[`${VELOCITY}W`] = delta;
    next.W = tf.add(W, delta);
  }
  for (const [name, p] of Object.entries(params)) {
    if (name === 'W') continue;
    // delta = rate (pos / B - neg / C)   (+ mu velocity);   theta <- theta + delta
    let delta = tf.mul(tf.sub(tf.div(pos[name], B), tf.div(neg[name], C)), rate(name));
    if (momentum > 0) {
      delta = tf.add(tf.mul(velocity[name], momentum), delta);
      next[`${VELOCITY}${name}`] = delta;
    }
    next[name] = tf.add(p, delta);
  }
  return { chain: vk, positive: ph0, next };
}

/** Writes an update's new values into the parameters and velocities (see {@link CDUpdate.next}). */
export function assignUpdate(params: Record<string, tf.Variable>, velocity: Record<string, tf.Variable>, next: Record<string, tf.Tensor>): void {
  for (const [key, value] of Object.entries(next)) {
    if (key.startsWith(VELOCITY)) velocity[key.slice(VELOCITY.length)].assign(value);
    else params[key].assign(value);
  }
}
