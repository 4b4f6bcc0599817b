/**
 * `npm run lab [-- <options>]`: opens JupyterLab 4 on notebooks/ with this checkout's tslab kernel and export
 * templates; `npm run notebook` (`--notebook`) opens Notebook 7 instead. Where set-up had to fall back to
 * Debian's classic Notebook 6 (no venv or pip), that is what opens.
 *
 * genlab's own options are `--notebook` and `--quick` (quick mode in the kernels: GENLAB_QUICK=1 in their
 * environment); every other argument goes to Jupyter unchanged, in order, so Jupyter's own flags need no second
 * `--`: `npm run lab -- --quick --no-browser --port 8888 --IdentityProvider.token=`. After a `--`, everything is
 * Jupyter's.
 *
 * The Lab keeps its state with the checkout: its workspaces (which tabs were open) and user settings live in
 * `.cache/jupyter/lab/`, so a tab left open in another checkout's Lab does not reopen here.
 *
 * Stopping (Ctrl-C, SIGTERM or SIGHUP to `npm run lab`) stops Jupyter cleanly, which shuts its kernels down; any
 * process the Lab started that is still running after that (a kernel that did not answer) is ended too. Jupyter
 * runs in its own process group, so Ctrl-C reaches it only through this script (no "Shut down this Jupyter
 * server (y/[n])?" prompt, no half-stopped server); a second Ctrl-C a moment later stops everything at once.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureJupyter, jupyterEnv, pythonHas, registerKernel, runCli } from './jupyter';
import { notebooksDir } from './lectures';
import { distVersions, majorVersion } from './python-env';
import { repoRoot } from './root';

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
  /** The environment to run it with: {@link jupyterEnv}, the Lab's state folders, GENLAB_QUICK when asked. */
  env: NodeJS.ProcessEnv;
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
  /** Quick mode in the kernels: GENLAB_QUICK=1 in their environment (default false: the environment's own). */
  quick?: boolean;
  /** More arguments for Jupyter. */
  extra?: string[];
}

/** Where the Lab keeps its state for this checkout: `.cache/jupyter/lab/{workspaces,user-settings}`. */
export function labStateDirs(root = repoRoot()): { workspaces: string; settings: string } {
  const lab = path.join(root, '.cache', 'jupyter', 'lab');
  return { workspaces: path.join(lab, 'workspaces'), settings: path.join(lab, 'user-settings') };
}

/** Chooses the front end, its arguments and environment; throws naming the fix when the Python has neither. */
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
  const state = labStateDirs();
  // JupyterLab and Notebook 7 read these folders from the environment too (jupyterlab.commands); the flags win
  // over a user's jupyter_server_config. The classic Notebook 6 keeps no such state.
  const stateApp = app === 'lab' ? 'LabApp' : notebookVersion >= 7 ? 'JupyterNotebookApp' : undefined;
  if (stateApp) args.push(`--${stateApp}.workspaces_dir=${state.workspaces}`, `--${stateApp}.user_settings_dir=${state.settings}`);
  if (opts.port !== undefined) args.push(`--port=${opts.port}`);
  if (opts.browser === false) args.push('--no-browser');
  if (opts.token !== undefined) args.push(`--${cfg}.token=${opts.token}`);
  if (typeof process.getuid === 'function' && process.getuid() === 0) args.push('--allow-root');
  args.push(...(opts.extra ?? []));
  const env = jupyterEnv({
    JUPYTERLAB_WORKSPACES_DIR: state.workspaces,
    JUPYTERLAB_SETTINGS_DIR: state.settings,
    ...(opts.quick ? { GENLAB_QUICK: '1' } : {}),
  });
  return { python, app, notebookVersion: app === 'notebook' ? notebookVersion : undefined, args, env };
}

/** The command line of `npm run lab`, split: genlab's own options, and what goes to Jupyter. */
export interface LabArgs {
  /** `--notebook`: Notebook 7 instead of JupyterLab. */
  notebook: boolean;
  /** `--quick`: quick mode in the kernels (GENLAB_QUICK=1). */
  quick: boolean;
  /** Everything else, unchanged and in order, for Jupyter (a `--` is dropped; everything after it is Jupyter's). */
  jupyter: string[];
}

/** genlab's own options of `npm run lab`; any other argument is Jupyter's. */
export const LAB_OPTIONS = ['notebook', 'quick'] as const;

/**
 * Splits `npm run lab`'s arguments into genlab's options ({@link LAB_OPTIONS}) and Jupyter's (everything else,
 * verbatim: `--port 8888`, `--IdentityProvider.token=`, `--ServerApp.ip=0.0.0.0`, ...). Throws when a genlab
 * option is given a value (`--quick=1`), naming it.
 */
export function splitLabArgs(argv: readonly string[]): LabArgs {
  const { tokens } = parseArgs({
    args: [...argv],
    strict: false,
    allowPositionals: true,
    tokens: true,
    options: { notebook: { type: 'boolean' }, quick: { type: 'boolean' } },
  });
  const own = { notebook: false, quick: false };
  const jupyter: string[] = [];
  let last = -1; // index of the argument last passed on (a group of short flags is one argument, several tokens)
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'option' && t.rawName.startsWith('--') && (LAB_OPTIONS as readonly string[]).includes(t.name)) {
      if (t.inlineValue) throw new Error(`${t.rawName} takes no value; got ${argv[t.index]}`);
      own[t.name as (typeof LAB_OPTIONS)[number]] = true;
      continue;
    }
    if (t.index !== last) jupyter.push(argv[t.index]);
    last = t.index;
  }
  return { ...own, jupyter };
}

/** Environment variable marking every process a Lab started (Jupyter, its kernels, their children). */
export const LAB_SESSION_VAR = 'GENLAB_LAB_SESSION';

/**
 * Processes whose environment has `LAB_SESSION_VAR=session` (read from /proc, Linux; elsewhere the processes
 * below `pid` from `ps`), this one excluded.
 */
export function labProcesses(session: string, pid: number): number[] {
  if (fs.existsSync('/proc/self/environ')) {
    const needle = Buffer.from(`\0${LAB_SESSION_VAR}=${session}\0`);
    const found: number[] = [];
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
      try {
        const environ = Buffer.concat([Buffer.from([0]), fs.readFileSync(`/proc/${name}/environ`), Buffer.from([0])]);
        if (environ.includes(needle)) found.push(Number(name));
      } catch {
        // gone, or another user's
      }
    }
    return found;
  }
  const ps = spawnSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const children = new Map<number, number[]>();
  for (const line of (ps.stdout ?? '').split('\n')) {
    const [p, pp] = line.trim().split(/\s+/).map(Number);
    if (Number.isInteger(p) && Number.isInteger(pp)) children.set(pp, [...(children.get(pp) ?? []), p]);
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** True while `pid` runs (a zombie, ended but not yet reaped by its parent, does not count). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return true; // no /proc: kill(pid, 0) is all we know
  }
}

/** Sends `signal` to each pid that still exists; returns those it reached. */
function signalAll(pids: number[], signal: NodeJS.Signals): number[] {
  return pids.filter((p) => {
    try {
      process.kill(p, signal);
      return true;
    } catch {
      return false;
    }
  });
}

/** How long Jupyter gets to shut its kernels down before it is killed, and leftovers after SIGTERM. */
const STOP_GRACE_MS = 15_000;
const LEFTOVER_GRACE_MS = 3_000;

/**
 * Runs the Lab until it exits or this process is told to stop (SIGINT, SIGTERM, SIGHUP), then ends whatever it
 * started; resolves the exit code for this process (0 after a requested stop).
 */
export function runLab(cmd: LabCommand, log: (line: string) => void = (l) => void process.stderr.write(`genlab: ${l}\n`)): Promise<number> {
  const session = randomBytes(8).toString('hex');
  const posix = process.platform !== 'win32';
  const child: ChildProcess = spawn(cmd.python, ['-m', 'jupyter', ...cmd.args], {
    stdio: 'inherit',
    env: { ...cmd.env, [LAB_SESSION_VAR]: session },
    detached: posix, // its own process group: the terminal's Ctrl-C comes to us, and we stop it in order
  });
  let firstSignal = 0;
  let snapshot: number[] = []; // elsewhere than Linux: the Lab's processes, taken before they are orphaned
  let killTimer: NodeJS.Timeout | undefined;
  const killGroup = (): void => {
    snapshot = [...new Set([...snapshot, ...labProcesses(session, child.pid ?? -1)])];
    if (posix && child.pid) signalAll([-child.pid], 'SIGKILL');
    else child.kill('SIGKILL');
    signalAll(snapshot, 'SIGKILL');
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    const now = Date.now();
    if (firstSignal === 0) {
      firstSignal = now;
      log(`${sig}: stopping ${cmd.app === 'lab' ? 'JupyterLab' : 'the Notebook server'} and its kernels (again to force)`);
      snapshot = labProcesses(session, child.pid ?? -1);
      child.kill('SIGTERM'); // Jupyter's clean stop: shuts every kernel down, removes its runtime files
      killTimer = setTimeout(() => {
        log(`Jupyter did not stop in ${STOP_GRACE_MS / 1000} s; killing it`);
        killGroup();
      }, STOP_GRACE_MS);
    } else if (now - firstSignal > 1000) {
      // (a signal within a second is the same Ctrl-C arriving twice: from the terminal and forwarded by npm)
      log(`${sig} again: killing Jupyter and its kernels now`);
      killGroup();
    }
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const sig of signals) process.on(sig, onSignal);
  return new Promise((resolve) => {
    child.on('error', (e) => {
      log(`could not start Jupyter (${cmd.python}): ${e.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      if (killTimer) clearTimeout(killTimer);
      // Whatever the Lab started and is still running: a kernel Jupyter could not stop, or one orphaned when Jupyter
      // itself was killed. SIGTERM first (tslab exits on it), then SIGKILL.
      const left = signalAll([...new Set([...snapshot, ...labProcesses(session, child.pid ?? -1)])].filter(alive), 'SIGTERM');
      const finish = (): void => {
        const stubborn = signalAll(left.filter(alive), 'SIGKILL');
        if (left.length > 0) log(`ended ${left.length} leftover process(es) of the Lab${stubborn.length > 0 ? ` (${stubborn.length} killed)` : ''}`);
        for (const sig of signals) process.off(sig, onSignal);
        resolve(firstSignal !== 0 ? 0 : (code ?? (signal ? 1 : 0)));
      };
      if (left.length === 0) return finish();
      const deadline = Date.now() + LEFTOVER_GRACE_MS;
      const poll = setInterval(() => {
        if (left.every((p) => !alive(p)) || Date.now() > deadline) {
          clearInterval(poll);
          finish();
        }
      }, 100);
    });
  });
}

async function main(): Promise<void> {
  const opts = splitLabArgs(process.argv.slice(2));
  const python = ensureJupyter();
  registerKernel(python);
  const cmd = labCommand({ python, app: opts.notebook ? 'notebook' : 'lab', quick: opts.quick, extra: opts.jupyter });
  const name =
    cmd.app === 'lab'
      ? 'JupyterLab'
      : cmd.notebookVersion === 6
        ? "Debian's classic Notebook 6 (set-up could not install JupyterLab: see its message)"
        : 'Notebook 7';
  const quick = opts.quick ? ' in quick mode (GENLAB_QUICK=1)' : '';
  process.stderr.write(`genlab: starting ${name} on ${notebooksDir()}${quick} with ${python}; choose the "TypeScript" (tslab) kernel.\n`);
  process.exit(await runLab(cmd));
}

if (require.main === module) runCli(main);
