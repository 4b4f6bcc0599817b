/**
 * The TensorFlow.js engine genlab runs on, and backend selection.
 *
 * Every genlab module imports `tf` from here, never from '@tensorflow/tfjs' directly, so notebooks and the library
 * share one engine and one backend.
 *
 * Selection happens when this module is imported. In order of preference:
 *   1. `tensorflow`  native TensorFlow from pip's wheel, built by `npm run setup -- --tensorflow[=gpu]`
 *                    (engine/tensorflow-build.ts): the GPU build (CUDA 12) first, then the CPU build,
 *   2. `wasm`        @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD; single-threaded in Node) with genlab's
 *                    optional OpenBLAS addon (engine/kernels.ts),
 *   3. `cpu`         the pure-JavaScript backend (always there, slowest).
 * `GENLAB_BACKEND=<choice>` forces one; an unknown or unavailable choice throws at import with the list of choices
 * and why each unavailable one is unavailable. Initialisation is asynchronous: `await ready()` before computing.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from './tf';
import { fastKernelReport, registerFastKernels } from './kernels';
import { readTensorflowBuild, TENSORFLOW_VARIANTS, TensorflowVariant } from './tensorflow-build';
import { loadedTensorflow, loadTensorflowBuild, nvidiaGpuNames, tensorflowUsesGpu } from './tensorflow-native';

export { tf };

/** A backend genlab can select, best first. */
export type BackendChoice = 'tensorflow' | 'wasm' | 'cpu';

/** Every backend genlab knows, in order of preference (best first). */
export const BACKEND_CHOICES: readonly BackendChoice[] = ['tensorflow', 'wasm', 'cpu'];

/** Environment variable that forces a backend, e.g. `GENLAB_BACKEND=cpu`. */
export const BACKEND_ENV_VAR = 'GENLAB_BACKEND';

/** The name each choice registers in TensorFlow.js (what `tf.getBackend()` returns). */
const TF_NAME: Record<BackendChoice, string> = {
  tensorflow: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

/** A backend that was not selected, and why. */
export interface SkippedBackend {
  /** The backend that was passed over. */
  choice: BackendChoice;
  /** Why: not installed, an npm alias rather than the real package, failed to load, ... */
  reason: string;
}

/** Result of probing one backend: either available (with its package version) or a reason why not. */
type Probe = { ok: true; version: string; passedOver?: SkippedBackend[] } | { ok: false; reason: string };

/** The outcome of the selection made at import (or by {@link useBackend}). */
interface Selection {
  choice: BackendChoice;
  forced: boolean;
  version: string;
  skipped: SkippedBackend[];
}

/** First line of an error's message, for compact reasons. */
function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0];
}

/** The fix printed when no native TensorFlow build exists. */
const TENSORFLOW_HOW = 'run `npm run setup -- --tensorflow` (CPU) or `npm run setup -- --tensorflow=gpu` (CUDA 12)';

/**
 * Probes genlab's native TensorFlow builds (engine/tensorflow-build.ts), the GPU build first: the first that loads
 * registers the 'tensorflow' backend on genlab's engine (engine/tensorflow-native.ts). The version reported is
 * the tfjs-node release of the binding and glue; TensorFlow's own version is in describeEnvironment().
 */
function probeTensorflow(): Probe {
  const reasons: string[] = [];
  for (const variant of TENSORFLOW_VARIANTS) {
    const manifest = readTensorflowBuild(variant);
    if (!manifest) continue;
    try {
      loadTensorflowBuild(manifest);
      // A GPU build that failed to load before this CPU build is worth saying (e.g. CUDA libraries missing).
      const passedOver = reasons.map((reason) => ({ choice: 'tensorflow' as const, reason }));
      return { ok: true, version: manifest.tfjsNode, passedOver };
    } catch (e) {
      reasons.push(`the ${variant} build (TensorFlow ${manifest.tensorflow}) failed to load: ${firstLine(e)}`);
    }
  }
  if (reasons.length === 0) return { ok: false, reason: `native TensorFlow is not built (${TENSORFLOW_HOW})` };
  return { ok: false, reason: `${reasons.join('; ')} (rebuild: ${TENSORFLOW_HOW})` };
}

/** Loads the WASM backend module (registers the 'wasm' backend) or says why it cannot. */
function probeWasm(): Probe {
  try {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as { version_wasm: string };
    // In Node the Emscripten loader reads the .wasm binaries with fs from the package's own dist/ folder, so no
    // setWasmPaths is needed and nothing is fetched. The threaded build spawns a Worker from a blob: URL, which Node
    // rejects: force the single-threaded SIMD binary.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    return { ok: true, version: wasm.version_wasm };
  } catch (e) {
    return { ok: false, reason: `@tensorflow/tfjs-backend-wasm failed to load: ${firstLine(e)}` };
  }
}

function probe(choice: BackendChoice): Probe {
  switch (choice) {
    case 'tensorflow':
      return probeTensorflow();
    case 'wasm':
      return probeWasm();
    case 'cpu':
      return { ok: true, version: tf.version_cpu };
  }
}

/** Accepted spellings: the choices themselves plus a few obvious aliases. */
const ALIASES: Record<string, BackendChoice> = {
  tf: 'tensorflow',
  native: 'tensorflow',
  gpu: 'tensorflow',
  node: 'tensorflow',
  'tfjs-node': 'tensorflow',
  'tfjs-node-gpu': 'tensorflow',
};

/** Parses a backend name (case-insensitive, aliases allowed); throws listing the choices when unknown. */
export function parseBackendChoice(name: string): BackendChoice {
  const key = name.trim().toLowerCase();
  if ((BACKEND_CHOICES as readonly string[]).includes(key)) return key as BackendChoice;
  if (key in ALIASES) return ALIASES[key];
  throw new Error(
    `Unknown genlab backend '${name}'. Choices: ${BACKEND_CHOICES.join(', ')} ` +
      `(set ${BACKEND_ENV_VAR} to one of them, or unset it to pick the best available).`,
  );
}

/**
 * Decides the backend: the forced one if given (throws if unavailable, listing what is), otherwise the first
 * available in {@link BACKEND_CHOICES} order.
 */
function select(forcedName: string | undefined): Selection {
  const skipped: SkippedBackend[] = [];
  if (forcedName !== undefined && forcedName.trim() !== '') {
    const choice = parseBackendChoice(forcedName);
    const p = probe(choice);
    if (p.ok) return { choice, forced: true, version: p.version, skipped: [...skipped, ...(p.passedOver ?? [])] };
    const others = BACKEND_CHOICES.filter((c) => c !== choice).map((c) => {
      const q = probe(c);
      return q.ok ? `${c} (available)` : `${c} (unavailable: ${q.reason})`;
    });
    throw new Error(
      `genlab backend '${choice}' (forced by ${BACKEND_ENV_VAR}=${forcedName}) is unavailable: ${p.reason}. ` +
        `Choices: ${others.join('; ')}. Unset ${BACKEND_ENV_VAR} to pick the best available.`,
    );
  }
  for (const choice of BACKEND_CHOICES) {
    const p = probe(choice);
    if (p.ok) return { choice, forced: false, version: p.version, skipped: [...skipped, ...(p.passedOver ?? [])] };
    skipped.push({ choice, reason: p.reason });
  }
  /* istanbul ignore next: the cpu backend ships with @tensorflow/tfjs */
  throw new Error('genlab: no TensorFlow.js backend available (not even cpu)');
}

let selection: Selection = select(process.env[BACKEND_ENV_VAR]);
let readyPromise: Promise<string> = initialise(selection);
// Selection starts at import; a failure is reported by ready(), never as an unhandled rejection.
readyPromise.catch(() => undefined);

async function initialise(sel: Selection): Promise<string> {
  const name = TF_NAME[sel.choice];
  const ok = await tf.setBackend(name);
  if (!ok) {
    throw new Error(
      `genlab: backend '${sel.choice}' failed to initialise (tf.setBackend('${name}') returned false). ` +
        `Try ${BACKEND_ENV_VAR}=cpu.`,
    );
  }
  registerFastKernels(); // genlab's faster kernels for this backend (lib/engine/kernels.ts)
  initialised = sel;
  return tf.getBackend();
}

/** The selection whose backend finished initialising (null while the first one starts). */
let initialised: Selection | null = null;

/**
 * Throws a clear error when called before the backend has finished starting, instead of tfjs' "backend 'wasm' has not
 * yet been initialized" from deep inside: genlab's synchronous entry points that make tensors (model constructors,
 * `gaussianRing`, `barsAndStripes`, ...) call it first. Async entry points (`loadMnist`, `fit`, `sample`, `scope`)
 * await {@link ready} themselves.
 * @param caller What the user called, e.g. `gaussianRing` or `new GAN`.
 */
export function assertBackendReady(caller: string): void {
  if (initialised === selection) return;
  throw new Error(
    `${caller} makes tensors, and the TensorFlow.js backend ('${selection.choice}') is still starting: run \`await ready()\` ` +
      `once before it (loadMnist, fit, sample and scope wait for the backend themselves)`,
  );
}

/**
 * Resolves once the selected backend is initialised; returns its TensorFlow.js name ('tensorflow', 'wasm' or
 * 'cpu'). Safe to call many times. Call (and await) it before the first tensor operation.
 */
export function ready(): Promise<string> {
  return readyPromise;
}

/**
 * Switches genlab (and every user of its `tf`) to another backend at run time, e.g. to compare speeds.
 * Tensors created on the old backend stay there; dispose them or create new ones. Throws if unavailable.
 * @param choice One of {@link BACKEND_CHOICES} (aliases 'tf', 'native', 'gpu', 'node', 'tfjs-node' mean 'tensorflow').
 * @returns The TensorFlow.js backend name now active.
 */
export async function useBackend(choice: BackendChoice | string): Promise<string> {
  await readyPromise.catch(() => undefined);
  selection = select(choice);
  readyPromise = initialise(selection);
  return readyPromise;
}

/** Versions of the pieces genlab runs on. */
export interface EnvironmentVersions {
  /** genlab's own version (package.json). */
  genlab: string;
  /** @tensorflow/tfjs version. */
  tfjs: string;
  /** Version of the package providing the active backend (tfjs-node's binding, tfjs-backend-wasm or tfjs-backend-cpu). */
  backend: string;
  /** TensorFlow's version (`TF_Version()` of the library genlab's build links, e.g. '2.21.0'); tensorflow only. */
  tensorflow?: string;
  /** Node.js version, e.g. 'v20.20.2'. */
  node: string;
}

/** What {@link describeEnvironment} reports. */
export interface EnvironmentDescription {
  /** The genlab choice that is active: 'tensorflow', 'wasm' or 'cpu'. */
  choice: BackendChoice;
  /** TensorFlow.js's name for it (`tf.getBackend()`): 'tensorflow', 'wasm' or 'cpu'. */
  backend: string;
  /** True when forced by GENLAB_BACKEND rather than picked automatically. */
  forced: boolean;
  /** Versions of genlab, tfjs, the backend package and Node. */
  versions: EnvironmentVersions;
  /** Threads the backend computes with (1 for wasm in Node and for cpu; the core count for native TensorFlow). */
  threads: number;
  /** Whether the WASM backend runs its SIMD build (undefined for other backends). */
  simd?: boolean;
  /** True when computation runs on a GPU (the tensorflow backend found a CUDA device). */
  gpu: boolean;
  /** The GPU's name (from nvidia-smi) when {@link gpu}; undefined otherwise or when nvidia-smi is absent. */
  gpuName?: string;
  /**
   * The native TensorFlow build in use (tensorflow only): 'cpu' or 'gpu' wheel, the pip distribution it links
   * (e.g. 'tensorflow-cpu 2.21.0') and the folder of its library.
   */
  tensorflowBuild?: { variant: TensorflowVariant; wheel: string; dir: string };
  /** True in quick mode (GENLAB_QUICK=1). */
  quickMode: boolean;
  /** Operating system and architecture, e.g. 'linux x64'. */
  platform: string;
  /** CPU model and logical core count, e.g. 'AMD EPYC 7B13 (2 cores)'. */
  cpu: string;
  /** Better backends that were passed over, with the reason (empty when forced or when the best one is used). */
  skipped: SkippedBackend[];
  /** Whether the backend runs its own optimised kernels (see {@link BackendCapabilities.ownKernels}). */
  ownKernels: boolean;
  /**
   * genlab's faster kernels (lib/engine/kernels.ts): whether the native OpenBLAS addon runs the products, and a one-line
   * note saying which kernels are active or why the addon is not (e.g. not built: install libopenblas-dev).
   */
  kernels: { native: boolean; threads: number; note: string };
}

let genlabVersion: string | undefined;
/** Reads genlab's version from the package.json above this file (lib/ or dist/lib/). */
function readGenlabVersion(): string {
  if (genlabVersion) return genlabVersion;
  genlabVersion = 'unknown';
  for (let dir = __dirname, i = 0; i < 4; i++, dir = path.dirname(dir)) {
    try {
      const m = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (m.name === 'genlab') {
        genlabVersion = m.version ?? 'unknown';
        break;
      }
    } catch {
      // keep climbing
    }
  }
  return genlabVersion;
}

/**
 * Describes the computing environment: backend (and why better ones were skipped), versions, threads, GPU use.
 * Awaits {@link ready} first. For a notebook's first cell use {@link showEnvironment}.
 */
export async function describeEnvironment(): Promise<EnvironmentDescription> {
  await ready();
  const sel = selection;
  let threads = 1;
  let simd: boolean | undefined;
  if (sel.choice === 'wasm') {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as { getThreadsCount(): number };
    threads = wasm.getThreadsCount();
    simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  } else if (sel.choice !== 'cpu') {
    // native TensorFlow computes on TF_NUM_INTRAOP_THREADS threads when that is set, else one per core
    const intraOp = Number(process.env.TF_NUM_INTRAOP_THREADS);
    threads = Number.isInteger(intraOp) && intraOp > 0 ? intraOp : os.availableParallelism();
  }
  const native = sel.choice === 'tensorflow' ? loadedTensorflow() : undefined;
  const gpu = native !== undefined && tensorflowUsesGpu();
  const cpus = os.cpus();
  const k = fastKernelReport();
  return {
    choice: sel.choice,
    backend: tf.getBackend(),
    forced: sel.forced,
    versions: {
      genlab: readGenlabVersion(),
      tfjs: tf.version.tfjs,
      backend: sel.version,
      ...(native ? { tensorflow: native.version } : {}),
      node: process.version,
    },
    threads,
    simd,
    gpu,
    ...(gpu ? { gpuName: nvidiaGpuNames()[0] } : {}),
    ...(native
      ? {
          tensorflowBuild: {
            variant: native.manifest.variant,
            wheel: `${native.manifest.distribution} ${native.manifest.tensorflow}`,
            dir: native.manifest.tensorflowDir,
          },
        }
      : {}),
    quickMode: isQuickMode(),
    platform: `${os.platform()} ${os.arch()}`,
    cpu: `${cpus[0]?.model.trim() ?? 'unknown CPU'} (${os.availableParallelism()} cores)`,
    skipped: sel.skipped,
    ownKernels: sel.choice === 'tensorflow',
    kernels: { native: k.native, threads: k.threads, note: k.note },
  };
}

/**
 * What the active backend brings, for code above the engine that adapts to it: that code asks for a property,
 * never compares backend names (lib/README.md; test/architecture.test.ts).
 */
export interface BackendCapabilities {
  /**
   * The backend runs TensorFlow's own optimised kernels (the native `tensorflow` backend): genlab's faster kernels
   * (engine/kernels/) are not used on it, and each op is one call into TensorFlow, so fewer ops win.
   */
  ownKernels: boolean;
}

/** The capabilities of the backend active now (`tf.getBackend()`). */
export function capabilities(): BackendCapabilities {
  return { ownKernels: tf.getBackend() === TF_NAME.tensorflow };
}

/**
 * True when the environment variable `GENLAB_QUICK` is set to `1` (or `true`): notebooks then shrink epochs and
 * data so the whole lecture runs in under a minute (CI uses this).
 */
export function isQuickMode(): boolean {
  const v = (process.env.GENLAB_QUICK ?? '').toLowerCase();
  return v === '1' || v === 'true' || v === 'yes';
}

/**
 * Picks a setting by mode: `quick(10, 1)` is 10 normally and 1 in quick mode. Notebooks use it for epochs,
 * sample counts and data sizes, so the full and the quick run are one code path.
 */
export function quick<T>(full: T, quickValue: T): T {
  return isQuickMode() ? quickValue : full;
}
