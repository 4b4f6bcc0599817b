/**
 * Internal: runs a recipe (lib/pretrained/recipe.ts) and writes the pretrained model -- what `npm run pretrain --
 * <name>` does (scripts/pretrain.ts) and what the tests run in quick mode.
 *
 *   settings(quick) -> data -> build -> fit (genlab's loop, on the fastest backend present)
 *     -> save (temporary) -> checkpoint stored as the recipe says (float32 / float16) in <out>/<name>/
 *     -> load it back -> evaluate the stored weights -> <out>/<name>/pretrained.json
 *
 * A full run writes into the package's `pretrained/` (the committed models); a quick run (tiny data, a few steps)
 * writes into an ignored cache folder and is refused there.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describeEnvironment, isQuickMode, ready, tf } from '../engine/backend';
import { loadCheckpoint, readCheckpointManifest, saveCheckpoint } from '../core/checkpoint';
import { assertKnownOptions, optionKeys } from '../core/validate';
import { cacheDir, packageRoot, writeFileAtomic } from '../../datasets/cache';
import type { PretrainedInfo, PretrainedName, PretrainRecipe } from './recipe';
import { checkPretrainedName, committedPretrainedDir, findRecipe, PRETRAINED_MANIFEST } from './registry';

/** Options of {@link pretrain}. */
export interface PretrainOptions {
  /** Quick mode: the recipe's tiny settings (seconds). Default: `GENLAB_QUICK=1`. */
  quick?: boolean;
  /**
   * The folder receiving `<name>/`. Default: the package's `pretrained/` for a full run, `<cache>/pretrained-quick`
   * for a quick one. A quick run never writes into the package's `pretrained/`.
   */
  out?: string;
  /** Progress of the fits: `'auto'` (default) or `false`. */
  progress?: 'auto' | false;
  /** Where the runner's own lines go. Default: stdout. */
  log?: (line: string) => void;
}

const PRETRAIN_OPTION_KEYS = optionKeys<PretrainOptions>({ quick: true, out: true, progress: true, log: true });

/** The default folder of quick runs: an ignored cache folder, never the committed one. */
export function quickPretrainedDir(): string {
  return path.join(cacheDir(), 'pretrained-quick');
}

/** The git commit of the package checkout (with `+dirty` for uncommitted changes), when it is one. */
function gitCommit(): string | undefined {
  const root = packageRoot();
  if (!root || !fs.existsSync(path.join(root, '.git'))) return undefined;
  const head = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8' });
  if (head.status !== 0) return undefined;
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' });
  return head.stdout.trim() + (dirty.status === 0 && dirty.stdout.trim() ? '+dirty' : '');
}

/**
 * Runs the recipe of `name` (see the module comment) and returns the manifest it wrote.
 * @throws for a name without a recipe, or a quick run aimed at the committed folder.
 */
export async function pretrain(name: PretrainedName, opts: PretrainOptions = {}): Promise<PretrainedInfo> {
  assertKnownOptions('pretrain', opts, PRETRAIN_OPTION_KEYS);
  checkPretrainedName('pretrain', name, {});
  const recipe = findRecipe(name);
  if (!recipe) throw new Error(`'${name}' has no recipe yet: add lib/pretrained/recipes/${name}.ts exporting \`recipe\``);
  const quick = opts.quick ?? isQuickMode();
  const committed = committedPretrainedDir();
  const outRoot = path.resolve(opts.out ?? (quick ? quickPretrainedDir() : committed));
  if (quick && outRoot === path.resolve(committed)) {
    throw new Error(`a quick run must not write into ${committed} (the committed weights); give another out folder`);
  }
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  return run(recipe, { quick, outRoot, progress: opts.progress ?? 'auto', log });
}

async function run(
  recipe: PretrainRecipe,
  o: { quick: boolean; outRoot: string; progress: 'auto' | false; log: (line: string) => void },
): Promise<PretrainedInfo> {
  await ready();
  const env = await describeEnvironment();
  const name = recipe.name;
  const settings = recipe.settings(o.quick);
  const command = `npm run pretrain -- ${name}${o.quick ? ' --quick' : ''}`;
  o.log(`${command}: ${recipe.title}`);
  o.log(`  backend ${env.choice} (${env.threads} thread${env.threads === 1 ? '' : 's'}) on ${env.cpu}${o.quick ? '; quick mode' : ''}`);
  const data = await recipe.data(settings);
  const dir = path.join(o.outRoot, name);
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), `genlab-pretrain-${name}-`));
  try {
    // 1. Train.
    const startedAt = new Date().toISOString();
    const model = recipe.build(settings, data);
    let architecture: string;
    let history;
    const t0 = performance.now();
    try {
      history = await recipe.fit(model, data, settings, { quick: o.quick, progress: o.progress });
      architecture = model.describe();
      await (recipe.save ? recipe.save(model, path.join(staging, 'model')) : model.save(path.join(staging, 'model')));
    } finally {
      model.dispose();
    }
    const seconds = (performance.now() - t0) / 1000;

    // 2. Store the checkpoint as the recipe says (float16 halves it), then measure the stored weights.
    const storage = recipe.storage ?? 'float32';
    fs.rmSync(path.join(dir, PRETRAINED_MANIFEST), { force: true }); // a run that fails from here leaves no stale manifest
    const ck = await loadCheckpoint(path.join(staging, 'model'));
    try {
      await saveCheckpoint(dir, { kind: ck.kind, config: ck.config, tensors: ck.tensors }, { storage });
    } finally {
      tf.dispose(Object.values(ck.tensors));
    }
    const stored = readCheckpointManifest(dir);
    const loaded = await recipe.load(dir);
    let quality;
    try {
      quality = await recipe.evaluate(loaded, data, settings);
    } finally {
      loaded.dispose();
    }

    // 3. The manifest.
    const epochs = history.epoch?.length ? history.epoch[history.epoch.length - 1] : 0;
    const info: PretrainedInfo = {
      name,
      title: recipe.title,
      description: recipe.description,
      kind: stored.kind,
      architecture,
      command,
      quick: o.quick,
      recipe: settings,
      data: data.description,
      training: { seconds: Math.round(seconds * 10) / 10, epochs, history, startedAt },
      machine: {
        cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
        cores: os.availableParallelism(),
        backend: env.choice,
        threads: env.threads,
        gpu: env.gpu,
        ...(env.gpuName ? { gpuName: env.gpuName } : {}),
        platform: env.platform,
        node: env.versions.node,
        tfjs: env.versions.tfjs,
        ...(env.versions.tensorflow ? { tensorflow: env.versions.tensorflow } : {}),
      },
      genlab: { version: env.versions.genlab, ...withCommit() },
      quality,
      ...(recipe.dataRange ? { dataRange: recipe.dataRange } : {}),
      checkpoint: { storage, payload: stored.payload, bytes: stored.payloadBytes, sha256: stored.payloadSha256 },
    };
    writeFileAtomic(path.join(dir, PRETRAINED_MANIFEST), Buffer.from(JSON.stringify(info, null, 1) + '\n', 'utf8'));
    o.log(`  trained in ${info.training.seconds} s (${epochs} epoch${epochs === 1 ? '' : 's'}); checkpoint ${(stored.payloadBytes / 1e6).toFixed(2)} MB (${storage}) in ${dir}`);
    for (const q of quality) o.log(`  ${q.name} = ${Number(q.value.toPrecision(5))}  (${q.description})`);
    return info;
  } finally {
    data.dispose();
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

function withCommit(): { commit?: string } {
  const commit = gitCommit();
  return commit ? { commit } : {};
}
