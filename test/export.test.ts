/**
 * The offline export of 00-getting-started, as `npm run lectures` writes it, opened from disk in headless Chromium:
 * the plotly figure is drawn, the LaTeX is typeset by MathJax, the image and the table are there, the slides start,
 * and no request leaves the machine (everything comes from build/assets).
 */
import { test, after, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { chromium, Browser } from 'playwright-core';
import { repoRoot } from '../scripts/jupyter';
import { listNotebooks, NotebookResult, runNotebook } from '../scripts/lectures';
import { CHROMIUM, CHROMIUM_FLAGS, assertOffline, openPage, typeset } from './browser';

const visit = (file: string, hash = '') => openPage(browser, file, hash);

let browser: Browser;
let result: NotebookResult;

before(async () => {
  assert.ok(
    fs.existsSync(CHROMIUM),
    `${CHROMIUM} not found: the export test needs Debian's chromium (apt-get install chromium; \`npm test\` installs it ` +
      'when run as root) or GENLAB_CHROMIUM=<path to a Chromium>',
  );
  const [nb] = listNotebooks(['00-getting-started']);
  result = await runNotebook(nb, { quick: true, timeout: 300, outDir: path.join(repoRoot(), 'build', 'test-export'), log: () => undefined });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
});

after(async () => {
  await browser?.close();
});

test('the HTML page: figure drawn, formula typeset, image and table shown, all offline', async () => {
  const v = await visit(result.outputs.html!);
  try {
    await v.page.waitForSelector('.genlab-figure svg.main-svg', { timeout: 60000 });
    const traces = await v.page.evaluate(() => document.querySelectorAll('.genlab-figure .scatterlayer .trace').length);
    assert.equal(traces, 2, 'the figure has its two traces');
    const formulas = await typeset(v.page);
    assert.ok(formulas >= 3, `MathJax typeset ${formulas} formulas`);
    const mathErrors = await v.page.evaluate(() => document.querySelectorAll('.MathJax_Error, merror').length);
    assert.equal(mathErrors, 0, 'no TeX errors');
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

test('the slides: reveal.js starts, formulas typeset, the figure draws on its slide, all offline', async () => {
  const file = result.outputs.slides!;
  const html = fs.readFileSync(file, 'utf8');
  const remote = html.match(/<(script|link)\b[^>]*(src|href)=["']https?:[^>]*>/g);
  assert.equal(remote, null, 'no remote script or stylesheet in the slides');
  const first = await visit(file);
  let figureSlide: number;
  try {
    await first.page.waitForSelector('.reveal.ready', { timeout: 60000 });
    await typeset(first.page);
    figureSlide = await first.page.evaluate(() =>
      Array.from(document.querySelectorAll('.reveal .slides > section')).findIndex((s) => s.querySelector('.genlab-figure')),
    );
    assert.ok(figureSlide > 0, 'a slide holds the figure');
    assertOffline(first);
  } finally {
    await first.page.context().close();
  }
  const v = await visit(file, `#/${figureSlide}`);
  try {
    await v.page.waitForSelector('.reveal.ready', { timeout: 60000 });
    await v.page.waitForSelector('section.present .genlab-figure svg.main-svg', { timeout: 60000 });
    assertOffline(v);
  } finally {
    await v.page.context().close();
  }
});

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.woff': 'font/woff' };

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
