/**
 * Tensor types by example shape, so a model's outputs are typed by its `dataShape` and notebooks need no casts:
 * `new GAN({ dataShape: [784] })` samples `tf.Tensor2D` `[n, 784]`; `new DDPM({ dataShape: [28, 28, 1] })`
 * samples `tf.Tensor4D` `[n, 28, 28, 1]`.
 */
import type { tf } from '../engine/tf';

/**
 * The shape of one example: `[D]` (vectors) or `[height, width, channels]` (images). The tuple members make
 * TypeScript infer `dataShape: [784]` as `[number]` (not `number[]`), which picks the output types below.
 */
export type DataShape = [number] | [number, number, number] | number[];

/** A batch of examples of shape S: `[n, D]` is `tf.Tensor2D`, `[n, h, w, c]` is `tf.Tensor4D`, else `tf.Tensor`. */
export type BatchTensor<S extends DataShape> = [S] extends [[number]] ? tf.Tensor2D
  : [S] extends [[number, number, number]] ? tf.Tensor4D : tf.Tensor;

/** A chain of batches `[frames, n, ...S]`: `tf.Tensor3D` for vectors, `tf.Tensor5D` for images, else `tf.Tensor`. */
export type ChainTensor<S extends DataShape> = [S] extends [[number]] ? tf.Tensor3D
  : [S] extends [[number, number, number]] ? tf.Tensor5D : tf.Tensor;
