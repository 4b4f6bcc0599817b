/**
 * Recipe of `'ddpm-digits'`: a class-conditional pixel DDPM (the small residual U-Net) on the 8000 training digits of
 * loadMnist's fixed split (the judge's), with label dropout for classifier-free guidance, judged on the 2000 held out.
 */
import { DDPM } from '../../diffusion/ddpm';
import { digitGuidanceTable } from '../../judge/guidance';
import type { PretrainRecipe, QualityFigure } from '../recipe';
import { fitInPhases, guidanceFigures, judgeSamples, loadDigitSplit, type DigitData, type DigitSplit, type Phases } from '../digits';

/** The recipe's settings (recorded in the manifest). */
type Settings = {
  /** Seed of the weights and of the training draws. */
  seed: number;
  /** loadMnist's split of the bundled digits: `trainSize` train, the rest held out, by a permutation of `splitSeed`. */
  data: DigitSplit;
  /** The DDPM: the U-Net on [28, 28, 1] pixels in [0, 1], class-conditional on the digit. */
  ddpm: {
    dataShape: [number, number, number];
    dataRange: [number, number];
    timesteps: number;
    betaSchedule: { kind: 'linear'; start: number; end: number };
    network: { kind: 'unet'; channels: [number, number, number]; embedDim: number; groups: number };
    classes: number;
    labelDropout: number;
    weightAverage: number;
  };
  /** Adam, one fit per phase (a second fit continues the first). */
  fit: { batchSize: number; phases: Phases };
  /**
   * Unconditional samples judged beside the baselines, by the ancestral sampler (all T steps: the DDPM as Ho et al.
   * sample it; count, seed); then, per guidance weight w, `perClass` samples of each digit by DDIM with `ddimSteps`
   * steps: how often the judge names the digit asked for.
   */
  evaluation: { samples: number; sampleSeed: number; sampler: 'ancestral'; ddimSteps: number; bootstrap: number; guidance: number[]; perClass: number; guidanceSeed: number };
};

export const recipe: PretrainRecipe<DDPM, DigitData, Settings> = {
  name: 'ddpm-digits',
  dataRange: [0, 1],
  title: 'a class-conditional pixel DDPM of digits (small U-Net, classifier-free guidance)',
  description:
    'A DDPM on 28x28 grey levels mapped to [-1, 1] (Ho et al. 2020): the residual U-Net of lecture 14 (channels ' +
    '16-32-64 at 28, 14 and 7 pixels, GroupNorm, a sinusoidal step embedding through a small MLP plus a learned ' +
    'embedding of the digit), T = 300 linear betas 1e-4 .. 0.02, class-conditional with label dropout 0.1 so one ' +
    'network gives eps(x, t, digit) and the unconditional eps(x, t) of classifier-free guidance (Ho & Salimans 2022). ' +
    "Trained with Adam (batch 128) on the 8000 training digits of loadMnist's fixed split (seed 0, the judge's); the " +
    'held-out digits are scored each epoch for the record only. `sample(n, { seed })` draws unconditional digits, ' +
    '`sample(n, { labels, guidance })` the digits asked for with eps = (1 + w) eps_cond - w eps_uncond; [n, 28, 28, 1] ' +
    'in [0, 1]. 170 epochs: 140 at 1e-3, then 30 at 2e-4 (10 710 steps); a moving average of the weights (decay 0.999, ' +
    'lib/train/average.ts) is what samples. Time: the U-Net step is the cost: 101 minutes with native TensorFlow on 2 ' +
    'threads beside other jobs on the same 2 CPU cores (0.55 s a step; about 75 minutes alone, at 0.42 s). The ' +
    'unconditional samples are judged as drawn by the ancestral sampler (all 300 steps), the guided ones by DDIM (25 ' +
    "steps); a GPU takes milliseconds per step and would train the course's wider U-Net (64-128-256) for hundreds of " +
    'epochs in that time.',
  settings: (quick) => ({
    seed: 1,
    data: { trainSize: 8000, splitSeed: 0, trainLimit: quick ? 64 : null, heldOutLimit: quick ? 64 : null },
    ddpm: {
      dataShape: [28, 28, 1],
      dataRange: [0, 1],
      timesteps: 300,
      betaSchedule: { kind: 'linear', start: 1e-4, end: 0.02 },
      network: { kind: 'unet', channels: quick ? [4, 8, 8] : [16, 32, 64], embedDim: quick ? 8 : 64, groups: quick ? 2 : 8 },
      classes: 10,
      labelDropout: 0.1,
      weightAverage: 0.999,
    },
    fit: { batchSize: quick ? 32 : 128, phases: quick ? [{ epochs: 1, learningRate: 1e-3 }] : [{ epochs: 140, learningRate: 1e-3 }, { epochs: 30, learningRate: 2e-4 }] },
    evaluation: { samples: quick ? 20 : 300, sampleSeed: 11, sampler: 'ancestral', ddimSteps: quick ? 3 : 25, bootstrap: quick ? 2 : 10, guidance: [0, 1, 3, 7], perClass: quick ? 1 : 5, guidanceSeed: 12 },
  }),

  data: (s) => loadDigitSplit(s.data),

  build: (s) => new DDPM({ ...s.ddpm, seed: s.seed }),

  fit: (model, d, s, ctx) =>
    fitInPhases(s.fit.phases, (phase) =>
      model.fit(d.train.images, { ...phase, batchSize: s.fit.batchSize, labels: d.train.labels, validation: d.heldOut.images, validationLabels: d.heldOut.labels, progress: ctx.progress }),
    ),

  async evaluate(model, d, s): Promise<QualityFigure[]> {
    const e = s.evaluation;
    // the unconditional figures by the ancestral chain (T steps); the guidance table by DDIM with e.ddimSteps steps,
    // which would otherwise take minutes (eight network passes per sample and step: two per guided draw, 4 weights)
    const ddim = { sample: (n: number, o: { seed?: number; labels?: number[]; guidance?: number }) => model.sample(n, { ...o, sampler: 'ddim', steps: e.ddimSteps }), dataShape: model.dataShape };
    const guided = await digitGuidanceTable(ddim, { guidance: e.guidance, perClass: e.perClass, seed: e.guidanceSeed });
    return [...(await judgeSamples(model, d.heldOut, e, 'ddpm-digits')), ...guidanceFigures(guided)];
  },

  load: (dir) => DDPM.load(dir),
};
