/**
 * The project's own Python environment (`.venv/` inside the checkout, git-ignored): JupyterLab and Notebook 7 for
 * the lectures, and pip's TensorFlow for the native backend, installed with pip into it and nothing global.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './jupyter';

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
 * line when venv is unavailable (Debian: `apt-get install python3-venv`).
 */
export function ensureVenv(root = repoRoot(), basePython = 'python3', log: (line: string) => void = (l) => console.log(l)): string {
  const py = venvPython(root);
  if (fs.existsSync(py)) return py;
  log(`genlab: creating the project's Python environment in ${venvDir(root)} (python3 -m venv)`);
  const r = spawnSync(basePython, ['-m', 'venv', venvDir(root)], { stdio: 'inherit' });
  if (r.status !== 0 || !fs.existsSync(py)) {
    throw new Error(
      `genlab: could not create a Python environment with '${basePython} -m venv ${venvDir(root)}' ` +
        `(exit ${r.status ?? r.signal}); on Debian install python3-venv, or set GENLAB_PYTHON to an existing environment`,
    );
  }
  return py;
}

/** `python -m pip install ...` into the environment of `python`; throws naming the packages when pip fails. */
export function pipInstall(python: string, packages: readonly string[], log: (line: string) => void = (l) => console.log(l)): void {
  log(`genlab: pip install ${packages.join(' ')} (into ${path.dirname(path.dirname(python))})`);
  const r = spawnSync(python, ['-m', 'pip', 'install', '--disable-pip-version-check', ...packages], { stdio: 'inherit' });
  if (r.status !== 0) {
    throw new Error(`genlab: 'pip install ${packages.join(' ')}' failed (exit ${r.status ?? r.signal}); see pip's output above`);
  }
}
