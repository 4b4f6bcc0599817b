/**
 * Faster paths on the native TensorFlow backend (engine/tensorflow-native.ts), found by profiling genlab's training
 * epochs there (bench/RESULTS.md, issue 12 item 6). Every tfjs op on this backend is one eager `TFE_Execute`
 * through tfjs-node's N-API binding (about 10 us of CPU) plus TensorFlow.js's own bookkeeping (another 5-10 us), and
 * every intermediate is a full-size tensor. So the levers are fewer ops per batch:
 *
 * - {@link resourceAdamStep}: Adam as TensorFlow's fused `ResourceApplyAdam` (one kernel per variable, updating
 *   the parameter and both moments in place) on resource variables created through the binding, instead of
 *   tfjs's 14 elementwise ops and 4 scalar uploads per variable.
 * - {@link registerTensorflowKernels}: `Step` with alpha 0 (every ReLU gradient `dy * step(y)` of tfjs' fused
 *   layers) as `Sign(Relu(x))` run on the binding directly (2 TensorFlow ops, no tfjs intermediates), instead of
 *   tfjs-node's 7 (or the 4 of the kernel it replaces, which stays for alpha != 0).
 *
 * Only the binding's public surface is used (`executeOp`, `deleteTensor`, the backend's `getInputTensorIds` and
 * `createOutputTensor`): the same calls tfjs-node's own kernels make.
 */
import { tf } from './tf';

/** One attribute of a TensorFlow op, as tfjs-node's binding takes it. */
interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

/** What `executeOp` returns per output. */
interface OutputInfo {
  id: number;
  shape: number[];
  dtype: number;
}

/** The part of tfjs-node's N-API binding used here. */
interface TfBinding {
  executeOp(name: string, attrs: OpAttr[], inputIds: number[], numOutputs: number): OutputInfo[];
  deleteTensor(id: number): void;
  /** genlab's binding addition (native/tensorflow/genlab_graph.cc): a variable's shape, for recordings. */
  graphResourceShape?(id: number, dtype: number, shape: number[]): void;
  TF_ATTR_TYPE: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_STRING: number;
  TF_ATTR_SHAPE: number;
  TF_FLOAT: number;
}

/** The part of tfjs-node's NodeJSKernelBackend used here. */
interface NodeBackend {
  binding: TfBinding;
  getInputTensorIds(tensors: Array<tf.Tensor | tf.TensorInfo>): number[];
  createOutputTensor(info: OutputInfo): tf.Tensor;
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: Array<tf.Tensor | tf.TensorInfo>): tf.Tensor;
}

/** The active backend when it is the native TensorFlow one, else null. */
function nodeBackend(): NodeBackend | null {
  if (tf.getBackend() !== 'tensorflow') return null;
  const be = tf.backend() as unknown as Partial<NodeBackend>;
  return be.binding && typeof be.binding.executeOp === 'function' ? (be as NodeBackend) : null;
}

const floatAttr = (b: TfBinding, name = 'T'): OpAttr => ({ name, type: b.TF_ATTR_TYPE, value: b.TF_FLOAT });

// ---------------------------------------------------------------------------------------------------------
// Step

let stepReplaced = false;

/**
 * Replaces the 'tensorflow' backend's `Step` kernel (idempotent; after tfjs-node's kernels are registered). For
 * float32 input and alpha 0, step(x) = Sign(Relu(x)): 1 where x > 0, 0 where x <= 0 (Relu(-0) = -0, Sign(-0) = 0),
 * NaN where x is NaN (both ops propagate it), as tfjs defines step; 2 TensorFlow ops on the binding, the
 * intermediate freed at once. Otherwise (alpha != 0, other dtypes): where(isNaN(x), x, cast(x > 0) (1 - alpha) +
 * alpha), 4-5 ops, still fewer than tfjs-node's 7 with two full-size constants. test/tensorflow.test.ts checks both
 * against the cpu backend, NaN and -0 included.
 */
export function registerTensorflowKernels(): void {
  const step = tf.getKernel('Step', 'tensorflow');
  if (!step || stepReplaced) return;
  stepReplaced = true;
  tf.unregisterKernel('Step', 'tensorflow');
  tf.registerKernel({
    ...step,
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      const alpha = (args.attrs as { alpha?: number }).alpha ?? 0;
      const be = args.backend as unknown as NodeBackend;
      if (x.dtype === 'float32' && alpha === 0 && be.binding) {
        const b = be.binding;
        const T = [floatAttr(b)];
        const [relu] = b.executeOp('Relu', T, be.getInputTensorIds([x]), 1);
        try {
          return be.createOutputTensor(b.executeOp('Sign', T, [relu.id], 1)[0]);
        } finally {
          b.deleteTensor(relu.id);
        }
      }
      if (x.dtype !== 'float32' || !(x instanceof tf.Tensor)) return step.kernelFunc(args);
      return tf.tidy(() => {
        const positive = tf.cast(tf.greater(x, 0), 'float32');
        const stepped = alpha === 0 ? positive : tf.add(tf.mul(positive, 1 - alpha), alpha);
        return tf.where(tf.isNaN(x), x, stepped);
      });
    },
  });
}

// ---------------------------------------------------------------------------------------------------------
// Adam on resource variables

/**
 * TensorFlow's name for an anonymous resource (ResourceHandle::ANONYMOUS_NAME): each VarHandleOp with it makes a
 * new variable, freed when its last handle is deleted (as TensorFlow's eager Python variables do).
 */
const ANONYMOUS = 'cd2c89b7-88b7-44c8-ad83-06c2a9158347';

/** The three resource variables behind one parameter's Adam update. */
export interface AdamResourceSlot {
  /** The parameter's name (tf.engine().registeredVariables key). */
  name: string;
  /** Resource handles (dtype 'string', shape []) of the parameter copy, the first and the second moment. */
  x: tf.Tensor;
  m: tf.Tensor;
  v: tf.Tensor;
  /** The parameter's dataId when the resource last matched it (else someone assigned it: reload). */
  valueId: object;
}

/** Hyper-parameters and moments of one Adam optimiser, as tfjs's AdamOptimizer keeps them. */
export interface AdamLike {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** beta1^t, beta2^t of the coming step t (tfjs starts them at beta and multiplies after each step). */
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  /** tfjs's moment variables by gradient position (read when a slot is created; see syncAdamMoments). */
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
}

function varHandle(be: NodeBackend, shape: number[]): tf.Tensor {
  const b = be.binding;
  return be.executeSingleOutput('VarHandleOp', [
    { name: 'container', type: b.TF_ATTR_STRING, value: '' },
    { name: 'shared_name', type: b.TF_ATTR_STRING, value: ANONYMOUS },
    floatAttr(b, 'dtype'),
    { name: 'shape', type: b.TF_ATTR_SHAPE, value: shape },
  ], []);
}

function assignVariable(be: NodeBackend, handle: tf.Tensor, value: tf.Tensor): void {
  be.binding.executeOp('AssignVariableOp', [floatAttr(be.binding, 'dtype')], be.getInputTensorIds([handle, value]), 0);
}

function readVariable(be: NodeBackend, handle: tf.Tensor): tf.Tensor {
  return be.executeSingleOutput('ReadVariableOp', [floatAttr(be.binding, 'dtype')], [handle]);
}

/**
 * One Adam step on the native TensorFlow backend, or false when that backend is not active (the caller then runs
 * its own update). For each parameter with a gradient, TensorFlow's `ResourceApplyAdam` updates resource copies
 * of the parameter and its moments in one kernel, and the parameter's tfjs variable then takes the new value
 * (`ReadVariableOp`: it shares the buffer, so no copy; the next step's update copies it once before writing,
 * TensorFlow's copy-on-write, because tfjs still holds it).
 *
 * The maths is tf.train.adam's (Kingma & Ba 2015), with c1 = 1 - beta1^t, c2 = 1 - beta2^t:
 *   m' = b1 m + (1 - b1) g,  v' = b2 v + (1 - b2) g^2,  x' = x - lr (m' / c1) / (sqrt(v' / c2) + eps).
 * TensorFlow's kernel computes x' = x - lr sqrt(c2) / c1 * m' / (sqrt(v') + eps'), which is the same update when
 * eps' = eps sqrt(c2); that is what it is given. Results equal tfjs's update to float rounding (not bit for bit:
 * the operations are ordered differently), and are deterministic, so resumed fits still match (test/train.test.ts).
 *
 * `slots` (by gradient position) persist across steps; a parameter assigned from elsewhere since the last step is
 * reloaded. Moments live in the resources only: call {@link syncAdamMoments} before reading tfjs's moment
 * variables (getWeights), and drop the slots after setting them (setWeights).
 */
export function resourceAdamStep(
  opt: AdamLike,
  slots: Array<AdamResourceSlot | undefined>,
  names: string[],
  gradient: (i: number) => tf.Tensor | undefined,
): boolean {
  const be = nodeBackend();
  if (!be) return false;
  const c2 = 1 - opt.accBeta2.dataSync()[0]; // 1 - beta2^t (one scalar read per step)
  tf.tidy(() => {
    const scalars = [opt.learningRate, opt.beta1, opt.beta2, opt.epsilon * Math.sqrt(c2)].map((s) => tf.scalar(s, 'float32'));
    const shared = be.getInputTensorIds([opt.accBeta1, opt.accBeta2, ...scalars]); // beta1^t, beta2^t, lr, b1, b2, eps'
    const held = prepareAdamSlots(be, opt, slots, names, (i) => gradient(i) != null);
    names.forEach((name, i) => {
      const g = gradient(i);
      const slot = held[i];
      if (g == null || !slot) return;
      const value = tf.engine().registeredVariables[name];
      value.assign(applyResourceAdam(be, slot, shared, g));
      slot.valueId = value.dataId;
    });
    opt.accBeta1.assign(tf.mul(opt.accBeta1, opt.beta1));
    opt.accBeta2.assign(tf.mul(opt.accBeta2, opt.beta2));
  });
  return true;
}

/**
 * `ResourceApplyAdam` on one slot with gradient `g` and the shared scalars' ids (beta1^t, beta2^t, lr, b1, b2, eps');
 * returns the parameter's new value (`ReadVariableOp`). In a recording, the slot's variable shape is declared first
 * so the read has a known shape.
 */
function applyResourceAdam(be: NodeBackend, slot: AdamResourceSlot, shared: number[], g: tf.Tensor): tf.Tensor {
  const b = be.binding;
  const [xh, mh, vh, gid] = be.getInputTensorIds([slot.x, slot.m, slot.v, g]);
  b.graphResourceShape?.(xh, b.TF_FLOAT, g.shape);
  const attrs = [floatAttr(b), { name: 'use_locking', type: b.TF_ATTR_BOOL, value: false }, { name: 'use_nesterov', type: b.TF_ATTR_BOOL, value: false }];
  b.executeOp('ResourceApplyAdam', attrs, [xh, mh, vh, ...shared, gid], 0);
  return readVariable(be, slot.x);
}

/**
 * The resource variables of the parameters `names` (those `wanted`), created on first use and reloaded from the
 * parameter when someone assigned it since the last step. Runs op by op (also before a compiled step).
 */
function prepareAdamSlots(
  be: NodeBackend,
  opt: AdamLike,
  slots: Array<AdamResourceSlot | undefined>,
  names: string[],
  wanted: (i: number) => boolean,
): Array<AdamResourceSlot | undefined> {
  tf.tidy(() => {
    names.forEach((name, i) => {
      if (!wanted(i)) return;
      const value = tf.engine().registeredVariables[name];
      let slot = slots[i];
      if (slot && slot.name !== name) {
        disposeSlot(slot);
        slot = undefined;
      }
      if (!slot) {
        const moment = (held: AdamLike['accumulatedFirstMoment'][number]) => {
          const h = varHandle(be, value.shape);
          assignVariable(be, h, held?.variable ?? tf.zerosLike(value));
          return h;
        };
        slot = { name, x: varHandle(be, value.shape), m: moment(opt.accumulatedFirstMoment[i]), v: moment(opt.accumulatedSecondMoment[i]), valueId: {} };
        tf.keep(slot.x);
        tf.keep(slot.m);
        tf.keep(slot.v);
        slots[i] = slot;
      }
      if (slot.valueId !== value.dataId) assignVariable(be, slot.x, value);
    });
  });
  return slots;
}

/**
 * Adam inside a compiled step (train/loop.ts `CompiledGradientStep`), in three parts around the recorded call:
 * - {@link prepareCompiledAdam} (op by op, before each call): the resource variables exist and hold the parameters;
 *   false when the native backend is not active;
 * - {@link recordAdamUpdate} (inside the recording): `ResourceApplyAdam` per parameter as {@link resourceAdamStep}
 *   does, returning the new parameter values and the next beta powers instead of assigning them (a recording may
 *   not assign); eps' = eps sqrt(1 - beta2^t) is computed in the function from the beta power it is fed;
 * - {@link finishCompiledAdam} (after the call): assigns what the call returned.
 * Ops on one resource keep their order in the function (genlab_graph.cc adds the control edges).
 */
export function prepareCompiledAdam(opt: AdamLike, slots: Array<AdamResourceSlot | undefined>, names: string[]): boolean {
  const be = nodeBackend();
  if (!be) return false;
  prepareAdamSlots(be, opt, slots, names, () => true);
  return true;
}

/** See {@link prepareCompiledAdam}. Returns [...new parameter values, beta1^(t+1), beta2^(t+1)]. */
export function recordAdamUpdate(opt: AdamLike, slots: Array<AdamResourceSlot | undefined>, grads: tf.Tensor[]): tf.Tensor[] {
  const be = nodeBackend();
  if (!be) throw new Error('recordAdamUpdate needs the native TensorFlow backend');
  const epsT = tf.mul(tf.sqrt(tf.sub(1, opt.accBeta2)), opt.epsilon); // eps sqrt(1 - beta2^t)
  const scalars = [opt.accBeta1, opt.accBeta2, tf.scalar(opt.learningRate), tf.scalar(opt.beta1), tf.scalar(opt.beta2), epsT];
  const shared = be.getInputTensorIds(scalars);
  const values = grads.map((g, i) => {
    const slot = slots[i];
    if (!slot) throw new Error(`recordAdamUpdate: no resource variables for parameter ${i} (call prepareCompiledAdam first)`);
    return applyResourceAdam(be, slot, shared, g);
  });
  return [...values, tf.mul(opt.accBeta1, opt.beta1), tf.mul(opt.accBeta2, opt.beta2)];
}

/** See {@link prepareCompiledAdam}: `outputs` is what {@link recordAdamUpdate} returned, from the call. */
export function finishCompiledAdam(opt: AdamLike, slots: Array<AdamResourceSlot | undefined>, names: string[], outputs: tf.Tensor[]): void {
  names.forEach((name, i) => {
    const value = tf.engine().registeredVariables[name];
    value.assign(outputs[i]);
    slots[i]!.valueId = value.dataId;
  });
  opt.accBeta1.assign(outputs[names.length]);
  opt.accBeta2.assign(outputs[names.length + 1]);
}

/** Frees a slot's resource variables. */
export function disposeSlot(slot: AdamResourceSlot): void {
  tf.dispose([slot.x, slot.m, slot.v]);
}

/**
 * Copies the moments held in resource variables into tfjs's moment variables (created when missing), so that
 * AdamOptimizer.getWeights (checkpoints, tests) sees the current state.
 */
export function syncAdamMoments(opt: AdamLike, slots: Array<AdamResourceSlot | undefined>): void {
  const be = nodeBackend();
  slots.forEach((slot, i) => {
    if (!slot || !be) return;
    for (const [list, handle, suffix] of [[opt.accumulatedFirstMoment, slot.m, 'm'], [opt.accumulatedSecondMoment, slot.v, 'v']] as const) {
      const current = tf.tidy(() => readVariable(be, handle));
      const held = list[i];
      if (held) {
        held.variable.assign(current);
        current.dispose();
      } else {
        list[i] = { originalName: `${slot.name}/${suffix}`, variable: tf.variable(current, false) };
        current.dispose();
      }
    }
  });
}
