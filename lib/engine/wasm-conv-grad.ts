/**
 * Convolution gradient kernels for the WASM backend.
 *
 * tfjs-backend-wasm 4.22 registers `Conv2D` and `Conv2DBackpropInput` (the latter is also the forward pass of
 * `conv2dTranspose`) but not `Conv2DBackpropFilter`, so any model with a Conv2D or Conv2DTranspose layer cannot
 * compute weight gradients there. This module registers `Conv2DBackpropFilter` for 'wasm', written with ops the
 * WASM backend has (pad, strided slices, concat, transpose, one matMul), so the work stays on WASM: nothing
 * falls back to the CPU backend.
 *
 * The maths (NHWC, filter [kh, kw, ci, co], output [n, oh, ow, co], padding top/left from the conv info):
 *
 *   dW[i, j, c, o] = sum_{b, y, x} xPad[b, y*sh + i, x*sw + j, c] * dy[b, y, x, o]
 *
 * i.e. for each tap (i, j), with T_ij [n*oh*ow, ci] the input pixels under that tap for every output position,
 * dW[i, j] = T_ij^T dy  ([ci, n*oh*ow] x [n*oh*ow, co]): kh*kw matrix products (im2col without the big matrix).
 *
 * Registration happens once, at backend selection (lib/engine/backend.ts calls registerFastKernels, which calls
 * {@link registerWasmConvGradients} first); it is idempotent, and leaves an existing `Conv2DBackpropFilter` kernel
 * for 'wasm' alone (a future tfjs version may ship one). Models register nothing.
 */
import { tf } from './tf';

/** Attributes tfjs passes to the Conv2DBackpropFilter kernel. */
interface BackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** Convolution geometry (NHWC, dilation 1) from tfjs's own conv_util, with short names. */
function geometry(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: [number, number] | number,
  pad: BackpropFilterAttrs['pad'],
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
) {
  const i = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  return {
    n: i.batchSize, h: i.inHeight, w: i.inWidth, ci: i.inChannels, oh: i.outHeight, ow: i.outWidth, co: i.outChannels,
    kh: i.filterHeight, kw: i.filterWidth, sh: i.strideHeight, sw: i.strideWidth, top: i.padInfo.top, left: i.padInfo.left,
  };
}

/**
 * Gradient of a 2D convolution with respect to its filter, computed with ordinary ops on the current backend.
 * `x` [n, h, w, ci] is the convolution input, `dy` [n, oh, ow, co] the gradient of its output; returns
 * dW [kh, kw, ci, co]. Exported for tests; models never call it directly.
 */
export function conv2dBackpropFilterByOps(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: [number, number] | number,
  pad: BackpropFilterAttrs['pad'],
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  const { n, h, w, ci, oh, ow, co, kh, kw, sh, sw, top, left } = geometry(x.shape, filterShape, strides, pad, dimRoundingMode);
  return tf.tidy(() => {
    // Strided slices are slow on WASM, so taps are cut with plain slices from stride-phase planes:
    // pad/crop x to Hp = H2*sh rows (H2 = oh + ceil(kh/sh) - 1, enough for every tap), view it as
    // [n, H2, sh, W2, sw, ci]; plane (a, b) holds rows y*sh + a and columns x*sw + b. Tap (i, j) reads
    // xPad[y*sh + i, x*sw + j] = plane(i % sh, j % sw)[y + floor(i/sh), x + floor(j/sw)].
    const H2 = oh + Math.ceil(kh / sh) - 1;
    const W2 = ow + Math.ceil(kw / sw) - 1;
    const Hp = H2 * sh;
    const Wp = W2 * sw;
    let xPad: tf.Tensor = x;
    const padBottom = Math.max(0, Hp - top - h);
    const padRight = Math.max(0, Wp - left - w);
    if (top || left || padBottom || padRight) {
      xPad = tf.pad(x, [
        [0, 0],
        [top, padBottom],
        [left, padRight],
        [0, 0],
      ]);
    }
    if (xPad.shape[1] !== Hp || xPad.shape[2] !== Wp) xPad = xPad.slice([0, 0, 0, 0], [n, Hp, Wp, ci]);
    // Rank 4 (the WASM Slice kernel is fast up to rank 4): [n*H2, sh, W2, sw*ci].
    const phased = xPad.reshape([n * H2, sh, W2, sw * ci]);
    const planes = new Map<string, tf.Tensor4D>();
    const plane = (a: number, b: number): tf.Tensor4D => {
      const key = `${a},${b}`;
      let p = planes.get(key);
      if (!p) {
        p = (sh === 1 && sw === 1 ? xPad : phased.slice([0, a, 0, b * ci], [n * H2, 1, W2, ci])).reshape([n, H2, W2, ci]) as tf.Tensor4D;
        planes.set(key, p);
      }
      return p;
    };
    // Per tap, dW[i, j] = tap^T dy ([ci, N] x [N, co], N = n*oh*ow). WASM's matMul with a transposed operand is
    // many times slower, so one side is transposed explicitly: the taps when that moves less data (kh*kw*ci < co;
    // free when ci = 1), else dy once, computing dW[i, j]^T = dy^T tap instead.
    const N = n * oh * ow;
    const dy2 = dy.reshape([N, co]);
    const transposeTaps = kh * kw * ci < co;
    const dyT = transposeTaps ? null : tf.transpose(dy2); //                                             [co, N]
    const blocks: tf.Tensor[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const tap = plane(i % sh, j % sw)
          .slice([0, Math.floor(i / sh), Math.floor(j / sw), 0], [n, oh, ow, ci])
          .reshape([N, ci]); //                                                                        [N, ci]
        blocks.push(
          dyT
            ? tf.matMul(dyT, tap) //                                                                   [co, ci]
            : tf.matMul(ci === 1 ? tap.reshape([1, N]) : tf.transpose(tap), dy2), //                   [ci, co]
        );
      }
    }
    const stacked = tf.stack(blocks); // [kh*kw, co, ci] or [kh*kw, ci, co]
    return (dyT ? stacked.reshape([kh, kw, co, ci]).transpose([0, 1, 3, 2]) : stacked.reshape([kh, kw, ci, co])) as tf.Tensor4D;
  });
}

/**
 * Gradient of a 2D convolution with respect to its input (also the forward pass of conv2dTranspose), with ordinary
 * ops: `dy` [n, oh, ow, co], `filter` [kh, kw, ci, co] -> dx [n, h, w, ci] for `inputShape` [n, h, w, ci].
 *
 *   dx[b, y*sh + i - top, x*sw + j - left, c] += sum_o dy[b, y, x, o] W[i, j, c, o]      (col2im of dy W^T)
 *
 * G_ij = dy W[i, j]^T ([n*oh*ow, co] x [co, ci]) for each tap; each is added into the
 * stride-phase plane (i % sh, j % sw) at offset (floor(i/sh), floor(j/sw)); the planes are interleaved back into
 * the padded grid and cropped. Exported for tests; models never call it directly.
 */
export function conv2dBackpropInputByOps(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  strides: [number, number] | number,
  pad: BackpropFilterAttrs['pad'],
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  const { n, h, w, ci, oh, ow, co, kh, kw, sh, sw, top, left } = geometry(inputShape, filter.shape, strides, pad, dimRoundingMode);
  return tf.tidy(() => {
    const dy2 = dy.reshape([n * oh * ow, co]); //                                                         [N, co]
    const H2 = oh + Math.ceil(kh / sh) - 1;
    const W2 = ow + Math.ceil(kw / sw) - 1;
    // planes[a][b]: sum of the taps with i % sh = a, j % sw = b, each shifted by (floor(i/sh), floor(j/sw)).
    const parts: tf.Tensor[][][] = Array.from({ length: sh }, () => Array.from({ length: sw }, () => []));
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const di = Math.floor(i / sh);
        const dj = Math.floor(j / sw);
        // This tap's share G_ij = dy W[i, j]^T: [N, co] x [co, ci] (one product per tap: the outputs come out
        // contiguous, where slicing one [N, kh*kw*ci] product along its last axis is slow on WASM).
        const wT = tf.transpose(filter.slice([i, j, 0, 0], [1, 1, ci, co]).reshape([ci, co])); //            [co, ci]
        const tap = tf.matMul(dy2, wT).reshape([n, oh, ow, ci]);
        parts[i % sh][j % sw].push(
          tf.pad(tap, [
            [0, 0],
            [di, H2 - oh - di],
            [dj, W2 - ow - dj],
            [0, 0],
          ]),
        );
      }
    }
    const plane = (a: number, b: number): tf.Tensor => {
      const ps = parts[a][b];
      if (ps.length === 0) return tf.zeros([n, H2, W2, ci]);
      return ps.length === 1 ? ps[0] : tf.addN(ps);
    };
    let full: tf.Tensor; //                                                                        [n, H2*sh, W2*sw, ci]
    if (sh === 1 && sw === 1) {
      full = plane(0, 0);
    } else {
      const rows: tf.Tensor[] = [];
      for (let a = 0; a < sh; a++) {
        const cols = Array.from({ length: sw }, (_, b) => plane(a, b));
        rows.push(sw === 1 ? cols[0] : tf.stack(cols, 3).reshape([n, H2, W2 * sw, ci])); // column x*sw + b
      }
      full = sh === 1 ? rows[0] : tf.stack(rows, 2).reshape([n, H2 * sh, W2 * sw, ci]); //    row y*sh + a
    }
    // The padded grid starts at input row -top; crop (or zero-extend) to the input.
    const needH = top + h - full.shape[1]!;
    const needW = left + w - full.shape[2]!;
    if (needH > 0 || needW > 0) {
      full = tf.pad(full, [
        [0, 0],
        [0, Math.max(0, needH)],
        [0, Math.max(0, needW)],
        [0, 0],
      ]);
    }
    return full.slice([0, top, left, 0], [n, h, w, ci]) as tf.Tensor4D;
  });
}

/**
 * Registers the missing convolution gradient kernel(s) for the 'wasm' backend. Called by registerFastKernels at
 * backend selection (before the native kernels, which wrap these); safe to call
 * again (a kernel already registered, e.g. genlab's native OpenBLAS kernels from lib/engine/kernels/convolution.ts, is kept). Returns the names of the kernels this call registered (empty when nothing was missing).
 */
export function registerWasmConvGradients(): string[] {
  const added: string[] = [];
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs }) => {
        const { x, dy } = inputs as unknown as { x: tf.Tensor4D; dy: tf.Tensor4D };
        const a = attrs as unknown as BackpropFilterAttrs;
        if (a.dataFormat === 'NCHW') {
          throw new Error("Conv2DBackpropFilter on 'wasm' (genlab) supports dataFormat 'NHWC' only; got 'NCHW'");
        }
        // Kernel inputs are Tensors when called from ops, bare TensorInfos when called from other kernels.
        const xv = asTensor(x);
        const dyv = asTensor(dy);
        const out = conv2dBackpropFilterByOps(
          xv.tensor as tf.Tensor4D,
          dyv.tensor as tf.Tensor4D,
          a.filterShape,
          a.strides,
          a.pad,
          a.dimRoundingMode,
        );
        if (xv.owned) xv.tensor.dispose();
        if (dyv.owned) dyv.tensor.dispose();
        return out;
      },
    });
    added.push('Conv2DBackpropFilter');
  }
  // WASM's own Conv2DBackpropInput is a scalar loop; the version above runs its work as one XNNPACK matMul plus
  // pads and adds (several times faster at the lecture model's sizes). Replaced once; NCHW goes to the original.
  // Once only: a later call must not wrap whatever is registered by then (genlab's native kernel from
  // lib/engine/kernels/convolution.ts wraps this version and would be bypassed; measured: the conv VAE 2x slower).
  const current = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (current && replacedInput.size === 0) {
    const original = current;
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    const kernelFunc: tf.KernelFunc = (args) => {
      const a = args.attrs as unknown as BackpropInputAttrs;
      if (a.dataFormat === 'NCHW') return original.kernelFunc(args);
      const { dy, filter } = args.inputs as unknown as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      const dyv = asTensor(dy);
      const fv = asTensor(filter);
      const out = conv2dBackpropInputByOps(dyv.tensor as tf.Tensor4D, fv.tensor as tf.Tensor4D, a.inputShape, a.strides, a.pad, a.dimRoundingMode);
      if (dyv.owned) dyv.tensor.dispose();
      if (fv.owned) fv.tensor.dispose();
      return out;
    };
    replacedInput.add(kernelFunc);
    tf.registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc, setupFunc: original.setupFunc });
    added.push('Conv2DBackpropInput');
  }
  return added;
}

/** Kernel functions this module registered for Conv2DBackpropInput (so a second call does not wrap them again). */
const replacedInput = new Set<tf.KernelFunc>();

/** Attributes tfjs passes to the Conv2DBackpropInput kernel. */
interface BackpropInputAttrs {
  strides: [number, number] | number;
  pad: BackpropFilterAttrs['pad'];
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/**
 * A Tensor for a kernel input. A bare TensorInfo gets a view sharing its data (no copy) that holds its own
 * reference on the backend, so disposing the view (`owned`) leaves the caller's data alive.
 */
function asTensor(info: tf.TensorInfo): { tensor: tf.Tensor; owned: boolean } {
  if (info instanceof tf.Tensor) return { tensor: info, owned: false };
  const engine = tf.engine();
  const tensor = engine.makeTensorFromTensorInfo(info);
  engine.backend.incRef(info.dataId);
  return { tensor, owned: true };
}
