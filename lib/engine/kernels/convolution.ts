/**
 * Convolutions (native only): Conv2D (plain, and fused with a bias and an activation) and its input and filter
 * gradients (the input gradient is also conv2dTranspose's forward pass), NHWC, on the backend's memory by the
 * addon (im2col blocks times the filter: native/src/genlab_native.c). Shapes follow tfjs's
 * conv_util.computeConv2DInfo. (The WASM backend's missing gradients without the addon: engine/wasm-conv-grad.ts.)
 */
import { tf } from '../tf';
import type { NativeAddon } from '../native-addon';
import { Adapter, KernelArgs, TensorInfo, adapterFor, sizeOf } from './memory';
import { fusedEpilogue, knownActivation } from './products';

/**
 * Geometry for the addon's convolutions, as Int32Array:
 * [batch, inH, inW, inC, outH, outW, fH, fW, strideH, strideW, dilH, dilW, padTop, padLeft, outC].
 */
function convGeometry(info: tf.backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight,
    info.dilationWidth, info.padInfo.top, info.padInfo.left, info.outChannels,
  ]);
}

function convInfo(
  xShape: number[], filterShape: number[], attrs: Record<string, unknown>,
): tf.backend_util.Conv2DInfo | null {
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return null;
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    attrs.strides as number | [number, number], (attrs.dilations ?? 1) as number | [number, number],
    attrs.pad as 'valid' | 'same' | number | tf.backend_util.ExplicitPadding,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined, false, 'channelsLast',
  );
}

/** What the native convolution kernels share: memory access and geometry. */
interface ConvPlan {
  ad: Adapter;
  info: tf.backend_util.Conv2DInfo;
  geometry: Int32Array;
}

function planConv(
  args: KernelArgs, backendName: string, xShape: number[], filterShape: number[], operands: TensorInfo[],
): ConvPlan | null {
  const ad = adapterFor(backendName, args.backend);
  const info = convInfo(xShape, filterShape, args.attrs as Record<string, unknown>);
  if (!ad || !info || operands.some((t) => t.dtype !== 'float32')) return null;
  return { ad, info, geometry: convGeometry(info) };
}

/** y[b,oh,ow,oc] = sum_{fh,fw,ic} x[b, oh*s+fh*d-pad, ow*s+fw*d-pad, ic] W[fh,fw,ic,oc] (+ bias[oc]). */
function conv2D(lib: NativeAddon, p: ConvPlan, x: TensorInfo, filter: TensorInfo, bias?: TensorInfo): TensorInfo {
  const out = p.ad.alloc([p.info.batchSize, p.info.outHeight, p.info.outWidth, p.info.outChannels]);
  // Views after the allocation (the WASM heap may have moved).
  const [B, bOff] = bias ? p.ad.view(bias) : [null, 0];
  lib.conv2d(...p.ad.view(x), ...p.ad.view(filter), B, bOff, ...p.ad.view(out), p.geometry);
  return out;
}

export function nativeConv2D(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo | null {
  const { x, filter } = args.inputs as Record<string, TensorInfo>;
  const p = planConv(args, backendName, x.shape, filter.shape, [x, filter]);
  return p && conv2D(lib, p, x, filter);
}

/**
 * FusedConv2D (tf.layers' conv2d, tf.fused.conv2d) = activation(conv2d(x, W) + bias): the bias folded into the
 * product when it is one value per output channel, the activation as the backend's own kernel. The WASM backend's
 * own FusedConv2D (XNNPACK, one thread) took ~40% of a DCGAN step.
 */
export function nativeFusedConv2D(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo | null {
  const inputs = args.inputs as Record<string, TensorInfo | undefined>;
  const [x, filter, bias] = [inputs.x as TensorInfo, inputs.filter as TensorInfo, inputs.bias];
  const activation = ((args.attrs as Record<string, unknown>).activation as string | undefined) ?? 'linear';
  if (!knownActivation(activation)) return null;
  const p = planConv(args, backendName, x.shape, filter.shape, [x, filter]);
  if (!p) return null;
  const foldable = bias !== undefined && bias.dtype === 'float32' && sizeOf(bias.shape) === p.info.outChannels &&
    bias.shape[bias.shape.length - 1] === p.info.outChannels;
  const out = conv2D(lib, p, x, filter, foldable ? bias : undefined);
  return fusedEpilogue(out, args, backendName, p.ad, foldable ? undefined : bias);
}

/** dx = col2im(dy[rows,outC] @ W[kk,outC]^T): the gradient of Conv2D w.r.t. its input (= transposed conv). */
export function nativeConv2DBackpropInput(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo | null {
  const { dy, filter } = args.inputs as Record<string, TensorInfo>;
  const inputShape = (args.attrs as Record<string, unknown>).inputShape as number[];
  const p = planConv(args, backendName, inputShape, filter.shape, [dy, filter]);
  if (!p) return null;
  const out = p.ad.alloc([p.info.batchSize, p.info.inHeight, p.info.inWidth, p.info.inChannels]);
  lib.conv2dBackpropInput(...p.ad.view(dy), ...p.ad.view(filter), ...p.ad.view(out), p.geometry);
  return out;
}

/** dW[kk,outC] = im2col(x)[rows,kk]^T @ dy[rows,outC]: the gradient of Conv2D w.r.t. its filter. */
export function nativeConv2DBackpropFilter(lib: NativeAddon, args: KernelArgs, backendName: string): TensorInfo | null {
  const { x, dy } = args.inputs as Record<string, TensorInfo>;
  const filterShape = (args.attrs as Record<string, unknown>).filterShape as number[];
  const p = planConv(args, backendName, x.shape, filterShape, [x, dy]);
  if (!p) return null;
  const out = p.ad.alloc(filterShape);
  lib.conv2dBackpropFilter(...p.ad.view(x), ...p.ad.view(dy), ...p.ad.view(out), p.geometry);
  return out;
}
