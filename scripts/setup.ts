/**
 * `node dist/scripts/setup.js [--for test|lectures|lab] [--peers] [--tensorflow[=cpu|gpu]]`: makes sure Jupyter
 * (JupyterLab 4 and Notebook 7 in the project's `.venv/`, see ensureJupyter), the tslab kernel, genlab's export
 * templates and the Debian packages a command needs are present (runs before `npm test`, `npm run lectures` and
 * `npm run lab`; quick when done).
 * `--peers` also installs what other engineers' reference checks use (python3-torch, libopenblas-dev).
 * `--tensorflow` builds the native TensorFlow backend from pip's wheel (scripts/tensorflow.ts); alone it does only
 * that, with `--for` it does both.
 *
 * `node dist/scripts/setup.js --sys-prefix <python>`: for a class on one server (JupyterHub), registers this
 * checkout's kernel, templates and exporter config into the environment of `<python>` (its sys.prefix), e.g.
 * `/opt/tljh/user/bin/python`; nothing else (docs/teaching.md).
 */
import { parseArgs } from 'node:util';
import { installShared, Need, runCli, setup } from './jupyter';
import { TensorflowVariant } from '../lib/engine/tensorflow-build';
import { parseTensorflowVariant, setupTensorflow } from './tensorflow';

/** What each command needs from the system. */
export const NEEDS: Record<string, Need[]> = {
  test: ['jupyter', 'chromium', 'fashion-mnist'],
  lectures: ['jupyter', 'fashion-mnist'],
  lab: ['jupyter', 'fashion-mnist'],
};

/**
 * `--tensorflow` alone means `--tensorflow=cpu` (parseArgs wants a value for a string option); GENLAB_TENSORFLOW=0
 * drops it (a checkout that must not get the 850 MB wheel, e.g. a quick local `npm test`).
 */
function tensorflowArg(argv: string[]): { argv: string[]; variant?: TensorflowVariant } {
  const rest: string[] = [];
  let variant: TensorflowVariant | undefined;
  for (const a of argv) {
    if (a === '--tensorflow' || a.startsWith('--tensorflow=')) variant = parseTensorflowVariant(a.slice('--tensorflow='.length));
    else rest.push(a);
  }
  if (['0', 'false', 'no', 'off'].includes((process.env.GENLAB_TENSORFLOW ?? '').toLowerCase())) {
    if (variant) process.stderr.write('genlab setup: --tensorflow skipped (GENLAB_TENSORFLOW=0)\n');
    variant = undefined;
  }
  return { argv: rest, variant };
}

function main(): void {
  const tensorflow = tensorflowArg(process.argv.slice(2));
  const { values } = parseArgs({
    args: tensorflow.argv,
    options: { for: { type: 'string' }, peers: { type: 'boolean', default: false }, 'sys-prefix': { type: 'string' } },
  });
  if (values['sys-prefix'] !== undefined) {
    const kernelJson = installShared(values['sys-prefix']);
    process.stderr.write(`genlab setup: the tslab kernel is ${kernelJson}\n`);
    return;
  }
  if (tensorflow.variant) {
    // Native TensorFlow first (it may take minutes; Jupyter set-up below is quick when already done).
    setupTensorflow({ variant: tensorflow.variant });
    if (values.for === undefined && !values.peers) return; // `npm run setup -- --tensorflow` does just that
  }
  const purpose = values.for ?? 'lectures';
  const needs = NEEDS[purpose];
  if (!needs) throw new Error(`--for must be one of ${Object.keys(NEEDS).join(', ')}; got ${purpose}`);
  setup(values.peers ? [...needs, 'peers'] : needs);
}

if (require.main === module) runCli(main);
