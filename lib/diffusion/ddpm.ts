/**
 * Denoising diffusion probabilistic models (Ho et al. 2020) with DDIM sampling (Song et al. 2021).
 *
 * Forward process (fixed, lib/diffusion/schedule.ts): x_t = sqrt(alphaBar_t) x_0 + sqrt(1 - alphaBar_t) eps,
 * eps ~ N(0, I), t = 0 .. T-1. A network eps_theta(x_t, t) (lib/diffusion/networks.ts) is trained on the
 * "simple" loss
 *
 *   L = E_{x_0, t ~ U{0..T-1}, eps} || eps - eps_theta(sqrt(alphaBar_t) x_0 + sqrt(1 - alphaBar_t) eps, t) ||^2
 *
 * (the mean over elements, as PyTorch's MSELoss). Its minimiser is eps*(x_t, t) = E[eps | x_t] =
 * -sqrt(1 - alphaBar_t) grad log q(x_t): a noise predictor is a scaled score model. Sampling runs the reverse
 * chain from x_{T-1} ~ N(0, I): ancestral (Ho et al. Algorithm 2) or DDIM on a strided subsequence of steps.
 *
 * With the course's T = 300 and linear betas 1e-4 .. 0.02, alphaBar_{T-1} = 0.048, not 0: x_T keeps
 * sqrt(0.048) = 22% of x_0's amplitude, so N(0, I) is only approximately the end of the forward process.
 */
import { tf } from '../engine/backend';
import { Random } from '../engine/random';
import { assertFiniteNumber, assertKnownOptions, assertOneOf, assertPositiveInteger, describeValue } from '../core/validate';
import { CompiledGradientStep, History, LOOP_FIT_KEYS, LoopFitOptions, resolveFitOptions, resolveLoopOptions, runEpochs } from '../train/loop';
import { TrainingState } from '../train/state';
import { ready } from '../engine/backend';
import { trackDisposable } from '../engine/scope';
import { BatchTensor, ChainTensor, DataShape } from '../core/shapes';
import { JsonValue, loadCheckpoint, saveCheckpoint } from '../core/checkpoint';
import { networkTensors, restoreOrDispose } from '../core/network-weights';
import { BetaSchedule, DEFAULT_BETA_SCHEDULE, NoiseSchedule } from './schedule';
import { buildNoiseNetwork, MlpNetworkOptions, NetworkOptions, NoiseNetwork, resolveNetworkOptions, UNetOptions } from './networks';

/** Options for {@link DDPM}. */
export interface DDPMOptions<S extends DataShape = DataShape> {
  /**
   * Shape of one example: `[D]` for vectors (MLP network) or `[h, w, c]` for images (U-Net). It types the samples:
   * `[D]` gives `tf.Tensor2D`, `[h, w, c]` gives `tf.Tensor4D` (see {@link BatchTensor}).
   */
  dataShape: S;
  /** Diffusion steps T (integer >= 2). Default 300 (the course; Ho et al. use 1000). */
  timesteps?: number;
  /** Betas. Default `{ kind: 'linear', start: 1e-4, end: 0.02 }` (Ho et al.; the course); or `{ kind: 'cosine' }`. */
  betaSchedule?: BetaSchedule;
  /**
   * The noise predictor: `'mlp'` (default for `[D]`), `'unet'` (default for `[h, w, c]`), or their options
   * (`{ kind: 'mlp', hiddenUnits, embedDim }`, `{ kind: 'unet', channels, embedDim, groups }`).
   */
  network?: NetworkOptions;
  /** Seed for weights, training noise, shuffling and (unless given per call) sampling. Default: random. */
  seed?: number;
}
const DDPM_KEYS = ['dataShape', 'timesteps', 'betaSchedule', 'network', 'seed'] as const;

/** Options for {@link DDPM.fit}. */
export interface DDPMFitOptions extends LoopFitOptions {
  /** Passes over the data, integer >= 1. Default 20 (the course). */
  epochs?: number;
  /** Mini-batch size, integer >= 1 (capped at n). Default 128 (the course). */
  batchSize?: number;
  /** Adam step size > 0. Default 1e-3 for the MLP, 2e-4 for the U-Net (the course). */
  learningRate?: number;
  /** Reshuffle every epoch (seeded). Default true. */
  shuffle?: boolean;
  /** Called after every epoch with `{ loss }`. */
  onEpoch?: (epoch: number, logs: Record<string, number>) => void | Promise<void>;
  /** `'auto'` (default): live bar in a notebook, a line per epoch in a terminal; `false`: silent. */
  progress?: 'auto' | false;
}
const FIT_KEYS = ['epochs', 'batchSize', 'learningRate', 'shuffle', 'onEpoch', 'progress', ...LOOP_FIT_KEYS] as const;

/** Options for {@link DDPM.sample}. */
export interface DDPMSampleOptions {
  /** `'ancestral'` (default; Ho et al. Algorithm 2, every step) or `'ddim'` (Song et al.; `steps` strided steps). */
  sampler?: 'ancestral' | 'ddim';
  /** DDIM only: number of reverse steps, 1 .. T. Default 50 (the course). Ancestral always uses all T. */
  steps?: number;
  /** DDIM only: noise scale, 0 (deterministic, default) .. 1 (= ancestral when steps = T). */
  eta?: number;
  /** Also return the chain: `{ samples, trajectory, times }`. Default false. */
  returnTrajectory?: boolean;
  /** Seed of x_T and of the step noise. Default: drawn from the model's generator. */
  seed?: number;
  /** Samples per network call (memory bound for the U-Net). Default 256. */
  batchSize?: number;
}
const SAMPLE_KEYS = ['sampler', 'steps', 'eta', 'returnTrajectory', 'seed', 'batchSize'] as const;

/** What {@link DDPM.sample} returns with `returnTrajectory: true`. */
export interface DDPMTrajectory<S extends DataShape = DataShape> {
  /** The final samples `[n, ...dataShape]`. */
  samples: BatchTensor<S>;
  /** The chain `[frames, n, ...dataShape]`: x at the start (pure noise) and after every reverse step. */
  trajectory: ChainTensor<S>;
  /** The step index of each frame: T-1 for the start, then the step reached (the last frame is -1, i.e. x_0). */
  times: number[];
}

/** Options for {@link DDPM.noise}. */
export interface DDPMNoiseOptions {
  /** Seed of eps. Default: drawn from the model's generator. */
  seed?: number;
  /** Use this eps (same shape as x0) instead of drawing one. */
  eps?: tf.Tensor;
}
const NOISE_KEYS = ['seed', 'eps'] as const;

/** Serialisable configuration (what a checkpoint stores). */
interface DDPMConfig {
  dataShape: number[];
  timesteps: number;
  betaSchedule: BetaSchedule;
  network: Required<MlpNetworkOptions> | Required<UNetOptions>;
  seed: number;
}

const DEFAULTS = {
  timesteps: 300 /* the course */,
  epochs: 20 /* the course */,
  batchSize: 128 /* the course */,
  learningRateMlp: 1e-3 /* toy DDPMs on 2-D data */,
  learningRateUnet: 2e-4 /* the course; Ho et al. */,
  adamEpsilon: 1e-8 /* PyTorch's Adam default */,
  ddimSteps: 50 /* the course */,
  sampleBatch: 256,
} as const;

/** A DDPM: a noise schedule, a noise-prediction network, the simple loss, ancestral and DDIM samplers. */
export class DDPM<S extends DataShape = DataShape> {
  /** The schedule: betas, alphas, alphaBar and the step maths. */
  readonly scheduler: NoiseSchedule;
  /** The noise predictor eps_theta(x_t, t). */
  readonly network: NoiseNetwork;
  /** Shape of one example. */
  readonly dataShape: number[];
  private readonly dim: number;
  private readonly config: DDPMConfig;
  private readonly rng: Random;
  /** Epoch counter, Adam moments and training stream, carried from one `fit` to the next (see lib/train). */
  private readonly training = new TrainingState();
  private disposed = false;

  constructor(opts: DDPMOptions<S>) {
    if (opts === null || typeof opts !== 'object') throw new TypeError(`opts must be an object; got ${describeValue(opts)}`);
    assertKnownOptions('DDPM', opts, DDPM_KEYS);
    const shape = opts.dataShape;
    if (!Array.isArray(shape) || (shape.length !== 1 && shape.length !== 3)) {
      throw new RangeError(`dataShape must be [D] or [h, w, c]; got ${describeValue(shape)}`);
    }
    shape.forEach((d, i) => assertPositiveInteger(`dataShape[${i}]`, d));
    const timesteps = opts.timesteps ?? DEFAULTS.timesteps;
    assertPositiveInteger('timesteps', timesteps);
    if (timesteps < 2) throw new RangeError(`timesteps must be at least 2; got ${timesteps}`);
    const betaSchedule = opts.betaSchedule ?? { ...DEFAULT_BETA_SCHEDULE };
    this.scheduler = new NoiseSchedule(timesteps, betaSchedule);
    const network = resolveNetworkOptions(opts.network, shape);
    if (opts.seed !== undefined) assertFiniteNumber('seed', opts.seed);
    this.rng = new Random(opts.seed);
    this.dataShape = [...shape];
    this.dim = shape.reduce((a, b) => a * b, 1);
    this.config = { dataShape: [...shape], timesteps, betaSchedule: { ...betaSchedule }, network, seed: this.rng.seed };
    this.network = buildNoiseNetwork(network, this.dataShape, timesteps, this.rng.seedInt());
    trackDisposable(this); // an enclosing genlab scope() frees the model unless it is returned
  }

  /** Number of diffusion steps T. */
  get timesteps(): number {
    return this.scheduler.timesteps;
  }

  /** alphaBar_t for t = 0 .. T-1 (a copy). alphaBar_{T-1} is 0.048 for the default schedule: far from 0. */
  get alphaBar(): number[] {
    return Array.from(this.scheduler.alphaBar);
  }

  /** A short description, e.g. `mlp 2+64-128-128-128-2, T=300 linear`. */
  describe(): string {
    return `${this.network.describe()}, T=${this.timesteps} ${this.config.betaSchedule.kind}`;
  }

  // ------------------------------------------------------------------------------------------------------
  // Forward process and the network

  /**
   * Draws x_t ~ q(x_t | x_0) = N(sqrt(alphaBar_t) x_0, (1 - alphaBar_t) I) in closed form.
   * @param x0 `[n, ...dataShape]` or flat `[n, D]`.
   * @param t one step for every row, or one per row (integers in [0, T)).
   * @returns x_t, same shape as x0.
   */
  noise<T extends tf.Tensor>(x0: T, t: number | number[], opts: DDPMNoiseOptions = {}): T {
    this.assertAlive();
    assertKnownOptions('DDPM.noise', opts, NOISE_KEYS);
    const n = this.rowsOf('x0', x0);
    const ts = this.stepsFor(t, n);
    if (opts.eps !== undefined && opts.eps.shape.join(',') !== x0.shape.join(',')) {
      throw new RangeError(`eps must have the shape of x0 [${x0.shape.join(', ')}]; got [${opts.eps.shape.join(', ')}]`);
    }
    const rng = opts.seed === undefined ? this.rng.fork() : new Random(opts.seed);
    return tf.tidy(() => {
      const eps = opts.eps ?? tf.tensor(rng.normalArray(n * this.dim), x0.shape);
      const { a, b } = this.coefficients(ts);
      const flat = x0.reshape([n, this.dim]);
      return flat.mul(a).add(eps.reshape([n, this.dim]).mul(b)).reshape(x0.shape) as T;
    });
  }

  /**
   * The network's noise prediction eps_theta(x_t, t).
   * @param x `[n, ...dataShape]` or flat `[n, D]`; @param t one step for all rows or one per row.
   * @returns same shape as x.
   */
  predictNoise<T extends tf.Tensor>(x: T, t: number | number[]): T {
    this.assertAlive();
    const n = this.rowsOf('x', x);
    const ts = this.stepsFor(t, n);
    return tf.tidy(() => {
      const tt = tf.tensor1d(ts, 'int32');
      return this.network.apply(x.reshape([n, ...this.dataShape]), tt).reshape(x.shape) as T;
    });
  }

  // ------------------------------------------------------------------------------------------------------
  // Training

  /**
   * Trains eps_theta on the simple loss (mean squared error between drawn and predicted noise, t uniform) with
   * Adam on the shared loop. Returns the history `{ loss, epoch, seconds, ... }` (per-epoch means).
   * @param x `[n, ...dataShape]` or flat `[n, D]`, scaled as the samples should come out (e.g. images in [-1, 1]).
   */
  async fit(x: tf.Tensor, opts: DDPMFitOptions = {}): Promise<History> {
    assertKnownOptions('DDPM.fit', opts, FIT_KEYS);
    await ready();
    this.assertAlive();
    const { epochs, batchSize, learningRate } = resolveFitOptions(opts, {
      epochs: DEFAULTS.epochs,
      batchSize: DEFAULTS.batchSize,
      learningRate: this.config.network.kind === 'unet' ? DEFAULTS.learningRateUnet : DEFAULTS.learningRateMlp,
    });
    const n = this.rowsOf('x', x);
    const flat = tf.tidy(() => x.reshape([n, this.dim]) as tf.Tensor2D);
    const { reset } = resolveLoopOptions('DDPM.fit', opts);
    if (reset) this.training.reset();
    const optimizer = this.training.adam(learningRate, DEFAULTS.adamEpsilon);
    const vars = this.network.variables;
    const T = this.timesteps;
    // The simple loss of Ho et al. on batch x0 with noise eps at steps t: one compiled step (engine/tensorflow-graph.ts).
    const compiled = new CompiledGradientStep(vars, optimizer, ([x0, eps, a, b, t]) => {
      const size = x0.shape[0];
      const xt = x0.mul(a).add(eps.mul(b)).reshape([size, ...this.dataShape]); //  x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps
      const pred = this.network.apply(xt, t as tf.Tensor1D).reshape([size, this.dim]); //       eps_theta(x_t, t)
      const loss = tf.mean(tf.squaredDifference(pred, eps)) as tf.Scalar; //  simple loss, mean over elements
      return [loss, loss.reshape([1])];
    }, 'ddpm_step');
    try {
      return await runEpochs({
        x: flat,
        epochs,
        batchSize,
        shuffle: opts.shuffle !== false,
        rng: this.rng,
        title: `DDPM ${this.describe()}`,
        progress: opts.progress ?? 'auto',
        metricNames: ['loss'],
        caller: 'DDPM.fit',
        learningRate,
        step: (xb, size) => {
          const ts = Array.from({ length: size }, () => this.rng.int(T)); //                      t ~ U{0..T-1}
          const eps = tf.tensor2d(this.rng.normalArray(size * this.dim), [size, this.dim]); //   [b, D]
          const { a, b } = this.coefficients(ts); //                                              [b, 1] each
          return compiled.run([xb, eps, a, b, tf.tensor1d(ts, 'int32')]);
        },
        onEpoch: opts.onEpoch,
        earlyStopping: opts.earlyStopping,
        state: this.training,
      });
    } finally {
      compiled.dispose();
      flat.dispose();
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // Sampling

  /**
   * Draws n samples by running the reverse chain from N(0, I). `ancestral`: x_{t-1} = (x_t - beta_t /
   * sqrt(1 - alphaBar_t) eps_theta) / sqrt(alpha_t) + sqrt(betaTilde_t) z for t = T-1 .. 0 (no noise at t = 0).
   * `ddim`: the DDIM update on `steps` evenly strided steps (see {@link NoiseSchedule.ddimStep}); with eta = 1
   * and steps = T it is the ancestral sampler.
   * @returns `[n, ...dataShape]`, or `{ samples, trajectory, times }` with `returnTrajectory`.
   */
  async sample(n: number, opts?: DDPMSampleOptions & { returnTrajectory?: false }): Promise<BatchTensor<S>>;
  async sample(n: number, opts: DDPMSampleOptions & { returnTrajectory: true }): Promise<DDPMTrajectory<S>>;
  async sample(n: number, opts: DDPMSampleOptions = {}): Promise<BatchTensor<S> | DDPMTrajectory<S>> {
    await ready();
    this.assertAlive();
    assertKnownOptions('DDPM.sample', opts, SAMPLE_KEYS);
    assertPositiveInteger('n', n);
    const sampler = opts.sampler ?? 'ancestral';
    assertOneOf('sampler', sampler, ['ancestral', 'ddim'] as const);
    if (sampler === 'ancestral' && (opts.steps !== undefined || opts.eta !== undefined)) {
      throw new Error(`steps and eta are DDIM options; the ancestral sampler runs all ${this.timesteps} steps (use sampler: 'ddim')`);
    }
    const steps = opts.steps ?? DEFAULTS.ddimSteps;
    const eta = opts.eta ?? 0;
    assertFiniteNumber('eta', eta, { min: 0 });
    const batch = opts.batchSize ?? DEFAULTS.sampleBatch;
    assertPositiveInteger('batchSize', batch);
    const rng = opts.seed === undefined ? this.rng.fork() : new Random(opts.seed);
    const T = this.timesteps;
    // ancestral: every step T-1 .. 0; DDIM: `steps` evenly strided ones (stridedTimesteps checks 1 <= steps <= T)
    const times = sampler === 'ancestral' ? Array.from({ length: T }, (_, i) => T - 1 - i) : this.scheduler.stridedTimesteps(steps);
    const keepChain = opts.returnTrajectory === true;

    let x = tf.tensor2d(rng.normalArray(n * this.dim), [n, this.dim]); //                           x_{T-1} ~ N(0, I)
    const frames: tf.Tensor[] = keepChain ? [x.clone()] : [];
    try {
      for (let i = 0; i < times.length; i++) {
        const t = times[i];
        const prev = i + 1 < times.length ? times[i + 1] : -1;
        const z = rng.normalArray(n * this.dim); // drawn every step (also when unused) so both samplers stay in step
        const eps = this.predictFlat(x, t, batch); //                                                [n, D]
        const next = tf.tidy(() => {
          let mean: tf.Tensor;
          let sigma: number;
          if (sampler === 'ancestral') {
            const c = this.scheduler.ancestralStep(t);
            mean = x.mul(c.cXt).add(eps.mul(c.cEps));
            sigma = c.sigma;
          } else {
            const c = this.scheduler.ddimStep(t, prev, eta);
            const a = this.scheduler.alphaBar[t];
            const x0 = x.sub(eps.mul(Math.sqrt(1 - a))).div(Math.sqrt(a)); //                   predicted x_0
            mean = x0.mul(c.cX0).add(eps.mul(c.cEps));
            sigma = c.sigma;
          }
          return sigma > 0 ? mean.add(tf.tensor2d(z, [n, this.dim]).mul(sigma)) : mean;
        }) as tf.Tensor2D;
        eps.dispose();
        x.dispose();
        x = next;
        if (keepChain) frames.push(x.clone());
        if (i % 25 === 24) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const samples = tf.tidy(() => x.reshape([n, ...this.dataShape])) as BatchTensor<S>;
      x.dispose();
      if (!keepChain) return samples;
      const trajectory = tf.tidy(() => tf.stack(frames).reshape([frames.length, n, ...this.dataShape])) as ChainTensor<S>;
      tf.dispose(frames);
      return { samples, trajectory, times: [T - 1, ...times.slice(1), -1] };
    } catch (err) {
      x.dispose();
      tf.dispose(frames);
      throw err;
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // Files

  /** Saves configuration and network weights atomically (lib/core/checkpoint.ts); the optimiser state is not saved. */
  async save(dir: string): Promise<void> {
    this.assertAlive();
    await saveCheckpoint(dir, {
      kind: 'DDPM',
      config: this.config as unknown as JsonValue,
      tensors: networkTensors({ network: this.network }),
    });
  }

  /** Loads a model written by {@link DDPM.save}; refuses missing, corrupted or mismatched checkpoints. */
  static async load(dir: string): Promise<DDPM> {
    const ck = await loadCheckpoint(dir, 'DDPM');
    try {
      const c = ck.config as unknown as DDPMConfig;
      const model = new DDPM({ dataShape: c.dataShape, timesteps: c.timesteps, betaSchedule: c.betaSchedule, network: c.network, seed: c.seed });
      return restoreOrDispose(dir, ck.tensors, model, { network: model.network });
    } finally {
      for (const t of Object.values(ck.tensors)) t.dispose();
    }
  }

  /** Frees the network and the optimiser state. The model cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.training.dispose();
    this.network.dispose();
  }

  // ------------------------------------------------------------------------------------------------------
  // Internals

  /** eps_theta on flat x `[n, D]` at one step t, in blocks of `batch` rows. */
  private predictFlat(x: tf.Tensor2D, t: number, batch: number): tf.Tensor2D {
    const n = x.shape[0];
    return tf.tidy(() => {
      const parts: tf.Tensor[] = [];
      for (let s = 0; s < n; s += batch) {
        const size = Math.min(batch, n - s);
        const xb = x.slice([s, 0], [size, this.dim]).reshape([size, ...this.dataShape]);
        parts.push(this.network.apply(xb, tf.fill([size], t, 'int32') as tf.Tensor1D).reshape([size, this.dim]));
      }
      return (parts.length === 1 ? parts[0] : tf.concat(parts, 0)) as tf.Tensor2D;
    });
  }

  /** sqrt(alphaBar_t) and sqrt(1 - alphaBar_t) per row, `[n, 1]` each. */
  private coefficients(ts: number[]): { a: tf.Tensor2D; b: tf.Tensor2D } {
    const a = new Float32Array(ts.length);
    const b = new Float32Array(ts.length);
    ts.forEach((t, i) => {
      const ab = this.scheduler.alphaBar[t];
      a[i] = Math.sqrt(ab);
      b[i] = Math.sqrt(1 - ab);
    });
    return { a: tf.tensor2d(a, [ts.length, 1]), b: tf.tensor2d(b, [ts.length, 1]) };
  }

  private stepsFor(t: number | number[], n: number): number[] {
    const ts = Array.isArray(t) ? t : new Array<number>(n).fill(t);
    if (ts.length !== n) throw new RangeError(`t must be one step or one per row (${n}); got ${ts.length} steps`);
    for (const s of ts) {
      if (!(Number.isInteger(s) && s >= 0 && s < this.timesteps)) throw new RangeError(`t must be integers in [0, ${this.timesteps}); got ${describeValue(s)}`);
    }
    return ts;
  }

  /** Rows of x, after checking it is `[n, ...dataShape]` or `[n, D]`. */
  private rowsOf(name: string, x: tf.Tensor): number {
    if (!(x instanceof tf.Tensor)) throw new TypeError(`${name} must be a tensor; got ${describeValue(x)}`);
    const rest = x.shape.slice(1);
    const ok = rest.join(',') === this.dataShape.join(',') || (rest.length === 1 && rest[0] === this.dim);
    if (!ok || x.shape[0] < 1) {
      throw new RangeError(`${name} must have shape [n, ${this.dataShape.join(', ')}] or [n, ${this.dim}]; got [${x.shape.join(', ')}]`);
    }
    return x.shape[0];
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error('this DDPM has been disposed');
  }
}
