/**
 * The committed 'latent-ddpm-digits' against its PyTorch twin (issue #25, items 1 and 6): the twin
 * (bench/quality/latent-ddpm.py) trains the same class-conditional MLP on the same scaled codes of 'vae-digits' with
 * the recipe's settings and steps, and samples unconditional and guided codes; genlab decodes them with the same VAE
 * decoder and scores them exactly as the recipe scores genlab's model (judgeSamples: recognised fraction, classes,
 * largest class share, judge-FID beside real digits and independent pixels; digitGuidanceTable: how often the judge
 * names the digit asked for at each guidance weight). genlab's row: the committed model re-measured.
 *
 * Run (from the repository root):
 *   node scripts/build.js && node dist/bench/quality/latent-ddpm.js [--quick] [--write]
 * `--write` puts the table into bench/quality/RESULTS-pretrained.md, between its latent-ddpm-digits markers (added at
 * the end when absent). `--quick`: the recipe's quick settings for the twin (a test of the twin, seconds).
 * PyTorch: see bench/peer-python.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ready, tf } from '../../lib/engine/backend';
import { pretrained, pretrainedInfo, findRecipe } from '../../lib/pretrained/registry';
import { judgeSamples, guidanceFigures, loadDigitSplit, type DigitSplit } from '../../lib/pretrained/digits';
import { digitGuidanceTable } from '../../lib/judge/guidance';
import type { QualityFigure } from '../../lib/pretrained/recipe';
import { peerPython, PEER_PYTHON_HOW } from '../peer-python';
import { publishSection, runMain } from './common';

const NAME = 'latent-ddpm-digits';

const fig = (figures: QualityFigure[]) => Object.fromEntries(figures.map((q) => [q.name, q.value]));

async function main(): Promise<void> {
  await ready();
  const quick = process.argv.includes('--quick');
  const python = peerPython();
  if (!python) throw new Error(`no Python with torch: ${PEER_PYTHON_HOW}`);
  const settings = findRecipe(NAME)!.settings(quick) as unknown as {
    data: DigitSplit;
    fit: { batchSize: number; phases: { epochs: number }[] };
    evaluation: { samples: number; sampleSeed: number; bootstrap: number; guidance: number[]; perClass: number; guidanceSeed: number };
  };
  const info = pretrainedInfo(NAME);
  const model = await pretrained(NAME); // its VAE encodes the digits and decodes the twin's codes; its scale
  const data = await loadDigitSplit(settings.data);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-twin-latent-'));
  try {
    const codes = model.encode(data.train.images);
    fs.writeFileSync(path.join(dir, 'codes.f32'), Buffer.from((await codes.data()).buffer));
    codes.dispose();
    fs.writeFileSync(path.join(dir, 'labels.i32'), Buffer.from(Int32Array.from(data.train.labels).buffer));
    fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings));
    const r = spawnSync(python, [path.join(__dirname, '..', '..', '..', 'bench', 'quality', 'latent-ddpm.py'), dir], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`latent-ddpm.py failed: ${r.stderr}`);
    const twin = JSON.parse(r.stdout.trim().split('\n').pop()!) as { torch: string; seconds: number; steps: number; loss: number };
    const L = model.latentDim;
    /** The twin's codes in `file`, decoded by the same VAE: [m, 28, 28, 1]. */
    const decoded = (file: string) => {
      const buf = fs.readFileSync(path.join(dir, file));
      const z = tf.tensor2d(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice(), [buf.byteLength / 4 / L, L]);
      const x = model.decode(z);
      z.dispose();
      return x;
    };
    const uncond = decoded('samples.f32');
    const twinSamples = await judgeSamples({ dataShape: [28, 28, 1], sample: async (n: number) => uncond.slice(0, n) }, data.heldOut, settings.evaluation, `${NAME} (PyTorch twin)`);
    uncond.dispose();
    const twinGuided = guidanceFigures(
      await digitGuidanceTable({ sample: async (_n, o) => decoded(`guided-${o.guidance}.f32`) }, { guidance: settings.evaluation.guidance, perClass: settings.evaluation.perClass }),
    );
    const ours = fig(info.quality);
    const theirs = fig([...twinSamples, ...twinGuided]);
    const steps = settings.fit.phases.reduce((s, p) => s + p.epochs, 0) * Math.ceil(data.train.labels.length / settings.fit.batchSize);
    const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
    const row = (side: string, f: Record<string, number>, secs: number) =>
      `| ${side} | ${pct(f.samplesRecognised)} | ${f.samplesClassesPresent} | ${pct(f.samplesLargestClassShare)} | ${f.samplesFid.toFixed(1)} | ` +
      settings.evaluation.guidance.map((w) => pct(f[`guidedAccuracyW${w}`])).join(' | ') + ` | ${secs.toFixed(0)} |`;
    const report = [
      `## ${NAME}${quick ? ' (quick settings: a test of the twin)' : ''}`,
      '',
      `${info.architecture}. Both sides: the recipe's settings (${steps} steps of batch ${settings.fit.batchSize}), the same scaled codes of the ` +
        `8000 training digits, the same VAE decoder and the same judge; ${settings.evaluation.samples} unconditional samples (ancestral) judged against ` +
        `of the 2000 held-out digits (digitQualityTable's reference half); guidance: ${settings.evaluation.perClass} samples of each digit asked for per weight w, eps = (1 + w) eps_cond - w eps_uncond. ` +
        `genlab: the committed model (${info.machine.backend}, ${info.training.seconds} s training); twin: PyTorch ${twin.torch}, 1 thread.`,
      '',
      `| model | recognised | classes | largest class | judge-FID | ${settings.evaluation.guidance.map((w) => `asked digit, w = ${w}`).join(' | ')} | train s |`,
      `| --- | --- | --- | --- | --- | ${settings.evaluation.guidance.map(() => '---').join(' | ')} | --- |`,
      row('genlab (committed)', ours, info.training.seconds),
      row('PyTorch twin', theirs, twin.seconds),
      `| real held-out digits | ${pct(ours.realRecognised)} | 10 | | ${ours.realFid.toFixed(1)} | ${settings.evaluation.guidance.map(() => '').join(' | ')} | |`,
      `| independent pixels | | | | ${ours.independentPixelsFid.toFixed(1)} | ${settings.evaluation.guidance.map(() => '').join(' | ')} | |`,
    ].join('\n');
    publishSection(NAME, report, 'RESULTS-pretrained.md');
  } finally {
    model.dispose();
    data.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

runMain(main);
