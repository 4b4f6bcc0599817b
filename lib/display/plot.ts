/**
 * Plotly figures for notebooks, exported HTML pages and reveal.js slides -- offline.
 *
 * Builders (`lineFigure`, `scatterFigure`, `histogramFigure`, `heatmapFigure`, `subplots`) return a plain,
 * JSON-serialisable plotly figure `{ data, layout, config }`: tweak it as you like before showing it.
 * `show(figure)` displays it in a tslab notebook; `figureHtml(figure)` is the pure counterpart returning the
 * self-contained HTML; `saveFigure(figure, file)` writes a stand-alone page.
 *
 * How plotly.js reaches the page (once, not once per figure, and with no network):
 * - The first figure shown in a kernel session carries the minified plotly.js (cartesian bundle, ~1.4 MB)
 *   inline, in a script that runs only if `window.Plotly` is not yet defined. The script hides `define`,
 *   `module` and `exports` from plotly's UMD wrapper, so it always sets `window.Plotly`, also on pages that
 *   load require.js (the classic Notebook, nbconvert HTML and slides).
 * - Every figure's HTML draws itself once `window.Plotly` exists (and its element is visible: figures on
 *   hidden reveal.js slides are drawn when the slide is shown), polling briefly; until then it shows a short
 *   text saying what is missing.
 * - Each output also carries the `application/vnd.plotly.v1+json` MIME type: JupyterLab with the plotly
 *   extension renders that directly (also after reopening an untrusted notebook, where HTML scripts do not
 *   run); nbconvert and the classic Notebook ignore it and use the HTML.
 * - Re-execution: the loader lives in the output of the cell that first showed a figure. Re-running other
 *   cells is fine; if you re-run or clear *that* cell, the saved notebook loses the loader: call
 *   `resetPlotlyLoader()` (the next `show` carries it again) or "restart and run all" before saving. The
 *   lecture pipeline executes notebooks from scratch, so exported pages always have it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../engine/backend';
import { escapeHtml, jsonForScript, randomId } from './html';
import { displayBundle, MimeBundle } from './notebook';
import { plotlyLoaderHtml } from './plotly-source';
import { assertFiniteNumber, assertKnownOptions, assertOneOf, assertPositiveInteger, describeValue, OptionKeyMap, optionKeys } from '../core/validate';

export { inNotebook } from './notebook';

/** A plotly axis (https://plotly.com/javascript/reference/layout/xaxis/); any other plotly field may be added. */
export interface PlotlyAxis {
  /** Axis title. */
  title?: { text: string };
  /** Axis type; `'log'` for a logarithmic axis. */
  type?: 'linear' | 'log' | 'category' | 'date' | '-';
  /** Visible range `[min, max]` (log10 of the values on a log axis). */
  range?: [number, number];
  /** Fraction of the plotting area this axis spans, `[start, end]` in [0, 1]. */
  domain?: [number, number];
  /** Other plotly axis attributes. */
  [key: string]: unknown;
}

/** A plotly layout; the named fields are the ones genlab sets, any other plotly field may be added. */
export interface PlotlyLayout {
  /** Figure title. */
  title?: { text: string };
  /** Width in pixels. */
  width?: number;
  /** Height in pixels. */
  height?: number;
  /** First x axis. */
  xaxis?: PlotlyAxis;
  /** First y axis. */
  yaxis?: PlotlyAxis;
  /** Whether to show the legend. */
  showlegend?: boolean;
  /** Other plotly layout attributes (`xaxis2`, `annotations`, `barmode`, ...). */
  [key: string]: unknown;
}

/** A plotly trace (https://plotly.com/javascript/reference/); any other plotly field may be added. */
export interface PlotlyTrace {
  /** Trace type: 'scatter', 'bar', 'heatmap', ... */
  type: string;
  /** Legend entry. */
  name?: string;
  /** x values. */
  x?: (number | string | null)[];
  /** y values. */
  y?: (number | string | null)[];
  /** Matrix for heatmaps, `z[row][col]`. */
  z?: (number | null)[][];
  /** Other plotly trace attributes. */
  [key: string]: unknown;
}

/** A plotly figure: what `Plotly.newPlot(div, data, layout, config)` takes. Plain JSON. */
export interface Figure {
  /** The traces. */
  data: PlotlyTrace[];
  /** The layout. */
  layout: PlotlyLayout;
  /** plotly config (mode bar etc.); genlab fills in offline-friendly defaults when absent. */
  config?: Record<string, unknown>;
}

/** Numbers as an array, a typed array or a 1-D tensor (read, never disposed). */
export type Numeric = ArrayLike<number> | tf.Tensor;

/** Layout options shared by the figure builders. */
export interface FigureOptions {
  /** Title above the plot (a string, or plotly's `{ text }`). */
  title?: string | { text: string };
  /** x-axis title. */
  xTitle?: string;
  /** y-axis title. */
  yTitle?: string;
  /** Logarithmic x axis. Default false. */
  logX?: boolean;
  /** Logarithmic y axis. Default false. */
  logY?: boolean;
  /** Width in pixels (default 640). Fixed sizes keep slides and exported pages predictable. */
  width?: number;
  /** Height in pixels (default 400). */
  height?: number;
  /** plotly x-axis fields, merged over the generated x axis (e.g. `{ range: [0, 1] }`). */
  xaxis?: PlotlyAxis;
  /** plotly y-axis fields, merged over the generated y axis. */
  yaxis?: PlotlyAxis;
  /** Show the legend (default: when there are several traces). */
  showlegend?: boolean;
  /** Extra plotly layout fields, merged over the generated layout (shallowly). */
  layout?: PlotlyLayout;
}

const FIGURE_OPTION_KEY_MAP: OptionKeyMap<FigureOptions> = { title: true, xTitle: true, yTitle: true, logX: true, logY: true, width: true, height: true, xaxis: true, yaxis: true, showlegend: true, layout: true };

const DEFAULTS = {
  width: 640, // fits a JupyterLab cell and a 960-px reveal.js slide
  height: 400,
  bins: 30,
  markerSize: 5,
  colorscale: 'Viridis', // perceptually uniform
} as const;

/** Default plotly config: no plotly logo, no cloud links, mode bar on hover. */
const DEFAULT_CONFIG = { displaylogo: false, responsive: false, showLink: false, displayModeBar: 'hover' } as const;

// ---------------------------------------------------------------------------------------------------------
// Input conversion

/** Reads numbers (array, typed array or tensor) into a plain array; non-finite values become null (gaps). */
function numbers(name: string, v: Numeric): (number | null)[] {
  let arr: ArrayLike<number>;
  if (v instanceof tf.Tensor) arr = v.dataSync() as ArrayLike<number>;
  else if (v && typeof (v as ArrayLike<number>).length === 'number') arr = v as ArrayLike<number>;
  else throw new TypeError(`${name} must be an array of numbers or a tensor; got ${describeValue(v)}`);
  const out: (number | null)[] = new Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const x = Number(arr[i]);
    out[i] = Number.isFinite(x) ? x : null;
  }
  return out;
}

function finite(xs: (number | null)[]): number[] {
  return xs.filter((x): x is number => x !== null);
}

function axis(title: string | undefined, log: boolean | undefined): PlotlyAxis {
  const a: PlotlyAxis = {};
  if (title !== undefined) a.title = { text: String(title) };
  if (log) a.type = 'log';
  return a;
}

function baseLayout(opts: FigureOptions): PlotlyLayout {
  const width = opts.width ?? DEFAULTS.width;
  const height = opts.height ?? DEFAULTS.height;
  assertPositiveInteger('width', width);
  assertPositiveInteger('height', height);
  const title = typeof opts.title === 'object' && opts.title !== null ? String(opts.title.text) : opts.title;
  const layout: PlotlyLayout = {
    width,
    height,
    margin: { l: 60, r: 20, t: title ? 50 : 20, b: 50 },
    xaxis: { ...axis(opts.xTitle, opts.logX), ...(opts.xaxis ?? {}) },
    yaxis: { ...axis(opts.yTitle, opts.logY), ...(opts.yaxis ?? {}) },
  };
  if (title !== undefined) layout.title = { text: String(title) };
  if (opts.showlegend !== undefined) layout.showlegend = opts.showlegend;
  return { ...layout, ...(opts.layout ?? {}) };
}

// ---------------------------------------------------------------------------------------------------------
// Builders

/** One line of a {@link lineFigure}. */
export interface LineSeries {
  /** y values. */
  y: Numeric;
  /**
   * x values, same length as `y`: numbers, or strings for a categorical axis (bit patterns, class names).
   * Default 0, 1, 2, ... (or 1, 2, ... with `xStart: 1`).
   */
  x?: Numeric | readonly string[];
  /** Symmetric error bars (one standard error, say), same length as `y`. */
  error?: Numeric;
  /** Legend name. */
  name?: string;
  /** Draw lines, markers or both. Default `'lines'`. */
  mode?: 'lines' | 'markers' | 'lines+markers';
  /** Line dash style. Default solid. */
  dash?: 'solid' | 'dash' | 'dot' | 'dashdot';
  /** CSS colour, e.g. '#1f77b4'. Default: plotly's colour cycle. */
  color?: string;
}

/** Options for {@link lineFigure}. */
export interface LineFigureOptions extends FigureOptions {
  /** First x value when a series has no `x` (default 0; use 1 for epochs). */
  xStart?: number;
}

const LINE_FIGURE_OPTION_KEYS = optionKeys<LineFigureOptions>({ ...FIGURE_OPTION_KEY_MAP, xStart: true });

/**
 * Line plot of one or several series: `lineFigure({ train: trainLoss, test: testLoss }, { xTitle: 'epoch' })`
 * or `lineFigure([{ x, y, name: 'exact' }, { x, y: est, name: 'AIS', mode: 'markers' }])`.
 */
export function lineFigure(series: LineSeries | LineSeries[] | Record<string, Numeric>, opts: LineFigureOptions = {}): Figure {
  assertKnownOptions('lineFigure', opts, LINE_FIGURE_OPTION_KEYS);
  const list: LineSeries[] = Array.isArray(series)
    ? series
    : isLineSeries(series)
      ? [series]
      : Object.entries(series as Record<string, Numeric>).map(([name, y]) => ({ name, y }));
  if (list.length === 0) throw new RangeError('series must contain at least one series; got none');
  const xStart = opts.xStart ?? 0;
  assertFiniteNumber('xStart', xStart);
  const data = list.map((s, i): PlotlyTrace => {
    const y = numbers(`series[${i}].y`, s.y);
    const x: (number | string | null)[] =
      s.x === undefined
        ? y.map((_, k) => xStart + k)
        : isStringArray(s.x)
          ? Array.from(s.x, String)
          : numbers(`series[${i}].x`, s.x as Numeric);
    if (x.length !== y.length) throw new RangeError(`series[${i}]: x has ${x.length} values but y has ${y.length}`);
    const t: PlotlyTrace = { type: 'scatter', mode: s.mode ?? 'lines', x, y };
    if (s.error !== undefined) {
      const e = numbers(`series[${i}].error`, s.error);
      if (e.length !== y.length) throw new RangeError(`series[${i}]: error has ${e.length} values but y has ${y.length}`);
      t.error_y = { type: 'data', array: e, visible: true };
    }
    if (s.name !== undefined) t.name = String(s.name);
    const line: Record<string, unknown> = {};
    if (s.dash) line.dash = s.dash;
    if (s.color) line.color = s.color;
    if (Object.keys(line).length) t.line = line;
    if (s.color) t.marker = { color: s.color };
    return t;
  });
  const layout = baseLayout(opts);
  if (data.length > 1 && layout.showlegend === undefined) layout.showlegend = true;
  return { data, layout, config: { ...DEFAULT_CONFIG } };
}

function isStringArray(v: unknown): v is readonly string[] {
  return Array.isArray(v) && v.length > 0 && typeof v[0] === 'string';
}

function isLineSeries(v: unknown): v is LineSeries {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'y' in v && !(v instanceof tf.Tensor) &&
    (Array.isArray((v as LineSeries).y) || ArrayBuffer.isView((v as LineSeries).y) || (v as LineSeries).y instanceof tf.Tensor);
}

/** Points for {@link scatterFigure}: a tensor `[n, 2]`, rows `[x, y]`, or separate `x` and `y`. */
export type Points = tf.Tensor | ArrayLike<number>[] | { x: Numeric; y: Numeric };

/** Options for {@link scatterFigure}. */
export interface ScatterFigureOptions extends FigureOptions {
  /** A label per point (numbers or strings, or a 1-D tensor): one trace, colour and legend entry per label. */
  labels?: ArrayLike<number | string> | tf.Tensor;
  /** Names for numeric labels, e.g. `FASHION_MNIST_LABELS` (label i is shown as `labelNames[i]`). */
  labelNames?: readonly string[];
  /** Legend name when there are no labels. Default 'points'. */
  name?: string;
  /** Marker diameter in pixels. Default 5. */
  markerSize?: number;
  /** Marker opacity in (0, 1]. Default 0.8. */
  opacity?: number;
  /** Draw `'markers'` (default) or `'lines+markers'` (e.g. a sampler's path). */
  mode?: 'markers' | 'lines+markers' | 'lines';
}

const SCATTER_FIGURE_OPTION_KEYS = optionKeys<ScatterFigureOptions>({
  ...FIGURE_OPTION_KEY_MAP, labels: true, labelNames: true, name: true, markerSize: true, opacity: true, mode: true,
});

function pointsXY(points: Points): { x: (number | null)[]; y: (number | null)[] } {
  if (points instanceof tf.Tensor) {
    if (points.rank !== 2 || points.shape[1] !== 2) {
      throw new RangeError(`points must be a tensor of shape [n, 2]; got shape [${points.shape.join(', ')}]`);
    }
    const flat = numbers('points', points);
    return { x: flat.filter((_, i) => i % 2 === 0), y: flat.filter((_, i) => i % 2 === 1) };
  }
  if (Array.isArray(points)) {
    const rows = points as ArrayLike<number>[];
    rows.forEach((r, i) => {
      if (!r || r.length !== 2) throw new RangeError(`points[${i}] must be a pair [x, y]; got ${describeValue(r)}`);
    });
    return { x: numbers('x', rows.map((r) => r[0])), y: numbers('y', rows.map((r) => r[1])) };
  }
  if (points && typeof points === 'object' && 'x' in points && 'y' in points) {
    const x = numbers('points.x', points.x);
    const y = numbers('points.y', points.y);
    if (x.length !== y.length) throw new RangeError(`points.x has ${x.length} values but points.y has ${y.length}`);
    return { x, y };
  }
  throw new TypeError(`points must be a [n, 2] tensor, an array of [x, y] pairs or { x, y }; got ${describeValue(points)}`);
}

/**
 * Scatter plot, coloured by label with one legend entry per label (e.g. a VAE's latent means coloured by
 * digit): `scatterFigure(zMean, { labels: test.labels, labelNames: test.classNames })`.
 */
export function scatterFigure(points: Points, opts: ScatterFigureOptions = {}): Figure {
  assertKnownOptions('scatterFigure', opts, SCATTER_FIGURE_OPTION_KEYS);
  const { x, y } = pointsXY(points);
  const size = opts.markerSize ?? DEFAULTS.markerSize;
  const opacity = opts.opacity ?? 0.8;
  assertFiniteNumber('markerSize', size, { min: 0, exclusiveMin: true });
  assertFiniteNumber('opacity', opacity, { min: 0, max: 1, exclusiveMin: true });
  const marker = { size, opacity };
  const mode = opts.mode ?? 'markers';
  let data: PlotlyTrace[];
  if (opts.labels === undefined) {
    data = [{ type: 'scatter', mode, name: opts.name ?? 'points', x, y, marker }];
  } else {
    const labels: (number | string)[] =
      opts.labels instanceof tf.Tensor ? Array.from(opts.labels.dataSync() as ArrayLike<number>) : Array.from(opts.labels);
    if (labels.length !== x.length) throw new RangeError(`labels has ${labels.length} entries but there are ${x.length} points`);
    const groups = new Map<number | string, number[]>();
    labels.forEach((l, i) => {
      const g = groups.get(l);
      if (g) g.push(i);
      else groups.set(l, [i]);
    });
    const keys = [...groups.keys()].sort((a, b) =>
      typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b)),
    );
    data = keys.map((k) => {
      const idx = groups.get(k)!;
      const name = typeof k === 'number' && opts.labelNames?.[k] !== undefined ? opts.labelNames[k] : String(k);
      return { type: 'scatter', mode, name, x: idx.map((i) => x[i]), y: idx.map((i) => y[i]), marker: { ...marker } };
    });
  }
  const layout = baseLayout(opts);
  if (data.length > 1 && layout.showlegend === undefined) layout.showlegend = true;
  return { data, layout, config: { ...DEFAULT_CONFIG } };
}

/** Bin edges and counts of a histogram. */
export interface HistogramCounts {
  /** `bins + 1` increasing edges. */
  edges: number[];
  /** `bins` counts; value v falls in bin i when edges[i] <= v < edges[i+1] (the last bin includes its right edge). */
  counts: number[];
}

/** Options of {@link histogramCounts}. */
export interface HistogramCountsOptions {
  /** Number of equal-width bins (positive integer). Default 30. */
  bins?: number;
  /** `[lo, hi]` covered by the bins. Default: the data's min and max. */
  range?: [number, number];
}

const HISTOGRAM_COUNTS_OPTION_KEYS = optionKeys<HistogramCountsOptions>({ bins: true, range: true });

/** Counts finite values into `bins` equal-width bins over `range` (default: the data's min and max). */
export function histogramCounts(values: Numeric, opts: HistogramCountsOptions = {}): HistogramCounts {
  assertKnownOptions('histogramCounts', opts, HISTOGRAM_COUNTS_OPTION_KEYS);
  const bins = opts.bins ?? DEFAULTS.bins;
  assertPositiveInteger('bins', bins);
  const xs = finite(numbers('values', values));
  let [lo, hi] = opts.range ?? minMax(xs);
  assertFiniteNumber('range[0]', lo);
  assertFiniteNumber('range[1]', hi);
  if (hi < lo) throw new RangeError(`range must be increasing; got [${lo}, ${hi}]`);
  if (hi === lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  const w = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * w);
  const counts = new Array<number>(bins).fill(0);
  for (const v of xs) {
    if (v < lo || v > hi) continue;
    counts[Math.min(bins - 1, Math.floor((v - lo) / w))]++;
  }
  return { edges, counts };
}

function minMax(xs: number[]): [number, number] {
  if (xs.length === 0) return [0, 1];
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of xs) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** Options for {@link histogramFigure}. */
export interface HistogramFigureOptions extends FigureOptions {
  /** Number of equal-width bins (positive integer). Default 30. */
  bins?: number;
  /** Range `[min, max]` binned; default: the min and max over all series. */
  range?: [number, number];
  /** Normalise to a probability density (bar areas sum to 1) so an analytic pdf can be overlaid. Default false. */
  density?: boolean;
  /** Bar opacity; default 1 for one series, 0.6 when several overlap. */
  opacity?: number;
}

const HISTOGRAM_FIGURE_OPTION_KEYS = optionKeys<HistogramFigureOptions>({
  ...FIGURE_OPTION_KEY_MAP, bins: true, range: true, density: true, opacity: true,
});

/**
 * Histogram of one or several samples (overlaid, sharing bins), binned here so the figure stays small for
 * large samples: `histogramFigure({ MCMC: samples, exact: exactSamples }, { density: true })`.
 */
export function histogramFigure(values: Numeric | Record<string, Numeric>, opts: HistogramFigureOptions = {}): Figure {
  assertKnownOptions('histogramFigure', opts, HISTOGRAM_FIGURE_OPTION_KEYS);
  const entries: [string | undefined, Numeric][] =
    values instanceof tf.Tensor || ArrayBuffer.isView(values) || Array.isArray(values)
      ? [[undefined, values as Numeric]]
      : Object.entries(values as Record<string, Numeric>);
  if (entries.length === 0) throw new RangeError('values must contain at least one series; got none');
  const all = entries.map(([name, v]) => [name, finite(numbers(name ? `values.${name}` : 'values', v))] as const);
  const range = opts.range ?? (() => {
    const mm = all.map(([, xs]) => minMax(xs));
    return [Math.min(...mm.map((m) => m[0])), Math.max(...mm.map((m) => m[1]))] as [number, number];
  })();
  const opacity = opts.opacity ?? (entries.length > 1 ? 0.6 : 1);
  const data = all.map(([name, xs]): PlotlyTrace => {
    const { edges, counts } = histogramCounts(xs, { bins: opts.bins, range });
    const w = edges[1] - edges[0];
    const y = opts.density ? counts.map((c) => (xs.length ? c / (xs.length * w) : 0)) : counts;
    const t: PlotlyTrace = { type: 'bar', x: counts.map((_, i) => edges[i] + w / 2), y, width: w, opacity, marker: { line: { width: 0 } } };
    if (name !== undefined) t.name = name;
    return t;
  });
  const layout = baseLayout({ ...opts, yTitle: opts.yTitle ?? (opts.density ? 'density' : 'count') });
  Object.assign(layout, { barmode: 'overlay', bargap: 0, ...(opts.layout ?? {}) });
  if (data.length > 1 && layout.showlegend === undefined) layout.showlegend = true;
  return { data, layout, config: { ...DEFAULT_CONFIG } };
}

/** Options for {@link heatmapFigure}. */
export interface HeatmapFigureOptions extends FigureOptions {
  /** Column coordinates (length = number of columns). Default 0, 1, ... */
  x?: Numeric | string[];
  /** Row coordinates (length = number of rows). Default 0, 1, ... */
  y?: Numeric | string[];
  /** plotly colour scale name ('Viridis', 'Greys', 'RdBu', ...). Default 'Viridis'. */
  colorscale?: string;
  /** Colour range minimum (default: data minimum). */
  zmin?: number;
  /** Colour range maximum (default: data maximum). */
  zmax?: number;
  /** Title of the colour bar. */
  colorbarTitle?: string;
  /**
   * Where the colour bar goes: `'right'` of the plot (default), `'below'` it (horizontal, under the x-axis title: the
   * plot keeps the full width and a legend on the right has room), or `'none'` (no colour scale: a background density,
   * +-1 spins). {@link subplots} puts each panel's bar beside or under its own panel and makes room for it, so it
   * overlaps neither the neighbouring panel nor the legend.
   */
  colorbar?: ColorbarPosition;
  /** Draw row 0 at the top, as in an image or matrix. Default true. */
  matrixOrientation?: boolean;
}

/** Where a heatmap's colour bar goes (see {@link HeatmapFigureOptions.colorbar}). */
export type ColorbarPosition = 'right' | 'below' | 'none';
const COLORBAR_POSITIONS: readonly ColorbarPosition[] = ['right', 'below', 'none'];

/**
 * Room a colour bar takes, in pixels: a bar on the right (padding, the bar, its tick labels and title) and a bar
 * below (the bar and its tick labels), and how far below the plot area a bar below starts: under the x tick labels,
 * and under the axis title when there is one.
 */
const COLORBAR_PX = { right: 70, below: 40, belowOffset: 30, belowOffsetTitled: 50, thickness: 10 } as const;

const HEATMAP_FIGURE_OPTION_KEYS = optionKeys<HeatmapFigureOptions>({
  ...FIGURE_OPTION_KEY_MAP, x: true, y: true, colorscale: true, zmin: true, zmax: true, colorbarTitle: true, colorbar: true,
  matrixOrientation: true,
});

/**
 * Heatmap of a matrix `z[row][col]` (a rank-2 tensor or nested arrays): weights, correlation matrices,
 * a 2D Ising configuration.
 */
export function heatmapFigure(z: tf.Tensor | ArrayLike<number>[], opts: HeatmapFigureOptions = {}): Figure {
  assertKnownOptions('heatmapFigure', opts, HEATMAP_FIGURE_OPTION_KEYS);
  let rows: (number | null)[][];
  if (z instanceof tf.Tensor) {
    if (z.rank !== 2) throw new RangeError(`z must be a rank-2 tensor; got shape [${z.shape.join(', ')}]`);
    const flat = numbers('z', z);
    const [r, c] = z.shape;
    rows = Array.from({ length: r }, (_, i) => flat.slice(i * c, (i + 1) * c));
  } else if (Array.isArray(z)) {
    rows = z.map((r, i) => numbers(`z[${i}]`, r));
    if (rows.some((r) => r.length !== rows[0].length)) throw new RangeError('z must be rectangular: rows have different lengths');
  } else throw new TypeError(`z must be a rank-2 tensor or an array of rows; got ${describeValue(z)}`);
  if (rows.length === 0) throw new RangeError('z must have at least one row');
  const t: PlotlyTrace = { type: 'heatmap', z: rows, colorscale: opts.colorscale ?? DEFAULTS.colorscale };
  const coords = (name: string, v: Numeric | string[] | undefined, n: number) => {
    if (v === undefined) return undefined;
    const arr = Array.isArray(v) && typeof v[0] === 'string' ? (v as string[]).map(String) : numbers(name, v as Numeric);
    if (arr.length !== n) throw new RangeError(`${name} has ${arr.length} values; z has ${n}`);
    return arr;
  };
  const x = coords('x', opts.x, rows[0].length);
  const y = coords('y', opts.y, rows.length);
  if (x) t.x = x;
  if (y) t.y = y;
  if (opts.zmin !== undefined) t.zmin = opts.zmin;
  if (opts.zmax !== undefined) t.zmax = opts.zmax;
  const position = opts.colorbar ?? 'right';
  assertOneOf('colorbar', position, COLORBAR_POSITIONS);
  if (opts.colorbarTitle !== undefined) t.colorbar = { title: { text: String(opts.colorbarTitle) } };
  const layout = baseLayout(opts);
  if (position === 'none') t.showscale = false;
  if (position === 'below') {
    // horizontal, at the bottom of the figure, with the bottom margin grown to hold it under the x-axis title
    const title = opts.colorbarTitle !== undefined ? { title: { text: String(opts.colorbarTitle), side: 'right' } } : {};
    t.colorbar = { ...title, orientation: 'h', x: 0.5, xanchor: 'center', yref: 'container', y: 0, yanchor: 'bottom', len: 1, thickness: COLORBAR_PX.thickness };
    const margin = (layout.margin ?? {}) as { b?: number };
    layout.margin = { ...margin, b: (margin.b ?? 50) + COLORBAR_PX.below };
  }
  if (opts.matrixOrientation ?? true) layout.yaxis = { ...layout.yaxis, autorange: 'reversed' };
  return { data: [t], layout: { ...layout, ...(opts.layout ?? {}) }, config: { ...DEFAULT_CONFIG } };
}

/**
 * Draws several figures on the same axes: the traces of `others` are added to a copy of `base` (whose layout
 * is kept), e.g. a density histogram with the exact pdf on top:
 * `overlayFigures(histogramFigure(samples, { density: true }), lineFigure([{ x: xs, y: pdf, name: 'exact' }]))`.
 */
export function overlayFigures(base: Figure, ...others: Figure[]): Figure {
  validateFigure(base);
  others.forEach(validateFigure);
  const data = [...base.data, ...others.flatMap((f) => f.data)].map((t) => ({ ...t }));
  const layout: PlotlyLayout = { ...base.layout };
  if (data.length > 1 && layout.showlegend === undefined) layout.showlegend = true;
  return { data, layout, config: { ...DEFAULT_CONFIG, ...(base.config ?? {}) } };
}

/** Options for {@link subplots}. */
export interface SubplotOptions {
  /** Number of rows of the grid (positive integer). */
  rows: number;
  /** Number of columns of the grid (positive integer); figures fill the grid row by row. */
  cols: number;
  /** Overall title. */
  title?: string;
  /** Width in pixels. Default 330 per column (at least 480). */
  width?: number;
  /** Height in pixels. Default 300 per row. */
  height?: number;
}

const SUBPLOT_OPTION_KEYS = optionKeys<SubplotOptions>({
  rows: true, cols: true, title: true, width: true, height: true,
});

/**
 * Places several figures in one, on a `rows x cols` grid (row by row), each keeping its traces, axis titles,
 * log axes and title (shown above its panel); e.g. the Gibbs demo's three panels:
 * `subplots([truth, path, samples], { rows: 1, cols: 3 })`. A heatmap's colour bar (see
 * {@link HeatmapFigureOptions.colorbar}) sits beside or under its own panel, in room made for it; `'none'` makes none.
 */
export function subplots(figures: Figure[], opts: SubplotOptions): Figure {
  assertKnownOptions('subplots', opts, SUBPLOT_OPTION_KEYS);
  const { rows, cols } = opts;
  assertPositiveInteger('rows', rows);
  assertPositiveInteger('cols', cols);
  if (!Array.isArray(figures) || figures.length === 0) throw new RangeError('figures must be a non-empty array of figures');
  if (figures.length > rows * cols) {
    throw new RangeError(`${figures.length} figures do not fit a ${rows} x ${cols} grid`);
  }
  const width = opts.width ?? Math.max(480, 330 * cols);
  const height = opts.height ?? 300 * rows;
  const margin = { l: 60, r: 30, t: opts.title ? 70 : 40, b: 50 };
  const hgap = 0.08;
  const vgap = rows > 1 ? 0.22 : 0; // room for a row's x-axis title and the next row's panel title
  // Colour bars get room of their own: a bar on the right widens the gap after its column (or, in the last column,
  // stays inside the plotting area, left of the legend), a bar below deepens the gap under its row.
  const bars = figures.map((fig) => colorbarPosition(fig));
  const columnBar = Array.from({ length: cols }, (_, c) => bars.some((b, k) => k % cols === c && b === 'right'));
  const rowBar = Array.from({ length: rows }, (_, r) => bars.some((b, k) => Math.floor(k / cols) === r && b === 'below'));
  const right = COLORBAR_PX.right / Math.max(1, width - margin.l - margin.r); //                 in paper units
  const below = (r: number) =>
    (figures.slice(r * cols, (r + 1) * cols).some((f) => f.layout?.xaxis?.title) ? COLORBAR_PX.belowOffsetTitled : COLORBAR_PX.belowOffset);
  const plotHeight = Math.max(1, height - margin.t - margin.b);
  const rowExtra = rowBar.map((has, r) => (has ? (below(r) + COLORBAR_PX.below) / plotHeight : 0));
  const panelWidth = (1 - hgap * (cols - 1) - columnBar.filter(Boolean).length * right) / cols;
  const panelHeight = (1 - vgap * (rows - 1) - rowExtra.reduce((a, b) => a + b, 0)) / rows;
  if (!(panelWidth > 0) || !(panelHeight > 0)) {
    throw new RangeError(`subplots: ${width} x ${height} px leave no room for ${rows} x ${cols} panels and their colour bars; give a larger width or height`);
  }
  const columnStart = columnBar.map((_, c) => c * (panelWidth + hgap) + columnBar.slice(0, c).filter(Boolean).length * right);
  const rowTop = rowExtra.map((_, r) => 1 - r * (panelHeight + vgap) - rowExtra.slice(0, r).reduce((a, b) => a + b, 0));
  const layout: PlotlyLayout = { width, height, margin, showlegend: false };
  if (opts.title !== undefined) layout.title = { text: String(opts.title) };
  const annotations: Record<string, unknown>[] = [];
  const data: PlotlyTrace[] = [];
  const legendNames = new Set<string>();
  figures.forEach((fig, k) => {
    const r = Math.floor(k / cols);
    const c = k % cols;
    const xd: [number, number] = [columnStart[c], columnStart[c] + panelWidth];
    const yd: [number, number] = [rowTop[r] - panelHeight, rowTop[r]];
    const s = k === 0 ? '' : String(k + 1);
    const fl = fig.layout ?? {};
    layout[`xaxis${s}`] = { ...(fl.xaxis ?? {}), domain: xd, anchor: `y${s}` };
    layout[`yaxis${s}`] = { ...(fl.yaxis ?? {}), domain: yd, anchor: `x${s}` };
    if (fl.title?.text) {
      annotations.push({
        text: fl.title.text, xref: 'paper', yref: 'paper', x: (xd[0] + xd[1]) / 2, y: yd[1],
        xanchor: 'center', yanchor: 'bottom', showarrow: false, font: { size: 14 },
      });
    }
    if (fl.showlegend) layout.showlegend = true;
    for (const t of fig.data) {
      const copy: PlotlyTrace = { ...t, xaxis: `x${s}`, yaxis: `y${s}` };
      if (t.name === undefined) copy.showlegend = false; // no 'trace 4' entries
      else {
        // one legend entry per name: panels that share series names share the entry (and toggle together)
        copy.legendgroup = t.name;
        if (legendNames.has(t.name)) copy.showlegend = false;
        legendNames.add(t.name);
      }
      if (t.type === 'heatmap' && bars[k] === 'right') {
        // a colour bar beside its own panel, in the room made for it
        copy.colorbar = { ...((t.colorbar as object) ?? {}), x: xd[1] + 0.005, xanchor: 'left', xpad: 4, y: (yd[0] + yd[1]) / 2, len: yd[1] - yd[0], thickness: COLORBAR_PX.thickness };
      } else if (t.type === 'heatmap' && bars[k] === 'below') {
        // horizontal, under its own panel's x-axis title
        const y = yd[0] - below(r) / plotHeight;
        copy.colorbar = { ...((t.colorbar as object) ?? {}), x: (xd[0] + xd[1]) / 2, xanchor: 'center', len: xd[1] - xd[0], yref: 'paper', y, yanchor: 'top', ypad: 0, thickness: COLORBAR_PX.thickness };
      }
      data.push(copy);
    }
    if (fl.barmode) layout.barmode = fl.barmode;
  });
  if (annotations.length) layout.annotations = annotations;
  return { data, layout, config: { ...DEFAULT_CONFIG } };
}

/** Where a figure's heatmap draws its colour bar (the first heatmap's; `'none'` without one), as heatmapFigure set it. */
function colorbarPosition(fig: Figure): ColorbarPosition {
  const t = (fig.data ?? []).find((d) => d.type === 'heatmap');
  if (!t || t.showscale === false) return 'none';
  return (t.colorbar as { orientation?: string } | undefined)?.orientation === 'h' ? 'below' : 'right';
}

// ---------------------------------------------------------------------------------------------------------
// HTML and display

export { plotlyLoaderHtml, plotlyLoaderScript, plotlySource } from './plotly-source';

/** Options for {@link figureHtml}. */
export interface FigureHtmlOptions {
  /**
   * `true` (default): include the plotly.js loader, so the HTML works on its own on any page;
   * `false`: only the figure, which draws once some other output or page script has defined `window.Plotly`.
   */
  includePlotly?: boolean;
}

const FIGURE_HTML_OPTION_KEYS = optionKeys<FigureHtmlOptions>({ includePlotly: true });

function withConfig(figure: Figure): Required<Figure> {
  validateFigure(figure);
  return { data: figure.data, layout: figure.layout ?? {}, config: { ...DEFAULT_CONFIG, ...(figure.config ?? {}) } };
}

function validateFigure(figure: Figure): void {
  if (!figure || typeof figure !== 'object' || !Array.isArray(figure.data)) {
    throw new TypeError(`figure must be a plotly figure { data: [...], layout: {...} }; got ${describeValue(figure)}`);
  }
}

/**
 * The HTML of a figure: a `<div>` and a script that draws it with plotly.js, preceded (by default) by the
 * plotly.js loader, so it works offline on its own. All text is escaped; the figure JSON cannot close the script.
 */
export function figureHtml(figure: Figure, opts: FigureHtmlOptions = {}): string {
  assertKnownOptions('figureHtml', opts, FIGURE_HTML_OPTION_KEYS);
  const fig = withConfig(figure);
  const id = randomId('genlab-fig');
  const w = typeof fig.layout.width === 'number' ? `width:${fig.layout.width}px;` : '';
  const h = typeof fig.layout.height === 'number' ? `height:${fig.layout.height}px;` : 'height:400px;';
  const title = fig.layout.title?.text ? ` "${escapeHtml(fig.layout.title.text)}"` : '';
  const note =
    `Figure${title}: drawn by plotly.js when JavaScript runs ` +
    '(in JupyterLab: trust the notebook or re-run the cell).';
  const div =
    `<div class="genlab-figure" id="${id}" style="${w}${h}max-width:100%;">` +
    `<div class="genlab-figure-note" style="color:#888;font:italic 13px sans-serif;padding:1em;">${note}</div></div>`;
  const script =
    '<script type="text/javascript">(function () {\n' +
    `var spec = ${jsonForScript(fig)};\n` +
    `var id = ${jsonForScript(id)};\n` +
    'var me = document.currentScript;\n' +
    'var el = (me && me.previousElementSibling && me.previousElementSibling.id === id) ? me.previousElementSibling : null;\n' +
    'var t0 = Date.now();\n' +
    'function draw() {\n' +
    '  if (!el || !el.isConnected) el = document.getElementById(id) || el;\n' +
    '  var P = window.Plotly;\n' +
    '  var shown = el && el.isConnected && el.getClientRects().length > 0;\n' +
    '  if (P && shown) { el.innerHTML = ""; P.newPlot(el, spec.data, spec.layout, spec.config); return; }\n' +
    '  var waited = Date.now() - t0;\n' +
    '  if (!P && waited > 30000 && el && el.firstChild && !el.dataset.warned) {\n' +
    '    el.dataset.warned = "1";\n' +
    '    el.firstChild.textContent = "Waiting for plotly.js, which the first figure of the notebook loads: scroll to it, or re-run the cell that first showed a figure (or call resetPlotlyLoader() and show this figure again).";\n' +
    '  }\n' +
    '  // keep waiting (slowly after a while): windowed notebooks render the loader cell only when it is scrolled to\n' +
    '  if (waited < 3600000) setTimeout(draw, !P && waited > 30000 ? 1000 : P ? 250 : 50);\n' +
    '}\n' +
    'draw();\n' +
    '})();</script>';
  return (opts.includePlotly ?? true ? plotlyLoaderHtml() + '\n' : '') + div + '\n' + script;
}

/** A complete stand-alone HTML page showing the figure (plotly.js inline: works offline). */
export function figurePage(figure: Figure, pageTitle?: string): string {
  const t = pageTitle ?? figure.layout?.title?.text ?? 'genlab figure';
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    `<title>${escapeHtml(t)}</title>\n</head>\n<body>\n${figureHtml(figure)}\n</body>\n</html>\n`
  );
}

/** Writes {@link figurePage} to `file` (e.g. 'loss.html'), creating folders as needed. */
export function saveFigure(figure: Figure, file: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, figurePage(figure), 'utf8');
}

/** A one-line text description of a figure (the `text/plain` part of its output). */
export function figureText(figure: Figure): string {
  validateFigure(figure);
  const title = figure.layout?.title?.text ? ` "${figure.layout.title.text}"` : '';
  const types = [...new Set(figure.data.map((t) => t.type))].join(', ');
  return `Figure${title}: ${figure.data.length} trace${figure.data.length === 1 ? '' : 's'} (${types})`;
}

/** The MIME type JupyterLab's plotly extension renders. */
export const PLOTLY_MIME_TYPE = 'application/vnd.plotly.v1+json';

const LOADER_FLAG = Symbol.for('genlab.plotlyLoaderShown');
type FlagHolder = { [LOADER_FLAG]?: boolean };

/**
 * The MIME bundle `show` sends (pure): plotly JSON, HTML (with the plotly.js loader when `includePlotly`),
 * and a text line.
 */
export function figureBundle(figure: Figure, includePlotly: boolean): MimeBundle {
  const fig = withConfig(figure);
  return {
    [PLOTLY_MIME_TYPE]: JSON.parse(JSON.stringify(fig)) as object,
    'text/html': figureHtml(fig, { includePlotly }),
    'text/plain': figureText(fig),
  };
}

/** Makes the next {@link show} include plotly.js again (after clearing or re-running the cell that loaded it). */
export function resetPlotlyLoader(): void {
  (globalThis as FlagHolder)[LOADER_FLAG] = false;
}

/** Options for {@link show}. */
export interface ShowOptions {
  /** Force (true) or omit (false) the plotly.js loader in this output. Default: only in the session's first figure. */
  includePlotly?: boolean;
}

const SHOW_OPTION_KEYS = optionKeys<ShowOptions>({ includePlotly: true });

/**
 * Displays a figure in a tslab notebook (plotly.js is sent with the first figure of the session only).
 * Outside a notebook it prints a one-line note (use {@link saveFigure} or {@link figureHtml} there).
 */
export function show(figure: Figure, opts: ShowOptions = {}): void {
  assertKnownOptions('show', opts, SHOW_OPTION_KEYS);
  const g = globalThis as FlagHolder;
  const include = opts.includePlotly ?? !g[LOADER_FLAG];
  if (displayBundle(figureBundle(figure, include))) {
    if (include) g[LOADER_FLAG] = true;
    return;
  }
  process.stdout.write(`${figureText(figure)} -- not in a notebook; saveFigure(figure, 'figure.html') writes it to a page.\n`);
}
