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

/**
 * Waits until MathJax 3 (inlined by genlab's export templates) has typeset the page; returns the number of formulas
 * (`mjx-container` elements, drawn as SVG).
 */
export async function typeset(page: Page): Promise<number> {
  await page.waitForFunction(
    () => {
      const w = window as unknown as { MathJax?: { startup?: { promise?: Promise<unknown> } }; genlabTypeset?: boolean };
      const p = w.MathJax?.startup?.promise;
      if (p && w.genlabTypeset === undefined) {
        w.genlabTypeset = false;
        void p.then(() => (w.genlabTypeset = true));
      }
      return w.genlabTypeset === true;
    },
    null,
    { timeout: 60000 },
  );
  return page.evaluate(() => document.querySelectorAll('mjx-container svg').length);
}

/** Formulas MathJax could not typeset (TeX errors). */
export function mathErrors(page: Page): Promise<number> {
  return page.evaluate(() => document.querySelectorAll('mjx-merror, [data-mjx-error]').length);
}

export function assertOffline(v: Visit): void {
  assert.deepEqual(v.offsite, [], 'requests outside file://');
  assert.deepEqual(v.failed, [], 'failed requests (missing assets?)');
  assert.deepEqual(v.errors, [], 'JavaScript errors on the page');
}


/** Asserts the file references nothing outside itself (no src/href to another file or a server). */
export function assertSelfContained(html: string, what: string): void {
  // the markup outside inline scripts (whose code may hold src="..." in strings, e.g. reveal's speaker view)
  const markup = html.replace(/<script\b(?![^>]*\bsrc=)[^>]*>[\s\S]*?<\/script>/gi, '<script></script>');
  const refs = markup.match(/<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=["'](?!data:|#)[^"']+["'][^>]*>/gi);
  assert.equal(refs, null, `${what} loads other files: ${refs?.slice(0, 3).join(' ')}`);
  assert.equal((html.match(/plotly\.js \(MIT\), inlined by genlab/g) ?? []).length, 1, `${what}: plotly.js inlined exactly once`);
}
