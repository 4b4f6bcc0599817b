#!/usr/bin/env node
/**
 * `npm run build`: a clean build of `dist/` that never leaves `dist/` missing or a file half-written, because a
 * running kernel (a JupyterLab left open, `npm run lectures` in another terminal) may be loading genlab from it.
 *
 * TypeScript compiles into a fresh folder beside `dist/` (`.build-dist-<pid>/`, same depth, so the source maps'
 * relative paths hold); then each file is renamed over its counterpart in `dist/` (a rename is atomic: a reader
 * sees the old file or the new one), and files the new build no longer has are removed. A failed compile leaves
 * `dist/` as it was. `dist/.build-stamp`, written last, records a fingerprint of the inputs (every .ts file
 * tsconfig.json includes, tsconfig.json, the TypeScript version).
 *
 * `--if-stale` (what `npm run lab`, `npm run notebook` and `npm run lectures` use): does nothing when the stamp
 * matches the sources, so starting the Lab does not recompile (about 30 s here) when nothing changed.
 *
 * Plain JavaScript: it runs before anything is compiled.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const STAMP = '.build-stamp';

/** Every file under `dir` (relative paths, sorted); [] when `dir` does not exist. */
function walk(dir, rel = '') {
  let entries;
  try {
    entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  const out = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...walk(dir, r));
    else out.push(r);
  }
  return out;
}

/**
 * A fingerprint of what the build of the checkout `dir` reads: tsconfig.json, its included .ts files (path and
 * content), TypeScript's version.
 */
function fingerprint(dir = root) {
  const tsconfig = JSON.parse(fs.readFileSync(path.join(dir, 'tsconfig.json'), 'utf8'));
  const hash = crypto.createHash('sha256');
  hash.update(`typescript ${require(require.resolve('typescript/package.json', { paths: [dir, root] })).version}\n`);
  hash.update(JSON.stringify(tsconfig));
  for (const inc of tsconfig.include ?? []) {
    for (const f of walk(path.join(dir, inc)).filter((f) => f.endsWith('.ts'))) {
      hash.update(`\n${inc}/${f}\n`);
      hash.update(fs.readFileSync(path.join(dir, inc, f)));
    }
  }
  return hash.digest('hex');
}

/** True when dist/ was built from exactly the current inputs. */
function upToDate(print) {
  try {
    return fs.readFileSync(path.join(dist, STAMP), 'utf8').trim() === print;
  } catch {
    return false;
  }
}

/**
 * Moves the tree `fresh` into `target` file by file (each rename atomic), then removes files and emptied folders
 * of `target` that `fresh` does not have. `fresh` is empty afterwards.
 */
function swapInto(fresh, target) {
  const files = walk(fresh);
  const keep = new Set(files);
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(target, f)), { recursive: true });
    fs.renameSync(path.join(fresh, f), path.join(target, f));
  }
  for (const f of walk(target)) if (!keep.has(f)) fs.rmSync(path.join(target, f), { force: true });
  // emptied folders, deepest first
  const dirs = [];
  const collect = (rel) => {
    for (const e of fs.readdirSync(path.join(target, rel), { withFileTypes: true })) {
      if (e.isDirectory()) {
        collect(path.join(rel, e.name));
        dirs.push(path.join(rel, e.name));
      }
    }
  };
  collect('');
  for (const d of dirs) {
    if (fs.readdirSync(path.join(target, d)).length === 0) fs.rmdirSync(path.join(target, d));
  }
}

function main() {
  const ifStale = process.argv.includes('--if-stale');
  const print = fingerprint();
  if (ifStale && upToDate(print)) {
    console.log('genlab: dist/ is up to date with the sources (no build needed)');
    return 0;
  }
  const fresh = path.join(root, `.build-dist-${process.pid}`);
  fs.rmSync(fresh, { recursive: true, force: true });
  try {
    const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
    const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json'), '--outDir', fresh], { stdio: 'inherit', cwd: root });
    if (r.status !== 0) {
      console.error(`genlab: the TypeScript build failed (exit ${r.status ?? r.signal}); dist/ is left as it was`);
      return 1;
    }
    fs.mkdirSync(dist, { recursive: true });
    swapInto(fresh, dist); // removes the old stamp too: an interrupted swap is rebuilt next time
    fs.writeFileSync(path.join(fresh, STAMP), `${print}\n`);
    fs.renameSync(path.join(fresh, STAMP), path.join(dist, STAMP));
    return 0;
  } finally {
    fs.rmSync(fresh, { recursive: true, force: true });
  }
}

module.exports = { fingerprint, swapInto, walk };

if (require.main === module) process.exit(main());
