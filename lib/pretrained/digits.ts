/**
 * Internal: what the digit recipes (lib/pretrained/recipes/) share -- loadMnist's fixed split of the bundled digits
 * (the judge's: 8000 train / 2000 held out) and the quality figures of generated digits beside their baselines.
 */
import { loadMnist } from '../../datasets/mnist';
import type { ImageDataset } from '../../datasets/common';
import { digitQualityTable, type DigitQualityRow } from '../judge/quality';
import type { DigitGuidanceRow } from '../judge/guidance';
import type { Generative } from '../core/model';
import { pretrained } from './registry';
import { joinHistories, type QualityFigure, type RecipeData } from './recipe';
import type { History } from '../train/loop';

/** The split a digit recipe trains and judges on (recorded in its settings). */
export type DigitSplit = { trainSize: number; splitSeed: number; trainLimit: number | null; heldOutLimit: number | null };

/** The training digits and the held-out ones. */
export interface DigitData extends RecipeData {
  train: ImageDataset;
  heldOut: ImageDataset;
}

/** Loads loadMnist's split `s` (limits for quick runs): the training and held-out digits, flat `[n, 784]` in [0, 1]. */
export async function loadDigitSplit(s: DigitSplit): Promise<DigitData> {
  const split = { trainSize: s.trainSize, seed: s.splitSeed };
  const train = await loadMnist({ split: 'train', ...split, limit: s.trainLimit ?? undefined });
  const heldOut = await loadMnist({ split: 'test', ...split, limit: s.heldOutLimit ?? undefined });
  return {
    train,
    heldOut,
    description: { train: train.source, heldOut: heldOut.source, trainDigits: train.labels.length, heldOutDigits: heldOut.labels.length },
    dispose() {
      train.images.dispose();
      heldOut.images.dispose();
    },
  };
}

/** How a recipe judges its model's samples: how many, their seed, the bootstrap resamples of their FID. */
export type SampleJudging = { samples: number; sampleSeed: number; bootstrap: number };

/**
 * Draws `j.samples` digits from `model` (seeded) and judges them with the pretrained digit judge beside the real-digit
 * and independent-pixel baselines (digitQualityTable against the held-out digits): {@link sampleQualityFigures}.
 */
export async function judgeSamples(model: Generative, reference: ImageDataset, j: SampleJudging, label: string): Promise<QualityFigure[]> {
  const samples = await model.sample(j.samples, { seed: j.sampleSeed });
  const judge = await pretrained('digit-classifier');
  try {
    return sampleQualityFigures(await digitQualityTable(samples, { reference: reference.images, judge, bootstrap: j.bootstrap, label }));
  } finally {
    samples.dispose();
    judge.dispose();
  }
}

/** A FID's tolerance: 5% of it (backends round differently; the samples and the bootstrap are seeded). */
const fidTolerance = (v: number) => Math.max(0.05 * v, 0.1);

/**
 * The quality figures of a generative digit model from its {@link digitQualityTable} rows `[model, real digits,
 * independent pixels]`: the model's recognised fraction, classes present, largest class share and FID, then the two
 * baselines' recognised fraction and FID, measured alike (same judge, reference half, number of digits).
 */
export function sampleQualityFigures(rows: DigitQualityRow[], confidence = 0.9): QualityFigure[] {
  const [model, real, pixels] = rows;
  const of = `${model.n} samples`;
  const vs = `against ${model.referenceSize} held-out digits`;
  return [
    { name: 'samplesRecognised', value: model.recognised, tolerance: 0.02, description: `fraction of ${of} the judge recognises with confidence >= ${confidence}` },
    { name: 'samplesClassesPresent', value: model.classesPresent, tolerance: 0, description: `digit classes (of 10) among the recognised ${of}` },
    { name: 'samplesLargestClassShare', value: model.largestClassShare, tolerance: 0.02, description: `the largest class's share of ${of} (0.1 when balanced)` },
    { name: 'samplesFid', value: model.fid, tolerance: fidTolerance(model.fid), description: `judge-FID of ${of} ${vs} (bootstrap sd ${model.fidStd.toFixed(2)})` },
    { name: 'realRecognised', value: real.recognised, tolerance: 0.005, description: `baseline: fraction of ${real.n} other held-out digits recognised` },
    { name: 'realFid', value: real.fid, tolerance: fidTolerance(real.fid), description: `baseline: judge-FID of ${real.n} other held-out digits ${vs} (bootstrap sd ${real.fidStd.toFixed(2)})` },
    { name: 'independentPixelsFid', value: pixels.fid, tolerance: fidTolerance(pixels.fid), description: `baseline: judge-FID of ${pixels.n} independent-pixel digits ${vs} (bootstrap sd ${pixels.fidStd.toFixed(2)})` },
  ];
}

/**
 * The guidance figures of a class-conditional digit model from its {@link digitGuidanceTable} rows: per weight w,
 * the fraction of the samples the judge names as the digit asked for (`guidedAccuracyW<w>`).
 */
export function guidanceFigures(rows: DigitGuidanceRow[]): QualityFigure[] {
  return rows.map((r) => ({
    name: `guidedAccuracyW${r.guidance}`,
    value: r.accuracy,
    tolerance: 0.03,
    description: `guidance w = ${r.guidance} (eps = (1 + w) eps_cond - w eps_uncond): fraction of ${r.n} samples (${r.n / 10} of each digit asked for) the judge names as that digit`,
  }));
}

/** A recipe's schedule: one fit per phase, each continuing the one before (epoch numbers go on). */
export type Phases = { epochs: number; learningRate: number }[];

/** Runs `fitOne` for each phase in turn and joins their histories. */
export async function fitInPhases(phases: Phases, fitOne: (phase: Phases[number]) => Promise<History>): Promise<History> {
  const histories: History[] = [];
  for (const phase of phases) histories.push(await fitOne(phase));
  return joinHistories(histories);
}
