/** The checkout genlab's scripts belong to. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Repository root: the nearest folder above this file whose package.json is named genlab. */
export function repoRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const m = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (m.name === 'genlab') return dir;
    } catch {
      // keep climbing
    }
    if (path.dirname(dir) === dir) throw new Error(`genlab: no genlab package.json above ${__dirname}`);
  }
}
