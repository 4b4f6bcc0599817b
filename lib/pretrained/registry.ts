/**
 * genlab's pretrained models: checkpoints made by genlab's own recipes (`npm run pretrain -- <name>`), committed in
 * the package's `pretrained/<name>/` folder (genlab's checkpoint format plus the manifest `pretrained.json`), loaded
 * offline by name.
 *
 * ```ts
 * const judge = await pretrained('digit-classifier');   // a DigitClassifier
 * pretrainedInfo('digit-classifier').quality;          // [{ name: 'heldOutAccuracy', value: 0.98..., ... }, ...]
 * listPretrained();                                    // the names with a committed checkpoint
 * ```
 *
 * Recipes are found by name: `lib/pretrained/recipes/<name>.ts` exporting `recipe` (a {@link PretrainRecipe}); adding
 * that one file adds the model.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import { assertKnownOptions, describeValue, optionKeys } from '../core/validate';
import { readCheckpointManifest } from '../core/checkpoint';
import { packageRoot } from '../../datasets/cache';
import { PRETRAINED_NAMES, type PretrainedInfo, type PretrainedModels, type PretrainedName, type PretrainRecipe } from './recipe';

/** The manifest's file name inside `pretrained/<name>/`. */
export const PRETRAINED_MANIFEST = 'pretrained.json';

/** Options of {@link pretrained}, {@link pretrainedInfo} and {@link listPretrained}. */
export interface PretrainedOptions {
  /**
   * The folder holding the `<name>/` folders. Default: the package's own `pretrained/` (the committed models). Give
   * another to load what `npm run pretrain -- <name> --out <folder>` (or a quick run) wrote.
   */
  dir?: string;
}

const PRETRAINED_OPTION_KEYS = optionKeys<PretrainedOptions>({ dir: true });

/** The package's folder of committed pretrained models, `<genlab>/pretrained`. */
export function committedPretrainedDir(): string {
  const root = packageRoot();
  if (!root) throw new Error('cannot find the genlab package root (a package.json named genlab above lib/) to locate pretrained/');
  return path.join(root, 'pretrained');
}

/** The folder of `name` under `opts.dir` or the committed folder. */
function modelDir(name: PretrainedName, opts: PretrainedOptions): string {
  return path.join(opts.dir !== undefined ? path.resolve(opts.dir) : committedPretrainedDir(), name);
}

/** Internal: checks the options and that `name` is one of {@link PRETRAINED_NAMES} (the error lists them). */
export function checkPretrainedName(caller: string, name: unknown, opts: PretrainedOptions): PretrainedName {
  assertKnownOptions(caller, opts, PRETRAINED_OPTION_KEYS);
  if (opts?.dir !== undefined && (typeof opts.dir !== 'string' || opts.dir.length === 0)) {
    throw new TypeError(`dir must be a folder path; got ${describeValue(opts.dir)}`);
  }
  if (typeof name === 'string' && (PRETRAINED_NAMES as readonly string[]).includes(name)) return name as PretrainedName;
  const names = PRETRAINED_NAMES.map((n) => `'${n}'`).join(', ');
  const near = typeof name === 'string' ? closest(name, [...PRETRAINED_NAMES]) : undefined;
  const close = near !== undefined && distance(name as string, near) <= Math.max(2, Math.floor((name as string).length / 3));
  const committed = safeList(opts);
  throw new Error(
    `unknown pretrained model ${describeValue(name)}` + (close ? ` (did you mean '${near}'?)` : '') +
      `; the names are ${names}` + (committed ? `; committed: ${committed.length ? committed.map((n) => `'${n}'`).join(', ') : 'none yet'}` : ''),
  );
}

/** {@link listPretrained} for an error message (null when the folder cannot be read). */
function safeList(opts: PretrainedOptions): PretrainedName[] | null {
  try {
    return listPretrained(opts);
  } catch {
    return null;
  }
}

/**
 * The names of the pretrained models that have a checkpoint (in the package's `pretrained/` folder, or in
 * `opts.dir`), in the order of {@link PRETRAINED_NAMES}.
 */
export function listPretrained(opts: PretrainedOptions = {}): PretrainedName[] {
  assertKnownOptions('listPretrained', opts, PRETRAINED_OPTION_KEYS);
  return PRETRAINED_NAMES.filter((n) => fs.existsSync(path.join(modelDir(n, opts), PRETRAINED_MANIFEST)));
}

/**
 * Internal: the recipe of `name` (`lib/pretrained/recipes/<name>.ts` exporting `recipe`), or null when that file
 * does not exist yet.
 */
export function findRecipe(name: PretrainedName): PretrainRecipe | null {
  let file: string;
  try {
    file = require.resolve(path.join(__dirname, 'recipes', name));
  } catch {
    return null;
  }
  const recipe = (require(file) as { recipe?: PretrainRecipe }).recipe;
  if (!recipe || recipe.name !== name) throw new Error(`${file} must export a recipe named '${name}' as \`recipe\``);
  return recipe;
}

/** Internal: the names that have a recipe, in the order of {@link PRETRAINED_NAMES}. */
export function recipeNames(): PretrainedName[] {
  return PRETRAINED_NAMES.filter((n) => findRecipe(n) !== null);
}

/** Why `name` has no checkpoint in `dir`, and how to make one. */
function missingMessage(name: PretrainedName, dir: string): string {
  const where = `no pretrained '${name}' in ${dir} (no ${PRETRAINED_MANIFEST})`;
  return findRecipe(name)
    ? `${where}: make it with npm run pretrain -- ${name}`
    : `${where}, and '${name}' has no recipe yet (lib/pretrained/recipes/${name}.ts); once it has one, npm run pretrain -- ${name} makes it`;
}

/**
 * The manifest of a pretrained model (`pretrained/<name>/pretrained.json`): what it is, the command and recipe that
 * made it, the training time and machine, genlab's version, its quality figures, its samples' `dataRange`
 * (generative models) and the checkpoint's SHA-256. Throws for an unknown name (listing the names) and for a model
 * without a checkpoint (saying which `npm run pretrain -- <name>` makes it).
 */
export function pretrainedInfo(name: PretrainedName, opts: PretrainedOptions = {}): PretrainedInfo {
  return readInfo('pretrainedInfo', name, opts);
}

/** {@link pretrainedInfo} with the caller named in option errors. */
function readInfo(caller: string, name: unknown, opts: PretrainedOptions): PretrainedInfo {
  const n = checkPretrainedName(caller, name, opts);
  const dir = modelDir(n, opts);
  const file = path.join(dir, PRETRAINED_MANIFEST);
  if (!fs.existsSync(file)) throw new Error(missingMessage(n, path.dirname(dir)));
  let info: PretrainedInfo;
  try {
    info = JSON.parse(fs.readFileSync(file, 'utf8')) as PretrainedInfo;
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message}); run npm run pretrain -- ${n} again`);
  }
  if (info?.name !== n || typeof info.checkpoint?.sha256 !== 'string') {
    throw new Error(`${file} is not the manifest of '${n}' (name ${describeValue(info?.name)}); run npm run pretrain -- ${n} again`);
  }
  return info;
}

/**
 * Loads a pretrained model by name, offline, from the checkpoint committed with genlab (or from `opts.dir`), and
 * resolves to the model instance -- e.g. `await pretrained('digit-classifier')` is a {@link DigitClassifier}. The
 * checkpoint is verified against its manifest's SHA-256. Throws for an unknown name (listing the names) and for a
 * name without a checkpoint (saying which `npm run pretrain -- <name>` makes it). Like any genlab model, it is freed
 * by an enclosing `scope()` unless returned, or by `dispose()`.
 */
export async function pretrained<N extends PretrainedName>(name: N, opts: PretrainedOptions = {}): Promise<PretrainedModels[N]> {
  const info = readInfo('pretrained', name, opts);
  const dir = modelDir(info.name, opts);
  const stored = readCheckpointManifest(dir);
  if (stored.payloadSha256 !== info.checkpoint.sha256) {
    throw new Error(
      `the checkpoint in ${dir} does not match its ${PRETRAINED_MANIFEST} (SHA-256 ${stored.payloadSha256.slice(0, 12)}... vs ` +
        `${info.checkpoint.sha256.slice(0, 12)}...); run npm run pretrain -- ${info.name} again`,
    );
  }
  const recipe = findRecipe(info.name);
  if (!recipe) throw new Error(`'${info.name}' has a checkpoint in ${dir} but no recipe to load it (lib/pretrained/recipes/${info.name}.ts)`);
  return (await recipe.load(dir)) as unknown as PretrainedModels[N];
}
