/**
 * Gradient-based MCMC (lib/mcmc/gradient.ts) against exact answers: moments of a correlated Gaussian and of a
 * banana density (quadrature) within ESS-based Monte Carlo error, the leapfrog energy error's eps^2 scaling, MALA's
 * Hastings correction (acceptance rate against a quadrature of the exact formula), and the unadjusted Langevin
 * bias sigma^2 / (1 - eps^2 / 4).
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ready, tf } from '../lib/engine/backend';
import { autocorrelationTime, coordinateChains, GradientSamplerResult, hmc, langevin, mala, rHat } from '../lib/mcmc';
import { Random } from '../lib/engine/random';
import { assertNoLeak } from './helpers';

before(async () => {
  await ready();
});

/**
 * Pooled estimate of E[f(x)] over chains, with its ESS-based standard error: each chain's Sokal tau, floored at 1
 * (ESS capped at the draws). HMC on a Gaussian can be antithetic (tau << 1), and a tau estimated from strongly
 * negative autocorrelations is too unreliable to make error bars narrower than independent draws would give.
 */
function moment(r: GradientSamplerResult, f: (x: number[]) => number): { value: number; stderr: number } {
  const per = r.samples.map((chain) => autocorrelationTime(chain.map(f)));
  const C = per.length;
  const varOfMean = per.reduce((s, a) => s + (a.variance * Math.max(1, a.tau)) / a.n, 0);
  return { value: per.reduce((s, a) => s + a.mean, 0) / C, stderr: Math.sqrt(varOfMean) / C };
}

function assertMoment(r: GradientSamplerResult, f: (x: number[]) => number, exact: number, what: string, sigmas = 4.5): void {
  const { value, stderr } = moment(r, f);
  assert.ok(
    Math.abs(value - exact) <= sigmas * stderr,
    `${what}: ${value.toFixed(4)} +- ${stderr.toFixed(4)} (ESS-based), exact ${exact.toFixed(4)}: off by ${(Math.abs(value - exact) / stderr).toFixed(1)} sigma`,
  );
}

/** Starting points spread around the origin, `[chains][dim]`. */
function starts(chains: number, dim: number, seed: number, scale = 1): number[][] {
  const rng = new Random(seed);
  return Array.from({ length: chains }, () => Array.from({ length: dim }, () => scale * rng.normal()));
}

// Correlated Gaussian N(0, S), S = [[s1^2, rho s1 s2], [rho s1 s2, s2^2]]; log pi = -x^T S^-1 x / 2.
const RHO = 0.8;
const S1 = 1;
const S2 = 2;
const COV = [[S1 * S1, RHO * S1 * S2], [RHO * S1 * S2, S2 * S2]];
function gaussianLogDensity(): { logDensity: (x: tf.Tensor2D) => tf.Tensor1D; precision: tf.Tensor2D } {
  const det = COV[0][0] * COV[1][1] - COV[0][1] * COV[1][0];
  const precision = tf.tensor2d([[COV[1][1] / det, -COV[0][1] / det], [-COV[1][0] / det, COV[0][0] / det]]);
  return { precision, logDensity: (x) => x.matMul(precision).mul(x).sum(1).mul(-0.5) as tf.Tensor1D };
}

function checkGaussianMoments(r: GradientSamplerResult, name: string): void {
  assertMoment(r, (x) => x[0], 0, `${name} E[x1]`);
  assertMoment(r, (x) => x[1], 0, `${name} E[x2]`);
  assertMoment(r, (x) => x[0] * x[0], COV[0][0], `${name} Var x1`);
  assertMoment(r, (x) => x[1] * x[1], COV[1][1], `${name} Var x2`);
  assertMoment(r, (x) => x[0] * x[1], COV[0][1], `${name} Cov(x1, x2)`);
}

test('MALA and HMC reproduce the mean and covariance of a correlated 2-D Gaussian', async () => {
  const { logDensity, precision } = gaussianLogDensity();
  try {
    const m = await assertNoLeak(
      () => mala({ logDensity, initial: starts(8, 2, 1, 2), steps: 1500, burnIn: 300, adaptStepSize: true, seed: 11 }),
      'mala',
    );
    checkGaussianMoments(m, 'MALA');
    assert.ok(Math.abs(m.acceptanceRate[0] - 0.574) < 0.12, `MALA acceptance ${m.acceptanceRate[0]} near the 0.574 target`);
    const h = await assertNoLeak(
      () => hmc({ logDensity, initial: starts(8, 2, 2, 2), steps: 400, burnIn: 150, leapfrogSteps: 8, adaptStepSize: true, seed: 12 }),
      'hmc',
    );
    checkGaussianMoments(h, 'HMC');
    // The averaged step of dual averaging ends a little below the last working one: acceptance above the target.
    const hAcc = h.acceptanceRate.reduce((a, b) => a + b, 0) / h.acceptanceRate.length;
    assert.ok(hAcc > 0.55 && hAcc < 0.9, `HMC acceptance ${hAcc} near the 0.65 target`);
    // The results feed R-hat directly; mixed chains give R-hat near 1.
    // (rank-normalised R-hat, bulk and tail, Vehtari et al. 2021: 1.1 is the usual alarm level for runs this short)
    for (const [name, r] of [['MALA', m], ['HMC', h]] as const) {
      for (const j of [0, 1]) {
        const rh = rHat(coordinateChains(r.samples, j));
        assert.ok(rh < 1.1, `${name} R-hat of x${j + 1}: ${rh}`);
      }
    }
    assert.equal(h.gradientEvaluations, (400 + 150) * 8);
  } finally {
    precision.dispose();
  }
});

// The banana: x1 ~ N(0, 1), x2 | x1 ~ N(B (x1^2 - 1), 1);  log pi = -x1^2 / 2 - (x2 - B (x1^2 - 1))^2 / 2.
// B = 0.5: curved, yet its curvature in the tails (Hessian ~ 4 B^2 x1^2) stays within reach of one adapted step
// size. With B = 1 a fixed-step HMC rarely enters |x1| > 2.5 and E[x2^2] comes out low for any practical run.
const B = 0.5;
const bananaLogDensity = (x: tf.Tensor2D): tf.Tensor1D =>
  tf.tidy(() => {
    const [x1, x2] = tf.split(x, 2, 1);
    const r = x2.sub(x1.square().sub(1).mul(B));
    return x1.square().add(r.square()).mul(-0.5).reshape([-1]) as tf.Tensor1D;
  });

/** E[f] under the banana by a midpoint rule on [-9, 9] x [-12, 90] (the mass outside is below 1e-15). */
function bananaQuadrature(f: (x1: number, x2: number) => number): number {
  const [n1, n2] = [900, 3000];
  const [a1, b1, a2, b2] = [-9, 9, -12, 90];
  const h1 = (b1 - a1) / n1;
  const h2 = (b2 - a2) / n2;
  let z = 0;
  let s = 0;
  for (let i = 0; i < n1; i++) {
    const x1 = a1 + (i + 0.5) * h1;
    for (let j = 0; j < n2; j++) {
      const x2 = a2 + (j + 0.5) * h2;
      const w = Math.exp(-0.5 * x1 * x1 - 0.5 * (x2 - B * (x1 * x1 - 1)) ** 2);
      z += w;
      s += w * f(x1, x2);
    }
  }
  return s / z;
}

test('MALA and HMC reproduce the moments of a banana density (quadrature)', () => {
  const fs: Array<[string, (x1: number, x2: number) => number]> = [
    ['E[x1]', (x1) => x1],
    ['E[x2]', (_, x2) => x2],
    ['E[x1^2]', (x1) => x1 * x1],
    ['E[x2^2]', (_, x2) => x2 * x2],
    ['E[x1^2 x2]', (x1, x2) => x1 * x1 * x2],
  ];
  const exact = fs.map(([, f]) => bananaQuadrature(f));
  // Closed forms for the record: 0, 0, 1, 1 + 2 B^2, 2 B. The quadrature must agree.
  [0, 0, 1, 1 + 2 * B * B, 2 * B].forEach((v, i) => assert.ok(Math.abs(exact[i] - v) < 1e-6, `quadrature ${fs[i][0]}`));
  const m = mala({ logDensity: bananaLogDensity, initial: starts(10, 2, 3), steps: 2500, burnIn: 400, adaptStepSize: true, seed: 21 });
  const h = hmc({ logDensity: bananaLogDensity, initial: starts(10, 2, 4), steps: 500, burnIn: 200, leapfrogSteps: 10, adaptStepSize: true, seed: 22 });
  for (const [name, r] of [['MALA', m], ['HMC', h]] as const) {
    fs.forEach(([what, f], i) => assertMoment(r, (x) => f(x[0], x[1]), exact[i], `${name} banana ${what}`));
  }
});

test("HMC's leapfrog energy error shrinks as stepSize^2 at fixed trajectory length", () => {
  const { logDensity, precision } = gaussianLogDensity();
  try {
    // Start from exact draws so every step is in equilibrium; trajectory length eps * L = 1.
    const rng = new Random(5);
    const initial = Array.from({ length: 40 }, () => {
      const z1 = rng.normal();
      const z2 = rng.normal();
      return [S1 * z1, S2 * (RHO * z1 + Math.sqrt(1 - RHO * RHO) * z2)];
    });
    const rms = [0.2, 0.1, 0.05].map((eps) => {
      const r = hmc({ logDensity, initial, steps: 10, stepSize: eps, leapfrogSteps: Math.round(1 / eps), seed: 6 });
      const errs = r.energyErrors.flat(); // hmc's result always has them
      return Math.sqrt(errs.reduce((s, e) => s + e * e, 0) / errs.length);
    });
    for (let i = 0; i + 1 < rms.length; i++) {
      const ratio = rms[i] / rms[i + 1];
      assert.ok(ratio > 3.3 && ratio < 4.8, `halving eps divides the RMS energy error by ~4; got ${rms.map((v) => v.toExponential(2))}`);
    }
  } finally {
    precision.dispose();
  }
});

/** Exact stationary acceptance rate of MALA on N(0, 1) with step eps, by quadrature over x ~ pi and z ~ N(0, 1). */
function malaAcceptanceExact(eps: number, hastings: boolean): number {
  const phi = (u: number): number => Math.exp(-0.5 * u * u) / Math.sqrt(2 * Math.PI);
  const logQ = (to: number, from: number): number => -((to - from * (1 - (eps * eps) / 2)) ** 2) / (2 * eps * eps);
  const n = 1200;
  const h = 16 / n;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const x = -8 + (i + 0.5) * h;
    for (let j = 0; j < n; j++) {
      const z = -8 + (j + 0.5) * h;
      const y = x * (1 - (eps * eps) / 2) + eps * z; // x + eps^2/2 * (-x) + eps z
      let logA = -0.5 * y * y + 0.5 * x * x;
      if (hastings) logA += logQ(x, y) - logQ(y, x);
      s += phi(x) * phi(z) * Math.min(1, Math.exp(logA)) * h * h;
    }
  }
  return s;
}

test("MALA's acceptance uses the proposal asymmetry (Hastings correction)", () => {
  const eps = 1.5;
  const withCorrection = malaAcceptanceExact(eps, true);
  const without = malaAcceptanceExact(eps, false);
  assert.ok(Math.abs(withCorrection - without) > 0.05, `the two formulas differ: ${withCorrection} vs ${without}`);
  const logDensity = (x: tf.Tensor2D): tf.Tensor1D => x.square().sum(1).mul(-0.5) as tf.Tensor1D;
  const r = mala({ logDensity, initial: starts(50, 1, 7), steps: 600, burnIn: 100, stepSize: eps, seed: 8 });
  const rate = r.acceptanceRate.reduce((a, b) => a + b, 0) / r.acceptanceRate.length;
  // 30000 accept tests: the binomial error is about 0.003; allow 0.015.
  assert.ok(Math.abs(rate - withCorrection) < 0.015, `acceptance ${rate.toFixed(4)}, exact ${withCorrection.toFixed(4)} (without the correction it would be ${without.toFixed(4)})`);
  // With the correction the chain is exact even at this large step: variance 1.
  assertMoment(r, (x) => x[0] * x[0], 1, 'MALA variance of N(0, 1) at eps = 1.5');
});

test("unadjusted Langevin's bias is visible and shrinks with the step size: Var = 1 / (1 - eps^2 / 4)", () => {
  const logDensity = (x: tf.Tensor2D): tf.Tensor1D => x.square().sum(1).mul(-0.5) as tf.Tensor1D;
  const bias: number[] = [];
  for (const eps of [1, 0.5]) {
    const r = langevin({ logDensity, initial: starts(40, 2, 9), steps: 2500, burnIn: 100, stepSize: eps, seed: 10 });
    const exact = 1 / (1 - (eps * eps) / 4); // AR(1) x' = (1 - eps^2/2) x + eps z: eps^2 / (1 - (1 - eps^2/2)^2)
    assertMoment(r, (x) => x[0] * x[0], exact, `ULA variance at eps = ${eps}`);
    assertMoment(r, (x) => x[1] * x[1], exact, `ULA variance at eps = ${eps}`);
    const v = moment(r, (x) => (x[0] * x[0] + x[1] * x[1]) / 2);
    assert.ok(v.value - 1 > 5 * v.stderr, `the bias is visible at eps = ${eps}: variance ${v.value} +- ${v.stderr} vs 1`);
    bias.push(v.value - 1);
    assert.deepEqual(r.acceptanceRate, new Array(40).fill(1));
  }
  assert.ok(bias[1] < bias[0] / 3, `bias shrinks about 5x when eps halves (1/3 -> 1/15); got ${bias}`);
});

test('continueFrom carries positions, step sizes and the adaptation; options are checked', async () => {
  const logDensity = (x: tf.Tensor2D): tf.Tensor1D => x.square().sum(1).mul(-0.5) as tf.Tensor1D;
  const a = mala({ logDensity, initial: [[5, 5], [-5, 5]], steps: 20, burnIn: 50, adaptStepSize: true, seed: 1 });
  assert.deepEqual(a.samples.map((c) => c.length), [20, 20]);
  const b = await assertNoLeak(() => mala({ logDensity, continueFrom: a, steps: 30 }), 'continued mala');
  assert.deepEqual(b.state.stepSize, a.state.stepSize, 'the adapted step size is kept');
  // The first continued draw is the last position moved once (or not, if rejected).
  const first = b.samples[0][0];
  const last = a.state.positions[0];
  assert.ok(Math.hypot(first[0] - last[0], first[1] - last[1]) < 10 * a.state.stepSize[0]);
  // Continuing an adaptation picks up where it stopped.
  const c = mala({ logDensity, continueFrom: a, steps: 5, burnIn: 10, adaptStepSize: true, seed: 2 });
  assert.deepEqual(c.state.adaptation!.m, [60, 60]);
  const h = hmc({ logDensity, initial: [[0, 0]], steps: 3, seed: 1 });
  assert.throws(() => hmc({ logDensity, continueFrom: a, steps: 3 }), /continueFrom must come from hmc\(\); got the result of mala\(\)/);
  assert.throws(() => hmc({ logDensity, continueFrom: h, initial: [[0, 0]], steps: 3 }), /either initial or continueFrom/);
  assert.throws(() => mala({ logDensity, initial: [[0, 0]], steps: 3, stepsize: 0.1 } as never), /unknown option 'stepsize' for mala; did you mean 'stepSize'\?/);
  assert.throws(() => hmc({ logDensity, initial: [[0, 0]], steps: 3, leapFrogSteps: 3 } as never), /did you mean 'leapfrogSteps'/);
  assert.throws(() => mala({ logDensity, initial: [[0, 0]], steps: 3, adaptStepSize: true }), /adaptStepSize needs burnIn > 0/);
  assert.throws(() => langevin({ logDensity, initial: [[0, 0], [1]], steps: 3 }), /initial\[1\] must have 2 coordinates/);
  assert.throws(() => langevin({ logDensity, initial: [[0, 0]], steps: 3, stepSize: -1 }), /stepSize must be/);
  assert.throws(() => langevin({ logDensity: (x: tf.Tensor2D) => x.sum(), initial: [[0, 0]], steps: 3 } as never), /logDensity must return a Tensor1D of shape \[1\]/);
  // Same seed, same chains.
  const r1 = langevin({ logDensity, initial: [[0, 0]], steps: 5, seed: 3 });
  const r2 = langevin({ logDensity, initial: [[0, 0]], steps: 5, seed: 3 });
  assert.deepEqual(r1.samples, r2.samples);
});
