/**
 * Internal: rich output in a tslab notebook.
 *
 * tslab's public `display` sends one MIME type per output; a figure wants several in one bundle (the plotly
 * MIME type for JupyterLab with the plotly extension, HTML for everything else, text for consoles). tslab
 * keeps the function that sends a display message of the cell being executed in its `jupyter` module
 * (`lastWriteDisplayData(content, update)`); we find that module in Node's module cache -- wherever tslab is
 * installed, whichever copy of genlab is loaded -- and call it with a full bundle. Detection is therefore
 * exact: we are in a notebook iff the kernel's tslab module is loaded and has started executing a cell.
 * If the internal hook is missing (another tslab version), we fall back to tslab's public API with the
 * richest single MIME type.
 */
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

/** A Jupyter MIME bundle: MIME type -> text, bytes (sent base64) or a JSON value. */
export type MimeBundle = Record<string, string | Uint8Array | object>;

type WriteDisplayData = (
  content: { data: Record<string, unknown>; metadata: Record<string, unknown>; transient: { display_id?: string } },
  update: boolean,
) => void;

interface TslabPublic {
  display: { raw(contentType: string, b: string | Uint8Array): unknown };
}

const JUPYTER_SUFFIX = path.join('tslab', 'dist', 'jupyter.js');
const PUBLIC_SUFFIX = path.join('tslab', 'dist', 'public.js');

/** The kernel's display-message writer, or null outside a running tslab kernel. */
function kernelWriter(): WriteDisplayData | null {
  for (const [file, mod] of Object.entries(require.cache)) {
    if (!mod || !file.endsWith(JUPYTER_SUFFIX)) continue;
    const w = (mod.exports as { lastWriteDisplayData?: unknown }).lastWriteDisplayData;
    if (typeof w === 'function') return w as WriteDisplayData;
  }
  return null;
}

function kernelPublic(): TslabPublic | null {
  for (const [file, mod] of Object.entries(require.cache)) {
    if (mod && file.endsWith(PUBLIC_SUFFIX)) return mod.exports as TslabPublic;
  }
  return null;
}

/**
 * True when running inside a tslab Jupyter kernel that is executing (or has executed) a cell, i.e. when
 * `show`, `showImages`, `table` and live progress can display rich output. Set `GENLAB_DISPLAY=text` to force
 * plain-text behaviour.
 */
export function inNotebook(): boolean {
  if ((process.env.GENLAB_DISPLAY ?? '').toLowerCase() === 'text') return false;
  return kernelWriter() !== null;
}

function encode(bundle: MimeBundle): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [mime, v] of Object.entries(bundle)) {
    data[mime] = v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : v;
  }
  return data;
}

/**
 * Sends `bundle` as one output of the current cell. With `displayId`, the first call creates the output and
 * later calls with `update: true` replace it in place. Returns false (and does nothing) outside a notebook.
 */
export function displayBundle(bundle: MimeBundle, displayId?: string, update = false): boolean {
  if (!inNotebook()) return false;
  const write = kernelWriter();
  if (write) {
    write({ data: encode(bundle), metadata: {}, transient: displayId ? { display_id: displayId } : {} }, update);
    return true;
  }
  const pub = kernelPublic();
  if (!pub) return false;
  const best = ['text/html', 'image/png', 'text/plain'].find((m) => m in bundle);
  if (!best) return false;
  pub.display.raw(best, bundle[best] as string | Uint8Array);
  return true;
}

/** One output that can be replaced in place (tslab's `newDisplay()`, with full MIME bundles). */
export class LiveOutput {
  private readonly id = randomBytes(8).toString('hex');
  private shown = false;

  /** Shows `bundle`, replacing what this output showed before. Returns false outside a notebook. */
  update(bundle: MimeBundle): boolean {
    const ok = displayBundle(bundle, this.id, this.shown);
    if (ok) this.shown = true;
    return ok;
  }
}
