/**
 * `npm run setup -- --tensorflow[=cpu|gpu]`: genlab's native TensorFlow backend, built from pip's TensorFlow.
 *
 *   1. the project's Python environment (`.venv/`, scripts/python-env.ts) gets pip's `tensorflow-cpu` (or, for
 *      `gpu`, `tensorflow[and-cuda]`: TensorFlow with CUDA 12 and cuDNN from pip, for Linux x86-64 with NVIDIA);
 *   2. @tensorflow/tfjs-node@4.22.0's npm tarball is fetched with `npm pack` (its install script, which downloads
 *      libtensorflow 2.9.1 from Google, never runs) and unpacked in `.cache/tfjs-node/`;
 *   3. node-gyp compiles its N-API binding (`binding/*.cc`) together with genlab's addition to it
 *      (native/tensorflow/genlab_graph.cc: steps recorded as TensorFlow functions; see {@link bindingSources}) against
 *      the wheel's C library (`libtensorflow_cc.so.2`, `libtensorflow_framework.so.2`, headers in
 *      `tensorflow/include`) with an rpath to them, into `.cache/tfjs-node/<variant>/build/Release/tfjs_binding.node`;
 *   4. the addon is loaded once in a child process, and `build.json` (lib/engine/tensorflow-build.ts) is written
 *      last: from then on genlab's backend selection finds and prefers it.
 * Nothing global is touched and nothing is downloaded but pip and npm packages. Idempotent: a build whose manifest
 * matches the installed wheel returns at once. A failure says what is missing and leaves WASM working (a half
 * build has no manifest, so it is never loaded).
 */
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  GENLAB_BINDING_VERSION,
  readTensorflowBuild,
  TensorflowBuildManifest,
  tensorflowBuildDir,
  tensorflowBuildsDir,
  tensorflowManifestPath,
  TensorflowVariant,
  TFJS_NODE_VERSION,
} from '../lib/engine/tensorflow-build';
import { npmPack, unpackNpmTarball } from './npm-package';
import { repoRoot } from './jupyter';
import { ensureVenv, pipInstall } from './python-env';

/** What pip installs for each variant. */
export const TENSORFLOW_PIP: Record<TensorflowVariant, string> = { cpu: 'tensorflow-cpu', gpu: 'tensorflow[and-cuda]' };

/** Parses the value of `--tensorflow` ('' or 'cpu' -> cpu, 'gpu' -> gpu); throws naming the choices. */
export function parseTensorflowVariant(value: string | boolean | undefined): TensorflowVariant {
  const v = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (v === '' || v === 'cpu') return 'cpu';
  if (v === 'gpu' || v === 'cuda') return 'gpu';
  throw new Error(`--tensorflow must be cpu or gpu (e.g. --tensorflow=gpu); got '${String(value)}'`);
}

/** The TensorFlow a Python environment has, found without importing it (an import takes seconds). */
export interface WheelInfo {
  /** Folder of the `tensorflow` package, or undefined when TensorFlow is not installed. */
  dir?: string;
  /** Installed distributions providing it and their versions, e.g. { 'tensorflow-cpu': '2.21.0' }. */
  distributions: Record<string, string>;
}

const WHEEL_PROBE = `
import importlib.util, importlib.metadata as md, json
spec = importlib.util.find_spec('tensorflow')
dists = {}
for name in ('tensorflow-cpu', 'tensorflow', 'tensorflow-intel', 'tensorflow-macos'):
    try:
        dists[name] = md.version(name)
    except md.PackageNotFoundError:
        pass
print(json.dumps({'dir': list(spec.submodule_search_locations)[0] if spec else None, 'distributions': dists}))
`;

/** Which TensorFlow `python` has. */
export function wheelInfo(python: string): WheelInfo {
  const r = spawnSync(python, ['-c', WHEEL_PROBE], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`genlab: '${python}' could not be asked for TensorFlow: ${r.stderr.trim()}`);
  const info = JSON.parse(r.stdout) as { dir: string | null; distributions: Record<string, string> };
  return { dir: info.dir ?? undefined, distributions: info.distributions };
}

/** Shared-library file names of the TensorFlow C library in a wheel, per platform. */
export function tensorflowLibraries(platform = process.platform): string[] {
  return platform === 'darwin'
    ? ['libtensorflow_cc.2.dylib', 'libtensorflow_framework.2.dylib']
    : ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'];
}

/**
 * Include folders for the binding: the wheel's `include/` (tensorflow/c/c_api.h, c/eager/c_api.h) and the folder
 * holding `tsl/c/...` headers that TensorFlow 2.16+ moved under `xla/tsl/c` (c_api.h includes them as
 * "xla/tsl/c/tsl_status.h" in recent releases, "tsl/c/tsl_status.h" in earlier ones).
 */
export function tensorflowIncludeDirs(tfDir: string): string[] {
  const inc = path.join(tfDir, 'include');
  const dirs = [inc];
  if (fs.existsSync(path.join(inc, 'xla', 'tsl', 'c'))) dirs.push(path.join(inc, 'xla', 'tsl', 'c'));
  for (const extra of [path.join(inc, 'external', 'local_xla'), path.join(inc, 'external', 'local_tsl')]) {
    if (fs.existsSync(path.join(extra, 'tsl', 'c')) || fs.existsSync(path.join(extra, 'xla', 'tsl', 'c'))) dirs.push(extra);
  }
  return dirs;
}

/** What is missing from a wheel for building the binding (empty when complete). */
export function missingFromWheel(tfDir: string, platform = process.platform): string[] {
  const need = [
    ...tensorflowLibraries(platform).map((l) => path.join(tfDir, l)),
    path.join(tfDir, 'include', 'tensorflow', 'c', 'c_api.h'),
    path.join(tfDir, 'include', 'tensorflow', 'c', 'eager', 'c_api.h'),
  ];
  return need.filter((f) => !fs.existsSync(f));
}

/**
 * Copies tfjs-node's binding sources into `<buildDir>/src/` with genlab's two additions, and returns the folder:
 * - `tfjs_backend.h`: `TFJSBackend` names `GenlabGraphAccess` (genlab_graph.cc) a friend, for its eager context and
 *   tensor table;
 * - `tfjs_binding.cc`: the module's init also calls `GenlabExtendBinding`, which adds genlab's calls to the exports.
 * Each edit is checked: a tfjs-node release whose sources no longer match fails the build with a clear message.
 */
export function bindingSources(buildDir: string, srcDir: string): string {
  const out = path.join(buildDir, 'src');
  fs.mkdirSync(out, { recursive: true });
  const from = path.join(srcDir, 'binding');
  for (const f of fs.readdirSync(from)) {
    if (/\.(cc|h)$/.test(f)) fs.copyFileSync(path.join(from, f), path.join(out, f));
  }
  const edit = (file: string, find: string, replace: string): void => {
    const p = path.join(out, file);
    const text = fs.readFileSync(p, 'utf8');
    if (!text.includes(find)) {
      throw new Error(`genlab: tfjs-node ${TFJS_NODE_VERSION}'s ${file} has no '${find}'; genlab's binding addition needs updating`);
    }
    fs.writeFileSync(p, text.replace(find, replace));
  };
  edit('tfjs_backend.h', 'class TFJSBackend {', 'class TFJSBackend {\n  friend struct GenlabGraphAccess;  // genlab: native/tensorflow/genlab_graph.cc');
  edit(
    'tfjs_binding.cc',
    'NAPI_MODULE(tfe_binding, InitTFNodeJSBinding)',
    [
      '// genlab: its additions to the binding (native/tensorflow/genlab_graph.cc).',
      'napi_value GenlabExtendBinding(napi_env env, napi_value exports);',
      'static napi_value InitGenlabBinding(napi_env env, napi_value exports) {',
      '  return GenlabExtendBinding(env, InitTFNodeJSBinding(env, exports));',
      '}',
      'NAPI_MODULE(tfe_binding, InitGenlabBinding)',
    ].join('\n'),
  );
  return out;
}

/**
 * The binding.gyp genlab writes in `buildDir`: the binding sources (from {@link bindingSources}; gyp wants them
 * relative to the .gyp file) and genlab's addition (recorded functions), the wheel's headers, and its libraries
 * linked by full path with an rpath to their folder.
 */
export function bindingGyp(buildDir: string, srcDir: string, tfDir: string, platform = process.platform, root = repoRoot()): object {
  const libs = tensorflowLibraries(platform).map((l) => path.join(tfDir, l));
  const sources = path.join(buildDir, 'src');
  const rel = (f: string): string => path.relative(buildDir, f);
  return {
    targets: [
      {
        target_name: 'tfjs_binding',
        sources: [
          rel(path.join(sources, 'tfjs_backend.cc')),
          rel(path.join(sources, 'tfjs_binding.cc')),
          rel(path.join(root, 'native', 'tensorflow', 'genlab_graph.cc')),
        ],
        include_dirs: [srcDir, sources, ...tensorflowIncludeDirs(tfDir)],
        defines: ['NAPI_VERSION=8'],
        cflags_cc: ['-Wno-deprecated-declarations', '-Wno-unused-result'],
        libraries: [...libs, `-Wl,-rpath,${tfDir}`],
        ...(platform === 'darwin'
          ? { xcode_settings: { OTHER_LDFLAGS: [`-Wl,-rpath,${tfDir}`] } }
          : {}),
      },
    ],
  };
}

/** node-gyp and the --nodedir arguments, from scripts/build-native.js (one copy of that logic). */
function nodeGyp(root: string): { gyp: string | undefined; nodedir: string[] } {
  const helpers = require(path.join(root, 'scripts', 'build-native.js')) as {
    findNodeGyp(): string | undefined;
    nodedirArgs(): string[];
  };
  return { gyp: helpers.findNodeGyp(), nodedir: helpers.nodedirArgs() };
}

/** Last lines of a failed command's output that look like errors, for a one-paragraph message. */
function errorLines(r: SpawnSyncReturns<string>, max = 6): string {
  const lines = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').filter((l) => /error|not found|cannot|fatal/i.test(l));
  return (lines.slice(0, max).join('\n') || r.error?.message || `exit ${r.status ?? r.signal}`).trim();
}

/**
 * Unpacks @tensorflow/tfjs-node's npm tarball (binding sources + JavaScript glue) into `<builds>/package-<v>/`,
 * fetched with `npm pack` (no install script runs). Returns the unpacked package folder. Reused when present.
 */
export function tfjsNodeSources(buildsDir: string, log: (line: string) => void): string {
  const dest = path.join(buildsDir, `package-${TFJS_NODE_VERSION}`);
  if (fs.existsSync(path.join(dest, 'binding', 'tfjs_binding.cc')) && fs.existsSync(path.join(dest, 'dist', 'nodejs_kernel_backend.js'))) {
    return dest;
  }
  const cached = path.join(buildsDir, `tensorflow-tfjs-node-${TFJS_NODE_VERSION}.tgz`);
  let tarball = cached;
  if (!fs.existsSync(cached)) {
    log(`npm pack @tensorflow/tfjs-node@${TFJS_NODE_VERSION} (sources only; its install script does not run)`);
    tarball = npmPack(`@tensorflow/tfjs-node@${TFJS_NODE_VERSION}`, buildsDir);
  }
  unpackNpmTarball(tarball, dest);
  return dest;
}

/** Options of {@link setupTensorflow}. */
export interface TensorflowSetupOptions {
  /** 'cpu' (default) or 'gpu'. */
  variant?: TensorflowVariant;
  /** The genlab checkout (default: this one). */
  root?: string;
  /** Rebuild even when an up-to-date build exists (default false). */
  force?: boolean;
  /** Progress lines (default: stderr with a `genlab setup:` prefix). */
  log?: (line: string) => void;
}

const defaultLog = (line: string): void => void process.stderr.write(`genlab setup: ${line}\n`);

/** True when `manifest` describes a build of `variant` against the wheel now installed, whose files exist. */
function upToDate(manifest: TensorflowBuildManifest | undefined, variant: TensorflowVariant, tfDir: string, version: string): boolean {
  return (
    manifest !== undefined &&
    manifest.variant === variant &&
    manifest.tensorflowDir === tfDir &&
    manifest.tensorflow === version &&
    manifest.tfjsNode === TFJS_NODE_VERSION &&
    manifest.genlabBinding === GENLAB_BINDING_VERSION &&
    fs.existsSync(manifest.binding) &&
    fs.existsSync(path.join(manifest.glue, 'nodejs_kernel_backend.js'))
  );
}

/**
 * Makes the native TensorFlow backend of `variant` available (see the file comment); returns its manifest.
 * Throws one clear message naming what is missing (pip, the wheel's C library, a compiler, npm) and what to do.
 */
export function setupTensorflow(opts: TensorflowSetupOptions = {}): TensorflowBuildManifest {
  const variant = opts.variant ?? 'cpu';
  const root = opts.root ?? repoRoot();
  const log = opts.log ?? defaultLog;
  const t0 = Date.now();
  if (variant === 'gpu' && process.platform !== 'linux') {
    throw new Error(`genlab: --tensorflow=gpu needs Linux x86-64 with an NVIDIA GPU (pip's tensorflow[and-cuda]); this is ${process.platform}`);
  }
  const python = ensureVenv(root, 'python3', log);
  let wheel = wheelInfo(python);
  const haveGpuWheel = 'tensorflow' in wheel.distributions;
  const haveCpuWheel = 'tensorflow-cpu' in wheel.distributions;
  // The CPU build links whichever TensorFlow is there (the CUDA wheel computes on the CPU too); the GPU build
  // needs the CUDA wheel, which cannot share a site-packages with tensorflow-cpu (both own tensorflow/).
  const needInstall = wheel.dir === undefined || (variant === 'gpu' && !haveGpuWheel);
  if (needInstall) {
    if (spawnSync(python, ['-m', 'pip', '--version'], { stdio: 'ignore' }).status !== 0) {
      throw new Error(`genlab: ${python} has no pip (python3 -m venv made it without ensurepip?); on Debian install python3-venv and remove .venv/`);
    }
    if (variant === 'gpu' && haveCpuWheel) {
      log('removing tensorflow-cpu first (the CUDA wheel installs the same tensorflow/ package)');
      spawnSync(python, ['-m', 'pip', 'uninstall', '-y', 'tensorflow-cpu'], { stdio: 'inherit' });
    }
    pipInstall(python, [TENSORFLOW_PIP[variant]], log);
    wheel = wheelInfo(python);
  }
  const tfDir = wheel.dir;
  const distribution = Object.keys(wheel.distributions)[0];
  if (!tfDir || !distribution) {
    throw new Error(`genlab: pip installed ${TENSORFLOW_PIP[variant]} but ${python} still has no tensorflow package`);
  }
  const version = wheel.distributions[distribution];
  const missing = missingFromWheel(tfDir);
  if (missing.length > 0) {
    throw new Error(
      `genlab: TensorFlow ${version} in ${tfDir} lacks its C library or headers (${missing.map((m) => path.relative(tfDir, m)).join(', ')}); ` +
        `genlab needs a wheel from pip (${TENSORFLOW_PIP[variant]}), which ships them`,
    );
  }
  const existing = readTensorflowBuild(variant, root);
  if (!opts.force && upToDate(existing, variant, tfDir, version)) {
    log(`native TensorFlow (${variant}) already built against TensorFlow ${version}: ${existing!.binding}`);
    return existing!;
  }

  const buildsDir = tensorflowBuildsDir(root);
  const src = tfjsNodeSources(buildsDir, log);
  const dir = tensorflowBuildDir(variant, root);
  fs.rmSync(tensorflowManifestPath(variant, root), { force: true }); // not "built" until the end
  fs.mkdirSync(dir, { recursive: true });
  bindingSources(dir, src);
  fs.writeFileSync(path.join(dir, 'binding.gyp'), JSON.stringify(bindingGyp(dir, src, tfDir, process.platform, root), null, 2) + '\n');
  const { gyp, nodedir } = nodeGyp(root);
  if (!gyp) throw new Error('genlab: node-gyp not found (it ships with npm); reinstall npm or `npm install -g node-gyp`');
  log(`compiling the tfjs-node ${TFJS_NODE_VERSION} binding against TensorFlow ${version} (${distribution}); about a minute`);
  const r = spawnSync(process.execPath, [gyp, 'rebuild', ...nodedir], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 15 * 60 * 1000,
    env: { ...process.env, JOBS: process.env.JOBS ?? 'max' },
  });
  const binding = path.join(dir, 'build', 'Release', 'tfjs_binding.node');
  if (r.status !== 0 || !fs.existsSync(binding)) {
    const text = `${r.stdout}\n${r.stderr}`;
    const compiler = /(g\+\+|c\+\+|cc|make): (command )?not found|No such file or directory.*(g\+\+|make)/.test(text)
      ? ' A C++ compiler and make are needed (Debian/Ubuntu: apt-get install g++ make).'
      : '';
    throw new Error(`genlab: building the TensorFlow binding failed; genlab keeps using WASM.${compiler}\n${errorLines(r)}`);
  }
  const manifest: TensorflowBuildManifest = {
    variant,
    tensorflow: version,
    distribution,
    tensorflowDir: tfDir,
    tfjsNode: TFJS_NODE_VERSION,
    genlabBinding: GENLAB_BINDING_VERSION,
    binding,
    glue: path.join(src, 'dist'),
    node: { napi: process.versions.napi ?? '', modules: process.versions.modules },
    builtAt: new Date().toISOString(),
  };
  // Load it once in a child process, with genlab's own loader: a library that links but does not load (or
  // computes nothing) must not be selected.
  const check = spawnSync(
    process.execPath,
    [
      '-e',
      `const t = require(${JSON.stringify(path.join(root, 'dist', 'lib', 'engine', 'tensorflow-native.js'))});` +
        `t.checkTensorflowBuild(${JSON.stringify(manifest)}).then((i) => console.log(JSON.stringify(i)), ` +
        `(e) => { console.error('error: ' + e.message); process.exit(1); });`,
    ],
    { encoding: 'utf8' },
  );
  if (check.status !== 0) {
    throw new Error(`genlab: the TensorFlow binding built but does not load; genlab keeps using WASM:\n${errorLines(check)}`);
  }
  fs.writeFileSync(tensorflowManifestPath(variant, root), JSON.stringify(manifest, null, 2) + '\n');
  log(`native TensorFlow (${variant}) built against TensorFlow ${version} in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${check.stdout.trim()}`);
  return manifest;
}
