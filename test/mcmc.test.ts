import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  bivariateGaussianSamples,
  gibbsBivariateGaussian,
  gibbsSampler,
  metropolisHastings,
} from '../lib/mcmc/samplers';
import { autocorrelation, effectiveSampleSize, meanWithError } from '../lib/mcmc/diagnostics';
import { Random } from '../lib/engine/random';

function column(samples: number[][], j: number): number[] {
  return samples.map((s) => s[j]);
}

function moments(samples: number[][]): { mean: number[]; cov: number[][] } {
  const n = samples.length;
  const d = samples[0].length;
  const mean = Array.from({ length: d }, (_, j) => samples.reduce((a, s) => a + s[j], 0) / n);
  const cov = Array.from({ length: d }, (_, i) =>
    Array.from({ length: d }, (_, j) => samples.reduce((a, s) => a + (s[i] - mean[i]) * (s[j] - mean[j]), 0) / n),
  );
  return { mean, cov };
}

/** log density of N(mu, [[sx^2, r sx sy], [r sx sy, sy^2]]) up to a constant. */
function gaussian2(mu: number[], sx: number, sy: number, r: number) {
  return (x: readonly number[]): number => {
    const u = (x[0] - mu[0]) / sx;
    const v = (x[1] - mu[1]) / sy;
    return -(u * u - 2 * r * u * v + v * v) / (2 * (1 - r * r));
  };
}

test('Metropolis-Hastings on a correlated 2D Gaussian recovers mean and covariance', async () => {
  const mu = [1, -1];
  const [sx, sy, r] = [1, 2, 0.8];
  const res = await metropolisHastings({
    logDensity: gaussian2(mu, sx, sy, r),
    initial: [0, 0],
    steps: 60000,
    proposalStd: [1.2, 2.4],
    burnIn: 1000,
    seed: 42,
  });
  assert.equal(res.samples.length, 60000);
  assert.equal(res.logDensities.length, 60000);
  assert.ok(res.acceptanceRate > 0.2 && res.acceptanceRate < 0.6, `acceptance ${res.acceptanceRate}`);
  const { mean, cov } = moments(res.samples);
  // Means within 4 autocorrelation-aware standard errors.
  for (let j = 0; j < 2; j++) {
    const m = meanWithError(column(res.samples, j));
    assert.ok(Math.abs(mean[j] - mu[j]) < 4 * m.stderr, `mean[${j}] ${mean[j]} vs ${mu[j]} (stderr ${m.stderr})`);
    assert.ok(m.stderr < 0.1, 'the error bar is small enough for the check to mean something');
  }
  // Covariance within 10 % (ESS here is several thousand).
  const exact = [
    [sx * sx, r * sx * sy],
    [r * sx * sy, sy * sy],
  ];
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 2; j++) {
      assert.ok(Math.abs(cov[i][j] - exact[i][j]) < 0.1 * Math.abs(exact[i][j]), `cov[${i}][${j}] ${cov[i][j]} vs ${exact[i][j]}`);
    }
  }
  // The correlated target mixes slowly with an isotropic small step: acceptance falls as the step grows.
  const small = metropolisHastings({ logDensity: gaussian2(mu, sx, sy, r), initial: [0, 0], steps: 5000, proposalStd: 0.2, seed: 1 });
  const big = metropolisHastings({ logDensity: gaussian2(mu, sx, sy, r), initial: [0, 0], steps: 5000, proposalStd: 5, seed: 1 });
  assert.ok(small.acceptanceRate > 0.8 && big.acceptanceRate < 0.25, `${small.acceptanceRate} ${big.acceptanceRate}`);
});

test('custom asymmetric proposal needs and gets the Hastings correction', () => {
  // Target Gamma(3, 1) on x > 0: mean 3, variance 3. Log-normal multiplicative proposal x' = x exp(0.5 z):
  // q(x'|x) = N(log x'; log x, 0.25) / x', so log q(x|x') - log q(x'|x) = log(x' / x).
  const logDensity = ([x]: readonly number[]): number => (x > 0 ? 2 * Math.log(x) - x : -Infinity);
  const run = (corrected: boolean) =>
    metropolisHastings({
      logDensity,
      initial: [1],
      steps: 80000,
      burnIn: 500,
      seed: 3,
      proposal: (cur, rng: Random) => {
        const next = cur[0] * Math.exp(0.5 * rng.normal());
        return corrected ? { state: [next], logProposalRatio: Math.log(next / cur[0]) } : [next];
      },
    });
  const ok = column(run(true).samples, 0);
  const m = meanWithError(ok);
  assert.ok(Math.abs(m.value - 3) < 4 * m.stderr, `corrected mean ${m.value} (stderr ${m.stderr})`);
  const variance = ok.reduce((a, v) => a + (v - m.value) ** 2, 0) / ok.length;
  assert.ok(Math.abs(variance - 3) < 0.3, `corrected variance ${variance}`);
  // Without the correction the chain samples x^2 e^-x / x = Gamma(2, 1): mean 2. The check above would fail.
  const wrong = meanWithError(column(run(false).samples, 0));
  assert.ok(Math.abs(wrong.value - 2) < 4 * wrong.stderr, `uncorrected mean ${wrong.value} is the biased 2`);
});

test('-Infinity log density is rejected: uniform target on [0, 1]', () => {
  const res = metropolisHastings({
    logDensity: ([x]) => (x >= 0 && x <= 1 ? 0 : -Infinity),
    initial: [0.5],
    steps: 40000,
    proposalStd: 0.3,
    seed: 9,
  });
  const xs = column(res.samples, 0);
  assert.ok(xs.every((x) => x >= 0 && x <= 1));
  const m = meanWithError(xs);
  assert.ok(Math.abs(m.value - 0.5) < 4 * m.stderr, `mean ${m.value}`);
});

test('seeds reproduce; burn-in and thinning set the sample count', () => {
  const opts = { logDensity: gaussian2([0, 0], 1, 1, 0.5), initial: [0, 0], steps: 1000, proposalStd: 1, seed: 5 };
  const a = metropolisHastings(opts);
  const b = metropolisHastings(opts);
  assert.deepEqual(a, b);
  const c = metropolisHastings({ ...opts, seed: 6 });
  assert.notDeepEqual(a.samples, c.samples);
  const thinned = metropolisHastings({ ...opts, thin: 10, burnIn: 50 });
  assert.equal(thinned.samples.length, 100);
  // The caller's initial array is not modified.
  assert.deepEqual(opts.initial, [0, 0]);
});

test('metropolisHastings validates its arguments', () => {
  const logDensity = gaussian2([0, 0], 1, 1, 0);
  assert.throws(() => metropolisHastings({ logDensity, initial: [0, 0], steps: 0, seed: 1 }), /steps must be a positive integer; got 0/);
  assert.throws(() => metropolisHastings({ logDensity, initial: [0, 0], steps: 2.5, seed: 1 }), /steps/);
  assert.throws(() => metropolisHastings({ logDensity, initial: [], steps: 10, seed: 1 }), /initial/);
  assert.throws(() => metropolisHastings({ logDensity, initial: [0, NaN], steps: 10, seed: 1 }), /initial\[1\]/);
  assert.throws(() => metropolisHastings({ logDensity, initial: [0, 0], steps: 10, proposalStd: -1 }), /proposalStd/);
  assert.throws(() => metropolisHastings({ logDensity, initial: [0, 0], steps: 10, proposalStd: [1] }), /proposalStd/);
  assert.throws(() => metropolisHastings({ logDensity, initial: [0, 0], steps: 10, burnIn: -1 }), /burnIn/);
  assert.throws(() => metropolisHastings({ logDensity, initial: [0, 0], steps: 10, thin: 0 }), /thin/);
  assert.throws(() => metropolisHastings({ logDensity: () => NaN, initial: [0], steps: 10 }), /logDensity/);
  assert.throws(() => metropolisHastings({ logDensity: () => -Infinity, initial: [0], steps: 10 }), /support/);
  assert.throws(
    () => metropolisHastings({ logDensity: undefined as unknown as (x: readonly number[]) => number, initial: [0], steps: 10 }),
    /logDensity must be a function/,
  );
  assert.throws(() => metropolisHastings({ logDensity, initial: [0, 0], steps: 10, proposal: () => [1] }), /proposal must return a state of 2/);
});

test('Gibbs on the bivariate Gaussian: moments, correlation, zig-zag path, rho^2 autocorrelation', () => {
  const rho = 0.5;
  const { samples, path } = gibbsBivariateGaussian({ rho, mean: [1, 2], sigma: [1, 3], steps: 40000, initial: [-4, 10], burnIn: 100, seed: 7 });
  assert.equal(samples.length, 40000);
  assert.equal(path.length, 2 * 40100 + 1);
  assert.deepEqual(path[0], [-4, 10]);
  // Each half-step moves along one axis only: x first, then y.
  for (let k = 1; k < 200; k++) {
    const [dx, dy] = [path[k][0] - path[k - 1][0], path[k][1] - path[k - 1][1]];
    if (k % 2 === 1) assert.ok(dy === 0 && dx !== 0, `half-step ${k} updates x only`);
    else assert.ok(dx === 0 && dy !== 0, `half-step ${k} updates y only`);
  }
  assert.deepEqual(samples[0], path[2 * 101]);
  const { mean, cov } = moments(samples);
  assert.ok(Math.abs(mean[0] - 1) < 0.03 && Math.abs(mean[1] - 2) < 0.09, `means ${mean}`);
  assert.ok(Math.abs(cov[0][0] - 1) < 0.05 && Math.abs(cov[1][1] - 9) < 0.45, `variances ${cov[0][0]} ${cov[1][1]}`);
  const corr = cov[0][1] / Math.sqrt(cov[0][0] * cov[1][1]);
  assert.ok(Math.abs(corr - rho) < 0.02, `correlation ${corr}`);
  // Systematic-scan Gibbs: x_t is an AR(1) chain with coefficient rho^2.
  assert.ok(Math.abs(autocorrelation(column(samples, 0), 1)[1] - rho * rho) < 0.02);
  // Seeds reproduce.
  assert.deepEqual(gibbsBivariateGaussian({ rho, steps: 10, seed: 1 }), gibbsBivariateGaussian({ rho, steps: 10, seed: 1 }));
  // Exact independent draws for the comparison panel.
  const exact = moments(bivariateGaussianSamples({ rho: 0.9, sigma: 2, n: 40000, seed: 1 }));
  assert.ok(Math.abs(exact.cov[0][1] / 4 - 0.9) < 0.02, `exact draws correlation ${exact.cov[0][1] / 4}`);
});

test('general Gibbs sampler from full conditionals (systematic and random scan)', () => {
  // Trivariate Gaussian with precision matrix Q (tridiagonal): x_i | rest ~ N(-sum_{j != i} Q_ij x_j / Q_ii, 1 / Q_ii).
  const Q = [
    [2, -0.8, 0],
    [-0.8, 2, -0.8],
    [0, -0.8, 2],
  ];
  const conditionals = [0, 1, 2].map((i) => (s: readonly number[], rng: Random) => {
    let m = 0;
    for (let j = 0; j < 3; j++) if (j !== i) m -= (Q[i][j] * s[j]) / Q[i][i];
    return m + rng.normal() / Math.sqrt(Q[i][i]);
  });
  // Exact covariance = Q^-1 by cofactors: det Q = 8 - 4a^2 with a = 0.8.
  const det = 2 * (2 * 2 - 0.64) + 0.8 * (-0.8 * 2);
  const cov00 = (2 * 2 - 0.64) / det;
  const cov11 = (2 * 2) / det;
  const cov02 = 0.64 / det;
  for (const scan of ['systematic', 'random'] as const) {
    const { samples } = gibbsSampler({ conditionals, initial: [0, 0, 0], steps: 40000, burnIn: 100, seed: 4, scan });
    assert.equal(samples.length, 40000);
    const { mean, cov } = moments(samples);
    for (let j = 0; j < 3; j++) assert.ok(Math.abs(mean[j]) < 0.05, `${scan}: mean[${j}] ${mean[j]}`);
    assert.ok(Math.abs(cov[0][0] - cov00) < 0.06 * cov00, `${scan}: var0 ${cov[0][0]} vs ${cov00}`);
    assert.ok(Math.abs(cov[1][1] - cov11) < 0.06 * cov11, `${scan}: var1 ${cov[1][1]} vs ${cov11}`);
    assert.ok(Math.abs(cov[0][2] - cov02) < 0.05, `${scan}: cov02 ${cov[0][2]} vs ${cov02}`);
    assert.ok(effectiveSampleSize(column(samples, 1)) > 2000);
  }
  const thinned = gibbsSampler({ conditionals, initial: [0, 0, 0], steps: 100, thin: 10, seed: 1 });
  assert.equal(thinned.samples.length, 10);
});

test('Gibbs samplers validate their arguments', () => {
  assert.throws(() => gibbsBivariateGaussian({ rho: 1, steps: 10 }), /rho must be in \(-1, 1\); got 1/);
  assert.throws(() => gibbsBivariateGaussian({ rho: NaN, steps: 10 }), /rho/);
  assert.throws(() => gibbsBivariateGaussian({ rho: 0.5, steps: 0 }), /steps/);
  assert.throws(() => gibbsBivariateGaussian({ rho: 0.5, steps: 10, sigma: [1, 0] }), /sigma\[1\]/);
  assert.throws(() => gibbsBivariateGaussian({ rho: 0.5, steps: 10, initial: [1, 2, 3] }), /initial/);
  assert.throws(() => bivariateGaussianSamples({ rho: 0.5, n: -1 }), /n must be a positive integer/);
  const f = (s: readonly number[]) => s[0];
  assert.throws(() => gibbsSampler({ conditionals: [f], initial: [0, 0], steps: 10 }), /conditionals must be an array of 2/);
  assert.throws(() => gibbsSampler({ conditionals: [f, f], initial: [0, 0], steps: 0 }), /steps/);
  assert.throws(() => gibbsSampler({ conditionals: [() => NaN], initial: [0], steps: 3 }), /conditionals\[0\] must return a finite number/);
  assert.throws(
    () => gibbsSampler({ conditionals: [f], initial: [0], steps: 3, scan: 'diagonal' as unknown as 'random' }),
    /scan/,
  );
});
