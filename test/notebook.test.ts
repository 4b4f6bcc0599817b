/**
 * The notebook display path without Jupyter: a fake tslab kernel module is put in Node's module cache, as
 * the real kernel's is, and the messages genlab sends through it are checked. (test/render.test.ts runs the
 * real kernel.)
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import Module from 'node:module';
import * as path from 'node:path';
import { displayBundle, inNotebook, LiveOutput } from '../lib/display/notebook';
import { lineFigure, PLOTLY_MIME_TYPE, resetPlotlyLoader, show } from '../lib/display/plot';
import { showImages } from '../lib/display/images';
import { table } from '../lib/display/table';
import { createProgress, Progress } from '../lib/display/progress';

interface Sent {
  content: { data: Record<string, unknown>; transient: { display_id?: string } };
  update: boolean;
}

function withFakeKernel<T>(fn: (sent: Sent[]) => T, kind: 'internal' | 'public' = 'internal'): T {
  const sent: Sent[] = [];
  const base = path.join(path.sep, 'fake-kernel', 'node_modules', 'tslab', 'dist');
  const files: string[] = [];
  const add = (name: string, exports: object) => {
    const file = path.join(base, name);
    const m = new Module(file);
    m.filename = file;
    m.loaded = true;
    m.exports = exports;
    require.cache[file] = m;
    files.push(file);
  };
  if (kind === 'internal') add('jupyter.js', { lastWriteDisplayData: (content: Sent['content'], update: boolean) => sent.push({ content, update }) });
  else {
    const display = (id?: string) => ({ raw: (type: string, b: string) => sent.push({ content: { data: { [type]: b }, transient: { display_id: id } }, update: false }) });
    let n = 0;
    add('public.js', { display: display(), newDisplay: () => display(`d${++n}`) });
  }
  try {
    return fn(sent);
  } finally {
    for (const f of files) delete require.cache[f];
  }
}

test('outside a kernel: not a notebook, nothing sent', () => {
  assert.equal(inNotebook(), false);
  assert.equal(displayBundle({ 'text/plain': 'x' }), false);
  assert.equal(new LiveOutput().update({ 'text/plain': 'x' }), false);
});

test('in a kernel: show sends one bundle, plotly.js with the first figure only (until reset)', () => {
  resetPlotlyLoader();
  withFakeKernel((sent) => {
    assert.equal(inNotebook(), true);
    show(lineFigure({ a: [1, 2] }));
    show(lineFigure({ b: [1, 2] }));
    resetPlotlyLoader();
    show(lineFigure({ c: [1, 2] }));
    show(lineFigure({ d: [1, 2] }), { includePlotly: true });
    assert.equal(sent.length, 4);
    const html = sent.map((s) => s.content.data['text/html'] as string);
    assert.deepEqual(html.map((h) => h.includes('if (!window.Plotly)')), [true, false, true, true]);
    for (const s of sent) {
      assert.equal(s.update, false);
      assert.deepEqual(Object.keys(s.content.data).sort(), [PLOTLY_MIME_TYPE, 'text/html', 'text/plain']);
    }
    showImages([[0, 1, 1, 0]]);
    const png = sent[4].content.data['image/png'];
    assert.equal(typeof png, 'string', 'PNG bytes are sent base64-encoded');
    assert.deepEqual(Array.from(Buffer.from(png as string, 'base64').subarray(1, 4)), [80, 78, 71]); // 'PNG'
    table([{ a: 1 }]);
    assert.match(sent[5].content.data['text/html'] as string, /<table/);
    assert.equal(sent[5].content.data['text/plain'], 'a\n-\n1');
  });
});

test('in a kernel: live progress is one display id, created once then updated in place', () => {
  withFakeKernel((sent) => {
    const p = createProgress({ title: 'fit', epochs: 2, batchesPerEpoch: 3, throttleMs: 0 }) as Progress;
    assert.equal(p.view, 'notebook');
    for (let e = 1; e <= 2; e++) {
      for (let b = 1; b <= 3; b++) p.batch(b);
      p.epoch(e, { loss: 1 / e });
    }
    p.end();
    const ids = new Set(sent.map((s) => s.content.transient.display_id));
    assert.equal(ids.size, 1);
    assert.ok([...ids][0]);
    assert.deepEqual(sent.map((s) => s.update), [false, ...new Array(sent.length - 1).fill(true)]);
    assert.match(sent[sent.length - 1].content.data['text/plain'] as string, /^fit {2}done: 2 epochs/);
  });
});

test('with only the public tslab API: the richest single MIME type, newDisplay for live output', () => {
  withFakeKernel((sent) => {
    assert.equal(inNotebook(), true);
    show(lineFigure({ a: [1] }));
    assert.deepEqual(Object.keys(sent[0].content.data), ['text/html']);
    const live = new LiveOutput();
    live.update({ 'text/html': '<b>1</b>', 'text/plain': '1' });
    live.update({ 'text/html': '<b>2</b>', 'text/plain': '2' });
    assert.equal(sent[1].content.transient.display_id, sent[2].content.transient.display_id);
    assert.equal(sent[2].content.data['text/html'], '<b>2</b>');
  }, 'public');
});

test('GENLAB_DISPLAY=text forces the text form', () => {
  withFakeKernel((sent) => {
    process.env.GENLAB_DISPLAY = 'text';
    try {
      assert.equal(inNotebook(), false);
      assert.equal(displayBundle({ 'text/plain': 'x' }), false);
    } finally {
      delete process.env.GENLAB_DISPLAY;
    }
    assert.equal(sent.length, 0);
  });
});
