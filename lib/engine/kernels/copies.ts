/**
 * Kernels that move values without arithmetic: Identity and same-dtype Cast sharing the input's buffer on WASM,
 * the last-two-axes Transpose, row GatherV2, Concat and SplitV as native copies, a Tile along leading axes as block
 * copies.
 */
import { tf } from '../tf';
import type { NativeAddon } from '../native-addon';
import { KernelArgs, TensorInfo, adapterFor, repeatRow, sizeOf } from './memory';

/**
 * Identity without a copy on WASM: the output shares the input's memory (reference-counted, as Reshape already
 * does there and as the CPU backend's Identity does). Tensors are immutable, so sharing is safe; tfjs runs
 * Identity for every tensor it keeps for a backward pass (tf.clone), and the stock kernel copied each one.
 */
export function sharedIdentity(args: KernelArgs): TensorInfo | null {
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
export function nativeTranspose(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo | null {
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
export function nativeGather(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo | null {
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

/** A Cast to the tensor's own dtype (tfjs's ReLU gradient casts step(x), already float32): no copy on WASM. */
export function sameTypeCast(args: KernelArgs): TensorInfo | null {
  const { x } = args.inputs as Record<string, TensorInfo>;
  return (args.attrs as Record<string, unknown>).dtype === x.dtype ? sharedIdentity(args) : null;
}

/**
 * Tile that repeats the whole tensor: every axis tiled (reps > 1) has size 1 and comes before every axis of size
 * > 1, so the output is prod(reps) copies of x one after another (e.g. tfjs's BatchNorm gradient tiles the
 * per-channel 1/sqrt(var) [1, 1, 1, C] to the activations' shape). Made by doubling block copies (memmove), where
 * WASM's Tile walks every output index (~0.1 s per DCGAN activation).
 */
export function blockTile(args: KernelArgs, backendName: string): TensorInfo | null {
  const { x } = args.inputs as Record<string, TensorInfo>;
  const reps = (args.attrs as Record<string, unknown>).reps as number[];
  const ad = adapterFor(backendName, args.backend);
  if (!ad || !copyable(backendName, x.dtype) || reps.length !== x.shape.length) return null;
  const lastTiled = reps.reduce((last, r, i) => (r > 1 ? i : last), -1);
  if (x.shape.slice(0, lastTiled + 1).some((d) => d !== 1)) return null;
  const size = sizeOf(x.shape);
  const copies = sizeOf(reps);
  const out = ad.allocAs(x.shape.map((d, i) => d * reps[i]), x.dtype);
  const [S, sOff] = ad.view(x);
  const [D, dOff] = ad.view(out);
  repeatRow(D, dOff, S.subarray(sOff, sOff + size), copies);
  return out;
}

/**
 * Concat along any axis: each input's rows (one per index of the axes before `axis`) copied into place by the
 * addon, threaded. WASM's own kernel copies row by row from JavaScript (a U-Net's skip concatenation along channels
 * is 10^5 short rows).
 */
export function nativeConcat(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo | null {
  const inputs = (args.inputs as unknown as TensorInfo[]).filter((t) => sizeOf(t.shape) > 0);
  const ad = adapterFor(backendName, args.backend);
  if (!ad || inputs.length < 2 || inputs.some((t) => t.dtype !== inputs[0].dtype) || !copyable(backendName, inputs[0].dtype)) {
    return null;
  }
  const axis = tf.util.parseAxisParam((args.attrs as Record<string, unknown>).axis as number, inputs[0].shape)[0];
  const outShape = tf.backend_util.computeOutShape(inputs.map((t) => t.shape), axis);
  const rows = sizeOf(outShape.slice(0, axis));
  const inner = inputs.map((t) => sizeOf(t.shape.slice(axis)));
  const total = inner.reduce((a, b) => a + b, 0);
  const out = ad.allocAs(outShape, inputs[0].dtype);
  const [D, dOff] = ad.view(out);
  let at = 0;
  inputs.forEach((t, i) => {
    const [S, sOff] = ad.view(t);
    lib.copyRows(S, sOff, inner[i], D, dOff + at, total, rows, inner[i]);
    at += inner[i];
  });
  return out;
}

/** SplitV along any axis: each output's rows copied out by the addon (WASM slices every output element by element). */
export function nativeSplitV(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo[] | null {
  const { x } = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as Record<string, unknown>;
  const ad = adapterFor(backendName, args.backend);
  if (!ad || !copyable(backendName, x.dtype) || sizeOf(x.shape) === 0) return null;
  const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits as number | number[], axis);
  const rows = sizeOf(x.shape.slice(0, axis));
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outs = sizes.map((s) => ad.allocAs(x.shape.map((d, i) => (i === axis ? s : d)), x.dtype));
  const [S, sOff] = ad.view(x);
  let begin = 0;
  outs.forEach((o, i) => {
    const [D, dOff] = ad.view(o);
    lib.copyRows(S, sOff + begin * inner, x.shape[axis] * inner, D, dOff, sizes[i] * inner, rows, sizes[i] * inner);
    begin += sizes[i];
  });
  return outs;
}
