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
  rHatClassic,
  essBulk,
  essTail,
  essMean,
  essQuantile,
  mcseMean,
  mcseQuantile,
  normalQuantile,
} from '../lib/mcmc/diagnostics';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Random } from '../lib/engine/random';
import { assertClose } from './helpers';

const rHatRank = rHat;

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

for (const [name, rHat] of [['rank-normalised', rHatRank], ['classic', rHatClassic]] as const)
test(`${name} split R-hat: near 1 for mixed chains, above 1.1 for chains at different means or trending`, () => {
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
  assert.throws(() => rHatClassic([]), /chains/);
  assert.throws(() => essBulk([[1, 2, 3]]), /chains\[0\] must have at least 4/);
  assert.throws(() => mcseQuantile([[1, 2, 3, 4]], 1), /prob must be a probability/);
  assert.throws(() => essQuantile([[1, 2, 3, 4]], NaN), /prob/);
  assert.throws(() => mcseMean([[1, 2, 3, 4], [1, 2, 3, Infinity]]), /chains\[1\] must contain only finite/);
  assert.throws(() => rHat([[1, 2, 3, 4], [1, 2, 3]]), /chains\[1\] must have at least 4|same length/);
  assert.throws(() => rHat([[1, 2, 3, 4, 5], [1, 2, 3, 4]]), /same length/);
  assert.throws(() => effectiveSampleSizeByDimension([[1, 2], [3]]), /samples\[1\]/);
  assert.throws(() => effectiveSampleSize('abc' as unknown as number[]), /series/);
});

interface ArvizCase {
  name: string;
  note: string;
  chains: number[][];
  arviz: {
    rhatRank: number;
    rhatSplit: number;
    essBulk: number;
    essTail: number;
    essMean: number;
    mcseMean: number;
    essQuantile: number[];
    mcseQuantile: number[];
  };
}

/** Relative agreement |a - b| <= tol * |b|. */
function assertRelative(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.abs(expected), `${what}: ArviZ ${expected}, genlab ${actual} (relative diff ${Math.abs(actual - expected) / Math.abs(expected)})`);
}

test('rank-normalised R-hat, bulk/tail/mean/quantile ESS and MCSE agree with ArviZ on fixed chains (test/fixtures/arviz-diagnostics.json)', () => {
  // The fixture is written by test/fixtures/arviz_diagnostics.py (ArviZ from pip); no Python needed here.
  const file = path.join(__dirname, '..', '..', 'test', 'fixtures', 'arviz-diagnostics.json');
  const fixture = JSON.parse(fs.readFileSync(file, 'utf8')) as { arviz: string; probs: number[]; cases: ArvizCase[] };
  assert.ok(fixture.cases.length >= 8);
  for (const c of fixture.cases) {
    const a = c.arviz;
    const what = (f: string) => `${f} of '${c.name}' (ArviZ ${fixture.arviz})`;
    assertRelative(rHat(c.chains), a.rhatRank, 1e-6, what('rHat'));
    assertRelative(rHatClassic(c.chains), a.rhatSplit, 1e-9, what('rHatClassic'));
    assertRelative(essBulk(c.chains), a.essBulk, 1e-6, what('essBulk'));
    assertRelative(essTail(c.chains), a.essTail, 1e-6, what('essTail'));
    assertRelative(essMean(c.chains), a.essMean, 1e-6, what('essMean'));
    assertRelative(mcseMean(c.chains), a.mcseMean, 1e-6, what('mcseMean'));
    fixture.probs.forEach((p, i) => {
      assertRelative(essQuantile(c.chains, p), a.essQuantile[i], 1e-6, what(`essQuantile(${p})`));
      assertRelative(mcseQuantile(c.chains, p), a.mcseQuantile[i], 1e-6, what(`mcseQuantile(${p})`));
    });
  }
  // The cases that break the classic diagnostic: it says "converged" where the rank-normalised one does not.
  const byName = (n: string) => fixture.cases.find((c) => c.name === n)!.chains;
  const scale = byName('equal means, different variances');
  assert.ok(rHatClassic(scale) < 1.01 && rHat(scale) > 1.1, `equal means, different variances: classic ${rHatClassic(scale)}, rank ${rHat(scale)}`);
  const cauchy = byName('cauchy, one chain wider');
  assert.ok(rHatClassic(cauchy) < 1.01 && rHat(cauchy) > 1.05, `Cauchy with one wider chain: classic ${rHatClassic(cauchy)}, rank ${rHat(cauchy)}`);
});

test('normalQuantile inverts the normal CDF (known values)', () => {
  assertClose(normalQuantile(0.5), 0, 1e-15, 'median');
  assertClose(normalQuantile(0.975), 1.959963984540054, 3e-9, 'q 0.975');
  assertClose(normalQuantile(0.001), -3.090232306167813, 4e-9, 'q 0.001');
  assertClose(normalQuantile(1 - 1e-10), 6.361340902404056, 5e-8, 'far tail');
});

test('mcseMean: 95 % intervals from 4 AR(1) chains cover the true mean 0 in about 95 % of 400 seeds', (t) => {
  // AR(1), phi = 0.7 (tau = 5.7), 4 chains x 250 draws: ESS ~ 175; mean +- 1.96 mcse should cover 0.
  let covered = 0;
  const seeds = 400;
  for (let s = 0; s < seeds; s++) {
    const chains = [0, 1, 2, 3].map((j) => ar1(0.7, 250, 1000 + 4 * s + j));
    const mean = chains.reduce((a, c) => a + c.reduce((p, q) => p + q, 0), 0) / 1000;
    if (Math.abs(mean) <= 1.96 * mcseMean(chains)) covered++;
  }
  // Binomial sd at 95 %: sqrt(.95 * .05 / 400) = 1.1 %; accept 91-98.5 %.
  const rate = covered / seeds;
  t.diagnostic(`mcseMean coverage: ${covered}/${seeds} = ${(100 * rate).toFixed(1)} %`);
  assert.ok(rate > 0.91 && rate < 0.985, `coverage ${(100 * rate).toFixed(1)} %`);
});
