/**
 * Offline rendering, end to end.
 *
 * 1. A notebook using show, showImages, table and createProgress is executed by a real tslab kernel
 *    (nbclient): its outputs are checked (MIME bundles, plotly.js sent with the first figure only, the
 *    progress bar a single output updated in place), and nbconvert exports it to HTML with require.js,
 *    MathJax and jQuery taken from node_modules (as the lecture pipeline does).
 * 2. Headless Chromium renders that export and a hand-built page (require.js present, plotly.js loaded by
 *    the first figure only, a figure on a hidden "slide" shown later): every figure is drawn (svg.main-svg),
 *    hostile titles stay text, and no request leaves file://.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { jsonForScript } from '../lib/display/html';
import { figureHtml, heatmapFigure, histogramFigure, lineFigure, scatterFigure, subplots } from '../lib/display/plot';
import { CHROMIUM, CHROMIUM_FLAGS } from './browser';
import { ensureJupyter, jupyterEnv, registerKernel } from '../scripts/jupyter';
import { joinLines, readNotebook, tslabNotebook } from '../scripts/notebook-cells';

const LIB = path.resolve(__dirname, '..', 'lib', 'index.js');
const MODULES = path.resolve(__dirname, '..', '..', 'node_modules');
const EVIL = '</script><script>window.pwned = true</script>';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-render-'));

/** The project's Jupyter (its venv, or the system's where set-up fell back to it) with this checkout's kernel registered. */
function kernelPython(): string | undefined {
  try {
    const python = ensureJupyter({ log: () => undefined });
    registerKernel(python, undefined, () => undefined);
    return python;
  } catch {
    return undefined;
  }
}
const PYTHON = kernelPython();
function haveTslabKernel(): boolean {
  if (PYTHON === undefined) return false;
  const r = spawnSync(PYTHON, ['-c', 'from jupyter_client.kernelspec import KernelSpecManager as K; print("tslab" in K().find_kernel_specs())'], {
    encoding: 'utf8',
    env: jupyterEnv(),
  });
  return r.status === 0 && r.stdout.trim() === 'True';
}
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
const HAVE_KERNEL = haveTslabKernel();

// ---------------------------------------------------------------------------------------------------------
// Chromium: one browser for the file, every request recorded

let context: BrowserContext | null = null;
let userDataDir = '';
const requests: string[] = [];

before(async () => {
  if (!HAVE_CHROMIUM) return;
  const { chromium } = await import('playwright-core'); // a devDependency: the library never loads it
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-chromium-')); // a fresh profile
  context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  context.on('request', (r) => requests.push(r.url()));
});

after(async () => {
  await context?.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

interface PageReport {
  figures: number;
  drawn: number;
  mainSvgs: number;
  traces: number;
  amd: string;
  pwned: boolean;
  titles: string[];
  images: number;
  progress: number;
}

async function openPage(file: string) {
  assert.ok(context);
  const page = await context.newPage();
  await page.goto('file://' + file);
  const report = async (): Promise<PageReport> => {
    // wait until every visible figure is drawn (hidden ones wait for their slide)
    await page.waitForFunction(
      () => Array.from(document.querySelectorAll('.genlab-figure')).every((d) => d.classList.contains('js-plotly-plot') || (d as HTMLElement).offsetParent === null),
      undefined,
      { timeout: 30000 },
    );
    return page.evaluate(() => ({
      figures: document.querySelectorAll('.genlab-figure').length,
      drawn: document.querySelectorAll('.genlab-figure.js-plotly-plot').length,
      mainSvgs: document.querySelectorAll('.genlab-figure svg.main-svg').length,
      traces: document.querySelectorAll('.genlab-figure .trace').length,
      amd: typeof (window as unknown as { define?: { amd?: unknown } }).define?.amd,
      pwned: (window as unknown as { pwned?: boolean }).pwned === true,
      titles: Array.from(document.querySelectorAll('.genlab-figure .gtitle')).map((t) => t.textContent ?? ''),
      images: document.querySelectorAll('img[src^="data:image/png"]').length,
      progress: document.querySelectorAll('.genlab-progress svg').length,
    }));
  };
  const shot = async (name: string) => {
    if (process.env.GENLAB_SCREENSHOTS) await page.screenshot({ path: path.join(process.env.GENLAB_SCREENSHOTS, name), fullPage: true });
  };
  return { page, report, shot };
}

function assertNoExternalRequests(): void {
  const external = requests.filter((u) => !/^(file|data|blob|about):/.test(u));
  assert.deepEqual(external, [], 'no request leaves file://');
  assert.ok(requests.some((u) => u.startsWith('file://')), 'requests were observed');
}

// ---------------------------------------------------------------------------------------------------------
// 1. A notebook executed by tslab, exported by nbconvert

const CELLS = [
  `const g = require(${JSON.stringify(LIB)});\nawait g.ready();\nconsole.log('inNotebook', g.inNotebook());`,
  "g.show(g.lineFigure({ train: [3, 2, 1], test: [3, 2.5, 2] }, { title: 'first', xTitle: 'epoch' }));",
  `g.show(g.scatterFigure([[0, 1], [1, 0], [2, 2]], { labels: [0, 1, 1], title: ${JSON.stringify(EVIL)} }));`,
  "g.showImages([[0, 1, 1, 0], [1, 0, 0, 1]], { labels: [0, 1], title: 'grid' });",
  `g.table([{ name: ${JSON.stringify(EVIL)}, value: 0.5 }], { caption: 'tab' });`,
  [
    "{ const p = g.createProgress({ title: 'fit', epochs: 3, batchesPerEpoch: 5, throttleMs: 0 });",
    '  for (let e = 1; e <= 3; e++) { for (let b = 1; b <= 5; b++) p.batch(b, { loss: 1 / (e * 5 + b) }); p.epoch(e, { loss: 1 / e }); }',
    '  p.end(); }',
  ].join('\n'),
];

const RUNNER = `
import os, sys, nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter
src, out_nb, out_html, modules = sys.argv[1:5]
nb = nbformat.read(src, as_version=4)
NotebookClient(nb, kernel_name="tslab", timeout=120, startup_timeout=120,
               resources={"metadata": {"path": os.path.dirname(src)}}).execute()
nbformat.write(nb, out_nb)
ex = HTMLExporter()
ex.require_js_url = "file://" + modules + "/requirejs/require.js"
ex.mathjax_url = "file://" + modules + "/mathjax/es5/tex-svg-full.js"
ex.jquery_url = "file://" + modules + "/jquery/dist/jquery.min.js"
html, _ = ex.from_notebook_node(nb)
open(out_html, "w").write(html)
`;

const exported = path.join(dir, 'executed.html');

test('a notebook run by the tslab kernel: one output per display, plotly.js sent once, progress updated in place', {
  skip: HAVE_KERNEL ? false : 'needs Jupyter with the tslab kernel',
  timeout: 180000,
}, () => {
  const nbFile = path.join(dir, 'display.ipynb');
  fs.writeFileSync(nbFile, JSON.stringify(tslabNotebook(CELLS)));
  const outNb = path.join(dir, 'executed.ipynb');
  const r = spawnSync(PYTHON as string, ['-Xfrozen_modules=off', '-c', RUNNER, nbFile, outNb, exported, MODULES], {
    encoding: 'utf8',
    env: jupyterEnv(),
    timeout: 170000,
  });
  assert.equal(r.status, 0, `nbclient/nbconvert failed:\n${(r.stderr ?? '').slice(-3000)}`);

  const cells = readNotebook(outNb).cells;
  const outputs = (i: number) => cells[i].outputs ?? [];
  assert.match(outputs(0).map((o) => joinLines(o.text)).join(''), /inNotebook true/);
  const [fig1, fig2, images, tab, progress] = cells.slice(1).map((_, i) => {
    const out = outputs(i + 1);
    assert.equal(out.length, 1, `cell ${i + 1}: one output, got ${JSON.stringify(out).slice(0, 300)}`);
    // nbformat stores multi-line strings as lists of lines
    const data = out[0].data ?? {};
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, joinLines(v as string | string[])]));
  });
  for (const f of [fig1, fig2]) assert.deepEqual(Object.keys(f).sort(), ['application/vnd.plotly.v1+json', 'text/html', 'text/plain']);
  assert.ok(fig1['text/html'].includes('if (!window.Plotly)'), 'the first figure carries plotly.js');
  assert.ok(fig1['text/html'].length > 1e6);
  assert.ok(!fig2['text/html'].includes('if (!window.Plotly)') && fig2['text/html'].length < 10000, 'later figures do not');
  assert.ok(images['image/png'].length > 100);
  assert.ok(tab['text/html'].includes('&lt;/script&gt;'));
  assert.match(progress['text/plain'], /^fit {2}done: 3 epochs in /);
  assert.ok(progress['text/html'].includes('15/15 batches'));
});

test('the nbconvert HTML export renders offline in headless Chromium', {
  skip: HAVE_KERNEL && HAVE_CHROMIUM ? false : 'needs Jupyter with the tslab kernel and Chromium',
  timeout: 60000,
}, async () => {
  assert.ok(fs.existsSync(exported), 'the export from the previous test exists');
  const { report, shot } = await openPage(exported);
  const r = await report();
  assert.equal(r.figures, 2);
  assert.equal(r.drawn, 2);
  assert.ok(r.mainSvgs >= 2, 'svg.main-svg drawn');
  assert.equal(r.amd, 'object', 'the exported page has require.js (AMD define)');
  assert.equal(r.pwned, false);
  assert.deepEqual(r.titles, ['first', EVIL]);
  assert.ok(r.images >= 1, 'the image grid is on the page');
  assert.equal(r.progress, 1, 'the final progress view (with its loss curve) is on the page');
  await shot('nbconvert.png');
  assertNoExternalRequests();
});

// ---------------------------------------------------------------------------------------------------------
// 2. A hand-built page: require.js, plotly.js loaded by the first figure only, a hidden slide

test('figures render offline with require.js, plotly.js loaded once (also for a figure above the loader), and on a slide shown later', {
  skip: HAVE_CHROMIUM ? false : 'needs Chromium',
  timeout: 60000,
}, async () => {
  const grid = subplots(
    [
      lineFigure({ train: [3, 2, 1.5, 1.2], test: [3.2, 2.4, 2, 1.9] }, { title: 'loss', xTitle: 'epoch' }),
      scatterFigure([[0, 0], [1, 1], [2, 0.5]], { labels: [0, 1, 1], title: 'latent' }),
      histogramFigure([1, 2, 2, 3, 3, 3], { title: 'hist', bins: 3 }),
      heatmapFigure([[1, 0], [0, 1]], { title: 'W' }),
    ],
    { rows: 2, cols: 2, title: EVIL },
  );
  const file = path.join(dir, 'page.html');
  fs.writeFileSync(
    file,
    '<!DOCTYPE html><html><head><meta charset="utf-8">' +
      `<script src="file://${path.join(MODULES, 'requirejs', 'require.js')}"></script></head><body>` +
      // a figure placed before the output that loads plotly.js waits for it
      `<div class="output">${figureHtml(scatterFigure({ x: [1, 2], y: [2, 1] }, { title: 'before the loader' }), { includePlotly: false })}</div>` +
      `<div class="output">${figureHtml(grid)}</div>` +
      `<section id="slide2" style="display:none">${figureHtml(lineFigure({ b: [3, 1] }, { title: 'hidden' }), { includePlotly: false })}</section>` +
      // the classic Notebook inserts output HTML with jQuery into a detached element (scripts run then) and
      // attaches it afterwards
      `<script src="file://${path.join(MODULES, 'jquery', 'dist', 'jquery.min.js')}"></script>` +
      `<script>var out = $('<div class="output"></div>'); out.html(${jsonForScript(figureHtml(lineFigure({ c: [1, 3] }, { title: 'classic' }), { includePlotly: false }))});` +
      ' setTimeout(function () { $(document.body).append(out); }, 300);</script>' +
      '</body></html>',
  );
  const { page, report, shot } = await openPage(file);
  await page.waitForFunction(() => document.querySelectorAll('.genlab-figure').length === 4, undefined, { timeout: 30000 });
  const r = await report();
  assert.equal(r.amd, 'object');
  assert.equal(r.figures, 4);
  assert.equal(r.drawn, 3, 'the visible figures are drawn; the hidden one waits');
  assert.ok(r.traces >= 6, `traces drawn: ${r.traces}`);
  assert.equal(r.pwned, false);
  assert.ok(r.titles.includes(EVIL), `the hostile title is shown as text: ${JSON.stringify(r.titles)}`);
  await page.evaluate('document.getElementById("slide2").style.display = "block"');
  const r2 = await report();
  assert.equal(r2.drawn, 4, 'the figure on the hidden slide is drawn once shown');
  assert.ok(r2.titles.includes('classic'), 'a figure inserted the classic-Notebook way is drawn');
  assert.ok(r2.titles.includes('hidden'));
  assert.ok(r2.titles.includes('before the loader'));
  await shot('page.png');
  assertNoExternalRequests();
});
