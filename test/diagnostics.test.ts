import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  autocorrelation,
  autocorrelationTime,
  effectiveSampleSize,
  effectiveSampleSizeByDimension,
  integratedAutocorrelationTime,
  meanWithError,
  rHat,
} from '../lib/mcmc/diagnostics';
import { Random } from '../lib/engine/random';
import { assertClose } from './helpers';

/** x_{i+1} = phi x_i + sqrt(1 - phi^2) z_i, started in equilibrium; exact tau = (1 + phi) / (1 - phi). */
function ar1(phi: number, n: number, seed: number, mean = 0): Float64Array {
  const r = new Random(seed);
  const x = new Float64Array(n);
  let v = r.normal();
  const s = Math.sqrt(1 - phi * phi);
  for (let i = 0; i < n; i++) {
    x[i] = mean + v;
    v = phi * v + s * r.normal();
  }
  return x;
}

test('integrated autocorrelation time of AR(1) matches (1 + phi) / (1 - phi)', () => {
  for (const [phi, tol] of [
    [0, 0.05],
    [0.5, 0.08],
    [0.9, 0.1],
  ] as const) {
    const exact = (1 + phi) / (1 - phi);
    const r = autocorrelationTime(ar1(phi, 100000, 11), { c: 5 });
    assert.ok(r.converged, `window converged for phi=${phi}`);
    assert.ok(Math.abs(r.tau - exact) / exact < tol, `phi=${phi}: tau ${r.tau} vs exact ${exact}`);
    // Sokal's error bar is honest: within 4 of its sigmas.
    assert.ok(Math.abs(r.tau - exact) < 4 * r.tauError + 0.02, `phi=${phi}: |tau - exact| within 4 tauError (${r.tauError})`);
    assert.equal(integratedAutocorrelationTime(ar1(phi, 100000, 11)), r.tau);
  }
});

test('autocorrelation of AR(1) decays as phi^t and starts at 1', () => {
  const phi = 0.8;
  const rho = autocorrelation(ar1(phi, 200000, 3), 10);
  assert.equal(rho.length, 11);
  assert.equal(rho[0], 1);
  for (let t = 1; t <= 10; t++) assertClose(rho[t], phi ** t, 0.02, `rho(${t})`);
  // Default lag range, and a constant series.
  assert.equal(autocorrelation([1, 2, 3, 4]).length, 4);
  assert.deepEqual(autocorrelation([2, 2, 2], 2), [1, 0, 0]);
});

test('effective sample size is n / tau; per-dimension convenience; mean error bars', () => {
  const x = ar1(0.9, 50000, 5);
  const r = autocorrelationTime(x);
  assertClose(effectiveSampleSize(x), 50000 / r.tau, 1e-9, 'ESS');
  assert.ok(effectiveSampleSize(x) < 50000 / 15 && effectiveSampleSize(x) > 50000 / 25, 'ESS of phi=0.9 chain about n/19');
  const iid = ar1(0, 20000, 6);
  const y = ar1(0.9, 20000, 7);
  const samples = Array.from({ length: 20000 }, (_, i) => [iid[i], y[i]]);
  const ess = effectiveSampleSizeByDimension(samples);
  assert.equal(ess.length, 2);
  assert.ok(ess[0] > 15000, `iid coordinate ESS ${ess[0]}`);
  assert.ok(ess[1] < 2000, `correlated coordinate ESS ${ess[1]}`);
  // The standard error accounts for tau: sqrt(var * tau / n), about sqrt(19) times the naive one.
  const m = meanWithError(x);
  assertClose(m.stderr, Math.sqrt((r.variance * r.tau) / 50000), 1e-12, 'stderr');
  assert.ok(Math.abs(m.value) < 4 * m.stderr, `mean ${m.value} within 4 stderr ${m.stderr}`);
  // Constant series: tau 1 and zero error.
  const c = autocorrelationTime([3, 3, 3, 3]);
  assert.equal(c.tau, 1);
  assert.equal(c.stderr, 0);
  // Too short for its correlation: flagged.
  assert.equal(autocorrelationTime(ar1(0.99, 200, 8)).converged, false);
});

test('split R-hat: near 1 for mixed chains, above 1.1 for chains at different means or trending', () => {
  const mixed = [1, 2, 3, 4].map((s) => Array.from(ar1(0.5, 2000, s)));
  const r1 = rHat(mixed);
  assert.ok(r1 < 1.01 && r1 > 0.99, `mixed chains R-hat ${r1}`);
  const stuck = [0, 0, 0, 3].map((mu, s) => Array.from(ar1(0.5, 2000, 10 + s, mu)));
  const r2 = rHat(stuck);
  assert.ok(r2 > 1.1, `stuck chains R-hat ${r2}`);
  // One chain drifting from 0 to 5: its halves disagree, which splitting detects.
  const trend = Array.from(ar1(0.5, 2000, 20), (v, i) => v + (5 * i) / 2000);
  assert.ok(rHat([trend]) > 1.1, `trending chain R-hat ${rHat([trend])}`);
  // Typed arrays accepted; odd lengths drop the middle draw.
  assert.ok(Math.abs(rHat([ar1(0, 1001, 1), ar1(0, 1001, 2)]) - 1) < 0.02);
  assert.equal(rHat([[1, 1, 1, 1], [1, 1, 1, 1]]), 1);
  assert.equal(rHat([[1, 1, 1, 1], [2, 2, 2, 2]]), Infinity);
});

test('bad input is named', () => {
  assert.throws(() => autocorrelationTime([1]), /series must have at least 2/);
  assert.throws(() => autocorrelationTime([1, NaN, 2]), /series must contain only finite numbers; got NaN at index 1/);
  assert.throws(() => integratedAutocorrelationTime([1, 2, 3], { c: 0 }), /c must be/);
  assert.throws(() => autocorrelation([1, 2, 3], 3), /maxLag/);
  assert.throws(() => autocorrelation([1, 2, 3], 1.5), /maxLag/);
  assert.throws(() => rHat([]), /chains/);
  assert.throws(() => rHat([[1, 2, 3, 4], [1, 2, 3]]), /chains\[1\] must have at least 4|same length/);
  assert.throws(() => rHat([[1, 2, 3, 4, 5], [1, 2, 3, 4]]), /same length/);
  assert.throws(() => effectiveSampleSizeByDimension([[1, 2], [3]]), /samples\[1\]/);
  assert.throws(() => effectiveSampleSize('abc' as unknown as number[]), /series/);
});
