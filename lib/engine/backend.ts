/**
 * The TensorFlow.js engine genlab runs on, and backend selection.
 *
 * Every genlab module imports `tf` from here, never from '@tensorflow/tfjs' directly, so notebooks and the library
 * share one engine and one backend.
 *
 * Selection happens when this module is imported. In order of preference:
 *   1. `tfjs-node-gpu`  native TensorFlow with CUDA (needs CUDA 11.2 + cuDNN 8.1 at install and run time),
 *   2. `tfjs-node`      native TensorFlow on the CPU,
 *   3. `wasm`           @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD; single-threaded in Node),
 *   4. `cpu`            the pure-JavaScript backend (always there, slowest).
 * `GENLAB_BACKEND=<choice>` forces one; an unknown or unavailable choice throws at import with the list of choices
 * and why each unavailable one is unavailable. Initialisation is asynchronous: `await ready()` before computing.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from './tf';
import { fastKernelReport, registerFastKernels } from './kernels';

export { tf };

/** A backend genlab can select, best first. */
export type BackendChoice = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

/** Every backend genlab knows, in order of preference (best first). */
export const BACKEND_CHOICES: readonly BackendChoice[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

/** Environment variable that forces a backend, e.g. `GENLAB_BACKEND=cpu`. */
export const BACKEND_ENV_VAR = 'GENLAB_BACKEND';

/** The name each choice registers in TensorFlow.js (what `tf.getBackend()` returns). */
const TF_NAME: Record<BackendChoice, string> = {
  'tfjs-node-gpu': 'tensorflow',
  'tfjs-node': 'tensorflow',
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
type Probe = { ok: true; version: string } | { ok: false; reason: string };

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

/**
 * Probes a native binding package (`@tensorflow/tfjs-node` or `-gpu`). The package must be the REAL one: with the
 * npm override that lets danfojs-node install, `node_modules/@tensorflow/tfjs-node` is an alias of plain
 * `@tensorflow/tfjs`, which has no native code. Loading it must register the 'tensorflow' backend on genlab's own
 * engine (a tfjs-node built against another copy of tfjs-core would register it elsewhere).
 */
function probeNative(pkg: '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu'): Probe {
  let manifest: { name?: string; version?: string };
  try {
    manifest = JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`), 'utf8'));
  } catch {
    return { ok: false, reason: `${pkg} is not installed` };
  }
  if (manifest.name !== pkg) {
    return {
      ok: false,
      reason: `node_modules/${pkg} is an npm alias of ${manifest.name}@${manifest.version}, not the native binding`,
    };
  }
  if (!tf.findBackend('tensorflow')) {
    try {
      require(pkg);
    } catch (e) {
      return { ok: false, reason: `${pkg}@${manifest.version} failed to load: ${firstLine(e)}` };
    }
    if (!tf.findBackend('tensorflow')) {
      return {
        ok: false,
        reason:
          `${pkg}@${manifest.version} loaded but registered no 'tensorflow' backend on genlab's ` +
          `@tensorflow/tfjs ${tf.version.tfjs} (it uses another copy of tfjs-core; install matching versions)`,
      };
    }
  }
  return { ok: true, version: manifest.version ?? 'unknown' };
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
    case 'tfjs-node-gpu':
      return probeNative('@tensorflow/tfjs-node-gpu');
    case 'tfjs-node':
      return probeNative('@tensorflow/tfjs-node');
    case 'wasm':
      return probeWasm();
    case 'cpu':
      return { ok: true, version: tf.version_cpu };
  }
}

/** Accepted spellings: the choices themselves plus a few obvious aliases. */
const ALIASES: Record<string, BackendChoice> = {
  gpu: 'tfjs-node-gpu',
  'node-gpu': 'tfjs-node-gpu',
  node: 'tfjs-node',
  tensorflow: 'tfjs-node',
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
    if (p.ok) return { choice, forced: true, version: p.version, skipped };
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
    if (p.ok) return { choice, forced: false, version: p.version, skipped };
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
  return tf.getBackend();
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
 * @param choice One of {@link BACKEND_CHOICES} (aliases 'gpu', 'node' accepted).
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
  /** Version of the package providing the active backend (tfjs-node, tfjs-backend-wasm or tfjs-backend-cpu). */
  backend: string;
  /** Node.js version, e.g. 'v20.20.2'. */
  node: string;
}

/** What {@link describeEnvironment} reports. */
export interface EnvironmentDescription {
  /** The genlab choice that is active: 'tfjs-node-gpu', 'tfjs-node', 'wasm' or 'cpu'. */
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
  /** True when computation runs on a GPU (tfjs-node-gpu). */
  gpu: boolean;
  /** True in quick mode (GENLAB_QUICK=1). */
  quickMode: boolean;
  /** Operating system and architecture, e.g. 'linux x64'. */
  platform: string;
  /** CPU model and logical core count, e.g. 'AMD EPYC 7B13 (2 cores)'. */
  cpu: string;
  /** Better backends that were passed over, with the reason (empty when forced or when the best one is used). */
  skipped: SkippedBackend[];
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
    threads = os.availableParallelism();
  }
  const cpus = os.cpus();
  const k = fastKernelReport();
  return {
    choice: sel.choice,
    backend: tf.getBackend(),
    forced: sel.forced,
    versions: { genlab: readGenlabVersion(), tfjs: tf.version.tfjs, backend: sel.version, node: process.version },
    threads,
    simd,
    gpu: sel.choice === 'tfjs-node-gpu',
    quickMode: isQuickMode(),
    platform: `${os.platform()} ${os.arch()}`,
    cpu: `${cpus[0]?.model.trim() ?? 'unknown CPU'} (${os.availableParallelism()} cores)`,
    skipped: sel.skipped,
    kernels: { native: k.native, threads: k.threads, note: k.note },
  };
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
