/**
 * Slides that present (issue 17 item 5): every slide of every deck (sub-slides included, all fragments shown) is
 * opened in headless Chromium at 1280x720 and at 1920x1080, and nothing may lie beyond the right edge, nor below the
 * bottom unless the slide scrolls, nor be cut by a box that neither scrolls nor wraps (test/slide-overflow.ts).
 *
 * The decks are the ones test/notebooks.test.ts exports (build/test-notebooks/slides/, run just before this file in
 * `npm test`): a deck newer than its notebook and than the installed export templates is checked as it is; one older
 * than the templates is exported again from its executed copy (seconds); only a missing or outdated execution is
 * executed here, in quick mode, by the same code.
 * Prints, per deck and screen, how many slides scroll (the exception: scrolling is the fallback, not the plan).
 * GENLAB_DECKS=05,08 checks only the notebooks whose names contain one of those; GENLAB_DECKS_DIR=<folder> checks the
 * decks already in that folder (e.g. build/slides from `npm run lectures`) as they are.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, Browser } from 'playwright-core';
import { ensureJupyter, privatePrefix, registerKernel, repoRoot } from '../scripts/jupyter';
import { templatesDir } from '../scripts/jupyter-files';
import { listNotebooks, outputsFor, runNotebook } from '../scripts/lectures';
import { cellSource, readNotebook } from '../scripts/notebook-cells';
import { CHROMIUM, CHROMIUM_FLAGS } from './browser';
import { describeProblems, measureDeck, SCREENS } from './slide-overflow';

/** Where test/notebooks.test.ts writes its executed notebooks and exports. */
const OUT = path.join(repoRoot(), 'build', 'test-notebooks');

/** What of a notebook's cells shapes its deck: types, sources, slide metadata, tags. */
function cellsKey(file: string): string {
  return JSON.stringify(
    readNotebook(file).cells.map((c) => [c.cell_type, cellSource(c), c.metadata.slideshow ?? null, c.metadata.tags ?? null, c.metadata.jupyter ?? null]),
  );
}

const mtime = (f: string): number => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : -1);

let python: string;
let browser: Browser | undefined;
/** When the installed templates last changed (their stamp file). */
let templatesChanged = 0;
const summary: string[] = [];
const t0 = Date.now();

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} not found: apt-get install chromium (\`npm test\` installs it as root)`);
  python = ensureJupyter();
  registerKernel(python); // installs the checkout's templates if they changed (quick when they did not)
  templatesChanged = mtime(path.join(templatesDir(privatePrefix()), 'genlab-assets', 'stamp.json'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
});

after(async () => {
  await browser?.close();
  if (summary.length > 0) {
    process.stderr.write(`# slides that scroll, per deck (checked in ${((Date.now() - t0) / 1000).toFixed(0)} s):\n${summary.join('\n')}\n`);
  }
});

/** The deck of `notebook`, exported with the current templates from an execution of its current cells. */
async function freshDeck(notebook: string): Promise<{ file: string; how: string }> {
  const given = process.env.GENLAB_DECKS_DIR;
  if (given) return { file: path.resolve(given, `${path.basename(notebook, '.ipynb')}.slides.html`), how: `from ${given}` };
  const out = outputsFor(notebook, OUT);
  const deck = out.slides!;
  const made = mtime(deck);
  if (made >= mtime(notebook) && made >= templatesChanged) return { file: deck, how: 'exported by the notebooks test' };
  const log = (l: string): void => void process.stderr.write(`${l}\n`);
  if (fs.existsSync(out.notebook) && cellsKey(out.notebook) === cellsKey(notebook)) {
    await runNotebook(notebook, { python, outDir: OUT, exportOnly: true, log });
    return { file: deck, how: 'exported again from the executed copy' };
  }
  await runNotebook(notebook, { python, quick: true, timeout: 300, outDir: OUT, log });
  return { file: deck, how: 'executed in quick mode and exported' };
}

const filters = (process.env.GENLAB_DECKS ?? '').split(',').map((f) => f.trim()).filter((f) => f !== '');

for (const nb of listNotebooks(filters)) {
  const name = path.basename(nb, '.ipynb');
  test(`${name}: every slide fits 1280x720 and 1920x1080 (or scrolls)`, async (t) => {
    const { file, how } = await freshDeck(nb);
    const failures: string[] = [];
    const counts: string[] = [];
    const measured = await measureDeck(browser!, file, SCREENS);
    for (const [i, screen] of SCREENS.entries()) {
      const reports = measured[i];
      const size = `${screen.width}x${screen.height}`;
      const scrolling = reports.filter((r) => r.scrolls).map((r) => `${r.h}.${r.v}`);
      counts.push(`${size}: ${scrolling.length} of ${reports.length} scroll${scrolling.length ? ` (${scrolling.join(' ')})` : ''}`);
      for (const p of describeProblems(reports)) failures.push(`${name} at ${size}, ${p}`);
    }
    const line = `#   ${name}: ${counts.join('; ')}`;
    summary.push(line);
    t.diagnostic(`${name} (${how}): ${counts.join('; ')}`);
    assert.ok(
      failures.length === 0,
      `${failures.length} slide(s) of ${path.relative(process.cwd(), file)} do not fit the screen (slide h.v = reveal.js indices):\n` +
        failures.map((f) => `  ${f}`).join('\n'),
    );
  });
}
