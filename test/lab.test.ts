/**
 * JupyterLab 4 itself, driven headless (playwright-core + Debian's Chromium), as a student uses it:
 * `jupyter lab` (the command `npm run lab` builds, with this checkout's kernel, templates and config) on a free
 * localhost port with a token, serving a scratch copy of 00-getting-started (never the committed notebook).
 *
 * 1. Run all cells (GENLAB_QUICK=1 in the kernel's environment): plotly figure drawn (SVG), image shown, maths
 *    typeset by JupyterLab's MathJax, no error output, and no request from the browser leaves the machine (every
 *    non-localhost request is aborted and recorded; none may be attempted). A screenshot lands in
 *    build/test-lab/jupyterlab.png (the README's picture is a copy of it).
 * 2. Completion after `rbm.` on a genlab BernoulliRBM offers its methods; the tooltip (Shift+Tab, kernel inspect)
 *    on the class shows its documented signature.
 * 3. Saved, the notebook goes through the Lab server's own nbconvert endpoint -- what File > Save and Export Notebook
 *    As > HTML / Reveal.js Slides calls -- and each download is one self-contained file that, alone in a folder and
 *    opened from disk with the network cut, shows typeset maths and the drawn figure.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { ensureJupyter, hasJupyterLab, registerKernel, repoRoot } from '../scripts/jupyter';
import { labCommand } from '../scripts/lab';
import { readNotebook } from '../scripts/notebook-cells';
import { CHROMIUM, CHROMIUM_FLAGS, assertOffline, assertSelfContained, mathErrors, openPage, typeset } from './browser';
import { freePort } from './helpers';

const ROOT = repoRoot();
const DIR = path.join(ROOT, 'build', 'test-lab'); // inside the checkout: `import ... from 'genlab'` resolves
const NOTEBOOK = '00-getting-started.ipynb';
const TOKEN = 'genlab-lab-test';
const python = ensureJupyter({ log: () => undefined });
const SKIP = !fs.existsSync(CHROMIUM)
  ? `${CHROMIUM} not found (apt-get install chromium)`
  : !hasJupyterLab(python)
    ? `no JupyterLab 4 (${python}): set-up fell back to the classic Notebook`
    : false;

let server: ChildProcess | undefined;
let serverLog = '';
let base = '';
let browser: Browser;
let page: Page;
const offsite: string[] = [];

/** GET from the Lab server with the token; resolves status and body. */
function get(url: string): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { Authorization: `token ${TOKEN}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), type: String(res.headers['content-type']) }));
      })
      .on('error', reject);
  });
}

/** Runs a JupyterLab command in the page (the app is exposed as window.jupyterapp for the test). */
function command(id: string, args: Record<string, unknown> = {}): Promise<unknown> {
  return page.evaluate(
    ([i, a]) => (window as unknown as { jupyterapp: { commands: { execute(id: string, args: unknown): Promise<unknown> } } }).jupyterapp.commands.execute(i, a),
    [id, args] as const,
  );
}

before(async () => {
  if (SKIP) return;
  registerKernel(python);
  fs.rmSync(DIR, { recursive: true, force: true });
  fs.mkdirSync(DIR, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'notebooks', NOTEBOOK), path.join(DIR, NOTEBOOK));
  const port = await freePort();
  const cmd = labCommand({
    python,
    root: DIR,
    port,
    browser: false,
    token: TOKEN,
    quick: true,
    extra: [
      '--LabApp.expose_app_in_browser=True',
      '--ServerApp.ip=127.0.0.1',
      // the server itself stays off the network too: no news feed, no update check
      '--LabApp.news_url=None',
      '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
    ],
  });
  assert.equal(cmd.app, 'lab');
  server = spawn(cmd.python, ['-m', 'jupyter', ...cmd.args], { env: cmd.env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout?.on('data', (d: Buffer) => (serverLog += d.toString()));
  server.stderr?.on('data', (d: Buffer) => (serverLog += d.toString()));
  base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 120; i++) {
    try {
      if ((await get(`${base}/api/status`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  const context = await browser.newContext({ viewport: { width: 1024, height: 640 } });
  // Nothing may leave the machine: every request to another host is aborted, and recorded.
  await context.route(
    (url) => !['127.0.0.1', 'localhost'].includes(url.hostname) && !/^(data|blob|about):/.test(url.protocol),
    (route) => {
      offsite.push(route.request().url());
      return route.abort();
    },
  );
  page = await context.newPage();
  page.on('websocket', (ws) => {
    if (!/^wss?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(ws.url())) offsite.push(ws.url());
  });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server?.on('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
});

test('JupyterLab 4 runs a lecture: figures, images, maths, no errors, nothing leaves the machine', { skip: SKIP, timeout: 300000 }, async () => {
  await page.goto(`${base}/lab/tree/${NOTEBOOK}?token=${TOKEN}`);
  await page.waitForSelector('.jp-NotebookPanel .jp-Cell', { timeout: 90000 });
  await page.waitForFunction(() => (window as unknown as { jupyterapp?: unknown }).jupyterapp !== undefined, null, { timeout: 30000 });
  // the kernel is this checkout's tslab, started and idle
  await page.waitForFunction(() => document.querySelector('.jp-NotebookPanel .jp-Toolbar-kernelName')?.textContent?.includes('TypeScript'), null, {
    timeout: 60000,
  });
  // run only once the kernel is up (before that, Run All silently runs nothing): the status bar says Idle
  await page.waitForFunction(() => /TypeScript \| Idle/.test(document.querySelector('#jp-main-statusbar')?.textContent ?? ''), null, {
    timeout: 90000,
  });
  await command('notebook:run-all-cells');
  // every code cell ran, the collapsed solution cells too: each code cell's model has an execution count (JupyterLab
  // clears it while a cell is queued or running). Read from the notebook's model, not the prompts: a collapsed input
  // shows no prompt, and JupyterLab 4 may not have rendered cells outside the window yet.
  type CellsView = { widgets: { model: { type: string; executionCount: number | null } }[] };
  const counts = () =>
    page.evaluate(() => {
      const nb = (window as unknown as { jupyterapp: { shell: { currentWidget: { content: CellsView } } } }).jupyterapp.shell.currentWidget.content;
      return nb.widgets.filter((w) => w.model.type === 'code').map((w) => w.model.executionCount);
    });
  await page.waitForFunction(
    () => {
      const nb = (window as unknown as { jupyterapp: { shell: { currentWidget?: { content?: CellsView } } } }).jupyterapp.shell.currentWidget?.content;
      const code = nb?.widgets.filter((w) => w.model.type === 'code') ?? [];
      return code.length > 0 && code.every((w) => w.model.executionCount !== null);
    },
    null,
    { timeout: 150000, polling: 500 },
  ).catch(async (e: Error) => {
    await page.screenshot({ path: path.join(DIR, 'failed.png') });
    throw new Error(`${e.message}\nexecution counts: ${JSON.stringify(await counts())}\nserver log:\n${serverLog.slice(-3000)}`);
  });
  await page.waitForSelector('.jp-OutputArea-output .genlab-figure svg.main-svg', { timeout: 60000 });
  const report = await page.evaluate(() => ({
    traces: document.querySelectorAll('.jp-OutputArea-output .genlab-figure .scatterlayer .trace').length,
    images: Array.from(document.querySelectorAll('.jp-OutputArea-output img')).filter(
      (i) => (i as HTMLImageElement).src.startsWith('data:image/png') && (i as HTMLImageElement).naturalWidth > 0,
    ).length,
    maths: document.querySelectorAll('.jp-MarkdownOutput mjx-container').length,
    texErrors: document.querySelectorAll('.jp-MarkdownOutput mjx-merror').length,
    errors: Array.from(
      document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'),
    ).map((e) => (e.textContent ?? '').slice(0, 300)),
    table: document.querySelector('.jp-OutputArea-output table.genlab-environment')?.textContent ?? '',
  }));
  assert.equal(report.traces, 2, 'the plotly figure has its two traces');
  assert.ok(report.images >= 1, 'the image grid is shown');
  assert.ok(report.maths >= 3, `maths typeset: ${report.maths} formulas`);
  assert.equal(report.texErrors, 0, 'no TeX errors');
  assert.deepEqual(report.errors, [], 'no error output');
  assert.match(report.table, /backend/, 'showEnvironment rendered its table');
  // the picture in the README: the figure in its notebook
  await page.getByRole('button', { name: 'No', exact: true }).click({ timeout: 2000 }).catch(() => undefined); // the news question
  await command('application:toggle-left-area'); // the notebook, wide
  await page.waitForTimeout(300);
  await page.evaluate(async () => {
    // scroll the notebook so that the end of the cell that drew the figure is at the bottom of the window
    type Nb = { widgets: { node: HTMLElement }[]; activeCellIndex: number; scrollToItem(i: number, align: string): Promise<void> };
    const nb = (window as unknown as { jupyterapp: { shell: { currentWidget: { content: Nb } } } }).jupyterapp.shell.currentWidget.content;
    const i = nb.widgets.findIndex((w) => w.node.querySelector('.genlab-figure') !== null);
    if (i >= 0) {
      nb.activeCellIndex = i; // else JupyterLab scrolls back to the active (last) cell
      await nb.scrollToItem(i, 'end');
    }
  });
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(DIR, 'jupyterlab.png') });
  assert.deepEqual(offsite, [], 'requests that tried to leave the machine');
});

/** Replaces the active cell's text and puts the cursor at the end of its line `line` (0-based; default last). */
async function editActiveCell(source: string): Promise<void> {
  await page.evaluate((src) => {
    const app = (window as unknown as { jupyterapp: { shell: { currentWidget: { content: { activeCell: { model: { sharedModel: { setSource(s: string): void } } } } } } } }).jupyterapp;
    app.shell.currentWidget.content.activeCell.model.sharedModel.setSource(src);
  }, source);
  // the notebook renders cells lazily: bring the active one into view, then click into its editor (edit mode)
  await page.evaluate(async () => {
    const nb = (window as unknown as { jupyterapp: { shell: { currentWidget: { content: { activeCell: unknown; scrollToCell(c: unknown): Promise<void> } } } } }).jupyterapp.shell.currentWidget.content;
    await nb.scrollToCell(nb.activeCell);
  });
  await page.locator('.jp-Notebook .jp-Cell.jp-mod-active .cm-content').click();
  await page.keyboard.press('Control+End');
}

test('completion offers a genlab model\'s methods; the tooltip shows a genlab class\'s documented signature', { skip: SKIP, timeout: 120000 }, async () => {
  await command('notebook:move-cursor-down'); // make sure we are in the notebook
  await command('notebook:insert-cell-below');
  await editActiveCell("import { BernoulliRBM } from 'genlab';\nconst rbm = new BernoulliRBM({ nVisible: 4, nHidden: 2 });\nrbm.");
  await page.keyboard.press('Tab');
  await page.waitForSelector('.jp-Completer .jp-Completer-item', { timeout: 60000 }).catch(async (e: Error) => {
    await page.screenshot({ path: path.join(DIR, 'failed-completion.png') });
    throw e;
  });
  const items = await page.evaluate(() => Array.from(document.querySelectorAll('.jp-Completer .jp-Completer-item')).map((i) => i.getAttribute('data-value') ?? i.textContent ?? ''));
  for (const method of ['fit', 'sample', 'freeEnergy', 'dispose']) {
    assert.ok(items.some((i) => i.trim() === method), `completion offers ${method}: ${items.join(', ')}`);
  }
  await page.keyboard.press('Escape');
  await editActiveCell("import { BernoulliRBM } from 'genlab';\nnew BernoulliRBM");
  await page.keyboard.press('Shift+Tab');
  await page.waitForSelector('.jp-Tooltip', { timeout: 60000 });
  const tip = await page.evaluate(() => document.querySelector('.jp-Tooltip')?.textContent ?? '');
  assert.match(tip, /BernoulliRBM<\[number\]>\(opts: RBMOptions<\[number\]>\)/, `the signature (S: the example shape): ${tip.slice(0, 400)}`);
  assert.match(tip, /nVisible, nHidden, seed, weightStd/, 'the doc comment');
  await page.keyboard.press('Escape');
  await command('notebook:delete-cell');
  assert.deepEqual(offsite, [], 'requests that tried to leave the machine');
});

test('File > Save and Export Notebook As: the Lab\'s nbconvert gives single offline files', { skip: SKIP, timeout: 180000 }, async () => {
  await command('docmanager:save');
  await page.waitForFunction(() => !document.querySelector('.jp-NotebookPanel')?.classList.contains('jp-mod-dirty'), null, { timeout: 30000 });
  const saved = readNotebook(path.join(DIR, NOTEBOOK));
  assert.ok(saved.cells.some((c) => (c.outputs ?? []).length > 0), 'the saved notebook holds its outputs');
  for (const [format, selector] of [
    ['html', 'body'],
    ['slides', '.reveal.ready'],
  ] as const) {
    const r = await get(`${base}/nbconvert/${format}/${NOTEBOOK}?download=true`);
    assert.equal(r.status, 200, `${format}: ${r.body.slice(0, 500)}\n${serverLog.slice(-2000)}`);
    assertSelfContained(r.body, `the Lab's ${format} export`);
    const dir = fs.mkdtempSync(path.join(DIR, `alone-${format}-`));
    const file = path.join(dir, `${format}.html`);
    fs.writeFileSync(file, r.body);
    const v = await openPage(browser, file);
    try {
      await v.page.waitForSelector(selector, { timeout: 60000 });
      assert.ok((await typeset(v.page)) >= 3, `${format}: maths typeset`);
      assert.equal(await mathErrors(v.page), 0);
      if (format === 'html') await v.page.waitForSelector('.genlab-figure svg.main-svg', { timeout: 60000 });
      else {
        const slide = await v.page.evaluate(() =>
          Array.from(document.querySelectorAll('.reveal .slides > section')).findIndex((s) => s.querySelector('.genlab-figure')),
        );
        assert.ok(slide > 0, 'a slide holds the figure');
        await v.page.evaluate((i) => (window as unknown as { Reveal: { slide(h: number): void } }).Reveal.slide(i), slide);
        await v.page.waitForSelector('section.present .genlab-figure svg.main-svg', { timeout: 60000 });
      }
      assertOffline(v);
    } finally {
      await v.page.context().close();
    }
  }
});
