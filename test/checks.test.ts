/** lib/display/checks.ts: checks of maths throw, expected outcomes are notes (errors only under GENLAB_STRICT_OUTCOMES). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { check, expectOutcome, STRICT_OUTCOMES_ENV } from '../lib/display/checks';

function printed(fn: () => unknown): { lines: string[]; result: unknown } {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    return { result: fn(), lines };
  } finally {
    console.log = log;
  }
}

test('check prints one line when the maths holds and throws, naming it, when it does not', () => {
  assert.deepEqual(printed(() => check('score = -grad E', true, 'max error 3e-7')).lines, ['✓ check: score = -grad E (max error 3e-7)']);
  assert.throws(() => check('score = -grad E', false, 'max error 0.2'), /^Error: check failed: score = -grad E; max error 0.2$/);
  assert.throws(() => check('', true), /check needs a description/);
  assert.throws(() => check('x', 1 as never), /holds must be true or false/);
});

test('expectOutcome is a labelled note, never an error, unless GENLAB_STRICT_OUTCOMES=1', () => {
  const saved = process.env[STRICT_OUTCOMES_ENV];
  try {
    delete process.env[STRICT_OUTCOMES_ENV];
    const ok = printed(() => expectOutcome('8 of 8 modes covered', true, '8 of 8'));
    assert.equal(ok.result, true);
    assert.deepEqual(ok.lines, ['✓ expected with the default settings: 8 of 8 modes covered (8 of 8)']);
    const miss = printed(() => expectOutcome('8 of 8 modes covered', false, '5 of 8'));
    assert.equal(miss.result, false);
    assert.deepEqual(miss.lines, ['✗ expected with the default settings: 8 of 8 modes covered; got 5 of 8']);
    process.env[STRICT_OUTCOMES_ENV] = '1';
    assert.throws(() => expectOutcome('8 of 8 modes covered', false, '5 of 8'), /got 5 of 8 \(GENLAB_STRICT_OUTCOMES=1\)/);
    assert.equal(printed(() => expectOutcome('8 of 8 modes covered', true)).result, true);
  } finally {
    if (saved === undefined) delete process.env[STRICT_OUTCOMES_ENV];
    else process.env[STRICT_OUTCOMES_ENV] = saved;
  }
});
