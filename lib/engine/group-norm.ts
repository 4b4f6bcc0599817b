/**
 * GroupNorm (Wu & He 2018), optionally followed by SiLU, as one op with its own gradient: the U-Net's
 * conv-GroupNorm-SiLU blocks (lib/diffusion/networks.ts) call it. On WASM with the native addon its forward and
 * backward passes are two native kernels each (engine/kernels/group-norm.ts); elsewhere (cpu, the native TensorFlow
 * backend, where compiled steps record them into the graph; TensorFlow has no GroupNorm op) they are tf ops.
 */
import { tf } from './tf';
import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL } from './kernels/group-norm';

/** Options of {@link groupNorm}. */
export interface GroupNormOptions {
  /** Apply SiLU, y = z sigmoid(z), to the normalised output z (fused into the same passes). Default false. */
  silu?: boolean;
}

/**
 * GroupNorm on NHWC maps: channels split into `groups` groups, each group normalised over (h, w, C/G) per example,
 * then scaled and shifted per channel, then (with `silu`) SiLU:
 *   z = gamma xhat + beta,  xhat = (x - mean_g) / sqrt(var_g + eps),  y = z  or  z sigmoid(z).
 * The gradient is written out rather than traced through `moments`: with dxhat = gamma dz,
 *   dx = (dxhat - mean_g(dxhat) - xhat mean_g(dxhat xhat)) / sqrt(var_g + eps),
 *   dgamma = sum_{n,h,w} dz xhat,  dbeta = sum_{n,h,w} dz.
 *
 * @param x `[n, h, w, c]`.
 * @param gamma `[c]` scales; @param beta `[c]` shifts.
 * @param groups a positive integer dividing c.
 * @param eps added to each group's variance, > 0 (PyTorch's default 1e-5).
 */
export function groupNorm(
  x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, groups: number, eps = 1e-5, options: GroupNormOptions = {},
): tf.Tensor4D {
  if (!(x instanceof tf.Tensor) || x.rank !== 4) throw new TypeError(`groupNorm: x must be a rank-4 tensor [n, h, w, c]; got ${x instanceof tf.Tensor ? `shape [${x.shape}]` : typeof x}`);
  const c = x.shape[3];
  for (const [name, t] of [['gamma', gamma], ['beta', beta]] as const) {
    if (!(t instanceof tf.Tensor) || t.rank !== 1 || t.shape[0] !== c) {
      throw new TypeError(`groupNorm: ${name} must have shape [${c}] (x's channels); got ${t instanceof tf.Tensor ? `[${t.shape}]` : typeof t}`);
    }
  }
  if (!(Number.isInteger(groups) && groups > 0 && c % groups === 0)) {
    throw new RangeError(`groupNorm: groups must be a positive integer dividing the ${c} channels; got ${groups}`);
  }
  if (!(typeof eps === 'number' && eps > 0 && Number.isFinite(eps))) throw new RangeError(`groupNorm: eps must be a positive number; got ${eps}`);
  const silu = options.silu === true;
  const native =
    [x, gamma, beta].every((t) => t.dtype === 'float32') && tf.getKernel(GROUP_NORM_KERNEL, tf.getBackend()) !== undefined;
  if (native) return nativeGroupNorm(x, gamma, beta, groups, eps, silu);
  return tf.tidy(() => {
    const z = groupNormByOps(x, gamma, beta, groups, eps);
    return silu ? tf.mul(z, tf.sigmoid(z)) : z;
  });
}

/** The op on genlab's kernels: one forward kernel (y and the groups' statistics) and one gradient kernel. */
function nativeGroupNorm(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, groups: number, eps: number, silu: boolean): tf.Tensor4D {
  const attrs = { groups, epsilon: eps, silu } as unknown as tf.NamedAttrMap;
  const f = tf.customGrad((...args: unknown[]) => {
    const [xIn, gIn, bIn] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    const save = args[3] as (ts: tf.Tensor[]) => void;
    const [y, stats] = tf.engine().runKernel(GROUP_NORM_KERNEL, { x: xIn, gamma: gIn, beta: bIn }, attrs) as tf.Tensor[];
    save([xIn, gIn, bIn, stats]);
    return {
      value: y as tf.Tensor4D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, gs, bs, st] = saved;
        return tf.engine().runKernel(GROUP_NORM_GRAD_KERNEL, { dy, x: xs, gamma: gs, beta: bs, stats: st }, attrs) as tf.Tensor[];
      },
    };
  });
  return f(x, gamma, beta) as tf.Tensor4D;
}

/**
 * GroupNorm without SiLU as tf ops with the hand-written gradient above (fewer broadcasting ops than tracing
 * `moments`): the op wherever genlab's kernels are not registered, and the reference the kernels are tested against.
 */
export function groupNormByOps(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, groups: number, eps: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const shape = [n, h * w, groups, c / groups]; //                                                  [n, hw, G, C/G]
  const f = tf.customGrad((...args: unknown[]) => {
    const [xIn, gIn, bIn] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    const save = args[3] as (ts: tf.Tensor[]) => void;
    const xg = xIn.reshape(shape);
    const xc = xg.sub(xg.mean([1, 3], true));
    const inv = tf.rsqrt(xc.square().mean([1, 3], true).add(eps)); //                              [n, 1, G, 1]
    const xhat = xc.mul(inv);
    save([xhat, inv, gIn]);
    return {
      value: xhat.reshape(xIn.shape).mul(gIn).add(bIn) as tf.Tensor4D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, iv, gm] = saved;
        const dy4 = dy.reshape([n * h * w, c]);
        const dgamma = dy4.mul(xh.reshape([n * h * w, c])).sum(0);
        const dbeta = dy4.sum(0);
        const dxhat = dy.mul(gm).reshape(shape);
        const dx = dxhat.sub(dxhat.mean([1, 3], true)).sub(xh.mul(dxhat.mul(xh).mean([1, 3], true))).mul(iv);
        return [dx.reshape(xIn.shape), dgamma, dbeta];
      },
    };
  });
  return f(x, gamma, beta) as tf.Tensor4D;
}
