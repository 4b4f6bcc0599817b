/**
 * `npm run lab [-- --no-browser] [--port <n>] [-- <extra Jupyter arguments>]`: opens JupyterLab on notebooks/ with
 * this checkout's tslab kernel; where only the classic Notebook exists (Debian's packages), opens that instead.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { ensureJupyter, findPython, jupyterEnv, JUPYTER_FIX, pythonCandidates, registerKernel, runCli } from './jupyter';
import { notebooksDir } from './lectures';

/** The Jupyter front end to start. */
export interface LabCommand {
  /** Python that runs it. */
  python: string;
  /** 'lab' (JupyterLab) or 'notebook' (the classic Notebook). */
  app: 'lab' | 'notebook';
  /** Arguments after `python -m jupyter`. */
  args: string[];
}

/**
 * Chooses the front end: JupyterLab from any candidate Python, else the classic Notebook; throws naming
 * `pip install jupyterlab` when neither is there.
 */
export function labCommand(opts: { port?: number; browser?: boolean; token?: string; extra?: string[] } = {}): LabCommand {
  const candidates = pythonCandidates();
  const lab = findPython(['jupyterlab', 'jupyter_client'], candidates);
  const classic = lab ? undefined : findPython(['notebook', 'jupyter_client'], candidates);
  const python = lab ?? classic;
  if (!python) {
    throw new Error(`genlab: neither JupyterLab nor the classic Notebook found (tried ${candidates.join(', ')}). ${JUPYTER_FIX}`);
  }
  const app = lab ? 'lab' : 'notebook';
  const cfg = app === 'lab' ? 'ServerApp' : 'NotebookApp';
  const args = [app, `--notebook-dir=${notebooksDir()}`];
  if (opts.port !== undefined) args.push(`--port=${opts.port}`);
  if (opts.browser === false) args.push('--no-browser');
  if (opts.token !== undefined) args.push(`--${cfg}.token=${opts.token}`);
  if (typeof process.getuid === 'function' && process.getuid() === 0) args.push('--allow-root');
  args.push(...(opts.extra ?? []));
  return { python, app, args };
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'no-browser': { type: 'boolean', default: false }, port: { type: 'string' } },
  });
  const cmd = labCommand({
    port: values.port === undefined ? undefined : Number(values.port),
    browser: !values['no-browser'],
    extra: positionals,
  });
  registerKernel(ensureJupyter());
  process.stderr.write(
    `genlab: starting ${cmd.app === 'lab' ? 'JupyterLab' : 'the classic Notebook (JupyterLab: pip install jupyterlab)'} ` +
      `on ${notebooksDir()}; choose the "TypeScript" (tslab) kernel.\n`,
  );
  const child = spawn(cmd.python, ['-m', 'jupyter', ...cmd.args], { stdio: 'inherit', env: jupyterEnv() });
  // Forward the signal we got (Ctrl-C reaches Jupyter directly too: two SIGINTs stop it without a prompt).
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void child.kill(sig));
  child.on('exit', (code) => process.exit(code ?? 0));
}

if (require.main === module) runCli(main);
