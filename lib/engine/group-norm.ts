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
  return native ? nativeGroupNorm(x, gamma, beta, groups, eps, silu) : groupNormByOps(x, gamma, beta, groups, eps, silu);
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
 * The op as tf ops with the gradient written out (tf.customGrad), wherever genlab's kernels are not registered
 * (cpu, the native TensorFlow backend, WASM without the addon), and the reference the kernels are tested against.
 * In the group layout [n, hw, G, C/G], with xc = x - mean_g and inv = 1 / sqrt(var_g + eps):
 *   forward   z = xc (inv gamma) + beta (and s = sigmoid(z), y = z s): 6 passes over x-sized tensors (8 with SiLU);
 *   backward  dz = dy, or dy s (1 + z (1 - s)) after SiLU; per (example, channel) S1 = sum_hw dz, S2 = sum_hw dz xc;
 *             dbeta = sum_n S1, dgamma = sum_n inv S2, and with m1 = mean_g(gamma S1 / hw), m2 = inv mean_g(gamma S2 / hw)
 *             (the group means of dxhat and dxhat xhat), dx = dz (inv gamma) - xc (inv^2 m2) - inv m1: 7 passes (12).
 * Traced through `moments` and a separate SiLU the same maths took 26 passes.
 */
export function groupNormByOps(
  x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, groups: number, eps: number, silu = false,
): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const cg = c / groups;
  const shape = [n, h * w, groups, cg]; //                                                          [n, hw, G, C/G]
  const perChannel = [1, 1, groups, cg];
  const size = h * w * cg; //                                                                   values per group
  const f = tf.customGrad((...args: unknown[]) => {
    const [xIn, gIn, bIn] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    const save = args[3] as (ts: tf.Tensor[]) => void;
    const xg = xIn.reshape(shape);
    const xc = xg.sub(xg.mean([1, 3], true));
    const inv = tf.rsqrt(xc.square().mean([1, 3], true).add(eps)); //                              [n, 1, G, 1]
    const g4 = gIn.reshape(perChannel);
    const z = xc.mul(inv.mul(g4)).add(bIn.reshape(perChannel)); //                                [n, hw, G, C/G]
    const sig = silu ? tf.sigmoid(z) : null;
    save(sig ? [xc, inv, gIn, z, sig] : [xc, inv, gIn]);
    return {
      value: (sig ? z.mul(sig) : z).reshape(xIn.shape) as tf.Tensor4D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xcs, iv, gm, zs, ss] = saved;
        let dz = dy.reshape(shape);
        if (ss) dz = dz.mul(ss.mul(tf.scalar(1).sub(ss).mul(zs).add(1))); //           dy s (1 + z (1 - s))
        const gs = gm.reshape(perChannel);
        const s1 = dz.sum(1, true); //                                                               [n, 1, G, C/G]
        const s2 = dz.mul(xcs).sum(1, true);
        const dbeta = s1.sum([0, 1]).reshape([c]);
        const dgamma = s2.mul(iv).sum([0, 1]).reshape([c]);
        const m1 = s1.mul(gs).sum(3, true).div(size); //                                               [n, 1, G, 1]
        const m2 = s2.mul(gs).sum(3, true).div(size).mul(iv);
        const dx = dz.mul(iv.mul(gs)).sub(xcs.mul(iv.mul(iv).mul(m2))).sub(iv.mul(m1));
        return [dx.reshape(xIn.shape), dgamma, dbeta];
      },
    };
  });
  return f(x, gamma, beta) as tf.Tensor4D;
}
