/**
 * The benchmark workloads of bench/engines.ts by name, with what the harness needs before it runs anything (no
 * tfjs here: the harness process stays light): each workload's default data size and a rough cost, for the grid's
 * time estimate. genlab's side of each is in bench/workloads.ts, the PyTorch twin in bench/peers/<name>.py, the
 * Keras twin (where there is one) in bench/peers/keras_<name>.py.
 */

/** Names of the workloads, in the order the harness runs them and the table lists them. */
export const WORKLOADS = [
  'rbm', 'dense_vae', 'conv_vae', 'dense_gan', 'dcgan', 'ddpm_mlp', 'ddpm_unet', 'ddpm_unet_notebook', 'conv_ebm',
] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

/** The contenders: genlab's two engines and the two peers. */
export const CONTENDERS = ['wasm', 'tensorflow', 'torch', 'keras'] as const;
export type Contender = (typeof CONTENDERS)[number];

/** What the harness knows of a workload before running it. */
export interface WorkloadPlan {
  /** What the table's row stands for. */
  title: string;
  /** Digits per epoch by default (the first of the 10k): fewer for the slow ones, so that the grid fits ~60-90 minutes. */
  rows: number;
  /**
   * Rough wall seconds of one epoch on 1000 digits at 1 thread on a quiet 2-core machine, per contender (absent: no
   * twin for it). Only for the time estimate printed before the grid starts; from bench/RESULTS.md where measured.
   */
  secondsPer1k: Partial<Record<Contender, number>>;
}

export const PLAN: Record<WorkloadName, WorkloadPlan> = {
  // RESULTS.md [A]
  rbm: { title: 'RBM 784-500, CD-1, batch 100', rows: 10000, secondsPer1k: { wasm: 0.08, tensorflow: 0.08, torch: 0.08, keras: 0.08 } },
  dense_vae: { title: 'dense VAE 784-512-512-20, batch 128', rows: 10000, secondsPer1k: { wasm: 0.14, tensorflow: 0.15, torch: 0.16, keras: 0.16 } },
  conv_vae: { title: "conv VAE (the Keras lecture's, latent 2), batch 128", rows: 10000, secondsPer1k: { wasm: 1.0, tensorflow: 1.0, torch: 1.0, keras: 1.0 } },
  // RESULTS.md [B] and [C] (one thread, before the addon's threads and the compiled steps)
  dense_gan: { title: "dense GAN (the course's), batch 128", rows: 10000, secondsPer1k: { wasm: 0.95, tensorflow: 0.81, torch: 0.57 } },
  dcgan: { title: 'DCGAN (the conv GAN defaults), batch 128', rows: 2000, secondsPer1k: { wasm: 9.3, tensorflow: 4.8, torch: 3.8 } },
  ddpm_mlp: { title: 'DDPM, MLP noise predictor, T = 300, batch 128', rows: 10000, secondsPer1k: { wasm: 0.05, tensorflow: 0.06, torch: 0.034 } },
  ddpm_unet: { title: "DDPM, U-Net 16-32-64 (the default, 'ddpm-digits'), T = 300, batch 128", rows: 2000, secondsPer1k: { wasm: 10.7, tensorflow: 6.8, torch: 3.1 } },
  // not measured before this harness: from the CPU seconds of a 256-digit run on a loaded machine (2026-12-08)
  ddpm_unet_notebook: { title: "DDPM, U-Net 8-16-32 (lecture 14's), T = 300, batch 128", rows: 2000, secondsPer1k: { wasm: 2.3, tensorflow: 2.6, torch: 1.5 } },
  conv_ebm: { title: "conv EBM ('ebm-digits'), K = 60 Langevin steps from noise, batch 128", rows: 2000, secondsPer1k: { wasm: 10.5, tensorflow: 6.4, torch: 6.3 } },
};
