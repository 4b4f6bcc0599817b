/**
 * The training loop every gradient- or CD-trained model plugs into: seeded shuffling, batches, progress,
 * divergence check, `onEpoch`, validation, early stopping, one {@link History} record, and the
 * {@link TrainingState} that lets a second `fit` continue the first.
 */
export * from './loop';
export * from './state';
