/**
 * `node dist/scripts/setup.js [--for test|lectures|lab] [--peers]`: makes sure Jupyter, the tslab kernel and the
 * Debian packages a command needs are present (runs before `npm test`, `npm run lectures` and `npm run lab`).
 * `--peers` also installs what other engineers' reference checks use (python3-torch, libopenblas-dev).
 */
import { parseArgs } from 'node:util';
import { Need, runCli, setup } from './jupyter';

/** What each command needs from the system. */
export const NEEDS: Record<string, Need[]> = {
  test: ['jupyter', 'chromium', 'fashion-mnist'],
  lectures: ['jupyter', 'fashion-mnist'],
  lab: ['jupyter', 'fashion-mnist'],
};

function main(): void {
  const { values } = parseArgs({
    options: { for: { type: 'string', default: 'lectures' }, peers: { type: 'boolean', default: false } },
  });
  const purpose = values.for ?? 'lectures';
  const needs = NEEDS[purpose];
  if (!needs) throw new Error(`--for must be one of ${Object.keys(NEEDS).join(', ')}; got ${purpose}`);
  setup(values.peers ? [...needs, 'peers'] : needs);
}

if (require.main === module) runCli(main);
