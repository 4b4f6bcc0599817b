/**
 * Checks that guard a lecture without taking over its slides: one short line under the cell instead of a screen of
 * `if (...) throw new Error(...)`.
 *
 * - {@link check}: a fact of mathematics (a closed form, an identity, an exact enumeration). When it fails the maths or
 *   the code is wrong, so it throws and the notebook stops; when it holds it prints `✓ check: <what>`.
 * - {@link expectOutcome}: an outcome of training that depends on settings a student may change (epochs, learning
 *   rate, seed). It never throws in a lecture: it prints `✓ expected with the default settings: <what>` or, when it
 *   does not hold, `✗ expected with the default settings: <what>; got <detail>` so the student sees what changed.
 *   `npm run lectures` sets `GENLAB_STRICT_OUTCOMES=1` for the full-mode run, where the defaults must deliver: there a
 *   failed expectation throws.
 */
import { displayBundle, inNotebook } from './notebook';
import { escapeHtml } from './html';

/** Environment variable that turns failed {@link expectOutcome} notes into errors (set by `npm run lectures`). */
export const STRICT_OUTCOMES_ENV = 'GENLAB_STRICT_OUTCOMES';

function strictOutcomes(): boolean {
  const v = (process.env[STRICT_OUTCOMES_ENV] ?? '').toLowerCase();
  return v === '1' || v === 'true' || v === 'yes';
}

/** Prints one small line: an HTML line in a notebook (pages and decks keep it small), text elsewhere. */
function note(text: string, ok: boolean): void {
  if (inNotebook()) {
    const colour = ok ? '#2e7d32' : '#b26a00';
    const html = `<div class="genlab-check" style="font-size:0.8em;color:${colour};margin:0.1em 0">${escapeHtml(text)}</div>`;
    if (displayBundle({ 'text/html': html, 'text/plain': text })) return;
  }
  console.log(text);
}

/**
 * A check of mathematics: throws `check failed: <what>; <detail>` when `holds` is false, else prints `✓ check: <what>`.
 * @param what What holds, in a few words, e.g. `score = -grad E to 1e-5`.
 * @param holds The result of the comparison.
 * @param detail What was measured, shown with the line (e.g. `max error 3e-7`).
 * @example check('V(G, D*) = -log 4 + 2 JS', Math.abs(v - exact) < 1e-6, `difference ${Math.abs(v - exact)}`);
 */
export function check(what: string, holds: boolean, detail?: string): void {
  if (typeof what !== 'string' || what.length === 0) throw new TypeError('check needs a description of what holds');
  if (typeof holds !== 'boolean') throw new TypeError(`check '${what}': holds must be true or false; got ${typeof holds}`);
  const suffix = detail ? ` (${detail})` : '';
  if (!holds) throw new Error(`check failed: ${what}${detail ? `; ${detail}` : ''}`);
  note(`✓ check: ${what}${suffix}`, true);
}

/**
 * An outcome that depends on training settings: a labelled note, never an error in a lecture (see the module
 * comment). Returns `holds`, so a cell can branch on it.
 * @param what The outcome expected with the lecture's settings, e.g. `8 of 8 modes covered`.
 * @param holds Whether this run shows it.
 * @param detail What this run measured, e.g. `7 of 8 modes, 91% of samples near a mode`.
 */
export function expectOutcome(what: string, holds: boolean, detail?: string): boolean {
  if (typeof what !== 'string' || what.length === 0) throw new TypeError('expectOutcome needs a description of the outcome');
  if (typeof holds !== 'boolean') throw new TypeError(`expectOutcome '${what}': holds must be true or false; got ${typeof holds}`);
  if (holds) {
    note(`✓ expected with the default settings: ${what}${detail ? ` (${detail})` : ''}`, true);
    return true;
  }
  const text = `✗ expected with the default settings: ${what}${detail ? `; got ${detail}` : ''}`;
  if (strictOutcomes()) throw new Error(`${text} (${STRICT_OUTCOMES_ENV}=1)`);
  note(text, false);
  return false;
}
