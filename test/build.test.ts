/**
 * `npm run build` (scripts/build.js): dist/ is replaced file by file with renames, so a kernel reading genlab from
 * dist/ during a build never finds a file missing or half-written; `--if-stale` skips an unneeded build; the build
 * compiles with the project's own TypeScript.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../scripts/root';

const ROOT = repoRoot();
const build = require(path.join(ROOT, 'scripts', 'build.js')) as {
  fingerprint(dir?: string): string;
  swapInto(fresh: string, target: string): void;
  walk(dir: string): string[];
};

function tree(dir: string, files: Record<string, string>): void {
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
}

function read(dir: string): Record<string, string> {
  return Object.fromEntries(build.walk(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
}

test('the swap leaves dist/ equal to the fresh build: changed files replaced, new ones added, stale ones and emptied folders removed', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-build-'));
  try {
    const fresh = path.join(dir, 'fresh');
    const dist = path.join(dir, 'dist');
    tree(dist, { 'lib/a.js': 'old a', 'lib/gone.js': 'stale', 'old/deep/x.js': 'stale', 'keep.js': 'same' });
    tree(fresh, { 'lib/a.js': 'new a', 'lib/b/c.js': 'new c', 'keep.js': 'same' });
    build.swapInto(fresh, dist);
    assert.deepEqual(read(dist), { 'keep.js': 'same', [path.join('lib', 'a.js')]: 'new a', [path.join('lib', 'b', 'c.js')]: 'new c' });
    assert.ok(!fs.existsSync(path.join(dist, 'old')), 'emptied folders are removed');
    assert.deepEqual(build.walk(fresh), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a reader polling dist/ during builds never finds a file missing or partly written', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-build-'));
  try {
    const dist = path.join(dir, 'dist');
    const files = Array.from({ length: 200 }, (_, i) => `lib/m${i}.js`);
    const body = (v: number): string => `${v}`.repeat(20000); // 20-100 kB: a non-atomic write would be seen half done
    tree(dist, Object.fromEntries(files.map((f) => [f, body(0)])));
    // Another process (standing for a kernel) reads every file in a loop and reports anything missing or torn.
    const reader = spawn(process.execPath, ['-e', `
      const fs = require('fs'), path = require('path');
      const files = ${JSON.stringify(files.map((f) => path.join(dist, f)))};
      let reads = 0, bad = 0;
      const end = Date.now() + 3000;
      while (Date.now() < end) for (const f of files) {
        try { const t = fs.readFileSync(f, 'utf8'); reads++; if (t.length === 0 || t.length % 20000 !== 0 || t !== t[0].repeat(t.length)) bad++; }
        catch (e) { bad++; }
      }
      console.log(JSON.stringify({ reads, bad }));`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    reader.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise<void>((r) => reader.on('exit', () => r()));
    let builds = 0;
    const end = Date.now() + 2500;
    while (Date.now() < end) {
      const fresh = path.join(dir, `fresh-${builds}`);
      tree(fresh, Object.fromEntries(files.map((f) => [f, body((builds % 5) + 1)])));
      build.swapInto(fresh, dist);
      builds++;
      await new Promise((r) => setImmediate(r));
    }
    await done;
    const { reads, bad } = JSON.parse(out) as { reads: number; bad: number };
    assert.ok(builds >= 3 && reads > 1000, `${builds} builds, ${reads} reads`);
    assert.equal(bad, 0, `${bad} of ${reads} reads found a file missing or partly written during ${builds} builds`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--if-stale: the fingerprint follows the TypeScript sources and tsconfig.json, nothing else', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-build-'));
  try {
    tree(dir, { 'tsconfig.json': JSON.stringify({ include: ['lib'] }), 'lib/a.ts': 'export const a = 1;', 'lib/x/b.ts': 'export const b = 2;' });
    const first = build.fingerprint(dir);
    tree(dir, { 'lib/notes.md': 'not compiled', 'other/c.ts': 'not included' });
    assert.equal(build.fingerprint(dir), first, 'files tsc does not read do not matter');
    tree(dir, { 'lib/x/b.ts': 'export const b = 3;' });
    const edited = build.fingerprint(dir);
    assert.notEqual(edited, first, 'an edited source makes dist/ stale');
    tree(dir, { 'tsconfig.json': JSON.stringify({ include: ['lib', 'other'] }) });
    assert.notEqual(build.fingerprint(dir), edited, 'a changed tsconfig.json makes dist/ stale');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the build compiles with the project\'s TypeScript, not the older copy tslab brings (which also installs a `tsc`)', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  // node_modules/.bin/tsc may be tslab's @tslab/typescript-for-tslab (5.0): no script may call a bare `tsc`.
  for (const [name, cmd] of Object.entries(pkg.scripts)) assert.doesNotMatch(cmd, /(^|&&\s*|\s)tsc\s/, `script '${name}' runs a bare tsc: ${cmd}`);
  const wanted = /^[~^]?(\d+\.\d+)\./.exec(pkg.devDependencies.typescript)?.[1];
  const used = (require(require.resolve('typescript/package.json', { paths: [ROOT] })) as { version: string }).version;
  assert.ok(wanted && used.startsWith(`${wanted}.`), `scripts/build.js compiles with TypeScript ${used}; package.json asks for ${pkg.devDependencies.typescript}`);
});
