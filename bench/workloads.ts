/**
 * genlab's side of each benchmark workload: build the model with genlab's public API, train `epochs` epochs on
 * the given data, and report seconds per epoch. Each workload has a PyTorch twin in bench/peers/ that does the
 * same arithmetic (same architecture, batch size, optimiser and loss; the twins are the lean loops a user would
 * write, so where genlab's fit does more by default, such as its per-epoch metrics, genlab pays for it).
 */
import { tf } from '../lib/engine/backend';
import { BernoulliRBM } from '../lib/rbm/bernoulli';
import { fusedAdam } from '../lib/engine/fused-adam';
import { Random } from '../lib/engine/random';
import { VAE } from '../lib/vae/vae';
import { GAN } from '../lib/gan/gan';
import { DDPM } from '../lib/diffusion/ddpm';
import { EnergyModel } from '../lib/ebm/energy-model';
import { recipe as ebmDigits } from '../lib/pretrained/recipes/ebm-digits';
import { WORKLOADS, WorkloadName } from './workload-plan';

export { WORKLOADS, WorkloadName };

/** What one training run measured. */
export interface EpochTimes {
  /** Wall seconds of each epoch (data already on the backend). */
  seconds: number[];
  /** CPU seconds (user + system, all threads) of each epoch: robust to other load on the machine. */
  cpuSeconds: number[];
  /** Which code path ran: the library API or a stand-in (while the library's model is not there yet). */
  implementation: string;
  /** A loss-like number after training, to show both sides learn (not compared exactly). */
  finalLoss: number;
  /** Process RSS (MB) after each epoch: no growth across epochs is issue 7 item 3. */
  rssAfterEpoch: number[];
  /** Live tensors after each epoch (must stay constant). */
  tensorsAfterEpoch: number[];
}

const rssMB = () => process.memoryUsage().rss / 2 ** 20;

/** Wall and CPU time, RSS and live tensors at each `mark()`, counted from the previous mark (the first: from the start). */
function epochClock(): { times: Omit<EpochTimes, 'implementation' | 'finalLoss'>; mark: () => void } {
  const times = { seconds: [] as number[], cpuSeconds: [] as number[], rssAfterEpoch: [] as number[], tensorsAfterEpoch: [] as number[] };
  let t0 = performance.now();
  let c0 = process.cpuUsage();
  const mark = (): void => {
    const c = process.cpuUsage(c0);
    times.seconds.push((performance.now() - t0) / 1000);
    times.cpuSeconds.push((c.user + c.system) / 1e6);
    times.rssAfterEpoch.push(rssMB());
    times.tensorsAfterEpoch.push(tf.memory().numTensors);
    t0 = performance.now();
    c0 = process.cpuUsage();
  };
  return { times, mark };
}

/** Calls `epoch()` `epochs` times and records wall time, RSS and live tensors after each. */
async function timeEpochs(epochs: number, epoch: () => Promise<number>): Promise<Omit<EpochTimes, 'implementation'>> {
  let finalLoss = NaN;
  const clock = epochClock();
  for (let e = 0; e < epochs; e++) {
    finalLoss = await epoch();
    clock.mark();
  }
  return { ...clock.times, finalLoss };
}

/**
 * Trains `model` by one `fit` (the model keeps its optimiser and compiled step across epochs, as a user's single fit
 * does), timing each epoch through its `onEpoch` callback: an epoch is the time from the previous callback (the
 * first: from the call, so it pays the fit's set-up). The final loss is the last epoch's `history[lossKey]`. Disposes
 * the model.
 */
async function timeFit<M extends { dispose(): void }>(
  model: M, implementation: string, lossKey: string, fit: (onEpoch: () => void) => Promise<Record<string, number[]>>,
): Promise<EpochTimes> {
  try {
    const clock = epochClock();
    const history = await fit(() => clock.mark());
    return { ...clock.times, finalLoss: history[lossKey].at(-1) ?? NaN, implementation };
  } finally {
    model.dispose();
  }
}

/** RBM 784x500, CD-1, batch 100, SGD lr 0.1 (the lecture's model), through BernoulliRBM.fit. */
async function rbm(x: tf.Tensor2D, epochs: number, seed: number): Promise<EpochTimes> {
  const model = new BernoulliRBM({ nVisible: x.shape[1], nHidden: 500, seed });
  try {
    const r = await timeEpochs(epochs, async () => {
      const h = await model.fit(x, { epochs: 1, batchSize: 100, learningRate: 0.1, k: 1, progress: false });
      return h.reconstructionError[0];
    });
    return { ...r, implementation: 'BernoulliRBM.fit' };
  } finally {
    model.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------------
// VAEs: the library's VAE.fit. GENLAB_BENCH_STANDIN=1 runs equivalent stand-ins written with plain tfjs ops
// instead (used before lib/vae/ existed; kept to compare tf.layers overhead against bare ops).

type Params = Record<string, tf.Variable>;

/** He-normal weights [fanIn, ...shape] and zero biases from the seeded generator. */
function weight(rng: Random, shape: number[], fanIn: number): tf.Variable {
  const n = shape.reduce((p, d) => p * d, 1);
  return tf.variable(tf.tidy(() => tf.tensor(rng.normalArray(n), shape).mul(Math.sqrt(2 / fanIn))));
}
const bias = (n: number) => tf.variable(tf.zeros([n]));

/** Bernoulli negative ELBO per example: sum BCE(logits, x) + KL(N(mu, e^lv) || N(0, I)), averaged over the batch. */
function negElbo(x: tf.Tensor2D, logits: tf.Tensor2D, mu: tf.Tensor2D, logVar: tf.Tensor2D): tf.Scalar {
  // BCE with logits: softplus(l) - x l, summed over pixels   [B]
  const rec = tf.sum(tf.sub(tf.softplus(logits), tf.mul(x, logits)), 1);
  // KL = -1/2 sum(1 + lv - mu^2 - e^lv)   [B]
  const kl = tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, logVar), tf.square(mu)), tf.exp(logVar)), 1));
  return tf.mean(tf.add(rec, kl)) as tf.Scalar;
}

/** Adam for the stand-ins: tf.train.adam, or genlab's fused one with GENLAB_BENCH_FUSED_ADAM=1. */
const fusedWanted = () => process.env.GENLAB_BENCH_FUSED_ADAM === '1';
const standInAdam = () => (fusedWanted() ? fusedAdam(1e-3) : tf.train.adam(1e-3));
const standInName = () => `stand-in (plain tfjs ops, ${fusedWanted() ? 'fused' : 'tf.train'} Adam)`;

/** One epoch of Adam on a stand-in model: `forward(xb, eps)` returns the batch loss. */
async function standInEpoch(
  x: tf.Tensor2D, batchSize: number, latent: number, rng: Random, opt: tf.Optimizer, params: Params,
  forward: (xb: tf.Tensor2D, eps: tf.Tensor2D) => tf.Scalar,
): Promise<number> {
  const n = x.shape[0];
  const order = rng.permutation(n);
  let lossSum = tf.scalar(0);
  for (let s = 0; s < n; s += batchSize) {
    const idx = order.subarray(s, Math.min(n, s + batchSize));
    const next = tf.tidy(() => {
      const xb = tf.gather(x, tf.tensor1d(idx, 'int32')) as tf.Tensor2D;
      const eps = tf.tensor2d(rng.normalArray(idx.length * latent), [idx.length, latent]);
      const loss = opt.minimize(() => forward(xb, eps), true, Object.values(params)) as tf.Scalar;
      return tf.add(lossSum, tf.mul(loss, idx.length));
    });
    lossSum.dispose();
    lossSum = next as tf.Scalar;
  }
  const total = (await lossSum.data())[0] / n;
  lossSum.dispose();
  return total;
}

/** Dense VAE 784-512-512-20 (mirror decoder), ReLU, Bernoulli likelihood, Adam 1e-3, batch 128. */
async function denseVae(x: tf.Tensor2D, epochs: number, seed: number): Promise<EpochTimes> {
  if (process.env.GENLAB_BENCH_STANDIN !== '1') return libraryVae('dense', x, epochs, seed);
  const rng = new Random(seed);
  const d = x.shape[1];
  const L = 20;
  const p: Params = {
    e1: weight(rng, [d, 512], d), eb1: bias(512), e2: weight(rng, [512, 512], 512), eb2: bias(512),
    mu: weight(rng, [512, L], 512), mub: bias(L), lv: weight(rng, [512, L], 512), lvb: bias(L),
    d1: weight(rng, [L, 512], L), db1: bias(512), d2: weight(rng, [512, 512], 512), db2: bias(512),
    out: weight(rng, [512, d], 512), outb: bias(d),
  };
  const dense = (h: tf.Tensor, w: string, b: string, act: 'relu' | 'linear') =>
    tf.fused.matMul({ a: h as tf.Tensor2D, b: p[w] as tf.Tensor2D, bias: p[b], activation: act });
  const forward = (xb: tf.Tensor2D, eps: tf.Tensor2D) => {
    const h = dense(dense(xb, 'e1', 'eb1', 'relu'), 'e2', 'eb2', 'relu'); // [B, 512]
    const mu = dense(h, 'mu', 'mub', 'linear') as tf.Tensor2D; // [B, L]
    const logVar = dense(h, 'lv', 'lvb', 'linear') as tf.Tensor2D; // [B, L]
    const z = tf.add(mu, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps)) as tf.Tensor2D; // reparameterisation
    const logits = dense(dense(dense(z, 'd1', 'db1', 'relu'), 'd2', 'db2', 'relu'), 'out', 'outb', 'linear');
    return negElbo(xb, logits as tf.Tensor2D, mu, logVar);
  };
  const opt = standInAdam();
  try {
    const r = await timeEpochs(epochs, () => standInEpoch(x, 128, L, rng, opt, p, forward));
    return { ...r, implementation: standInName() };
  } finally {
    opt.dispose();
    tf.dispose(Object.values(p));
  }
}

/**
 * The Keras lecture's convolutional VAE, latent 2: Conv 32 -> Conv 64 (3x3, stride 2, same, ReLU) -> Dense 16
 * -> (mu, logVar) [2]; Dense 7*7*64 -> ConvT 64 -> ConvT 32 (stride 2) -> ConvT 1 (stride 1) logits. Adam, batch 128.
 */
async function convVae(x: tf.Tensor2D, epochs: number, seed: number): Promise<EpochTimes> {
  if (process.env.GENLAB_BENCH_STANDIN !== '1') return libraryVae('conv', x, epochs, seed);
  const rng = new Random(seed);
  const L = 2;
  const p: Params = {
    c1: weight(rng, [3, 3, 1, 32], 9), cb1: bias(32), c2: weight(rng, [3, 3, 32, 64], 9 * 32), cb2: bias(64),
    f: weight(rng, [7 * 7 * 64, 16], 7 * 7 * 64), fb: bias(16),
    mu: weight(rng, [16, L], 16), mub: bias(L), lv: weight(rng, [16, L], 16), lvb: bias(L),
    d: weight(rng, [L, 7 * 7 * 64], L), db: bias(7 * 7 * 64),
    // conv2dTranspose filters are [h, w, outChannels, inChannels]
    t1: weight(rng, [3, 3, 64, 64], 9 * 64), tb1: bias(64), t2: weight(rng, [3, 3, 32, 64], 9 * 64), tb2: bias(32),
    t3: weight(rng, [3, 3, 1, 32], 9 * 32), tb3: bias(1),
  };
  const conv = (h: tf.Tensor4D, w: string, b: string) =>
    tf.relu(tf.add(tf.conv2d(h, p[w] as tf.Tensor4D, 2, 'same'), p[b])) as tf.Tensor4D;
  const convT = (h: tf.Tensor4D, w: string, b: string, out: number[], stride: number) =>
    tf.add(tf.conv2dTranspose(h, p[w] as tf.Tensor4D, out as [number, number, number, number], stride, 'same'), p[b]);
  const forward = (xb: tf.Tensor2D, eps: tf.Tensor2D) => {
    const B = xb.shape[0];
    const h2 = conv(conv(xb.reshape([B, 28, 28, 1]), 'c1', 'cb1'), 'c2', 'cb2'); // [B, 7, 7, 64]
    const h = tf.fused.matMul({ a: h2.reshape([B, 7 * 7 * 64]), b: p.f as tf.Tensor2D, bias: p.fb, activation: 'relu' });
    const mu = tf.add(tf.matMul(h, p.mu), p.mub) as tf.Tensor2D; // [B, 2]
    const logVar = tf.add(tf.matMul(h, p.lv), p.lvb) as tf.Tensor2D; // [B, 2]
    const z = tf.add(mu, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps)) as tf.Tensor2D;
    const d = tf.relu(tf.add(tf.matMul(z, p.d), p.db)).reshape([B, 7, 7, 64]) as tf.Tensor4D;
    const u1 = tf.relu(convT(d, 't1', 'tb1', [B, 14, 14, 64], 2)) as tf.Tensor4D;
    const u2 = tf.relu(convT(u1, 't2', 'tb2', [B, 28, 28, 32], 2)) as tf.Tensor4D;
    const logits = convT(u2, 't3', 'tb3', [B, 28, 28, 1], 1).reshape([B, 784]) as tf.Tensor2D;
    return negElbo(xb, logits, mu, logVar);
  };
  const opt = standInAdam();
  try {
    const r = await timeEpochs(epochs, () => standInEpoch(x, 128, L, rng, opt, p, forward));
    return { ...r, implementation: standInName() };
  } finally {
    opt.dispose();
    tf.dispose(Object.values(p));
  }
}

/** The dense VAE 784-512-512-20 or the conv lecture model (latent 2). */
function vae(kind: 'dense' | 'conv', seed: number): VAE {
  return kind === 'dense'
    ? new VAE({ dataShape: [784], hiddenUnits: [512, 512], latentDim: 20, seed })
    : new VAE({ architecture: 'conv', dataShape: [28, 28, 1], latentDim: 2, seed });
}

/** The library's VAE: dense 784-512-512-20 or the conv lecture model, Bernoulli, Adam 1e-3, batch 128. */
async function libraryVae(kind: 'dense' | 'conv', x: tf.Tensor2D, epochs: number, seed: number): Promise<EpochTimes> {
  const model = vae(kind, seed);
  try {
    const r = await timeEpochs(epochs, async () => {
      const h = await model.fit(x, { epochs: 1, batchSize: 128, learningRate: 1e-3, progress: false });
      return h.loss[0];
    });
    return { ...r, implementation: 'VAE.fit' };
  } finally {
    model.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------------
// GANs, DDPMs and the conv EBM: one fit of `epochs` epochs each, timed through onEpoch. The digits come in [0, 1];
// each model maps them onto its working range itself (`dataRange: [0, 1]`), the twins once before training.

/** The course's dense GAN (G 100-256-512-1024-784 with BatchNorm, D 784-1024-512-256-1 with dropout 0.3) or the DCGAN. */
function gan(kind: 'dense' | 'conv', seed: number): GAN {
  return kind === 'dense'
    ? new GAN({ dataShape: [784], dataRange: [0, 1], labelSmoothing: 0.9, seed })
    : new GAN({ dataShape: [28, 28, 1], dataRange: [0, 1], architecture: 'conv', labelSmoothing: 0.9, seed });
}

/** The U-Nets' sizes: the DDPM's default (and 'ddpm-digits'') and lecture 14's. */
const UNETS = {
  ddpm_unet: { channels: [16, 32, 64], embedDim: 64 },
  ddpm_unet_notebook: { channels: [8, 16, 32], embedDim: 32 },
} as const;

/** The DDPM MLP noise predictor on flat digits (the default: concat(x, 64 sinusoidal) -> 128 -> 128 -> 128 -> 784) or a U-Net. */
function ddpm(kind: 'ddpm_mlp' | keyof typeof UNETS, seed: number): DDPM {
  if (kind === 'ddpm_mlp') return new DDPM({ dataShape: [784], dataRange: [0, 1], network: 'mlp', seed });
  const { channels, embedDim } = UNETS[kind];
  return new DDPM({ dataShape: [28, 28, 1], dataRange: [0, 1], network: { kind: 'unet', channels: [...channels], embedDim, groups: 8 }, seed });
}

/** The settings of 'ebm-digits' (lib/pretrained/recipes/ebm-digits.ts), read from the recipe so the two cannot drift. */
const EBM = ebmDigits.settings(false);
/** The network of 'ebm-digits': conv 16-32-64-64, dense 64. */
const ebm = (seed: number) => new EnergyModel({ ...EBM.network, seed });

/** The GANs, DDPMs and the EBM: builds the model, trains it `epochs` epochs in one fit and times the epochs. */
function fitNew(name: Exclude<WorkloadName, 'rbm' | 'dense_vae' | 'conv_vae'>, x: tf.Tensor2D, epochs: number, seed: number): Promise<EpochTimes> {
  const base = { epochs, batchSize: 128, progress: false as const };
  switch (name) {
    case 'dense_gan':
    case 'dcgan': {
      const model = gan(name === 'dense_gan' ? 'dense' : 'conv', seed);
      return timeFit(model, 'GAN.fit', 'dLoss', (onEpoch) => model.fit(x, { ...base, learningRate: 2e-4, onEpoch }));
    }
    case 'ddpm_mlp':
    case 'ddpm_unet':
    case 'ddpm_unet_notebook': {
      const model = ddpm(name, seed);
      return timeFit(model, 'DDPM.fit', 'loss', (onEpoch) => model.fit(x, { ...base, learningRate: name === 'ddpm_mlp' ? 1e-3 : 2e-4, onEpoch }));
    }
    case 'conv_ebm': {
      // the recipe's first phase: fresh chains from noise only (freshFraction 1; the buffer is one batch, unused)
      const model = ebm(seed);
      const { langevin, alpha, bufferSize, freshFraction, batchSize, phases } = EBM.fit;
      return timeFit(model, 'EnergyModel.fit', 'loss', (onEpoch) =>
        model.fit(x, { ...base, batchSize, learningRate: phases[0].learningRate, langevin, alpha, bufferSize, freshFraction, onEpoch }),
      );
    }
  }
}

/** Sum of the sizes of trainable weights (PyTorch's parameters(); BatchNorm's moving statistics are not counted). */
const trainable = (...nets: tf.LayersModel[]) => nets.reduce((s, n) => s + n.trainableWeights.reduce((t, w) => t + w.read().size, 0), 0);

/** The number of trainable parameters of the workload's genlab model (the twins check theirs against it). */
export function parameterCount(name: WorkloadName, seed = 1): number {
  const models: Array<{ dispose(): void }> = [];
  const keep = <M extends { dispose(): void }>(m: M): M => (models.push(m), m);
  try {
    switch (name) {
      case 'rbm': {
        const m = keep(new BernoulliRBM({ nVisible: 784, nHidden: 500, seed }));
        return m.nVisible * m.nHidden + m.nVisible + m.nHidden;
      }
      case 'dense_vae':
      case 'conv_vae': {
        const m = keep(vae(name === 'dense_vae' ? 'dense' : 'conv', seed));
        return trainable(m.encoder, m.decoder);
      }
      case 'dense_gan':
      case 'dcgan': {
        const m = keep(gan(name === 'dense_gan' ? 'dense' : 'conv', seed));
        return trainable(m.generator, m.discriminator);
      }
      case 'ddpm_mlp':
      case 'ddpm_unet':
      case 'ddpm_unet_notebook':
        return keep(ddpm(name, seed)).network.parameterCount;
      case 'conv_ebm':
        return trainable(keep(ebm(seed)).network);
    }
  } finally {
    models.forEach((m) => m.dispose());
  }
}

/** Runs one workload on `x` [n, 784] in [0, 1]. */
export function runWorkload(name: WorkloadName, x: tf.Tensor2D, epochs: number, seed: number): Promise<EpochTimes> {
  switch (name) {
    case 'rbm':
      return rbm(x, epochs, seed);
    case 'dense_vae':
      return denseVae(x, epochs, seed);
    case 'conv_vae':
      return convVae(x, epochs, seed);
    default:
      return fitNew(name, x, epochs, seed);
  }
}
