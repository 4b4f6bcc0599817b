/**
 * Pretrained models (lib/pretrained): every committed checkpoint loads, matches its manifest's SHA-256 and reaches its
 * recorded quality within the stated tolerance; every recipe runs end to end in quick mode (seconds each) into a
 * temporary folder, never over the committed weights; unknown and missing names give errors that list the names and
 * say which `npm run pretrain -- <name>` makes a missing one.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { ready, tf } from '../lib/engine/backend';
import { PRETRAINED_NAMES, type PretrainableModel, type PretrainedName } from '../lib/pretrained/recipe';
import { committedPretrainedDir, findRecipe, listPretrained, PRETRAINED_MANIFEST, pretrained, pretrainedInfo, recipeNames } from '../lib/pretrained/registry';
import { pretrain } from '../lib/pretrained/pretrain';
import * as genlab from '../lib/index';
import type { Generative } from '../lib/core/model';
import { sameEngineRerun } from './helpers';

/** Any pretrained model, as the Model contract sees it (each name's own class is in PretrainedModels). */
const load = async (name: PretrainedName, dir?: string) => (await pretrained(name, dir ? { dir } : {})) as unknown as PretrainableModel;
const sha256File = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-pretrained-'));

test('the names are reserved and exported; the digit judge is committed and its recipe is found by file name', () => {
  assert.deepEqual([...PRETRAINED_NAMES], ['digit-classifier', 'vae-digits', 'gan-digits', 'ddpm-digits', 'latent-ddpm-digits', 'ebm-digits']);
  assert.equal(typeof genlab.pretrained, 'function');
  assert.equal(typeof genlab.pretrainedInfo, 'function');
  assert.equal(typeof genlab.listPretrained, 'function');
  assert.ok(genlab.listPretrained().includes('digit-classifier'), `committed: ${genlab.listPretrained()}`);
  assert.ok(recipeNames().includes('digit-classifier'));
  // every recipe file is named after a reserved name and exports the recipe of that name
  const files = fs.readdirSync(path.join(__dirname, '..', 'lib', 'pretrained', 'recipes')).filter((f) => f.endsWith('.js'));
  assert.ok(files.length >= 1);
  for (const f of files) {
    const name = f.replace(/\.js$/, '');
    assert.ok((PRETRAINED_NAMES as readonly string[]).includes(name), `recipes/${f} is not a reserved name`);
    assert.equal(findRecipe(name as PretrainedName)?.name, name);
  }
  // the committed folder ships with the package
  const pkg = JSON.parse(fs.readFileSync(path.join(committedPretrainedDir(), '..', 'package.json'), 'utf8')) as { files: string[] };
  assert.ok(pkg.files.includes('pretrained'), 'package.json files must include pretrained');
});

test('committed checkpoints: hash matches the manifest, the model loads, and its quality is as recorded', { skip: sameEngineRerun() }, async () => {
  await ready();
  const names = listPretrained();
  assert.ok(names.length >= 1);
  let total = 0;
  for (const name of names) {
    const info = pretrainedInfo(name);
    const dir = path.join(committedPretrainedDir(), name);
    assert.equal(info.name, name);
    assert.equal(info.quick, false, `${name}: a quick run must never be committed`);
    assert.equal(info.command, `npm run pretrain -- ${name}`);
    assert.equal(sha256File(path.join(dir, info.checkpoint.payload)), info.checkpoint.sha256, `${name}: checkpoint SHA-256`);
    total += info.checkpoint.bytes;
    for (const key of ['cpu', 'cores', 'backend', 'platform', 'node', 'tfjs'] as const) assert.ok(info.machine[key] !== undefined, `${name}: machine.${key}`);
    assert.ok(info.training.seconds > 0 && info.training.epochs > 0 && info.training.history.epoch.length === info.training.epochs);
    const recipe = findRecipe(name)!;
    const model = await load(name);
    assert.equal(model.kind, info.kind);
    assert.equal(model.describe(), info.architecture);
    const settings = recipe.settings(false);
    assert.deepEqual(info.recipe, settings, `${name}: the committed checkpoint was made with the recipe as it is now`);
    const data = await recipe.data(settings);
    try {
      const figures = await recipe.evaluate(model, data, settings);
      assert.deepEqual(figures.map((q) => q.name), info.quality.map((q) => q.name));
      for (const q of info.quality) {
        const now = figures.find((f) => f.name === q.name)!.value;
        assert.ok(Math.abs(now - q.value) <= q.tolerance, `${name}: ${q.name} is ${now}, recorded ${q.value} +- ${q.tolerance}`);
      }
    } finally {
      data.dispose();
      model.dispose();
    }
  }
  assert.ok(total < 25e6, `committed checkpoints take ${total} bytes; keep them within about 25 MB`);
  const judge = pretrainedInfo('digit-classifier');
  assert.ok(judge.quality.find((q) => q.name === 'heldOutAccuracy')!.value >= 0.98, 'the digit judge reaches 98% on the held-out digits');
});

/**
 * Recipes whose full run has not been made yet, and why (each still runs end to end in quick mode below). A name
 * here with a committed model fails the test, so the list cannot go stale.
 */
const NOT_YET_TRAINED: Record<string, string> = {};

test('every recipe has its committed model; generative ones sample [n, ...dataShape] in their manifest\'s dataRange, the same for the same seed', async () => {
  await ready();
  const committed = listPretrained();
  for (const name of recipeNames()) {
    if (name in NOT_YET_TRAINED) assert.ok(!committed.includes(name), `'${name}' is committed now: remove it from NOT_YET_TRAINED`);
    else assert.ok(committed.includes(name), `'${name}' has a recipe but no committed model: npm run pretrain -- ${name}`);
  }
  const generative = committed.filter((n) => findRecipe(n)?.dataRange !== undefined);
  assert.ok(generative.includes('vae-digits') && generative.includes('gan-digits'), `generative models committed: ${generative}`);
  const numTensors = tf.memory().numTensors;
  for (const name of generative) {
    const info = pretrainedInfo(name);
    assert.deepEqual(info.dataRange, findRecipe(name)!.dataRange, `${name}: the manifest records the samples' range`);
    const [lo, hi] = info.dataRange!;
    const model = (await pretrained(name)) as unknown as PretrainableModel & Generative;
    try {
      const a = await model.sample(6, { seed: 3 });
      const b = await model.sample(6, { seed: 3 });
      const c = await model.sample(6, { seed: 4 });
      assert.deepEqual(a.shape, [6, ...model.dataShape], `${name}: sample shape`);
      assert.deepEqual(model.dataShape, [28, 28, 1]);
      const v = a.dataSync();
      assert.ok(v.every((x) => x >= lo && x <= hi), `${name}: samples within [${lo}, ${hi}]`);
      assert.deepEqual(Array.from(b.dataSync()), Array.from(v), `${name}: same seed, same samples`);
      assert.notDeepEqual(Array.from(c.dataSync()), Array.from(v), `${name}: another seed, other samples`);
      tf.dispose([a, b, c]);
    } finally {
      model.dispose();
    }
  }
  assert.equal(tf.memory().numTensors, numTensors, 'sampling leaks no tensors');
});

test('every recipe runs end to end in quick mode, into a temporary folder (never the committed one)', async () => {
  await ready();
  const out = tempDir();
  const committed = committedPretrainedDir();
  const before = Object.fromEntries(listPretrained().map((n) => [n, sha256File(path.join(committed, n, PRETRAINED_MANIFEST))]));
  const numTensors = tf.memory().numTensors;
  for (const name of recipeNames()) {
    const lines: string[] = [];
    const t0 = performance.now();
    const info = await pretrain(name, { quick: true, out, progress: false, log: (l) => lines.push(l) });
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(info.quick, true);
    assert.equal(info.command, `npm run pretrain -- ${name} --quick`);
    assert.ok(info.quality.length > 0 && info.quality.every((q) => Number.isFinite(q.value) && q.tolerance >= 0), `${name}: quality figures`);
    assert.match(lines.join('\n'), new RegExp(`npm run pretrain -- ${name} --quick`));
    assert.deepEqual(listPretrained({ dir: out }).includes(name), true);
    assert.equal(pretrainedInfo(name, { dir: out }).checkpoint.sha256, info.checkpoint.sha256);
    const model = await load(name, out);
    assert.equal(model.kind, info.kind);
    model.dispose();
    if (name === 'ebm-digits') {
      // its recipe's save leaves out the replay buffer (sampling starts from noise): the network's tensors only
      const stored = (JSON.parse(fs.readFileSync(path.join(out, name, 'manifest.json'), 'utf8')) as { tensors: { name: string }[] }).tensors.map((t) => t.name);
      assert.ok(stored.length > 0 && stored.every((t) => t.startsWith('network/')), `ebm-digits: stored tensors ${stored.join(', ')}`);
    }
    assert.ok(seconds < 120, `${name}: a quick run took ${seconds.toFixed(0)} s; keep it to seconds`);
  }
  assert.equal(tf.memory().numTensors, numTensors, 'quick runs leak no tensors');
  for (const [n, hash] of Object.entries(before)) {
    assert.equal(sha256File(path.join(committed, n, PRETRAINED_MANIFEST)), hash, `${n}: the committed manifest is untouched`);
  }
  await assert.rejects(pretrain('digit-classifier', { quick: true, out: committed, progress: false, log: () => {} }), /a quick run must not write into .*committed weights/);
});

test('unknown names list the names; a missing checkpoint says which npm run pretrain makes it; a mismatched one is refused', async () => {
  await ready();
  await assert.rejects(
    pretrained('nope' as PretrainedName),
    /unknown pretrained model "nope"; the names are 'digit-classifier', 'vae-digits', 'gan-digits', 'ddpm-digits', 'latent-ddpm-digits', 'ebm-digits'; committed: .*'digit-classifier'/,
  );
  assert.throws(() => pretrainedInfo('digit-clasifier' as PretrainedName), /unknown pretrained model "digit-clasifier" \(did you mean 'digit-classifier'\?\)/);
  const empty = tempDir();
  await assert.rejects(pretrained('digit-classifier', { dir: empty }), /no pretrained 'digit-classifier' in .*: make it with npm run pretrain -- digit-classifier/);
  const noRecipe = PRETRAINED_NAMES.find((n) => !findRecipe(n));
  if (noRecipe) {
    await assert.rejects(pretrained(noRecipe, { dir: empty }), new RegExp(`'${noRecipe}' has no recipe yet .*npm run pretrain -- ${noRecipe} makes it`));
  }
  assert.deepEqual(listPretrained({ dir: empty }), []);
  await assert.rejects(pretrained('digit-classifier', { dri: empty } as never), /unknown option 'dri' for pretrained; did you mean 'dir'\?/);

  // a checkpoint that does not match its manifest (weights replaced, manifest not) is refused
  const copy = tempDir();
  fs.cpSync(path.join(committedPretrainedDir(), 'digit-classifier'), path.join(copy, 'digit-classifier'), { recursive: true });
  const file = path.join(copy, 'digit-classifier', PRETRAINED_MANIFEST);
  const info = JSON.parse(fs.readFileSync(file, 'utf8'));
  info.checkpoint.sha256 = '0'.repeat(64);
  fs.writeFileSync(file, JSON.stringify(info));
  await assert.rejects(pretrained('digit-classifier', { dir: copy }), /does not match its pretrained\.json .*npm run pretrain -- digit-classifier again/);
});
