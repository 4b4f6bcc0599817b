/**
 * Matrix products: `BatchMatMul` and `_FusedMatMul` as OpenBLAS `sgemm` on the backend's own memory (transposes
 * handled by BLAS, a bias folded into the product), sums over leading axes as a product with ones, and without the
 * addon the WASM transposed products made explicit (a transposed operand cached while it comes back).
 * `addProduct` is the library's accumulate-into-a-product for its hot loops.
 */
import { tf } from '../tf';
import type { NativeAddon } from '../native-addon';
import { Adapter, KernelArgs, TensorInfo, adapterFor, callKernel, repeatRow, sizeOf } from './memory';
import { nativeProductsActive } from './registry';

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
export function nativeMatMul(
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
    else repeatRow(C, cOff, BI.subarray(biOff, biOff + g.n), g.m);
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
export function clearTransposed(): void {
  for (const { t, ad } of transposed.values()) ad.dispose(t);
  transposed.clear();
}

/** Runs `orig` with transposeA/transposeB cleared, transposing the flagged operands explicitly first. */
export function explicitTranspose(config: tf.KernelConfig, args: KernelArgs, backendName: string): TensorInfo {
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

/** Whether {@link fusedEpilogue} can apply this activation (tfjs's fused kernels' `activation` attribute). */
export function knownActivation(activation: string): boolean {
  return activation === 'linear' || activation in ACTIVATION_KERNELS;
}

/**
 * The rest of a fused kernel (_FusedMatMul, FusedConv2D) after its product: `bias` added unless the product already
 * folded it in, then the activation, each as the backend's own kernel; intermediates freed.
 */
export function fusedEpilogue(
  current: TensorInfo, args: KernelArgs, backendName: string, ad: Adapter, bias: TensorInfo | undefined,
): TensorInfo {
  const inputs = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as Record<string, unknown>;
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  if (bias) {
    const sum = callKernel('Add', backendName, args.backend, { a: current, b: bias });
    ad.dispose(current);
    current = sum;
  }
  if (activation !== 'linear') {
    const kernelInputs: Record<string, TensorInfo> = { x: current };
    if (activation === 'prelu') kernelInputs.alpha = inputs.preluActivationWeights as TensorInfo;
    const act = callKernel(ACTIVATION_KERNELS[activation], backendName, args.backend, kernelInputs, { alpha: attrs.leakyreluAlpha });
    ad.dispose(current);
    current = act;
  }
  return current;
}

/** _FusedMatMul = activation(op(a) op(b) + bias) composed from the native product and backend kernels. */
export function nativeFusedMatMul(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo | null {
  const inputs = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as Record<string, unknown>;
  const ad = adapterFor(backendName, args.backend);
  if (!ad || !knownActivation((attrs.activation as string | undefined) ?? 'linear')) return null;
  const a = inputs.a as TensorInfo;
  const b = inputs.b as TensorInfo;
  const tA = attrs.transposeA === true;
  const tB = attrs.transposeB === true;
  // The bias goes into the product itself where it can (one pass), else it is added afterwards.
  let current = inputs.bias ? nativeMatMul(lib, ad, a, b, tA, tB, inputs.bias) : null;
  const folded = current !== null;
  current ??= nativeMatMul(lib, ad, a, b, tA, tB);
  if (!current) return null;
  return fusedEpilogue(current, args, backendName, ad, folded ? undefined : inputs.bias);
}

/**
 * Sum or Mean of a float32 tensor over a run of consecutive axes that leaves the last axis alone: the leading axes
 * (a bias gradient: [batch, units] summed over the batch; a BatchNorm's batch moments) or middle ones (the
 * gradient of a per-example, per-channel term: [n, h, w, c] summed over h and w), as products ones[1, rows] @
 * x_b[rows, cols] for each index b of the axes before the run (scaled by 1/rows for the mean). The stock WASM
 * kernels transpose the reduced axes to the end first (a full copy); other axis sets go to the original kernel.
 */
export function nativeReduceAxes(lib: NativeAddon, args: KernelArgs, backendName: string, mean: boolean): TensorInfo | null {
  const { x } = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as Record<string, unknown>;
  const ad = adapterFor(backendName, args.backend);
  const r = x.shape.length;
  if (!ad || x.dtype !== 'float32' || r < 2) return null;
  const raw = attrs.axis;
  if (raw === null || raw === undefined) return null; // every axis: the original reduces contiguous memory
  const axes = (Array.isArray(raw) ? raw : [raw]).map((a) => Number(a)).map((a) => (a < 0 ? a + r : a));
  axes.sort((a, b) => a - b);
  const first = axes[0];
  const last = axes[axes.length - 1];
  if (axes.length === 0 || last >= r - 1 || axes.some((a, i) => a !== first + i)) return null;
  const batch = sizeOf(x.shape.slice(0, first));
  const rows = sizeOf(x.shape.slice(first, last + 1));
  const cols = sizeOf(x.shape.slice(last + 1));
  if (batch === 0 || rows === 0 || cols === 0) return null;
  const ones = ad.alloc([rows]);
  const kept = x.shape.map((d, i) => (i >= first && i <= last ? 1 : d));
  const out = ad.alloc(attrs.keepDims === true ? kept : kept.filter((_, i) => i < first || i > last));
  const [O1, o1Off] = ad.view(ones);
  O1.fill(1, o1Off, o1Off + rows);
  const [X, xOff] = ad.view(x);
  const [C, cOff] = ad.view(out);
  // out_b[1, cols] = ones[1, rows] @ x_b[rows, cols], the ones shared by every b (stride 0)
  lib.sgemm(O1, o1Off, 0, X, xOff, rows * cols, C, cOff, batch, 1, cols, rows, false, false, mean ? 1 / rows : 1, 0);
  ad.dispose(ones);
  return out;
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
