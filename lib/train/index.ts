/**
 * The training loop every gradient- or CD-trained model plugs into: seeded shuffling, batches, progress,
 * divergence check, `onEpoch`, validation, early stopping, one {@link History} record, and the training state
 * that lets a second `fit` continue the first. Public here: what every `fit` takes and returns. The loop itself
 * (`runEpochs`, the option resolvers, `TrainingState`, compiled gradient steps) is plumbing for genlab's models:
 * lib/internal.ts (`genlab/internal`).
 */
export type { History, EarlyStoppingOptions, LoopFitOptions } from './loop';
