/**
 * Offline rendering in headless Chromium: pages built the way nbconvert builds them (require.js loaded first,
 * one output carrying plotly.js, later outputs without it, a figure on a hidden slide) draw every figure,
 * escape hostile text, and make no request that leaves file://.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { figureHtml, figurePage, heatmapFigure, histogramFigure, lineFigure, scatterFigure, subplots } from '../lib/plot';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface PageReport {
  figures: number;
  drawn: number;
  mainSvgs: number;
  traces: number;
  pwned: boolean;
  titles: string[];
}

async function withBrowser<T>(fn: (open: (file: string) => Promise<{ report: () => Promise<PageReport>; eval: <R>(js: string) => Promise<R>; screenshot: (f: string) => Promise<void> }>, requests: string[]) => Promise<T>): Promise<T> {
  // playwright-core is a devDependency: imported lazily so the library never needs it
  const { chromium } = await import('playwright-core');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  const requests: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  try {
    return await fn(async (file) => {
      const page = await context.newPage();
      await page.goto('file://' + file);
      return {
        eval: <R>(js: string) => page.evaluate(js) as Promise<R>,
        screenshot: async (f: string) => void (await page.screenshot({ path: f, fullPage: true })),
        report: async () => {
          await page.waitForFunction(
            () => Array.from(document.querySelectorAll('.genlab-figure')).every((d) => d.classList.contains('js-plotly-plot') || (d as HTMLElement).offsetParent === null),
            undefined,
            { timeout: 20000 },
          );
          return page.evaluate(() => ({
            figures: document.querySelectorAll('.genlab-figure').length,
            drawn: document.querySelectorAll('.genlab-figure.js-plotly-plot').length,
            mainSvgs: document.querySelectorAll('.genlab-figure svg.main-svg').length,
            traces: document.querySelectorAll('.genlab-figure .trace').length,
            pwned: (window as unknown as { pwned?: boolean }).pwned === true,
            titles: Array.from(document.querySelectorAll('.genlab-figure .gtitle')).map((t) => t.textContent ?? ''),
          }));
        },
      };
    }, requests);
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

test('figures render offline in headless Chromium, with and without require.js', { skip: !fs.existsSync(CHROMIUM), timeout: 60000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-render-'));
  const evil = '</script><script>window.pwned = true</script>';
  // 1. a stand-alone page from saveFigure/figurePage
  const grid = subplots(
    [
      lineFigure({ train: [3, 2, 1.5, 1.2], test: [3.2, 2.4, 2, 1.9] }, { title: 'loss', xTitle: 'epoch' }),
      scatterFigure([[0, 0], [1, 1], [2, 0.5]], { labels: [0, 1, 1], title: 'latent' }),
      histogramFigure([1, 2, 2, 3, 3, 3], { title: 'hist', bins: 3 }),
      heatmapFigure([[1, 0], [0, 1]], { title: 'W' }),
    ],
    { rows: 2, cols: 2, title: evil },
  );
  const standalone = path.join(dir, 'standalone.html');
  fs.writeFileSync(standalone, figurePage(grid));

  // 2. an nbconvert-like page: require.js first (AMD define present), the first output carries plotly.js,
  //    the second does not, the third sits on a hidden "slide" that is shown later.
  const requireJs = require.resolve('requirejs/require.js');
  const notebookLike = path.join(dir, 'notebook.html');
  fs.writeFileSync(
    notebookLike,
    '<!DOCTYPE html><html><head><meta charset="utf-8">' +
      `<script src="file://${requireJs}"></script></head><body>` +
      `<div class="output">${figureHtml(lineFigure({ a: [1, 2, 3] }, { title: 'first' }))}</div>` +
      `<div class="output">${figureHtml(scatterFigure({ x: [1, 2], y: [2, 1] }, { title: evil }), { includePlotly: false })}</div>` +
      `<section id="slide2" style="display:none">${figureHtml(lineFigure({ b: [3, 1] }, { title: 'hidden' }), { includePlotly: false })}</section>` +
      '</body></html>',
  );

  await withBrowser(async (open, requests) => {
    const a = await open(standalone);
    const ra = await a.report();
    assert.equal(ra.figures, 1);
    assert.equal(ra.drawn, 1);
    assert.ok(ra.mainSvgs >= 1, 'svg.main-svg drawn');
    assert.ok(ra.traces >= 5, `traces drawn: ${ra.traces}`);
    assert.equal(ra.pwned, false);
    assert.ok(ra.titles.includes(evil), `title shown literally: ${JSON.stringify(ra.titles)}`);
    if (process.env.GENLAB_SCREENSHOTS) await a.screenshot(path.join(process.env.GENLAB_SCREENSHOTS, 'standalone.png'));

    const b = await open(notebookLike);
    assert.equal(await b.eval<string>('typeof define + "/" + typeof define.amd'), 'function/object');
    const rb = await b.report();
    assert.equal(rb.figures, 3);
    assert.equal(rb.drawn, 2, 'both visible figures drawn; the hidden one waits');
    assert.equal(rb.pwned, false);
    await b.eval('document.getElementById("slide2").style.display = "block"');
    const rb2 = await b.report();
    assert.equal(rb2.drawn, 3, 'the figure on the hidden slide is drawn once shown');
    assert.ok(rb2.titles.includes('hidden'));
    if (process.env.GENLAB_SCREENSHOTS) await b.screenshot(path.join(process.env.GENLAB_SCREENSHOTS, 'notebook.png'));

    const external = requests.filter((u) => !/^(file|data|blob|about):/.test(u));
    assert.deepEqual(external, [], 'no request leaves file://');
    assert.ok(requests.some((u) => u.startsWith('file://')), 'requests were observed');
  });
  fs.rmSync(dir, { recursive: true, force: true });
});
