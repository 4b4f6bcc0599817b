/**
 * klDiagonalGaussian: closed form against Monte Carlo and against the scalar formula; argument checks; leaks.
 * klDivergence and jsDivergence: the bounds 0 <= JS <= log 2 with their equality cases, symmetry, the entropy form,
 * two 1-D Gaussians against quadrature and Monte Carlo, the GAN identity V(G, D*) = -log 4 + 2 JS; argument checks.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf, ready } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { jsDivergence, klDiagonalGaussian, klDivergence } from '../lib/vae/kl';
import { assertClose, assertNoLeak, simpson } from './helpers';

/** log N(z; m, exp(lv)) for one coordinate. */
function logNormal(z: number, m: number, lv: number): number {
  return -0.5 * (Math.log(2 * Math.PI) + lv + ((z - m) * (z - m)) / Math.exp(lv));
}

/** Monte Carlo E_q[log q(z) - log p(z)] with its standard error. */
function klMonteCarlo(m1: number[], lv1: number[], m2: number[], lv2: number[], n: number, rng: Random): [number, number] {
  let s = 0;
  let s2 = 0;
  for (let t = 0; t < n; t++) {
    let v = 0;
    for (let j = 0; j < m1.length; j++) {
      const z = m1[j] + Math.exp(lv1[j] / 2) * rng.normal();
      v += logNormal(z, m1[j], lv1[j]) - logNormal(z, m2[j], lv2[j]);
    }
    s += v;
    s2 += v * v;
  }
  const mean = s / n;
  return [mean, Math.sqrt((s2 / n - mean * mean) / n)];
}

test('KL to N(0, I) is 0 at the prior and matches Monte Carlo elsewhere', async () => {
  await ready();
  const zero = tf.tidy(() => klDiagonalGaussian(tf.zeros([2, 3]), tf.zeros([2, 3])).arraySync());
  assert.deepEqual(zero, [0, 0]);
  const rng = new Random(11);
  const rows = [
    { m: [0.5, -1, 2], lv: [0, -1, 0.7] },
    { m: [0, 0, 0], lv: [1.5, -2, 0.1] },
    { m: [-0.3, 0.2, 0.9], lv: [-0.5, 0.4, -1.2] },
  ];
  const kl = tf.tidy(() =>
    klDiagonalGaussian(tf.tensor2d(rows.map((r) => r.m)), tf.tensor2d(rows.map((r) => r.lv))).arraySync(),
  );
  rows.forEach((r, i) => {
    const [mc, se] = klMonteCarlo(r.m, r.lv, [0, 0, 0], [0, 0, 0], 100000, rng);
    assertClose(kl[i], mc, 4 * se + 1e-3, `KL row ${i} vs Monte Carlo`);
    // exact scalar formula, coordinate by coordinate
    const exact = r.m.reduce((acc, m, j) => acc + 0.5 * (Math.exp(r.lv[j]) + m * m - 1 - r.lv[j]), 0);
    assertClose(kl[i], exact, 1e-5 * Math.max(1, exact), `KL row ${i} vs formula`);
  });
});

test('KL between two diagonal Gaussians matches Monte Carlo; broadcast of a [k] prior', async () => {
  await ready();
  const rng = new Random(12);
  const m1 = [[0.5, -1], [1, 2]];
  const lv1 = [[0.3, -0.7], [0, 1]];
  const m2 = [[0, 1], [-1, 0.5]];
  const lv2 = [[1, -1], [0.5, 0.2]];
  const kl = tf.tidy(() =>
    klDiagonalGaussian(tf.tensor2d(m1), tf.tensor2d(lv1), tf.tensor2d(m2), tf.tensor2d(lv2)).arraySync(),
  );
  for (let i = 0; i < 2; i++) {
    const [mc, se] = klMonteCarlo(m1[i], lv1[i], m2[i], lv2[i], 100000, rng);
    assertClose(kl[i], mc, 4 * se + 1e-3, `KL row ${i}`);
  }
  // KL(p || p) = 0; a [k] second argument broadcasts over rows
  const self = tf.tidy(() => klDiagonalGaussian(tf.tensor2d(m1), tf.tensor2d(lv1), tf.tensor2d(m1), tf.tensor2d(lv1)).arraySync());
  self.forEach((v) => assertClose(v, 0, 1e-6, 'KL(p||p)'));
  const bc = tf.tidy(() =>
    klDiagonalGaussian(tf.tensor2d(m1), tf.tensor2d(lv1), tf.tensor1d([0, 1]), tf.tensor1d([1, -1])).arraySync(),
  );
  assertClose(bc[0], kl[0], 1e-6, 'broadcast prior row 0');
});

test('KL argument checks name the argument; no leaks', async () => {
  await ready();
  const a = tf.zeros([2, 3]);
  const b = tf.zeros([2, 4]);
  try {
    assert.throws(() => klDiagonalGaussian(a, b), /logVar/);
    assert.throws(() => klDiagonalGaussian(a, a, b), /mean2/);
    assert.throws(() => klDiagonalGaussian(a, a, a, b), /logVar2/);
    assert.throws(() => klDiagonalGaussian([1, 2] as unknown as tf.Tensor, a), /mean must be a tf.Tensor/);
    assert.throws(() => klDiagonalGaussian(tf.zeros([1, 1, 1]), a), /mean must be a rank-2/);
    await assertNoLeak(() => klDiagonalGaussian(a, a, a, a).dispose(), 'klDiagonalGaussian');
  } finally {
    tf.dispose([a, b]);
  }
});

/** A random distribution over n outcomes (normalised exponentials); with `zeros`, about a third of the entries are 0. */
function randomDistribution(n: number, rng: Random, zeros = false): number[] {
  const w = Array.from({ length: n }, () => (zeros && rng.next() < 0.33 ? 0 : -Math.log(rng.nextOpen())));
  if (!w.some((v) => v !== 0)) w[rng.int(n)] = 1; // (not `every(v => v === 0)`: TypeScript 5.5+ would narrow w to 0[])
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / s);
}
const entropy = (p: number[]): number => -p.reduce((s, v) => s + (v > 0 ? v * Math.log(v) : 0), 0);

test('JS on random discrete distributions: 0 <= JS <= log 2, symmetric, = H(m) - (H(p) + H(q))/2, <= (KL(p||q) + KL(q||p))/4', () => {
  const rng = new Random(21);
  let largest = 0;
  for (let trial = 0; trial < 400; trial++) {
    const n = 1 + rng.int(40);
    const zeros = trial % 2 === 1;
    const p = randomDistribution(n, rng, zeros);
    const q = randomDistribution(n, rng, zeros);
    const js = jsDivergence(p, q);
    assert.ok(js >= -1e-15 && js <= Math.LN2 + 1e-15, `JS = ${js} outside [0, log 2] (trial ${trial}, n = ${n})`);
    largest = Math.max(largest, js);
    assertClose(jsDivergence(q, p), js, 1e-15, `JS symmetry (trial ${trial})`);
    const m = p.map((v, i) => (v + q[i]) / 2);
    assertClose(js, 0.5 * klDivergence(p, m) + 0.5 * klDivergence(q, m), 1e-12, `JS as the two KLs to m (trial ${trial})`);
    assertClose(js, entropy(m) - 0.5 * (entropy(p) + entropy(q)), 1e-12, `JS as an entropy difference (trial ${trial})`);
    // KL is convex in its second argument, so KL(p || m) <= KL(p || q)/2, and likewise for q
    const kl = klDivergence(p, q) + klDivergence(q, p);
    assert.ok(js <= kl / 4 + 1e-12, `JS = ${js} above (KL(p||q) + KL(q||p))/4 = ${kl / 4} (trial ${trial})`);
    assert.ok(klDivergence(p, q) >= -1e-15, `KL(p||q) < 0 (trial ${trial})`);
  }
  assert.ok(largest > 0.5, `the trials should come near the upper bound too; largest JS ${largest}`);
});

test('JS equality cases: identical distributions give 0, disjoint supports give log 2; KL is asymmetric and can be infinite', () => {
  const rng = new Random(22);
  for (let trial = 0; trial < 50; trial++) {
    const n = 2 + rng.int(30);
    const p = randomDistribution(n, rng, true);
    assert.equal(jsDivergence(p, p), 0, 'JS(p, p)');
    assert.equal(klDivergence(p, p), 0, 'KL(p || p)');
    // split the outcomes into two disjoint sets and put a distribution on each
    const cut = 1 + rng.int(n - 1);
    const a = randomDistribution(n, rng).map((v, i) => (i < cut ? v : 0));
    const b = randomDistribution(n, rng).map((v, i) => (i >= cut ? v : 0));
    assertClose(jsDivergence(a, b, { normalize: true }), Math.LN2, 1e-15, `JS of disjoint supports (trial ${trial})`);
    assert.equal(klDivergence(a, b, { normalize: true }), Infinity, 'KL with q = 0 where p > 0');
  }
  // overlapping supports stay strictly below log 2; one shared outcome is enough
  assert.ok(jsDivergence([0.5, 0.5, 0], [0, 0.5, 0.5]) < Math.LN2 - 0.1);
  const p = [0.5, 0.5];
  const q = [0.9, 0.1];
  assertClose(klDivergence(p, q), 0.5 * Math.log(0.5 / 0.9) + 0.5 * Math.log(0.5 / 0.1), 1e-15, 'KL by hand');
  assert.ok(Math.abs(klDivergence(p, q) - klDivergence(q, p)) > 0.1, 'KL is not symmetric');
  assert.equal(jsDivergence(p, q), jsDivergence(q, p));
});

/** log N(x; mu, s^2). */
const logGauss = (x: number, mu: number, s: number): number => -0.5 * Math.log(2 * Math.PI * s * s) - ((x - mu) ** 2) / (2 * s * s);

test('JS of two 1-D Gaussians: grid sums agree with Simpson quadrature and Monte Carlo; V(G, D*) = -log 4 + 2 JS', () => {
  const rng = new Random(23);
  const pairs = [
    { mu: 0, s: 1 }, //   identical: 0
    { mu: 0.5, s: 1 },
    { mu: 2, s: 0.5 },
    { mu: -1, s: 3 },
    { mu: 60, s: 1 }, //  practically disjoint: log 2
  ];
  for (const { mu, s } of pairs) {
    const lo = Math.min(-12, mu - 12 * s);
    const hi = Math.max(12, mu + 12 * s);
    // The integrand of JS in the form 1/2 p log(2p/(p+q)) + 1/2 q log(2q/(p+q)), with logs kept in log space.
    const term = (la: number, lb: number): number => {
      const lm = Math.max(la, lb) + Math.log1p(Math.exp(-Math.abs(la - lb))) - Math.LN2; // log m
      return Math.exp(la) * (la - lm);
    };
    const quad = simpson((x) => 0.5 * (term(logGauss(x, 0, 1), logGauss(x, mu, s)) + term(logGauss(x, mu, s), logGauss(x, 0, 1))), lo, hi, 40000);
    // The library on densities tabulated at the midpoints of a (different) uniform grid.
    const n = 30001;
    const h = (hi - lo) / n;
    const xs = Array.from({ length: n }, (_, i) => lo + (i + 0.5) * h);
    const js = jsDivergence(xs.map((x) => Math.exp(logGauss(x, 0, 1))), xs.map((x) => Math.exp(logGauss(x, mu, s))), { normalize: true });
    assertClose(js, quad, 1e-7, `JS(N(0,1), N(${mu},${s}^2)) grid vs Simpson`);
    assert.ok(js >= 0 && js <= Math.LN2 + 1e-12, `JS = ${js} outside [0, log 2]`);
    // Monte Carlo: JS = 1/2 E_p[log(p/m)] + 1/2 E_q[log(q/m)]
    const M = 40000;
    const t = new Float64Array(M);
    for (let i = 0; i < M; i++) {
      const xp = rng.normal();
      const xq = mu + s * rng.normal();
      t[i] = 0.5 * (term(logGauss(xp, 0, 1), logGauss(xp, mu, s)) / Math.exp(logGauss(xp, 0, 1)) +
        term(logGauss(xq, mu, s), logGauss(xq, 0, 1)) / Math.exp(logGauss(xq, mu, s)));
    }
    const mean = t.reduce((a, b) => a + b, 0) / M;
    const se = Math.sqrt(t.reduce((a, b) => a + (b - mean) ** 2, 0) / (M - 1) / M);
    assertClose(js, mean, 5 * se + 1e-9, `JS(N(0,1), N(${mu},${s}^2)) vs Monte Carlo`);
    // The GAN value at the optimal discriminator D* = p / (p + q), by quadrature:
    //   V = E_p[log D*] + E_q[log(1 - D*)] = -log 4 + 2 JS(p, q)
    const V = simpson((x) => {
      const la = logGauss(x, 0, 1);
      const lb = logGauss(x, mu, s);
      const ls = Math.max(la, lb) + Math.log1p(Math.exp(-Math.abs(la - lb))); // log(p + q)
      return Math.exp(la) * (la - ls) + Math.exp(lb) * (lb - ls);
    }, lo, hi, 40000);
    assertClose(V, -Math.log(4) + 2 * js, 1e-6, `V(G, D*) vs -log 4 + 2 JS (mu ${mu}, s ${s})`);
  }
  assertClose(jsDivergence([1], [1]), 0, 0, 'one outcome');
});

test('klDivergence / jsDivergence argument checks name the argument; tensors accepted; no leaks', async () => {
  await ready();
  assert.throws(() => jsDivergence([0.5, 0.5], [1]), /p and q must have the same length; got 2 and 1/);
  assert.throws(() => jsDivergence([0.5, 0.6], [0.5, 0.5]), /p must sum to 1 .*normalize: true.*1\.1/);
  assert.throws(() => klDivergence([1, 0], [1.5, -0.5]), /q\[1\] must be a finite number >= 0; got -0.5/);
  assert.throws(() => klDivergence([NaN, 1], [0.5, 0.5]), /p\[0\] .* got NaN/);
  assert.throws(() => jsDivergence([], []), /p must have at least one entry/);
  assert.throws(() => jsDivergence([0, 0], [1, 0], { normalize: true }), /p must have a positive sum/);
  assert.throws(() => jsDivergence(0.5 as never, [1]), /p must be an array of probabilities/);
  assert.throws(() => jsDivergence([1], [1], { normalise: true } as never), /unknown option 'normalise' for jsDivergence; did you mean 'normalize'/);
  assert.throws(() => klDivergence([1], [1], { normalize: 1 } as never), /normalize must be a boolean/);
  const p = tf.tensor1d([0.2, 0.8]);
  const q = tf.tensor1d([0.7, 0.3]);
  const m2 = tf.tensor2d([[0.2, 0.8]]);
  try {
    assert.throws(() => jsDivergence(m2 as never, q), /p must be a rank-1 tensor/);
    const js = await assertNoLeak(() => jsDivergence(p, q), 'jsDivergence on tensors');
    assertClose(js, jsDivergence([0.2, 0.8], [0.7, 0.3]), 1e-7, 'tensor and array inputs agree');
    assertClose(jsDivergence(new Float32Array([2, 8]), [7, 3], { normalize: true }), js, 1e-7, 'normalize on a typed array');
  } finally {
    tf.dispose([p, q, m2]);
  }
});
