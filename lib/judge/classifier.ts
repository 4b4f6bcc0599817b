/**
 * The digit judge: a small convolutional classifier of 28x28 digits, trained by genlab's one loop, whose class
 * probabilities say whether a generated digit is recognisable and whose penultimate activations are the features
 * of the Frechet distance ("FID on MNIST", lib/judge/quality.ts).
 *
 * The network (k = 3x3 kernels, 'same' padding, F1 = 32 and F2 = 64 filters, H = 128 features by default):
 *
 *   x [n, 28, 28, 1] -> conv(F1) -> ReLU -> maxPool 2   [n, 14, 14, F1]
 *                    -> conv(F2) -> ReLU -> maxPool 2   [n, 7, 7, F2]
 *                    -> flatten -> dense(H) -> ReLU     [n, H]   = features(x)
 *                    -> dropout (training only) -> dense(C + 1) logits [n, C + 1]
 *   predict(x) = the first C columns of softmax(logits): p(c | x) for the C digit classes; the last output is "not a
 *   digit", so a row sums to 1 - p(not a digit | x)
 *
 * Training minimises the cross-entropy -mean_i log softmax(l_i)[y_i] with Adam, through {@link runEpochs}: the loop
 * hands each batch's row indices to the step (`stepRows`), which gathers the digits and their labels itself. Each
 * training digit is shifted by a random whole number of pixels in [-augment, augment] along each axis (zeros
 * shifted in): the classic MNIST augmentation, which keeps a small training set from being learnt by heart.
 *
 * A plain classifier names a class for anything, noise included, with high confidence: trained on digits alone, this
 * one gave 99% of independent-pixel images to class 8 with confidence >= 0.9. A judge must be able to say "no
 * digit". So each batch also shows as many non-digits made from the batch -- independent-pixel images (every pixel
 * from a random digit of the batch) and scrambled digits (a digit's pixels in random order) -- labelled with an extra
 * class, "not a digit" (a background class; Outlier Exposure, Hendrycks, Mazeika & Dietterich 2019, trains such
 * outliers towards the uniform distribution instead, which also flattened this judge's confidence on real digits):
 *
 *   loss = -mean_i log p(y_i | x_i)  +  lambda * (-mean_o log p(not a digit | x_o))        (lambda = outlierWeight)
 *
 * With `rejectClass: false` the network has C outputs and the outliers' target is the uniform distribution (the
 * second term is then -mean_o mean_c log p(c | x_o) >= log C).
 */
import { ready, tf } from '../engine/backend';
import { Random } from '../engine/random';
import {
  assertFiniteNumber,
  assertKnownOptions,
  assertNonNegativeInteger,
  assertPositiveInteger,
  describeValue,
  optionKeys,
} from '../core/validate';
import { CompiledGradientStep, FitOptions, History, resolveFitOptions, resolveLoopOptions, runEpochs, fitOptionMap } from '../train/loop';
import { JsonValue, saveCheckpoint } from '../core/checkpoint';
import { Model } from '../core/model';
import { DataRange, flattenData, FlatData } from '../core/data';
import { labelArray, type Labels } from '../core/labels';

export type { Labels } from '../core/labels';

/** Digits with their labels (a classifier's held-out data). */
export interface LabelledData {
  /** `[n, 784]` or `[n, 28, 28, 1]`, values in [0, 1]. */
  x: tf.Tensor;
  /** The class of each row. */
  labels: Labels;
}

/** Options for {@link DigitClassifier}. */
export interface DigitClassifierOptions {
  /** Shape of one image `[height, width, channels]`, height and width divisible by 4. Default `[28, 28, 1]`. */
  dataShape?: [number, number, number];
  /** Number of classes C, integer >= 2. Default 10 (the digits). */
  classes?: number;
  /**
   * An extra output for "not a digit", trained on the outliers of `fit` (see the module comment), so that the judge
   * gives non-digits low digit probabilities. Default true. false: C outputs, outliers trained towards uniform.
   */
  rejectClass?: boolean;
  /** Filters of the two 3x3 convolution blocks, `[F1, F2]`. Default `[32, 64]`. */
  filters?: [number, number];
  /** Width H of the penultimate dense layer (the {@link DigitClassifier.features}), integer >= 1. Default 128. */
  featureUnits?: number;
  /** Dropout rate on the features during training, in [0, 1). Default 0.3. */
  dropout?: number;
  /** Seed of the initial weights and of the training randomness (order, shifts, dropout). Default: random. */
  seed?: number;
}

const OPTION_KEYS = optionKeys<DigitClassifierOptions>({
  dataShape: true, classes: true, rejectClass: true, filters: true, featureUnits: true, dropout: true, seed: true,
});

/** Metrics of one epoch of {@link DigitClassifier.fit}. */
export interface DigitClassifierEpochLogs {
  /** Mean cross-entropy of the training batches (nats; with shifts and dropout). */
  loss: number;
  /** Fraction of training digits classified right (with shifts and dropout). */
  accuracy: number;
  /**
   * Cross-entropy of the outliers' predictions to their target: -mean log p(not a digit | outlier) with the reject
   * class, to the uniform distribution (>= log C) without. NaN when outlierWeight is 0.
   */
  outlierLoss: number;
  /** Wall seconds of the epoch's training. */
  seconds: number;
  /** Cross-entropy on `validation` (no shifts, no dropout). */
  valLoss?: number;
  /** Accuracy on `validation`. */
  valAccuracy?: number;
}

/** Options for {@link DigitClassifier.fit}: the loop's options (see {@link FitOptions}) with labelled validation data. */
export interface DigitClassifierFitOptions extends Omit<FitOptions<DigitClassifierEpochLogs>, 'validation'> {
  /** Passes over the data. Integer >= 1. Default 10. */
  epochs?: number;
  /** Mini-batch size. Integer >= 1. Default 64. */
  batchSize?: number;
  /** Adam step size, > 0. Default 1e-3. */
  learningRate?: number;
  /** Held-out digits and labels: `valLoss` and `valAccuracy` are recorded after every epoch. */
  validation?: LabelledData;
  /** Largest random shift of a training digit in pixels along each axis, integer >= 0 (0: none). Default 2. */
  augment?: number;
  /**
   * Weight lambda of the outlier term (see the module comment): each batch also shows as many non-digits
   * (independent-pixel images and scrambled digits, made from the batch) labelled "not a digit" (uniform
   * without the reject class), so that the judge gives non-digits low confidence. >= 0; 0 turns it off. Default 0.5.
   */
  outlierWeight?: number;
  /** Seed of this fit's randomness (order, shifts, dropout, outliers); default: continues the model's training stream. */
  seed?: number;
}

const FIT_KEYS = optionKeys<DigitClassifierFitOptions>({ ...fitOptionMap(), augment: true, outlierWeight: true });

/** What {@link DigitClassifier.fit} returns: per-epoch `loss`, `accuracy` (and `valLoss`, `valAccuracy`), `epoch`, `seconds`. */
export type DigitClassifierHistory = History & { loss: number[]; accuracy: number[]; outlierLoss: number[] };

/** The saved configuration. */
interface ClassifierConfig {
  dataShape: [number, number, number];
  classes: number;
  rejectClass: boolean;
  filters: [number, number];
  featureUnits: number;
  dropout: number;
  seed: number;
}

/** Defaults, each with its reason. */
const DEFAULTS = {
  dataShape: [28, 28, 1] as [number, number, number], // MNIST
  classes: 10,
  filters: [32, 64] as [number, number], //              enough for >= 98% on 8 000 digits, cheap on two cores
  featureUnits: 128, //                                  the FID feature width: small enough for a 128x128 covariance
  dropout: 0.3,
  epochs: 10,
  batchSize: 64,
  learningRate: 1e-3, //                                 Adam's usual step
  adamEpsilon: 1e-7, //                                  Keras' Adam
  augment: 2, //                                         +-2 px shifts: the classic MNIST augmentation
  outlierWeight: 0.5, //                                 Outlier Exposure's lambda (Hendrycks et al. 2019)
  rejectClass: true, //                                  keeps the confidence on real digits (see the module comment)
  chunk: 500, //                                         rows per inference batch (bounds the conv activations' memory)
  /** The pixel range the judge reads (digits in [0, 1]). */
  range: [0, 1] as DataRange,
} as const;

/** The variable names, in checkpoint order. */
const WEIGHTS = ['conv1/kernel', 'conv1/bias', 'conv2/kernel', 'conv2/bias', 'dense/kernel', 'dense/bias', 'out/kernel', 'out/bias'] as const;
type WeightName = (typeof WEIGHTS)[number];

/**
 * A small convolutional image classifier (see the module comment), the judge of generated digits:
 * `predict(x)` gives class probabilities, `features(x)` the penultimate layer's activations.
 *
 * ```ts
 * const judge = new DigitClassifier({ seed: 1 });
 * await judge.fit(train.images, train.labels, { epochs: 10, validation: { x: test.images, labels: test.labels } });
 * const p = judge.predict(test.images); // [n, 10] probabilities
 * ```
 * The trained judge ships with genlab: `await pretrained('digit-classifier')`.
 */
export class DigitClassifier extends Model {
  readonly kind = 'DigitClassifier';
  /** Shape of one image, `[height, width, channels]`. */
  readonly dataShape: number[];
  /** Number of classes C (the digits; the "not a digit" output is not counted). */
  readonly classes: number;
  /** Outputs of the network: C, plus 1 with the reject class. */
  private readonly outputs: number;
  /** Width of {@link DigitClassifier.features}. */
  readonly featureUnits: number;
  private readonly config: ClassifierConfig;
  private readonly rng: Random;
  private readonly weights: Record<WeightName, tf.Variable>;

  constructor(opts: DigitClassifierOptions = {}) {
    super();
    if (opts === null || typeof opts !== 'object') throw new TypeError(`opts must be an object; got ${describeValue(opts)}`);
    assertKnownOptions('DigitClassifier', opts, OPTION_KEYS);
    const shape = opts.dataShape ?? DEFAULTS.dataShape;
    if (!Array.isArray(shape) || shape.length !== 3) throw new RangeError(`dataShape must be [height, width, channels]; got ${describeValue(shape)}`);
    shape.forEach((d, i) => assertPositiveInteger(`dataShape[${i}]`, d));
    if (shape[0] % 4 !== 0 || shape[1] % 4 !== 0) {
      throw new RangeError(`dataShape must have height and width divisible by 4 (two 2x2 poolings); got [${shape.join(', ')}]`);
    }
    const classes = opts.classes ?? DEFAULTS.classes;
    assertPositiveInteger('classes', classes);
    if (classes < 2) throw new RangeError(`classes must be at least 2; got ${classes}`);
    const rejectClass = opts.rejectClass ?? DEFAULTS.rejectClass;
    if (typeof rejectClass !== 'boolean') throw new TypeError(`rejectClass must be true or false; got ${describeValue(rejectClass)}`);
    const filters = opts.filters ?? DEFAULTS.filters;
    if (!Array.isArray(filters) || filters.length !== 2) throw new TypeError(`filters must be [F1, F2]; got ${describeValue(filters)}`);
    filters.forEach((f, i) => assertPositiveInteger(`filters[${i}]`, f));
    const featureUnits = opts.featureUnits ?? DEFAULTS.featureUnits;
    assertPositiveInteger('featureUnits', featureUnits);
    const dropout = opts.dropout ?? DEFAULTS.dropout;
    assertFiniteNumber('dropout', dropout, { min: 0, max: 1, exclusiveMax: true });
    if (opts.seed !== undefined) assertFiniteNumber('seed', opts.seed);
    this.rng = new Random(opts.seed);
    this.dataShape = [...shape];
    this.classes = classes;
    this.outputs = classes + (rejectClass ? 1 : 0);
    this.featureUnits = featureUnits;
    this.config = { dataShape: [shape[0], shape[1], shape[2]], classes, rejectClass, filters: [filters[0], filters[1]], featureUnits, dropout, seed: this.rng.seed };

    // He-uniform kernels for the ReLU layers, Glorot-uniform for the output; zero biases; drawn from genlab's
    // generator, so a seed gives the same network on every backend.
    const init = new Random(this.rng.seedInt());
    const [h, w, c] = shape;
    const [f1, f2] = filters;
    const flat = (h / 4) * (w / 4) * f2;
    const uniform = (shapeOf: number[], limit: number) =>
      tf.tidy(() => tf.variable(tf.tensor(init.uniformArray(shapeOf.reduce((a, b) => a * b, 1)).map((u) => (2 * u - 1) * limit), shapeOf), true));
    const zeros = (n: number) => tf.tidy(() => tf.variable(tf.zeros([n]), true));
    const made: Partial<Record<WeightName, tf.Variable>> = {};
    this.weights = made as Record<WeightName, tf.Variable>;
    try {
      made['conv1/kernel'] = uniform([3, 3, c, f1], Math.sqrt(6 / (9 * c)));
      made['conv1/bias'] = zeros(f1);
      made['conv2/kernel'] = uniform([3, 3, f1, f2], Math.sqrt(6 / (9 * f1)));
      made['conv2/bias'] = zeros(f2);
      made['dense/kernel'] = uniform([flat, featureUnits], Math.sqrt(6 / flat));
      made['dense/bias'] = zeros(featureUnits);
      made['out/kernel'] = uniform([featureUnits, this.outputs], Math.sqrt(6 / (featureUnits + this.outputs)));
      made['out/bias'] = zeros(this.outputs);
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // The network

  /**
   * Features `[n, H]` and logits `[n, K]` (K = C, + 1 with the reject class) of flat images `x` `[n, D]`; `mask` `[n, H]` (inverted dropout: 0 or
   * 1 / (1 - rate)) multiplies the features in training.
   */
  private forward(x: tf.Tensor2D, mask: tf.Tensor | null): { features: tf.Tensor2D; logits: tf.Tensor2D } {
    const W = this.weights;
    const n = x.shape[0];
    const [h, w, c] = this.config.dataShape;
    // conv 3x3 'same' -> ReLU -> 2x2 max-pool, twice
    const block = (a: tf.Tensor4D, kernel: tf.Variable, bias: tf.Variable): tf.Tensor4D =>
      tf.maxPool(tf.relu(tf.conv2d(a, kernel as tf.Tensor4D, 1, 'same').add(bias)) as tf.Tensor4D, 2, 2, 'valid');
    let a = x.reshape([n, h, w, c]) as tf.Tensor4D; //                                          [n, h, w, c]
    a = block(a, W['conv1/kernel'], W['conv1/bias']); //                                        [n, h/2, w/2, F1]
    a = block(a, W['conv2/kernel'], W['conv2/bias']); //                                        [n, h/4, w/4, F2]
    const features = tf.relu(tf.matMul(a.reshape([n, -1]), W['dense/kernel']).add(W['dense/bias'])) as tf.Tensor2D; //  [n, H]
    const kept = mask ? features.mul(mask) : features;
    const logits = tf.matMul(kept, W['out/kernel']).add(W['out/bias']) as tf.Tensor2D; //                                  [n, K]
    return { features, logits };
  }

  /** `f` of each chunk of rows of flat `x` (inference), concatenated: bounds the memory of the conv activations. */
  private chunked(x: tf.Tensor2D, f: (xb: tf.Tensor2D) => tf.Tensor2D): tf.Tensor2D {
    const n = x.shape[0];
    if (n <= DEFAULTS.chunk) return tf.tidy(() => f(x));
    const parts: tf.Tensor2D[] = [];
    try {
      for (let start = 0; start < n; start += DEFAULTS.chunk) {
        const size = Math.min(DEFAULTS.chunk, n - start);
        parts.push(tf.tidy(() => f(x.slice([start, 0], [size, x.shape[1]]))));
      }
      return tf.concat(parts);
    } finally {
      tf.dispose(parts);
    }
  }

  /** Checks images `x` (`[n, D]` or `[n, h, w, c]`, finite) and returns them flat. */
  private images(name: string, x: unknown, range?: DataRange): FlatData {
    const rangeHint = range ? 'the judge reads pixel intensities in [0, 1]: rescale the digits, or clip them with tf.clipByValue(x, 0, 1)' : undefined;
    return flattenData(name, x, this.dataShape, { finite: true, range, rangeHint });
  }

  /**
   * Class probabilities p(c | x): `[n, C]` (caller disposes). With the reject class a row sums to 1 - p(not a digit |
   * x), so a non-digit gets low probabilities for every class; without it rows sum to 1.
   * @param x Images `[n, D]` or `[n, h, w, c]` (`[n, 784]` or `[n, 28, 28, 1]` for digits), values in [0, 1].
   */
  predict(x: tf.Tensor): tf.Tensor2D {
    this.assertAlive();
    const data = this.images('x', x);
    try {
      return this.chunked(data.x, (xb) => tf.softmax(this.forward(xb, null).logits).slice([0, 0], [xb.shape[0], this.classes]));
    } finally {
      if (data.owned) data.x.dispose();
    }
  }

  /**
   * The penultimate layer's activations (after its ReLU): `[n, H]` (caller disposes). These are the features the
   * Frechet distance of {@link digitQuality} compares.
   * @param x Images `[n, D]` or `[n, h, w, c]`, values in [0, 1].
   */
  features(x: tf.Tensor): tf.Tensor2D {
    this.assertAlive();
    const data = this.images('x', x);
    try {
      return this.chunked(data.x, (xb) => this.forward(xb, null).features);
    } finally {
      if (data.owned) data.x.dispose();
    }
  }

  /**
   * Mean cross-entropy (nats) and accuracy (fraction right) on labelled images, in inference mode. A digit judged
   * "not a digit" counts as wrong.
   * @param x Images `[n, D]` or `[n, h, w, c]`, values in [0, 1].
   * @param labels The class of each row.
   */
  evaluate(x: tf.Tensor, labels: Labels): { loss: number; accuracy: number } {
    this.assertAlive();
    const data = this.images('x', x);
    try {
      return this.scores(data.x, this.labelTensor('labels', labels, data.x.shape[0]));
    } finally {
      if (data.owned) data.x.dispose();
    }
  }

  /** Loss and accuracy of flat `x` against int32 `y` (disposed here). */
  private scores(x: tf.Tensor2D, y: tf.Tensor1D): { loss: number; accuracy: number } {
    try {
      const logits = this.chunked(x, (xb) => this.forward(xb, null).logits); //                       [n, C]
      const both = tf.tidy(() => {
        const picked = tf.sum(tf.logSoftmax(logits).mul(tf.oneHot(y, this.outputs)), 1); //      log p(y_i | x_i)  [n]
        return tf.stack([picked.mean().neg(), tf.equal(logits.argMax(1), y).toFloat().mean()]);
      });
      logits.dispose();
      const [loss, accuracy] = both.dataSync();
      both.dispose();
      return { loss, accuracy };
    } finally {
      y.dispose();
    }
  }

  /** Checks `labels` (n integers in 0..C-1) and returns them as a new int32 tensor `[n]`. */
  private labelTensor(name: string, labels: unknown, n: number): tf.Tensor1D {
    return tf.tensor1d(labelArray(name, labels, n, this.classes), 'int32');
  }

  // ------------------------------------------------------------------------------------------------------
  // Training

  /**
   * Trains on labelled images (see the module comment) through genlab's training loop. A second `fit` continues the
   * first (epoch numbers, Adam's moments while the learning rate stays, the training stream); `reset: true` starts
   * afresh; a fit that diverges leaves the weights as after the last finite epoch.
   * @param x Training images `[n, D]` or `[n, h, w, c]`, values in [0, 1].
   * @param labels The class of each row, integers in 0..C-1.
   * @returns The {@link DigitClassifierHistory}.
   */
  async fit(x: tf.Tensor, labels: Labels, opts: DigitClassifierFitOptions = {}): Promise<DigitClassifierHistory> {
    await ready();
    this.assertAlive();
    assertKnownOptions('DigitClassifier.fit', opts, FIT_KEYS);
    const { epochs, batchSize, learningRate } = resolveFitOptions(opts, DEFAULTS);
    const { reset } = resolveLoopOptions('DigitClassifier.fit', opts);
    const augment = opts.augment ?? DEFAULTS.augment;
    assertNonNegativeInteger('augment', augment);
    const lambda = opts.outlierWeight ?? DEFAULTS.outlierWeight;
    assertFiniteNumber('outlierWeight', lambda, { min: 0 });
    if (opts.seed !== undefined) assertFiniteNumber('seed', opts.seed);
    const v = opts.validation;
    if (v !== undefined && (v === null || typeof v !== 'object' || !('x' in v) || !('labels' in v))) {
      throw new TypeError(`validation must be { x, labels }; got ${describeValue(v)}`);
    }
    const tensors: tf.Tensor[] = [];
    const own = <T extends tf.Tensor>(t: T): T => (tensors.push(t), t);
    let compiled: CompiledGradientStep | null = null;
    try {
      const data = this.images('x', x, DEFAULTS.range);
      if (data.owned) own(data.x);
      const n = data.x.shape[0];
      const y = own(this.labelTensor('labels', labels, n));
      const val = v ? this.images('validation.x', v.x, DEFAULTS.range) : null;
      if (val?.owned) own(val.x);
      const valY = val ? own(this.labelTensor('validation.labels', v!.labels, val.x.shape[0])) : null;

      if (reset) this.training.reset();
      const rng = this.training.generator(opts.seed, () => this.rng.fork());
      const optimizer = this.training.adam(learningRate, DEFAULTS.adamEpsilon);
      const K = this.outputs;
      const Y = own(tf.tidy(() => tf.oneHot(y, K).toFloat())); //                                  [n, K]
      // the outliers' target: "not a digit" (one-hot on the last output), or uniform over the C classes without it
      const target = own(tf.tensor1d(Array.from({ length: K }, (_, c) => (K > this.classes ? (c === this.classes ? 1 : 0) : 1 / K)))); // [K]
      const shifts = shiftTable(this.config.dataShape, augment);
      const H = this.featureUnits;
      const rate = this.config.dropout;
      const D = data.x.shape[1];

      // One compiled step: gather the (shifted) batch, its labels and the outliers, forward, the loss, gradients and
      // Adam (engine/tensorflow-graph.ts; op by op on other backends). Batch and outliers come as indices into X flat,
      // made in JavaScript (integer arithmetic on tensors cannot be recorded).
      compiled = new CompiledGradientStep(this.variables(), optimizer, ([X, Yall, outTarget, rows, pixels, valid, mask, outliers]) => {
        const b = rows.shape[0];
        const flat = X.reshape([-1]);
        const xb = tf.gather(flat, pixels).reshape([b, D]).mul(valid); //                           digits [b, D]
        const yb = tf.gather(Yall, rows); //                                                         [b, K]
        if (lambda === 0) {
          const { logits } = this.forward(xb as tf.Tensor2D, mask);
          const loss = tf.logSoftmax(logits).mul(yb).sum().div(-b) as tf.Scalar; //      cross-entropy, mean
          const right = tf.equal(logits.argMax(1), yb.argMax(1)).toFloat().mean();
          return [loss, tf.stack([loss, right, tf.scalar(NaN)])];
        }
        const xo = tf.gather(flat, outliers).reshape([b, D]); //                                 outliers [b, D]
        const { logits: both } = this.forward(tf.concat([xb, xo]) as tf.Tensor2D, mask); //               [2b, K]
        const logits = both.slice([0, 0], [b, K]);
        const logp = tf.logSoftmax(both);
        const digitLoss = logp.slice([0, 0], [b, K]).mul(yb).sum().div(-b) as tf.Scalar; //             -mean log p(y|x)
        const outlierLoss = logp.slice([b, 0], [b, K]).mul(outTarget).sum().div(-b) as tf.Scalar; //     -mean_o log p(t|x_o)
        const right = tf.equal(logits.argMax(1), yb.argMax(1)).toFloat().mean();
        return [digitLoss.add(outlierLoss.mul(lambda)) as tf.Scalar, tf.stack([digitLoss, right, outlierLoss])];
      }, 'digit_classifier_step');
      const step = compiled;

      const history = await this.fitLoop(opts, {
        x: data.x,
        epochs,
        batchSize,
        rng,
        metricNames: ['loss', 'accuracy', 'outlierLoss'],
        learningRate,
        step: () => {
          throw new Error('DigitClassifier trains through stepRows');
        },
        stepRows: (X, rows, size) => {
          const r = rows.dataSync(); //                                        uploaded from JavaScript: no transfer
          // digit i, shifted by draw k: output pixel p = X[rows[i], sources[k, p]] * valid[k, p]
          const pixels = new Int32Array(size * D);
          const valid = new Float32Array(size * D);
          for (let i = 0; i < size; i++) {
            const k = rng.int(shifts.count);
            for (let p = 0; p < D; p++) {
              pixels[i * D + p] = r[i] * D + shifts.sources[k * D + p];
              valid[i * D + p] = shifts.valid[k * D + p];
            }
          }
          const inputs = [X, Y, target, rows, tf.tensor1d(pixels, 'int32'), tf.tensor2d(valid, [size, D])];
          const m = lambda > 0 ? 2 * size : size; //                                      rows through the network
          inputs.push(
            rate > 0
              ? tf.tensor2d(rng.uniformArray(m * H).map((u) => (u >= rate ? 1 / (1 - rate) : 0)), [m, H]) //   dropout [m, H]
              : tf.ones([m, H]),
          );
          if (lambda > 0) inputs.push(outlierIndices(r, D, rng));
          return step.run(inputs);
        },
        validationData: val?.x,
        validate: (vx) => this.scores(vx, valY!.clone() as tf.Tensor1D),
      });
      return history as DigitClassifierHistory;
    } finally {
      compiled?.dispose();
      tf.dispose(tensors);
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // Files and the contract

  /** Saves the weights and the configuration to `dir` atomically (lib/core/checkpoint.ts). */
  async save(dir: string): Promise<void> {
    this.assertAlive();
    await saveCheckpoint(dir, { kind: this.kind, config: this.config as unknown as JsonValue, tensors: { ...this.weights } });
  }

  /** Loads a classifier written by {@link DigitClassifier.save}; refuses missing, corrupted or mismatched checkpoints. */
  static async load(dir: string): Promise<DigitClassifier> {
    return DigitClassifier.loadCheckpointed(
      dir,
      'DigitClassifier',
      (config) => {
        const c = config as unknown as ClassifierConfig;
        return new DigitClassifier({ ...c });
      },
      (model, tensors) => {
        for (const name of WEIGHTS) {
          const t = tensors[name];
          const w = model.weights[name];
          if (!t || t.shape.join(',') !== w.shape.join(',')) {
            throw new Error(`checkpoint at ${dir}: weight '${name}' is missing or has the wrong shape (expected [${w.shape.join(', ')}])`);
          }
        }
        for (const name of WEIGHTS) model.weights[name].assign(tensors[name]);
      },
    );
  }

  /** The weights and biases of the four layers. */
  protected variables(): tf.Variable[] {
    return WEIGHTS.map((name) => this.weights[name]);
  }

  /** Frees the weights (the optimiser goes with the training state). */
  protected release(): void {
    // fields are undefined when the constructor threw part-way
    if (this.weights) tf.dispose(Object.values(this.weights));
  }

  /** A short description, e.g. `conv 28x28x1 [32,64] dense 128 -> 10 + reject dropout 0.3`. */
  describe(): string {
    const c = this.config;
    return (
      `conv ${c.dataShape.join('x')} [${c.filters.join(',')}] dense ${c.featureUnits} -> ${c.classes}` +
      (c.rejectClass ? ' + reject' : '') + (c.dropout > 0 ? ` dropout ${c.dropout}` : '')
    );
  }
}

/**
 * The outliers of a batch of rows `r` (one per row), as indices into X flat `[b * D]`, of two kinds by turn:
 * - independent pixels: pixel p from the digit of a random row of the batch (a grey blob with speckle);
 * - a scrambled digit: a random row's pixels in a random order (its ink as salt-and-pepper noise).
 * (Overlays of two digits are not needed: a judge trained on digits already splits its probability between the two
 * classes, below the 0.9 of "recognised"; as outliers they cost it accuracy and confidence on real digits.)
 */
function outlierIndices(r: ArrayLike<number>, D: number, rng: Random): tf.Tensor1D {
  const b = r.length;
  const idx = new Int32Array(b * D);
  for (let o = 0; o < b; o++) {
    const base = o * D;
    if (o % 2 === 0) {
      for (let p = 0; p < D; p++) idx[base + p] = r[rng.int(b)] * D + p;
    } else {
      const k = r[rng.int(b)] * D;
      const order = rng.permutation(D);
      for (let p = 0; p < D; p++) idx[base + p] = k + order[p];
    }
  }
  return tf.tensor1d(idx, 'int32');
}

/**
 * The shifted copies of an image as gathers: for each of the `count` = (2a + 1)^2 shifts (dx, dy) in [-a, a]^2, the
 * source index of every output pixel (`sources` [count * D]; 0 where the source lies outside) and whether it lies
 * inside (`valid` [count * D], 1 or 0). Output pixel (r, c) takes source pixel (r - dy, c - dx): the image moves by
 * (dx, dy), and zeros come in at the edge.
 */
function shiftTable(shape: [number, number, number], a: number): { count: number; sources: Int32Array; valid: Float32Array } {
  const [h, w, ch] = shape;
  const D = h * w * ch;
  const count = (2 * a + 1) ** 2;
  const sources = new Int32Array(count * D);
  const valid = new Float32Array(count * D);
  let k = 0;
  for (let dy = -a; dy <= a; dy++) {
    for (let dx = -a; dx <= a; dx++, k++) {
      for (let r = 0; r < h; r++) {
        for (let c = 0; c < w; c++) {
          const sr = r - dy;
          const sc = c - dx;
          const inside = sr >= 0 && sr < h && sc >= 0 && sc < w;
          for (let q = 0; q < ch; q++) {
            const o = k * D + (r * w + c) * ch + q;
            sources[o] = inside ? (sr * w + sc) * ch + q : 0;
            valid[o] = inside ? 1 : 0;
          }
        }
      }
    }
  }
  return { count, sources, valid };
}
