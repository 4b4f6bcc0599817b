/**
 * The pretrained generative models (lib/pretrained/recipes/) against their PyTorch twins (issue #25, item 6): each
 * twin (bench/quality/pretrained.py) trains the same network on the same digits with the same settings, steps and
 * seed as the recipe; its samples come back through a file and genlab's digit judge scores them exactly as the recipe
 * scores genlab's model (digitQualityTable against the 2000 held-out digits: recognised fraction, classes, largest
 * class share, judge-FID, beside real digits and independent pixels). genlab's row is the committed model's manifest
 * (pretrained/<name>/pretrained.json), re-measured here on the committed weights.
 *
 * A class-conditional model (its recipe's evaluation has `guidance` weights: 'ddpm-digits') gets a section of its own
 * between `<!-- <name> -->` markers: the same table, and digitGuidanceTable's figure per weight w (the fraction of the
 * samples the judge names as the digit asked for) on both sides; the twin checks its network's parameter count
 * against genlab's before it trains.
 *
 * Run (from the repository root):
 *   node scripts/build.js && node dist/bench/quality/pretrained.js [--models vae-digits,gan-digits,ddpm-digits] [--quick] [--reuse] [--pretrained <dir>] [--write]
 * Each twin's run is kept in build/twins/; `--reuse` scores a kept run again instead of training (a model not yet
 * committed has only its twin's row; a class-conditional one says so in its genlab row). `--pretrained <dir>` reads
 * the committed models from another `pretrained/` folder (e.g. a checkout where one was just trained).
 * `--write` rewrites bench/quality/RESULTS-pretrained.md: the table of the unconditional models run (when any), then
 * the sections of the class-conditional ones, in place (the other sections stay). `--quick` runs the recipes' quick
 * settings (a test of the twin, seconds; twin rows only). PyTorch: see bench/peer-python.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeEnvironment, ready, tf } from '../../lib/engine/backend';
import type { PretrainedName, QualityFigure } from '../../lib/pretrained/recipe';
import { findRecipe, listPretrained, pretrained, pretrainedInfo } from '../../lib/pretrained/registry';
import { guidanceFigures, judgeSamples, type DigitData } from '../../lib/pretrained/digits';
import { digitGuidanceTable } from '../../lib/judge/guidance';
import { DDPM } from '../../lib/diffusion/ddpm';
import { publishReport, publishSection, runMain, runTwin } from './common';

/** The models compared: those with a recipe and a twin. */
const MODELS: PretrainedName[] = ['vae-digits', 'gan-digits', 'ddpm-digits'];

/** Where the twins' runs are kept (samples and figures), so that `--reuse` scores them again without training. */
const twinDir = path.join(__dirname, '..', '..', '..', 'build', 'twins');
const reuse = process.argv.includes('--reuse');
/** Where the committed models are read from (`--pretrained <dir>`; default the package's pretrained/). */
const committed = process.argv.includes('--pretrained') ? { dir: process.argv[process.argv.indexOf('--pretrained') + 1] } : {};

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

/** A twin's float32 file of digits `[m, 784]`. */
function readDigits(file: string): tf.Tensor2D {
  const raw = fs.readFileSync(file);
  return tf.tensor2d(new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4).slice(), [raw.length / 4 / 784, 784]);
}

/** The recipe's settings as far as this script reads them. */
type TwinSettings = {
  ddpm?: { weightAverage?: number };
  fit: { batchSize: number; phases: { epochs: number; learningRate: number }[] };
  evaluation: { samples: number; sampleSeed: number; bootstrap: number; guidance?: number[]; perClass?: number; ddimSteps?: number; sampler?: 'ancestral' };
};

/** One model compared: its table rows and, for a class-conditional one, what its section says besides. */
interface Comparison {
  name: PretrainedName;
  rows: Row[];
  settings: TwinSettings;
  /** Guidance weights of a class-conditional model (its section's second table); absent otherwise. */
  guidance?: number[];
  /** Parameters of genlab's network and of the twin's (class-conditional DDPM only). */
  parameters?: { genlab: number; twin: number };
}

/** genlab's parameter count of the recipe's network, for the twin to check; null for a model without one. */
function genlabParameters(model: unknown): number | null {
  return model instanceof DDPM ? model.network.parameterCount : null;
}

async function compare(name: PretrainedName, quick: boolean): Promise<Comparison> {
  const recipe = findRecipe(name);
  if (!recipe) throw new Error(`'${name}' has no recipe`);
  const settings = recipe.settings(quick) as unknown as TwinSettings;
  const guidance = settings.evaluation.guidance;
  const data = (await recipe.data(settings as never)) as DigitData;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `genlab-twin-${name}-`));
  const rows: Row[] = [];
  let parameters: Comparison['parameters'];
  try {
    const batch = settings.fit.batchSize;
    const epochs = settings.fit.phases.reduce((s, p) => s + p.epochs, 0);
    const steps = epochs * Math.ceil(data.train.labels.length / batch);
    if (!quick && listPretrained(committed).includes(name)) {
      // genlab: the committed model, re-measured on its committed weights
      const info = pretrainedInfo(name, committed);
      const model = await pretrained(name, committed);
      try {
        const figures = await recipe.evaluate(model as never, data, settings as never);
        rows.push({ model: name, side: `genlab (${info.machine.backend}, ${info.machine.threads} thread${info.machine.threads === 1 ? "" : "s"})`, steps, seconds: info.training.seconds, figures: fig(figures), fidStd: fidSd(figures) });
      } finally {
        model.dispose();
      }
    } else if (!quick && guidance) {
      rows.push({ model: name, side: 'genlab: not committed yet', steps, seconds: NaN, figures: {}, fidStd: '–' });
    }
    // the twin: same settings, data as float32 files
    const kept = path.join(twinDir, `${name}${quick ? '-quick' : ''}.json`);
    const outputs = ['samples.f32', ...(guidance ?? []).map((w) => `guided-${w}.f32`)];
    const keptFile = (o: string) => (o === 'samples.f32' ? `${kept}.f32` : `${kept}.${o}`); // the samples where earlier runs kept them
    // the network genlab builds from these settings: the twin refuses to train one of another size
    const built = recipe.build(settings as never, data);
    const count = genlabParameters(built);
    built.dispose();
    let out: { torch: string; seconds: number; steps: number; parameters?: number; [k: string]: unknown };
    if (reuse && [kept, ...outputs.map(keptFile)].every((f) => fs.existsSync(f))) {
      out = JSON.parse(fs.readFileSync(kept, 'utf8'));
      for (const o of outputs) fs.copyFileSync(keptFile(o), path.join(dir, o));
      console.log(`${name}: the PyTorch twin's run of ${out.date} (${kept})`);
    } else {
      fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings));
      fs.writeFileSync(path.join(dir, 'train.f32'), Buffer.from((data.train.images.dataSync() as Float32Array).buffer));
      fs.writeFileSync(path.join(dir, 'held.f32'), Buffer.from((data.heldOut.images.dataSync() as Float32Array).buffer));
      fs.writeFileSync(path.join(dir, 'labels.i32'), Buffer.from(Int32Array.from(data.train.labels).buffer));
      console.log(`${name}: PyTorch twin training (${steps} steps)${count === null ? '' : `; genlab's network has ${count} parameters`}...`);
      out = { ...(runTwin('pretrained.py', [name, dir, ...(count === null ? [] : [String(count)])]) as typeof out), date: new Date().toISOString() };
      fs.mkdirSync(twinDir, { recursive: true });
      fs.writeFileSync(kept, JSON.stringify(out));
      for (const o of outputs) fs.copyFileSync(path.join(dir, o), keptFile(o));
    }
    if (count !== null) {
      if (out.parameters !== count) throw new Error(`${name}: the twin's network has ${out.parameters} parameters, genlab's ${count}`);
      console.log(`${name}: parameters: genlab ${count}, PyTorch twin ${out.parameters}`);
      parameters = { genlab: count, twin: out.parameters };
    }
    const x = readDigits(path.join(dir, 'samples.f32'));
    try {
      const figures = await judgeSamples(fixedSamples(x), data.heldOut, settings.evaluation, `${name} (PyTorch)`);
      const extra = Object.fromEntries(Object.entries(out).filter(([k, v]) => typeof v === 'number' && k.startsWith('heldOut'))) as Record<string, number>;
      // a class-conditional twin: the judge reads its guided digits (perClass of each digit, per w) as digitGuidanceTable
      const guided = guidance
        ? guidanceFigures(await digitGuidanceTable({ sample: async (_n, o) => tf.tidy(() => readDigits(path.join(dir, `guided-${o.guidance}.f32`)).reshape([-1, 28, 28, 1])) }, { guidance, perClass: settings.evaluation.perClass }))
        : [];
      rows.push({ model: name, side: `PyTorch ${out.torch} (1 thread)`, steps: out.steps, seconds: out.seconds, figures: { ...fig(figures), ...fig(guided), ...extra }, fidStd: fidSd(figures) });
    } finally {
      x.dispose();
    }
  } finally {
    data.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { name, rows, settings, guidance, parameters };
}

const f = (v: number | undefined, digits = 2) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

function table(rows: Row[]): string {
  const head = '| model | trained by | steps | train s | recognised | vs real | classes | largest share | judge-FID (sd) | real-vs-real FID | indep.-pixel FID | held-out ELBO |';
  const lines = rows.map((r) => {
    const q = r.figures;
    return `| ${r.model} | ${r.side} | ${r.steps} | ${f(r.seconds, 0)} | ${f(q.samplesRecognised, 3)} | ${f(q.samplesRecognised / q.realRecognised, 2)} | ${q.samplesClassesPresent ?? '–'} | ${f(q.samplesLargestClassShare, 3)} | ${f(q.samplesFid, 1)} (${r.fidStd}) | ${f(q.realFid, 1)} | ${f(q.independentPixelsFid, 0)} | ${f(q.heldOutElbo, 1)} |`;
  });
  return [head, '|---|---|---|---|---|---|---|---|---|---|---|---|', ...lines].join('\n');
}

/** The section of a class-conditional model: the table, the guidance table (a column per side), the settings. */
function section(c: Comparison, quick: boolean): string {
  const s = c.settings;
  const e = s.evaluation;
  const w = c.guidance ?? [];
  const pct = (v: number | undefined) => (v === undefined ? '–' : `${(100 * v).toFixed(1)}%`);
  const phases = s.fit.phases.map((p) => `${p.epochs} epochs at ${p.learningRate}`).join(', then ');
  const params = c.parameters ? `${c.parameters.genlab} parameters on both sides (checked before the twin trains)` : 'parameters not counted';
  return [
    `## ${c.name}${quick ? ' (quick settings: a test of the twin)' : ''}`,
    '',
    `${findRecipe(c.name)!.title}. Reproduce: \`node scripts/build.js && node dist/bench/quality/pretrained.js --models ${c.name}${quick ? ' --quick' : ''} --write\`.`,
    `Both sides: the recipe's network, ${params}, the same ${c.rows[c.rows.length - 1].steps} steps (Adam, batch ${s.fit.batchSize}: ${phases}) on the same`,
    `training digits${s.ddpm?.weightAverage ? `, sampling with a moving average of the weights (decay ${s.ddpm.weightAverage})` : ''}; ${e.samples} unconditional samples`,
    `${e.sampler === 'ancestral' ? `by the ancestral sampler (all T steps` : `by DDIM (${e.ddimSteps} steps, eta 0`}, the predicted x0 clipped to the data range), judged like the models of the first table (digitQualityTable`,
    `against the held-out digits); then, per guidance weight w, by DDIM (${e.ddimSteps} steps, eta 0), ${e.perClass} samples of each digit asked for (eps = (1 + w) eps_cond - w eps_uncond, the same seed for every w): the`,
    `fraction the judge names as the digit asked for (digitGuidanceTable). genlab's row is the committed checkpoint`,
    `re-measured; "not committed yet" until pretrained/${c.name} exists.`,
    '',
    table(c.rows),
    '',
    `| guidance w | ${c.rows.map((r) => r.side).join(' | ')} |`,
    `|---|${c.rows.map(() => '---|').join('')}`,
    ...w.map((g) => `| ${g} | ${c.rows.map((r) => pct(r.figures[`guidedAccuracyW${g}`])).join(' | ')} |`),
  ].join('\n');
}

async function main(): Promise<void> {
  await ready();
  const env = await describeEnvironment();
  const quick = process.argv.includes('--quick');
  const i = process.argv.indexOf('--models');
  const models = (i >= 0 ? process.argv[i + 1].split(',') : MODELS) as PretrainedName[];
  const compared: Comparison[] = [];
  for (const name of models) compared.push(await compare(name, quick));
  // the unconditional models share the table; a class-conditional one has its own section
  const plain = compared.filter((c) => !c.guidance);
  const rows = plain.flatMap((c) => c.rows);
  if (plain.length > 0) {
    const report = `# Pretrained generative models: genlab against PyTorch twins

Generated by \`bench/quality/pretrained.ts\` on ${new Date().toISOString().slice(0, 10)} (${env.cpu}). Reproduce:

\`\`\`sh
node scripts/build.js && node dist/bench/quality/pretrained.js --models ${plain.map((c) => c.name).join(',')}${quick ? ' --quick' : ''} --write
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
  for (const c of compared.filter((c) => c.guidance)) publishSection(c.name, section(c, quick), 'RESULTS-pretrained.md');
}

runMain(main);
