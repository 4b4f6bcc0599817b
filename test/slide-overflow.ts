/**
 * Does every slide of an exported reveal.js deck fit the screen? Opens the deck in headless Chromium at a given
 * viewport, shows every slide (vertical sub-slides included) with all its fragments, waits for its figures, and
 * measures, in screen pixels:
 *   - content beyond the right (or left) edge of the screen;
 *   - content below the bottom (or above the top) of the screen, unless it sits in a container the reader can
 *     scroll (overflow-y auto/scroll with scrollHeight > clientHeight): then the slide "scrolls" and is counted;
 *   - content cut by a box that clips without scrolling (overflow hidden/clip), e.g. code lines cut at the right;
 *     a code box that scrolls horizontally or wraps is fine.
 * Used by test/slides.test.ts on the decks test/notebooks.test.ts exports.
 */
import type { Browser, Page } from 'playwright-core';
import { openPage, typeset } from './browser';

/** One thing out of reach on a slide. */
export interface Overflow {
  /** 'right' | 'left' | 'bottom' | 'top': beyond that screen edge; 'cut-right' | 'cut-bottom': clipped by a box. */
  kind: 'right' | 'left' | 'bottom' | 'top' | 'cut-right' | 'cut-bottom';
  /** How far, in screen pixels (the worst element of this kind on the slide). */
  px: number;
  /** The worst element: tag.class "text...". */
  what: string;
}

/** What one slide showed. */
export interface SlideReport {
  /** reveal.js indices: h (horizontal), v (vertical sub-slide). */
  h: number;
  v: number;
  /** The slide has content the reader reaches by scrolling vertically. */
  scrolls: boolean;
  /** Content out of reach (empty when the slide fits). */
  overflows: Overflow[];
}

/** The screens decks must fit. */
export const SCREENS = [
  { width: 1280, height: 720 },
  { width: 1920, height: 1080 },
] as const;

/** Pixels of slack (sub-pixel rounding, borders). */
const TOLERANCE = 2;

/** Runs in the page: measures the current slide. Self-contained (serialised into the browser). */
function measureCurrentSlide(tol: number): { scrolls: boolean; overflows: Overflow[] } {
  const R = (window as unknown as { Reveal: { getCurrentSlide(): HTMLElement } }).Reveal;
  const slide = R.getCurrentSlide();
  const vw = window.innerWidth;
  const vh = window.innerHeight;
  // screen px per CSS px of the slide (reveal.js scales the slides with zoom or a transform)
  const scale = slide.getBoundingClientRect().width / (slide.offsetWidth || 1);
  const worst = new Map<Overflow['kind'], Overflow>();
  const describe = (el: Element): string => {
    const cls = Array.from(el.classList).slice(0, 2).map((c) => `.${c}`).join('');
    const text = (el.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 50);
    return `${el.tagName.toLowerCase()}${cls}${text ? ` "${text}"` : ''}`;
  };
  const note = (kind: Overflow['kind'], px: number, el: Element): void => {
    if (px <= tol) return;
    const w = worst.get(kind);
    if (!w || px > w.px + 0.5) worst.set(kind, { kind, px: Math.round(px), what: describe(el) });
  };
  const scrollsOn = (cs: CSSStyleDeclaration, axis: 'x' | 'y'): boolean => {
    const o = axis === 'x' ? cs.overflowX : cs.overflowY;
    return o === 'auto' || o === 'scroll';
  };
  const clipsOn = (cs: CSSStyleDeclaration, axis: 'x' | 'y'): boolean => (axis === 'x' ? cs.overflowX : cs.overflowY) !== 'visible';
  /** Per element: does an ancestor up to the slide clip (or scroll) it on x / y? Then that ancestor is measured. */
  const clipped = new Map<Element, { x: boolean; y: boolean }>();
  const clippedBy = (el: Element, axis: 'x' | 'y'): boolean => {
    if (el === slide || !el.parentElement) return false;
    const p = el.parentElement;
    let c = clipped.get(p);
    if (!c) {
      const ps = getComputedStyle(p);
      c = { x: clippedBy(p, 'x') || clipsOn(ps, 'x'), y: clippedBy(p, 'y') || clipsOn(ps, 'y') };
      clipped.set(p, c);
    }
    return c[axis];
  };
  let scrolls = false;
  for (const el of [slide, ...Array.from(slide.querySelectorAll('*'))]) {
    // the parts of a drawing are clipped by its <svg> (measured itself): skip them (plotly draws thousands)
    if (el.parentElement instanceof SVGElement) continue;
    if (el.closest('aside.notes, mjx-assistive-mml, script, style')) continue;
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden' || cs.display === 'contents') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const h = el as HTMLElement;
    const overX = h.scrollWidth - h.clientWidth;
    const overY = h.scrollHeight - h.clientHeight;
    // a box that clips: scrolling is fine (the reader can reach it), hidden/clip cuts the content off
    if (clipsOn(cs, 'x') && overX > tol && !(el instanceof SVGElement)) {
      if (!scrollsOn(cs, 'x')) note('cut-right', overX * scale, el);
    }
    if (clipsOn(cs, 'y') && overY > tol && !(el instanceof SVGElement)) {
      if (scrollsOn(cs, 'y')) scrolls = true;
      else note('cut-bottom', overY * scale, el);
    }
    // the screen: where the box (and, if it does not clip, its overflowing content) ends
    const right = clipsOn(cs, 'x') ? r.right : Math.max(r.right, r.left + h.scrollWidth * scale);
    const bottom = clipsOn(cs, 'y') ? r.bottom : Math.max(r.bottom, r.top + h.scrollHeight * scale);
    if (!clippedBy(el, 'x')) {
      note('right', right - vw, el);
      note('left', -r.left, el);
    }
    if (!clippedBy(el, 'y')) {
      note('bottom', bottom - vh, el);
      note('top', -r.top, el);
    }
  }
  return { scrolls, overflows: Array.from(worst.values()) };
}

/** Reveal.js API used from the page. */
type RevealApi = {
  slide(h: number, v?: number): void;
  nextFragment(): boolean;
  configure(o: Record<string, unknown>): void;
  layout(): void;
};

/** The number of sub-slides of each horizontal slide. */
async function deckShape(page: Page): Promise<number[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('.reveal .slides > section')).map((s) => Math.max(1, s.querySelectorAll(':scope > section').length)),
  );
}

/** Shows slide (h, v) with every fragment, waits for its figures, and measures it. */
async function visitSlide(page: Page, h: number, v: number): Promise<SlideReport> {
  await page.evaluate(
    ([hh, vv]) => {
      const R = (window as unknown as { Reveal: RevealApi }).Reveal;
      R.slide(hh, vv);
      while (R.nextFragment()) {
        /* show them all */
      }
    },
    [h, v],
  );
  // figures draw when their slide is first shown (and genlab's template then fits them to the slide)
  await page
    .waitForFunction(
      () => {
        const w = window as unknown as { Reveal: { getCurrentSlide(): HTMLElement }; genlabFitFigures?: () => void };
        w.genlabFitFigures?.(); // genlab's template fits drawn figures to the slide (on a timer too; now is sooner)
        return Array.from(w.Reveal.getCurrentSlide().querySelectorAll('.genlab-figure')).every(
          (f) => f.querySelector('svg.main-svg') !== null && (!w.genlabFitFigures || (f as HTMLElement).dataset.genlabFit === 'done'),
        );
      },
      null,
      { timeout: 30000 },
    )
    .catch(() => undefined); // measured anyway: an undrawn figure is reported by the notebooks test
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const m = await page.evaluate(measureCurrentSlide, TOLERANCE);
  return { h, v, ...m };
}

/** Opens `file` once and measures every slide at each of `screens` (the page resized between them). */
export async function measureDeck(
  browser: Browser,
  file: string,
  screens: readonly { width: number; height: number }[] = SCREENS,
): Promise<SlideReport[][]> {
  const visit = await openPage(browser, file);
  const page = visit.page;
  try {
    await page.setViewportSize(screens[0]);
    await page.waitForSelector('.reveal.ready', { timeout: 60000 });
    await typeset(page);
    // no animation between slides and fragments: measure where things end up
    await page.evaluate(() => {
      const R = (window as unknown as { Reveal: RevealApi }).Reveal;
      R.configure({ transition: 'none', backgroundTransition: 'none' });
      const s = document.createElement('style');
      s.textContent = '.reveal .fragment, .reveal .slides section { transition: none !important; }';
      document.head.appendChild(s);
    });
    const shape = await deckShape(page);
    const all: SlideReport[][] = [];
    for (const screen of screens) {
      await page.setViewportSize(screen);
      await page.evaluate(() => (window as unknown as { Reveal: RevealApi }).Reveal.layout());
      const reports: SlideReport[] = [];
      for (const [h, n] of shape.entries()) {
        for (let v = 0; v < n; v++) reports.push(await visitSlide(page, h, v));
      }
      all.push(reports);
    }
    return all;
  } finally {
    await page.context().close();
  }
}

/** One line per slide that does not fit, e.g. `slide 3.1: 412 px below the bottom (div.jp-OutputArea "...")`. */
export function describeProblems(reports: readonly SlideReport[]): string[] {
  const words: Record<Overflow['kind'], string> = {
    right: 'beyond the right edge',
    left: 'beyond the left edge',
    bottom: 'below the bottom (and the slide does not scroll)',
    top: 'above the top',
    'cut-right': 'cut at the right by a box that neither scrolls nor wraps',
    'cut-bottom': 'cut at the bottom by a box that does not scroll',
  };
  return reports
    .filter((r) => r.overflows.length > 0)
    .map((r) => `slide ${r.h}.${r.v}: ${r.overflows.map((o) => `${o.px} px ${words[o.kind]} (${o.what})`).join('; ')}`);
}
