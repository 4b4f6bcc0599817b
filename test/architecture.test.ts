/**
 * lib/README.md's rules, checked by reading the sources (lib/ and datasets/):
 * - nothing above `lib/engine/` branches on the backend: no `getBackend()`, no `tf.backend()`, no comparison with a
 *   backend's name (the engine names the property instead: `capabilities()`, `compilationAvailable()`, ...);
 * - every known-keys list handed to `assertKnownOptions` is derived with `optionKeys<Opts>({ ... })`, so the
 *   compiler keeps it complete: no list of option names written by hand.
 * Known offenders sit in explicit allow-lists; an entry that no longer offends fails the test too, so the lists
 * only shrink.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** Backend-name branches in the model folders, as `file: what` (paths relative to the repository). */
const BACKEND_ALLOWED = new Set<string>([
]);

/** Hand-written known-keys lists in the model folders, as `file: NAME` or `file: assertKnownOptions('caller')`. */
const KEYS_ALLOWED = new Set<string>([
]);

/** Every .ts source under `dirs` (relative to the repository), as [relative path, text]. */
function sources(dirs: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push([path.relative(ROOT, p).split(path.sep).join('/'), fs.readFileSync(p, 'utf8')]);
    }
  };
  for (const d of dirs) walk(path.join(ROOT, d));
  return out;
}

/** The code of a source without its comments (comment lines, block comments, trailing `// ...`), line numbers kept. */
function code(src: string): string {
  return src
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .split('\n')
    .map((line) => (/^\s*\/\//.test(line) ? '' : line.replace(/\s\/\/\s.*$/, '')))
    .join('\n');
}

const BACKEND_NAMES = '(?:tensorflow|wasm|cpu|webgl|webgpu)';
const BACKEND_PATTERNS: Array<[string, RegExp]> = [
  ['getBackend()', /\bgetBackend\s*\(/],
  ['tf.backend()', /\btf\.backend\s*\(/],
  ['backend-name comparison', new RegExp(`[!=]==?\\s*['"\`]${BACKEND_NAMES}['"\`]|['"\`]${BACKEND_NAMES}['"\`]\\s*[!=]==?`)],
  ['backend-name case', new RegExp(`\\bcase\\s+['"\`]${BACKEND_NAMES}['"\`]`)],
];

/** `file: what` for each way `src` branches on the backend. */
function backendBranches(file: string, src: string): string[] {
  const text = code(src);
  return BACKEND_PATTERNS.filter(([, re]) => re.test(text)).map(([what]) => `${file}: ${what}`);
}

/** The text from `open` (an index just after an opening bracket) to its matching close, and the index after it. */
function balanced(text: string, open: number, closer: string): { inner: string; end: number } {
  const pairs: Record<string, string> = { '(': ')', '[': ']', '{': '}', '<': '>' };
  const stack = [closer];
  let quote: string | null = null;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(' || c === '[' || c === '{') stack.push(pairs[c]);
    else if (c === stack[stack.length - 1]) {
      stack.pop();
      if (stack.length === 0) return { inner: text.slice(open, i), end: i + 1 };
    }
  }
  return { inner: text.slice(open), end: text.length };
}

/** Splits an argument list at its top-level commas. */
function topLevelArgs(inner: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) {
      args.push(inner.slice(start, i).trim());
      start = i + 1;
    }
  }
  args.push(inner.slice(start).trim());
  return args.filter((a) => a !== '');
}

/** A key list's name (`X_KEYS`, a record of them indexed, or a `this.xKeys()` method), the forms the rule accepts. */
const KEY_LIST_ARG = /^(?:[A-Z][A-Z0-9_]*KEYS(?:\[\w+\])?|this\.\w+Keys\(\))$/;

/**
 * `file: NAME` for each `*KEYS` constant whose value names options by hand (a string literal outside
 * `optionKeys(...)`), and `file: assertKnownOptions('caller')` for each call whose list is not such a constant.
 */
function handWrittenKeyLists(file: string, src: string): string[] {
  const text = code(src);
  const found: string[] = [];
  const decl = /\bconst\s+([A-Z][A-Z0-9_]*KEYS)\b\s*(?::[^=]+)?=\s*/g;
  for (let m = decl.exec(text); m; m = decl.exec(text)) {
    // The initializer runs to the first semicolon outside brackets and strings.
    const { inner } = balanced(text.replace(/;/g, ')'), m.index + m[0].length, ')');
    let rest = inner;
    for (let i = rest.indexOf('optionKeys'); i >= 0; i = rest.indexOf('optionKeys')) {
      const call = rest.indexOf('(', i);
      const { end } = balanced(rest, call + 1, ')');
      rest = rest.slice(0, i) + rest.slice(end);
    }
    if (/['"`]/.test(rest)) found.push(`${file}: ${m[1]}`);
  }
  const call = /\bassertKnownOptions\s*\(/g;
  for (let m = call.exec(text); m; m = call.exec(text)) {
    if (/function\s+$/.test(text.slice(Math.max(0, m.index - 20), m.index))) continue; // the definition
    const args = topLevelArgs(balanced(text, m.index + m[0].length, ')').inner);
    if (!KEY_LIST_ARG.test(args[2] ?? '')) found.push(`${file}: assertKnownOptions(${args[0]})`);
  }
  return found;
}

test('the source checks below catch what they look for (each on a made-up offender)', () => {
  assert.deepEqual(backendBranches('x.ts', "if (tf.getBackend() === 'tensorflow') return a;"), ['x.ts: getBackend()', 'x.ts: backend-name comparison']);
  assert.deepEqual(backendBranches('x.ts', "const fast = env.choice !== 'wasm';"), ['x.ts: backend-name comparison']);
  assert.deepEqual(backendBranches('x.ts', "switch (name) { case 'cpu': break; }"), ['x.ts: backend-name case']);
  assert.deepEqual(backendBranches('x.ts', "// tf.getBackend() === 'wasm' in a comment\nconst ok = capabilities().ownKernels;"), []);
  assert.deepEqual(handWrittenKeyLists('x.ts', "const FIT_KEYS = ['epochs', 'batchSize'] as const;"), ['x.ts: FIT_KEYS']);
  assert.deepEqual(handWrittenKeyLists('x.ts', "const MORE_KEYS = [...FIT_KEYS, 'seed'];"), ['x.ts: MORE_KEYS']);
  assert.deepEqual(handWrittenKeyLists('x.ts', "const R_KEYS = { a: ['kind', 'std'] } as const;"), ['x.ts: R_KEYS']);
  assert.deepEqual(handWrittenKeyLists('x.ts', "assertKnownOptions('f', opts, ['weights', 'alpha']);"), ["x.ts: assertKnownOptions('f')"]);
  assert.deepEqual(handWrittenKeyLists('x.ts', "function g(known: string[]) { assertKnownOptions('g', opts, known); }"), ["x.ts: assertKnownOptions('g')"]);
  const derived = [
    "const FIT_KEYS = optionKeys<FitOptions>({ epochs: true, mode: true });",
    "const ALL_KEYS: readonly string[] = [...FIT_KEYS, ...optionKeys<Omit<B, keyof A>>({ seed: true })];",
    "const BY_KIND_KEYS: Record<Kind, readonly string[]> = { a: FIT_KEYS, b: ALL_KEYS };",
    "assertKnownOptions(`${caller} fit`, opts, BY_KIND_KEYS[kind]);",
    "assertKnownOptions('m', opts, this.fitOptionKeys());",
  ].join('\n');
  assert.deepEqual(handWrittenKeyLists('x.ts', derived), []);
});

test('nothing above lib/engine branches on the backend name', () => {
  const found = sources(['lib', 'datasets'])
    .filter(([file]) => !file.startsWith('lib/engine/'))
    .flatMap(([file, src]) => backendBranches(file, src));
  assert.ok(sources(['lib']).length > 50, 'the source walk found too few files: is ROOT right?');
  const offenders = found.filter((f) => !BACKEND_ALLOWED.has(f));
  assert.deepEqual(offenders, [], 'ask the engine for a property (engine/backend.ts capabilities(), ...) instead');
  const stale = [...BACKEND_ALLOWED].filter((f) => !found.includes(f));
  assert.deepEqual(stale, [], 'these no longer offend: remove them from BACKEND_ALLOWED');
});

test('every known-keys list is derived with optionKeys (none written by hand)', () => {
  const all = sources(['lib', 'datasets']);
  const calls = all.reduce((n, [, src]) => n + (code(src).match(/\bassertKnownOptions\s*\(/g)?.length ?? 0), 0);
  assert.ok(calls > 60, `found only ${calls} assertKnownOptions calls: is the scan broken?`);
  const found = all.flatMap(([file, src]) => handWrittenKeyLists(file, src));
  const offenders = found.filter((f) => !KEYS_ALLOWED.has(f));
  assert.deepEqual(offenders, [], 'derive these with optionKeys<Options>({ ... }) (core/validate.ts)');
  const stale = [...KEYS_ALLOWED].filter((f) => !found.includes(f));
  assert.deepEqual(stale, [], 'these no longer offend: remove them from KEYS_ALLOWED');
});
