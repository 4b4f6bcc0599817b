/**
 * The project's own Python environment (`.venv/` inside the checkout, git-ignored): JupyterLab and Notebook 7 for
 * the lectures, and pip's TensorFlow for the native backend, installed with pip into it and nothing global.
 *
 * pip reads the machine's own configuration (index, find-links, constraints): genlab adds no index of its own.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './root';

/** Progress lines, when the caller gives no logger. */
const defaultLog = (line: string): void => console.log(`genlab: ${line}`);

/** Where the project's environment lives: `<checkout>/.venv`. */
export function venvDir(root = repoRoot()): string {
  return path.join(root, '.venv');
}

/** The environment's Python, `<checkout>/.venv/bin/python`. */
export function venvPython(root = repoRoot()): string {
  return path.join(venvDir(root), 'bin', 'python');
}

/**
 * Creates the environment with `python3 -m venv` unless it exists; returns its Python. Throws with one clear
 * line when venv is unavailable (Debian: `apt-get install python3-venv`). A half-made environment (venv failed
 * after creating the folder) is removed, so the next run starts clean.
 */
export function ensureVenv(root = repoRoot(), basePython = 'python3', log: (line: string) => void = defaultLog): string {
  const py = venvPython(root);
  if (fs.existsSync(py)) return py;
  log(`creating the project's Python environment in ${venvDir(root)} (${basePython} -m venv)`);
  const r = spawnSync(basePython, ['-m', 'venv', venvDir(root)], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0 || !fs.existsSync(py)) {
    fs.rmSync(venvDir(root), { recursive: true, force: true });
    const why = (r.stderr ?? '').trim().split('\n').pop() || (r.error ? r.error.message : `exit ${r.status ?? r.signal}`);
    throw new Error(
      `genlab: could not create a Python environment with '${basePython} -m venv ${venvDir(root)}' ` +
        `(${why}); on Debian install python3-venv, or set GENLAB_PYTHON to an existing environment`,
    );
  }
  return py;
}

/**
 * Versions of installed distributions in the environment of `python` (from their metadata, without importing
 * them: one quick process), `undefined` for those absent or when `python` does not run.
 */
export function distVersions(python: string, dists: readonly string[]): Record<string, string | undefined> {
  const code =
    'import json, sys\nfrom importlib import metadata\nout = {}\nfor d in sys.argv[1:]:\n' +
    '    try:\n        out[d] = metadata.version(d)\n    except Exception:\n        out[d] = None\nprint(json.dumps(out))';
  const r = spawnSync(python, ['-c', code, ...dists], { encoding: 'utf8' });
  const none = Object.fromEntries(dists.map((d) => [d, undefined]));
  if (r.status !== 0) return none;
  try {
    const got = JSON.parse(r.stdout) as Record<string, string | null>;
    return Object.fromEntries(dists.map((d) => [d, got[d] ?? undefined]));
  } catch {
    return none;
  }
}

/** The major version of a version string ('4.6.4' -> 4), NaN when absent. */
export function majorVersion(version: string | undefined): number {
  return version === undefined ? NaN : Number.parseInt(version, 10);
}

/**
 * Extra pip arguments for a machine whose main index cannot be reached (no DNS for its host, as on a closed
 * network with a local wheel index configured as extra index or find-links): `--retries 0`, so pip does not
 * back off and retry the unreachable index for every package (minutes for JupyterLab's ~100 packages).
 * On a connected machine nothing is added.
 */
export function pipOfflineArgs(python: string): string[] {
  const config = spawnSync(python, ['-m', 'pip', 'config', 'list'], { encoding: 'utf8' });
  // `global.index-url='...'` (not extra-index-url): the index pip tries first; PyPI when none is configured
  const m = /^[\w:]*\.index-url='([^']+)'/m.exec(config.stdout ?? '');
  const indexUrl = process.env.PIP_INDEX_URL ?? m?.[1] ?? 'https://pypi.org/simple';
  let host: string;
  try {
    const u = new URL(indexUrl);
    if (u.protocol === 'file:') return [];
    host = u.hostname;
  } catch {
    return [];
  }
  const probe = spawnSync(python, ['-c', 'import socket, sys; socket.getaddrinfo(sys.argv[1], 443)', host], { timeout: 10000 });
  return probe.status === 0 ? [] : ['--retries', '0'];
}

/** `python -m pip install ...` into the environment of `python`; throws naming the packages when pip fails. */
export function pipInstall(python: string, packages: readonly string[], log: (line: string) => void = defaultLog): void {
  const extra = pipOfflineArgs(python);
  log(
    `pip install ${packages.join(' ')} (into ${path.dirname(path.dirname(python))})` +
      (extra.length > 0 ? ' -- main index unreachable: using the configured local indexes, no retries' : ''),
  );
  const r = spawnSync(python, ['-m', 'pip', 'install', '--disable-pip-version-check', ...extra, ...packages], { stdio: 'inherit' });
  if (r.status !== 0) {
    throw new Error(`genlab: 'pip install ${packages.join(' ')}' failed (exit ${r.status ?? r.signal}); see pip's output above`);
  }
}
