/**
 * Faster kernels registered on the TensorFlow.js backends genlab runs on.
 *
 * Why: profiling CD-1 and VAE training on the WASM backend (bench/RESULTS.md) shows the matrix products
 * dominate, and the WASM `BatchMatMul` with `transposeA`/`transposeB` set is 8-15x slower than transposing
 * explicitly first. TensorFlow.js lets a program replace a backend's kernel (`tf.registerKernel`), so
 * {@link registerFastKernels} swaps in:
 *
 * - `BatchMatMul` and `_FusedMatMul` on `wasm`: with the optional native addon (native/, OpenBLAS), the product
 *   runs as `cblas_sgemm` directly on the WASM heap (no copies; transposes handled by BLAS); without it, a
 *   transposed operand is transposed explicitly and the original kernel runs untransposed.
 * - `BatchMatMul` and `_FusedMatMul` on `cpu`: with the addon only (the pure-JS product is ~100x slower).
 * - `Conv2D`, `FusedConv2D` (bias folded in, activation composed), `Conv2DBackpropInput` (also conv2dTranspose's
 *   forward pass) and `Conv2DBackpropFilter` on `wasm` and `cpu`: with the addon only, as `cblas_sgemm` on blocks
 *   of im2col rows that stay in cache (the WASM backend ships no `Conv2DBackpropFilter` at all).
 * - `Sum` and `Mean` over a run of axes before the last (bias gradients, BatchNorm moments, the gradient of a
 *   per-example shift) on `wasm` and `cpu`: with the addon only, as products with ones.
 * - `Concat` and `SplitV` along any axis, on `wasm` and `cpu`: with the addon only, as threaded row copies.
 * - `Add`, `Multiply` (same shape, a bias broadcast along leading axes, or a [n, 1, 1, c] term), `Relu`, `Step`,
 *   `Softplus`, `LeakyRelu`, `Greater` and `GreaterEqual` (same shape or a scalar) and `Select` of 32768 values or
 *   more, on `wasm` and `cpu`: with the addon only, one threaded native pass each.
 * - genlab's GroupNorm (+ SiLU) forward and gradient kernels on `wasm`, with the addon only: the engine op
 *   `groupNorm` (engine/group-norm.ts) runs on them there, as tf ops elsewhere.
 * - `Cast` to the tensor's own dtype on `wasm`: shares the buffer (tfjs's ReLU gradient casts a float32 step).
 * - The gradients of `Mean` and `Sum` (every backend, kernels/gradients.ts): dy spread with ones made by the
 *   backend instead of an array of the input's size made in JavaScript at every step.
 * - `Tile` that repeats a whole tensor along leading axes on `wasm` (tfjs's BatchNorm gradient): block copies.
 *
 * The addon runs every call on all cores by default: it cuts products, convolution helpers and elementwise
 * passes into parts on its own thread pool (OpenBLAS itself stays on one thread). WASM's own kernels stay
 * single-threaded in Node.
 *
 * Every replacement computes the same function as the kernel it replaces (test/kernels.test.ts compares them
 * on random shapes, transposes and batch dimensions); results differ only by float rounding.
 *
 * Environment: `GENLAB_FAST_KERNELS=0` disables all replacements, `GENLAB_NATIVE=0` disables only the
 * addon, `GENLAB_BLAS_THREADS=n` sets the addon's thread count (default: one per core, see FastKernelOptions).
 */
export { registerFastKernels, unregisterFastKernels, fastKernelReport } from './kernels/register';
export type { FastKernelOptions, FastKernelReport } from './kernels/register';
// Internal fast paths the library's hot loops and argument checks call.
export { addProduct } from './kernels/products';
export { nativeBernoulli, uniformArray } from './kernels/bernoulli';
export { float32Range } from './kernels/memory';
