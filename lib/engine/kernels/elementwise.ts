/**
 * Large elementwise passes (native only): the bias adds, (leaky) ReLUs, ReLU gradients and softplus of a conv step
 * run on activations of 10^5-10^6 values, where one threaded native pass beats the single-threaded WASM kernel. Smaller
 * tensors keep the original kernel (a native call costs more than it saves there).
 */
import type { NativeAddon } from '../native-addon';
import { KernelArgs, TensorInfo, adapterFor, sizeOf } from './memory';

/** Below this many values the original elementwise kernel runs. */
const ELEMENTWISE_MIN = 32768;

/** The addon's elementwise ops (its `elementwise` op codes). */
export const enum Elementwise { Add = 0, Multiply = 1, Relu = 2, Step = 3, Softplus = 4, LeakyRelu = 5 }

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
export function nativeBinary(lib: NativeAddon, op: Elementwise, args: KernelArgs, backendName: string): TensorInfo | null {
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

/** Relu, Step (any alpha), Softplus and LeakyRelu (any alpha) of a large float32 tensor. */
export function nativeUnary(lib: NativeAddon, op: Elementwise, args: KernelArgs, backendName: string): TensorInfo | null {
  const { x } = args.inputs as Record<string, TensorInfo>;
  const n = sizeOf(x.shape);
  const ad = adapterFor(backendName, args.backend);
  if (x.dtype !== 'float32' || n < ELEMENTWISE_MIN || !ad) return null;
  const alpha = op === Elementwise.Step || op === Elementwise.LeakyRelu ? Number((args.attrs as Record<string, unknown>).alpha ?? 0) : 0;
  const out = ad.alloc(x.shape);
  const [X, xOff] = ad.view(x);
  lib.elementwise(op, X, xOff, X, xOff, 1, ...ad.view(out), n, alpha);
  return out;
}
