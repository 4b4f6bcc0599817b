/**
 * Compiled steps: a function of tensors recorded once and run as one TensorFlow function on the native backend.
 *
 * On the `tensorflow` backend each tfjs op is one eager TensorFlow op. A VAE step is about 270 of them, each
 * dispatched from JavaScript, and with two threads each hands its work to TensorFlow's thread pool and waits
 * (bench/RESULTS.md, issue 12). {@link compileFunction} records the ops of one call into a TensorFlow graph
 * instead of running them (through genlab's addition to the binding, native/tensorflow/genlab_graph.cc), turns
 * the graph into a TensorFlow function, and runs later calls as that one op: TensorFlow optimises the graph
 * (Grappler fuses, folds and prunes) and runs independent ops in parallel, as Keras' compiled steps do.
 *
 * The contract of a compiled function `fn(inputs) -> outputs`:
 * - everything that changes between calls is an input tensor (the batch, the noise, a scheduled weight as a
 *   scalar tensor); tfjs variables are read at each call (their current values are fed in);
 * - any other tensor it uses, including those it makes from JavaScript values (`tf.scalar(2)`), is frozen into the
 *   function as a constant when it is recorded. So no random draws inside: draw them outside and pass them in
 *   (tfjs draws `tf.randomNormal` and dropout masks in JavaScript: a recording that makes a tensor of more than 64
 *   differing values from JavaScript stops, and the function runs op by op);
 * - it does not assign variables or read values back (`dataSync`); it returns its results.
 * One recording is made per input signature (shapes and dtypes: a last, smaller batch gets its own).
 *
 * Elsewhere (the `wasm` and `cpu` backends, a binding built before genlab's addition, `GENLAB_COMPILE=0`) `fn`
 * simply runs. A recording that fails (an op TensorFlow cannot place in a graph, an unknown shape, a read-back)
 * is dropped, and that function then runs eagerly from then on, with the reason in {@link CompiledFunction.fallback}.
 */
import { tf } from './tf';

/** Environment variable: `0` turns compilation off (every compiled function runs op by op). */
export const COMPILE_ENV_VAR = 'GENLAB_COMPILE';

/** What executeOp (and graphOp) return per output. */
interface OutputInfo {
  id: number;
  shape: number[];
  dtype: number;
}

/** The binding calls used here: tfjs-node's own and genlab's addition. */
interface GraphBinding {
  executeOp(name: string, attrs: unknown[], inputIds: number[], numOutputs: number): OutputInfo[];
  deleteTensor(id: number): void;
  tensorDataSync(id: number): unknown;
  graphBegin?(feedableIds: number[]): void;
  graphOp?(name: string, attrs: unknown[], inputIds: number[], numOutputs: number): OutputInfo[];
  graphEnd?(functionName: string, outputIds: number[]): number[];
  graphAbort?(): void;
  removeFunction?(functionName: string): void;
  TF_ATTR_INT: number;
  TF_ATTR_TYPE: number;
  TF_FLOAT: number;
  TF_INT32: number;
}

interface NodeBackend {
  binding: GraphBinding;
  executeSingleOutput(name: string, attrs: unknown[], inputs: Array<tf.Tensor | tf.TensorInfo>): tf.TensorInfo;
  /** Stores values made in JavaScript (a new tensor); uploaded to TensorFlow on first use. */
  write(values: ArrayLike<unknown>, shape: number[], dtype: string): object;
  getInputTensorIds(tensors: Array<tf.Tensor | tf.TensorInfo>): number[];
  createOutputTensor(info: OutputInfo): tf.Tensor;
}

/** The native backend when it is active and its binding can record graphs, else null. */
function graphBackend(): NodeBackend | null {
  if (tf.getBackend() !== 'tensorflow') return null;
  const be = tf.backend() as unknown as Partial<NodeBackend>;
  return be.binding && typeof be.binding.graphBegin === 'function' ? (be as NodeBackend) : null;
}

/** {@link graphBackend} unless compilation is turned off (`GENLAB_COMPILE=0`). */
function recordingBackend(): NodeBackend | null {
  return (process.env[COMPILE_ENV_VAR] ?? '') === '0' ? null : graphBackend();
}

/** True when compiled functions run as TensorFlow functions here (native backend with genlab's binding). */
export function compilationAvailable(): boolean {
  return recordingBackend() !== null;
}

/** Thrown inside a recording when the function breaks the contract (a read-back, values made from JavaScript). */
class RecordingError extends Error {}

/**
 * Largest tensor (elements) with differing values that may be made from JavaScript while a function is recorded.
 * Such a tensor is frozen into the function: small ones are shape vectors and scalars, fills (tfjs' gradients make
 * `ones`) are constants, but a large varied one is most likely a random draw (tfjs draws `randomUniform`, dropout
 * masks and the like in JavaScript) that must not repeat at every call, so the recording stops and the function
 * runs op by op.
 */
const MAX_FROZEN_ELEMENTS = 64;

/** True when every value equals the first (a fill such as tfjs' `ones` in gradients: a true constant). */
function allEqual(values: ArrayLike<unknown>): boolean {
  for (let i = 1; i < values.length; i++) if (values[i] !== values[0]) return false;
  return true;
}

/**
 * GatherV2 as it is recorded. tfjs-node's kernel reads the indices back to check their bounds before it runs the op:
 * in a recording the indices may be values the function computes (the DDPM gathers sqrt(alphaBar_t) and the time
 * embedding by its batch's t, itself gathered by row), which do not exist yet, and checking an input's values would
 * vouch for the recording call only. So the recorded op goes to TensorFlow unchecked here, and TensorFlow's CPU
 * kernel checks the bounds whenever the function runs (an error naming the index); other dtypes (none in genlab)
 * keep tfjs-node's kernel.
 */
function recordedGather(be: NodeBackend, original: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims: number };
    const b = be.binding;
    const types: Record<string, number> = { float32: b.TF_FLOAT, int32: b.TF_INT32 };
    if (!(x.dtype in types) || indices.dtype !== 'int32') return original.kernelFunc(args);
    const attrs = [
      { name: 'batch_dims', type: b.TF_ATTR_INT, value: batchDims },
      { name: 'Tparams', type: b.TF_ATTR_TYPE, value: types[x.dtype] },
      { name: 'Tindices', type: b.TF_ATTR_TYPE, value: b.TF_INT32 },
      { name: 'Taxis', type: b.TF_ATTR_TYPE, value: b.TF_INT32 },
    ];
    const axisTensor = tf.scalar(axis, 'int32'); // frozen into the function as a constant
    try {
      return be.executeSingleOutput('GatherV2', attrs, [x, indices, axisTensor]);
    } finally {
      axisTensor.dispose();
    }
  };
}

/** How many recordings were made and how many failed, in this process (for tests and benchmarks). */
export const compileStats = { recordings: 0, fallbacks: 0 };

/** Where each input of a recorded function comes from at call time. */
type Feed = { kind: 'input'; index: number } | { kind: 'variable'; variable: tf.Variable } | { kind: 'fixed'; id: number };

interface Recorded {
  name: string;
  feeds: Feed[];
  numOutputs: number;
}

let functionCounter = 0;

/** Registers `kernelFunc` in place of `config`'s (same kernel name and backend). */
function swapKernel(config: tf.KernelConfig, kernelFunc: tf.KernelFunc): void {
  tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel({ ...config, kernelFunc });
}

/** A function of tensors compiled per input signature; see the file comment. Create with {@link compileFunction}. */
export class CompiledFunction {
  private readonly recorded = new Map<string, Recorded>();
  private reason: string | null = null;
  private disposed = false;

  /** @param fn the function (pure in the sense of the file comment). @param label names it in messages. */
  constructor(
    private readonly fn: (inputs: tf.Tensor[]) => tf.Tensor[],
    readonly label: string,
  ) {}

  /**
   * Why this function runs op by op although the native backend is active (its recording failed), or null. Not
   * set on other backends, where running op by op is the normal case.
   */
  get fallback(): string | null {
    return this.reason;
  }

  /** How many recordings (input signatures) this function holds. */
  get recordings(): number {
    return this.recorded.size;
  }

  /** Runs the function on `inputs`; returns its outputs (new tensors, tracked by the surrounding tidy as usual). */
  call(inputs: tf.Tensor[]): tf.Tensor[] {
    if (this.disposed) throw new Error(`compiled function '${this.label}' was disposed`);
    const be = recordingBackend();
    if (!be || this.reason !== null) return this.fn(inputs);
    const key = inputs.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(' ');
    let rec = this.recorded.get(key);
    if (!rec) {
      const made = this.record(be, inputs);
      if (typeof made === 'string') {
        this.reason = made;
        return this.fn(inputs);
      }
      rec = made;
      this.recorded.set(key, rec);
    }
    const inputIds = be.getInputTensorIds(inputs);
    const ids = rec.feeds.map((f) => {
      if (f.kind === 'input') return inputIds[f.index];
      if (f.kind === 'fixed') return f.id;
      if (f.variable.isDisposed) throw new Error(`compiled function '${this.label}': variable '${f.variable.name}' was disposed`);
      return be.getInputTensorIds([f.variable])[0];
    });
    return be.binding.executeOp(rec.name, [], ids, rec.numOutputs).map((info) => be.createOutputTensor(info));
  }

  /** Records `fn` on `inputs` into a registered TensorFlow function, or returns why it could not. */
  private record(be: NodeBackend, inputs: tf.Tensor[]): Recorded | string {
    const b = be.binding;
    const variables = Object.values(tf.engine().registeredVariables);
    const inputIds = be.getInputTensorIds(inputs); // uploads them now, so they are eager tensors, not constants
    const variableIds = be.getInputTensorIds(variables);
    const before = variables.map((v) => v.dataId);
    const name = `genlab_${this.label.replace(/[^A-Za-z0-9_]/g, '_')}_${functionCounter++}`;
    b.graphBegin!([...inputIds, ...variableIds]);
    let finished = false;
    // While recording, the backend talks to a stand-in for the binding (the binding's own properties are read-only):
    // ops go into the graph, recorded tensors (ids < 0) are not the binding's to delete, and a read-back stops it.
    const recorder = Object.create(b as object, {
      executeOp: { value: (op: string, attrs: unknown[], ids: number[], n: number) => b.graphOp!(op, attrs, ids, n) },
      deleteTensor: {
        value: (id: number) => {
          if (id >= 0) b.deleteTensor(id);
        },
      },
      tensorDataSync: {
        value: (id: number) => {
          if (id < 0) throw new RecordingError('it reads a value back (dataSync/array) while being recorded');
          return b.tensorDataSync(id);
        },
      },
    }) as GraphBinding;
    be.binding = recorder;
    const gather = tf.getKernel('GatherV2', 'tensorflow');
    if (gather) swapKernel(gather, recordedGather(be, gather));
    // Tensors made from JavaScript values while recording are frozen into the function: refuse large ones.
    const write = be.write;
    const ownWrite = Object.prototype.hasOwnProperty.call(be, 'write');
    be.write = (values, shape, dtype) => {
      if (values.length > MAX_FROZEN_ELEMENTS && !allEqual(values)) {
        throw new RecordingError(
          `it makes a tensor of ${values.length} values from JavaScript (shape [${shape.join(', ')}]) while being recorded, which would ` +
            'freeze them into the function (a random draw would repeat at every call); pass such values as inputs',
        );
      }
      return write.call(be, values, shape, dtype);
    };
    try {
      // Recorded values never leave the recording: the outputs (which may include kept tensors) are freed here.
      const outputs = tf.tidy(() => this.fn(inputs));
      let fed: number[];
      try {
        const changed = variables.filter((v, i) => v.dataId !== before[i]).map((v) => v.name);
        if (changed.length > 0) {
          // A programming error in genlab's step, not a case to fall back from: the variables now point at graph values.
          throw new Error(`compiled function '${this.label}' assigned variables while recorded (${changed.join(', ')}); return the new values instead`);
        }
        fed = b.graphEnd!(name, be.getInputTensorIds(outputs));
        finished = true;
      } finally {
        tf.dispose(outputs);
      }
      const feeds: Feed[] = fed.map((id) => {
        const i = inputIds.indexOf(id);
        if (i >= 0) return { kind: 'input', index: i };
        const v = variableIds.indexOf(id);
        if (v >= 0) return { kind: 'variable', variable: variables[v] };
        return { kind: 'fixed', id };
      });
      compileStats.recordings++;
      return { name, feeds, numOutputs: outputs.length };
    } catch (e) {
      if (!(e instanceof RecordingError) && !(e instanceof Error && e.message.startsWith('genlab graph:'))) throw e;
      compileStats.fallbacks++;
      return `${this.label} could not be recorded as a TensorFlow function (${e.message}); it runs op by op`;
    } finally {
      if (!finished) b.graphAbort!();
      be.binding = b;
      if (gather) swapKernel(gather, gather.kernelFunc);
      if (ownWrite) be.write = write;
      else delete (be as Partial<NodeBackend>).write;
    }
  }

  /** Unregisters its TensorFlow functions. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const be = graphBackend();
    for (const rec of this.recorded.values()) be?.binding.removeFunction?.(rec.name);
    this.recorded.clear();
  }
}

/**
 * Compiles `fn` (see the file comment for its contract): on the native TensorFlow backend each input signature is
 * recorded once into a TensorFlow function and later calls run it as one op; elsewhere `fn` runs as it is.
 */
export function compileFunction(fn: (inputs: tf.Tensor[]) => tf.Tensor[], label = 'step'): CompiledFunction {
  return new CompiledFunction(fn, label);
}
