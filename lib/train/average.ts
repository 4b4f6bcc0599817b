/**
 * An exponential moving average of a network's weights, for sampling (Polyak averaging; Yazici et al. 2019 for GANs,
 * Ho et al. 2020 for diffusion models):
 *
 *   w_avg <- d_t w_avg + (1 - d_t) w,   d_t = min(beta, (1 + t) / (10 + t))   after the t-th step (t = 0, 1, ...).
 *
 * The weights an optimiser leaves keep moving with its step noise; the average cancels much of that motion. The
 * warm-up d_t (TensorFlow's ExponentialMovingAverage with num_updates) keeps the average from remembering the random
 * initial weights in short runs. Training itself runs on the current weights. Used by the GAN (`generatorAverage`),
 * the DDPM and the EnergyModel (`weightAverage`). Internal: plumbing for genlab's models.
 */
import { tf } from '../engine/backend';

/** What the average follows: a network's weights in a fixed order (tf.LayersModel and the DDPM's networks have them). */
export interface AveragedNetwork {
  getWeights(): tf.Tensor[];
  setWeights(weights: tf.Tensor[]): void;
}

/** The moving average of one network's weights and its step count (see the module comment). */
export class WeightAverage {
  /** The averaged weights, in `getWeights()` order. */
  readonly weights: tf.Variable[];
  /** Updates so far (t), a scalar variable so that a checkpoint keeps it and a diverged fit puts it back. */
  readonly steps: tf.Variable;

  /** Starts at the network's current weights (the warm-up forgets them within a few steps). */
  constructor(private readonly network: AveragedNetwork, readonly beta: number) {
    this.weights = network.getWeights().map((w) => tf.variable(w, false));
    this.steps = tf.tidy(() => tf.variable(tf.scalar(0), false)); // (frees the scalar)
  }

  /** One update from the network's current weights, on the device: w_avg <- d_t w_avg + (1 - d_t) w, t <- t + 1. */
  update(): void {
    const w = this.network.getWeights();
    tf.tidy(() => {
      const d = tf.minimum(this.beta, this.steps.add(1).div(this.steps.add(10))); //                d_t  []
      const keep = tf.sub(1, d);
      this.weights.forEach((a, i) => a.assign(a.mul(d).add(w[i].mul(keep))));
      this.steps.assign(this.steps.add(1));
    });
  }

  /** Runs `f` with the network's weights swapped for the average, then puts the current ones back (also when `f` throws). */
  use<T>(f: () => T): T {
    const current = this.swapIn();
    try {
      return f();
    } finally {
      this.swapOut(current);
    }
  }

  /** {@link use} for an async `f`: until it settles the network holds the average (do not train it meanwhile). */
  async useAsync<T>(f: () => Promise<T>): Promise<T> {
    const current = this.swapIn();
    try {
      return await f();
    } finally {
      this.swapOut(current);
    }
  }

  /** Puts the average into the network; returns copies of its current weights. */
  private swapIn(): tf.Tensor[] {
    const current = this.network.getWeights().map((w) => w.clone());
    this.network.setWeights(this.weights);
    return current;
  }

  /**
   * Puts `current` (from {@link swapIn}) back and frees it. When the owner was disposed while `f` ran (a model
   * disposed during an async `sample`: it frees its network with the average) there is nothing to put back, and the
   * caller's own error ("has been disposed") stays the one thrown.
   */
  private swapOut(current: tf.Tensor[]): void {
    try {
      if (!this.steps.isDisposed) this.network.setWeights(current);
    } finally {
      tf.dispose(current);
    }
  }

  /** Every variable: the average, then the step count. */
  get variables(): tf.Variable[] {
    return [...this.weights, this.steps];
  }

  /** The checkpoint's weight sets: `name` (the average) and `name + 'Steps'` (the count). */
  weightSets(name: string): Record<string, AveragedNetwork> {
    return {
      [name]: { getWeights: () => this.weights, setWeights: (w) => this.weights.forEach((a, i) => a.assign(w[i])) },
      [`${name}Steps`]: { getWeights: () => [this.steps], setWeights: (w) => this.steps.assign(w[0]) },
    };
  }

  dispose(): void {
    tf.dispose(this.weights);
    this.steps.dispose();
  }
}
