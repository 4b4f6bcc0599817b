/**
 * Where plotly.js comes from (node_modules, no network) and the loader script that defines `window.Plotly` once per
 * page. Apart from plot.ts so that genlab's set-up can inline the same loader into exported pages without loading
 * the tensor engine.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scriptSafeSource } from './html';

/** The plotly.js bundles genlab embeds, in order of preference: cartesian minified, full minified, full. */
const PLOTLY_PACKAGES = [
  ['plotly.js-cartesian-dist-min', 'plotly-cartesian.min.js'],
  ['plotly.js-dist-min', 'plotly.min.js'],
  ['plotly.js-dist', 'plotly.js'],
] as const;

let plotlySourceMemo: { file: string; source: string } | null = null;

/** The plotly.js bundle genlab embeds: the first of the cartesian minified bundle, the full minified one, the full one. */
export function plotlySource(): { file: string; source: string } {
  if (plotlySourceMemo) return plotlySourceMemo;
  for (const [pkg, file] of PLOTLY_PACKAGES) {
    let f: string;
    try {
      f = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);
    } catch {
      continue;
    }
    if (fs.existsSync(f)) return (plotlySourceMemo = { file: f, source: fs.readFileSync(f, 'utf8') });
  }
  throw new Error(`plotly.js not found: install one of ${PLOTLY_PACKAGES.map((p) => p[0]).join(', ')}`);
}

/**
 * The body of the loader script: defines `window.Plotly` from the inline bundle unless the page already has it.
 * `define`, `module` and `exports` are shadowed so the UMD wrapper never registers an AMD/CommonJS module instead
 * of the global (require.js pages: classic Notebook, nbconvert HTML and slides). Safe inside `<script>`. Starts with
 * the marker comment `plotly.js (MIT), inlined by genlab` (genlab's export templates look for it).
 */
export function plotlyLoaderScript(): string {
  const { source } = plotlySource();
  return (
    '/* plotly.js (MIT), inlined by genlab */\n' +
    'if (!window.Plotly) { (function (define, module, exports) {\n' +
    scriptSafeSource(source) +
    '\n}).call(window); }'
  );
}

/** The loader as a `<script>` element ({@link plotlyLoaderScript}). */
export function plotlyLoaderHtml(): string {
  return `<script type="text/javascript">${plotlyLoaderScript()}\n</script>`;
}
