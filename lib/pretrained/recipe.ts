/**
 * What a pretrained model is made from and what its manifest records. A *recipe* (one file per model in
 * lib/pretrained/recipes/, named after the model) builds the network, loads the data, fits it with genlab's own
 * training loop and measures its quality; `npm run pretrain -- <name>` runs it (lib/pretrained/pretrain.ts) and
 * writes the checkpoint and its manifest `pretrained.json` ({@link PretrainedInfo}) into `pretrained/<name>/`.
 */
import type { JsonValue } from '../core/checkpoint';
import type { CheckpointStorage } from '../core/checkpoint';
import type { DataRange } from '../core/data';
import type { Model } from '../core/model';
import type { History } from '../train/loop';
import type { DigitClassifier } from '../judge/classifier';
import type { VAE } from '../vae/vae';
import type { GAN } from '../gan/gan';
import type { DDPM } from '../diffusion/ddpm';
import type { LatentDiffusion } from '../diffusion/latent';
import type { EnergyModel } from '../ebm/energy-model';

/**
 * The names of genlab's pretrained models, reserved here; {@link listPretrained} says which have a committed
 * checkpoint. A recipe for a name is the file `lib/pretrained/recipes/<name>.ts`.
 */
export const PRETRAINED_NAMES = ['digit-classifier', 'vae-digits', 'gan-digits', 'ddpm-digits', 'latent-ddpm-digits', 'ebm-digits'] as const;

/** A name of {@link PRETRAINED_NAMES}, e.g. `'digit-classifier'`. */
export type PretrainedName = (typeof PRETRAINED_NAMES)[number];

/** The model class {@link pretrained} resolves to, by name. */
export interface PretrainedModels {
  /** The digit judge (lib/judge): class probabilities and the features of the digit FID. */
  'digit-classifier': DigitClassifier;
  'vae-digits': VAE;
  'gan-digits': GAN;
  'ddpm-digits': DDPM;
  /** A class-conditional DDPM on the codes of 'vae-digits', decoded to digits (Rombach et al.'s latent diffusion). */
  'latent-ddpm-digits': LatentDiffusion<[number, number, number]>;
  'ebm-digits': EnergyModel;
}

/** One quality figure of a pretrained model, e.g. its held-out accuracy or the FID of its samples. */
export interface QualityFigure {
  /** A short identifier, e.g. `'heldOutAccuracy'`. */
  name: string;
  /** The value measured on the committed weights. */
  value: number;
  /**
   * How far a re-evaluation of the committed weights may differ (>= 0): covers the rounding differences between
   * backends and thread counts, and the Monte Carlo noise of sampled figures. test/pretrained.test.ts checks it.
   */
  tolerance: number;
  /** What it measures, on which data, e.g. `fraction of the 2000 held-out digits classified right`. */
  description: string;
}

/** The machine a model was trained on (from `describeEnvironment()`). */
export interface PretrainMachine {
  /** CPU model, e.g. `Intel(R) Xeon(R) Processor`. */
  cpu: string;
  /** Logical cores. */
  cores: number;
  /** The backend that trained it: `'tensorflow'`, `'wasm'` or `'cpu'`. */
  backend: string;
  /** Threads of that backend. */
  threads: number;
  /** Whether a GPU was used, and its name. */
  gpu: boolean;
  gpuName?: string;
  /** Operating system and architecture, e.g. `linux x64`. */
  platform: string;
  /** Node.js, TensorFlow.js and (native backend) TensorFlow versions. */
  node: string;
  tfjs: string;
  tensorflow?: string;
}

/** The manifest of a pretrained model, `pretrained/<name>/pretrained.json` ({@link pretrainedInfo}). */
export interface PretrainedInfo {
  /** The model's name, e.g. `'digit-classifier'`. */
  name: PretrainedName;
  /** One line: what it is. */
  title: string;
  /** What it is, how it is trained, its time budget and what a GPU would change. */
  description: string;
  /** The model class (the checkpoint's kind), e.g. `'DigitClassifier'`. */
  kind: string;
  /** The model's own one-line summary (`describe()`). */
  architecture: string;
  /** The command that made it, e.g. `npm run pretrain -- digit-classifier`. */
  command: string;
  /** True for a quick-mode run (tiny data, a few steps: a test of the recipe, never committed). */
  quick: boolean;
  /** The recipe's settings: network, fit settings, seed, data sizes, epochs. */
  recipe: JsonValue;
  /** The data it was trained and judged on (source, split, sizes). */
  data: JsonValue;
  /** The training run: wall seconds of the fit, epochs, and the loop's history (per-epoch metrics). */
  training: { seconds: number; epochs: number; history: History; startedAt: string };
  /** Where it was trained. */
  machine: PretrainMachine;
  /** genlab's version (and git commit, when made in a checkout). */
  genlab: { version: string; commit?: string };
  /** Its quality, measured on the committed (stored) weights. */
  quality: QualityFigure[];
  /** Generative models: the range of their samples, e.g. `[0, 1]` for digits. */
  dataRange?: DataRange;
  /** The checkpoint (genlab's format, lib/core/checkpoint.ts) in the same folder: storage, payload file, size, SHA-256. */
  checkpoint: { storage: CheckpointStorage; payload: string; bytes: number; sha256: string };
}

/** What a recipe's model must offer besides the {@link Model} contract. */
export interface PretrainableModel extends Model {
  /** Writes the model's checkpoint to `dir` (lib/core/checkpoint.ts). */
  save(dir: string): Promise<void>;
}

/** The data a recipe trains and judges on: its own fields plus a description for the manifest and `dispose`. */
export interface RecipeData {
  /** Which data, which split, how many examples (recorded in the manifest's `data`). */
  readonly description: JsonValue;
  /** Frees the data's tensors. */
  dispose(): void;
}

/** What a recipe's fit gets from the runner. */
export interface PretrainContext {
  /** Quick mode: the settings are the quick ones. */
  quick: boolean;
  /** Progress display of the fits (`'auto'`: one line per epoch in a terminal; `false`: silent). */
  progress: 'auto' | false;
}

/** Plain JSON settings (a `type` alias of the recipe's settings satisfies it). */
export type RecipeSettings = { [key: string]: JsonValue };

/**
 * A recipe: everything `npm run pretrain -- <name>` needs to make a pretrained model. The file
 * `lib/pretrained/recipes/<name>.ts` exports it as `recipe`; that file is all it takes to add a model.
 *
 * The runner calls `settings(quick)`, `data`, `build`, `fit`; saves the model (as `storage` says), loads it back with
 * `load` and measures it with `evaluate`, so the recorded quality is that of the stored weights.
 */
export interface PretrainRecipe<M extends PretrainableModel = PretrainableModel, D extends RecipeData = RecipeData, S extends RecipeSettings = RecipeSettings> {
  /** The model's name; the file's name. */
  readonly name: PretrainedName;
  /** One line: what it is. */
  readonly title: string;
  /** What it is and how it is trained; its time on 2 CPU cores and what a GPU would change. */
  readonly description: string;
  /** How the checkpoint stores float32 weights: `'float32'` (default) or `'float16'` (half the bytes). */
  readonly storage?: CheckpointStorage;
  /** Generative models: the range of the samples, recorded as the manifest's `dataRange`. */
  readonly dataRange?: DataRange;
  /** The settings of a full run, or of a quick run (tiny data, a few steps: seconds). */
  settings(quick: boolean): S;
  /** Loads the data. */
  data(settings: S): Promise<D>;
  /** Builds the untrained model (from the data too, e.g. a pretrained network the data step loaded). */
  build(settings: S, data: D): M;
  /** Trains it with genlab's training loop; returns the history (several fits' histories joined). */
  fit(model: M, data: D, settings: S, ctx: PretrainContext): Promise<History>;
  /** Measures the model (a few seconds to a minute: the tests run it on the committed weights). */
  evaluate(model: M, data: D, settings: S): Promise<QualityFigure[]>;
  /**
   * Writes the trained model's checkpoint to `dir`; default `model.save(dir)`. A recipe that stores less than the
   * model's default checkpoint (e.g. `'ebm-digits'`: no replay buffer) says so here.
   */
  save?(model: M, dir: string): Promise<void>;
  /** Loads a checkpoint written by {@link PretrainRecipe.save} (or the model's `save`). */
  load(dir: string): Promise<M>;
}

/** Joins the histories of consecutive fits (a schedule of phases) into one, epoch by epoch. */
export function joinHistories(histories: History[]): History {
  const names = [...new Set(histories.flatMap((h) => Object.keys(h)))];
  const out: History = {};
  for (const name of names) out[name] = histories.flatMap((h) => h[name] ?? new Array<number>(h.epoch?.length ?? 0).fill(NaN));
  return out;
}
