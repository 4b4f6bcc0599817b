/** Headless Chromium for tests that open pages: Debian's chromium, with the flags a closed network needs. */
import * as assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';

/** The Chromium binary (GENLAB_CHROMIUM overrides Debian's /usr/bin/chromium). */
export const CHROMIUM = process.env.GENLAB_CHROMIUM ?? '/usr/bin/chromium';

/** Launch flags: headless, no sandbox (root), and no background traffic (refused on this network). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Visit {
  page: Page;
  offsite: string[];
  failed: string[];
  errors: string[];
}

/** Opens a file (or a localhost URL) in a fresh page, recording every request that is not local and every failure. */
export async function openPage(browser: Browser, file: string, hash = ''): Promise<Visit> {
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
export async function typeset(page: Page): Promise<number> {
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

export function assertOffline(v: Visit): void {
  assert.deepEqual(v.offsite, [], 'requests outside file://');
  assert.deepEqual(v.failed, [], 'failed requests (missing assets?)');
  assert.deepEqual(v.errors, [], 'JavaScript errors on the page');
}

