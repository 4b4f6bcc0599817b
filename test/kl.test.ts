/** klDiagonalGaussian: closed form against Monte Carlo and against the scalar formula; argument checks; leaks. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf, ready } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { klDiagonalGaussian } from '../lib/vae/kl';
import { assertClose, assertNoLeak } from './helpers';

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
