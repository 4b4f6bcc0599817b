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
import { pathToFileURL } from 'node:url';
import { chromium, Browser, Page } from 'playwright-core';
import { repoRoot } from '../scripts/jupyter';
import { listNotebooks, NotebookResult, runNotebook } from '../scripts/lectures';
import { CHROMIUM, CHROMIUM_FLAGS } from './browser';

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

interface Visit {
  page: Page;
  offsite: string[];
  failed: string[];
  errors: string[];
}

/** Opens a file (or a localhost URL) in a fresh page, recording every request that is not local and every failure. */
async function visit(file: string, hash = ''): Promise<Visit> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const v: Visit = { page, offsite: [], failed: [], errors: [] };
  page.on('request', (r) => {
    if (!/^(file|data|blob|about):|^http:\/\/127\.0\.0\.1:\d+\//.test(r.url())) v.offsite.push(r.url());
  });
  page.on('requestfailed', (r) => v.failed.push(`${r.url()} ${r.failure()?.errorText}`));
  page.on('pageerror', (e) => v.errors.push(String(e)));
  // nothing may leave the machine
  await context.route((url) => url.protocol.startsWith('http') && url.hostname !== '127.0.0.1', (route) => route.abort());
  await page.goto((file.startsWith('http:') ? file : pathToFileURL(file).href) + hash);
  return v;
}

/** Waits until MathJax has typeset at least one formula and has nothing queued. */
async function typeset(page: Page): Promise<number> {
  await page.waitForFunction(
    () => {
      const w = window as unknown as { MathJax?: { Hub?: { queue?: { pending: number; running: number } } } };
      const q = w.MathJax?.Hub?.queue;
      return q !== undefined && q.pending === 0 && q.running === 0 && document.querySelectorAll('.MathJax_CHTML').length > 0;
    },
    null,
    { timeout: 60000 },
  );
  return page.evaluate(() => document.querySelectorAll('.MathJax_CHTML').length);
}

function assertOffline(v: Visit): void {
  assert.deepEqual(v.offsite, [], 'requests outside file://');
  assert.deepEqual(v.failed, [], 'failed requests (missing assets?)');
  assert.deepEqual(v.errors, [], 'JavaScript errors on the page');
}

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
