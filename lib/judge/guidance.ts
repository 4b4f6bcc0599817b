/**
 * Does a class-conditional model draw the digit it is asked for? For each guidance weight w, the model draws the same
 * number of samples of every digit (same seed for every w) and the digit judge reads them: how often it names the
 * digit asked for, and how often it is confident at all. Classifier-free guidance (Ho & Salimans 2022) should raise
 * the first with w, and at large w the samples grow typical, then overdone.
 */
import { tf, ready } from '../engine/backend';
import { assertFiniteNumber, assertKnownOptions, assertPositiveInteger, describeValue, optionKeys } from '../core/validate';
import { pretrained } from '../pretrained/registry';
import { DigitClassifier } from './classifier';

/** A model that samples the digits asked for with guidance (a class-conditional DDPM or LatentDiffusion). */
export interface GuidedDigitModel {
  sample(n: number, opts: { labels: number[]; guidance: number; seed: number }): Promise<tf.Tensor>;
}

/** Options of {@link digitGuidanceTable}. */
export interface DigitGuidanceOptions {
  /** Guidance weights w to compare (each >= 0). Default `[0, 1, 3, 7]`. */
  guidance?: number[];
  /** Samples of each digit per weight, integer >= 1. Default 20 (200 per weight). */
  perClass?: number;
  /** Seed of every weight's samples (the same for all, so the rows differ by w only). Default 0. */
  seed?: number;
  /** The judge. Default: `await pretrained('digit-classifier')`, loaded for the call and freed after it. */
  judge?: DigitClassifier;
  /** The confidence a digit needs to count as recognised, in (0, 1]. Default 0.9 (as digitQuality). */
  confidence?: number;
}
const GUIDANCE_KEYS = optionKeys<DigitGuidanceOptions>({ guidance: true, perClass: true, seed: true, judge: true, confidence: true });

/** One row of {@link digitGuidanceTable} (a plain record: `table(frame(rows))` shows them). */
export type DigitGuidanceRow = {
  /** The guidance weight w (eps = (1 + w) eps_cond - w eps_uncond). */
  guidance: number;
  /** Fraction of the samples the judge names (most probable class) as the digit asked for. */
  accuracy: number;
  /** Fraction recognised as the digit asked for with confidence >= `confidence`. */
  recognised: number;
  /** Samples judged (10 x perClass). */
  n: number;
};

/**
 * For each guidance weight, `perClass` samples of each digit 0..9 from `model.sample(n, { labels, guidance, seed })`
 * (labels 0, 0, .., 1, 1, .., 9), judged: the fraction named as the digit asked for, and the fraction so named with
 * confidence. Show it with `table(rows)`.
 */
export async function digitGuidanceTable(model: GuidedDigitModel, opts: DigitGuidanceOptions = {}): Promise<DigitGuidanceRow[]> {
  assertKnownOptions('digitGuidanceTable', opts, GUIDANCE_KEYS);
  if (model === null || typeof model !== 'object' || typeof model.sample !== 'function') {
    throw new TypeError(`model must be a class-conditional model with sample(n, { labels, guidance, seed }); got ${describeValue(model)}`);
  }
  const weights = opts.guidance ?? [0, 1, 3, 7];
  if (!Array.isArray(weights) || weights.length === 0) throw new TypeError(`guidance must be a non-empty array of weights; got ${describeValue(weights)}`);
  weights.forEach((w, i) => assertFiniteNumber(`guidance[${i}]`, w, { min: 0 }));
  const perClass = opts.perClass ?? 20;
  assertPositiveInteger('perClass', perClass);
  const seed = opts.seed ?? 0;
  assertFiniteNumber('seed', seed);
  const confidence = opts.confidence ?? 0.9;
  assertFiniteNumber('confidence', confidence, { min: 0, max: 1, exclusiveMin: true });
  if (opts.judge !== undefined && !(opts.judge instanceof DigitClassifier)) throw new TypeError(`judge must be a DigitClassifier; got ${describeValue(opts.judge)}`);
  await ready();
  const judge = opts.judge ?? (await pretrained('digit-classifier'));
  try {
    const asked = Array.from({ length: 10 * perClass }, (_, i) => Math.floor(i / perClass)); // 0 0 .. 1 1 .. 9
    const rows: DigitGuidanceRow[] = [];
    for (const w of weights) {
      const x = await model.sample(asked.length, { labels: asked, guidance: w, seed });
      try {
        const p = judge.predict(x); //                                                   [n, classes] probabilities
        const [best, conf] = tf.tidy(() => [p.argMax(1), p.max(1)]);
        const named = best.dataSync();
        const sure = conf.dataSync();
        tf.dispose([p, best, conf]);
        let hit = 0;
        let confident = 0;
        asked.forEach((c, i) => {
          if (named[i] === c) hit++;
          if (named[i] === c && sure[i] >= confidence) confident++;
        });
        rows.push({ guidance: w, accuracy: hit / asked.length, recognised: confident / asked.length, n: asked.length });
      } finally {
        x.dispose();
      }
    }
    return rows;
  } finally {
    if (opts.judge === undefined) judge.dispose();
  }
}
