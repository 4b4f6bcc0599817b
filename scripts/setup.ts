/**
 * `node dist/scripts/setup.js [--for test|lectures|lab] [--peers]`: makes sure Jupyter (JupyterLab 4 and Notebook 7
 * in the project's `.venv/`, see ensureJupyter), the tslab kernel, genlab's export templates and the Debian packages
 * a command needs are present (runs before `npm test`, `npm run lectures` and `npm run lab`; quick when done).
 * `--peers` also installs what other engineers' reference checks use (python3-torch, libopenblas-dev).
 *
 * `node dist/scripts/setup.js --sys-prefix <python>`: for a class on one server (JupyterHub), registers this
 * checkout's kernel, templates and exporter config into the environment of `<python>` (its sys.prefix), e.g.
 * `/opt/tljh/user/bin/python`; nothing else.
 */
import { parseArgs } from 'node:util';
import { installShared, Need, runCli, setup } from './jupyter';

/** What each command needs from the system. */
export const NEEDS: Record<string, Need[]> = {
  test: ['jupyter', 'chromium', 'fashion-mnist'],
  lectures: ['jupyter', 'fashion-mnist'],
  lab: ['jupyter', 'fashion-mnist'],
};

function main(): void {
  const { values } = parseArgs({
    options: {
      for: { type: 'string', default: 'lectures' },
      peers: { type: 'boolean', default: false },
      'sys-prefix': { type: 'string' },
    },
  });
  if (values['sys-prefix'] !== undefined) {
    const kernelJson = installShared(values['sys-prefix']);
    process.stderr.write(`genlab setup: the tslab kernel is ${kernelJson}\n`);
    return;
  }
  const purpose = values.for ?? 'lectures';
  const needs = NEEDS[purpose];
  if (!needs) throw new Error(`--for must be one of ${Object.keys(NEEDS).join(', ')}; got ${purpose}`);
  setup(values.peers ? [...needs, 'peers'] : needs);
}

if (require.main === module) runCli(main);
