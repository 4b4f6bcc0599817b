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
 *   function as a constant when it is recorded. So no random draws inside: draw them outside and pass them in;
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
}

interface NodeBackend {
  binding: GraphBinding;
  getInputTensorIds(tensors: Array<tf.Tensor | tf.TensorInfo>): number[];
  createOutputTensor(info: OutputInfo): tf.Tensor;
}

/** The native backend when it is active and its binding can record graphs, else null. */
function recordingBackend(): NodeBackend | null {
  if ((process.env[COMPILE_ENV_VAR] ?? '') === '0' || tf.getBackend() !== 'tensorflow') return null;
  const be = tf.backend() as unknown as Partial<NodeBackend>;
  return be.binding && typeof be.binding.graphBegin === 'function' ? (be as NodeBackend) : null;
}

/** True when compiled functions run as TensorFlow functions here (native backend with genlab's binding). */
export function compilationAvailable(): boolean {
  return recordingBackend() !== null;
}

/** Thrown inside a recording when the function reads a recorded value back. */
class ReadBackError extends Error {}

/** Where each input of a recorded function comes from at call time. */
type Feed = { kind: 'input'; index: number } | { kind: 'variable'; variable: tf.Variable } | { kind: 'fixed'; id: number };

interface Recorded {
  name: string;
  feeds: Feed[];
  numOutputs: number;
}

let functionCounter = 0;

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
          if (id < 0) throw new ReadBackError('it reads a value back (dataSync/array) while being recorded');
          return b.tensorDataSync(id);
        },
      },
    }) as GraphBinding;
    be.binding = recorder;
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
      return { name, feeds, numOutputs: outputs.length };
    } catch (e) {
      if (!(e instanceof ReadBackError) && !(e instanceof Error && e.message.startsWith('genlab graph:'))) throw e;
      return `${this.label} could not be recorded as a TensorFlow function (${e.message}); it runs op by op`;
    } finally {
      if (!finished) b.graphAbort!();
      be.binding = b;
    }
  }

  /** Unregisters its TensorFlow functions. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const be = recordingBackend();
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
