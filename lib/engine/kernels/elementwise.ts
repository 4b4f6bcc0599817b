/**
 * Large elementwise passes (native only): the bias adds, (leaky) ReLUs, ReLU gradients, softplus and masks of a conv
 * step run on activations of 10^5-10^6 values, where one threaded native pass beats the single-threaded WASM kernel. Smaller
 * tensors keep the original kernel (a native call costs more than it saves there).
 */
import type { NativeAddon } from '../native-addon';
import { KernelArgs, TensorInfo, adapterFor, sizeOf } from './memory';

/** Below this many values the original elementwise kernel runs. */
const ELEMENTWISE_MIN = 32768;

/** The addon's elementwise ops (its `elementwise` op codes). */
export const enum Elementwise { Add = 0, Multiply = 1, Relu = 2, Step = 3, Softplus = 4, LeakyRelu = 5 }

/**
 * How `small` broadcasts against `big` when the addon can do it in one pass: small's shape (left-padded with 1s to
 * big's rank) equals big's on a leading run of axes and on a trailing run, with 1s between (a bias [c] or [1, c]
 * repeats along leading axes: block = n; a per-(example, channel) shift [n, 1, 1, c] repeats inside each example).
 * period = the trailing run's size, block = the size of big below the leading run; null for any other broadcast.
 */
function broadcastPlan(big: number[], small: number[]): { period: number; block: number } | null {
  if (small.length > big.length) return null;
  const s = [...Array(big.length - small.length).fill(1), ...small];
  let trail = s.length;
  while (trail > 0 && s[trail - 1] === big[trail - 1]) trail--;
  let lead = 0;
  while (lead < trail && s[lead] === big[lead]) lead++;
  for (let i = lead; i < trail; i++) if (s[i] !== 1) return null;
  return { period: sizeOf(big.slice(trail)), block: sizeOf(big.slice(lead)) };
}

/**
 * Add or Multiply of float32 tensors of one shape, or with one broadcast along leading axes (a bias) or along
 * middle axes (a per-example, per-channel term: [n, 1, 1, c] against [n, h, w, c]).
 */
export function nativeBinary(lib: NativeAddon, op: Elementwise, args: KernelArgs, backendName: string): TensorInfo | null {
  const { a, b } = args.inputs as Record<string, TensorInfo>;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  // Both ops commute exactly in floating point, so the larger operand can go first.
  const [big, small] = sizeOf(b.shape) > sizeOf(a.shape) ? [b, a] : [a, b];
  const n = sizeOf(big.shape);
  const plan = broadcastPlan(big.shape, small.shape);
  const ad = adapterFor(backendName, args.backend);
  // Rows shorter than 8 values (e.g. a per-example scalar) would run a loop per value: the original does better.
  if (n < ELEMENTWISE_MIN || !plan || (plan.period < 8 && plan.period !== n) || !ad) return null;
  const out = ad.alloc(big.shape);
  lib.elementwise(op, ...ad.view(big), ...ad.view(small), plan.period, ...ad.view(out), n, 0, plan.block);
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

/**
 * Greater (op 0) or GreaterEqual (op 1) of a large float32 tensor and a tensor of its shape or a scalar, as a
 * bool mask in one native pass: the masks of a leaky ReLU's gradient (x > 0) and of dropout (u >= rate), where
 * WASM's own kernels take ~4 ms per 1.6M values.
 */
export function nativeCompare(lib: NativeAddon, op: 0 | 1, args: KernelArgs, backendName: string): TensorInfo | null {
  const { a, b } = args.inputs as Record<string, TensorInfo>;
  const n = sizeOf(a.shape);
  const scalar = sizeOf(b.shape) === 1 && b.shape.length <= a.shape.length;
  const ad = adapterFor(backendName, args.backend);
  if (!ad || a.dtype !== 'float32' || b.dtype !== 'float32' || n < ELEMENTWISE_MIN) return null;
  if (!scalar && (b.shape.length !== a.shape.length || b.shape.some((d, i) => d !== a.shape[i]))) return null;
  const out = ad.allocBool(a.shape);
  lib.compare(op, ...ad.view(a), ...ad.view(b), scalar, ...ad.viewBool(out), n);
  return out;
}

/** Select (tf.where) of large float32 tensors by a bool condition of the same shape, in one native pass. */
export function nativeSelect(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo | null {
  const { condition, t, e } = args.inputs as Record<string, TensorInfo>;
  const n = sizeOf(t.shape);
  const ad = adapterFor(backendName, args.backend);
  const same = (x: TensorInfo) => x.shape.length === t.shape.length && x.shape.every((d, i) => d === t.shape[i]);
  if (!ad || condition.dtype !== 'bool' || t.dtype !== 'float32' || e.dtype !== 'float32' || n < ELEMENTWISE_MIN) return null;
  if (!same(condition) || !same(e)) return null;
  const out = ad.alloc(t.shape);
  lib.select(...ad.viewBool(condition), ...ad.view(t), ...ad.view(e), ...ad.view(out), n);
  return out;
}
