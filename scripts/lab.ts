/**
 * `npm run lab [-- --no-browser] [--port <n>] [-- <extra Jupyter arguments>]`: opens JupyterLab 4 on notebooks/ with
 * this checkout's tslab kernel and export templates; `npm run notebook` (`--notebook`) opens Notebook 7 instead.
 * Where set-up had to fall back to Debian's classic Notebook 6 (no venv or pip), that is what opens.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { ensureJupyter, jupyterEnv, pythonHas, registerKernel, runCli } from './jupyter';
import { notebooksDir } from './lectures';
import { distVersions, majorVersion } from './python-env';

/** The Jupyter front end to start. */
export interface LabCommand {
  /** Python that runs it. */
  python: string;
  /** 'lab' (JupyterLab) or 'notebook' (Notebook 7, or the classic Notebook 6 in the fallback). */
  app: 'lab' | 'notebook';
  /** Notebook's major version when `app` is 'notebook' (6: classic, configured as NotebookApp). */
  notebookVersion?: number;
  /** Arguments after `python -m jupyter`. */
  args: string[];
}

/** Options for {@link labCommand}. */
export interface LabOptions {
  /** Which front end: 'lab' (default) or 'notebook'. JupyterLab missing (fallback), 'notebook' is used. */
  app?: 'lab' | 'notebook';
  /** Python with Jupyter (default: {@link ensureJupyter}'s choice, the project's `.venv`). */
  python?: string;
  /** Port (default: Jupyter's, 8888 or the next free one). */
  port?: number;
  /** Open a browser (default true). */
  browser?: boolean;
  /** Server token (default: Jupyter's, random, printed in the log). */
  token?: string;
  /** Folder served (default notebooks/). */
  root?: string;
  /** More arguments for Jupyter. */
  extra?: string[];
}

/** Chooses the front end and its arguments; throws naming the fix when the Python has neither. */
export function labCommand(opts: LabOptions = {}): LabCommand {
  const python = opts.python ?? ensureJupyter();
  const lab = pythonHas(python, ['jupyterlab', 'jupyter_client']);
  const wanted = opts.app ?? 'lab';
  const app = wanted === 'lab' && lab ? 'lab' : 'notebook';
  const notebookVersion = majorVersion(distVersions(python, ['notebook']).notebook);
  if (app === 'notebook' && !(notebookVersion >= 6)) {
    throw new Error(`genlab: ${python} has neither JupyterLab nor Notebook: run \`npm run setup\` (or pip install jupyterlab notebook).`);
  }
  const cfg = app === 'notebook' && notebookVersion < 7 ? 'NotebookApp' : 'ServerApp';
  const args = [app, `--notebook-dir=${opts.root ?? notebooksDir()}`];
  if (opts.port !== undefined) args.push(`--port=${opts.port}`);
  if (opts.browser === false) args.push('--no-browser');
  if (opts.token !== undefined) args.push(`--${cfg}.token=${opts.token}`);
  if (typeof process.getuid === 'function' && process.getuid() === 0) args.push('--allow-root');
  args.push(...(opts.extra ?? []));
  return { python, app, notebookVersion: app === 'notebook' ? notebookVersion : undefined, args };
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'no-browser': { type: 'boolean', default: false },
      port: { type: 'string' },
      notebook: { type: 'boolean', default: false },
    },
  });
  const python = ensureJupyter();
  registerKernel(python);
  const cmd = labCommand({
    python,
    app: values.notebook ? 'notebook' : 'lab',
    port: values.port === undefined ? undefined : Number(values.port),
    browser: !values['no-browser'],
    extra: positionals,
  });
  const name =
    cmd.app === 'lab'
      ? 'JupyterLab'
      : cmd.notebookVersion === 6
        ? "Debian's classic Notebook 6 (set-up could not install JupyterLab: see its message)"
        : 'Notebook 7';
  process.stderr.write(`genlab: starting ${name} on ${notebooksDir()} with ${python}; choose the "TypeScript" (tslab) kernel.\n`);
  const child = spawn(cmd.python, ['-m', 'jupyter', ...cmd.args], { stdio: 'inherit', env: jupyterEnv() });
  // Forward the signal we got (Ctrl-C reaches Jupyter directly too: two SIGINTs stop it without a prompt).
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void child.kill(sig));
  child.on('exit', (code) => process.exit(code ?? 0));
}

if (require.main === module) runCli(main);
