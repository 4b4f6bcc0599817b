/**
 * The platform around the library: Jupyter detection and installation, kernel registration, the package link,
 * notebook failure reports, and `npm run lab`.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DEBIAN_JUPYTER_PACKAGES,
  ensureJupyter,
  hasJupyterLab,
  isProjectPython,
  kernelDataDir,
  registerKernel,
  repoRoot,
  kernelEntry,
} from '../scripts/jupyter';
import { listNotebooks, NotebookError, runNotebook } from '../scripts/lectures';
import { labCommand, labStateDirs, splitLabArgs } from '../scripts/lab';
import { readNotebook, tslabNotebook } from '../scripts/notebook-cells';
import { venvDir } from '../scripts/python-env';
import { freePort } from './helpers';

const ROOT = repoRoot();
const DIST_SCRIPTS = path.join(__dirname, '..', 'scripts');
const INCI = process.env.CI === 'true' || process.env.CI === '1';
const tmp = (prefix: string): string => fs.mkdtempSync(path.join(os.tmpdir(), `genlab-${prefix}-`));

test('no Jupyter and no permission to install: one message naming pip install jupyterlab', () => {
  assert.throws(
    () => ensureJupyter({ candidates: ['/nonexistent/python3'], root: false, log: () => undefined }),
    (e: Error) => /Jupyter not found/.test(e.message) && /pip install jupyterlab/.test(e.message),
  );
  // The command-line form exits 1 with the same message (GENLAB_NO_SYSTEM_INSTALL=1 stands for "not root").
  const r = spawnSync(process.execPath, [path.join(DIST_SCRIPTS, 'setup.js'), '--for', 'lectures'], {
    encoding: 'utf8',
    env: { ...process.env, GENLAB_PYTHON: '/nonexistent/python3', GENLAB_NO_SYSTEM_INSTALL: '1' },
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /genlab: Jupyter not found .*pip install jupyterlab/);
  const bad = spawnSync(process.execPath, [path.join(DIST_SCRIPTS, 'setup.js'), '--for', 'party'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--for must be one of test, lectures, lab; got party/);
});

test('no Jupyter on Debian as root: installs Debian\'s Jupyter packages with apt-get, then finds it', () => {
  // A machine without Jupyter, simulated: the only candidate python does not exist until "apt-get install" creates
  // it (a wrapper running this machine's Jupyter python: a venv's python cannot simply be linked elsewhere). The fake apt-get records its arguments.
  const dir = tmp('apt');
  const python = path.join(dir, 'bin', 'python3');
  const log = path.join(dir, 'apt.log');
  const realPython = ensureJupyter({ log: () => undefined });
  const apt = path.join(dir, 'apt-get');
  fs.writeFileSync(
    apt,
    `#!/bin/sh\necho "$@" >> ${log}\nif [ "$1" = install ]; then mkdir -p ${dir}/bin && printf '#!/bin/sh\\nexec ${realPython} "$@"\\n' > ${python} && chmod +x ${python}; fi\n`,
    { mode: 0o755 },
  );
  const lines: string[] = [];
  const found = ensureJupyter({ candidates: [python], root: true, debian: true, aptGet: apt, log: (l) => lines.push(l) });
  assert.equal(found, python);
  const calls = fs.readFileSync(log, 'utf8').trim().split('\n');
  const install = calls.find((c) => c.startsWith('install'));
  assert.equal(install, `install -y --no-install-recommends ${DEBIAN_JUPYTER_PACKAGES.join(' ')}`);
  assert.ok(lines.some((l) => /Jupyter not found/.test(l)), lines.join('\n'));

  // An apt-get that "succeeds" without providing Jupyter is an error, not a silent skip.
  const noop = path.join(dir, 'apt-noop');
  fs.writeFileSync(noop, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  assert.throws(
    () => ensureJupyter({ candidates: ['/nonexistent/py'], root: true, debian: true, aptGet: noop, log: () => undefined }),
    /installed jupyter-nbconvert .* but still no python .*pip install jupyterlab/,
  );
});

test('the kernel is this checkout\'s tslab, registered privately and idempotently', () => {
  const python = ensureJupyter({ log: () => undefined });
  const lines: string[] = [];
  const kernelJson = registerKernel(python, ROOT, (l) => lines.push(l));
  assert.equal(kernelJson, path.join(kernelDataDir(ROOT), 'kernels', 'tslab', 'kernel.json'));
  const spec = JSON.parse(fs.readFileSync(kernelJson, 'utf8')) as { argv: string[]; language: string };
  assert.equal(spec.argv[0], kernelEntry(ROOT));
  assert.equal(spec.language, 'typescript');
  // second call: nothing to do, nothing logged, fast
  const t0 = Date.now();
  const again: string[] = [];
  registerKernel(python, ROOT, (l) => again.push(l));
  assert.deepEqual(again, []);
  assert.ok(Date.now() - t0 < 1000);
  // Jupyter itself sees it first on the path genlab runs it with
  const list = spawnSync(python, ['-m', 'jupyter', 'kernelspec', 'list', '--json'], {
    encoding: 'utf8',
    env: { ...process.env, JUPYTER_PATH: kernelDataDir(ROOT) },
  });
  const specs = JSON.parse(list.stdout).kernelspecs as Record<string, { resource_dir: string }>;
  assert.equal(specs.tslab.resource_dir, path.dirname(kernelJson));
});

test('node_modules/genlab links to the checkout, so notebooks import the compiled package by name', () => {
  assert.equal(fs.realpathSync(path.join(ROOT, 'node_modules', 'genlab')), fs.realpathSync(ROOT));
  assert.equal(require.resolve('genlab', { paths: [path.join(ROOT, 'notebooks')] }), path.join(fs.realpathSync(ROOT), 'dist', 'lib', 'index.js'));
  // link-self replaces a stale folder and is idempotent
  const fake = tmp('link');
  fs.mkdirSync(path.join(fake, 'scripts'));
  fs.copyFileSync(path.join(ROOT, 'scripts', 'link-self.js'), path.join(fake, 'scripts', 'link-self.js'));
  fs.mkdirSync(path.join(fake, 'node_modules', 'genlab'), { recursive: true });
  for (let i = 0; i < 2; i++) {
    const r = spawnSync(process.execPath, [path.join(fake, 'scripts', 'link-self.js')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
  assert.equal(fs.readlinkSync(path.join(fake, 'node_modules', 'genlab')), '..');
});

test('notebook filters: sorted, and a filter that matches nothing is an error', () => {
  const all = listNotebooks();
  assert.ok(all.length >= 1);
  assert.deepEqual(all, [...all].sort());
  assert.deepEqual(listNotebooks(['00-getting']).map((p) => path.basename(p)), ['00-getting-started.ipynb']);
  assert.throws(() => listNotebooks(['no-such-lecture']), /No notebook in .* matches 'no-such-lecture'/);
});

/** Writes a notebook (tslab kernelspec) with these code cells into a folder inside the checkout. */
function writeNotebook(name: string, cells: (string | { source: string; tags: string[] })[]): string {
  const dir = path.join(ROOT, 'build', 'test-platform');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(tslabNotebook(cells, { title: '# scratch' })));
  return file;
}

test('notebooks get genlab\'s types: a type error is reported naming the notebook and the cell', async () => {
  const nb = writeNotebook('types.ipynb', [
    `import { tf, describeEnvironment } from 'genlab';`,
    `const env = await describeEnvironment();\nconst name: string = env.backend;\nsetTimeout(() => undefined, 1);\nname`,
    `// a deliberate type error: backend is a string\nconst wrong: number = env.backend;`,
  ]);
  const out = path.join(ROOT, 'build', 'test-platform', 'out');
  await assert.rejects(runNotebook(nb, { quick: true, outDir: out, export: false, log: () => undefined }), (e: unknown) => {
    assert.ok(e instanceof NotebookError, String(e));
    assert.equal(e.cellIndex, 3, e.message);
    assert.match(e.message, /types\.ipynb failed in cell 3 \(code cell 3 of 3\)/);
    assert.match(e.message, /> \/\/ a deliberate type error/);
    assert.match(e.message, /Type 'string' is not assignable to type 'number'/);
    return true;
  });
  // the cells before the error ran: the executed notebook holds the backend name printed by cell 2
  const executed = readNotebook(path.join(out, 'notebooks', 'types.ipynb'));
  assert.match(JSON.stringify(executed.cells[2].outputs), /wasm|cpu|tensorflow/);
});

test('a runtime error names the cell, its first line and the error; expected errors do not abort the next cell', async () => {
  // Cell 2 is tagged raises-exception (a deliberate error the lecture shows); tslab aborts requests that arrive
  // within 200 ms of an error, so the runner must wait before cell 3, which must really run (and fail).
  const nb = writeNotebook('throws.ipynb', [
    `const a = 1;`,
    { source: `throw new Error('shown on purpose');`, tags: ['raises-exception'] },
    `\nconst b = a + 1;\nthrow new RangeError('b is ' + b);`,
    `a`,
  ]);
  await assert.rejects(
    runNotebook(nb, { quick: true, outDir: path.join(ROOT, 'build', 'test-platform', 'out'), export: false, log: () => undefined }),
    (e: unknown) => {
      assert.ok(e instanceof NotebookError, String(e));
      assert.equal(e.cellIndex, 3, e.message);
      assert.equal(e.ename, 'RangeError');
      assert.equal(e.evalue, 'b is 2');
      assert.match(e.message, /failed in cell 3 \(code cell 3 of 4\):\n {2}> const b = a \+ 1;/);
      return true;
    },
  );
});

test('a burst of outputs reaches the saved notebook whole (zeromq sends queued, nothing dropped)', async () => {
  // Three ways a burst of outputs (live progress, many figures) used to be lost, each fixed and each caught here:
  // tslab 1.0.22 does not await zeromq's send(), so past a few hundred quick messages the next send threw EBUSY
  // and killed the kernel (scripts/tslab-kernel.js queues them); the IOPub publisher kept 1000 messages for a
  // slow reader and dropped the rest (the wrapper lifts the limit); and nbclient waited 4 s for a cell's
  // remaining output before saving without it (execute_notebook.py waits longer and fails loudly).
  const n = 5000;
  const nb = writeNotebook('burst.ipynb', [
    `const tslab = require('tslab');\nfor (let i = 0; i < ${n}; i++) tslab.display.html('<b>' + i + '</b>');\n'done'`,
  ]);
  const out = path.join(ROOT, 'build', 'test-platform', 'out');
  await runNotebook(nb, { quick: true, outDir: out, export: false, log: () => undefined });
  const outputs = readNotebook(path.join(out, 'notebooks', 'burst.ipynb')).cells[1].outputs ?? [];
  const html = outputs.filter((o) => o.data && 'text/html' in o.data).map((o) => String(o.data?.['text/html']));
  assert.equal(html.length, n);
  assert.equal(html[n - 1], `<b>${n - 1}</b>`);
});

test('a missing kernel is one clear message with the fix', async () => {
  const nb = writeNotebook('nokernel.ipynb', ['1']);
  await assert.rejects(
    runNotebook(nb, { kernel: 'genlab-no-such-kernel', export: false, outDir: path.join(ROOT, 'build', 'test-platform', 'out'), log: () => undefined }),
    (e: unknown) => {
      assert.ok(e instanceof NotebookError, String(e));
      assert.equal(e.ename, 'NoSuchKernel', e.message);
      assert.match(e.message, /nokernel\.ipynb could not run: NoSuchKernel: .*\n {2}Fix: the 'genlab-no-such-kernel' kernel is not registered: run `npm run setup`/);
      return true;
    },
  );
});

/** One HTTP request to a local Jupyter; resolves status, body and headers. */
function httpRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The processes below `pid` (from /proc), with their command line and environment. */
function processTree(pid: number): { pid: number; cmdline: string; environ: string }[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone
    }
  }
  const out: { pid: number; cmdline: string; environ: string }[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      try {
        out.push({ pid: c, cmdline: fs.readFileSync(`/proc/${c}/cmdline`, 'utf8').replace(/\0/g, ' '), environ: fs.readFileSync(`/proc/${c}/environ`, 'utf8') });
      } catch {
        // gone
      }
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** True while `pid` runs (a zombie does not count). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

test('npm run lab\'s arguments: --notebook and --quick are genlab\'s, everything else goes to Jupyter as typed', () => {
  assert.deepEqual(splitLabArgs(['--port', '8888', '--IdentityProvider.token=']), {
    notebook: false,
    quick: false,
    jupyter: ['--port', '8888', '--IdentityProvider.token='],
  });
  assert.deepEqual(splitLabArgs(['--quick', '--no-browser', '--ServerApp.ip=0.0.0.0', '--notebook', '-y']), {
    notebook: true,
    quick: true,
    jupyter: ['--no-browser', '--ServerApp.ip=0.0.0.0', '-y'],
  });
  // a `--` is dropped, and what follows it is Jupyter's even if it looks like genlab's (the old `-- -- <extra>` form)
  assert.deepEqual(splitLabArgs(['--no-browser', '--', '--quick', 'x']).jupyter, ['--no-browser', '--quick', 'x']);
  assert.equal(splitLabArgs(['--no-browser', '--', '--quick']).quick, false);
  assert.throws(() => splitLabArgs(['--quick=1']), /--quick takes no value; got --quick=1/);
  // npm passes everything after `npm run lab --` to this script unchanged
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.lab, 'node dist/scripts/lab.js');
  assert.equal(pkg.scripts.notebook, 'node dist/scripts/lab.js --notebook');
});

test('npm run lab as typed: Jupyter\'s flags pass through, --quick reaches the kernels, the Lab\'s state stays in the checkout, Ctrl-C ends Jupyter and its kernels', { timeout: 240_000 }, async (t) => {
  const python = ensureJupyter({ log: () => undefined });
  const missing = !hasJupyterLab(python)
    ? `no JupyterLab 4 (${python}): set-up fell back to the classic Notebook`
    : !fs.existsSync('/proc/self/environ')
      ? 'the kernels\' processes are read from /proc (Linux)'
      : undefined;
  if (missing) {
    assert.ok(!INCI, `CI must run this test: ${missing}`);
    return t.skip(missing);
  }
  const cmd = labCommand({ python, browser: false });
  assert.equal(cmd.app, 'lab');
  assert.ok(cmd.args.includes(`--notebook-dir=${path.join(ROOT, 'notebooks')}`));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // `npm run lab -- --quick --no-browser --port N --IdentityProvider.token= --ServerApp.ip=127.0.0.1`, as a terminal
  // runs it: in a process group of its own, which Ctrl-C signals as a whole.
  const child = spawn(
    process.execPath,
    [path.join(DIST_SCRIPTS, 'lab.js'), '--quick', '--no-browser', '--port', String(port), '--IdentityProvider.token=', '--ServerApp.ip=127.0.0.1'],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const workspaceId = `genlab-test-${port}`;
  let workspaceFiles: string[] = [];
  let procs: ReturnType<typeof processTree> = [];
  try {
    let up = false;
    for (let i = 0; i < 120 && !up && child.exitCode === null; i++) {
      await new Promise((r) => setTimeout(r, 500));
      up = await httpRequest(`${base}/api/status`).then((r) => r.status === 200, () => false);
    }
    assert.ok(up, `Jupyter did not answer on 127.0.0.1:${port} without a token (--port and --IdentityProvider.token= passed through?):\n${stderr}`);
    const specs = JSON.parse((await httpRequest(`${base}/api/kernelspecs`)).body) as { kernelspecs: Record<string, { spec: { argv: string[] } }> };
    assert.equal(specs.kernelspecs.tslab.spec.argv[0], kernelEntry(ROOT));
    assert.match((await httpRequest(`${base}/api/contents`)).body, /00-getting-started\.ipynb/);
    // Writes need the server's XSRF cookie (no token: cookie-style requests); the Lab page sets it.
    const page = await httpRequest(`${base}/lab`);
    const xsrf = /_xsrf=([^;]+)/.exec(String(page.headers['set-cookie']))?.[1];
    assert.ok(xsrf, 'the Lab page sets an _xsrf cookie');
    const write = { 'Content-Type': 'application/json', 'X-XSRFToken': xsrf, Cookie: `_xsrf=${xsrf}` };
    for (let i = 0; i < 2; i++) {
      const k = await httpRequest(`${base}/api/kernels`, { method: 'POST', headers: write, body: JSON.stringify({ name: 'tslab' }) });
      assert.equal(k.status, 201, k.body);
    }
    // A workspace saved by this Lab lands in the checkout's .cache, not in ~/.jupyter.
    const ws = await httpRequest(`${base}/lab/api/workspaces/${workspaceId}`, {
      method: 'PUT',
      headers: write,
      body: JSON.stringify({ data: {}, metadata: { id: workspaceId } }),
    });
    assert.equal(ws.status, 204, ws.body);
    const { workspaces } = labStateDirs(ROOT);
    workspaceFiles = fs.readdirSync(workspaces).filter((f) => f.startsWith(workspaceId)).map((f) => path.join(workspaces, f));
    assert.equal(workspaceFiles.length, 1, `the workspace is saved in ${workspaces}`);
    // Both kernels run (tslab started), with quick mode on.
    procs = processTree(child.pid ?? -1);
    for (let i = 0; i < 40 && procs.filter((p) => p.cmdline.includes('tslab-kernel.js')).length < 2; i++) {
      await new Promise((r) => setTimeout(r, 250));
      procs = processTree(child.pid ?? -1);
    }
    const kernels = procs.filter((p) => p.cmdline.includes('tslab-kernel.js'));
    assert.equal(kernels.length, 2, procs.map((p) => p.cmdline).join('\n'));
    for (const k of kernels) assert.ok(k.environ.split('\0').includes('GENLAB_QUICK=1'), `kernel ${k.pid} runs without GENLAB_QUICK=1`);
    // Ctrl-C: the terminal signals the foreground process group.
    process.kill(-(child.pid ?? 0), 'SIGINT');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running after 60 s'), 60_000))]);
    assert.equal(code, 0, `npm run lab after Ctrl-C: ${code}\n${stderr}`);
    const left = procs.filter((p) => running(p.pid));
    assert.deepEqual(left.map((p) => p.cmdline), [], 'nothing the Lab started is left running');
    assert.match(stderr, /Shutting down 2 kernels/, 'Jupyter shut its kernels down itself');
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      // (a failure above: stop it the same way, so no Jupyter outlives the test)
      process.kill(-(child.pid ?? 0), 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      if (child.exitCode === null) process.kill(-(child.pid ?? 0), 'SIGKILL');
    }
    for (const p of procs.filter((q) => running(q.pid))) process.kill(p.pid, 'SIGKILL'); // (after a failure)
    for (const f of workspaceFiles) fs.rmSync(f, { force: true });
  }
});

test('set-up is idempotent: a second run finds JupyterLab 4 in .venv and has nothing to do or say', () => {
  const first = spawnSync(process.execPath, [path.join(DIST_SCRIPTS, 'setup.js'), '--for', 'lab'], { encoding: 'utf8' });
  assert.equal(first.status, 0, first.stderr);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [path.join(DIST_SCRIPTS, 'setup.js'), '--for', 'lab'], { encoding: 'utf8' });
  const seconds = (Date.now() - t0) / 1000;
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.replace(/^genlab setup: (warning: missing|install with).*\n/gm, ''), '', 'nothing to do, nothing said');
  process.stderr.write(`# set-up when done: ${seconds.toFixed(2)} s\n`);
  const python = ensureJupyter({ log: () => undefined });
  if (isProjectPython(python, ROOT)) {
    assert.ok(hasJupyterLab(python), 'the project venv has JupyterLab 4 and Notebook 7');
    // the venv has everything a `.venv/bin/jupyter lab` started by hand needs
    assert.ok(fs.existsSync(path.join(venvDir(ROOT), 'share', 'jupyter', 'kernels', 'tslab', 'kernel.json')));
    assert.ok(fs.existsSync(path.join(venvDir(ROOT), 'share', 'jupyter', 'nbconvert', 'templates', 'genlab-reveal', 'index.html.j2')));
  }
});

test('where venv fails, set-up says so in one line and falls back (Debian\'s Jupyter, or the fix)', () => {
  const lines: string[] = [];
  const dir = tmp('novenv');
  try {
    const py = ensureJupyter({ venv: { root: dir, base: '/nonexistent/python3' }, root: false, log: (l) => lines.push(l) });
    assert.ok(!isProjectPython(py, dir));
  } catch (e) {
    assert.match((e as Error).message, /Jupyter not found .*pip install jupyterlab/);
  }
  const notes = lines.filter((l) => /falling back/.test(l));
  assert.equal(notes.length, 1, lines.join('\n'));
  assert.match(notes[0], /could not create a Python environment with '\/nonexistent\/python3 -m venv/);
  assert.ok(!fs.existsSync(path.join(dir, '.venv')), 'no half-made environment is left');
});

test('a class on one server: --sys-prefix installs the kernel, templates and config into a shared environment', () => {
  // A throwaway venv stands for the shared environment (TLJH's /opt/tljh/user); it sees Jupyter through a .pth
  // file pointing at the project venv's packages, as a shared environment would have them installed.
  const python = ensureJupyter({ log: () => undefined });
  const site = spawnSync(python, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { encoding: 'utf8' }).stdout.trim();
  const env = tmp('shared');
  const made = spawnSync('python3', ['-m', 'venv', '--without-pip', env], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const envPython = path.join(env, 'bin', 'python');
  const envSite = spawnSync(envPython, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { encoding: 'utf8' }).stdout.trim();
  fs.writeFileSync(path.join(envSite, 'shared-jupyter.pth'), site + '\n');
  const r = spawnSync(process.execPath, [path.join(DIST_SCRIPTS, 'setup.js'), '--sys-prefix', envPython], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const kernelJson = path.join(env, 'share', 'jupyter', 'kernels', 'tslab', 'kernel.json');
  assert.equal(JSON.parse(fs.readFileSync(kernelJson, 'utf8')).argv[0], kernelEntry(ROOT));
  // Jupyter run from that environment by a student with a fresh account (empty user data folder), with no genlab
  // variables, sees it
  const clean: NodeJS.ProcessEnv = { ...process.env, HOME: path.join(env, 'student-home'), JUPYTER_DATA_DIR: path.join(env, 'student-home', 'data') };
  delete clean.JUPYTER_PATH;
  delete clean.JUPYTER_CONFIG_PATH;
  // (`jupyter kernelspec` as the environment's own bin/jupyter-kernelspec runs it; `python -m jupyter kernelspec`
  // would look for jupyter-kernelspec on PATH, and this stand-in environment has no scripts of its own)
  const list = spawnSync(envPython, ['-c', 'from jupyter_client.kernelspecapp import KernelSpecApp; KernelSpecApp.launch_instance()', 'list', '--json'], {
    encoding: 'utf8',
    env: clean,
  });
  assert.equal(list.status, 0, list.stderr);
  const specs = JSON.parse(list.stdout).kernelspecs as Record<string, { resource_dir: string }>;
  assert.equal(fs.realpathSync(specs.tslab.resource_dir), fs.realpathSync(path.dirname(kernelJson)));
  assert.ok(fs.existsSync(path.join(env, 'share', 'jupyter', 'nbconvert', 'templates', 'genlab-assets', 'tex-svg-full.js')));
  const config = JSON.parse(fs.readFileSync(path.join(env, 'etc', 'jupyter', 'jupyter_server_config.json'), 'utf8'));
  assert.equal(config.SlidesExporter.template_name, 'genlab-reveal');
  fs.rmSync(env, { recursive: true, force: true });
});
