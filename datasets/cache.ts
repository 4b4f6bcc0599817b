/**
 * Internal: where genlab keeps converted data, resolved from the package root (never from the working
 * directory, so a notebook whose cwd is `notebooks/` finds the same cache as a script run from the root).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

let rootMemo: string | null | undefined;

/**
 * The genlab package root: the nearest folder above this file whose package.json is named `genlab`
 * (works from `datasets/`, `dist/datasets/` and any `.build-*` output). Null when not found.
 */
export function packageRoot(): string | null {
  if (rootMemo !== undefined) return rootMemo;
  let dir = __dirname;
  for (;;) {
    const pj = path.join(dir, 'package.json');
    try {
      if (JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'genlab') return (rootMemo = dir);
    } catch {
      // not here: keep climbing
    }
    const up = path.dirname(dir);
    if (up === dir) return (rootMemo = null);
    dir = up;
  }
}

/**
 * The cache folder: `$GENLAB_CACHE_DIR` if set, else `<package root>/.cache/genlab` (git-ignored), else a
 * folder in the OS temp dir when the package root is not writable (e.g. a read-only install).
 */
export function cacheDir(): string {
  const env = process.env.GENLAB_CACHE_DIR;
  if (env) return path.resolve(env);
  const root = packageRoot();
  if (root) {
    const dir = path.join(root, '.cache', 'genlab');
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.accessSync(dir, fs.constants.W_OK);
      return dir;
    } catch {
      // fall through to the temp dir
    }
  }
  return path.join(os.tmpdir(), 'genlab-cache');
}

/** Writes a file atomically (temp file + rename) so a concurrent reader never sees half a file. */
export function writeFileAtomic(file: string, data: Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}
