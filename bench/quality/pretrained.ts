/**
 * The pretrained generative models (lib/pretrained/recipes/) against their PyTorch twins (issue #25, item 6): each
 * twin (bench/quality/pretrained.py) trains the same network on the same digits with the same settings, steps and
 * seed as the recipe; its samples come back through a file and genlab's digit judge scores them exactly as the recipe
 * scores genlab's model (digitQualityTable against the 2000 held-out digits: recognised fraction, classes, largest
 * class share, judge-FID, beside real digits and independent pixels). genlab's row is the committed model's manifest
 * (pretrained/<name>/pretrained.json), re-measured here on the committed weights.
 *
 * Each model has a section of its own in the results, between `<!-- <name> -->` markers: what both sides ran and the
 * table. A class-conditional model's (its recipe's evaluation has `guidance` weights: 'ddpm-digits') adds
 * digitGuidanceTable's figure per weight w (the fraction of the samples the judge names as the digit asked for) on
 * both sides. The DDPM's and the EBM's twins check their network's parameter count against genlab's before they
 * train; the EBM's twin also loads genlab's initial weights and checks that its energies and grad_x E on probe
 * digits are genlab's (writeParityFiles).
 *
 * Run (from the repository root):
 *   node scripts/build.js && node dist/bench/quality/pretrained.js [--models vae-digits,gan-digits,ddpm-digits,ebm-digits] [--quick] [--reuse] [--pretrained <dir>] [--write]
 * Each twin's run is kept in build/twins/; `--reuse` scores a kept run again instead of training (a model not yet
 * committed has only its twin's row; a class-conditional one says so in its genlab row). `--pretrained <dir>` reads
 * the committed models from another `pretrained/` folder (e.g. a checkout where one was just trained).
 * `--write` puts into bench/quality/RESULTS-pretrained.md the sections of the models run (in place; the other models'
 * sections stay) and its head (the `about` section: what the tables mean). `--quick` runs the recipes' quick settings
 * (a test of the twin, seconds; twin rows only). PyTorch: see bench/peer-python.ts.
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
import { EnergyModel } from '../../lib/ebm/energy-model';
import { publishSection, runMain, runTwin } from './common';

/** The models compared: those with a recipe and a twin. */
const MODELS: PretrainedName[] = ['vae-digits', 'gan-digits', 'ddpm-digits', 'ebm-digits'];

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
  /** Parameters of genlab's network and of the twin's (the DDPM and the EBM). */
  parameters?: { genlab: number; twin: number };
  /** The EBM's check of its network: the largest differences from genlab's energies and grad_x E, same weights. */
  parity?: { energyDiff: number; gradDiff: number; probes: number };
}

/** genlab's parameter count of the recipe's network, for the twin to check; null for a model without one. */
function genlabParameters(model: unknown): number | null {
  if (model instanceof DDPM) return model.network.parameterCount;
  if (model instanceof EnergyModel) return model.network.countParams();
  return null;
}

/**
 * For the EBM's twin, the evidence that its network is genlab's: genlab's initial weights (network.getWeights() order,
 * concatenated: init.f32), probe digits (the first 16 training digits and 16 of uniform noise: probe.f32) and genlab's
 * energies (probe-energy.f32) and grad_x E (probe-grad.f32) there. The twin loads the weights and compares.
 */
function writeParityFiles(model: unknown, train: tf.Tensor, dir: string): void {
  if (!(model instanceof EnergyModel)) return;
  const put = (file: string, t: tf.Tensor) => fs.writeFileSync(path.join(dir, file), Buffer.from((t.dataSync() as Float32Array).buffer));
  tf.tidy(() => {
    put('init.f32', tf.concat(model.network.getWeights().map((w) => w.reshape([-1]))));
    const probe = tf.concat([train.slice([0, 0], [16, 784]), tf.randomUniform([16, 784], 0, 1, 'float32', 3)]).reshape([32, 28, 28, 1]);
    put('probe.f32', probe);
    put('probe-energy.f32', model.energy(probe));
    put('probe-grad.f32', model.score(probe).neg());
  });
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
  let parity: Comparison['parity'];
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
    try {
      writeParityFiles(built, data.train.images, dir);
    } finally {
      built.dispose();
    }
    let out: { torch: string; seconds: number; steps: number; parameters?: number; parity?: Comparison['parity']; [k: string]: unknown };
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
    parity = out.parity;
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
  return { name, rows, settings, guidance, parameters, parity };
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

/** The recipe's training phases in words: `10 epochs at 0.0002, then 2 epochs at 0.00005`. */
const phasesText = (s: TwinSettings) => s.fit.phases.map((p) => `${p.epochs} epochs at ${p.learningRate}`).join(', then ');

/** The recipe's EBM settings as far as the section describes them (lib/pretrained/recipes/ebm-digits.ts). */
type EbmSettings = {
  seed: number;
  network: { convFilters: number[]; convDenseUnits: number };
  fit: { langevin: { steps: number; stepSize: number; noise: number; gradientClip: number }; alpha: number; freshFraction: number };
};

/** The lines of a section that say what both sides ran: the recipe's steps and phases, and per kind of model its specifics. */
function settingsText(c: Comparison): string[] {
  const s = c.settings;
  const e = s.evaluation;
  const phases = phasesText(s);
  const steps = `the same ${c.rows[c.rows.length - 1].steps} steps (Adam, batch ${s.fit.batchSize}: ${phases}) on the same training digits`;
  if (c.name === 'ebm-digits') {
    const { seed, network: n, fit } = c.settings as unknown as EbmSettings;
    const lg = fit.langevin;
    const p = c.parity;
    return [
      `Both sides: the recipe's network (conv ${n.convFilters.join('-')} with 'same' padding, dense ${n.convDenseUnits}, SiLU), ` +
        `${c.parameters ? `${c.parameters.genlab} parameters on both sides (checked before the twin trains)` : 'parameters not counted'}` +
        (p ? `; genlab's initial weights loaded into the twin's network give the same energies (largest difference ${p.energyDiff.toExponential(1)}) and grad_x E (${p.gradDiff.toExponential(1)}) on ${p.probes} probe digits (16 training digits, 16 of noise);` : ';'),
      `${steps}; each step's negatives are K = ${lg.steps} Langevin steps x <- clip(x - ${lg.stepSize} clip(grad E, +-${lg.gradientClip}) + ${lg.noise} z, 0, 1)`,
      `from uniform noise (freshFraction ${fit.freshFraction}: no replay buffer); the loss mean E(x+) - mean E(x-) + ${fit.alpha} (mean E(x+)^2 + mean E(x-)^2).`,
      `Samples: ${e.samples} chains from uniform noise run as EnergyModel.sample runs them for images (60 Langevin steps, step 10, gradient clip`,
      `0.03, noise 0.005), judged against the held-out digits. Seed ${seed} on both sides, each library drawing with its own generator`,
      `(different initial weights).`,
    ];
  }
  return [`Both sides: the recipe's settings, ${steps}; ${e.samples} samples (seed ${e.sampleSeed}) judged against the held-out digits.`];
}

/** The section of an unconditional model: what was run, then its table. */
function plainSection(c: Comparison, quick: boolean, generated: string): string {
  return [
    `## ${c.name}${quick ? ' (quick settings: a test of the twin)' : ''}`,
    '',
    `${findRecipe(c.name)!.title}. ${generated} Reproduce: \`node scripts/build.js && node dist/bench/quality/pretrained.js --models ${c.name}${quick ? ' --quick' : ''} --write\`.`,
    ...settingsText(c),
    '',
    table(c.rows),
  ].join('\n');
}

/** The section of a class-conditional model: the table, the guidance table (a column per side), the settings. */
function guidedSection(c: Comparison, quick: boolean, generated: string): string {
  const s = c.settings;
  const e = s.evaluation;
  const w = c.guidance ?? [];
  const pct = (v: number | undefined) => (v === undefined ? '–' : `${(100 * v).toFixed(1)}%`);
  const phases = phasesText(s);
  const params = c.parameters ? `${c.parameters.genlab} parameters on both sides (checked before the twin trains)` : 'parameters not counted';
  return [
    `## ${c.name}${quick ? ' (quick settings: a test of the twin)' : ''}`,
    '',
    `${findRecipe(c.name)!.title}. ${generated} Reproduce: \`node scripts/build.js && node dist/bench/quality/pretrained.js --models ${c.name}${quick ? ' --quick' : ''} --write\`.`,
    `Both sides: the recipe's network, ${params}, the same ${c.rows[c.rows.length - 1].steps} steps (Adam, batch ${s.fit.batchSize}: ${phases}) on the same`,
    `training digits${s.ddpm?.weightAverage ? `, sampling with a moving average of the weights (decay ${s.ddpm.weightAverage})` : ''}; ${e.samples} unconditional samples`,
    `${e.sampler === 'ancestral' ? `by the ancestral sampler (all T steps` : `by DDIM (${e.ddimSteps} steps, eta 0`}, the predicted x0 clipped to the data range), judged like the other models' (digitQualityTable`,
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

/** The head of RESULTS-pretrained.md: what every model's table means. */
const ABOUT = `# Pretrained generative models: genlab against PyTorch twins

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

Each model has its own section below (between \`<!-- <name> -->\` markers), which \`--write\` replaces when the
script runs that model (\`--models <name>\`); the other sections stay as they are.`;

async function main(): Promise<void> {
  await ready();
  const env = await describeEnvironment();
  const quick = process.argv.includes('--quick');
  const i = process.argv.indexOf('--models');
  const models = (i >= 0 ? process.argv[i + 1].split(',') : MODELS) as PretrainedName[];
  const compared: Comparison[] = [];
  for (const name of models) compared.push(await compare(name, quick));
  // the explanation every table shares, then each model's own section (the other models' sections stay)
  publishSection('about', ABOUT, 'RESULTS-pretrained.md');
  const generated = `Generated by \`bench/quality/pretrained.ts\` on ${new Date().toISOString().slice(0, 10)} (${env.cpu}).`;
  for (const c of compared) publishSection(c.name, c.guidance ? guidedSection(c, quick, generated) : plainSection(c, quick, generated), 'RESULTS-pretrained.md');
}

runMain(main);
