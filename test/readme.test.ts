/**
 * The README's first script type-checks against the built package as a user's project would compile it (strict,
 * skipLibCheck, `import ... from 'genlab'`), so the README cannot drift from the API.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..');

test("the README's first script compiles against genlab as a user's project would", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('## A first script')[1];
  assert.ok(section, "README.md has a section '## A first script'");
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code && code.includes("from 'genlab'"), 'the section starts with a TypeScript block importing genlab');
  const dir = path.join(ROOT, 'build', 'readme-check'); // inside the checkout: 'genlab' resolves to node_modules/genlab
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'first.ts');
  fs.writeFileSync(file, code);
  const program = ts.createProgram([file], {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, strict: true, esModuleInterop: true,
    skipLibCheck: true, types: ['node'], noEmit: true,
  });
  const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.deepEqual(errors, []);
});
