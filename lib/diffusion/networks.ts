/**
 * Noise-prediction networks eps_theta(x_t, t) for {@link DDPM}: an MLP for vectors and a small residual U-Net for
 * images, both conditioned on a sinusoidal embedding of the integer step t (a class-conditional one also on a learned
 * embedding of the label: K + 1 rows, the last the null label of classifier-free guidance). They are plain tf.Variables and ops
 * (no tfjs-layers model: tfjs has no GroupNorm layer, and the time projection is added with broadcasting), with
 * `getWeights` / `setWeights` so checkpoints (lib/core/network-weights.ts) treat them as any network.
 *
 * Initialisation follows torch.nn (Linear and Conv2d: weights and biases U(+-1/sqrt(fan_in)); GroupNorm: gamma 1,
 * beta 0) so a PyTorch peer of the same architecture starts from the same distribution.
 */
import { tf } from '../engine/backend';
import { Random } from '../engine/random';
import { groupNorm } from '../engine/group-norm';
import { assertFiniteNumber, assertKnownOptions, assertPositiveInteger, describeValue, optionKeys } from '../core/validate';
import { isSmallVector } from '../core/defaults';

/** The MLP noise predictor for vector data: concat(x_t, emb(t)) -> hidden (SiLU) ... -> D. */
export interface MlpNetworkOptions {
  kind: 'mlp';
  /** Hidden widths. Default `[128, 128, 128]` (three SiLU layers, as common toy DDPMs). */
  hiddenUnits?: number[];
  /** Width of the sinusoidal time embedding (even). Default 64. */
  embedDim?: number;
  /**
   * Sinusoidal features of x at the input, F octaves: sin and cos of 2^k pi x / s for k = 0 .. F-1 beside x itself
   * (2 D F more inputs; s = {@link inputScale}). A small MLP fed raw x learns slopes of 1 / (a mode's width) slowly
   * (spectral bias), so its samples come out blurred; the features give it those slopes from the start, as toy
   * diffusion code for 2-D data does. Default 6 for low-dimensional vectors (D <= 16), 0 (raw x) otherwise.
   */
  inputFeatures?: number;
  /**
   * The data's scale s of {@link inputFeatures}: the lowest frequency pi / s spans the data, the highest is 2^(F-1)
   * times that. Default null: the standard deviation of the training data (working range, all coordinates), taken
   * at the first fit (and then stored with the model).
   */
  inputScale?: number | null;
}

/**
 * The U-Net noise predictor for images `[h, w, c]` (h, w divisible by 4): the course's design (residual blocks
 * conv-GroupNorm-SiLU with a time projection and a 1x1 skip, two halvings, a middle block, skip concatenations) at
 * channels `[c1, c2, c3]` for the 28, 14 and 7 pixel levels. The course uses [64, 128, 256]; genlab's default
 * [16, 32, 64] has 16x fewer multiply-adds, which is what a two-core CPU can train in a lecture.
 */
export interface UNetOptions {
  kind: 'unet';
  /** Channels at full, half and quarter resolution. Default `[16, 32, 64]` (course: `[64, 128, 256]`). */
  channels?: [number, number, number];
  /** Width of the sinusoidal time embedding (even) and of the time MLP. Default 64. */
  embedDim?: number;
  /** GroupNorm groups (the largest divisor of each channel count not above this is used). Default 8. */
  groups?: number;
}

/** A network choice: `'mlp'`, `'unet'`, or their options. */
export type NetworkOptions = 'mlp' | 'unet' | MlpNetworkOptions | UNetOptions;

const MLP_KEYS = optionKeys<MlpNetworkOptions>({ kind: true, hiddenUnits: true, embedDim: true, inputFeatures: true, inputScale: true });
const UNET_KEYS = optionKeys<UNetOptions>({ kind: true, channels: true, embedDim: true, groups: true });

/** What {@link DDPM} needs from a noise predictor. */
export interface NoiseNetwork {
  /**
   * eps_theta(x_t, t[, y]): `x` `[n, ...dataShape]`, `t` int32 `[n]` in [0, T) -> `[n, ...dataShape]`. A
   * class-conditional network also takes `y`, int32 `[n]` in [0, K] (K = {@link classes}: the null label); without
   * `y` every row gets the null label. An unconditional network ignores `y`.
   */
  apply(x: tf.Tensor, t: tf.Tensor1D, y?: tf.Tensor1D): tf.Tensor;
  /** Classes K of a class-conditional network (its label embedding has K + 1 rows); 0 or absent when unconditional. */
  readonly classes?: number;
  /** The trainable variables, in a fixed order. */
  readonly variables: tf.Variable[];
  /** Copies of nothing: the variables themselves (checkpoint order). */
  getWeights(): tf.Tensor[];
  /** Assigns every variable (same order and shapes as {@link getWeights}). */
  setWeights(weights: tf.Tensor[]): void;
  /** Resolved options (stored in checkpoints). */
  readonly options: Required<MlpNetworkOptions> | Required<UNetOptions>;
  /** E.g. `mlp 2+64-128-128-128-2` or `unet 16-32-64`. */
  describe(): string;
  /** Parameter count. */
  readonly parameterCount: number;
  /** The MLP with input features: sets their scale s (see {@link MlpNetworkOptions.inputScale}). */
  setInputScale?(scale: number): void;
  dispose(): void;
}

/**
 * The sinusoidal embedding of integer steps (Vaswani et al. 2017; Ho et al. 2020), `[T, dim]`:
 *   emb(t)_i = sin(t w_i),  emb(t)_{i + dim/2} = cos(t w_i),  w_i = 10000^(-i / (dim/2 - 1)),  i < dim/2,
 * for t = 0 .. T-1 as integers. The top frequency is 1 radian per step, so neighbouring steps differ in the fast
 * components, and the slow ones tell far-apart steps apart. (Feeding t / T with a top frequency of 1, a slip in the
 * course's code, changes the embedding by about 1/T between neighbouring steps.)
 */
export function sinusoidalEmbedding(timesteps: number, dim: number): Float32Array {
  assertPositiveInteger('timesteps', timesteps);
  if (!(Number.isInteger(dim) && dim >= 2 && dim % 2 === 0)) throw new RangeError(`embedDim must be an even integer >= 2; got ${describeValue(dim)}`);
  const half = dim / 2;
  const out = new Float32Array(timesteps * dim);
  for (let t = 0; t < timesteps; t++) {
    for (let i = 0; i < half; i++) {
      const w = Math.pow(10000, -i / Math.max(1, half - 1));
      out[t * dim + i] = Math.sin(t * w);
      out[t * dim + half + i] = Math.cos(t * w);
    }
  }
  return out;
}

/** Variables with torch.nn's default initialisation, drawn from one seeded generator. */
class Params {
  readonly list: tf.Variable[] = [];
  constructor(private readonly rng: Random) {}

  /** U(-bound, bound) of `shape`. */
  uniform(shape: number[], bound: number): tf.Variable {
    const size = shape.reduce((a, b) => a * b, 1);
    const u = this.rng.uniformArray(size);
    for (let i = 0; i < size; i++) u[i] = (2 * u[i] - 1) * bound;
    const init = tf.tensor(u, shape, 'float32');
    const v = tf.variable(init, true);
    init.dispose(); // the variable holds its own reference to the data
    this.list.push(v);
    return v;
  }

  /** N(0, 1) of `shape` (torch.nn.Embedding's initialisation). */
  normal(shape: number[]): tf.Variable {
    const init = tf.tensor(this.rng.normalArray(shape.reduce((a, b) => a * b, 1)), shape, 'float32');
    const v = tf.variable(init, true);
    init.dispose();
    this.list.push(v);
    return v;
  }

  constant(shape: number[], value: number): tf.Variable {
    const init = tf.fill(shape, value);
    const v = tf.variable(init, true);
    init.dispose();
    this.list.push(v);
    return v;
  }

  dense(nIn: number, nOut: number): Dense {
    const b = 1 / Math.sqrt(nIn);
    return { w: this.uniform([nIn, nOut], b), b: this.uniform([nOut], b) };
  }

  conv(k: number, cIn: number, cOut: number): Conv {
    const b = 1 / Math.sqrt(k * k * cIn);
    return { w: this.uniform([k, k, cIn, cOut], b), b: this.uniform([cOut], b) };
  }

  groupNorm(c: number, maxGroups: number): GroupNorm {
    let g = Math.min(maxGroups, c);
    while (c % g !== 0) g--;
    return { gamma: this.constant([c], 1), beta: this.constant([c], 0), groups: g };
  }
}

interface Dense {
  w: tf.Variable;
  b: tf.Variable;
}
interface Conv {
  w: tf.Variable;
  b: tf.Variable;
}
interface GroupNorm {
  gamma: tf.Variable;
  beta: tf.Variable;
  groups: number;
}

const dense = (x: tf.Tensor, l: Dense) => tf.add(tf.matMul(x as tf.Tensor2D, l.w as tf.Tensor2D), l.b);
const silu = (x: tf.Tensor) => tf.mul(x, tf.sigmoid(x));
const conv = (x: tf.Tensor, l: Conv, stride = 1) => tf.add(tf.conv2d(x as tf.Tensor4D, l.w as tf.Tensor4D, stride, 'same'), l.b);

/** SiLU(GroupNorm(x)) with the layer's parameters (eps 1e-5, PyTorch's): one engine op (engine/group-norm.ts). */
function groupNormSilu(x: tf.Tensor4D, l: GroupNorm): tf.Tensor4D {
  return groupNorm(x, l.gamma as tf.Tensor1D, l.beta as tf.Tensor1D, l.groups, 1e-5, { silu: true });
}

/** Nearest-neighbour 2x upsampling with rank-4 broadcasts only (tfjs' tile gradient stops at rank 4). */
function upsample2(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const ones = tf.ones([1, 1, 2, 1]);
  const wide = x.reshape([n * h, w, 1, c]).mul(ones).reshape([n, h, 1, 2 * w * c]); //  columns doubled
  return wide.mul(ones).reshape([n, 2 * h, 2 * w, c]) as tf.Tensor4D; //                   rows doubled
}

abstract class BaseNetwork {
  protected readonly embTable: tf.Tensor2D; // [T, E], constant
  protected readonly params: Params;
  /** The label embedding `[K + 1, width]` (row K: the null label), made last so unconditional weights keep their order. */
  private labelTable: tf.Variable | null = null;
  constructor(timesteps: number, embedDim: number, seed: number, readonly classes: number) {
    this.embTable = tf.keep(tf.tensor2d(sinusoidalEmbedding(timesteps, embedDim), [timesteps, embedDim]));
    this.params = new Params(new Random(seed));
  }
  /** Subclasses call this last: the learned label embedding of a class-conditional network, `width` wide. */
  protected addLabelEmbedding(width: number): void {
    if (this.classes > 0) this.labelTable = this.params.normal([this.classes + 1, width]);
  }
  /** `emb` `[n, width]` plus the embedding of each row's label (the null label K without `y`); `emb` when unconditional. */
  protected withLabel(emb: tf.Tensor, y: tf.Tensor1D | undefined): tf.Tensor {
    if (!this.labelTable) return emb;
    const labels = y ?? (tf.fill([emb.shape[0]], this.classes, 'int32') as tf.Tensor1D);
    // one-hot times the table rather than a gather: its gradient is a matMul on every backend (WASM has no
    // UnsortedSegmentSum, the gradient of gather)
    const rows = tf.matMul(tf.oneHot(labels, this.classes + 1).toFloat(), this.labelTable as tf.Tensor2D); //  c(y)  [n, width]
    return emb.add(rows); //                                                                    emb(t) + c(y)
  }
  get variables(): tf.Variable[] {
    return this.params.list;
  }
  get parameterCount(): number {
    return this.params.list.reduce((s, v) => s + v.size, 0);
  }
  getWeights(): tf.Tensor[] {
    return this.params.list;
  }
  setWeights(weights: tf.Tensor[]): void {
    if (weights.length !== this.params.list.length) throw new Error(`setWeights: expected ${this.params.list.length} tensors; got ${weights.length}`);
    this.params.list.forEach((v, i) => v.assign(weights[i]));
  }
  dispose(): void {
    this.embTable.dispose();
    for (const v of this.params.list) v.dispose();
    this.params.list.length = 0;
  }
  protected embed(t: tf.Tensor1D): tf.Tensor2D {
    return tf.gather(this.embTable, t); // [n, E]
  }
}

/** The MLP predictor (see {@link MlpNetworkOptions}). */
class MlpNetwork extends BaseNetwork implements NoiseNetwork {
  private readonly layers: Dense[] = [];
  readonly options: Required<MlpNetworkOptions>;
  /** `[D, D F]`: column d F + k holds 2^k pi / s in row d (the features' frequencies); null without features. */
  private frequencies: tf.Tensor2D | null = null;
  constructor(private readonly dim: number, timesteps: number, opts: Required<MlpNetworkOptions>, seed: number, classes: number) {
    super(timesteps, opts.embedDim, seed, classes);
    this.options = opts;
    const widths = [dim * (1 + 2 * opts.inputFeatures) + opts.embedDim, ...opts.hiddenUnits, dim];
    for (let i = 0; i + 1 < widths.length; i++) this.layers.push(this.params.dense(widths[i], widths[i + 1]));
    this.addLabelEmbedding(opts.embedDim); //                    added to the sinusoidal emb(t)
    this.setInputScale(opts.inputScale ?? 1);
  }
  /** Sets the scale s of the input features (the options keep it: it is saved with the model). */
  setInputScale(scale: number): void {
    const F = this.options.inputFeatures;
    if (F === 0) return;
    const w = new Float32Array(this.dim * this.dim * F);
    for (let d = 0; d < this.dim; d++) for (let k = 0; k < F; k++) w[d * this.dim * F + d * F + k] = (2 ** k * Math.PI) / scale;
    this.frequencies?.dispose();
    this.frequencies = tf.keep(tf.tensor2d(w, [this.dim, this.dim * F]));
  }
  apply(x: tf.Tensor, t: tf.Tensor1D, y?: tf.Tensor1D): tf.Tensor {
    return tf.tidy(() => {
      const flat = x.reshape([x.shape[0], this.dim]) as tf.Tensor2D;
      const inputs: tf.Tensor[] = [flat, this.withLabel(this.embed(t), y)];
      if (this.frequencies) {
        const phase = tf.matMul(flat, this.frequencies); //                                       [n, D F]
        inputs.splice(1, 0, tf.sin(phase), tf.cos(phase));
      }
      let h: tf.Tensor = tf.concat(inputs, 1); //                                                  [n, D (1 + 2F) + E]
      this.layers.forEach((l, i) => {
        h = dense(h, l);
        if (i + 1 < this.layers.length) h = silu(h);
      });
      return h.reshape(x.shape); //                                                                [n, D]
    });
  }
  describe(): string {
    const features = this.options.inputFeatures > 0 ? `+sin/cos x ${this.options.inputFeatures} octaves` : '';
    return `mlp ${this.dim}${features}+${this.options.embedDim}-${this.options.hiddenUnits.join('-')}-${this.dim}`;
  }
  override dispose(): void {
    this.frequencies?.dispose();
    this.frequencies = null;
    super.dispose();
  }
}

/** A residual block: conv-GN-SiLU, + time projection, conv-GN-SiLU, + (1x1 conv of) the input. */
interface ResBlock {
  conv1: Conv;
  gn1: GroupNorm;
  time: Dense;
  conv2: Conv;
  gn2: GroupNorm;
  skip: Conv | null;
}

/** The U-Net predictor (see {@link UNetOptions}). */
class UNetNetwork extends BaseNetwork implements NoiseNetwork {
  readonly options: Required<UNetOptions>;
  private readonly t1: Dense;
  private readonly t2: Dense;
  private readonly inConv: Conv;
  private readonly down1: ResBlock;
  private readonly pool1: Conv;
  private readonly down2: ResBlock;
  private readonly pool2: Conv;
  private readonly mid1: ResBlock;
  private readonly mid2: ResBlock;
  private readonly up2: ResBlock;
  private readonly up1: ResBlock;
  private readonly outGn: GroupNorm;
  private readonly outConv: Conv;

  constructor(private readonly shape: [number, number, number], timesteps: number, opts: Required<UNetOptions>, seed: number, classes: number) {
    super(timesteps, opts.embedDim, seed, classes);
    this.options = opts;
    const [c1, c2, c3] = opts.channels;
    const e = opts.embedDim;
    const p = this.params;
    const res = (cIn: number, cOut: number): ResBlock => ({
      conv1: p.conv(3, cIn, cOut),
      gn1: p.groupNorm(cOut, opts.groups),
      time: p.dense(e, cOut),
      conv2: p.conv(3, cOut, cOut),
      gn2: p.groupNorm(cOut, opts.groups),
      skip: cIn === cOut ? null : p.conv(1, cIn, cOut),
    });
    this.t1 = p.dense(e, e);
    this.t2 = p.dense(e, e);
    this.inConv = p.conv(3, shape[2], c1);
    this.down1 = res(c1, c1);
    this.pool1 = p.conv(3, c1, c1);
    this.down2 = res(c1, c2);
    this.pool2 = p.conv(3, c2, c2);
    this.mid1 = res(c2, c3);
    this.mid2 = res(c3, c3);
    this.up2 = res(c3 + c2, c2);
    this.up1 = res(c2 + c1, c1);
    this.outGn = p.groupNorm(c1, opts.groups);
    this.outConv = p.conv(3, c1, shape[2]);
    this.addLabelEmbedding(e); //                                added to the time MLP's output
  }

  private block(x: tf.Tensor4D, temb: tf.Tensor2D, b: ResBlock): tf.Tensor4D {
    const n = x.shape[0];
    let h = groupNormSilu(conv(x, b.conv1) as tf.Tensor4D, b.gn1); //                          [n, h, w, cOut]
    const c = h.shape[3];
    h = h.add(dense(silu(temb), b.time).reshape([n, 1, 1, c])); //                    time projection, broadcast
    h = groupNormSilu(conv(h, b.conv2) as tf.Tensor4D, b.gn2);
    return h.add(b.skip ? conv(x, b.skip) : x) as tf.Tensor4D;
  }

  apply(x: tf.Tensor, t: tf.Tensor1D, y?: tf.Tensor1D): tf.Tensor {
    return tf.tidy(() => {
      const n = x.shape[0];
      const img = x.reshape([n, ...this.shape]) as tf.Tensor4D; //                                  [n, 28, 28, 1]
      const temb = this.withLabel(dense(silu(dense(this.embed(t), this.t1)), this.t2), y) as tf.Tensor2D; // [n, E]
      const h0 = conv(img, this.inConv) as tf.Tensor4D; //                                         [n, 28, 28, c1]
      const s1 = this.block(h0, temb, this.down1); //                                              [n, 28, 28, c1]
      const s2 = this.block(conv(s1, this.pool1, 2) as tf.Tensor4D, temb, this.down2); //          [n, 14, 14, c2]
      let m = this.block(conv(s2, this.pool2, 2) as tf.Tensor4D, temb, this.mid1); //              [n, 7, 7, c3]
      m = this.block(m, temb, this.mid2);
      const u2 = this.block(tf.concat([upsample2(m), s2], 3), temb, this.up2); //                  [n, 14, 14, c2]
      const u1 = this.block(tf.concat([upsample2(u2), s1], 3), temb, this.up1); //                 [n, 28, 28, c1]
      const out = conv(groupNormSilu(u1, this.outGn), this.outConv); //                            [n, 28, 28, c]
      return out.reshape(x.shape);
    });
  }
  describe(): string {
    return `unet ${this.options.channels.join('-')}`;
  }
}

/** Fills defaults and validates a network choice for data of `dataShape`. */
export function resolveNetworkOptions(network: NetworkOptions | undefined, dataShape: number[]): Required<MlpNetworkOptions> | Required<UNetOptions> {
  const chosen = network ?? (dataShape.length === 3 ? 'unet' : 'mlp');
  const o: MlpNetworkOptions | UNetOptions = typeof chosen === 'string' ? ({ kind: chosen } as MlpNetworkOptions | UNetOptions) : chosen;
  if (o === null || typeof o !== 'object' || (o.kind !== 'mlp' && o.kind !== 'unet')) {
    throw new TypeError(`network must be 'mlp', 'unet', { kind: 'mlp', ... } or { kind: 'unet', ... }; got ${describeValue(chosen)}`);
  }
  if (o.kind === 'mlp') {
    assertKnownOptions('DDPM network (mlp)', o, MLP_KEYS);
    const hiddenUnits = o.hiddenUnits ?? [128, 128, 128];
    if (!Array.isArray(hiddenUnits) || hiddenUnits.length === 0) throw new TypeError(`network.hiddenUnits must be a non-empty array; got ${describeValue(hiddenUnits)}`);
    hiddenUnits.forEach((u, i) => assertPositiveInteger(`network.hiddenUnits[${i}]`, u));
    const embedDim = o.embedDim ?? 64;
    assertEven('network.embedDim', embedDim);
    const inputFeatures = o.inputFeatures ?? (isSmallVector(dataShape) ? 6 : 0);
    if (!(Number.isInteger(inputFeatures) && inputFeatures >= 0)) throw new RangeError(`network.inputFeatures must be an integer >= 0; got ${describeValue(inputFeatures)}`);
    const inputScale = o.inputScale ?? null;
    if (inputScale !== null) assertFiniteNumber('network.inputScale', inputScale, { min: 0, exclusiveMin: true });
    return { kind: 'mlp', hiddenUnits: [...hiddenUnits], embedDim, inputFeatures, inputScale };
  }
  assertKnownOptions('DDPM network (unet)', o, UNET_KEYS);
  if (dataShape.length !== 3 || dataShape[0] % 4 !== 0 || dataShape[1] % 4 !== 0) {
    throw new RangeError(`the U-Net needs dataShape [h, w, c] with h and w divisible by 4; got [${dataShape.join(', ')}]`);
  }
  const channels = o.channels ?? [16, 32, 64];
  if (!Array.isArray(channels) || channels.length !== 3) throw new TypeError(`network.channels must be [c1, c2, c3]; got ${describeValue(channels)}`);
  channels.forEach((c, i) => assertPositiveInteger(`network.channels[${i}]`, c));
  const embedDim = o.embedDim ?? 64;
  assertEven('network.embedDim', embedDim);
  const groups = o.groups ?? 8;
  assertPositiveInteger('network.groups', groups);
  return { kind: 'unet', channels: [channels[0], channels[1], channels[2]], embedDim, groups };
}

function assertEven(name: string, v: unknown): asserts v is number {
  if (!(typeof v === 'number' && Number.isInteger(v) && v >= 2 && v % 2 === 0)) throw new RangeError(`${name} must be an even integer >= 2; got ${describeValue(v)}`);
}

/**
 * Builds the noise predictor for `dataShape` (resolved options from {@link resolveNetworkOptions}); `classes` K > 0
 * makes it class-conditional (a learned label embedding of K + 1 rows, the last the null label).
 */
export function buildNoiseNetwork(
  opts: Required<MlpNetworkOptions> | Required<UNetOptions>,
  dataShape: number[],
  timesteps: number,
  seed: number,
  classes = 0,
): NoiseNetwork {
  if (opts.kind === 'mlp') return new MlpNetwork(dataShape.reduce((a, b) => a * b, 1), timesteps, opts, seed, classes);
  return new UNetNetwork(dataShape as [number, number, number], timesteps, opts, seed, classes);
}
