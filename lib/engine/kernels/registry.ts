/**
 * The mechanism under registration: replacing a backend's kernel by a body that may defer to the original,
 * remembering every original so that all can be restored, and the report of what is registered.
 * Which body goes where is engine/kernels/register.ts.
 */
import { tf } from '../tf';
import type { KernelArgs, TensorInfo } from './memory';

/** What `registerFastKernels` did; also returned by {@link fastKernelReport}. */
export interface FastKernelReport {
  /** Whether any replacement is registered. */
  active: boolean;
  /** Replaced kernels as `backend/KernelName` (e.g. `wasm/BatchMatMul`) and gradients as `gradient/Mean`; empty when none. */
  kernels: string[];
  /** Whether products run through the native OpenBLAS addon. */
  native: boolean;
  /** The addon's thread count when `native`, else 0. */
  threads: number;
  /** One line for people: what is active, or why the addon is not (e.g. "addon not built: ..."). */
  note: string;
}

const NOT_REGISTERED: FastKernelReport = {
  active: false, kernels: [], native: false, threads: 0, note: 'fast kernels not registered',
};

/** Originals of replaced kernels, keyed `backend/KernelName` (undefined: the backend had none). */
const originals = new Map<string, tf.KernelConfig | undefined>();
let report: FastKernelReport = NOT_REGISTERED;

/**
 * Replaces `kernelName` on `backendName` by `body`; `body` returns null to defer to the original (which must
 * exist unless `body` never returns null).
 */
export function replaceKernel(
  kernelName: string, backendName: string,
  body: (args: KernelArgs, original: tf.KernelConfig | undefined) => TensorInfo | null,
): void {
  const key = `${backendName}/${kernelName}`;
  if (originals.has(key)) return;
  const original = tf.getKernel(kernelName, backendName);
  originals.set(key, original);
  if (original) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({
    kernelName,
    backendName,
    setupFunc: original?.setupFunc,
    disposeFunc: original?.disposeFunc,
    kernelFunc: ((args: KernelArgs) => {
      const out = body(args, original);
      if (out) return out;
      if (!original) throw new Error(`genlab kernels: ${key} cannot handle these arguments`);
      return original.kernelFunc(args);
    }) as tf.KernelFunc,
  });
}


/** Restores every original kernel and forgets them (the report is reset too). */
export function restoreKernels(): void {
  for (const [key, original] of originals) {
    const [backendName, kernelName] = key.split('/');
    tf.unregisterKernel(kernelName, backendName);
    if (original) tf.registerKernel(original);
  }
  originals.clear();
  report = NOT_REGISTERED;
}

/** Replaced kernels as `backend/KernelName`, in registration order. */
export function replacedKernels(): string[] {
  return [...originals.keys()];
}

/** Records what registration did. */
export function setFastKernelReport(next: FastKernelReport): void {
  report = next;
}

/** What is currently registered (a copy). */
export function fastKernelReport(): FastKernelReport {
  return { ...report, kernels: [...report.kernels] };
}

/** Whether the native products are registered on the current backend. */
export function nativeProductsActive(): boolean {
  return report.native && originals.has(`${tf.getBackend()}/_FusedMatMul`);
}
