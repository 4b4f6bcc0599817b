/**
 * genlab's files for Jupyter, installed into a Jupyter prefix (the checkout's `.cache/jupyter`, the project's
 * `.venv`, or a shared environment's sys.prefix on a JupyterHub):
 *
 *   <prefix>/share/jupyter/nbconvert/templates/genlab-lab      HTML page template   } committed in share/jupyter/
 *   <prefix>/share/jupyter/nbconvert/templates/genlab-reveal   reveal.js template   } of the checkout
 *   <prefix>/share/jupyter/nbconvert/templates/genlab-common   their shared <head>  }
 *   <prefix>/share/jupyter/nbconvert/templates/genlab-assets   reveal.js, MathJax 3, plotly.js: script-safe copies
 *                                                              from node_modules, inlined by the templates
 *   <prefix>/etc/jupyter/jupyter_{server,notebook,nbconvert}_config.json
 *       HTMLExporter / SlidesExporter use those templates and embed images (merged into what is there: traitlets
 *       reads no `.d` folders for these sections)
 *
 * So every export -- `npm run lectures`, `jupyter nbconvert --to slides`, and JupyterLab's File > Save and Export
 * Notebook As > HTML / Reveal.js Slides -- writes one self-contained file that works offline.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { plotlyLoaderScript, plotlySource } from '../lib/display/plotly-source';
import { scriptSafeSource } from '../lib/display/html';
import { repoRoot } from './root';

/** The committed templates: `<checkout>/share/jupyter/nbconvert/templates`. */
export function templatesSource(root = repoRoot()): string {
  return path.join(root, 'share', 'jupyter', 'nbconvert', 'templates');
}

/** The template names genlab's exports use. */
export const TEMPLATE_NAMES = { html: 'genlab-lab', slides: 'genlab-reveal' } as const;

/** The exporter configuration genlab installs (also what `npm run lectures` passes). */
export const EXPORTER_CONFIG = {
  HTMLExporter: { template_name: TEMPLATE_NAMES.html, embed_images: true },
  // a 16:9 deck laid out at 1280x720 CSS px (reveal.js scales it to the screen); long slides scroll by the template's CSS
  SlidesExporter: { template_name: TEMPLATE_NAMES.slides, embed_images: true, reveal_width: '1280', reveal_height: '720' },
} as const;

/** The Jupyter applications whose config folders get {@link EXPORTER_CONFIG}. */
const CONFIG_APPS = ['jupyter_server_config', 'jupyter_notebook_config', 'jupyter_nbconvert_config'] as const;

/** One file the templates inline, copied from a package in node_modules. */
interface Asset {
  /** File name under genlab-assets/. */
  name: string;
  /** Its content (made safe for inlining). */
  read: (root: string) => string;
}

/** `node_modules/<pkg>/<file>` of the checkout, with a clear error when npm install has not run. */
function moduleFile(root: string, pkg: string, file: string): string {
  const f = path.join(root, 'node_modules', pkg, file);
  if (!fs.existsSync(f)) throw new Error(`genlab: ${f} is missing (needed for offline pages and slides): run \`npm install\`.`);
  return f;
}

/** A script made safe to sit inside `<script>`, without its source-map comment (the map is not shipped). */
function jsAsset(root: string, pkg: string, file: string): string {
  return scriptSafeSource(fs.readFileSync(moduleFile(root, pkg, file), 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
}

/** A stylesheet for `<style>`: no @import (reveal's themes import web fonts by relative URL) and no source map. */
function cssAsset(root: string, pkg: string, file: string): string {
  const css = fs
    .readFileSync(moduleFile(root, pkg, file), 'utf8')
    .replace(/^@import url\([^)]*\);\s*$/gm, '')
    .replace(/\/\*# sourceMappingURL=[^*]*\*\//g, '');
  if (/<\/style/i.test(css)) throw new Error(`genlab: ${pkg}/${file} contains </style and cannot be inlined`);
  return css;
}

const ASSETS: Asset[] = [
  { name: 'reveal.js', read: (r) => jsAsset(r, 'reveal.js', 'dist/reveal.js') },
  { name: 'reveal-notes.js', read: (r) => jsAsset(r, 'reveal.js', 'plugin/notes/notes.js') },
  { name: 'reveal.css', read: (r) => cssAsset(r, 'reveal.js', 'dist/reveal.css') },
  { name: 'reveal-theme-white.css', read: (r) => cssAsset(r, 'reveal.js', 'dist/theme/white.css') },
  // MathJax 3's single-file TeX -> SVG build with every TeX extension: no font files, nothing loaded later.
  { name: 'tex-svg-full.js', read: (r) => jsAsset(r, 'mathjax', 'es5/tex-svg-full.js') },
  { name: 'plotly-loader.js', read: () => plotlyLoaderScript() },
];

/** Merges `sections` (class name -> traits) into the JSON config file `file`, keeping whatever else it holds. */
function mergeConfig(file: string, sections: Record<string, Record<string, unknown>>): void {
  let config: Record<string, Record<string, unknown>> = {};
  if (fs.existsSync(file)) {
    try {
      config = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof config;
    } catch (e) {
      throw new Error(`genlab: ${file} is not valid JSON (${(e as Error).message}); fix or remove it`);
    }
  }
  for (const [cls, traits] of Object.entries(sections)) config[cls] = { ...(config[cls] ?? {}), ...traits };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
}

/** Versions of the packages the assets come from, and a hash of the committed templates: what the stamp records. */
function wantedStamp(root: string): string {
  const version = (pkg: string): string =>
    (JSON.parse(fs.readFileSync(moduleFile(root, pkg, 'package.json'), 'utf8')) as { version: string }).version;
  const hash = crypto.createHash('sha256');
  const src = templatesSource(root);
  for (const dir of fs.readdirSync(src).sort()) {
    for (const f of fs.readdirSync(path.join(src, dir)).sort()) {
      hash.update(`${dir}/${f}\0`).update(fs.readFileSync(path.join(src, dir, f))).update('\0');
    }
  }
  hash.update(JSON.stringify(EXPORTER_CONFIG)).update(ASSETS.map((a) => a.name).join(','));
  return JSON.stringify({ reveal: version('reveal.js'), mathjax: version('mathjax'), plotly: plotlySource().file, templates: hash.digest('hex') });
}

/** The folder of a prefix that holds nbconvert templates. */
export function templatesDir(prefix: string): string {
  return path.join(prefix, 'share', 'jupyter', 'nbconvert', 'templates');
}

/**
 * Installs genlab's templates, their inlined assets and the exporter config into a Jupyter `prefix` (see the top of
 * this file); does nothing when the same versions are already there. Returns true if it wrote anything.
 */
export function installJupyterFiles(prefix: string, root = repoRoot(), log: (line: string) => void = () => undefined): boolean {
  const dest = templatesDir(prefix);
  const stampFile = path.join(dest, 'genlab-assets', 'stamp.json');
  const stamp = wantedStamp(root);
  const configFiles = CONFIG_APPS.map((app) => path.join(prefix, 'etc', 'jupyter', `${app}.json`));
  const current = fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp && configFiles.every((f) => fs.existsSync(f));
  if (current) return false;
  log(`installing genlab's offline export templates into ${dest}`);
  const src = templatesSource(root);
  for (const dir of fs.readdirSync(src)) {
    fs.rmSync(path.join(dest, dir), { recursive: true, force: true });
    fs.cpSync(path.join(src, dir), path.join(dest, dir), { recursive: true });
  }
  const assets = path.join(dest, 'genlab-assets');
  fs.rmSync(assets, { recursive: true, force: true });
  fs.mkdirSync(assets, { recursive: true });
  for (const a of ASSETS) fs.writeFileSync(path.join(assets, a.name), a.read(root));
  for (const f of configFiles) mergeConfig(f, EXPORTER_CONFIG);
  fs.writeFileSync(stampFile, stamp);
  return true;
}
