/**
 * The offline export of 00-getting-started, as `npm run lectures` writes it: each of the page and the slides is ONE
 * self-contained file. Copied alone into an empty folder (as a student gets it by mail or on a USB stick) and
 * opened from disk in headless Chromium with every non-file request aborted: the plotly figure is drawn, the LaTeX
 * typeset by MathJax 3, the image and the table are there, the slides step through, and no request is even tried.
 * The worked solutions (cells tagged "solution") sit closed behind a "Solution to exercise N" click on the page and
 * are not in the slides.
 */
import { test, after, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, Browser } from 'playwright-core';
import { repoRoot } from '../scripts/jupyter';
import { listNotebooks, NotebookResult, runNotebook } from '../scripts/lectures';
import { cellSource, readNotebook } from '../scripts/notebook-cells';
import { CHROMIUM, CHROMIUM_FLAGS, assertOffline, assertSelfContained, mathErrors, openPage, typeset } from './browser';

const visit = (file: string, hash = '') => openPage(browser, file, hash);

let browser: Browser;
let result: NotebookResult;
/** The exported files, each copied alone into its own empty folder. */
let page: string;
let slides: string;

/** Copies `file` alone into a fresh folder: nothing next to it can help it. */
function alone(file: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-alone-'));
  const copy = path.join(dir, path.basename(file));
  fs.copyFileSync(file, copy);
  return copy;
}

before(async () => {
  assert.ok(
    fs.existsSync(CHROMIUM),
    `${CHROMIUM} not found: the export test needs Debian's chromium (apt-get install chromium; \`npm test\` installs it ` +
      'when run as root) or GENLAB_CHROMIUM=<path to a Chromium>',
  );
  const [nb] = listNotebooks(['00-getting-started']);
  result = await runNotebook(nb, { quick: true, timeout: 300, outDir: path.join(repoRoot(), 'build', 'test-export'), log: () => undefined });
  page = alone(result.outputs.html!);
  slides = alone(result.outputs.slides!);
  const mb = (f: string) => (fs.statSync(f).size / 1e6).toFixed(2);
  process.stderr.write(`# 00-getting-started: page ${mb(page)} MB, slides ${mb(slides)} MB (single files)\n`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
});

after(async () => {
  await browser?.close();
});

test('the HTML page, one file alone: figure drawn, formula typeset, image and table shown, all offline', async () => {
  assertSelfContained(fs.readFileSync(page, 'utf8'), 'the page');
  const v = await visit(page);
  try {
    await v.page.waitForSelector('.genlab-figure svg.main-svg', { timeout: 60000 });
    const traces = await v.page.evaluate(() => document.querySelectorAll('.genlab-figure .scatterlayer .trace').length);
    assert.equal(traces, 2, 'the figure has its two traces');
    const formulas = await typeset(v.page);
    assert.ok(formulas >= 3, `MathJax typeset ${formulas} formulas`);
    assert.equal(await mathErrors(v.page), 0, 'no TeX errors');
    const env = await v.page.evaluate(() => document.querySelector('table.genlab-environment')?.textContent ?? '');
    assert.match(env, /backend/);
    const img = await v.page.evaluate(() =>
      Array.from(document.querySelectorAll('img')).some((i) => i.src.startsWith('data:image/png') && i.naturalWidth > 0),
    );
    assert.ok(img, 'an inline PNG image is shown');
    const tableText = await v.page.evaluate(() =>
      Array.from(document.querySelectorAll('.jp-OutputArea table, .output_area table'))
        .map((t) => t.textContent ?? '')
        .join(' '),
    );
    assert.match(tableText, /variance/, 'the DataFrame table is shown');
    assertOffline(v);
  } finally {
    await v.page.context().close();
  }
});

test('the slides, one file alone: reveal.js starts and steps through every slide, maths typeset, figure drawn, offline', async () => {
  assertSelfContained(fs.readFileSync(slides, 'utf8'), 'the slides');
  const v = await visit(slides);
  try {
    await v.page.waitForSelector('.reveal.ready', { timeout: 60000 });
    assert.ok((await typeset(v.page)) >= 3, 'formulas typeset');
    assert.equal(await mathErrors(v.page), 0, 'no TeX errors');
    const total = await v.page.evaluate(() => (window as unknown as { Reveal: { getTotalSlides(): number } }).Reveal.getTotalSlides());
    assert.ok(total > 5, `${total} slides`);
    let figures = 0;
    let formulas = 0;
    for (let i = 0; i < total; i++) {
      const here = await v.page.evaluate(() => {
        const s = document.querySelector('.reveal .slides section.present section.present, .reveal .slides > section.present');
        const math = Array.from(s?.querySelectorAll('mjx-container svg') ?? []).map((m) => m.getBoundingClientRect().width);
        return { figure: s?.querySelector('.genlab-figure') !== null && s?.querySelector('.genlab-figure') !== undefined, math };
      });
      if (here.figure) {
        await v.page.waitForSelector('section.present .genlab-figure svg.main-svg', { timeout: 60000 });
        figures++;
      }
      for (const w of here.math) assert.ok(w > 0, `slide ${i}: a formula has no width`);
      formulas += here.math.length;
      if (i < total - 1) {
        const before = await v.page.evaluate(() => JSON.stringify((window as unknown as { Reveal: { getIndices(): unknown } }).Reveal.getIndices()));
        await v.page.keyboard.press('Space');
        await v.page.waitForFunction(
          (b) => JSON.stringify((window as unknown as { Reveal: { getIndices(): unknown } }).Reveal.getIndices()) !== b,
          before,
          { timeout: 10000 },
        );
      }
    }
    assert.ok(figures >= 1, 'a slide with the figure was shown and drawn');
    assert.ok(formulas >= 3, `formulas seen on the slides: ${formulas}`);
    assertOffline(v);
  } finally {
    await v.page.context().close();
  }
});

test('worked solutions: on the page closed behind a click, in the slides absent', async () => {
  const solutions = readNotebook(result.outputs.notebook).cells.filter((c) => (c.metadata.tags ?? []).includes('solution'));
  assert.ok(solutions.length >= 1, 'the notebook has solution cells');
  const marker = cellSource(solutions[0]).split('\n')[0].slice(3); // 'Solution to exercise 1: ...'
  const deck = fs.readFileSync(slides, 'utf8');
  assert.ok(!deck.includes('celltag_solution') && !deck.includes(marker.split(':')[1].trim()), 'no solution cell in the slides');
  const v = await visit(page);
  try {
    const found = await v.page.evaluate(() => Array.from(document.querySelectorAll('details.genlab-solution')).map((d) => ({
      open: (d as HTMLDetailsElement).open,
      summary: d.querySelector('summary')?.textContent ?? '',
      cells: d.querySelectorAll('.celltag_solution').length,
      visible: d.querySelector('.celltag_solution')?.checkVisibility() ?? true,
      height: d.getBoundingClientRect().height,
    })));
    assert.equal(found.length, solutions.length, 'one <details> per solution cell');
    for (const d of found) {
      assert.equal(d.open, false, 'closed');
      assert.equal(d.cells, 1);
      assert.equal(d.visible, false, 'the solution is hidden until revealed');
      assert.match(d.summary, /^Solution to exercise \d+/);
    }
    await v.page.click('details.genlab-solution > summary');
    const shown = await v.page.evaluate(() => {
      const d = document.querySelector('details.genlab-solution') as HTMLDetailsElement;
      return { open: d.open, visible: d.querySelector('.celltag_solution')!.checkVisibility(), height: d.getBoundingClientRect().height };
    });
    assert.ok(shown.open && shown.visible, 'a click reveals it');
    assert.ok(shown.height > found[0].height + 50, `the page opens up: ${found[0].height} -> ${shown.height} px`);
    assertOffline(v);
  } finally {
    await v.page.context().close();
  }
});

const TYPES: Record<string, string> = { '.html': 'text/html' };

test('the same page served over HTTP (a static server on build/) renders too', async () => {
  const root = path.dirname(path.dirname(result.outputs.html!));
  const server = http.createServer((req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  const v = await visit(`http://127.0.0.1:${port}/html/${path.basename(result.outputs.html!)}`);
  try {
    await v.page.waitForSelector('.genlab-figure svg.main-svg', { timeout: 60000 });
    assert.ok((await typeset(v.page)) >= 3);
    assertOffline(v);
  } finally {
    await v.page.context().close();
    server.close();
  }
});
