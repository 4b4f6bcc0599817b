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
 * i.e. with the im2col matrix P [n*oh*ow, kh*kw*ci] whose row (b, y, x) holds the patch under output (b, y, x),
 * dW = P^T dy  ([kh*kw*ci, n*oh*ow] x [n*oh*ow, co]), reshaped to [kh, kw, ci, co].
 *
 * Registration happens when this module is imported (genlab's VAE imports it), is idempotent, and leaves an
 * existing `Conv2DBackpropFilter` kernel for 'wasm' alone (a future tfjs version may ship one).
 */
import { tf } from './backend';

/** Attributes tfjs passes to the Conv2DBackpropFilter kernel. */
interface BackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
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
  const info = tf.backend_util.computeConv2DInfo(
    x.shape,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow } = info;
  const { outChannels: co, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  return tf.tidy(() => {
    // Pad so that every patch lies inside xPad: rows top .. (oh-1)*sh + kh - 1 - top are read.
    const padBottom = Math.max(0, (oh - 1) * sh + kh - top - h);
    const padRight = Math.max(0, (ow - 1) * sw + kw - left - w);
    const xPad =
      top || left || padBottom || padRight
        ? tf.pad(x, [
            [0, 0],
            [top, padBottom],
            [left, padRight],
            [0, 0],
          ])
        : x;
    // One strided slice per filter tap (i, j): xPad[:, i::sh, j::sw, :] restricted to oh x ow.   [n, oh, ow, ci]
    const taps: tf.Tensor[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        taps.push(
          tf.stridedSlice(xPad, [0, i, j, 0], [n, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, ci], [1, sh, sw, 1]),
        );
      }
    }
    // im2col: P [n*oh*ow, kh*kw*ci], columns ordered (i, j, c) like the filter's flattening.
    const patches = (taps.length === 1 ? taps[0] : tf.concat(taps, 3)).reshape([n * oh * ow, kh * kw * ci]);
    // dW = P^T dy. The transpose is explicit: WASM's matMul with transposeA is many times slower.   [kh*kw*ci, co]
    const dW = tf.matMul(tf.transpose(patches), dy.reshape([n * oh * ow, co]));
    return dW.reshape([kh, kw, ci, co]) as tf.Tensor4D;
  });
}

let registered = false;

/**
 * Registers the missing convolution gradient kernel(s) for the 'wasm' backend. Called on import; safe to call
 * again. Returns the names of the kernels this call registered (empty when nothing was missing).
 */
export function registerWasmConvGradients(): string[] {
  if (registered) return [];
  registered = true;
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
  return added;
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

registerWasmConvGradients();
