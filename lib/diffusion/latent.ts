/**
 * Latent diffusion (Rombach et al. 2022, the idea of Stable Diffusion) in miniature: a DDPM learns the codes of a
 * trained VAE instead of its pixels, and its samples are decoded to images.
 *
 *   training:  z = s * mean(q(z | x))  (the encoder's posterior mean, scaled)  ->  DDPM.fit(z)
 *   sampling:  z ~ DDPM (reverse chain on [L] codes)  ->  x = E[x | z / s]  (the decoder's mean)
 *
 * The scale s brings the codes to unit standard deviation, the scale of the diffusion's noise (Rombach et al.'s
 * "scale factor", one number over all dimensions: 0.18215 for Stable Diffusion's autoencoder); by default it is
 * set from the codes of the first `fit`. The VAE is fixed: only the DDPM trains. The diffusion runs on L numbers
 * per image (16 for genlab's 'vae-digits') rather than 784, so an MLP learns it in minutes on a CPU, and the decoder
 * turns every code into a clean image. A class-conditional DDPM (`classes`) gives labels and guidance to the
 * images as well.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, ready } from '../engine/backend';
import { assertFiniteNumber, assertKnownOptions, describeValue, optionKeys } from '../core/validate';
import { Generative, Model } from '../core/model';
import { BatchTensor, DataShape } from '../core/shapes';
import { JsonValue, loadCheckpoint, saveCheckpoint } from '../core/checkpoint';
import { fitOptionMap, type History } from '../train/loop';
import { VAE } from '../vae/vae';
import { DDPM, DDPMFitOptions, DDPMOptions, DDPMSampleOptions } from './ddpm';

/** Options for {@link LatentDiffusion}. */
export interface LatentDiffusionOptions<S extends DataShape = DataShape> {
  /**
   * The trained VAE whose codes the DDPM learns (e.g. `await pretrained('vae-digits')`): its encoder's posterior
   * means are the codes, its decoder's means the images. The LatentDiffusion takes it over: disposing it disposes
   * the VAE.
   */
  vae: VAE<S>;
  /**
   * The DDPM on codes: {@link DDPMOptions} without `dataShape` (it is `[latentDim]`), e.g. `{ network: { kind:
   * 'mlp', hiddenUnits: [256, 256, 256] }, classes: 10, seed: 1 }`, or a DDPM with `dataShape` `[latentDim]` (taken
   * over like the VAE). Default: the DDPM's defaults. No `dataRange`: codes are unbounded.
   */
  ddpm?: Omit<DDPMOptions<[number]>, 'dataShape' | 'dataRange'> | DDPM<[number]>;
  /**
   * The scale s of the codes, z = s * mean(q(z | x)) (> 0). Default: 1 / (standard deviation of the codes of the
   * first `fit`, over all their numbers), so the DDPM sees codes of unit scale.
   */
  scale?: number;
}
const OPTION_KEYS = optionKeys<LatentDiffusionOptions>({ vae: true, ddpm: true, scale: true });

/** Options for {@link LatentDiffusion.sample}: the DDPM's sampling options on codes (no trajectory, no clip). */
export type LatentDiffusionSampleOptions = Omit<DDPMSampleOptions, 'returnTrajectory' | 'clip'>;

/** Options for {@link LatentDiffusion.fit}: the DDPM's (`validation` is images, like x). */
export type LatentDiffusionFitOptions = DDPMFitOptions;
const FIT_KEYS = optionKeys<LatentDiffusionFitOptions>({ ...fitOptionMap(), labels: true, validationLabels: true });
const SAMPLE_KEYS = optionKeys<LatentDiffusionSampleOptions>({ sampler: true, steps: true, eta: true, seed: true, batchSize: true, labels: true, guidance: true });

/** What the checkpoint's config holds. */
interface LatentConfig {
  scale: number | null;
  ddpm: { kind: string; config: JsonValue };
  vae: { kind: string; config: JsonValue };
}

/**
 * A DDPM on the codes of a VAE, decoded to images: `fit(x, { labels })` encodes the images and trains the DDPM on
 * their codes; `sample(n, { seed, labels, guidance })` samples codes and decodes them to `[n, ...vae.dataShape]`.
 */
export class LatentDiffusion<S extends DataShape = DataShape> extends Model implements Generative<S> {
  readonly kind = 'LatentDiffusion';
  /** The VAE: its encoder makes the codes, its decoder the images. Fixed (never trained here). */
  readonly vae: VAE<S>;
  /** The DDPM on (scaled) codes, `dataShape` `[latentDim]`. */
  readonly ddpm: DDPM<[number]>;
  private codeScale: number | null;

  constructor(opts: LatentDiffusionOptions<S>) {
    super();
    if (opts === null || typeof opts !== 'object') throw new TypeError(`opts must be an object; got ${describeValue(opts)}`);
    assertKnownOptions('LatentDiffusion', opts, OPTION_KEYS);
    if (!(opts.vae instanceof VAE)) throw new TypeError(`vae must be a trained VAE (e.g. await pretrained('vae-digits')); got ${describeValue(opts.vae)}`);
    if (opts.scale !== undefined) assertFiniteNumber('scale', opts.scale, { min: 0, exclusiveMin: true });
    const L = opts.vae.latentDim;
    const given = opts.ddpm ?? {};
    if (given instanceof DDPM) {
      if (given.dataShape.length !== 1 || given.dataShape[0] !== L || given.dataRange !== null) {
        throw new RangeError(`ddpm must be a DDPM on codes: dataShape [${L}] (the VAE's latentDim), no dataRange; got ${given.describe()} with dataShape [${given.dataShape.join(', ')}]`);
      }
      this.ddpm = given as DDPM<[number]>;
    } else {
      if (given === null || typeof given !== 'object') throw new TypeError(`ddpm must be DDPM options without dataShape, or a DDPM; got ${describeValue(given)}`);
      for (const key of ['dataShape', 'dataRange'] as const) {
        if (key in given) throw new Error(`ddpm.${key} is set by LatentDiffusion (codes [${L}], unbounded); leave it out`);
      }
      this.ddpm = new DDPM({ ...given, dataShape: [L] });
    }
    this.vae = opts.vae;
    this.codeScale = opts.scale ?? null;
  }

  /** Shape of one image (the VAE's). */
  get dataShape(): number[] {
    return this.vae.dataShape;
  }

  /** The code dimension L (the VAE's latentDim). */
  get latentDim(): number {
    return this.vae.latentDim;
  }

  /** The scale s of the codes (z = s * posterior mean), or null before the first `fit` sets it. */
  get scale(): number | null {
    return this.codeScale;
  }

  /** Classes K of a class-conditional DDPM; 0 when unconditional. */
  get classes(): number {
    return this.ddpm.classes;
  }

  /** E.g. `latent DDPM mlp 16+64-256-256-256-16, T=300 linear, 10 classes on the codes of VAE conv 28x28x1 [32,64]-128-16 bernoulli`. */
  describe(): string {
    return `latent DDPM ${this.ddpm.describe()} on the codes of VAE ${this.vae.describe()}`;
  }

  /**
   * The scaled codes z = s * mean(q(z | x)) of images x (`[n, D]` or `[n, ...dataShape]`), `[n, L]`: what the DDPM
   * learns. Needs the scale (given, or set by the first `fit`). Caller disposes.
   */
  encode(x: tf.Tensor): tf.Tensor2D {
    this.assertAlive();
    const s = this.requireScale('encode');
    const { mean, logVar } = this.vae.encode(x);
    logVar.dispose();
    const z = tf.tidy(() => mean.mul(s)) as tf.Tensor2D;
    mean.dispose();
    return z;
  }

  /** Images decoded from scaled codes z `[n, L]`: the VAE decoder's mean at z / s, `[n, ...dataShape]`. Caller disposes. */
  decode(z: tf.Tensor): BatchTensor<S> {
    this.assertAlive();
    const s = this.requireScale('decode');
    const unscaled = tf.tidy(() => z.div(s));
    try {
      return this.vae.decode(unscaled);
    } finally {
      unscaled.dispose();
    }
  }

  /**
   * Trains the DDPM on the codes of `x` (the VAE stays fixed); sets the scale from these codes on the first fit
   * when none was given. The options are {@link DDPM.fit}'s (`labels` for a class-conditional DDPM; `validation`
   * as images).
   */
  async fit(x: tf.Tensor, opts: LatentDiffusionFitOptions = {}): Promise<History> {
    await ready();
    this.assertAlive();
    assertKnownOptions('LatentDiffusion.fit', opts, FIT_KEYS);
    if (this.codeScale === null) {
      const { mean, logVar } = this.vae.encode(x);
      const std = tf.tidy(() => tf.moments(mean).variance.sqrt());
      const sd = (await std.data())[0];
      tf.dispose([mean, logVar, std]);
      if (!(sd > 0)) throw new Error(`the codes of x have no spread (standard deviation ${sd}); is the VAE trained?`);
      this.codeScale = 1 / sd;
    }
    const codes = this.encode(x);
    const held = opts.validation === undefined ? undefined : this.encode(opts.validation);
    try {
      return await this.ddpm.fit(codes, { ...opts, ...(held ? { validation: held } : {}) });
    } finally {
      tf.dispose([codes, held ?? []]);
    }
  }

  /**
   * `n` images: codes sampled by the DDPM (with `labels` and `guidance` for a class-conditional one; see
   * {@link DDPMSampleOptions}), decoded by the VAE to `[n, ...dataShape]` (in [0, 1] for a Bernoulli VAE).
   * Same `seed`, same images.
   */
  async sample(n: number, opts: LatentDiffusionSampleOptions = {}): Promise<BatchTensor<S>> {
    await ready();
    this.assertAlive();
    if (opts !== null && typeof opts === 'object' && ('returnTrajectory' in opts || 'clip' in opts)) {
      throw new Error('returnTrajectory and clip are DDPM options on codes: call latent.ddpm.sample for them');
    }
    assertKnownOptions('LatentDiffusion.sample', opts, SAMPLE_KEYS);
    this.requireScale('sample');
    const z = await this.ddpm.sample(n, opts);
    try {
      return this.decode(z);
    } finally {
      z.dispose();
    }
  }

  /**
   * Saves one checkpoint holding both networks: the DDPM's and the VAE's configurations and weights (prefixed
   * `ddpm/` and `vae/`) and the scale, so it loads without anything else.
   */
  async save(dir: string): Promise<void> {
    this.assertAlive();
    const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-latent-'));
    const tensors: Record<string, tf.Tensor> = {};
    try {
      const part = async (name: 'ddpm' | 'vae', model: { save(d: string): Promise<void> }) => {
        await model.save(path.join(staging, name));
        const ck = await loadCheckpoint(path.join(staging, name));
        for (const [key, t] of Object.entries(ck.tensors)) tensors[`${name}/${key}`] = t;
        return { kind: ck.kind, config: ck.config };
      };
      const config: LatentConfig = { scale: this.codeScale, ddpm: await part('ddpm', this.ddpm), vae: await part('vae', this.vae) };
      await saveCheckpoint(dir, { kind: 'LatentDiffusion', config: config as unknown as JsonValue, tensors });
    } finally {
      tf.dispose(Object.values(tensors));
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }

  /** Loads a model written by {@link LatentDiffusion.save}; refuses missing, corrupted or other checkpoints. */
  static async load(dir: string): Promise<LatentDiffusion> {
    const ck = await loadCheckpoint(dir, 'LatentDiffusion');
    const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-latent-'));
    let vae: VAE | null = null;
    let ddpm: DDPM | null = null;
    try {
      const c = ck.config as unknown as LatentConfig;
      // each part back into a checkpoint of its own, loaded by its own class (which checks it)
      const part = async (name: 'ddpm' | 'vae') => {
        const own = Object.fromEntries(Object.entries(ck.tensors).filter(([k]) => k.startsWith(`${name}/`)).map(([k, t]) => [k.slice(name.length + 1), t]));
        await saveCheckpoint(path.join(staging, name), { kind: c[name].kind, config: c[name].config, tensors: own });
        return path.join(staging, name);
      };
      vae = await VAE.load(await part('vae'));
      ddpm = await DDPM.load(await part('ddpm'));
      const model = new LatentDiffusion({ vae, ddpm: ddpm as DDPM<[number]>, ...(c.scale === null ? {} : { scale: c.scale }) });
      vae = null;
      ddpm = null;
      return model;
    } finally {
      vae?.dispose();
      ddpm?.dispose();
      tf.dispose(Object.values(ck.tensors));
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }

  /** The DDPM's weights (the VAE is fixed). */
  protected variables(): tf.Variable[] {
    return this.ddpm.network.variables;
  }

  /** Frees the DDPM and the VAE. */
  protected release(): void {
    this.ddpm?.dispose();
    this.vae?.dispose();
  }

  private requireScale(caller: string): number {
    if (this.codeScale === null) throw new Error(`LatentDiffusion.${caller} needs the codes' scale: fit first, or give scale to the constructor`);
    return this.codeScale;
  }
}
