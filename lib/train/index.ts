/**
 * The training loop every gradient- or CD-trained model plugs into: seeded shuffling, batches, progress,
 * divergence check, `onEpoch`, validation, early stopping and one history record.
 */
export * from './loop';
