/**
 * One entry per model family for test/contract.test.ts: how to build a small model, the data it trains on, and
 * what its `fit` and `sample` take. Each family keeps its entry in its own file next to this one.
 */
import type { tf } from '../../lib/engine/tf';
import type { Model } from '../../lib/core/model';
import type { History } from '../../lib/train/loop';

/** What the contract test calls on every model (the public surface every family shares). */
export interface ContractModel extends Model {
  readonly dataShape: number[];
  fit(x: tf.Tensor, opts?: Record<string, unknown>): Promise<History>;
  save(dir: string): Promise<void>;
}

/** A generative model: `sample(n, opts)` resolves to `[n, ...dataShape]`. */
export interface ContractGenerative extends ContractModel {
  sample(n: number, opts?: { seed?: number }): Promise<tf.Tensor>;
}

export interface ContractCase {
  /** The family's class name, as in its error messages (`this GAN has been disposed`). */
  name: string;
  /** A small model, seeded. */
  build(seed: number): ContractModel;
  /** Loads what `save` wrote. */
  load(dir: string): Promise<ContractModel>;
  /** Valid training data (a few dozen rows), made inside the caller's scope. */
  data(): tf.Tensor;
  /** Options that make one epoch quick (batch size, a few steps, small settings); `progress: false` is added. */
  fitOptions: Record<string, unknown>;
  /** Whether `sample(n, opts)` exists (every family but the Autoencoder). */
  generative: boolean;
}
