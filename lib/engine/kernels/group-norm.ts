/**
 * GroupNorm (optionally followed by SiLU) and its gradients as two native passes each: the kernels under the engine
 * op `groupNorm` (engine/group-norm.ts) on WASM, where the same maths as broadcasting tf ops took ~60% of a U-Net
 * step. Registered on 'wasm' with the addon only; elsewhere the op runs as tf ops.
 */
import type { NativeAddon } from '../native-addon';
import { KernelArgs, TensorInfo, adapterFor } from './memory';

/** Name of genlab's GroupNorm forward kernel: x, gamma, beta -> y, stats [n, groups, 2] (mean, 1/std). */
export const GROUP_NORM_KERNEL = 'GenlabGroupNorm';
/** Name of its gradient kernel: dy, x, gamma, beta, stats -> dx, dgamma, dbeta. */
export const GROUP_NORM_GRAD_KERNEL = 'GenlabGroupNormGrad';

/** Attributes of both kernels. */
interface GroupNormAttrs {
  groups: number;
  epsilon: number;
  silu: boolean;
}

/** The addon's dims [n, hw, c, groups] for NHWC x. */
function dims(x: TensorInfo, groups: number): Int32Array {
  const [n, h, w, c] = x.shape;
  return Int32Array.from([n, h * w, c, groups]);
}

const float32 = (ts: TensorInfo[]) => ts.every((t) => t.dtype === 'float32');

/** y = GroupNorm(x) gamma + beta (then SiLU), and each (example, group)'s mean and 1/sqrt(var + eps). */
export function groupNormKernel(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo[] | null {
  const { x, gamma, beta } = args.inputs as Record<string, TensorInfo>;
  const { groups, epsilon, silu } = args.attrs as unknown as GroupNormAttrs;
  const ad = adapterFor(backendName, args.backend);
  if (!ad || x.shape.length !== 4 || !float32([x, gamma, beta])) return null;
  const y = ad.alloc(x.shape);
  const stats = ad.alloc([x.shape[0], groups, 2]);
  // Views after the allocations (the WASM heap may have moved).
  lib.groupNorm(
    ...ad.view(x), ...ad.view(gamma), ...ad.view(beta), ...ad.view(y), ...ad.view(stats), dims(x, groups), epsilon, silu,
  );
  return [y, stats];
}

/** dx, dgamma, dbeta of {@link groupNormKernel} for the output gradient dy. */
export function groupNormGradKernel(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo[] | null {
  const { dy, x, gamma, beta, stats } = args.inputs as Record<string, TensorInfo>;
  const { groups, silu } = args.attrs as unknown as GroupNormAttrs;
  const ad = adapterFor(backendName, args.backend);
  if (!ad || x.shape.length !== 4 || !float32([dy, x, gamma, beta, stats])) return null;
  const dx = ad.alloc(x.shape);
  const dgamma = ad.alloc(gamma.shape);
  const dbeta = ad.alloc(beta.shape);
  lib.groupNormGrad(
    ...ad.view(dy), ...ad.view(x), ...ad.view(gamma), ...ad.view(beta), ...ad.view(stats),
    ...ad.view(dx), ...ad.view(dgamma), ...ad.view(dbeta), dims(x, groups), silu,
  );
  return [dx, dgamma, dbeta];
}
