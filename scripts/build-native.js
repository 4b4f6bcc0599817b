#!/usr/bin/env node
/**
 * Builds genlab's OPTIONAL native addon (native/: OpenBLAS matrix products for the TensorFlow.js WASM and CPU
 * backends). Run at install; never fails the install: when the addon cannot be built, genlab uses its portable
 * kernels (same results, slower products) and this script says so in one line.
 *
 * Needs: a C compiler, make, python3 (node-gyp), Node's headers, and OpenBLAS's headers (Debian/Ubuntu:
 * libopenblas-dev). As root on a Debian-like system without OpenBLAS it runs `apt-get install -y
 * libopenblas-dev` first (set GENLAB_NATIVE_APT=0 to forbid that). GENLAB_NATIVE=0 skips the build.
 *
 * Plain JavaScript on purpose: it runs before TypeScript is compiled.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const nativeDir = path.join(root, 'native');
const built = path.join(nativeDir, 'build', 'Release', 'genlab_native.node');
const HOW = 'to build it later: install libopenblas-dev (Debian/Ubuntu) and run `node scripts/build-native.js`';

function done(ok, reason) {
  if (ok) console.log(`genlab: native OpenBLAS kernels built (${path.relative(root, built)}): ${reason}`);
  else {
    console.log(
      `genlab: native OpenBLAS kernels NOT built (${reason}); genlab works without them ` +
        `(portable kernels, same results, slower matrix products); ${HOW}.`,
    );
  }
  process.exit(0);
}

function off(v) {
  return ['0', 'false', 'no', 'off'].includes(String(v ?? '').toLowerCase());
}

function haveBlasHeaders() {
  const dirs = ['/usr/include', '/usr/local/include', '/opt/homebrew/opt/openblas/include',
    '/usr/local/opt/openblas/include'];
  try {
    for (const d of fs.readdirSync('/usr/include')) {
      if (/-linux-gnu/.test(d)) dirs.push(path.join('/usr/include', d));
    }
  } catch {
    /* not a Debian-like layout */
  }
  return dirs.some((d) => fs.existsSync(path.join(d, 'cblas.h')));
}

function tryApt() {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (process.platform !== 'linux' || !isRoot || off(process.env.GENLAB_NATIVE_APT)) return false;
  if (!fs.existsSync('/usr/bin/apt-get')) return false;
  console.log('genlab: OpenBLAS headers missing; running apt-get install -y libopenblas-dev (GENLAB_NATIVE_APT=0 skips)');
  const opts = { stdio: 'inherit', timeout: 10 * 60 * 1000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  const args = ['install', '-y', '--no-install-recommends', 'libopenblas-dev'];
  if (spawnSync('apt-get', args, opts).status === 0) return true;
  spawnSync('apt-get', ['update'], opts);
  return spawnSync('apt-get', args, opts).status === 0;
}

/** node-gyp: the copy npm passes to scripts, else the one bundled with npm next to this node. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    /* not installed locally */
  }
  return candidates.find((c) => c && fs.existsSync(c));
}

/**
 * Offline machines: `--nodedir=<prefix>` pointing node-gyp at the headers next to this node (so it downloads
 * nothing), unless npm already told it where; [] when this node has no headers beside it.
 */
function nodedirArgs() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
    return [`--nodedir=${prefix}`];
  }
  return [];
}

function main() {
  if (off(process.env.GENLAB_NATIVE)) done(false, 'skipped: GENLAB_NATIVE=0');
  if (!haveBlasHeaders() && !(tryApt() && haveBlasHeaders())) done(false, 'OpenBLAS headers (cblas.h) not found');
  const gyp = findNodeGyp();
  if (!gyp) done(false, 'node-gyp not found');
  const args = [gyp, 'rebuild', ...nodedirArgs()];
  const r = spawnSync(process.execPath, args, { cwd: nativeDir, encoding: 'utf8', timeout: 5 * 60 * 1000 });
  if (r.status !== 0) {
    const lines = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').filter((l) => /error/i.test(l));
    fs.rmSync(built, { force: true });
    done(false, `compile failed: ${(lines[0] ?? r.error?.message ?? `exit ${r.status}`).trim()}`);
  }
  // Load it once in a child process: a library that links but does not load must not be left behind.
  const check = spawnSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(built)}).config())`], {
    encoding: 'utf8',
  });
  if (check.status !== 0) {
    fs.rmSync(built, { force: true });
    done(false, `built but does not load: ${(check.stderr ?? '').split('\n').find((l) => l.trim()) ?? ''}`);
  }
  done(true, check.stdout.trim());
}

module.exports = { findNodeGyp, nodedirArgs };

if (require.main === module) main();
