import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  createProgress,
  formatDuration,
  Progress,
  ProgressOptions,
  progressHtml,
  progressLine,
  ProgressReporter,
  ProgressSnapshot,
  progressStatusLine,
} from '../lib/display/progress';

/** A fake clock and stream: lines written and a settable time. */
function harness(isTTY: boolean) {
  let t = 1000;
  const written: string[] = [];
  return {
    clock: { now: () => t, advance: (ms: number) => void (t += ms) },
    stream: { isTTY, write: (s: string) => written.push(s) },
    written,
  };
}

function run(reporter: ProgressReporter, clock: { advance(ms: number): void }, epochs: number, batches: number, stopAfter = epochs): void {
  try {
    for (let e = 1; e <= epochs; e++) {
      for (let b = 1; b <= batches; b++) {
        clock.advance(100); // 10 batches per second
        reporter.batch(b, { loss: 1 / (e * batches + b) });
      }
      reporter.epoch(e, { loss: 1 / e, seconds: batches / 10 });
      if (e === stopAfter) throw new Error('stop');
    }
  } catch {
    // the caller's fit would rethrow; progress must still finish
  } finally {
    reporter.end();
  }
}

test('CI log (no TTY): exactly one line per epoch and a closing line, with rate and ETA', () => {
  const h = harness(false);
  const p = createProgress({ title: 'RBM CD-1', epochs: 3, batchesPerEpoch: 50, mode: 'terminal', stream: h.stream, now: h.clock.now });
  run(p, h.clock, 3, 50);
  assert.deepEqual(h.written, [
    'RBM CD-1  epoch 1/3  loss 1  (5.0 s, 10 batch/s, ETA 10 s)\n',
    'RBM CD-1  epoch 2/3  loss 0.5  (10 s, 10 batch/s, ETA 5.0 s)\n',
    'RBM CD-1  epoch 3/3  loss 0.33333  (15 s, 10 batch/s)\n',
    'RBM CD-1  done: 3 epochs in 15 s\n',
  ]);
});

test('TTY: a throttled self-overwriting status line between the epoch lines', () => {
  const h = harness(true);
  const p = createProgress({ title: 'VAE', epochs: 2, batchesPerEpoch: 20, mode: 'terminal', stream: h.stream, now: h.clock.now, throttleMs: 500 });
  run(p, h.clock, 2, 20);
  const status = h.written.filter((s) => s.startsWith('\rVAE'));
  // 40 batches at 100 ms with a 500 ms throttle: about one status update per 5 batches, not 40
  assert.ok(status.length >= 6 && status.length <= 9, `status updates: ${status.length}`);
  assert.match(status[0], /^\rVAE {2}epoch 1\/2 \[#\.{19}\] 2% {2}10 batch\/s {2}ETA 3\.9 s\x1b\[K$/);
  assert.ok(h.written.includes('\r\x1b[K'), 'the status line is cleared before an epoch line');
  const lines = h.written.filter((s) => s.endsWith('\n'));
  assert.equal(lines.length, 3);
  assert.match(lines[2], /^VAE {2}done: 2 epochs in 4\.0 s\n$/);
});

test('an early end (error in fit) reports stopped; end is idempotent; mode false is silent', () => {
  const h = harness(false);
  const p = createProgress({ title: 'AE', epochs: 5, batchesPerEpoch: 10, mode: 'terminal', stream: h.stream, now: h.clock.now });
  run(p, h.clock, 5, 10, 2);
  p.end();
  assert.equal(h.written.length, 3);
  assert.equal(h.written[2], 'AE  stopped after 2/5 epochs in 2.0 s\n');
  const quiet = harness(false);
  const s = createProgress({ title: 'x', epochs: 1, batchesPerEpoch: 1, mode: false, stream: quiet.stream });
  run(s, quiet.clock, 1, 1);
  assert.deepEqual(quiet.written, []);
});

test('arguments are validated by name', () => {
  const base: ProgressOptions = { title: 't', epochs: 1, batchesPerEpoch: 1 };
  assert.throws(() => createProgress({ ...base, epochs: 0 }), /epochs must be a positive integer; got 0/);
  assert.throws(() => createProgress({ ...base, batchesPerEpoch: 2.5 }), /batchesPerEpoch must be a positive integer; got 2.5/);
  assert.throws(() => createProgress({ ...base, mode: 'web' as 'auto' }), /mode must be 'auto', false, 'notebook' or 'terminal'; got "web"/);
});

test('auto mode outside a notebook uses the terminal view', () => {
  const h = harness(false);
  const p = createProgress({ title: 't', epochs: 1, batchesPerEpoch: 1, stream: h.stream }) as Progress;
  assert.equal(p.view, 'terminal');
});

test('notebook view: one output updated in place, throttled, ending with the final state and curves', () => {
  const h = harness(false);
  const updates: Record<string, string>[] = [];
  const sink = { update: (b: Record<string, unknown>) => updates.push(b as Record<string, string>) };
  const p = new Progress({ title: '<RBM & co>', epochs: 4, batchesPerEpoch: 30, now: h.clock.now, throttleMs: 1000 }, 'notebook', sink, h.stream);
  run(p, h.clock, 4, 30);
  // initial + 4 epochs + end + throttled batch updates (12 s of batches / 1 s) -- not 120
  assert.ok(updates.length >= 10 && updates.length <= 20, `updates: ${updates.length}`);
  assert.deepEqual(h.written, [], 'nothing printed in notebook view');
  const last = updates[updates.length - 1];
  assert.match(last['text/plain'], /^<RBM & co> {2}done: 4 epochs in 12 s$/);
  const html = last['text/html'];
  assert.ok(html.includes('&lt;RBM &amp; co&gt;') && !html.includes('<RBM'), 'title escaped');
  assert.ok(html.includes('width:100.0%'), 'bar full');
  assert.ok(html.includes('120/120 batches'));
  assert.equal((html.match(/<svg /g) ?? []).length, 1, 'one curve: loss (timings are not plotted)');
  assert.equal((html.match(/<circle /g) ?? []).length, 4, 'one dot per epoch');
  assert.ok(html.includes('<polyline fill="none" stroke="#9ecae1"'), 'per-batch curve');
  assert.ok(!/<script/i.test(html), 'no script: renders in untrusted outputs and exports');
  const mid = updates[2]['text/html'];
  assert.match(mid, /ETA /);
});

test('pure views: line formats, durations, HTML of a snapshot', () => {
  assert.equal(formatDuration(3.25), '3.3 s');
  assert.equal(formatDuration(75), '1:15');
  assert.equal(formatDuration(3723), '1:02:03');
  assert.equal(formatDuration(NaN), '?');
  const s: ProgressSnapshot = {
    title: 'T', epochs: 10, batchesPerEpoch: 100, epochsDone: 2, batchInEpoch: 50, elapsed: 25, rate: 10, eta: 75,
    latest: { loss: 0.000123456, logLikelihood: -88.12345, seconds: 12 }, epochCurves: { loss: [{ x: 1, y: 1 }, { x: 2, y: 0.5 }] },
    batchCurves: {}, plotMetrics: ['loss'], status: 'running',
  };
  assert.equal(progressLine(s), 'T  epoch 2/10  loss 1.235e-4  logLikelihood -88.123  (25 s, 10 batch/s, ETA 1:15)');
  assert.equal(progressStatusLine(s, 10), 'T  epoch 3/10 [###.......] 25%  10 batch/s  ETA 1:15');
  const html = progressHtml(s);
  assert.match(html, /T<\/b> &mdash; epoch 3\/10/);
  assert.match(html, /25% · 250\/1000 batches · 10 batch\/s · elapsed 25 s · ETA 1:15/);
  assert.ok(html.includes('width:25.0%'));
});
