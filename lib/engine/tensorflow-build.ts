/**
 * Where genlab's native TensorFlow builds live, and what each build records about itself. Shared by the build
 * (`npm run setup -- --tensorflow`, scripts/tensorflow.ts) and the backend selection that loads it
 * (engine/backend.ts). No TensorFlow is loaded here: paths and a small JSON manifest only.
 *
 * A build is the N-API binding of @tensorflow/tfjs-node (its sources from the npm tarball) compiled against the
 * TensorFlow C library inside pip's wheel (`tensorflow-cpu`, or `tensorflow[and-cuda]` for GPUs), in
 *   <genlab>/.cache/tfjs-node/<variant>/
 *     build/Release/tfjs_binding.node   the addon (rpath to the wheel's libtensorflow_cc.so.2)
 *     build.json                        the manifest below, written last (its presence means "built")
 * and the tarball's JavaScript glue (kernels, NodeJSKernelBackend) in <genlab>/.cache/tfjs-node/package-<version>/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Which TensorFlow a build links: pip's CPU wheel or its CUDA 12 wheel. */
export type TensorflowVariant = 'cpu' | 'gpu';

/** Variants in the order backend selection tries them (a GPU build first). */
export const TENSORFLOW_VARIANTS: readonly TensorflowVariant[] = ['gpu', 'cpu'];

/** The @tensorflow/tfjs-node release whose binding sources and JavaScript glue genlab builds (matches tfjs). */
export const TFJS_NODE_VERSION = '4.22.0';

/**
 * Version of genlab's own additions to the binding (native/tensorflow/genlab_graph.cc: recorded TensorFlow
 * functions). A build made before them, or with an older version, is rebuilt by `npm run setup -- --tensorflow`.
 */
export const GENLAB_BINDING_VERSION = 2;

/** Environment variable naming another folder for the builds (default `<genlab>/.cache/tfjs-node`). */
export const TENSORFLOW_DIR_ENV_VAR = 'GENLAB_TENSORFLOW_DIR';

/** What a finished build says about itself (`build.json`). */
export interface TensorflowBuildManifest {
  /** 'cpu' or 'gpu'. */
  variant: TensorflowVariant;
  /** TensorFlow version of the wheel it links, e.g. '2.21.0'. */
  tensorflow: string;
  /** The pip distribution it came from, e.g. 'tensorflow-cpu' or 'tensorflow'. */
  distribution: string;
  /** Folder of the wheel's `tensorflow` package (the libraries and headers). */
  tensorflowDir: string;
  /** The @tensorflow/tfjs-node version of the binding sources and glue. */
  tfjsNode: string;
  /** {@link GENLAB_BINDING_VERSION} compiled in (absent in builds from before genlab extended the binding). */
  genlabBinding?: number;
  /** The compiled addon (absolute path). */
  binding: string;
  /** Folder of the tfjs-node JavaScript glue (its `dist/`). */
  glue: string;
  /** Node's N-API version and ABI at build time (`process.versions.napi`, `process.versions.modules`). */
  node: { napi: string; modules: string };
  /** ISO time of the build. */
  builtAt: string;
}

/** The genlab package folder: the nearest folder above `from` whose package.json is named genlab. */
export function genlabRoot(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const m = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (m.name === 'genlab') return dir;
    } catch {
      // keep climbing
    }
    if (path.dirname(dir) === dir) throw new Error(`genlab: no genlab package.json above ${from}`);
  }
}

/** Folder holding every native TensorFlow build: $GENLAB_TENSORFLOW_DIR or `<genlab>/.cache/tfjs-node`. */
export function tensorflowBuildsDir(root?: string): string {
  const forced = process.env[TENSORFLOW_DIR_ENV_VAR];
  if (forced) return path.resolve(forced);
  return path.join(root ?? genlabRoot(), '.cache', 'tfjs-node');
}

/** Folder of one variant's build. */
export function tensorflowBuildDir(variant: TensorflowVariant, root?: string): string {
  return path.join(tensorflowBuildsDir(root), variant);
}

/** Path of a variant's manifest (present only once the build has succeeded). */
export function tensorflowManifestPath(variant: TensorflowVariant, root?: string): string {
  return path.join(tensorflowBuildDir(variant, root), 'build.json');
}

/** The manifest of a finished build, or undefined when that variant is not built. */
export function readTensorflowBuild(variant: TensorflowVariant, root?: string): TensorflowBuildManifest | undefined {
  try {
    return JSON.parse(fs.readFileSync(tensorflowManifestPath(variant, root), 'utf8')) as TensorflowBuildManifest;
  } catch {
    return undefined;
  }
}
