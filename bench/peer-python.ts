/**
 * The Python that runs the PyTorch twins of the quality checks (bench/quality/*.py), of bench/ddpm-epoch.ts and of
 * bench/engines.ts (its Keras twins run with the project's .venv; bench/run.ts's peers with /usr/bin/python3).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** How to provide one, for the error when there is none. */
export const PEER_PYTHON_HOW =
  'set GENLAB_PEER_PYTHON to a Python with torch and numpy, or create .venv-peers (python3 -m venv .venv-peers && .venv-peers/bin/pip install torch numpy)';

/**
 * The first Python that imports torch and numpy, of: $GENLAB_PEER_PYTHON, $GENLAB_TORCH_PYTHON (its older name), the
 * checkout's .venv-peers/bin/python, then its .venv/bin/python. Null when none does.
 */
export function peerPython(): string | null {
  // compiled to dist/bench/: the checkout is two levels up
  const root = path.join(__dirname, '..', '..');
  const candidates = [
    process.env.GENLAB_PEER_PYTHON,
    process.env.GENLAB_TORCH_PYTHON,
    path.join(root, '.venv-peers', 'bin', 'python'),
    path.join(root, '.venv', 'bin', 'python'),
  ];
  return candidates.find((p): p is string => !!p && fs.existsSync(p) && spawnSync(p, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0) ?? null;
}
