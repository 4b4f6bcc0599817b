/**
 * The optional native addon (native/src/genlab_native.c, OpenBLAS; built at install by scripts/build-native.js):
 * its interface and loading it once. The kernels in engine/kernels/, fused Adam and the Bernoulli sampler run on it.
 */
import * as path from 'node:path';

/** The functions native/src/genlab_native.c exports. */
export interface NativeAddon {
  /** Batched row-major C_i[m,n] = op(A_i) op(B_i); strides of 0 broadcast; arrays may alias (one heap). */
  sgemm(
    A: Float32Array, aOff: number, aStride: number,
    B: Float32Array, bOff: number, bStride: number,
    C: Float32Array, cOff: number,
    batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean,
    alpha?: number, beta?: number,
  ): void;
  /** out[i] = 1 if u_i < p[i] else 0, u from genlab's xoshiro128** whose state (Int32Array(4)) advances in place. */
  bernoulli(state: Int32Array, p: Float32Array, pOff: number, out: Float32Array, outOff: number, n: number): void;
  uniform(state: Int32Array, out: Float32Array, outOff: number, n: number): void;
  /**
   * One threaded pass: op 0 add, 1 multiply (out[i] = a[i] op b[(i / block) period + i % period]; block defaults
   * to n: b repeats with `period`), 2 relu, 3 step(alpha), 4 softplus, 5 leaky relu(alpha) (b, period and block
   * ignored).
   */
  elementwise(
    op: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number, period: number,
    out: Float32Array, outOff: number, n: number, alpha: number, block?: number,
  ): void;
  /** Interface version of the build (see NATIVE_ABI). */
  abi?: number;
  /**
   * NHWC convolution y = conv(x, W) (+ bias[outC], or null), geometry Int32Array(15): [batch, inH, inW, inC, outH,
   * outW, fH, fW, strideH, strideW, dilH, dilW, padTop, padLeft, outC].
   */
  conv2d(
    x: Float32Array, xOff: number, w: Float32Array, wOff: number, bias: Float32Array | null, bOff: number,
    y: Float32Array, yOff: number, geometry: Int32Array,
  ): void;
  /** Its input gradient dx from dy (also conv2dTranspose's forward pass). */
  conv2dBackpropInput(dy: Float32Array, dyOff: number, w: Float32Array, wOff: number, dx: Float32Array, dxOff: number, geometry: Int32Array): void;
  /** Its filter gradient dW from x and dy. */
  conv2dBackpropFilter(x: Float32Array, xOff: number, dy: Float32Array, dyOff: number, dw: Float32Array, dwOff: number, geometry: Int32Array): void;
  /** dst[b, c, r] = src[b, r, c] for src [batch, rows, cols] (4-byte elements). */
  transpose(src: Float32Array, srcOff: number, dst: Float32Array, dstOff: number, batch: number, rows: number, cols: number): void;
  /** dst[r * dstStride + j] = src[r * srcStride + j] for r < rows, j < len (4-byte elements, bit for bit). */
  copyRows(
    src: Float32Array, srcOff: number, srcStride: number, dst: Float32Array, dstOff: number, dstStride: number,
    rows: number, len: number,
  ): void;
  /** dst[i, :] = src[idx[i], :]; false (nothing copied) when an index is outside [0, nRows). */
  gatherRows(
    src: Float32Array, srcOff: number, nRows: number, rowLen: number,
    idx: Int32Array, idxOff: number, nIdx: number, dst: Float32Array, dstOff: number,
  ): boolean;
  /** One fused Adam step: (x, m, v, g) -> (x2, m2, v2); params [lr, beta1, beta2, epsilon, c1, c2]. */
  adam(
    x: Float32Array, xo: number, m: Float32Array, mo: number, v: Float32Array, vo: number, g: Float32Array, go: number,
    x2: Float32Array, xo2: number, m2: Float32Array, mo2: number, v2: Float32Array, vo2: number,
    n: number, params: Float64Array,
  ): void;
  /**
   * GroupNorm over NHWC x [n, hw, c] in `dims` [n, hw, c, groups], then SiLU when `silu`: writes y and
   * stats [n, groups, 2] (each group's mean and 1 / sqrt(var + eps)).
   */
  groupNorm(
    x: Float32Array, xOff: number, gamma: Float32Array, gOff: number, beta: Float32Array, bOff: number,
    y: Float32Array, yOff: number, stats: Float32Array, sOff: number, dims: Int32Array, eps: number, silu: boolean,
  ): void;
  /** The gradients of {@link groupNorm} for dy: dx, dgamma, dbeta (from x, gamma, beta and its stats). */
  groupNormGrad(
    dy: Float32Array, dyOff: number, x: Float32Array, xOff: number, gamma: Float32Array, gOff: number,
    beta: Float32Array, bOff: number, stats: Float32Array, sOff: number, dx: Float32Array, dxOff: number,
    dgamma: Float32Array, dgOff: number, dbeta: Float32Array, dbOff: number, dims: Int32Array, silu: boolean,
  ): void;
  /** out[i] = a[i] > b (op 0) or >= b (op 1) as 1 or 0 bytes, b = b[i] or, with scalarB, b[0]; NaN gives 0. */
  compare(
    op: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number, scalarB: boolean,
    out: Uint8Array, outOff: number, n: number,
  ): void;
  /** out[i] = cond[i] ? t[i] : e[i]. */
  select(
    cond: Uint8Array, cOff: number, t: Float32Array, tOff: number, e: Float32Array, eOff: number,
    out: Float32Array, outOff: number, n: number,
  ): void;
  /** Threads for products, convolution helpers and elementwise passes (the addon's own pool; OpenBLAS runs on 1). */
  setThreads(n: number): void;
  getThreads(): number;
  config(): string;
}

let addon: NativeAddon | null | undefined; // undefined: not tried yet
/** The addon interface this file expects (native/src/genlab_native.c, GENLAB_NATIVE_ABI). */
const NATIVE_ABI = 5;
let note = '';

/** Where scripts/build-native.js puts the addon, relative to this file (lib/ or dist/lib/). */
function addonCandidates(): string[] {
  const rel = path.join('native', 'build', 'Release', 'genlab_native.node');
  return [path.resolve(__dirname, '..', '..', '..', rel), path.resolve(__dirname, '..', '..', rel)]; // from dist/lib/engine, from lib/engine
}

/** The addon, loaded on first call; null (and {@link addonNote} says why) when it is absent or stale. */
export function loadAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  const reasons: string[] = [];
  for (const file of addonCandidates()) {
    try {
      const lib = require(file) as NativeAddon; // eslint-disable-line @typescript-eslint/no-require-imports
      if (lib.abi !== NATIVE_ABI) {
        reasons.push(`${file} was built from older sources (interface ${lib.abi ?? 1}, need ${NATIVE_ABI}): rebuild it`);
        continue;
      }
      addon = lib;
      note = `native OpenBLAS addon (${addon.config().trim()})`;
      return addon;
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0];
      reasons.push(msg.includes('Cannot find module') ? `${file} absent` : `${file}: ${msg}`);
    }
  }
  note =
    'native addon not built (run `node scripts/build-native.js`; needs libopenblas-dev): ' + reasons[0];
  return null;
}

/** One line for people: the addon's build once {@link loadAddon} found it, else why it is not in use. */
export function addonNote(): string {
  return note;
}
