import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Random } from '../lib/engine/random';

test('same seed, same stream; different seeds differ', () => {
  const a = new Random(7);
  const b = new Random(7);
  const c = new Random(8);
  const xa = Array.from({ length: 5 }, () => a.nextUint32());
  const xb = Array.from({ length: 5 }, () => b.nextUint32());
  const xc = Array.from({ length: 5 }, () => c.nextUint32());
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
});

test('uniform and normal moments', () => {
  const r = new Random(1);
  const n = 200000;
  let su = 0;
  let sn = 0;
  let sn2 = 0;
  for (let i = 0; i < n; i++) {
    const u = r.next();
    assert.ok(u >= 0 && u < 1);
    su += u;
    const z = r.normal();
    sn += z;
    sn2 += z * z;
  }
  assert.ok(Math.abs(su / n - 0.5) < 0.005, `uniform mean ${su / n}`);
  assert.ok(Math.abs(sn / n) < 0.01, `normal mean ${sn / n}`);
  assert.ok(Math.abs(sn2 / n - 1) < 0.015, `normal variance ${sn2 / n}`);
});

test('permutation is a permutation; invalid seed is named', () => {
  const p = Array.from(new Random(3).permutation(50)).sort((x, y) => x - y);
  assert.deepEqual(p, Array.from({ length: 50 }, (_, i) => i));
  assert.throws(() => new Random(NaN), /seed/);
});

test('normalArray draws exactly what successive normal() calls draw (odd lengths, the spare deviate, the state after)', () => {
  const a = new Random(21);
  const b = new Random(21);
  for (const n of [0, 1, 3, 2, 1000, 7, 1, 1]) {
    const got = a.normalArray(n);
    const want = Float32Array.from({ length: n }, () => b.normal());
    assert.deepEqual(got, want, `length ${n}`);
  }
  assert.equal(a.normal(), b.normal(), 'the spare deviate carries over');
  assert.equal(a.nextUint32(), b.nextUint32(), 'the same state afterwards');
});
