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

/** tslab's public API (`require('tslab')`): one MIME type per output, `newDisplay()` for in-place updates. */
interface TslabDisplay {
  raw(contentType: string, b: string | Uint8Array): unknown;
}
interface TslabPublic {
  display: TslabDisplay;
  newDisplay(): TslabDisplay;
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
 * True when running inside a tslab Jupyter kernel, i.e. when `show`, `showImages`, `table` and live progress
 * can display rich output. Set `GENLAB_DISPLAY=text` to force plain-text behaviour.
 */
export function inNotebook(): boolean {
  if ((process.env.GENLAB_DISPLAY ?? '').toLowerCase() === 'text') return false;
  return kernelWriter() !== null || kernelPublic() !== null;
}

function encode(bundle: MimeBundle): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [mime, v] of Object.entries(bundle)) {
    data[mime] = v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : v;
  }
  return data;
}

/** The richest MIME type of a bundle that tslab's public API can send on its own. */
function richest(bundle: MimeBundle): [string, string | Uint8Array] | null {
  const best = ['text/html', 'image/png', 'text/plain'].find((m) => m in bundle);
  return best ? [best, bundle[best] as string | Uint8Array] : null;
}

/**
 * Sends `bundle` as one output of the current cell. Returns false (and does nothing) outside a notebook.
 * With tslab's internal hook the whole bundle is sent; otherwise the richest single MIME type.
 */
export function displayBundle(bundle: MimeBundle): boolean {
  if (!inNotebook()) return false;
  const write = kernelWriter();
  if (write) {
    write({ data: encode(bundle), metadata: {}, transient: {} }, false);
    return true;
  }
  const pub = kernelPublic();
  const one = richest(bundle);
  if (!pub || !one) return false;
  try {
    pub.display.raw(one[0], one[1]);
    return true;
  } catch {
    return false; // tslab not executing a cell yet ("Not ready")
  }
}

/** One output that is replaced in place on every update (tslab's `newDisplay()`, with full MIME bundles). */
export class LiveOutput {
  private readonly id = randomBytes(8).toString('hex');
  private shown = false;
  private fallback: TslabDisplay | null = null;

  /** Shows `bundle`, replacing what this output showed before. Returns false outside a notebook. */
  update(bundle: MimeBundle): boolean {
    if (!inNotebook()) return false;
    const write = kernelWriter();
    if (write) {
      // display_data with a display id first, then update_display_data for the same id
      write({ data: encode(bundle), metadata: {}, transient: { display_id: this.id } }, this.shown);
      this.shown = true;
      return true;
    }
    const pub = kernelPublic();
    const one = richest(bundle);
    if (!pub || !one) return false;
    try {
      this.fallback ??= pub.newDisplay();
      this.fallback.raw(one[0], one[1]);
      return true;
    } catch {
      return false;
    }
  }
}
