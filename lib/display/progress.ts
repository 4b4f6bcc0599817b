/**
 * Training progress: one interface for every `fit`, shown as a live bar and loss curve in a notebook and as
 * plain lines in a terminal or CI log.
 *
 * - Notebook (tslab): one output updated in place (tslab display ids): title, a bar, `epoch e/E`, batches,
 *   rate, elapsed time and ETA, the latest metrics, and a small SVG curve per metric (epoch values as dots,
 *   per-batch values, when reported, as a thin line). The SVG is static markup -- no script -- so the final
 *   state also shows in untrusted notebooks, nbconvert HTML and slides. Updates are throttled (4 per second).
 * - Terminal: one line per epoch (`title  epoch 3/10  loss 0.1234  (2.1 s, 48 batch/s, ETA 15 s)`) and a
 *   closing line; on an interactive terminal (TTY) also a single self-overwriting status line, throttled.
 *   In CI logs (no TTY) that is all: never a line per batch.
 *
 * The one-line terminal form is written by hand rather than with a progress-bar package (cli-progress,
 * progress): those target a TTY and either flood or go silent in CI logs, would add a dependency for ~40
 * lines of formatting, and the notebook view -- the main one -- is ours anyway.
 *
 * `progressHtml(snapshot)` and `progressLine(snapshot)` are the pure counterparts of what is shown.
 */
import { escapeHtml } from './html';
import { inNotebook, LiveOutput, MimeBundle } from './notebook';
import { assertKnownOptions, assertPositiveInteger, describeValue, optionKeys } from '../core/validate';

/** Metrics reported at the end of an epoch (loss, reconstruction error, log-likelihood, ...). */
export type EpochMetrics = Record<string, number>;

/** Where a training loop reports. Created by {@link createProgress}. */
export interface ProgressReporter {
  /** Called after each mini-batch; `done` counts batches completed in the current epoch. */
  batch(done: number, metrics?: EpochMetrics): void;
  /** Called once per epoch (1-based) with that epoch's metrics. */
  epoch(epoch: number, metrics: EpochMetrics): void;
  /** Called once at the end (also after an error), so displays can finalise. */
  end(): void;
}

/** A stream progress lines are written to (process.stdout by default). */
export interface ProgressStream {
  /** Writes text. */
  write(text: string): unknown;
  /** True on an interactive terminal: enables the self-overwriting status line. */
  isTTY?: boolean;
}

/** Options for {@link createProgress}. */
export interface ProgressOptions {
  /** Title shown before the bar, e.g. 'BernoulliRBM CD-1'. */
  title: string;
  /** Number of epochs planned. */
  epochs: number;
  /** Number of mini-batches per epoch. */
  batchesPerEpoch: number;
  /**
   * `'auto'` (default): a live display in a tslab notebook, a one-line report in a terminal or log;
   * `false`: silent; `'notebook'` / `'terminal'`: force one form.
   */
  mode?: 'auto' | false | 'notebook' | 'terminal';
  /** Terminal form: where lines go. Default `process.stdout`. */
  stream?: ProgressStream;
  /** Minimum milliseconds between live updates (notebook output, TTY status line). Default 250. */
  throttleMs?: number;
  /** Metrics to draw as curves in the notebook. Default: every metric except timings (`seconds`, `time`). */
  plotMetrics?: string[];
  /** Clock in milliseconds (for tests). Default `Date.now`. */
  now?: () => number;
}

const PROGRESS_OPTION_KEYS = optionKeys<ProgressOptions>({
  title: true, epochs: true, batchesPerEpoch: true, mode: true, stream: true, throttleMs: true, plotMetrics: true, now: true,
});

/** A point of a metric curve: x in epochs (fractional within an epoch), y the value. */
export interface CurvePoint {
  /** Position in epochs: 1 = end of epoch 1; batch points sit in between. */
  x: number;
  /** Metric value. */
  y: number;
}

/** Everything a progress view shows at one moment (what {@link progressHtml} and {@link progressLine} draw). */
export interface ProgressSnapshot {
  /** Run title. */
  title: string;
  /** Planned epochs. */
  epochs: number;
  /** Batches per epoch. */
  batchesPerEpoch: number;
  /** Epochs completed. */
  epochsDone: number;
  /** Batches completed in the current epoch. */
  batchInEpoch: number;
  /** Seconds since the start. */
  elapsed: number;
  /** Batches per second so far (0 before any). */
  rate: number;
  /** Estimated seconds to go (NaN before any batch). */
  eta: number;
  /** Latest value of each metric (epoch metrics override batch metrics). */
  latest: EpochMetrics;
  /** Per metric: values at epoch ends. */
  epochCurves: Record<string, CurvePoint[]>;
  /** Per metric: per-batch values (thinned to at most ~400 points). */
  batchCurves: Record<string, CurvePoint[]>;
  /** Metrics drawn as curves. */
  plotMetrics: string[];
  /** 'running', 'done' (all epochs) or 'stopped' (ended early, e.g. by an error). */
  status: 'running' | 'done' | 'stopped';
}

const TIMING_KEYS = /^(seconds|time|elapsed|duration|ms)$/i;
const MAX_BATCH_POINTS = 400;

/** Formats seconds as `12 s`, `3:05` or `1:02:03`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

function formatMetric(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return Number(v.toPrecision(5)).toString();
}

function metricsText(m: EpochMetrics): string {
  return Object.entries(m)
    .filter(([k]) => !TIMING_KEYS.test(k))
    .map(([k, v]) => `${k} ${formatMetric(v)}`)
    .join('  ');
}

/** The terminal line for an epoch end (pure). */
export function progressLine(s: ProgressSnapshot): string {
  const rate = s.rate > 0 ? `, ${s.rate >= 10 ? Math.round(s.rate) : s.rate.toPrecision(2)} batch/s` : '';
  const eta = s.epochsDone < s.epochs && Number.isFinite(s.eta) ? `, ETA ${formatDuration(s.eta)}` : '';
  const m = metricsText(s.latest);
  return `${s.title}  epoch ${s.epochsDone}/${s.epochs}${m ? '  ' + m : ''}  (${formatDuration(s.elapsed)}${rate}${eta})`;
}

/** The self-overwriting TTY status line (pure). */
export function progressStatusLine(s: ProgressSnapshot, barWidth = 20): string {
  const total = s.epochs * s.batchesPerEpoch;
  const done = s.epochsDone * s.batchesPerEpoch + s.batchInEpoch;
  const frac = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(frac * barWidth);
  const bar = '#'.repeat(filled) + '.'.repeat(barWidth - filled);
  const eta = Number.isFinite(s.eta) ? `  ETA ${formatDuration(s.eta)}` : '';
  const rate = s.rate > 0 ? `  ${s.rate >= 10 ? Math.round(s.rate) : s.rate.toPrecision(2)} batch/s` : '';
  const ep = Math.min(s.epochs, s.epochsDone + 1);
  return `${s.title}  epoch ${ep}/${s.epochs} [${bar}] ${Math.floor(frac * 100)}%${rate}${eta}`;
}

/** The closing line (pure). */
export function progressEndLine(s: ProgressSnapshot): string {
  const what = s.status === 'done' ? `done: ${s.epochs} epoch${s.epochs === 1 ? '' : 's'}` : `stopped after ${s.epochsDone}/${s.epochs} epochs`;
  return `${s.title}  ${what} in ${formatDuration(s.elapsed)}`;
}

// ---------------------------------------------------------------------------------------------------------
// Notebook view

/** A small SVG line chart of one metric: epoch points (dots + line) over thin per-batch values. */
function curveSvg(name: string, epochPts: CurvePoint[], batchPts: CurvePoint[], epochs: number): string {
  const W = 300;
  const H = 150;
  const L = 52; // left margin for y labels
  const R = 8;
  const T = 20;
  const B = 22;
  const all = [...epochPts, ...batchPts].filter((p) => Number.isFinite(p.y));
  let lo = Math.min(...all.map((p) => p.y));
  let hi = Math.max(...all.map((p) => p.y));
  if (!all.length) [lo, hi] = [0, 1];
  if (hi === lo) [lo, hi] = [lo - 0.5 * (Math.abs(lo) || 1), hi + 0.5 * (Math.abs(hi) || 1)];
  const sx = (x: number) => L + (x / Math.max(1, epochs)) * (W - L - R);
  const sy = (y: number) => T + (1 - (y - lo) / (hi - lo)) * (H - T - B);
  const path = (pts: CurvePoint[]) =>
    pts.filter((p) => Number.isFinite(p.y)).map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" style="font:11px sans-serif;margin-right:8px;">`,
    `<text x="${L}" y="13" font-weight="bold">${escapeHtml(name)}</text>`,
    `<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#ccc"/>`,
    `<text x="${L - 4}" y="${T + 4}" text-anchor="end">${escapeHtml(formatMetric(hi))}</text>`,
    `<text x="${L - 4}" y="${H - B}" text-anchor="end">${escapeHtml(formatMetric(lo))}</text>`,
    `<text x="${L}" y="${H - 6}">0</text>`,
    `<text x="${W - R}" y="${H - 6}" text-anchor="end">epoch ${epochs}</text>`,
  ];
  if (batchPts.length > 1) parts.push(`<polyline fill="none" stroke="#9ecae1" stroke-width="1" points="${path(batchPts)}"/>`);
  if (epochPts.length > 1) parts.push(`<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${path(epochPts)}"/>`);
  for (const p of epochPts) if (Number.isFinite(p.y)) parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="2.5" fill="#1f77b4"/>`);
  parts.push('</svg>');
  return parts.join('');
}

/** The notebook view (pure): bar, counters, rate, ETA, latest metrics and one SVG curve per metric. */
export function progressHtml(s: ProgressSnapshot): string {
  const total = s.epochs * s.batchesPerEpoch;
  const done = s.epochsDone * s.batchesPerEpoch + s.batchInEpoch;
  const pct = total > 0 ? Math.min(100, (100 * done) / total) : 0;
  const colour = s.status === 'stopped' ? '#d62728' : s.status === 'done' ? '#2ca02c' : '#1f77b4';
  const state = s.status === 'running' ? `epoch ${Math.min(s.epochs, s.epochsDone + 1)}/${s.epochs}` : progressEndLine(s).slice(s.title.length + 2);
  const info = [
    `${Math.floor(pct)}%`,
    `${done}/${total} batches`,
    s.rate > 0 ? `${s.rate >= 10 ? Math.round(s.rate) : s.rate.toPrecision(2)} batch/s` : '',
    `elapsed ${formatDuration(s.elapsed)}`,
    s.status === 'running' && Number.isFinite(s.eta) ? `ETA ${formatDuration(s.eta)}` : '',
  ].filter(Boolean);
  const metrics = metricsText(s.latest);
  const curves = s.plotMetrics
    .filter((k) => (s.epochCurves[k]?.length ?? 0) + (s.batchCurves[k]?.length ?? 0) > 0)
    .map((k) => curveSvg(k, s.epochCurves[k] ?? [], s.batchCurves[k] ?? [], s.epochs));
  return (
    '<div class="genlab-progress" style="font:13px system-ui,sans-serif;max-width:920px;margin:0.3em 0;">' +
    `<div><b>${escapeHtml(s.title)}</b> &mdash; ${escapeHtml(state)}</div>` +
    '<div style="background:#e6e6e6;border-radius:3px;height:12px;width:100%;max-width:620px;margin:4px 0;">' +
    `<div style="background:${colour};width:${pct.toFixed(1)}%;height:100%;border-radius:3px;"></div></div>` +
    `<div style="font-variant-numeric:tabular-nums;color:#333;">${escapeHtml(info.join(' · '))}</div>` +
    (metrics ? `<div style="font-variant-numeric:tabular-nums;color:#333;">${escapeHtml(metrics)}</div>` : '') +
    (curves.length ? `<div style="display:flex;flex-wrap:wrap;margin-top:4px;">${curves.join('')}</div>` : '') +
    '</div>'
  );
}

// ---------------------------------------------------------------------------------------------------------
// The reporter

/** The reporter {@link createProgress} returns: a {@link ProgressReporter} that also exposes its state. */
export class Progress implements ProgressReporter {
  private readonly t0: number;
  private readonly now: () => number;
  private readonly throttleMs: number;
  private readonly plotMetrics: string[] | undefined;
  private epochsDone = 0;
  private batchInEpoch = 0;
  private latest: EpochMetrics = {};
  private readonly epochCurves: Record<string, CurvePoint[]> = {};
  private readonly batchCurves: Record<string, CurvePoint[]> = {};
  private lastLive = -Infinity;
  private statusShown = false;
  private ended = false;

  constructor(
    private readonly opts: ProgressOptions,
    /** Which view is active. */
    readonly view: 'notebook' | 'terminal',
    private readonly out: { update(bundle: MimeBundle): unknown } | null,
    private readonly stream: ProgressStream,
  ) {
    this.now = opts.now ?? Date.now;
    this.t0 = this.now();
    this.throttleMs = opts.throttleMs ?? 250;
    this.plotMetrics = opts.plotMetrics;
    if (this.view === 'notebook') this.render(true);
  }

  /** Called after each mini-batch; `done` counts batches completed in the current epoch. */
  batch(done: number, metrics?: EpochMetrics): void {
    if (this.ended) return;
    this.batchInEpoch = Math.max(0, Math.min(done, this.opts.batchesPerEpoch));
    if (metrics) {
      const x = this.epochsDone + this.batchInEpoch / this.opts.batchesPerEpoch;
      for (const [k, v] of Object.entries(metrics)) {
        this.latest[k] = v;
        const pts = (this.batchCurves[k] ??= []);
        pts.push({ x, y: v });
        if (pts.length > MAX_BATCH_POINTS) this.batchCurves[k] = pts.filter((_, i) => i % 2 === 0); // thin by half
      }
    }
    this.render(false);
  }

  /** Called once per epoch (1-based) with that epoch's metrics. */
  epoch(epoch: number, metrics: EpochMetrics): void {
    if (this.ended) return;
    this.epochsDone = Math.max(this.epochsDone, Math.min(epoch, this.opts.epochs));
    this.batchInEpoch = 0;
    for (const [k, v] of Object.entries(metrics)) {
      this.latest[k] = v;
      (this.epochCurves[k] ??= []).push({ x: epoch, y: v });
    }
    if (this.view === 'terminal') {
      this.clearStatus();
      this.stream.write(progressLine(this.snapshot()) + '\n');
    }
    this.render(true);
  }

  /** Called once at the end (also after an error), so displays can finalise. Later calls do nothing. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.view === 'terminal') {
      this.clearStatus();
      this.stream.write(progressEndLine(this.snapshot()) + '\n');
    } else this.render(true);
  }

  /** What the views show now. */
  snapshot(): ProgressSnapshot {
    const elapsed = (this.now() - this.t0) / 1000;
    const { epochs, batchesPerEpoch } = this.opts;
    const done = this.epochsDone * batchesPerEpoch + this.batchInEpoch;
    const rate = elapsed > 0 && done > 0 ? done / elapsed : 0;
    const remaining = epochs * batchesPerEpoch - done;
    const keys = [...new Set([...Object.keys(this.epochCurves), ...Object.keys(this.batchCurves)])];
    return {
      title: this.opts.title,
      epochs,
      batchesPerEpoch,
      epochsDone: this.epochsDone,
      batchInEpoch: this.batchInEpoch,
      elapsed,
      rate,
      eta: rate > 0 ? remaining / rate : NaN,
      latest: { ...this.latest },
      epochCurves: structuredClone(this.epochCurves),
      batchCurves: structuredClone(this.batchCurves),
      plotMetrics: (this.plotMetrics ?? keys).filter((k) => this.plotMetrics !== undefined || !TIMING_KEYS.test(k)),
      status: !this.ended ? 'running' : this.epochsDone >= epochs ? 'done' : 'stopped',
    };
  }

  private render(force: boolean): void {
    const t = this.now();
    if (!force && t - this.lastLive < this.throttleMs) return;
    if (this.view === 'notebook') {
      if (!this.out) return;
      this.lastLive = t;
      const s = this.snapshot();
      this.out.update({ 'text/html': progressHtml(s), 'text/plain': s.status === 'running' ? progressStatusLine(s) : progressEndLine(s) });
    } else if (this.stream.isTTY && !force) {
      this.lastLive = t;
      this.stream.write('\r' + progressStatusLine(this.snapshot()) + '\x1b[K');
      this.statusShown = true;
    }
  }

  private clearStatus(): void {
    if (this.statusShown) {
      this.stream.write('\r\x1b[K');
      this.statusShown = false;
    }
  }
}

const SILENT: ProgressReporter = Object.freeze({ batch() {}, epoch() {}, end() {} });

/**
 * Creates the reporter for one training run: a live notebook view inside tslab, lines in a terminal or
 * log, nothing with `mode: false`.
 */
export function createProgress(opts: ProgressOptions): ProgressReporter {
  assertKnownOptions('createProgress', opts, PROGRESS_OPTION_KEYS);
  if (!opts || typeof opts !== 'object') throw new TypeError(`progress options must be an object; got ${describeValue(opts)}`);
  assertPositiveInteger('epochs', opts.epochs);
  assertPositiveInteger('batchesPerEpoch', opts.batchesPerEpoch);
  const mode = opts.mode ?? 'auto';
  if (mode === false) return SILENT;
  const view = mode === 'auto' ? (inNotebook() ? 'notebook' : 'terminal') : mode;
  if (view !== 'notebook' && view !== 'terminal') throw new RangeError(`mode must be 'auto', false, 'notebook' or 'terminal'; got ${describeValue(mode)}`);
  return new Progress({ ...opts, title: String(opts.title ?? 'training') }, view, view === 'notebook' ? new LiveOutput() : null, opts.stream ?? process.stdout);
}
