/**
 * The digit judge (lib/judge): the Frechet distance against closed forms (1-D, diagonal, scaled and non-commuting
 * covariances), Gaussian fits, the DigitClassifier (shapes, seeds, training through the loop, resume, save/load,
 * leaks, errors), and digitQuality / digitQualityTable with the pretrained judge (real digits recognised about as
 * often as the judge is right, independent pixels far worse, the three rows measured alike).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, ready } from '../lib/engine/backend';
import { Random } from '../lib/engine/random';
import { loadMnist } from '../datasets/mnist';
import { DigitClassifier } from '../lib/judge/classifier';
import { fitGaussian, frechetDistance, GaussianFit } from '../lib/judge/frechet';
import { digitQuality, digitQualityTable } from '../lib/judge/quality';
import { pretrained, pretrainedInfo } from '../lib/pretrained/registry';
import { assertClose, assertNoLeak } from './helpers';

// ---------------------------------------------------------------------------------------------------------
// Frechet distance

/** A random symmetric positive definite d x d matrix A A^T / d + 0.1 I. */
function randomSpd(d: number, rng: Random): number[][] {
  const A = Array.from({ length: d }, () => Array.from(rng.normalArray(d)));
  return A.map((ai, i) => A.map((aj, j) => ai.reduce((s, v, k) => s + v * aj[k], 0) / d + (i === j ? 0.1 : 0)));
}

const sqDist = (a: number[], b: number[]) => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0);
const trace = (S: number[][]) => S.reduce((s, r, i) => s + r[i], 0);

test('Frechet distance: 1-D and diagonal Gaussians, |mu1 - mu2|^2 + sum (sqrt(s1) - sqrt(s2))^2', () => {
  assertClose(frechetDistance({ mean: [0], cov: [[1]] }, { mean: [1], cov: [[4]] }), 1 + (1 - 2) ** 2, 1e-12, '1-D');
  const rng = new Random(1);
  const d = 6;
  const v1 = Array.from({ length: d }, () => 0.1 + rng.next() * 3);
  const v2 = Array.from({ length: d }, () => 0.1 + rng.next() * 3);
  const m1 = Array.from(rng.normalArray(d));
  const m2 = Array.from(rng.normalArray(d));
  const diag = (v: number[]) => v.map((x, i) => v.map((_, j) => (i === j ? x : 0)));
  const exact = sqDist(m1, m2) + v1.reduce((s, x, i) => s + (Math.sqrt(x) - Math.sqrt(v2[i])) ** 2, 0);
  assertClose(frechetDistance({ mean: m1, cov: diag(v1) }, { mean: m2, cov: diag(v2) }), exact, 1e-10, 'diagonal');
});

test('Frechet distance: S2 = c^2 S1 gives |dmu|^2 + (1 - c)^2 tr S1; non-commuting 2x2 against tr sqrt(M) = sqrt(tr M + 2 sqrt(det M))', () => {
  const rng = new Random(2);
  const d = 8;
  const S1 = randomSpd(d, rng);
  const c = 1.7;
  const S2 = S1.map((r) => r.map((v) => c * c * v));
  const m1 = Array.from(rng.normalArray(d));
  const m2 = Array.from(rng.normalArray(d));
  const exact = sqDist(m1, m2) + (1 - c) ** 2 * trace(S1);
  assertClose(frechetDistance({ mean: m1, cov: S1 }, { mean: m2, cov: S2 }), exact, 1e-9 * exact, 'scaled covariance');

  // Two 2x2 covariances that do not commute. S1 S2 has real positive eigenvalues l1, l2, and
  // tr (S1 S2)^(1/2) = sqrt(l1) + sqrt(l2) = sqrt(tr(S1 S2) + 2 sqrt(det(S1 S2))).
  const A = [[2, 0.9], [0.9, 1]];
  const B = [[0.5, -0.3], [-0.3, 3]];
  const mul = (X: number[][], Y: number[][]) => X.map((r) => [r[0] * Y[0][0] + r[1] * Y[1][0], r[0] * Y[0][1] + r[1] * Y[1][1]]);
  const M = mul(A, B);
  assert.ok(Math.abs(M[0][1] - mul(B, A)[0][1]) > 0.5, 'A and B must not commute');
  const detM = M[0][0] * M[1][1] - M[0][1] * M[1][0];
  const trSqrt = Math.sqrt(M[0][0] + M[1][1] + 2 * Math.sqrt(detM));
  const mu = [0.3, -1];
  const fd = frechetDistance({ mean: [0, 0], cov: A }, { mean: mu, cov: B });
  assertClose(fd, sqDist([0, 0], mu) + trace(A) + trace(B) - 2 * trSqrt, 1e-10, 'non-commuting 2x2');
  assertClose(frechetDistance({ mean: mu, cov: B }, { mean: [0, 0], cov: A }), fd, 1e-10, 'symmetric in its arguments');
  assertClose(frechetDistance({ mean: m1, cov: S1 }, { mean: m1, cov: S1 }), 0, 1e-9, 'a Gaussian to itself');
});

test('Frechet distance: a singular covariance (rank-deficient features) is fine; bad arguments are named', () => {
  // N(0, diag(1, 0)) vs N(0, diag(0, 4)): (1 - 0)^2 + (0 - 2)^2 = 5
  assertClose(frechetDistance({ mean: [0, 0], cov: [[1, 0], [0, 0]] }, { mean: [0, 0], cov: [[0, 0], [0, 4]] }), 5, 1e-12, 'singular');
  assert.throws(() => frechetDistance({ mean: [0, 0], cov: [[1, 0], [0, 1]] }, { mean: [0], cov: [[1]] }), /b has dimension 1; expected 2/);
  assert.throws(() => frechetDistance({ mean: [0, 0], cov: [[1, 0]] }, { mean: [0, 0], cov: [[1, 0], [0, 1]] }), /a\.cov must be 2x2/);
  assert.throws(() => frechetDistance({ mean: [NaN], cov: [[1]] }, { mean: [0], cov: [[1]] }), /a must contain only finite values/);
  assert.throws(() => frechetDistance({ mean: [0] } as unknown as GaussianFit, { mean: [0], cov: [[1]] }), /a must be \{ mean: number\[\], cov: number\[\]\[\] \}/);
});

test('fitGaussian: mean and covariance (divisor n - 1), and of chosen rows (a bootstrap resample)', () => {
  const pts = [[1, 2], [3, 1], [2, 6], [0, 3]];
  const flat = pts.flat();
  const g = fitGaussian(flat, 2);
  assert.deepEqual(g.mean, [1.5, 3]);
  // deviations (-0.5, -1), (1.5, -2), (0.5, 3), (-1.5, 0): sum xx 5, xy -1, yy 14; / 3
  assertClose(g.cov[0][0], 5 / 3, 1e-12, 'var x');
  assertClose(g.cov[0][1], -1 / 3, 1e-12, 'cov xy');
  assertClose(g.cov[1][0], -1 / 3, 1e-12, 'cov yx');
  assertClose(g.cov[1][1], 14 / 3, 1e-12, 'var y');
  const r = fitGaussian(flat, 2, [1, 1, 2]); // points 2, 2, 3
  assert.deepEqual(r.mean, [(3 + 3 + 2) / 3, (1 + 1 + 6) / 3]);
  assert.throws(() => fitGaussian([1, 2], 2), /at least 2 points; got 1/);
});

// ---------------------------------------------------------------------------------------------------------
// DigitClassifier

test('DigitClassifier: predict gives probabilities [n, 10] (rows sum to 1 - p(not a digit)), features [n, 128]; same seed, same network', async () => {
  await ready();
  const data = await loadMnist({ split: 'test', limit: 20 });
  await assertNoLeak(() => {
    const a = new DigitClassifier({ seed: 4 });
    const b = new DigitClassifier({ seed: 4 });
    const c = new DigitClassifier({ seed: 5 });
    const plain = new DigitClassifier({ seed: 4, rejectClass: false });
    const p = a.predict(data.images);
    assert.deepEqual(p.shape, [20, 10]);
    const sums = p.sum(1);
    for (const s of sums.dataSync()) assert.ok(s > 0.5 && s < 1, `with the reject class a row sums to 1 - p(not a digit): ${s}`);
    const q = plain.predict(data.images);
    const qs = q.sum(1);
    for (const s of qs.dataSync()) assertClose(s, 1, 1e-5, 'row sum without the reject class');
    const images = data.images.reshape([20, 28, 28, 1]);
    const f = a.features(images);
    assert.deepEqual(f.shape, [20, 128]);
    assert.ok(tf.tidy(() => f.min().dataSync()[0]) >= 0, 'features come after a ReLU');
    const flat = a.features(data.images);
    assert.deepEqual(Array.from(flat.dataSync()), Array.from(f.dataSync()), 'flat and image inputs agree');
    const same = b.predict(data.images);
    const other = c.predict(data.images);
    assert.deepEqual(Array.from(same.dataSync()), Array.from(p.dataSync()));
    assert.notDeepEqual(Array.from(other.dataSync()), Array.from(p.dataSync()));
    assert.match(a.describe(), /^conv 28x28x1 \[32,64\] dense 128 -> 10 \+ reject dropout 0\.3$/);
    assert.match(plain.describe(), /-> 10 dropout/);
    tf.dispose([p, sums, q, qs, images, f, flat, same, other]);
    [a, b, c, plain].forEach((m) => m.dispose());
  }, 'building and predicting');
  data.images.dispose();
});

test('DigitClassifier.fit: trains through the loop (loss falls, valAccuracy recorded), resumes, saves and loads; leaks nothing', async () => {
  await ready();
  const train = await loadMnist({ split: 'train', limit: 300 });
  const test = await loadMnist({ split: 'test', limit: 100 });
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-judge-')), 'judge');
  await assertNoLeak(async () => {
    const m = new DigitClassifier({ seed: 1, filters: [8, 16], featureUnits: 32, dropout: 0 });
    const before = m.evaluate(test.images, test.labels);
    const h = await m.fit(train.images, train.labels, {
      epochs: 3, learningRate: 3e-3, augment: 0, progress: false, seed: 2, validation: { x: test.images, labels: test.labels },
    });
    assert.deepEqual(h.epoch, [1, 2, 3]);
    for (const key of ['loss', 'accuracy', 'outlierLoss', 'valLoss', 'valAccuracy', 'seconds']) assert.equal(h[key]?.length, 3, key);
    assert.ok(h.loss[2] < h.loss[0], `training loss should fall: ${h.loss}`);
    assert.ok(h.outlierLoss[2] < 0.8 * h.outlierLoss[0], `the judge learns to call outliers "not a digit": ${h.outlierLoss}`);
    const after = m.evaluate(test.images, test.labels);
    assert.ok(after.accuracy > before.accuracy + 0.2, `held-out accuracy ${before.accuracy} -> ${after.accuracy}`);
    assertClose(after.accuracy, h.valAccuracy[2], 1e-6, 'evaluate equals the recorded valAccuracy');
    const again = await m.fit(train.images, train.labels, { epochs: 1, progress: false, outlierWeight: 0, augment: 0 });
    assert.deepEqual(again.epoch, [4], 'a second fit continues the epoch numbers');
    assert.ok(Number.isNaN(again.outlierLoss[0]), 'no outlier term with outlierWeight 0');
    // without the reject class the outliers' target is uniform: the term is a cross-entropy to it, >= log 10
    const plain = new DigitClassifier({ seed: 1, filters: [4, 8], featureUnits: 16, rejectClass: false });
    const hp = await plain.fit(train.images, train.labels, { epochs: 1, progress: false });
    assert.ok(hp.outlierLoss[0] >= Math.log(10) - 1e-4 && hp.outlierLoss[0] < 3, `uniform-target outlier term ${hp.outlierLoss[0]}`);
    plain.dispose();
    await m.save(dir);
    const loaded = await DigitClassifier.load(dir);
    const p1 = m.predict(test.images);
    const p2 = loaded.predict(test.images);
    assert.deepEqual(Array.from(p2.dataSync()), Array.from(p1.dataSync()), 'the loaded judge predicts the same');
    assert.equal(loaded.describe(), m.describe());
    tf.dispose([p1, p2]);
    loaded.dispose();
    m.dispose();
  }, 'fit, save and load');
  train.images.dispose();
  test.images.dispose();
});

test('DigitClassifier: a diverging fit leaves the weights finite; errors name the argument', async () => {
  await ready();
  const train = await loadMnist({ split: 'train', limit: 64 });
  const m = new DigitClassifier({ seed: 1, filters: [4, 4], featureUnits: 8 });
  // 4 steps per epoch: the first makes the weights huge, the next NaN, within epoch 1
  await assert.rejects(
    m.fit(train.images, train.labels, { epochs: 3, batchSize: 16, learningRate: 1e30, progress: false }),
    /DigitClassifier\.fit diverged at epoch 1: .*The model is as it was before this fit/,
  );
  const p = m.predict(train.images);
  assert.ok(tf.tidy(() => p.isFinite().all().dataSync()[0]) === 1, 'weights put back');
  p.dispose();
  await assert.rejects(m.fit(train.images, train.labels.slice(1), { progress: false }), /labels must hold one label per row \(64\); got 63/);
  await assert.rejects(m.fit(train.images, Int32Array.from(train.labels, (l) => (l === 3 ? 10 : l)), { progress: false }), /labels must be integers in 0\.\.9; got 10/);
  const scaled = train.images.mul(255);
  await assert.rejects(m.fit(scaled, train.labels, { progress: false }), /x must have values in \[0, 1\]; got values in \[0, 255\]/);
  scaled.dispose();
  await assert.rejects(m.fit(train.images, train.labels, { epoch: 3 } as never), /unknown option 'epoch' for DigitClassifier\.fit; did you mean 'epochs'\?/);
  await assert.rejects(m.fit(train.images, train.labels, { outlierWeight: -1 }), /outlierWeight must be in \[0, inf\); got -1/);
  await assert.rejects(m.fit(train.images, train.labels, { validation: train.images as never }), /validation must be \{ x, labels \}/);
  assert.throws(() => m.predict(tf.zeros([2, 27, 28, 1])), /x must have shape \[n, 784\] or \[n, 28, 28, 1\]/);
  assert.throws(() => new DigitClassifier({ dataShape: [30, 30, 1] }), /divisible by 4/);
  assert.throws(() => new DigitClassifier({ filters: [8] as never }), /filters must be \[F1, F2\]/);
  assert.throws(() => new DigitClassifier({ dropout: 1 }), /dropout must be in \[0, 1\); got 1/);
  m.dispose();
  assert.throws(() => m.predict(train.images), /this DigitClassifier has been disposed/);
  train.images.dispose();
});

// ---------------------------------------------------------------------------------------------------------
// digitQuality with the pretrained judge

test('digitQuality: real held-out digits are recognised about as often as the judge is right; independent pixels far worse', async () => {
  await ready();
  const test = await loadMnist({ split: 'test' }); // the 2000 digits the judge never trained on
  const accuracy = pretrainedInfo('digit-classifier').quality.find((q) => q.name === 'heldOutAccuracy')!.value;
  await assertNoLeak(async () => {
    const judge = await pretrained('digit-classifier');
    const half = test.images.slice([0, 0], [1000, 784]);
    const rest = test.images.slice([1000, 0], [1000, 784]);
    const real = await digitQuality(half, { reference: rest, judge });
    assert.equal(real.n, 1000);
    assert.equal(real.referenceSize, 1000);
    assert.ok(Math.abs(real.recognised - accuracy) < 0.05, `recognised ${real.recognised} vs the judge's accuracy ${accuracy}`);
    assert.equal(real.classesPresent, 10);
    assert.ok(real.largestClassShare < 0.15, `largest class share ${real.largestClassShare}`);
    assert.equal(real.classCounts.reduce((s, c) => s + c, 0), 1000);
    assert.ok(real.fidStd > 0 && real.fidStd < real.fid, `bootstrap sd ${real.fidStd} of FID ${real.fid}`);
    const asImages = half.reshape([1000, 28, 28, 1]);
    const images = await digitQuality(asImages, { reference: rest, judge });
    asImages.dispose();
    assertClose(images.fid, real.fid, 1e-6 * real.fid, 'flat and image inputs give the same FID');

    const pixels = await digitQualityTable(half, { reference: test.images, judge, label: 'held-out digits' });
    const ip = pixels[2];
    assert.equal(ip.row, 'independent pixels');
    assert.ok(ip.recognised < 0.2, `independent pixels recognised ${ip.recognised}`);
    assert.ok(ip.fid > 10 * pixels[1].fid, `independent pixels FID ${ip.fid} vs real ${pixels[1].fid}`);
    half.dispose();
    rest.dispose();
    judge.dispose();
  }, 'digitQuality');
  test.images.dispose();
});

test('digitQualityTable: three rows measured alike (same n, same reference half); a model of real digits sits with the real row', async () => {
  await ready();
  const test = await loadMnist({ split: 'test' });
  const train = await loadMnist({ split: 'train', limit: 1500 });
  await assertNoLeak(async () => {
    const rows = await digitQualityTable(train.images, { reference: test.images, label: 'training digits', bootstrap: 4 });
    assert.deepEqual(rows.map((r) => r.row), ['training digits', 'real digits', 'independent pixels']);
    for (const r of rows) {
      assert.equal(r.n, 1000, `${r.row}: min(n, |B|) digits`);
      assert.equal(r.referenceSize, 1000);
    }
    const [model, real, pixels] = rows;
    assert.ok(Math.abs(model.fid - real.fid) < 3 * (model.fidStd + real.fidStd) + 1, `training digits ${model.fid} vs real ${real.fid}`);
    assert.ok(pixels.fid > 10 * real.fid, `independent pixels ${pixels.fid} vs real ${real.fid}`);
    assert.ok(model.recognised > 0.9 && real.recognised > 0.9);
  }, 'digitQualityTable');
  const wide = test.images.mul(2).sub(1);
  await assert.rejects(digitQuality(wide, { reference: test.images }), /samples must have values in \[0, 1\]; got values in \[-1, 1\]; the judge reads pixel intensities in \[0, 1\]/);
  wide.dispose();
  await assert.rejects(digitQuality(test.images, {} as never), /reference must be a tf\.Tensor of held-out real digits/);
  await assert.rejects(digitQuality(test.images, { reference: test.images, confidence: 0 }), /confidence must be in \(0, 1\]; got 0/);
  await assert.rejects(digitQuality(test.images, { reference: test.images, bootstrap: 1 }), /bootstrap must be at least 2; got 1/);
  await assert.rejects(digitQualityTable(test.images, { reference: test.images, labels: 'x' } as never), /unknown option 'labels' for digitQualityTable; did you mean 'label'\?/);
  test.images.dispose();
  train.images.dispose();
});
