#!/usr/bin/env node
// Makes the package importable by its own name: node_modules/genlab -> .. (the repository root).
// Notebooks run by the tslab kernel `import { tf } from 'genlab'`; tslab compiles cells with rootDir = the
// notebook's folder, so they must use the compiled package (package.json main/types -> dist/lib), not ../lib sources.
// Runs from `npm install` (prepare). Idempotent; plain JavaScript so it works before anything is compiled.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const link = path.join(root, 'node_modules', 'genlab');
const target = process.platform === 'win32' ? root : '..'; // relative: survives moving the checkout

fs.mkdirSync(path.dirname(link), { recursive: true });
let current = null;
try {
  current = fs.readlinkSync(link);
} catch (e) {
  if (e.code === 'EINVAL') {
    // a real directory or file (e.g. an old install of genlab): replace it with the link
    fs.rmSync(link, { recursive: true, force: true });
  } else if (e.code !== 'ENOENT') {
    throw e;
  }
}
function pointsAtRoot() {
  try {
    return fs.realpathSync(link) === fs.realpathSync(root);
  } catch {
    return false; // dangling link
  }
}
if (current !== null && pointsAtRoot()) {
  process.exit(0); // already right
}
if (current !== null) fs.unlinkSync(link);
fs.symlinkSync(target, link, process.platform === 'win32' ? 'junction' : 'dir');
console.log(`genlab: linked node_modules/genlab -> ${target}`);
