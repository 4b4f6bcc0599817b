/**
 * Faster kernels registered on the TensorFlow.js backends genlab runs on.
 *
 * Why: profiling CD-1 and VAE training on the WASM backend (bench/RESULTS.md) shows the matrix products
 * dominate, and the WASM `BatchMatMul` with `transposeA`/`transposeB` set is 8-15x slower than transposing
 * explicitly first. TensorFlow.js lets a program replace a backend's kernel (`tf.registerKernel`), so
 * {@link registerFastKernels} swaps in:
 *
 * - `BatchMatMul` and `_FusedMatMul` on `wasm`: with the optional native addon (native/, OpenBLAS), the product
 *   runs as `cblas_sgemm` directly on the WASM heap (no copies; transposes handled by BLAS); without it, a
 *   transposed operand is transposed explicitly and the original kernel runs untransposed.
 * - `BatchMatMul` and `_FusedMatMul` on `cpu`: with the addon only (the pure-JS product is ~100x slower).
 * - `Conv2D`, `Conv2DBackpropInput` and `Conv2DBackpropFilter` on `wasm` and `cpu`: with the addon only,
 *   as im2col + `cblas_sgemm` (the WASM backend ships no `Conv2DBackpropFilter` at all).
 * - `Add`, `Multiply` (same shape, or a bias broadcast along leading axes), `Relu`, `Step` and `Softplus` of
 *   32768 values or more, on `wasm` and `cpu`: with the addon only, one threaded native pass each.
 * - `Cast` to the tensor's own dtype on `wasm`: shares the buffer (tfjs's ReLU gradient casts a float32 step).
 *
 * The addon runs every call on all cores by default: it cuts products, convolution helpers and elementwise
 * passes into parts on its own thread pool (OpenBLAS itself stays on one thread). WASM's own kernels stay
 * single-threaded in Node.
 *
 * Every replacement computes the same function as the kernel it replaces (test/kernels.test.ts compares them
 * on random shapes, transposes and batch dimensions); results differ only by float rounding.
 *
 * Environment: `GENLAB_FAST_KERNELS=0` disables all replacements, `GENLAB_NATIVE=0` disables only the
 * addon, `GENLAB_BLAS_THREADS=n` sets the addon's thread count (default: one per core, see FastKernelOptions).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from './tf';
import type { Random } from './random';
import { registerWasmConvGradients } from './wasm-conv-grad';
import { AdamResourceSlot, AdamLike, disposeSlot, finishCompiledAdam, prepareCompiledAdam, recordAdamUpdate, resourceAdamStep, syncAdamMoments } from './tensorflow-ops';

/** Options for {@link registerFastKernels}. */
export interface FastKernelOptions {
  /**
   * Use the native OpenBLAS addon when it has been built (native/, built at install when libopenblas-dev is
   * present). Default: true unless the environment sets `GENLAB_NATIVE=0`.
   */
  native?: boolean;
  /**
   * Threads for the addon's products, convolution helpers and large elementwise passes, an integer >= 1.
   * Default: `GENLAB_BLAS_THREADS` if set, else one per core (`os.availableParallelism()`). The addon splits
   * each call over its own small pool (OpenBLAS itself runs on one thread: its threading sped up few of these
   * shapes and slowed some 4x); idle workers sleep after 0.3 ms. Measured on two cores: the conv VAE epoch
   * 10.4 -> 7.1 s, the dense VAE and RBM about even (bench/RESULTS.md, "Both engines on two cores").
   */
  threads?: number;
}

/** What {@link registerFastKernels} did; also returned by {@link fastKernelReport}. */
export interface FastKernelReport {
  /** Whether any replacement is registered. */
  active: boolean;
  /** Replaced kernels as `backend/KernelName`, e.g. `wasm/BatchMatMul`. Empty when none. */
  kernels: string[];
  /** Whether products run through the native OpenBLAS addon. */
  native: boolean;
  /** The addon's thread count when `native`, else 0. */
  threads: number;
  /** One line for people: what is active, or why the addon is not (e.g. "addon not built: ..."). */
  note: string;
}

// ---------------------------------------------------------------------------------------------------------
// The native addon (optional)

/** The functions native/src/genlab_native.c exports. */
interface NativeAddon {
  /** Batched row-major C_i[m,n] = op(A_i) op(B_i); strides of 0 broadcast; arrays may alias (one heap). */
  sgemm(
    A: Float32Array, aOff: number, aStride: number,
    B: Float32Array, bOff: number, bStride: number,
    C: Float32Array, cOff: number,
    batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean,
    alpha?: number, beta?: number,
  ): void;
  /** out[i] = 1 if u_i < p[i] else 0, u from genlab's xoshiro128** whose state (Int32Array(4)) advances in place. */
  bernoulli(state: Int32Array, p: Float32Array, pOff: number, out: Float32Array, outOff: number, n: number): void;
  uniform(state: Int32Array, out: Float32Array, outOff: number, n: number): void;
  /**
   * One threaded pass: op 0 add, 1 multiply (b repeats with `period`), 2 relu, 3 step(alpha), 4 softplus
   * (b and period ignored).
   */
  elementwise(
    op: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number, period: number,
    out: Float32Array, outOff: number, n: number, alpha: number,
  ): void;
  /** Interface version of the build (see NATIVE_ABI). */
  abi?: number;
  /** NHWC im2col: cols[b*outH*outW, fH*fW*inC] from x[b,inH,inW,inC] (zero padding). */
  im2col(x: Float32Array, xOff: number, cols: Float32Array, geometry: Int32Array): void;
  /** NHWC col2im: dx[b,inH,inW,inC] = sum of cols[b*outH*outW, fH*fW*inC] scattered back (dx zeroed first). */
  col2im(cols: Float32Array, dx: Float32Array, dxOff: number, geometry: Int32Array): void;
  /** dst[b, c, r] = src[b, r, c] for src [batch, rows, cols] (4-byte elements). */
  transpose(src: Float32Array, srcOff: number, dst: Float32Array, dstOff: number, batch: number, rows: number, cols: number): void;
  /** dst[i, :] = src[idx[i], :]; false (nothing copied) when an index is outside [0, nRows). */
  gatherRows(
    src: Float32Array, srcOff: number, nRows: number, rowLen: number,
    idx: Int32Array, idxOff: number, nIdx: number, dst: Float32Array, dstOff: number,
  ): boolean;
  /** One fused Adam step: (x, m, v, g) -> (x2, m2, v2); params [lr, beta1, beta2, epsilon, c1, c2]. */
  adam(
    x: Float32Array, xo: number, m: Float32Array, mo: number, v: Float32Array, vo: number, g: Float32Array, go: number,
    x2: Float32Array, xo2: number, m2: Float32Array, mo2: number, v2: Float32Array, vo2: number,
    n: number, params: Float64Array,
  ): void;
  /** Threads for products, convolution helpers and elementwise passes (the addon's own pool; OpenBLAS runs on 1). */
  setThreads(n: number): void;
  getThreads(): number;
  config(): string;
}

let addon: NativeAddon | null | undefined; // undefined: not tried yet
/** The addon interface this file expects (native/src/genlab_native.c, GENLAB_NATIVE_ABI). */
const NATIVE_ABI = 4;
let addonNote = '';

/** Where scripts/build-native.js puts the addon, relative to this file (lib/ or dist/lib/). */
function addonCandidates(): string[] {
  const rel = path.join('native', 'build', 'Release', 'genlab_native.node');
  return [path.resolve(__dirname, '..', '..', '..', rel), path.resolve(__dirname, '..', '..', rel)]; // from dist/lib/engine, from lib/engine
}

function loadAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  const reasons: string[] = [];
  for (const file of addonCandidates()) {
    try {
      const lib = require(file) as NativeAddon; // eslint-disable-line @typescript-eslint/no-require-imports
      if (lib.abi !== NATIVE_ABI) {
        reasons.push(`${file} was built from older sources (interface ${lib.abi ?? 1}, need ${NATIVE_ABI}): rebuild it`);
        continue;
      }
      addon = lib;
      addonNote = `native OpenBLAS addon (${addon.config().trim()})`;
      return addon;
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0];
      reasons.push(msg.includes('Cannot find module') ? `${file} absent` : `${file}: ${msg}`);
    }
  }
  addonNote =
    'native addon not built (run `node scripts/build-native.js`; needs libopenblas-dev): ' + reasons[0];
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// Backend adapters: where a float32 tensor's values live, and how to allocate an output.

type TensorInfo = tf.TensorInfo;

interface WasmBackendLike {
  wasm: { HEAPF32: Float32Array; HEAP32: Int32Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: object): boolean;
}

interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): TensorInfo;
  disposeIntermediateTensorInfo(t: TensorInfo): void;
}

/** Uniform access to tensor memory on the wasm and cpu backends. */
interface Adapter {
  /** A float32 output tensor of this shape (contents unspecified). */
  alloc(shape: number[]): TensorInfo;
  /** The array holding `t`'s values and the index of its first value. Call after every alloc (heap moves). */
  view(t: TensorInfo): [Float32Array, number];
  /** Same for an int32 tensor. */
  viewInt(t: TensorInfo): [Int32Array, number];
  /** An output like `alloc` with any 4-byte dtype (its values are then written through `view`'s float bits). */
  allocAs(shape: number[], dtype: tf.DataType): TensorInfo;
  dispose(t: TensorInfo): void;
}

function adapterFor(backendName: string, backend: unknown): Adapter | null {
  if (backendName === 'wasm') {
    const b = backend as WasmBackendLike;
    const offset = (t: TensorInfo) => (b.dataIdMap.get(t.dataId) as { memoryOffset: number }).memoryOffset / 4;
    return {
      alloc: (shape) => b.makeOutput(shape, 'float32'),
      view: (t) => [b.wasm.HEAPF32, offset(t)],
      viewInt: (t) => [b.wasm.HEAP32, offset(t)],
      allocAs: (shape, dtype) => b.makeOutput(shape, dtype),
      dispose: (t) => void b.disposeData(t.dataId),
    };
  }
  if (backendName === 'cpu') {
    const b = backend as CpuBackendLike;
    return {
      alloc: (shape) => b.makeTensorInfo(shape, 'float32', new Float32Array(sizeOf(shape))),
      view: (t) => {
        const entry = b.data.get(t.dataId);
        const values = entry?.values;
        if (values instanceof Float32Array) return [values, 0];
        // A float32 tensor may still hold another typed array on the cpu backend (e.g. tf.cast of a bool tensor
        // keeps its Uint8Array): convert it once, in place, so the data matches its dtype from now on.
        if (!entry || !ArrayBuffer.isView(values)) throw new Error('genlab kernels: float32 values expected');
        const converted = Float32Array.from(values as unknown as ArrayLike<number>);
        entry.values = converted;
        return [converted, 0];
      },
      viewInt: (t) => {
        const values = b.data.get(t.dataId)?.values;
        if (!(values instanceof Int32Array)) throw new Error('genlab kernels: int32 values expected');
        return [values, 0];
      },
      // The cpu backend keeps other dtypes in other arrays: only float32 outputs are supported here.
      allocAs: (shape, dtype) => {
        if (dtype !== 'float32') throw new Error('genlab kernels: float32 expected');
        return b.makeTensorInfo(shape, 'float32', new Float32Array(sizeOf(shape)));
      },
      dispose: (t) => b.disposeIntermediateTensorInfo(t),
    };
  }
  return null;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

// ---------------------------------------------------------------------------------------------------------
// Kernel bodies

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Calls another kernel registered on the same backend (used to compose bias add and activations). */
function callKernel(
  name: string, backendName: string, backend: unknown, inputs: Record<string, TensorInfo>,
  attrs: Record<string, unknown> = {},
): TensorInfo {
  const config = tf.getKernel(name, backendName);
  if (!config) throw new Error(`genlab kernels: ${backendName} has no ${name} kernel`);
  return config.kernelFunc({ inputs, backend, attrs } as unknown as KernelArgs) as TensorInfo;
}

/** Product geometry of matMul(a, b, transposeA, transposeB), or null when batch broadcasting is general. */
function matMulGeometry(a: TensorInfo, b: TensorInfo, tA: boolean, tB: boolean) {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = tA ? a.shape[ra - 1] : a.shape[ra - 2];
  const kA = tA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kB = tB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = tB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (kA !== kB) {
    throw new Error(
      `Error in matMul: inner shapes (${kA}) and (${kB}) of Tensors with shapes ${a.shape} and ${b.shape} ` +
        `and transposeA=${tA} and transposeB=${tB} must match.`,
    );
  }
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  // Supported: equal batch shapes, or one side without batch (size 1). Else null (the original kernel runs).
  let outer: number[];
  if (batchA === batchB && outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i])) {
    outer = outerA;
  } else if (batchB === 1 && outerB.length <= outerA.length) outer = outerA;
  else if (batchA === 1 && outerA.length <= outerB.length) outer = outerB;
  else return null;
  return { m, n, k: kA, batchA, batchB, batch: Math.max(batchA, batchB), outShape: [...outer, m, n] };
}

/**
 * op(a) @ op(b) (+ bias) through OpenBLAS on the backend's own memory; null when the shapes need the original.
 * A `bias` is added inside the product (the output starts as the bias and sgemm accumulates onto it: one pass
 * instead of a product and an Add) when it is a float32 [n] vector or has the output's full shape, for
 * unbatched products; for any other bias it returns null and the caller adds the bias itself.
 */
function nativeMatMul(
  lib: NativeAddon, ad: Adapter, a: TensorInfo, b: TensorInfo, tA: boolean, tB: boolean, bias?: TensorInfo,
): TensorInfo | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const g = matMulGeometry(a, b, tA, tB);
  if (!g) return null;
  const biasKind = bias ? foldableBias(bias, g) : 'none';
  if (biasKind === null) return null;
  const out = ad.alloc(g.outShape);
  const [A, aOff] = ad.view(a);
  const [B, bOff] = ad.view(b);
  const [C, cOff] = ad.view(out);
  if (bias && biasKind !== 'none') {
    const [BI, biOff] = ad.view(bias);
    if (biasKind === 'full') C.set(BI.subarray(biOff, biOff + g.m * g.n), cOff);
    else for (let r = 0; r < g.m; r++) C.set(BI.subarray(biOff, biOff + g.n), cOff + r * g.n);
  }
  // C_i[m,n] = op(A_i)[m,k] @ op(B_i)[k,n] (+ C_i) for each batch entry i; stride 0 reuses an unbatched operand.
  lib.sgemm(
    A, aOff, g.batchA === 1 ? 0 : g.m * g.k,
    B, bOff, g.batchB === 1 ? 0 : g.k * g.n,
    C, cOff, g.batch, g.m, g.n, g.k, tA, tB, 1, biasKind === 'none' ? 0 : 1,
  );
  return out;
}

/** How a bias can be folded into the product: 'full' (output-shaped), 'row' ([n] per row), or null (it cannot). */
function foldableBias(bias: TensorInfo, g: { m: number; n: number; batch: number }): 'full' | 'row' | null {
  if (bias.dtype !== 'float32' || g.batch !== 1) return null;
  const size = sizeOf(bias.shape);
  const last = bias.shape[bias.shape.length - 1];
  if (size === g.n && last === g.n) return 'row'; // [n] or [1, n]
  if (size === g.m * g.n && bias.shape.length >= 2 && last === g.n && bias.shape[bias.shape.length - 2] === g.m) return 'full';
  return null;
}

/** Transposes the last two axes of x with the backend's Transpose kernel. */
function transposeLast2(backendName: string, backend: unknown, x: TensorInfo): TensorInfo {
  const r = x.shape.length;
  const perm = [...Array(r - 2).keys(), r - 1, r - 2];
  return callKernel('Transpose', backendName, backend, { x }, { perm });
}

/**
 * The last explicitly transposed operand of each side ('wasm/a', 'wasm/b'), kept while the same tensor comes back:
 * a model that multiplies by W^T many times between updates of W (an RBM's Gibbs sweeps; the reconstruction and
 * negative phase of one CD step) then transposes W once per update, not once per product, without holding W^T
 * itself. Keyed by the operand's data id -- a new object for every tensor's data (a variable gets a new one on each
 * assign; views such as reshape share it, hence the shape check) -- so a hit always has the same values. The held
 * copy is freed when replaced or when the kernels are unregistered.
 */
const transposed = new Map<string, { dataId: object; shape: number[]; t: TensorInfo; ad: Adapter }>();

/** op(x)'s explicit transpose for side `key`, from the cache or made (and cached) now. */
function cachedTranspose(key: string, backendName: string, backend: unknown, x: TensorInfo, ad: Adapter): TensorInfo {
  const hit = transposed.get(key);
  if (hit && hit.dataId === x.dataId && hit.shape.length === x.shape.length && hit.shape.every((d, i) => d === x.shape[i])) return hit.t;
  const t = transposeLast2(backendName, backend, x);
  if (hit) hit.ad.dispose(hit.t);
  transposed.set(key, { dataId: x.dataId, shape: [...x.shape], t, ad });
  return t;
}

/** Frees the cached transposes. */
function clearTransposed(): void {
  for (const { t, ad } of transposed.values()) ad.dispose(t);
  transposed.clear();
}

/** Runs `orig` with transposeA/transposeB cleared, transposing the flagged operands explicitly first. */
function explicitTranspose(config: tf.KernelConfig, args: KernelArgs, backendName: string): TensorInfo {
  const inputs = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as Record<string, unknown>;
  const tA = attrs.transposeA === true;
  const tB = attrs.transposeB === true;
  if (!tA && !tB) return config.kernelFunc(args) as TensorInfo;
  const ad = adapterFor(backendName, args.backend);
  if (!ad) throw new Error(`genlab kernels: no memory adapter for ${backendName}`);
  const a = tA ? cachedTranspose(`${backendName}/a`, backendName, args.backend, inputs.a, ad) : inputs.a;
  const b = tB ? cachedTranspose(`${backendName}/b`, backendName, args.backend, inputs.b, ad) : inputs.b;
  return config.kernelFunc({
    ...args, inputs: { ...inputs, a, b }, attrs: { ...attrs, transposeA: false, transposeB: false },
  } as KernelArgs) as TensorInfo;
}

const ACTIVATION_KERNELS: Record<string, string> = {
  relu: 'Relu', relu6: 'Relu6', elu: 'Elu', sigmoid: 'Sigmoid', leakyrelu: 'LeakyRelu', prelu: 'Prelu',
};

/** _FusedMatMul = activation(op(a) op(b) + bias) composed from the native product and backend kernels. */
function nativeFusedMatMul(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo | null {
  const inputs = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as Record<string, unknown>;
  const ad = adapterFor(backendName, args.backend);
  if (!ad) return null;
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  if (activation !== 'linear' && !(activation in ACTIVATION_KERNELS)) return null;
  const a = inputs.a as TensorInfo;
  const b = inputs.b as TensorInfo;
  const tA = attrs.transposeA === true;
  const tB = attrs.transposeB === true;
  // The bias goes into the product itself where it can (one pass), else it is added afterwards.
  let current = inputs.bias ? nativeMatMul(lib, ad, a, b, tA, tB, inputs.bias) : null;
  const folded = current !== null;
  current ??= nativeMatMul(lib, ad, a, b, tA, tB);
  if (!current) return null;
  if (inputs.bias && !folded) {
    const sum = callKernel('Add', backendName, args.backend, { a: current, b: inputs.bias });
    ad.dispose(current);
    current = sum;
  }
  if (activation !== 'linear') {
    const name = ACTIVATION_KERNELS[activation];
    const kernelInputs: Record<string, TensorInfo> = { x: current };
    if (activation === 'prelu') kernelInputs.alpha = inputs.preluActivationWeights as TensorInfo;
    const act = callKernel(name, backendName, args.backend, kernelInputs, { alpha: attrs.leakyreluAlpha });
    ad.dispose(current);
    current = act;
  }
  return current;
}

/**
 * Identity without a copy on WASM: the output shares the input's memory (reference-counted, as Reshape already
 * does there and as the CPU backend's Identity does). Tensors are immutable, so sharing is safe; tfjs runs
 * Identity for every tensor it keeps for a backward pass (tf.clone), and the stock kernel copied each one.
 */
function sharedIdentity(args: KernelArgs): TensorInfo | null {
  const { x } = args.inputs as Record<string, TensorInfo>;
  const backend = args.backend as { incRef?: (dataId: object) => void };
  if (x.dtype === 'string' || typeof backend.incRef !== 'function') return null;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Element types the native copy kernels move bit for bit (cpu: float32 only, see Adapter.allocAs). */
function copyable(backendName: string, dtype: tf.DataType): boolean {
  return dtype === 'float32' || (backendName === 'wasm' && dtype === 'int32');
}

/**
 * Transpose when it swaps the last two axes (perm [..., r-1, r-2]): the case matMul-heavy code produces.
 * The stock WASM Transpose takes ~9 ms for a 784x500 matrix; this tiled copy takes well under 1 ms.
 */
function nativeTranspose(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo | null {
  const { x } = args.inputs as Record<string, TensorInfo>;
  const perm = (args.attrs as Record<string, unknown>).perm as number[];
  const r = x.shape.length;
  const ad = adapterFor(backendName, args.backend);
  if (!ad || r < 2 || !copyable(backendName, x.dtype)) return null;
  if (perm.some((p, i) => p !== (i < r - 2 ? i : i === r - 2 ? r - 1 : r - 2))) return null;
  const rows = x.shape[r - 2];
  const colsN = x.shape[r - 1];
  const out = ad.allocAs([...x.shape.slice(0, r - 2), colsN, rows], x.dtype);
  const [S, sOff] = ad.view(x);
  const [D, dOff] = ad.view(out);
  lib.transpose(S, sOff, D, dOff, sizeOf(x.shape.slice(0, r - 2)), rows, colsN);
  return out;
}

/** GatherV2 along axis 0 (no batch dims): out[i, ...] = x[indices[i], ...], e.g. a mini-batch of rows. */
function nativeGather(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo | null {
  const { x, indices } = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as Record<string, unknown>;
  const ad = adapterFor(backendName, args.backend);
  const axis = Number(attrs.axis ?? 0);
  if (!ad || x.shape.length < 1 || (axis !== 0 && axis !== -x.shape.length) || Number(attrs.batchDims ?? 0) !== 0) {
    return null;
  }
  if (indices.dtype !== 'int32' || !copyable(backendName, x.dtype)) return null;
  const rowLen = sizeOf(x.shape.slice(1));
  const nIdx = sizeOf(indices.shape);
  const out = ad.allocAs([...indices.shape, ...x.shape.slice(1)], x.dtype);
  const [S, sOff] = ad.view(x);
  const [I, iOff] = ad.viewInt(indices);
  const [D, dOff] = ad.view(out);
  if (lib.gatherRows(S, sOff, x.shape[0], rowLen, I, iOff, nIdx, D, dOff)) return out;
  ad.dispose(out); // an index out of range: the original kernel reports it
  return null;
}

/**
 * Sum over the leading axes of a float32 tensor (e.g. a bias gradient: a [batch, units] tensor summed over the
 * batch) as one product ones[1, rows] @ x[rows, cols]. The stock WASM Sum transposes the reduced axes to the end
 * first (a full copy); other axis sets go to the original kernel.
 */
function nativeSumLeading(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo | null {
  const { x } = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as Record<string, unknown>;
  const ad = adapterFor(backendName, args.backend);
  const r = x.shape.length;
  if (!ad || x.dtype !== 'float32' || r < 2) return null;
  const raw = attrs.axis;
  if (raw === null || raw === undefined) return null; // every axis: the original reduces contiguous memory
  const axes = (Array.isArray(raw) ? raw : [raw]).map((a) => Number(a)).map((a) => (a < 0 ? a + r : a));
  axes.sort((a, b) => a - b);
  const j = axes.length;
  if (j === 0 || j >= r || axes.some((a, i) => a !== i)) return null;
  const rows = sizeOf(x.shape.slice(0, j));
  const cols = sizeOf(x.shape.slice(j));
  if (rows === 0 || cols === 0) return null;
  const ones = ad.alloc([rows]);
  const outShape = attrs.keepDims === true ? [...x.shape.slice(0, j).map(() => 1), ...x.shape.slice(j)] : x.shape.slice(j);
  const out = ad.alloc(outShape);
  const [O1, o1Off] = ad.view(ones);
  O1.fill(1, o1Off, o1Off + rows);
  const [X, xOff] = ad.view(x);
  const [C, cOff] = ad.view(out);
  lib.sgemm(O1, o1Off, 0, X, xOff, 0, C, cOff, 1, 1, cols, rows, false, false);
  ad.dispose(ones);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Large elementwise passes (native only): the bias adds, ReLUs, ReLU gradients and softplus of a conv step run on
// activations of 10^5-10^6 values, where one threaded native pass beats the single-threaded WASM kernel. Smaller
// tensors keep the original kernel (a native call costs more than it saves there).

/** Below this many values the original elementwise kernel runs. */
const ELEMENTWISE_MIN = 32768;

const enum Elementwise { Add = 0, Multiply = 1, Relu = 2, Step = 3, Softplus = 4 }

/**
 * When `small` broadcasts against `big` by repeating along leading axes (its shape, leading 1s dropped, is a
 * suffix of big's and no longer than it), the length of one repeat; else null.
 */
function trailingPeriod(big: number[], small: number[]): number | null {
  let first = 0;
  while (first < small.length && small[first] === 1) first++;
  const s = small.slice(first);
  if (small.length > big.length) return null;
  for (let i = 1; i <= s.length; i++) if (s[s.length - i] !== big[big.length - i]) return null;
  return sizeOf(s);
}

/** Add or Multiply of float32 tensors of one shape, or one broadcast along leading axes (a bias). */
function nativeBinary(lib: NativeAddon, op: Elementwise, args: KernelArgs, backendName: string): TensorInfo | null {
  const { a, b } = args.inputs as Record<string, TensorInfo>;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  // Both ops commute exactly in floating point, so the larger operand can go first.
  const [big, small] = sizeOf(b.shape) > sizeOf(a.shape) ? [b, a] : [a, b];
  const n = sizeOf(big.shape);
  const period = trailingPeriod(big.shape, small.shape);
  const ad = adapterFor(backendName, args.backend);
  if (n < ELEMENTWISE_MIN || !period || !ad) return null;
  const out = ad.alloc(big.shape);
  lib.elementwise(op, ...ad.view(big), ...ad.view(small), period, ...ad.view(out), n, 0);
  return out;
}

/** Relu, Step (any alpha) and Softplus of a large float32 tensor. */
function nativeUnary(lib: NativeAddon, op: Elementwise, args: KernelArgs, backendName: string): TensorInfo | null {
  const { x } = args.inputs as Record<string, TensorInfo>;
  const n = sizeOf(x.shape);
  const ad = adapterFor(backendName, args.backend);
  if (x.dtype !== 'float32' || n < ELEMENTWISE_MIN || !ad) return null;
  const alpha = op === Elementwise.Step ? Number((args.attrs as Record<string, unknown>).alpha ?? 0) : 0;
  const out = ad.alloc(x.shape);
  const [X, xOff] = ad.view(x);
  lib.elementwise(op, X, xOff, X, xOff, 1, ...ad.view(out), n, alpha);
  return out;
}

/** A Cast to the tensor's own dtype (tfjs's ReLU gradient casts step(x), already float32): no copy on WASM. */
function sameTypeCast(args: KernelArgs): TensorInfo | null {
  const { x } = args.inputs as Record<string, TensorInfo>;
  return (args.attrs as Record<string, unknown>).dtype === x.dtype ? sharedIdentity(args) : null;
}

// ---------------------------------------------------------------------------------------------------------
// Convolutions (native only): NHWC, im2col + sgemm. Shapes follow tfjs's conv_util.computeConv2DInfo.

/**
 * Geometry for the addon's im2col/col2im, as Int32Array:
 * [batch, inH, inW, inC, outH, outW, fH, fW, strideH, strideW, dilH, dilW, padTop, padLeft].
 */
function convGeometry(info: tf.backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight,
    info.dilationWidth, info.padInfo.top, info.padInfo.left,
  ]);
}

/** Scratch buffer for im2col columns, grown as needed and reused across calls (one per process). */
let scratch = new Float32Array(0);
function cols(size: number): Float32Array {
  if (scratch.length < size) scratch = new Float32Array(Math.max(size, Math.ceil(scratch.length * 1.5)));
  return scratch;
}

function convInfo(
  xShape: number[], filterShape: number[], attrs: Record<string, unknown>,
): tf.backend_util.Conv2DInfo | null {
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return null;
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    attrs.strides as number | [number, number], (attrs.dilations ?? 1) as number | [number, number],
    attrs.pad as 'valid' | 'same' | number | tf.backend_util.ExplicitPadding,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined, false, 'channelsLast',
  );
}

/** What the three native convolution kernels share: memory access, geometry and the im2col buffer. */
interface ConvPlan {
  ad: Adapter;
  info: tf.backend_util.Conv2DInfo;
  /** One im2col row per output pixel: batch * outH * outW. */
  rows: number;
  /** One im2col column per filter tap: fH * fW * inC. */
  kk: number;
  cols: Float32Array;
  geometry: Int32Array;
}

function planConv(
  args: KernelArgs, backendName: string, xShape: number[], filterShape: number[], operands: TensorInfo[],
): ConvPlan | null {
  const ad = adapterFor(backendName, args.backend);
  const info = convInfo(xShape, filterShape, args.attrs as Record<string, unknown>);
  if (!ad || !info || operands.some((t) => t.dtype !== 'float32')) return null;
  const rows = info.batchSize * info.outHeight * info.outWidth;
  const kk = info.filterHeight * info.filterWidth * info.inChannels;
  return { ad, info, rows, kk, cols: cols(rows * kk), geometry: convGeometry(info) };
}

/** y[b,oh,ow,oc] = sum_{fh,fw,ic} x[b, oh*s+fh*d-pad, ow*s+fw*d-pad, ic] W[fh,fw,ic,oc]. */
function nativeConv2D(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo | null {
  const { x, filter } = args.inputs as Record<string, TensorInfo>;
  const p = planConv(args, backendName, x.shape, filter.shape, [x, filter]);
  if (!p) return null;
  const out = p.ad.alloc([p.info.batchSize, p.info.outHeight, p.info.outWidth, p.info.outChannels]);
  lib.im2col(...p.ad.view(x), p.cols, p.geometry);
  // Y[rows, outC] = cols[rows, kk] @ W[kk, outC]   (W is [fH,fW,inC,outC] = [kk, outC] row-major)
  const [W, wOff] = p.ad.view(filter);
  const [Y, yOff] = p.ad.view(out);
  lib.sgemm(p.cols, 0, 0, W, wOff, 0, Y, yOff, 1, p.rows, p.info.outChannels, p.kk, false, false);
  return out;
}

/** dx = col2im(dy[rows,outC] @ W[kk,outC]^T): the gradient of Conv2D w.r.t. its input (= transposed conv). */
function nativeConv2DBackpropInput(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo | null {
  const { dy, filter } = args.inputs as Record<string, TensorInfo>;
  const inputShape = (args.attrs as Record<string, unknown>).inputShape as number[];
  const p = planConv(args, backendName, inputShape, filter.shape, [dy, filter]);
  if (!p) return null;
  const out = p.ad.alloc([p.info.batchSize, p.info.inHeight, p.info.inWidth, p.info.inChannels]);
  // cols[rows, kk] = dy[rows, outC] @ W[kk, outC]^T; col2im then adds each entry back onto its input pixel.
  const [DY, dyOff] = p.ad.view(dy);
  const [W, wOff] = p.ad.view(filter);
  lib.sgemm(DY, dyOff, 0, W, wOff, 0, p.cols, 0, 1, p.rows, p.kk, p.info.outChannels, false, true);
  lib.col2im(p.cols, ...p.ad.view(out), p.geometry);
  return out;
}

/** dW[kk,outC] = im2col(x)[rows,kk]^T @ dy[rows,outC]: the gradient of Conv2D w.r.t. its filter. */
function nativeConv2DBackpropFilter(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo | null {
  const { x, dy } = args.inputs as Record<string, TensorInfo>;
  const filterShape = (args.attrs as Record<string, unknown>).filterShape as number[];
  const p = planConv(args, backendName, x.shape, filterShape, [x, dy]);
  if (!p) return null;
  const out = p.ad.alloc(filterShape);
  lib.im2col(...p.ad.view(x), p.cols, p.geometry);
  const [DY, dyOff] = p.ad.view(dy);
  const [DW, dwOff] = p.ad.view(out);
  lib.sgemm(p.cols, 0, 0, DY, dyOff, 0, DW, dwOff, 1, p.kk, p.info.outChannels, p.rows, true, false);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Fused Adam: one kernel per variable instead of ~12 elementwise kernels (each a pass over memory).

/** Name of genlab's fused Adam kernel (registered for 'wasm' and 'cpu' by {@link registerFastKernels} with the addon). */
export const FUSED_ADAM_KERNEL = 'GenlabFusedAdam';

/**
 * x, m, v, g -> x', m', v' with (Kingma & Ba 2015, as tf.train.adam computes it)
 *   m' = b1 m + (1 - b1) g,   v' = b2 v + (1 - b2) g^2,   x' = x - lr (m' / c1) / (sqrt(v' / c2) + eps)
 * where c1 = 1 - b1^t and c2 = 1 - b2^t are the bias corrections of step t.
 */
function fusedAdamKernel(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo[] {
  const { x, m, v, g } = args.inputs as Record<string, TensorInfo>;
  const { lr, beta1, beta2, epsilon, c1, c2 } = args.attrs as Record<string, number>;
  const ad = adapterFor(backendName, args.backend);
  if (!ad) throw new Error(`genlab kernels: ${FUSED_ADAM_KERNEL} has no ${backendName} implementation`);
  const outs = [ad.alloc(x.shape), ad.alloc(x.shape), ad.alloc(x.shape)];
  // Views after the allocations (the WASM heap may have moved).
  const views = [x, m, v, g, ...outs].flatMap((t) => ad.view(t));
  const params = Float64Array.from([lr, beta1, beta2, epsilon, c1, c2]);
  (lib.adam as (...a: unknown[]) => void)(...views, sizeOf(x.shape), params);
  return outs;
}

// ---------------------------------------------------------------------------------------------------------
// Bernoulli sampling in one pass (internal: used by the RBMs' samplers)

/** Name of genlab's Bernoulli sampling kernel (registered for 'wasm' and 'cpu' with the addon). */
const BERNOULLI_KERNEL = 'GenlabBernoulli';

/** out = 1 where u < p (u uniform from the generator whose state is attrs.state), one pass, no temporaries. */
function bernoulliKernel(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo | null {
  const { p } = args.inputs as Record<string, TensorInfo>;
  const { state } = args.attrs as unknown as { state: Int32Array };
  const ad = adapterFor(backendName, args.backend);
  if (!ad || p.dtype !== 'float32') return null;
  const out = ad.alloc([...p.shape]);
  const [P, pOff] = ad.view(p);
  const [O, oOff] = ad.view(out);
  lib.bernoulli(state, P, pOff, O, oOff, sizeOf(p.shape));
  return out;
}

/**
 * Internal. `rng.uniformArray(n)`: the same numbers, and the same generator state afterwards, drawn by the addon
 * where it is built (a few times faster than JavaScript: a CD step on the native backend draws its noise so).
 */
export function uniformArray(rng: Random, n: number): Float32Array {
  const lib = loadAddon();
  if (!lib) return rng.uniformArray(n);
  const out = new Float32Array(n);
  lib.uniform(rng.stateForKernels(), out, 0, n);
  return out;
}

/**
 * Internal. Bernoulli(p) samples as float32 0/1, drawn with `rng` exactly as `step(p - u)` with
 * `u = rng.uniformArray(size)` would be (same values, same generator state afterwards), in one native pass;
 * null when the native kernel is not registered on the current backend (the caller then uses tensor ops).
 */
export function nativeBernoulli<T extends tf.Tensor>(p: T, rng: Random): T | null {
  if (p.dtype !== 'float32') return null;
  if (tf.getBackend() === 'tensorflow') return tensorflowBernoulli(p, rng);
  if (!tf.getKernel(BERNOULLI_KERNEL, tf.getBackend())) return null;
  const state = rng.stateForKernels(); // advanced in place by the kernel
  return tf.engine().runKernel(BERNOULLI_KERNEL, { p }, { state } as unknown as tf.NamedAttrMap) as T;
}

/**
 * The same Bernoulli samples on the native TensorFlow backend on a CPU, with the addon: p is read back (one copy:
 * TensorFlow's CPU tensors are host memory), sampled by the addon's one-pass kernel on genlab's generator, and the
 * 0/1 result uploaded. Per [100, 784] sample that is about a third of the CPU time of generating the uniforms in
 * JavaScript, uploading them and comparing on TensorFlow (bench/RESULTS.md). Null on a GPU (a read-back would
 * stall the device) or without the addon.
 */
function tensorflowBernoulli<T extends tf.Tensor>(p: T, rng: Random): T | null {
  const lib = loadAddon();
  if (!lib || (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice) return null;
  const values = p.dataSync() as Float32Array;
  const out = new Float32Array(values.length);
  lib.bernoulli(rng.stateForKernels(), values, 0, out, 0, values.length);
  return tf.tensor(out, p.shape, 'float32') as T;
}

// ---------------------------------------------------------------------------------------------------------
// Products for the library's hot loops (internal)

/** Whether the native products are registered on the current backend. */
function nativeProductsActive(): boolean {
  return report.native && originals.has(`${tf.getBackend()}/_FusedMatMul`);
}

/**
 * Internal. base + op(a) @ b, where op transposes `a` when `transposeA`. With the native products the sum is
 * accumulated inside the product (one pass over the [m, n] result, e.g. an RBM's weight update); elsewhere a
 * product and an add.
 */
export function addProduct(base: tf.Tensor, a: tf.Tensor2D, b: tf.Tensor2D, transposeA: boolean): tf.Tensor2D {
  if (nativeProductsActive()) return tf.fused.matMul({ a, b, transposeA, bias: base }) as tf.Tensor2D;
  return tf.add(base, tf.matMul(a, b, transposeA, false)) as tf.Tensor2D;
}

// ---------------------------------------------------------------------------------------------------------
// Reading a tensor's values in place (internal: argument checks)

/**
 * Internal. Minimum, maximum and finiteness of a float32 tensor's values, read where the backend keeps them
 * (wasm heap, cpu arrays) without copying them out; null on other backends or dtypes (the caller then uses
 * tensor ops). NaN makes `finite` false.
 */
export function float32Range(x: tf.Tensor): { min: number; max: number; finite: boolean } | null {
  if (x.dtype !== 'float32' || x.size === 0) return null;
  const backendName = tf.getBackend();
  const ad = adapterFor(backendName, tf.backend());
  if (!ad) return null;
  let values: Float32Array;
  let offset: number;
  try {
    [values, offset] = ad.view(x);
  } catch {
    return null;
  }
  let min = Infinity;
  let max = -Infinity;
  let nan = false;
  for (let i = offset, end = offset + x.size; i < end; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
    if (v !== v) nan = true;
  }
  return { min, max, finite: !nan && Number.isFinite(min) && Number.isFinite(max) };
}

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

// ---------------------------------------------------------------------------------------------------------
// Registration

/** Originals of replaced kernels, keyed `backend/KernelName` (undefined: the backend had none). */
const originals = new Map<string, tf.KernelConfig | undefined>();
let report: FastKernelReport = {
  active: false, kernels: [], native: false, threads: 0, note: 'fast kernels not registered',
};

/**
 * Replaces `kernelName` on `backendName` by `body`; `body` returns null to defer to the original (which must
 * exist unless `body` never returns null).
 */
function replaceKernel(
  kernelName: string, backendName: string,
  body: (args: KernelArgs, original: tf.KernelConfig | undefined) => TensorInfo | null,
): void {
  const key = `${backendName}/${kernelName}`;
  if (originals.has(key)) return;
  const original = tf.getKernel(kernelName, backendName);
  originals.set(key, original);
  if (original) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({
    kernelName,
    backendName,
    setupFunc: original?.setupFunc,
    disposeFunc: original?.disposeFunc,
    kernelFunc: ((args: KernelArgs) => {
      const out = body(args, original);
      if (out) return out;
      if (!original) throw new Error(`genlab kernels: ${key} cannot handle these arguments`);
      return original.kernelFunc(args);
    }) as tf.KernelFunc,
  });
}

/** Which backends' kernel tables are loaded (the wasm table exists once @tensorflow/tfjs-backend-wasm loads). */
function loadedBackends(): string[] {
  return ['wasm', 'cpu'].filter((name) => tf.getKernel('BatchMatMul', name) !== undefined);
}

function envFlag(name: string): boolean | undefined {
  const v = (process.env[name] ?? '').toLowerCase();
  if (v === '') return undefined;
  return !(v === '0' || v === 'false' || v === 'no' || v === 'off');
}

/**
 * Registers every kernel genlab adds to TensorFlow.js on the loaded backends: the WASM convolution gradients
 * (lib/engine/wasm-conv-grad.ts; always) and the faster kernels above. Backend selection (lib/engine/backend.ts)
 * calls it once per selected backend; models never do. Idempotent. Results equal the original kernels' up to
 * float rounding.
 *
 * @returns what is active, with a one-line note (e.g. why the native addon is not in use).
 */
export function registerFastKernels(options: FastKernelOptions = {}): FastKernelReport {
  // Needed for correctness, not speed (WASM ships no Conv2DBackpropFilter): always, and before the native
  // kernels, which wrap these.
  registerWasmConvGradients();
  if (envFlag('GENLAB_FAST_KERNELS') === false) {
    report = { active: false, kernels: [], native: false, threads: 0, note: 'disabled by GENLAB_FAST_KERNELS=0' };
    return fastKernelReport();
  }
  const wantNative = options.native ?? envFlag('GENLAB_NATIVE') ?? true;
  let lib: NativeAddon | null = null;
  let note: string;
  if (wantNative) {
    lib = loadAddon();
    note = addonNote;
  } else {
    note = 'native addon disabled' + (options.native === false ? '' : ' by GENLAB_NATIVE=0');
  }
  if (lib) {
    const envThreads = Number(process.env.GENLAB_BLAS_THREADS ?? '');
    const threads = options.threads ?? (Number.isInteger(envThreads) && envThreads > 0 ? envThreads : Math.min(os.availableParallelism(), 64));
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw new Error(`registerFastKernels: threads must be an integer in [1, 64] (option or GENLAB_BLAS_THREADS); got ${threads}`);
    }
    lib.setThreads(threads);
  }
  const nativeLib = lib;
  for (const backendName of loadedBackends()) {
    if (nativeLib) {
      replaceKernel('BatchMatMul', backendName, (args) => {
        const ad = adapterFor(backendName, args.backend);
        const { a, b } = args.inputs as Record<string, TensorInfo>;
        const attrs = args.attrs as Record<string, unknown>;
        return ad && nativeMatMul(nativeLib, ad, a, b, attrs.transposeA === true, attrs.transposeB === true);
      });
      replaceKernel('_FusedMatMul', backendName, (args) => nativeFusedMatMul(nativeLib, args, backendName));
      replaceKernel(FUSED_ADAM_KERNEL, backendName, (args) =>
        fusedAdamKernel(nativeLib, args, backendName) as unknown as TensorInfo,
      );
      replaceKernel('Transpose', backendName, (args) => nativeTranspose(nativeLib, args, backendName));
      replaceKernel(BERNOULLI_KERNEL, backendName, (args) => bernoulliKernel(nativeLib, args, backendName));
      replaceKernel('GatherV2', backendName, (args) => nativeGather(nativeLib, args, backendName));
      replaceKernel('Sum', backendName, (args) => nativeSumLeading(nativeLib, args, backendName));
      replaceKernel('Conv2D', backendName, (args) => nativeConv2D(nativeLib, args, backendName));
      replaceKernel('Conv2DBackpropInput', backendName, (args) =>
        nativeConv2DBackpropInput(nativeLib, args, backendName),
      );
      replaceKernel('Conv2DBackpropFilter', backendName, (args) =>
        nativeConv2DBackpropFilter(nativeLib, args, backendName),
      );
      replaceKernel('Add', backendName, (args) => nativeBinary(nativeLib, Elementwise.Add, args, backendName));
      replaceKernel('Multiply', backendName, (args) => nativeBinary(nativeLib, Elementwise.Multiply, args, backendName));
      replaceKernel('Relu', backendName, (args) => nativeUnary(nativeLib, Elementwise.Relu, args, backendName));
      replaceKernel('Step', backendName, (args) => nativeUnary(nativeLib, Elementwise.Step, args, backendName));
      replaceKernel('Softplus', backendName, (args) => nativeUnary(nativeLib, Elementwise.Softplus, args, backendName));
    }
    if (backendName === 'wasm') replaceKernel('Cast', backendName, (args) => sameTypeCast(args));
    if (backendName === 'wasm') replaceKernel('Identity', backendName, (args) => sharedIdentity(args));
    if (!nativeLib && backendName === 'wasm') {
      // Without the addon only the WASM transposed products need help (measured 8-15x slower).
      for (const name of ['BatchMatMul', '_FusedMatMul']) {
        replaceKernel(name, backendName, (args, original) =>
          original ? explicitTranspose(original, args, backendName) : null,
        );
      }
    }
  }
  const kernels = [...originals.keys()];
  report = {
    active: kernels.length > 0,
    kernels,
    native: nativeLib !== null,
    threads: nativeLib ? nativeLib.getThreads() : 0,
    note,
  };
  return fastKernelReport();
}

/** Restores the original kernels (for comparisons and benchmarks: genlab before/after). */
export function unregisterFastKernels(): void {
  clearTransposed();
  for (const [key, original] of originals) {
    const [backendName, kernelName] = key.split('/');
    tf.unregisterKernel(kernelName, backendName);
    if (original) tf.registerKernel(original);
  }
  originals.clear();
  report = { active: false, kernels: [], native: false, threads: 0, note: 'fast kernels not registered' };
}

/** What is currently registered (a copy). */
export function fastKernelReport(): FastKernelReport {
  return { ...report, kernels: [...report.kernels] };
}
