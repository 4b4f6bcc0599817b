/**
 * Where a float32 tensor's values live on the wasm and cpu backends and how to allocate an output there: what every
 * replacement kernel reads and writes through (no copies), and `float32Range` reads in place for argument checks.
 */
import { tf } from '../tf';

export type TensorInfo = tf.TensorInfo;

interface WasmBackendLike {
  wasm: { HEAPF32: Float32Array; HEAP32: Int32Array; HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: object): boolean;
}

interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array | Uint8Array): TensorInfo;
  disposeIntermediateTensorInfo(t: TensorInfo): void;
}

/** Uniform access to tensor memory on the wasm and cpu backends. */
export interface Adapter {
  /** A float32 output tensor of this shape (contents unspecified). */
  alloc(shape: number[]): TensorInfo;
  /** The array holding `t`'s values and the index of its first value. Call after every alloc (heap moves). */
  view(t: TensorInfo): [Float32Array, number];
  /** Same for an int32 tensor. */
  viewInt(t: TensorInfo): [Int32Array, number];
  /** An output like `alloc` with any 4-byte dtype (its values are then written through `view`'s float bits). */
  allocAs(shape: number[], dtype: tf.DataType): TensorInfo;
  /** A bool output (one byte per value on both backends). */
  allocBool(shape: number[]): TensorInfo;
  /** The bytes of a bool tensor and the index of its first value. */
  viewBool(t: TensorInfo): [Uint8Array, number];
  dispose(t: TensorInfo): void;
}

/** Memory access for `backendName` (wasm or cpu); null on other backends. */
export function adapterFor(backendName: string, backend: unknown): Adapter | null {
  if (backendName === 'wasm') {
    const b = backend as WasmBackendLike;
    const offset = (t: TensorInfo) => (b.dataIdMap.get(t.dataId) as { memoryOffset: number }).memoryOffset / 4;
    return {
      alloc: (shape) => b.makeOutput(shape, 'float32'),
      view: (t) => [b.wasm.HEAPF32, offset(t)],
      viewInt: (t) => [b.wasm.HEAP32, offset(t)],
      allocAs: (shape, dtype) => b.makeOutput(shape, dtype),
      allocBool: (shape) => b.makeOutput(shape, 'bool'),
      viewBool: (t) => [b.wasm.HEAPU8, (b.dataIdMap.get(t.dataId) as { memoryOffset: number }).memoryOffset],
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
      allocBool: (shape) => b.makeTensorInfo(shape, 'bool', new Uint8Array(sizeOf(shape))),
      viewBool: (t) => {
        const values = b.data.get(t.dataId)?.values;
        if (!(values instanceof Uint8Array)) throw new Error('genlab kernels: bool values expected');
        return [values, 0];
      },
      dispose: (t) => b.disposeIntermediateTensorInfo(t),
    };
  }
  return null;
}

/** Number of values of a tensor of this shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** C[cOff + r*n + j] = row[j] for r < rows (n = row.length): doubling copies, log2(rows) calls. */
export function repeatRow<A extends Float32Array | Int32Array>(C: A, cOff: number, row: A, rows: number): void {
  if (rows === 0) return;
  C.set(row, cOff);
  const n = row.length;
  for (let done = 1; done < rows; done *= 2) {
    const copy = Math.min(done, rows - done);
    C.copyWithin(cOff + done * n, cOff, cOff + copy * n);
  }
}

/** What a kernel function receives: inputs, backend and attributes. */
export type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Calls another kernel registered on the same backend (used to compose bias add and activations). */
export function callKernel(
  name: string, backendName: string, backend: unknown, inputs: Record<string, TensorInfo>,
  attrs: Record<string, unknown> = {},
): TensorInfo {
  const config = tf.getKernel(name, backendName);
  if (!config) throw new Error(`genlab kernels: ${backendName} has no ${name} kernel`);
  return config.kernelFunc({ inputs, backend, attrs } as unknown as KernelArgs) as TensorInfo;
}

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
