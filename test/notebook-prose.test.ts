/**
 * Prose that does not depend on the run (issue 17, item 4): markdown must not state what a particular run produced
 * ("the loss fell to 0.09", "accuracy is 93%", "after 5 epochs the samples look like digits", "in the default run
 * many chains settle on 1s"). Such numbers belong in code output, or the sentence must hold under any seed and in
 * quick mode. The patterns below look for the phrasings that state an outcome with a number; display maths, code
 * spans and tables (settings) are left out. A match that is a fact rather than an outcome (a rule of thumb from the
 * literature, an exact value) goes on the allowlist with its reason.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { listNotebooks } from '../scripts/lectures';
import { cellSource, readNotebook } from '../scripts/notebook-cells';

const NUMBER = String.raw`[-−]?\d`;
const APPROX = String.raw`(?:about\s+|roughly\s+|around\s+|nearly\s+|almost\s+|only\s+|~\s*|≈\s*)?`;

/** Phrasings that report a run's outcome, each with a name for the failure message. */
const PATTERNS: { name: string; re: RegExp }[] = [
  {
    name: 'an outcome verb with a number ("fell to 0.09", "lowered ... by several nats")',
    re: new RegExp(
      String.raw`\b(?:fell|falls|drops?|dropped|rose|rises|reached|reaches|ended|settles?|settled|converged|improved|climbed|grew|stayed|stays|landed|lowered|raised|moved)\s+(?:[\w-]+\s+){0,4}?(?:to|at|by|near|around)\s+${APPROX}(?:${NUMBER}|several|many)`,
      'gi',
    ),
  },
  {
    name: 'a metric equal to a number ("accuracy is 93%", "the ELBO was -95")',
    re: new RegExp(
      String.raw`\b(?:accuracy|loss|error|log-likelihood|likelihood|ELBO|KL|MMD|score|distance|acceptance(?: rate)?|ESS)\s+(?:is|was|of|reaches|reached|becomes|became|≈|=|~)\s+${APPROX}${NUMBER}`,
      'gi',
    ),
  },
  { name: 'an approximate value ("is about 0.25")', re: new RegExp(String.raw`\b(?:is|are|was|were)\s+(?:about|roughly|around|approximately|≈)\s+${NUMBER}`, 'gi') },
  {
    name: 'what a run looks like after so many steps ("after 5 epochs the samples look")',
    re: /\bafter\s+(?:only\s+|just\s+)?\d[\d\s,]*\s*(?:epochs?|steps?|sweeps?|updates?|iterations?)\b[^.]*?\b(?:looks?|resembles?|reaches|reached)\b/gi,
  },
  { name: 'a percentage outcome ("93% accuracy")', re: /\b\d+(?:\.\d+)?\s?%\s+(?:accuracy|correct|of (?:the )?(?:test|training) )/gi },
  { name: "a claim about one run ('in the default run ...')", re: /\b(?:in|on) (?:this|the default|our) run\b/gi },
];

/** Matches that are facts, not outcomes of the run: notebook file, a substring of the match's context, and why. */
const ALLOWED: { notebook: string; text: string; why: string }[] = [
  { notebook: '02-metropolis-hastings.ipynb', text: 'acceptance rate of roughly 0.2', why: 'a rule of thumb from the literature' },
  { notebook: '02-metropolis-hastings.ipynb', text: 'which is about 35 standard deviations', why: 'geometry of the fixed start point and target' },
  { notebook: '02-metropolis-hastings.ipynb', text: 'stays near 1', why: 'what the classic R-hat does by construction on equal means' },
  { notebook: '03-gibbs-ising.ipynb', text: 'it is about 100', why: 'the exact formula (1 + rho^2)/(1 - rho^2) at rho = 0.99' },
];

/**
 * Markdown with display maths, code spans and table rows removed; inline maths that is only a number is kept as
 * that number (it is prose: "about $0.25$").
 */
export function proseOf(markdown: string): string {
  return markdown
    .replace(/\$\$[\s\S]*?\$\$/g, ' ')
    .replace(/\$([-−]?[\d.,\s]+)\$/g, '$1')
    .replace(/\$[^$]*\$/g, ' ')
    .replace(/`[^`]*`/g, ' ')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('|'))
    .join('\n');
}

/** Every run-dependent phrasing in one markdown cell: the pattern's name and the text around the match. */
export function runDependentPhrases(markdown: string): { pattern: string; context: string }[] {
  const prose = proseOf(markdown);
  const found: { pattern: string; context: string }[] = [];
  for (const { name, re } of PATTERNS) {
    for (const m of prose.matchAll(re)) {
      const at = m.index ?? 0;
      found.push({ pattern: name, context: prose.slice(Math.max(0, at - 60), at + m[0].length + 40).replace(/\s+/g, ' ') });
    }
  }
  return found;
}

test('the prose patterns catch run outcomes and leave settings, maths and hedged prose alone', () => {
  const caught = [
    'After training, the loss fell to 0.09 per pixel.',
    'The test accuracy is 93% after ten epochs.',
    'After 5 epochs the samples look like digits.',
    'Lengthening the ladder lowered the estimated log-likelihood by several nats.',
    'Its standard deviations are about $0.25$ here.',
    'In the default run many chains settle on 1s and 0s.',
    'The ELBO reached −95.3 nats.',
  ];
  for (const s of caught) assert.ok(runDependentPhrases(s).length > 0, `not caught: ${s}`);
  const clean = [
    'We train for 10 epochs with batches of 128 (quick mode: 3 epochs).',
    '| epochs | 10 | 3 |',
    '$$\\mathrm{JS}(p, q) \\le \\log 2 \\approx 0.693$$',
    'The printed values give this run\'s loss; it typically falls during the first epochs.',
    'The cell prints how much mass moved onto the six patterns.',
    '`epochs: 20` trains longer.',
  ];
  for (const s of clean) assert.deepEqual(runDependentPhrases(s), [], `flagged: ${s}`);
});

test('notebook markdown states no run-dependent numbers or outcomes (allowlist for facts)', () => {
  const problems: string[] = [];
  const used = new Set<number>();
  for (const file of listNotebooks()) {
    const name = path.basename(file);
    readNotebook(file).cells.forEach((cell, i) => {
      if (cell.cell_type !== 'markdown') return;
      for (const hit of runDependentPhrases(cellSource(cell))) {
        const allowed = ALLOWED.findIndex((a) => a.notebook === name && hit.context.includes(a.text));
        if (allowed >= 0) used.add(allowed);
        else problems.push(`${name} cell ${i}: ${hit.pattern}: "...${hit.context}..."`);
      }
    });
  }
  assert.deepEqual(problems, [], 'print such values from code, or phrase them so they hold under any seed and in quick mode');
  const stale = ALLOWED.filter((_, i) => !used.has(i)).map((a) => `${a.notebook}: "${a.text}"`);
  assert.deepEqual(stale, [], 'allowlist entries that no longer match anything: remove them');
});

/**
 * Development notes do not belong in lecture text (issue 26, item 5): paths into the repository's benchmarks,
 * results files, tests and sources, timings of a reference machine, backend remarks, and quick-mode settings. Quick
 * mode gets one footnote in a notebook's first cell; 00-getting-started is about the environment, so it may name
 * backends.
 */
const DEV_NOTES: { name: string; re: RegExp; unlessFirstCell?: boolean; unlessSetup?: boolean }[] = [
  { name: 'a benchmark path', re: /\bbench\/|\bRESULTS[-\w]*\.md\b/g },
  { name: 'a test file', re: /\btest\/|\b[\w-]+\.test\.[jt]s\b/g },
  { name: 'a source file', re: /\b(?:lib|scripts)\/[\w/.-]*|\b[\w-]+\.ts\b/g },
  { name: 'a reference machine or speed ratio', re: /\breference machine\b|\b\d+(?:\.\d+)?\s?× (?:PyTorch|faster|slower)/gi },
  { name: 'a backend remark', re: /\bWASM\b|\bWebAssembly\b|\bnative (?:TensorFlow|addon)\b|\btfjs-node\b/gi, unlessSetup: true },
  { name: 'quick mode outside the first cell', re: /\bquick\s+mode\b|\bGENLAB_QUICK\b/gi, unlessFirstCell: true },
];

/** Every development note in one markdown cell (raw markdown: paths usually sit in code spans). */
export function developmentNotes(markdown: string, where: { firstCell: boolean; setup: boolean }): { note: string; context: string }[] {
  const found: { note: string; context: string }[] = [];
  for (const { name, re, unlessFirstCell, unlessSetup } of DEV_NOTES) {
    if ((unlessFirstCell && where.firstCell) || (unlessSetup && where.setup)) continue;
    for (const m of markdown.matchAll(re)) {
      const at = m.index ?? 0;
      found.push({ note: name, context: markdown.slice(Math.max(0, at - 50), at + m[0].length + 30).replace(/\s+/g, ' ') });
    }
  }
  return found;
}

test('the development-note patterns catch repository notes and leave lecture prose alone', () => {
  const inLecture = { firstCell: false, setup: false };
  const caught = [
    'They need 100 epochs (`bench/quality/RESULTS-ebm.md`).',
    'See bench/RESULTS.md for the timings.',
    'The tests in `test/gradient-mcmc.test.ts` fail if it is removed.',
    'checked against simulation in test/diffusion.test.ts',
    'details in `lib/rbm/gaussian.ts`',
    "On this notebook's reference machine one image costs 40 ms (3.4× PyTorch's time).",
    'on the WebAssembly backend the budget allowed few steps; 2.2× on native TensorFlow',
    'We train 20 epochs here (2 in quick mode).',
  ];
  for (const s of caught) assert.ok(developmentNotes(s, inLecture).length > 0, `not caught: ${s}`);
  const clean = [
    'The test log-likelihood is exact; test digits the model never saw.',
    'The test bench is a linear-Gaussian model.',
    'Time one epoch with `GENLAB_BACKEND=cpu` and with the default backend.',
    'Adam $10^{-3}$, batch 256; a 3× larger step.',
  ];
  for (const s of clean) assert.deepEqual(developmentNotes(s, inLecture), [], `flagged: ${s}`);
  const footnote = '*Runs are shortened in quick mode (`GENLAB_QUICK=1`).*';
  assert.deepEqual(developmentNotes(footnote, { firstCell: true, setup: false }), []);
  assert.equal(developmentNotes(footnote, inLecture).length, 2);
  assert.deepEqual(developmentNotes('WebAssembly (`wasm`, with SIMD)', { firstCell: false, setup: true }), []);
});

test('notebook markdown carries no development notes (bench, results, test and source paths, quick mode)', () => {
  const problems: string[] = [];
  for (const file of listNotebooks()) {
    const name = path.basename(file);
    const cells = readNotebook(file).cells;
    const first = cells.findIndex((c) => c.cell_type === 'markdown');
    cells.forEach((cell, i) => {
      if (cell.cell_type !== 'markdown') return;
      for (const hit of developmentNotes(cellSource(cell), { firstCell: i === first, setup: name.startsWith('00-') })) {
        problems.push(`${name} cell ${i}: ${hit.note}: "...${hit.context}..."`);
      }
    });
  }
  assert.deepEqual(problems, [], 'keep development notes in the repository docs; a quick-mode footnote goes in the first cell');
});
