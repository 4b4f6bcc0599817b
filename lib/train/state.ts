/**
 * What a model carries from one `fit` call to the next, so that a second `fit` continues where the first stopped
 * (Keras' `initial_epoch` and optimiser state, without the bookkeeping): the epoch and batch counters, the
 * training generator, the optimiser, and whatever else the model's update needs (PCD chains, momentum). A model
 * owns one, passes it to {@link runEpochs} as `spec.state`, and disposes it with itself; `fit(x, { reset: true })`
 * calls {@link TrainingState.reset}.
 */
import { tf } from '../engine/tf';
import { Random } from '../engine/random';
import { adamFor } from './loop';

/** Anything a model may carry between fits: tensors (also in arrays or records) or an optimiser. */
export type Carried = tf.Tensor | tf.Tensor[] | Record<string, tf.Tensor> | tf.Optimizer;

function disposeCarried(value: Carried): void {
  if (value instanceof tf.Optimizer) value.dispose();
  else tf.dispose(value as tf.TensorContainer);
}

/** The training state a model keeps between `fit` calls (see the module doc). */
export class TrainingState {
  /** Epochs completed since the model was built or last reset; the next fit's first epoch is `epoch + 1`. */
  epoch = 0;
  /** Optimisation steps (batches) completed; the loop passes it on to `step`, e.g. for a KL warm-up schedule. */
  step = 0;
  /** The generator the training draws from (shuffling, sampling), continued by the next fit; null until set. */
  rng: Random | null = null;
  private readonly carried = new Map<string, Carried>();
  /** Learning rate of each carried Adam optimiser, by key. */
  private readonly rates = new Map<string, number>();

  /**
   * The training generator: a new one from `seed` when a seed is given, else the one carried from the previous
   * fit, else `fresh()` (e.g. a fork of the model's own generator). Stored for the next fit.
   */
  generator(seed: number | undefined, fresh: () => Random): Random {
    if (seed !== undefined) this.rng = new Random(seed);
    else this.rng ??= fresh();
    return this.rng;
  }

  /** The value carried under `key`, or undefined. */
  get<T extends Carried>(key: string): T | undefined {
    return this.carried.get(key) as T | undefined;
  }

  /** Carries `value` under `key` (undefined removes it); a different value held before is disposed. */
  set(key: string, value: Carried | undefined): void {
    const old = this.carried.get(key);
    if (old !== undefined && old !== value) disposeCarried(old);
    if (value === undefined) this.carried.delete(key);
    else this.carried.set(key, value);
  }

  /**
   * The Adam optimiser of this training (genlab's fused Adam, see {@link adamFor}) under `key` (a model with two
   * optimisers, like the GAN's D and G, uses two keys): the carried one, with its moment estimates and step count,
   * while the learning rate stays the same; a new one when it changes.
   * @param betas Adam's beta1 and beta2 (default 0.9 and 0.999; the GAN's 0.5 and 0.999).
   */
  adam(learningRate: number, epsilon: number, betas: { beta1?: number; beta2?: number } = {}, key = 'adam'): tf.Optimizer {
    const current = this.get<tf.Optimizer>(key) ?? null;
    const next = adamFor(current, this.rates.get(key) ?? NaN, learningRate, epsilon, betas.beta1, betas.beta2); // disposes `current` when replacing it
    if (next !== current) this.carried.set(key, next);
    this.rates.set(key, learningRate);
    return next;
  }

  /**
   * Drops everything carried (optimisers, chains) but keeps the counters and the generator: after a diverged fit,
   * whose optimiser moments may hold NaN, the next fit starts them afresh and continues the epoch numbering.
   */
  dropCarried(): void {
    for (const value of this.carried.values()) disposeCarried(value);
    this.carried.clear();
    this.rates.clear();
  }

  /** Starts afresh: counters to 0, no generator, every carried tensor and optimiser disposed. */
  reset(): void {
    this.dropCarried();
    this.epoch = 0;
    this.step = 0;
    this.rng = null;
  }

  /** Frees what is carried (the model is being disposed). */
  dispose(): void {
    this.reset();
  }
}
