/**
 * The pretrained generative models (lib/pretrained/recipes/) against their PyTorch twins (issue #25, item 6): each
 * twin (bench/quality/pretrained.py) trains the same network on the same digits with the same settings, steps and
 * seed as the recipe; its samples come back through a file and genlab's digit judge scores them exactly as the recipe
 * scores genlab's model (digitQualityTable against the 2000 held-out digits: recognised fraction, classes, largest
 * class share, judge-FID, beside real digits and independent pixels). genlab's row is the committed model's manifest
 * (pretrained/<name>/pretrained.json), re-measured here on the committed weights.
 *
 * Run (from the repository root):
 *   node scripts/build.js && node dist/bench/quality/pretrained.js [--models vae-digits,gan-digits] [--quick] [--reuse] [--write]
 * Each twin's run is kept in build/twins/; `--reuse` scores a kept run again instead of training (a model not yet
 * committed has only its twin's row).
 * `--write` rewrites bench/quality/RESULTS-pretrained.md (a table; another model's row may be added below). `--quick`
 * runs the recipes' quick settings (a test of the twin, seconds). PyTorch: see bench/peer-python.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeEnvironment, ready, tf } from '../../lib/engine/backend';
import type { PretrainedName, QualityFigure } from '../../lib/pretrained/recipe';
import { findRecipe, listPretrained, pretrained, pretrainedInfo } from '../../lib/pretrained/registry';
import { judgeSamples, type DigitData } from '../../lib/pretrained/digits';
import { publishReport, runMain, runTwin } from './common';

/** The models compared: those with a recipe and a twin. */
const MODELS: PretrainedName[] = ['vae-digits', 'gan-digits'];

/** Where the twins' runs are kept (samples and figures), so that `--reuse` scores them again without training. */
const twinDir = path.join(__dirname, '..', '..', '..', 'build', 'twins');
const reuse = process.argv.includes('--reuse');

/** One row of the table. */
interface Row {
  model: string;
  side: string;
  steps: number;
  seconds: number;
  figures: Record<string, number>;
  fidStd: string;
}

const fig = (figures: QualityFigure[]) => Object.fromEntries(figures.map((q) => [q.name, q.value]));
const fidSd = (figures: QualityFigure[]) => /bootstrap sd ([\d.]+)/.exec(figures.find((q) => q.name === 'samplesFid')?.description ?? '')?.[1] ?? '?';

/** A Generative over fixed samples: what the judge reads from the twin's file. */
const fixedSamples = (x: tf.Tensor2D) => ({ dataShape: [784], sample: async (n: number) => x.slice([0, 0], [n, 784]) });

async function compare(name: PretrainedName, quick: boolean): Promise<Row[]> {
  const recipe = findRecipe(name);
  if (!recipe) throw new Error(`'${name}' has no recipe`);
  const settings = recipe.settings(quick);
  const data = (await recipe.data(settings)) as DigitData;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `genlab-twin-${name}-`));
  const rows: Row[] = [];
  try {
    const batch = (settings.fit as { batchSize: number }).batchSize;
    const epochs = (settings.fit as { phases: { epochs: number }[] }).phases.reduce((s, p) => s + p.epochs, 0);
    const steps = epochs * Math.ceil(data.train.labels.length / batch);
    if (!quick && listPretrained().includes(name)) {
      // genlab: the committed model, re-measured on its committed weights
      const info = pretrainedInfo(name);
      const model = await pretrained(name);
      try {
        const figures = await recipe.evaluate(model as never, data, settings);
        rows.push({ model: name, side: `genlab (${info.machine.backend}, ${info.machine.threads} threads)`, steps, seconds: info.training.seconds, figures: fig(figures), fidStd: fidSd(figures) });
      } finally {
        model.dispose();
      }
    }
    // the twin: same settings, data as float32 files
    const kept = path.join(twinDir, `${name}${quick ? '-quick' : ''}.json`);
    let out: { torch: string; seconds: number; steps: number; [k: string]: unknown };
    if (reuse && fs.existsSync(kept) && fs.existsSync(`${kept}.f32`)) {
      out = JSON.parse(fs.readFileSync(kept, 'utf8'));
      fs.copyFileSync(`${kept}.f32`, path.join(dir, 'samples.f32'));
      console.log(`${name}: the PyTorch twin's run of ${out.date} (${kept})`);
    } else {
      fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings));
      fs.writeFileSync(path.join(dir, 'train.f32'), Buffer.from((data.train.images.dataSync() as Float32Array).buffer));
      fs.writeFileSync(path.join(dir, 'held.f32'), Buffer.from((data.heldOut.images.dataSync() as Float32Array).buffer));
      console.log(`${name}: PyTorch twin training (${steps} steps)...`);
      out = { ...(runTwin('pretrained.py', [name, dir]) as typeof out), date: new Date().toISOString() };
      fs.mkdirSync(twinDir, { recursive: true });
      fs.writeFileSync(kept, JSON.stringify(out));
      fs.copyFileSync(path.join(dir, 'samples.f32'), `${kept}.f32`);
    }
    const raw = fs.readFileSync(path.join(dir, 'samples.f32'));
    const x = tf.tensor2d(new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4), [raw.length / 4 / 784, 784]);
    try {
      const e = settings.evaluation as { samples: number; sampleSeed: number; bootstrap: number };
      const figures = await judgeSamples(fixedSamples(x), data.heldOut, e, `${name} (PyTorch)`);
      const extra = Object.fromEntries(Object.entries(out).filter(([k, v]) => typeof v === 'number' && k.startsWith('heldOut'))) as Record<string, number>;
      rows.push({ model: name, side: `PyTorch ${out.torch} (1 thread)`, steps: out.steps, seconds: out.seconds, figures: { ...fig(figures), ...extra }, fidStd: fidSd(figures) });
    } finally {
      x.dispose();
    }
  } finally {
    data.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

const f = (v: number | undefined, digits = 2) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

function table(rows: Row[]): string {
  const head = '| model | trained by | steps | train s | recognised | vs real | classes | largest share | judge-FID (sd) | real-vs-real FID | indep.-pixel FID | held-out ELBO |';
  const lines = rows.map((r) => {
    const q = r.figures;
    return `| ${r.model} | ${r.side} | ${r.steps} | ${Math.round(r.seconds)} | ${f(q.samplesRecognised, 3)} | ${f(q.samplesRecognised / q.realRecognised, 2)} | ${q.samplesClassesPresent} | ${f(q.samplesLargestClassShare, 3)} | ${f(q.samplesFid, 1)} (${r.fidStd}) | ${f(q.realFid, 1)} | ${f(q.independentPixelsFid, 0)} | ${f(q.heldOutElbo, 1)} |`;
  });
  return [head, '|---|---|---|---|---|---|---|---|---|---|---|---|', ...lines].join('\n');
}

async function main(): Promise<void> {
  await ready();
  const env = await describeEnvironment();
  const quick = process.argv.includes('--quick');
  const i = process.argv.indexOf('--models');
  const models = (i >= 0 ? process.argv[i + 1].split(',') : MODELS) as PretrainedName[];
  const rows: Row[] = [];
  for (const name of models) rows.push(...(await compare(name, quick)));
  const report = `# Pretrained generative models: genlab against PyTorch twins

Generated by \`bench/quality/pretrained.ts\` on ${new Date().toISOString().slice(0, 10)} (${env.cpu}). Reproduce:

\`\`\`sh
node scripts/build.js && node dist/bench/quality/pretrained.js --models ${models.join(',')}${quick ? ' --quick' : ''} --write
\`\`\`

Each recipe (lib/pretrained/recipes/<name>.ts; \`npm run pretrain -- <name>\`) and its PyTorch twin
(bench/quality/pretrained.py) train the same network on the same 8000 training digits (loadMnist's split: seed 0,
8000 / 2000) with the same settings, steps and seed (the seeds do not make the same weights: the two libraries draw
differently). genlab's row is the committed checkpoint, re-measured here; the twin's samples are written to a file and
read back. Both are judged alike by genlab's digit judge (\`'digit-classifier'\`): the first
1000 samples (a fixed seed) against one half of the 2000 held-out digits, beside the other half of the held-out
digits (real-vs-real: the floor) and as many independent-pixel digits (each pixel from a random held-out digit:
the model to beat), all with the same number of digits. Recognised: the judge's confidence >= 0.9; "vs real": that
fraction over the real digits' (issue #25's bar: >= 0.8); classes: of 10, among the recognised samples (bar: all
10); largest share: the commonest class's share of all samples (bar: <= 0.2). FID sd: bootstrap over the samples.
The ELBO (VAE only) is the held-out mean in nats per digit, a Bernoulli cross-entropy bound on grey levels.

${table(rows)}
`;
  publishReport(report, 'RESULTS-pretrained.md');
}

runMain(main);
