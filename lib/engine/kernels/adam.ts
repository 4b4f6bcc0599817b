/**
 * Fused Adam: one kernel per variable instead of ~12 elementwise kernels (each a pass over memory). The optimizer
 * that runs it is engine/fused-adam.ts.
 */
import type { NativeAddon } from '../native-addon';
import { KernelArgs, TensorInfo, adapterFor, sizeOf } from './memory';

/** Name of genlab's fused Adam kernel (registered for 'wasm' and 'cpu' by `registerFastKernels` with the addon). */
export const FUSED_ADAM_KERNEL = 'GenlabFusedAdam';

/**
 * x, m, v, g -> x', m', v' with (Kingma & Ba 2015, as tf.train.adam computes it)
 *   m' = b1 m + (1 - b1) g,   v' = b2 v + (1 - b2) g^2,   x' = x - lr (m' / c1) / (sqrt(v' / c2) + eps)
 * where c1 = 1 - b1^t and c2 = 1 - b2^t are the bias corrections of step t.
 */
export function fusedAdamKernel(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo[] {
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
