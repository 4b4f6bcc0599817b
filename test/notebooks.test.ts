/**
 * Every notebook in notebooks/ executes through real Jupyter with the tslab kernel, in quick mode, by the same code
 * that `npm run lectures` runs (scripts/lectures.ts). New notebooks are picked up automatically.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../scripts/jupyter';
import { listNotebooks, runNotebook } from '../scripts/lectures';
import { chromium, Browser } from 'playwright-core';
import { cellSource, readNotebook } from '../scripts/notebook-cells';
import { CHROMIUM, CHROMIUM_FLAGS, assertOffline, mathErrors, openPage, typeset } from './browser';

const OUT = path.join(repoRoot(), 'build', 'test-notebooks');
const SLIDE_TYPES = ['slide', 'subslide', 'fragment', 'skip', 'notes', '-'];

const notebooks = listNotebooks();

let browser: Browser | undefined;
before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} not found: apt-get install chromium (\`npm test\` installs it as root)`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
});
after(async () => {
  await browser?.close();
});

/**
 * Opens exported slides offline: reveal.js starts, formulas are typeset, the whole deck can be stepped through, and
 * every figure draws when its slide is shown, with nothing fetched.
 */
async function assertSlidesRender(file: string, hasMath: boolean): Promise<void> {
  const v = await openPage(browser!, file);
  try {
    await v.page.waitForSelector('.reveal.ready', { timeout: 60000 });
    if (hasMath) await typeset(v.page);
    // Walk the whole deck once (every slide, sub-slide and fragment), as a presenter would. Reveal.next() rather
    // than key presses: under load a press can land before focus does and be lost (the keyboard path itself is
    // tested slide by slide in export.test.ts).
    const steps = await v.page.evaluate(
      () => document.querySelectorAll('.reveal .slides section').length + document.querySelectorAll('.reveal .fragment').length,
    );
    for (let step = 0; step < steps; step++) {
      await v.page.evaluate(() => (window as unknown as { Reveal: { next(): void } }).Reveal.next());
      await v.page.waitForTimeout(30);
    }
    // Then go to each figure's slide and wait there until it is drawn. A figure draws while its slide is shown
    // (it polls every 250 ms), so a walk at 30 ms a step can pass a slide before its figure's turn comes when the
    // machine is busy; stopping on the slide is what a student does, and makes the check independent of load.
    const figures = await v.page.evaluate(() => document.querySelectorAll('.genlab-figure').length);
    for (let i = 0; i < figures; i++) {
      await v.page.evaluate((k) => {
        const R = (window as unknown as { Reveal: { getIndices(s: Element): { h: number; v?: number }; slide(h: number, v?: number): void } }).Reveal;
        const section = document.querySelectorAll('.genlab-figure')[k].closest('section');
        if (section) {
          const at = R.getIndices(section);
          R.slide(at.h, at.v);
        }
      }, i);
      await v.page.waitForFunction(
        (k) => document.querySelectorAll('.genlab-figure')[k].querySelector('svg.main-svg') !== null,
        i,
        { timeout: 60000 },
      );
    }
    assertOffline(v);
  } finally {
    await v.page.context().close();
  }
}

/** Opens an exported page offline: every figure drawn, every formula typeset without TeX errors, nothing fetched. */
async function assertPageRenders(file: string, hasMath: boolean): Promise<void> {
  const v = await openPage(browser!, file);
  try {
    const figures = await v.page.evaluate(() => document.querySelectorAll('.genlab-figure').length);
    await v.page.waitForFunction(
      (n) => Array.from(document.querySelectorAll('.genlab-figure')).filter((f) => f.querySelector('svg.main-svg')).length >= n,
      figures,
      { timeout: 90000 },
    );
    if (hasMath) {
      await typeset(v.page);
      assert.equal(await mathErrors(v.page), 0, 'TeX errors on the page');
    }
    assertOffline(v);
  } finally {
    await v.page.context().close();
  }
}

test('there are notebooks to run', () => {
  assert.ok(notebooks.some((n) => path.basename(n) === '00-getting-started.ipynb'), notebooks.join(', '));
});

for (const nb of notebooks) {
  const name = path.basename(nb);

  test(`${name}: committed clean (no outputs), tslab kernel, slide metadata on every cell`, () => {
    const doc = readNotebook(nb);
    assert.equal(doc.metadata.kernelspec?.name, 'tslab', 'kernelspec.name must be tslab');
    doc.cells.forEach((c, i) => {
      if (c.cell_type === 'code') {
        assert.deepEqual(c.outputs, [], `cell ${i} has outputs: strip them before committing`);
        assert.equal(c.execution_count ?? null, null, `cell ${i} has an execution count`);
      }
      const t = c.metadata.slideshow?.slide_type;
      assert.ok(t !== undefined && SLIDE_TYPES.includes(t), `cell ${i} lacks metadata.slideshow.slide_type (got ${t})`);
    });
  });

  test(`${name}: executes in quick mode through Jupyter (tslab kernel) and exports`, async () => {
    const r = await runNotebook(nb, {
      quick: true,
      timeout: 300,
      outDir: OUT,
      log: (l) => process.stderr.write(`${l}\n`),
    });
    assert.ok(r.seconds < 600, `${name} took ${r.seconds} s in quick mode`);
    const executed = readNotebook(r.outputs.notebook);
    const code = executed.cells.filter((c) => c.cell_type === 'code');
    assert.ok(code.every((c) => typeof c.execution_count === 'number'), 'every code cell ran');
    for (const f of [r.outputs.html, r.outputs.slides]) {
      assert.ok(f && fs.statSync(f).size > 10000, `${f} written`);
    }
    const markdown = readNotebook(nb).cells.filter((c) => c.cell_type === 'markdown').map(cellSource).join('\n');
    const hasMath = /\$[^$]+\$/.test(markdown);
    await assertPageRenders(r.outputs.html!, hasMath);
    await assertSlidesRender(r.outputs.slides!, hasMath);
  });
}
