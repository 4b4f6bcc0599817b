/**
 * The digit judge: a small convolutional classifier trained by genlab on the training digits (`DigitClassifier`,
 * shipped pretrained as `'digit-classifier'`), and the sample-quality measures built on it: recognised fraction,
 * classes present and the Frechet distance of its features ("FID on MNIST"), always beside the real-digit and
 * independent-pixel baselines (`digitQualityTable`).
 */
export { DigitClassifier } from './classifier';
export type { DigitClassifierOptions, DigitClassifierFitOptions, DigitClassifierEpochLogs, DigitClassifierHistory, Labels, LabelledData } from './classifier';
export { digitQuality, digitQualityTable } from './quality';
export type { DigitQuality, DigitQualityOptions, DigitQualityRow, DigitQualityTableOptions } from './quality';
export { digitGuidanceTable } from './guidance';
export type { DigitGuidanceOptions, DigitGuidanceRow, GuidedDigitModel } from './guidance';
export { frechetDistance } from './frechet';
export type { GaussianFit } from './frechet';
