/**
 * `npm run pretrain -- <name>... [--quick] [--out <folder>]` | `--all` | `--list`
 *
 * Trains each named pretrained model from its committed recipe (lib/pretrained/recipes/<name>.ts) with genlab's own
 * training loop on the fastest backend present, and writes its checkpoint and manifest `pretrained.json` into
 * `pretrained/<name>/` (lib/pretrained/pretrain.ts). `--quick` (or GENLAB_QUICK=1) runs the recipe's tiny settings
 * (seconds) into an ignored cache folder, never over the committed weights: CI runs `--all --quick`.
 * `--all` runs every recipe; `--list` prints the names, which have a recipe and which a committed checkpoint.
 */
import { parseArgs } from 'node:util';
import { isQuickMode } from '../lib/engine/backend';
import { PRETRAINED_NAMES, type PretrainedName } from '../lib/pretrained/recipe';
import { findRecipe, listPretrained, recipeNames } from '../lib/pretrained/registry';
import { pretrain } from '../lib/pretrained/pretrain';

const USAGE = 'usage: npm run pretrain -- <name>... [--quick] [--out <folder>]  |  --all [--quick]  |  --list';

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      all: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.list) {
    const committed = listPretrained();
    for (const n of PRETRAINED_NAMES) {
      const recipe = findRecipe(n);
      process.stdout.write(`${n.padEnd(20)} ${recipe ? 'recipe' : 'no recipe yet'}${committed.includes(n) ? ', committed' : ''}${recipe ? `: ${recipe.title}` : ''}\n`);
    }
    return 0;
  }
  const names = values.all ? recipeNames() : positionals;
  if (names.length === 0) {
    process.stderr.write(`${USAGE}\nnames: ${PRETRAINED_NAMES.join(', ')}\n`);
    return 2;
  }
  const quick = values.quick || isQuickMode();
  for (const name of names) {
    await pretrain(name as PretrainedName, { quick, out: values.out });
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`pretrain: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
