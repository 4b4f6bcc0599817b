/**
 * Loads a native TensorFlow build (lib/engine/tensorflow-build.ts) and registers it as the 'tensorflow' backend on
 * genlab's own TensorFlow.js engine. Backend selection (engine/backend.ts) calls {@link loadTensorflowBuild}; the
 * setup script checks a fresh build with {@link checkTensorflowBuild} in a child process.
 *
 * The JavaScript glue is @tensorflow/tfjs-node's own (its kernels and NodeJSKernelBackend, from the same npm
 * tarball as the binding sources). Its `require('@tensorflow/tfjs')` and `require('@tensorflow/tfjs-core')`
 * resolve to genlab's copies while it loads, so its kernels land in genlab's kernel registry and its backend in
 * genlab's engine; its TensorBoard summary protobufs are not loaded (genlab writes no summaries); and its
 * `require('util')` gets {@link glueUtil}: Node's util plus the two checks newer Nodes deprecate or removed, which
 * tfjs-node 4.22 (the last release) still calls.
 */
import { spawnSync } from 'node:child_process';
import Module from 'node:module';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as nodeUtil from 'node:util';
import { tf } from './tf';
import { TensorflowBuildManifest } from './tensorflow-build';
import { registerTensorflowKernels } from './tensorflow-ops';

/** What a loaded build reports. */
export interface LoadedTensorflow {
  /** The build's manifest. */
  manifest: TensorflowBuildManifest;
  /** TensorFlow's own version string from the loaded library (`TF_Version()`), e.g. '2.21.0'. */
  version: string;
}

/** The N-API binding's surface genlab reads directly (the rest is NodeJSKernelBackend's business). */
interface TfjsBinding {
  TF_Version: string;
  isUsingGpuDevice(): boolean;
}

let loaded: LoadedTensorflow | undefined;

/**
 * Environment TensorFlow reads when its library loads. `TF_ENABLE_ONEDNN_OPTS=0` is required, not a preference:
 * with oneDNN's custom ops on (TensorFlow's default on x86 since 2.9), Conv2DBackpropInput returns wrong values
 * for 1-input/1-output-channel convolutions (test/tensorflow.test.ts checks that case against the cpu backend).
 * `TF_CPP_MIN_LOG_LEVEL=2` keeps TensorFlow's informational start-up lines out of notebooks unless the user set it.
 * `TF_CPU_ALLOCATOR_USE_BFC=true` (unless the user set it) makes TensorFlow keep freed CPU buffers in its own pool
 * (the BFC allocator it uses on GPUs) instead of returning each to malloc: eager ops allocate a fresh output every
 * call, and glibc handed the conv VAE's multi-MB activations back to the kernel and faulted them in again
 * (about 6000 page faults and 10% of the epoch's CPU time per batch); with the pool, none (bench/RESULTS.md).
 */
export function prepareTensorflowEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  env.TF_ENABLE_ONEDNN_OPTS = '0';
  env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  env.TF_CPU_ALLOCATOR_USE_BFC ??= 'true';
}

/**
 * The `util` module tfjs-node's glue sees: Node's own, with genlab's `isNullOrUndefined` and `isArray`, which the
 * glue calls (NodeJSKernelBackend's tensor checks, TopK). Node 22 deprecated both (a warning on first use), Node 23
 * removed `isNullOrUndefined` (tensorflow/tfjs#8609; tfjs has not released since 4.22), Node 24 still warns on
 * `isArray`. Only the glue gets these: Node's `util` is left alone, and the same build runs on Node 20, 22 and 24
 * without a warning.
 */
export const glueUtil = Object.create(nodeUtil, {
  isNullOrUndefined: { value: (v: unknown): v is null | undefined => v === null || v === undefined, enumerable: true },
  isArray: { value: (v: unknown): v is unknown[] => Array.isArray(v), enumerable: true },
}) as typeof nodeUtil & GlueUtilChecks;

/** The checks Node removed from `util` that tfjs-node's glue still calls. */
interface GlueUtilChecks {
  isNullOrUndefined(v: unknown): v is null | undefined;
  isArray(v: unknown): v is unknown[];
}

/** Where {@link glueUtil} sits in Node's module cache (a name only; no such file exists). */
const GLUE_UTIL_FILE = 'genlab-glue-util.js';

/**
 * Runs `body` with requests made from files under `glueDir` for `@tensorflow/tfjs(-core)` resolved to genlab's
 * copies and for `util` to {@link glueUtil}.
 */
function withGenlabTfjs<T>(glueDir: string, body: () => T): T {
  const tfjsMain = require.resolve('@tensorflow/tfjs');
  const tfjsDir = path.dirname(require.resolve('@tensorflow/tfjs/package.json'));
  const utilFile = path.join(glueDir, GLUE_UTIL_FILE);
  cacheModule(utilFile, () => glueUtil);
  const redirect: Record<string, string> = {
    '@tensorflow/tfjs': tfjsMain,
    '@tensorflow/tfjs-core': require.resolve('@tensorflow/tfjs-core', { paths: [tfjsDir] }),
    util: utilFile,
  };
  const M = Module as unknown as { _resolveFilename: (request: string, parent: { filename?: string } | undefined, ...rest: unknown[]) => string };
  const original = M._resolveFilename;
  const prefix = glueDir + path.sep;
  M._resolveFilename = function (request, parent, ...rest) {
    if (request in redirect && parent?.filename?.startsWith(prefix)) return redirect[request];
    return original.call(this, request, parent, ...rest);
  };
  try {
    return body();
  } finally {
    M._resolveFilename = original;
  }
}

/** Puts a module with `exports()` into Node's module cache as `file` (once), so a `require` of `file` gets it. */
function cacheModule(file: string, exports: () => unknown): void {
  if (require.cache[file]) return;
  const m = new Module(file);
  m.filename = file;
  m.loaded = true;
  m.exports = exports();
  require.cache[file] = m;
}

/** Stands in for tfjs-node's TensorBoard protobuf module (needs google-protobuf; used only by summary writers). */
function stubSummaryProtos(glueDir: string): void {
  const unsupported = (): never => {
    throw new Error("genlab's tensorflow backend does not write TensorBoard summaries");
  };
  cacheModule(path.join(glueDir, 'proto', 'api_pb.js'), () => ({
    HistogramPluginData: unsupported,
    SummaryMetadata: Object.assign(unsupported, { PluginData: unsupported }),
  }));
}

/**
 * Loads a build and registers the 'tensorflow' backend (idempotent; a second, different build throws: one
 * TensorFlow library per process). Throws with the loader's message when the addon or its libraries cannot load.
 */
export function loadTensorflowBuild(manifest: TensorflowBuildManifest): LoadedTensorflow {
  if (loaded) {
    if (loaded.manifest.binding !== manifest.binding) {
      throw new Error(`a TensorFlow build is already loaded (${loaded.manifest.binding}); one per process`);
    }
    return loaded;
  }
  for (const f of [manifest.binding, path.join(manifest.glue, 'nodejs_kernel_backend.js')]) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing (rebuild with \`npm run setup -- --tensorflow${manifest.variant === 'gpu' ? '=gpu' : ''}\`)`);
  }
  prepareTensorflowEnvironment();
  const binding = require(manifest.binding) as TfjsBinding; // dlopens libtensorflow_cc.so.2 through the rpath
  type BackendCtor = new (binding: TfjsBinding, packageName: string) => tf.KernelBackend;
  const NodeJSKernelBackend = withGenlabTfjs(manifest.glue, () => {
    stubSummaryProtos(manifest.glue);
    require(path.join(manifest.glue, 'register_all_kernels.js'));
    return (require(path.join(manifest.glue, 'nodejs_kernel_backend.js')) as { NodeJSKernelBackend: BackendCtor })
      .NodeJSKernelBackend;
  });
  guardTensorflowChanges();
  // The package name tells tfjs-node's kernels whether GPU-only code paths (Conv3D dilations) are allowed.
  const packageName = manifest.variant === 'gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  tf.registerBackend('tensorflow', () => new NodeJSKernelBackend(binding, packageName), 3);
  loaded = { manifest, version: binding.TF_Version };
  return loaded;
}

/**
 * Kernels whose TensorFlow 2.21 behaviour differs from the TensorFlow 2.9 tfjs-node was written for (found by
 * running tfjs-core 4.22's own backend tests on this build, oneDNN off: 3883 specs, 2 failures):
 *   - Round on int32 returns zeros (TensorFlow 2.21's Round has no integer kernel any more); guarded here: an
 *     integer rounds to itself, so int32 input is passed through unchanged (test/tensorflow.test.ts).
 *   - DepthwiseConv2dNative's gradient with dilations > 1 throws TensorFlow's message rather than tfjs' (an error
 *     either way; genlab uses no depthwise convolution): not guarded.
 * genlab's own ops (matMul, conv2d and its gradients, conv2dTranspose, elementwise maths, reductions, gather,
 * oneHot, losses) all pass those tests and genlab's unit suite on this backend.
 */
function guardTensorflowChanges(): void {
  registerTensorflowKernels(); // faster Step (engine/tensorflow-ops.ts)
  const round = tf.getKernel('Round', 'tensorflow');
  const identity = tf.getKernel('Identity', 'tensorflow');
  if (!round || !identity || roundGuarded) return;
  roundGuarded = true;
  tf.unregisterKernel('Round', 'tensorflow');
  tf.registerKernel({
    ...round,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      return x.dtype === 'int32' ? identity.kernelFunc(args) : round.kernelFunc(args);
    },
  });
}
let roundGuarded = false;


/** The build loaded in this process, if any. */
export function loadedTensorflow(): LoadedTensorflow | undefined {
  return loaded;
}

/** True when the active 'tensorflow' backend places ops on a GPU (the binding found a GPU device). */
export function tensorflowUsesGpu(): boolean {
  const b = tf.findBackend('tensorflow') as unknown as { isUsingGpuDevice?: boolean } | null;
  return b?.isUsingGpuDevice === true;
}

/** NVIDIA GPU names from `nvidia-smi` (empty when absent); asked only when TensorFlow reports a GPU. */
export function nvidiaGpuNames(): string[] {
  const r = spawnSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0 || !r.stdout) return [];
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

/**
 * Loads a build, makes it the backend and computes a 2x2 product: the setup script's check that a fresh build
 * works. Returns TensorFlow's version and whether a GPU is used.
 */
export async function checkTensorflowBuild(manifest: TensorflowBuildManifest): Promise<{ tensorflow: string; gpu: boolean }> {
  const { version } = loadTensorflowBuild(manifest);
  if (!(await tf.setBackend('tensorflow'))) throw new Error('tf.setBackend("tensorflow") failed');
  const v = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])).dataSync());
  if ([...v].join(',') !== '19,22,43,50') throw new Error(`the TensorFlow build computes wrongly: [[1,2],[3,4]]@[[5,6],[7,8]] = ${[...v]}`);
  return { tensorflow: version, gpu: tensorflowUsesGpu() };
}
