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
