/**
 * Bernoulli sampling in one pass (internal: used by the RBMs' samplers), on genlab's generator, and its uniforms
 * drawn by the addon: the same numbers as `Random` draws in JavaScript, faster.
 */
import { tf } from '../tf';
import type { Random } from '../random';
import { NativeAddon, loadAddon } from '../native-addon';
import { KernelArgs, TensorInfo, adapterFor, sizeOf } from './memory';

/** Name of genlab's Bernoulli sampling kernel (registered for 'wasm' and 'cpu' with the addon). */
export const BERNOULLI_KERNEL = 'GenlabBernoulli';

/** out = 1 where u < p (u uniform from the generator whose state is attrs.state), one pass, no temporaries. */
export function bernoulliKernel(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo | null {
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
