/**
 * Registration: which body replaces which kernel on which backend, with or without the addon, and the
 * environment switches (`GENLAB_FAST_KERNELS`, `GENLAB_NATIVE`, `GENLAB_BLAS_THREADS`). Backend selection calls
 * {@link registerFastKernels}; models never do.
 */
import * as os from 'node:os';
import { tf } from '../tf';
import { NativeAddon, addonNote, loadAddon } from '../native-addon';
import { registerWasmConvGradients } from '../wasm-conv-grad';
import { TensorInfo, adapterFor } from './memory';
import { FastKernelReport, fastKernelReport, replaceKernel, replacedKernels, restoreKernels, setFastKernelReport } from './registry';
import { clearTransposed, explicitTranspose, nativeFusedMatMul, nativeMatMul, nativeReduceAxes } from './products';
import { blockTile, nativeConcat, nativeGather, nativeSplitV, nativeTranspose, sameTypeCast, sharedIdentity } from './copies';
import { Elementwise, nativeBinary, nativeCompare, nativeSelect, nativeUnary } from './elementwise';
import { nativeConv2D, nativeConv2DBackpropFilter, nativeConv2DBackpropInput, nativeFusedConv2D } from './convolution';
import { FUSED_ADAM_KERNEL, fusedAdamKernel } from './adam';
import { BERNOULLI_KERNEL, bernoulliKernel } from './bernoulli';
import { replaceGradients, restoreGradients } from './gradients';
import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL, groupNormGradKernel, groupNormKernel } from './group-norm';

export { fastKernelReport };
export type { FastKernelReport };

/** Options for {@link registerFastKernels}. */
export interface FastKernelOptions {
  /**
   * Use the native OpenBLAS addon when it has been built (native/, built at install when libopenblas-dev is
   * present). Default: true unless the environment sets `GENLAB_NATIVE=0`.
   */
  native?: boolean;
  /**
   * Threads for the addon's products, convolution helpers and large elementwise passes, an integer >= 1.
   * Default: `GENLAB_BLAS_THREADS` if set, else one per core (`os.availableParallelism()`). The addon splits
   * each call over its own small pool (OpenBLAS itself runs on one thread: its threading sped up few of these
   * shapes and slowed some 4x); idle workers sleep after 0.3 ms. Measured on two cores: the conv VAE epoch
   * 10.4 -> 7.1 s, the dense VAE and RBM about even (bench/RESULTS.md, "Both engines on two cores").
   */
  threads?: number;
}

/** Which backends' kernel tables are loaded (the wasm table exists once @tensorflow/tfjs-backend-wasm loads). */
function loadedBackends(): string[] {
  return ['wasm', 'cpu'].filter((name) => tf.getKernel('BatchMatMul', name) !== undefined);
}

function envFlag(name: string): boolean | undefined {
  const v = (process.env[name] ?? '').toLowerCase();
  if (v === '') return undefined;
  return !(v === '0' || v === 'false' || v === 'no' || v === 'off');
}

/**
 * Registers every kernel genlab adds to TensorFlow.js on the loaded backends: the WASM convolution gradients
 * (lib/engine/wasm-conv-grad.ts; always) and the faster kernels of this folder (the list: engine/kernels.ts). Backend selection (lib/engine/backend.ts)
 * calls it once per selected backend; models never do. Idempotent. Results equal the original kernels' up to
 * float rounding.
 *
 * @returns what is active, with a one-line note (e.g. why the native addon is not in use).
 */
export function registerFastKernels(options: FastKernelOptions = {}): FastKernelReport {
  // Needed for correctness, not speed (WASM ships no Conv2DBackpropFilter): always, and before the native
  // kernels, which wrap these.
  registerWasmConvGradients();
  if (envFlag('GENLAB_FAST_KERNELS') === false) {
    setFastKernelReport({ active: false, kernels: [], native: false, threads: 0, note: 'disabled by GENLAB_FAST_KERNELS=0' });
    return fastKernelReport();
  }
  const wantNative = options.native ?? envFlag('GENLAB_NATIVE') ?? true;
  let lib: NativeAddon | null = null;
  let note: string;
  if (wantNative) {
    lib = loadAddon();
    note = addonNote();
  } else {
    note = 'native addon disabled' + (options.native === false ? '' : ' by GENLAB_NATIVE=0');
  }
  if (lib) {
    const envThreads = Number(process.env.GENLAB_BLAS_THREADS ?? '');
    const threads = options.threads ?? (Number.isInteger(envThreads) && envThreads > 0 ? envThreads : Math.min(os.availableParallelism(), 64));
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw new Error(`registerFastKernels: threads must be an integer in [1, 64] (option or GENLAB_BLAS_THREADS); got ${threads}`);
    }
    lib.setThreads(threads);
  }
  const nativeLib = lib;
  for (const backendName of loadedBackends()) {
    if (nativeLib) {
      replaceKernel('BatchMatMul', backendName, (args) => {
        const ad = adapterFor(backendName, args.backend);
        const { a, b } = args.inputs as Record<string, TensorInfo>;
        const attrs = args.attrs as Record<string, unknown>;
        return ad && nativeMatMul(nativeLib, ad, a, b, attrs.transposeA === true, attrs.transposeB === true);
      });
      replaceKernel('_FusedMatMul', backendName, (args) => nativeFusedMatMul(nativeLib, args, backendName));
      replaceKernel(FUSED_ADAM_KERNEL, backendName, (args) =>
        fusedAdamKernel(nativeLib, args, backendName) as unknown as TensorInfo,
      );
      replaceKernel('Transpose', backendName, (args) => nativeTranspose(nativeLib, args, backendName));
      replaceKernel(BERNOULLI_KERNEL, backendName, (args) => bernoulliKernel(nativeLib, args, backendName));
      replaceKernel('GatherV2', backendName, (args) => nativeGather(nativeLib, args, backendName));
      replaceKernel('Concat', backendName, (args) => nativeConcat(nativeLib, args, backendName));
      replaceKernel('SplitV', backendName, (args) => nativeSplitV(nativeLib, args, backendName) as unknown as TensorInfo);
      replaceKernel('Sum', backendName, (args) => nativeReduceAxes(nativeLib, args, backendName, false));
      replaceKernel('Mean', backendName, (args) => nativeReduceAxes(nativeLib, args, backendName, true));
      replaceKernel('Conv2D', backendName, (args) => nativeConv2D(nativeLib, args, backendName));
      replaceKernel('FusedConv2D', backendName, (args) => nativeFusedConv2D(nativeLib, args, backendName));
      replaceKernel('Conv2DBackpropInput', backendName, (args) =>
        nativeConv2DBackpropInput(nativeLib, args, backendName),
      );
      replaceKernel('Conv2DBackpropFilter', backendName, (args) =>
        nativeConv2DBackpropFilter(nativeLib, args, backendName),
      );
      replaceKernel('Add', backendName, (args) => nativeBinary(nativeLib, Elementwise.Add, args, backendName));
      replaceKernel('Multiply', backendName, (args) => nativeBinary(nativeLib, Elementwise.Multiply, args, backendName));
      replaceKernel('Relu', backendName, (args) => nativeUnary(nativeLib, Elementwise.Relu, args, backendName));
      replaceKernel('Step', backendName, (args) => nativeUnary(nativeLib, Elementwise.Step, args, backendName));
      replaceKernel('Softplus', backendName, (args) => nativeUnary(nativeLib, Elementwise.Softplus, args, backendName));
      replaceKernel('LeakyRelu', backendName, (args) => nativeUnary(nativeLib, Elementwise.LeakyRelu, args, backendName));
      replaceKernel('Greater', backendName, (args) => nativeCompare(nativeLib, 0, args, backendName));
      replaceKernel('GreaterEqual', backendName, (args) => nativeCompare(nativeLib, 1, args, backendName));
      replaceKernel('Select', backendName, (args) => nativeSelect(nativeLib, args, backendName));
    }
    if (nativeLib && backendName === 'wasm') {
      // GroupNorm as native passes on WASM only: elsewhere the engine op runs as tf ops (engine/group-norm.ts).
      replaceKernel(GROUP_NORM_KERNEL, backendName, (args) =>
        groupNormKernel(nativeLib, args, backendName) as unknown as TensorInfo,
      );
      replaceKernel(GROUP_NORM_GRAD_KERNEL, backendName, (args) =>
        groupNormGradKernel(nativeLib, args, backendName) as unknown as TensorInfo,
      );
    }
    if (backendName === 'wasm') replaceKernel('Cast', backendName, (args) => sameTypeCast(args));
    if (backendName === 'wasm') replaceKernel('Identity', backendName, (args) => sharedIdentity(args));
    if (backendName === 'wasm') replaceKernel('Tile', backendName, (args) => blockTile(args, backendName));
    if (!nativeLib && backendName === 'wasm') {
      // Without the addon only the WASM transposed products need help (measured 8-15x slower).
      for (const name of ['BatchMatMul', '_FusedMatMul']) {
        replaceKernel(name, backendName, (args, original) =>
          original ? explicitTranspose(original, args, backendName) : null,
        );
      }
    }
  }
  const kernels = [...replacedKernels(), ...replaceGradients()];
  setFastKernelReport({
    active: kernels.length > 0,
    kernels,
    native: nativeLib !== null,
    threads: nativeLib ? nativeLib.getThreads() : 0,
    note,
  });
  return fastKernelReport();
}

/** Restores the original kernels (for comparisons and benchmarks: genlab before/after). */
export function unregisterFastKernels(): void {
  clearTransposed();
  restoreKernels();
  restoreGradients();
}
