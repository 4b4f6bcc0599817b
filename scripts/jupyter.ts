/**
 * Jupyter for genlab: find a Python with Jupyter (or install Debian's packages when we may), register the tslab
 * kernel of THIS checkout, and build the environment every genlab command runs Jupyter with.
 *
 * The kernel is registered under the standard name `tslab` (what the notebooks' metadata says) in a kernel folder
 * private to the checkout, `.cache/jupyter/share/jupyter/kernels/tslab`, which genlab's commands put first on
 * JUPYTER_PATH. So every checkout runs its own tslab binary, whatever other tslab kernels the machine has; when
 * the machine has no `tslab` kernel at all, it is also registered for the user so a JupyterLab started by hand
 * finds it.
 */
import { spawnSync, SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './root';
import { installJupyterFiles } from './jupyter-files';
import { distVersions, ensureVenv, majorVersion, pipInstall, venvDir, venvPython } from './python-env';

export { repoRoot } from './root';

/** Python modules needed to execute and export notebooks. */
export const EXECUTE_MODULES = ['jupyter_client', 'nbclient', 'nbconvert', 'nbformat'] as const;

/** Debian packages that provide Jupyter (no JupyterLab in Debian 12: the classic Notebook is the UI). */
export const DEBIAN_JUPYTER_PACKAGES = [
  'jupyter-nbconvert',
  'jupyter-notebook',
  'jupyter-client',
  'python3-nbclient',
  'python3-ipykernel',
] as const;

/** The one-line fix printed when Jupyter is missing and cannot be installed automatically. */
export const JUPYTER_FIX =
  'Install Jupyter: `pip install jupyterlab` (or, on Debian/Ubuntu as root: `apt-get install ' +
  DEBIAN_JUPYTER_PACKAGES.join(' ') +
  '`), or point GENLAB_PYTHON at a python that has it.';

/** Pythons tried, in order: $GENLAB_PYTHON alone if set, else Debian's, then whatever is on PATH. */
export function pythonCandidates(): string[] {
  const forced = process.env.GENLAB_PYTHON;
  if (forced) return [forced];
  return ['/usr/bin/python3', 'python3', 'python'];
}

/** True if `python` runs and imports every module in `modules`. */
export function pythonHas(python: string, modules: readonly string[]): boolean {
  const r = spawnSync(python, ['-c', `import ${modules.join(', ')}`], {
    stdio: 'ignore',
    env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' },
  });
  return r.status === 0;
}

/** The first candidate Python that imports `modules`, or undefined. */
export function findPython(modules: readonly string[], candidates = pythonCandidates()): string | undefined {
  return candidates.find((p) => pythonHas(p, modules));
}

/** How {@link ensureJupyter} may act; the defaults describe this machine. Tests inject fakes. */
export interface EnsureOptions {
  /** Pythons to try for an existing Jupyter (default {@link pythonCandidates}). Given, no project venv is made. */
  candidates?: string[];
  /**
   * The project environment: `false` never makes one; else where (`root`, default the checkout) and from which
   * Python (`base`, default `python3`). Default: used unless GENLAB_PYTHON or `candidates` is given.
   */
  venv?: false | { root?: string; base?: string };
  /** The apt-get command (default 'apt-get'). */
  aptGet?: string;
  /** Whether we may install system packages (default: running as root). */
  root?: boolean;
  /** Whether this is Debian/Ubuntu (default: /etc/debian_version exists). */
  debian?: boolean;
  /** Where progress lines go (default: stderr). */
  log?: (line: string) => void;
}

/** What the project environment gets from pip: JupyterLab 4 and Notebook 7 (they bring nbconvert and nbclient). */
export const LAB_PACKAGES = ['jupyterlab>=4,<5', 'notebook>=7,<8'] as const;

/** The distributions a Python needs for genlab to use its JupyterLab (import names differ: jupyter_client). */
const LAB_DISTS = ['jupyterlab', 'notebook', 'nbclient', 'nbconvert', 'nbformat', 'jupyter_client'] as const;

/**
 * True if `python` has JupyterLab 4 or newer, Notebook 7 or newer and what executes notebooks (read from the
 * installed metadata in one quick process: this is the fast path of every genlab command).
 */
export function hasJupyterLab(python: string): boolean {
  const v = distVersions(python, LAB_DISTS);
  return majorVersion(v.jupyterlab) >= 4 && majorVersion(v.notebook) >= 7 && LAB_DISTS.every((d) => v[d] !== undefined);
}

/**
 * Returns a Python that can execute and export notebooks, preferring one with JupyterLab 4:
 * 1. GENLAB_PYTHON (or `candidates`): that Python, as it is (Debian's packages installed for it when root);
 * 2. the project environment `.venv/` when it has JupyterLab 4 (the fast path: one quick check);
 * 3. any other candidate Python with JupyterLab 4;
 * 4. else creates `.venv/` (`python3 -m venv`) and pip-installs {@link LAB_PACKAGES} into it;
 * 5. only where venv or pip fails: says so in one line and falls back to an existing Jupyter, or installs
 *    Debian's classic Notebook 6 when root on Debian; otherwise throws one message naming the fix.
 */
export function ensureJupyter(opts: EnsureOptions = {}): string {
  const log = opts.log ?? defaultLog;
  const venv = opts.venv ?? (opts.candidates === undefined && !process.env.GENLAB_PYTHON ? {} : false);
  if (venv !== false) {
    const root = venv.root ?? repoRoot();
    const py = venvPython(root);
    if (fs.existsSync(py) && hasJupyterLab(py)) return py;
    const other = pythonCandidates().find((p) => hasJupyterLab(p));
    if (other) return other;
    try {
      ensureVenv(root, venv.base ?? 'python3', log);
      pipInstall(py, LAB_PACKAGES, log);
      if (!pythonHas(py, EXECUTE_MODULES)) pipInstall(py, ['nbclient', 'nbconvert'], log);
      if (!hasJupyterLab(py)) throw new Error(`pip installed ${LAB_PACKAGES.join(' ')} but ${py} still lacks JupyterLab 4`);
      log(`JupyterLab 4 and Notebook 7 are installed in ${venvDir(root)}`);
      return py;
    } catch (e) {
      log(
        `no JupyterLab 4 (${(e instanceof Error ? e.message : String(e)).replace(/^genlab: /, '')}): ` +
          `falling back to an existing Jupyter or Debian's classic Notebook 6`,
      );
    }
  }
  return ensureDebianJupyter(opts);
}

/**
 * The fallback: a Python among `candidates` that executes notebooks; if none, on Debian as root, installs Debian's
 * Jupyter packages and looks again; otherwise throws one message naming the fix ({@link JUPYTER_FIX}).
 */
export function ensureDebianJupyter(opts: EnsureOptions = {}): string {
  const candidates = opts.candidates ?? pythonCandidates();
  const log = opts.log ?? defaultLog;
  const found = findPython(EXECUTE_MODULES, candidates);
  if (found) return found;
  const tried = candidates.join(', ');
  if (!(opts.root ?? isRoot()) || !(opts.debian ?? isDebian())) {
    throw new Error(`genlab: Jupyter not found (no python among ${tried} imports ${EXECUTE_MODULES.join(', ')}). ${JUPYTER_FIX}`);
  }
  log(`Jupyter not found (tried ${tried}); installing Debian's Jupyter packages`);
  aptInstall(DEBIAN_JUPYTER_PACKAGES, opts.aptGet, log);
  const after = findPython(EXECUTE_MODULES, candidates);
  if (!after) {
    throw new Error(
      `genlab: installed ${DEBIAN_JUPYTER_PACKAGES.join(' ')} but still no python among ${tried} imports ` +
        `${EXECUTE_MODULES.join(', ')}. ${JUPYTER_FIX}`,
    );
  }
  return after;
}

/**
 * Root may install system packages, unless GENLAB_NO_SYSTEM_INSTALL=1 (for machines whose packages must not change;
 * genlab then only reports what is missing and how to install it).
 */
const isRoot = (): boolean =>
  typeof process.getuid === 'function' && process.getuid() === 0 && process.env.GENLAB_NO_SYSTEM_INSTALL !== '1';
const isDebian = (): boolean => fs.existsSync('/etc/debian_version');
const defaultLog = (line: string): void => void process.stderr.write(`genlab setup: ${line}\n`);

/**
 * Installs Debian packages with apt-get (non-interactive, no recommends), refreshing the package lists first when
 * they are empty (a fresh container) and once more if the install fails (stale lists).
 */
export function aptInstall(packages: readonly string[], aptGet = 'apt-get', log = defaultLog): void {
  const opts: SpawnSyncOptions = { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  const run = (args: string[]): number | null => spawnSync(aptGet, args, opts).status;
  const listsDir = '/var/lib/apt/lists';
  const haveLists = fs.existsSync(listsDir) && fs.readdirSync(listsDir).some((f) => f.endsWith('_Packages'));
  if (!haveLists) {
    log(`${aptGet} update (package lists are empty)`);
    run(['update']);
  }
  log(`${aptGet} install -y --no-install-recommends ${packages.join(' ')}`);
  const install = ['install', '-y', '--no-install-recommends', ...packages];
  if (run(install) === 0) return;
  log(`install failed; refreshing package lists and retrying`);
  if (run(['update']) !== 0 || run(install) !== 0) {
    throw new Error(`genlab setup: \`${aptGet} ${install.join(' ')}\` failed (see the apt output above).`);
  }
}

/** Where this checkout registers its kernel (a Jupyter data directory; kernels/ inside). */
export function kernelDataDir(root = repoRoot()): string {
  return path.join(root, '.cache', 'jupyter', 'share', 'jupyter');
}

/** The kernel name the notebooks' metadata uses. */
export const KERNEL_NAME = 'tslab';

/** The project's own tslab binary. */
export function tslabBinary(root = repoRoot()): string {
  return path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'tslab.cmd' : 'tslab');
}

/**
 * What the registered kernel runs (its kernel.json argv[0]): scripts/tslab-kernel.js, tslab's entry point with
 * its zeromq sends queued so that a busy output socket cannot kill the kernel (see that file).
 */
export function kernelEntry(root = repoRoot()): string {
  return path.join(root, 'scripts', 'tslab-kernel.js');
}

/** The checkout's private Jupyter prefix: `.cache/jupyter` (share/jupyter for data, etc/jupyter for config). */
export function privatePrefix(root = repoRoot()): string {
  return path.join(root, '.cache', 'jupyter');
}

/** The checkout's private Jupyter config folder (genlab's exporter config), first on JUPYTER_CONFIG_PATH. */
export function privateConfigDir(root = repoRoot()): string {
  return path.join(privatePrefix(root), 'etc', 'jupyter');
}

/**
 * The environment genlab runs Jupyter with: this checkout's kernel and templates first on JUPYTER_PATH, its exporter
 * config first on JUPYTER_CONFIG_PATH.
 */
export function jupyterEnv(extra: NodeJS.ProcessEnv = {}, root = repoRoot()): NodeJS.ProcessEnv {
  const first = (dir: string, prev: string | undefined): string => (prev ? `${dir}${path.delimiter}${prev}` : dir);
  return {
    ...process.env,
    JUPYTER_PATH: first(kernelDataDir(root), process.env.JUPYTER_PATH),
    JUPYTER_CONFIG_PATH: first(privateConfigDir(root), process.env.JUPYTER_CONFIG_PATH),
    PYDEVD_DISABLE_FILE_VALIDATION: '1', // silences a debugger warning Debian's Python prints on every start
    ...extra,
  };
}

/** Reads a kernel.json's argv[0], or undefined. */
function kernelBinary(kernelJson: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(kernelJson, 'utf8')) as { argv?: string[] }).argv?.[0];
  } catch {
    return undefined;
  }
}

/** Where a kernelspec registration goes: a prefix folder, or the sys.prefix of the registering Python. */
export type KernelTarget = { prefix: string } | { sysPrefix: true };

/** The sys.prefix of a Python. */
export function sysPrefix(python: string): string {
  const r = spawnSync(python, ['-c', 'import sys; print(sys.prefix)'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`genlab: ${python} does not run (${(r.stderr || r.error?.message || '').trim()})`);
  return r.stdout.trim();
}

/**
 * Registers this checkout's tslab kernel (`tslab install --prefix=...` or `--sys-prefix`, through `python`'s
 * `jupyter kernelspec install`) unless the kernel.json there already runs this checkout's kernel. Returns the
 * kernel.json path.
 */
export function installKernelspec(python: string, target: KernelTarget, root = repoRoot(), log = defaultLog): string {
  const binary = tslabBinary(root);
  if (!fs.existsSync(binary)) {
    throw new Error(`genlab: ${binary} is missing: run \`npm install\` in ${root} first.`);
  }
  const kernelArgv0 = kernelEntry(root);
  const prefix = 'prefix' in target ? target.prefix : sysPrefix(python);
  const kernelJson = path.join(prefix, 'share', 'jupyter', 'kernels', KERNEL_NAME, 'kernel.json');
  if (kernelBinary(kernelJson) === kernelArgv0) return kernelJson;
  const where = 'prefix' in target ? `--prefix=${target.prefix}` : '--sys-prefix';
  log(`registering the tslab kernel (${binary}) in ${path.dirname(kernelJson)} (tslab install ${where})`);
  const r = spawnSync(binary, ['install', `--python=${python}`, `--binary=${kernelArgv0}`, where], {
    encoding: 'utf8',
    env: jupyterEnv({}, root),
  });
  if (r.status !== 0 || kernelBinary(kernelJson) !== kernelArgv0) {
    throw new Error(`genlab: \`tslab install ${where}\` failed (exit ${r.status}): ${r.stderr || r.stdout}`);
  }
  return kernelJson;
}

/** True if `python` belongs to the project environment `.venv/` of this checkout. */
export function isProjectPython(python: string, root = repoRoot()): boolean {
  return path.resolve(python).startsWith(venvDir(root) + path.sep);
}

/**
 * Registers this checkout's tslab kernel (name `tslab`) in `.cache/jupyter` (first on genlab's JUPYTER_PATH) with
 * genlab's export templates and config next to it; when `python` is the project's `.venv`, in `.venv` too, so a
 * `.venv/bin/jupyter lab` started by hand has them all. Quick when already done. Returns the private kernel.json.
 */
export function registerKernel(python: string, root = repoRoot(), log = defaultLog): string {
  const kernelJson = path.join(kernelDataDir(root), 'kernels', KERNEL_NAME, 'kernel.json');
  const fresh = kernelBinary(kernelJson) !== kernelEntry(root);
  installKernelspec(python, { prefix: privatePrefix(root) }, root, log);
  installJupyterFiles(privatePrefix(root), root, log);
  if (isProjectPython(python, root)) {
    installKernelspec(python, { prefix: venvDir(root) }, root, log);
    installJupyterFiles(venvDir(root), root, log);
  } else if (fresh) {
    // A JupyterLab started by hand (outside genlab's commands) only sees kernels registered for the user or
    // system: register there too when the machine has no tslab kernel at all.
    const list = spawnSync(python, ['-m', 'jupyter', 'kernelspec', 'list', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' },
    });
    try {
      const specs = (JSON.parse(list.stdout) as { kernelspecs: Record<string, unknown> }).kernelspecs;
      if (!(KERNEL_NAME in specs)) {
        log("no tslab kernel registered for this user: registering this checkout's (tslab install --user)");
        spawnSync(tslabBinary(root), ['install', `--python=${python}`, `--binary=${kernelEntry(root)}`, '--user'], { stdio: 'ignore' });
      }
    } catch {
      // listing failed: the private registration above is enough for genlab's own commands
    }
  }
  return kernelJson;
}

/**
 * For a class on one server (JupyterHub): registers this checkout's kernel into the sys.prefix of the shared
 * environment's `python` (`tslab install --sys-prefix`), with genlab's export templates and config, so every
 * student's JupyterLab started from that environment has them. Returns the kernel.json path.
 */
export function installShared(python: string, root = repoRoot(), log = defaultLog): string {
  const kernelJson = installKernelspec(python, { sysPrefix: true }, root, log);
  installJupyterFiles(sysPrefix(python), root, log);
  return kernelJson;
}

/** True if the Debian package is installed (dpkg says 'install ok installed'). */
function debInstalled(pkg: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

/** What a genlab command needs from the system. */
export type Need = 'jupyter' | 'chromium' | 'fashion-mnist' | 'peers';

/** Debian packages behind the non-Jupyter needs, and how to tell whether each is present. */
const SYSTEM_NEEDS: Record<Exclude<Need, 'jupyter'>, { packages: string[]; present: () => boolean; why: string }> = {
  chromium: {
    packages: ['chromium'],
    present: () => fs.existsSync('/usr/bin/chromium'),
    why: 'the export test opens the exported pages in headless Chromium',
  },
  'fashion-mnist': {
    packages: ['dataset-fashion-mnist'],
    present: () => fs.existsSync('/usr/share/datasets/fashion-mnist'),
    why: 'Fashion-MNIST for the datasets and lectures',
  },
  peers: {
    packages: ['python3-torch', 'libopenblas-dev'],
    present: () => debInstalled('python3-torch') && debInstalled('libopenblas-dev'),
    why: 'PyTorch reference checks and benchmarks; OpenBLAS headers for the optional native kernels',
  },
};

/**
 * Makes sure the system has what `needs` lists: Jupyter plus the registered kernel (fatal if impossible) and
 * Debian packages (installed when root on Debian, else a warning naming the command). Returns the Python that
 * runs Jupyter. Fast when everything is already there.
 */
export function setup(needs: readonly Need[], opts: EnsureOptions = {}): string {
  const log = opts.log ?? defaultLog;
  const canInstall = (opts.root ?? isRoot()) && (opts.debian ?? isDebian());
  const missing = needs.filter((n): n is Exclude<Need, 'jupyter'> => n !== 'jupyter' && !SYSTEM_NEEDS[n].present());
  if (missing.length > 0) {
    const pkgs = missing.flatMap((n) => SYSTEM_NEEDS[n].packages);
    if (canInstall) {
      aptInstall(pkgs, opts.aptGet, log);
    } else {
      for (const n of missing) log(`warning: missing ${SYSTEM_NEEDS[n].packages.join(' ')} (${SYSTEM_NEEDS[n].why})`);
      log(`install with: sudo apt-get install ${pkgs.join(' ')}`);
    }
  }
  const python = ensureJupyter(opts);
  registerKernel(python, repoRoot(), log);
  return python;
}

/** Runs a command-line entry point: an error prints its message alone (no stack) and exits 1. */
export function runCli(main: () => void | Promise<void>): void {
  const fail = (e: unknown): never => {
    process.stderr.write(`\n${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  };
  try {
    Promise.resolve(main()).catch(fail);
  } catch (e) {
    fail(e);
  }
}
