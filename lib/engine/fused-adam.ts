/**
 * Adam with the per-variable update fused: genlab's fused kernel (engine/kernels/adam.ts) on the wasm and cpu
 * backends with the addon, TensorFlow's own `ResourceApplyAdam` on the native backend (engine/tensorflow-ops.ts),
 * tfjs's own update elsewhere.
 */
import { tf } from './tf';
import { FUSED_ADAM_KERNEL } from './kernels/adam';
import { AdamResourceSlot, AdamLike, disposeSlot, finishCompiledAdam, prepareCompiledAdam, recordAdamUpdate, resourceAdamStep, syncAdamMoments } from './tensorflow-ops';

export { FUSED_ADAM_KERNEL };

/** What Optimizer.applyGradients accepts: a name -> gradient map or a list of named gradients. */
type VariableGradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];
type NamedGradient = { name: string; tensor: tf.Tensor };

/** The AdamOptimizer fields fused Adam shares with tfjs's own (same names, so getWeights/setWeights work). */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
}

/**
 * tf.train.adam with the per-variable update fused: one native kernel per variable on the 'wasm' and 'cpu' backends
 * (with the native addon), TensorFlow's own `ResourceApplyAdam` on the 'tensorflow' backend
 * (engine/tensorflow-ops.ts); elsewhere tfjs's own update (~14 elementwise kernels per variable). Same maths, same
 * state and weights (interchangeable with tf.AdamOptimizer); results equal to float rounding.
 */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  /**
   * `instanceof` by the prototype chain. tf.Optimizer answers `instanceof` by its methods, so every optimizer (a plain
   * SGD, tfjs's own Adam) would pass for a FusedAdamOptimizer and be handed its compiled update (train/loop.ts).
   */
  static override [Symbol.hasInstance](instance: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(this, instance);
  }

  /** Resource variables of the 'tensorflow' path, by gradient position (empty elsewhere). */
  private resourceSlots: Array<AdamResourceSlot | undefined> = [];

  override applyGradients(variableGradients: VariableGradients): void {
    const list = Array.isArray(variableGradients);
    const names = list ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const gradient = (i: number): tf.Tensor | undefined =>
      list ? (variableGradients as NamedGradient[])[i].tensor : (variableGradients as tf.NamedTensorMap)[names[i]];
    if (resourceAdamStep(this as unknown as AdamLike, this.resourceSlots, names, gradient)) {
      this.incrementIterations();
      return;
    }
    this.releaseResources(); // another backend now: the moments go back to tfjs's variables
    if (!tf.getKernel(FUSED_ADAM_KERNEL, tf.getBackend())) {
      super.applyGradients(variableGradients);
      return;
    }
    const state = this as unknown as AdamState;
    tf.tidy(() => {
      // Bias corrections c = 1 - beta^t from the same accumulators tfjs keeps (a scalar read: cheap on wasm/cpu).
      const c1 = 1 - state.accBeta1.dataSync()[0];
      const c2 = 1 - state.accBeta2.dataSync()[0];
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        const moment = (slot: AdamState['accumulatedFirstMoment'], suffix: string) =>
          (slot[i] ??= { originalName: `${name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) })
            .variable;
        const m = moment(state.accumulatedFirstMoment, 'm');
        const v = moment(state.accumulatedSecondMoment, 'v');
        const g = gradient(i);
        if (g == null) return;
        const [x2, m2, v2] = tf.engine().runKernel(
          FUSED_ADAM_KERNEL, { x: value, m, v, g },
          { lr: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, c1, c2 },
        ) as tf.Tensor[];
        m.assign(m2);
        v.assign(v2);
        value.assign(x2);
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }

  /** Moments held in TensorFlow resource variables copied back to tfjs's variables, and the resources freed. */
  private releaseResources(): void {
    if (this.resourceSlots.length === 0) return;
    syncAdamMoments(this as unknown as AdamLike, this.resourceSlots);
    this.dropResources();
  }

  /** Frees the resource variables without copying their moments back (tfjs's variables are current or replaced). */
  private dropResources(): void {
    if (this.resourceSlots.length > 0) this.slotGeneration++;
    this.resourceSlots.forEach((slot) => slot && disposeSlot(slot));
    this.resourceSlots = [];
  }

  /**
   * Internal (compiled steps, train/loop.ts): counts replacements of the resource variables; a recorded update
   * that captured the old ones is recorded again.
   */
  slotGeneration = 0;

  /**
   * Internal (compiled steps): before a recorded update of the variables `names` (in gradient order): their
   * resource variables exist and hold the current values. False when the native TensorFlow backend is not active.
   */
  prepareCompiledUpdate(names: string[]): boolean {
    return prepareCompiledAdam(this as unknown as AdamLike, this.resourceSlots, names);
  }

  /** Internal (compiled steps): the update inside the recording; returns [...new values, beta1^(t+1), beta2^(t+1)]. */
  recordUpdate(grads: tf.Tensor[]): tf.Tensor[] {
    return recordAdamUpdate(this as unknown as AdamLike, this.resourceSlots, grads);
  }

  /** Internal (compiled steps): takes what the recorded update returned, after the call. */
  finishCompiledUpdate(names: string[], outputs: tf.Tensor[]): void {
    finishCompiledAdam(this as unknown as AdamLike, this.resourceSlots, names, outputs);
    this.incrementIterations();
  }

  /** tfjs's weights (iterations, then the moments), current also when the moments live in resource variables. */
  override async getWeights(): ReturnType<tf.AdamOptimizer["getWeights"]> {
    syncAdamMoments(this as unknown as AdamLike, this.resourceSlots);
    return super.getWeights();
  }

  /** Sets tfjs's weights; resource copies are dropped and rebuilt from them on the next step. */
  override async setWeights(weightValues: Parameters<tf.AdamOptimizer["setWeights"]>[0]): Promise<void> {
    this.dropResources();
    await super.setWeights(weightValues);
  }

  override dispose(): void {
    this.dropResources();
    super.dispose();
  }
}

/**
 * Drop-in for `tf.train.adam(learningRate, beta1, beta2, epsilon)` whose update runs as one fused kernel per
 * variable on the WASM and CPU backends. Defaults as tf.train.adam: 0.001, 0.9, 0.999, 1e-7 (tf's default
 * epsilon on these backends).
 */
export function fusedAdam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number): tf.Optimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
