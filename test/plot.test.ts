import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf, ready } from '../lib/engine/backend';
import {
  Figure,
  figureBundle,
  figureHtml,
  figurePage,
  heatmapFigure,
  histogramCounts,
  histogramFigure,
  lineFigure,
  overlayFigures,
  PLOTLY_MIME_TYPE,
  plotlyLoaderHtml,
  scatterFigure,
  show,
  subplots,
} from '../lib/display/plot';
import { escapeHtml, jsonForScript, scriptSafeSource } from '../lib/display/html';
import { assertNoLeak } from './helpers';

/** A figure survives a JSON round trip unchanged (valid plotly JSON: no typed arrays, NaN or functions). */
function assertPlainJson(fig: Figure): void {
  assert.deepEqual(JSON.parse(JSON.stringify(fig)), fig);
  for (const t of fig.data) assert.equal(typeof t.type, 'string');
}

/** Extracts the figure spec embedded in figureHtml's script. */
function embeddedSpec(html: string): Figure {
  const m = /var spec = (.*);\n/.exec(html);
  assert.ok(m, 'spec found');
  return JSON.parse(m[1]) as Figure;
}

test('lineFigure: several series from a record, arrays, typed arrays and tensors', async () => {
  await ready();
  const fig = await assertNoLeak(() => {
    const t = tf.tensor1d([3, 2, 1]);
    const f = lineFigure({ train: [1, 2, NaN], test: new Float32Array([2, 3, 4]), tensor: t }, { title: 'loss', xTitle: 'epoch', logY: true, xStart: 1 });
    t.dispose();
    return f;
  }, 'lineFigure');
  assertPlainJson(fig);
  assert.equal(fig.data.length, 3);
  assert.deepEqual(fig.data.map((d) => d.name), ['train', 'test', 'tensor']);
  assert.deepEqual(fig.data[0].x, [1, 2, 3]);
  assert.deepEqual(fig.data[0].y, [1, 2, null]); // NaN becomes a gap
  assert.deepEqual(fig.data[2].y, [3, 2, 1]);
  assert.equal(fig.layout.yaxis?.type, 'log');
  assert.equal(fig.layout.title?.text, 'loss');
  assert.equal(fig.layout.showlegend, true);
  const one = lineFigure({ x: [0, 1], y: [5, 6], name: 'a', mode: 'markers', dash: 'dot' });
  assert.equal(one.data.length, 1);
  assert.equal(one.data[0].mode, 'markers');
  assert.throws(() => lineFigure([{ x: [1, 2, 3], y: [1, 2] }]), /series\[0\]: x has 3 values but y has 2/);
  assert.throws(() => lineFigure([]), /at least one series/);
  // plotly-style layout fields are accepted too
  const styled = lineFigure({ a: [1, 2] }, { title: { text: 'T' }, xaxis: { range: [0, 5] }, yaxis: { type: 'log' }, showlegend: false, layout: { bargap: 0 } });
  assert.equal(styled.layout.title?.text, 'T');
  assert.deepEqual(styled.layout.xaxis?.range, [0, 5]);
  assert.equal(styled.layout.yaxis?.type, 'log');
  assert.equal(styled.layout.showlegend, false);
  assert.equal(styled.layout.bargap, 0);
  assert.throws(() => lineFigure({ a: [1] }, { width: 0 }), /width must be a positive integer; got 0/);
});

test('scatterFigure: one trace and legend entry per label, in label order, with names', async () => {
  await ready();
  const pts = tf.tensor2d([[0, 0], [1, 1], [2, 2], [3, 3], [4, 4]]);
  const fig = scatterFigure(pts, { labels: Int32Array.from([2, 0, 2, 1, 0]), labelNames: ['zero', 'one', 'two'] });
  pts.dispose();
  assertPlainJson(fig);
  assert.deepEqual(fig.data.map((d) => d.name), ['zero', 'one', 'two']);
  assert.deepEqual(fig.data[0].x, [1, 4]);
  assert.deepEqual(fig.data[2].y, [0, 2]);
  assert.equal(fig.layout.showlegend, true);
  const plain = scatterFigure({ x: [1, 2], y: [3, 4] }, { name: 'gibbs', mode: 'lines+markers' });
  assert.equal(plain.data.length, 1);
  assert.equal(plain.data[0].name, 'gibbs');
  const rows = scatterFigure([[1, 2], [3, 4]], { labels: ['b', 'a'] });
  assert.deepEqual(rows.data.map((d) => d.name), ['a', 'b']);
  assert.throws(() => scatterFigure([[1, 2]], { labels: [1, 2] }), /labels has 2 entries but there are 1 points/);
  const bad = tf.tensor2d([[1, 2, 3]]);
  assert.throws(() => scatterFigure(bad), /shape \[n, 2\]; got shape \[1, 3\]/);
  bad.dispose();
});

test('histogram: counts add up, density integrates to one, series share bins', () => {
  const xs = Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 3);
  const h = histogramCounts(xs, { bins: 10 });
  assert.equal(h.edges.length, 11);
  assert.equal(h.counts.reduce((a, b) => a + b, 0), 1000); // max lands in the last bin
  assert.deepEqual(histogramCounts([0, 0.5, 1, 2], { bins: 2, range: [0, 1] }).counts, [1, 2]); // 2 is outside
  const fig = histogramFigure({ a: xs, b: xs.map((x) => x + 1) }, { bins: 20, density: true });
  assertPlainJson(fig);
  assert.equal(fig.data.length, 2);
  assert.deepEqual(fig.data[0].x, fig.data[1].x);
  const w = fig.data[0].width as number;
  const area = (fig.data[0].y as number[]).reduce((a, b) => a + b, 0) * w;
  assert.ok(Math.abs(area - 1) < 1e-9, `density integrates to ${area}`);
  assert.equal(fig.layout.barmode, 'overlay');
  assert.throws(() => histogramCounts(xs, { bins: 0 }), /bins must be a positive integer/);
});

test('overlayFigures puts the traces of several figures on the axes of the base figure', () => {
  const h = histogramFigure([0, 1, 1, 2], { density: true, title: 'samples' });
  const pdf = lineFigure([{ x: [0, 1, 2], y: [0.2, 0.6, 0.2], name: 'exact' }]);
  const o = overlayFigures(h, pdf);
  assertPlainJson(o);
  assert.deepEqual(o.data.map((t) => t.type), ['bar', 'scatter']);
  assert.equal(o.layout.title?.text, 'samples');
  assert.equal(o.layout.barmode, 'overlay');
  assert.equal(h.data.length, 1, 'inputs unchanged');
  assert.throws(() => overlayFigures(h, {} as Figure), /figure must be a plotly figure/);
});

test('heatmapFigure and subplots: axes, domains, titles and colour bars', async () => {
  await ready();
  const z = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const hm = heatmapFigure(z, { title: 'W', colorscale: 'RdBu', zmin: -1, zmax: 1, y: ['r0', 'r1'] });
  z.dispose();
  assertPlainJson(hm);
  assert.deepEqual(hm.data[0].z, [[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(hm.data[0].y, ['r0', 'r1']);
  assert.equal(hm.layout.yaxis?.autorange, 'reversed');
  assert.throws(() => heatmapFigure([[1, 2], [3]]), /rectangular/);
  const a = lineFigure({ loss: [3, 2, 1] }, { title: 'A', xTitle: 'epoch', logY: true });
  const b = scatterFigure([[0, 1]], { title: 'B' });
  const grid = subplots([a, b, hm], { rows: 2, cols: 2, title: 'all' });
  assertPlainJson(grid);
  assert.deepEqual(grid.data.map((t) => [t.xaxis, t.yaxis]), [['x', 'y'], ['x2', 'y2'], ['x3', 'y3']]);
  assert.equal((grid.layout.yaxis as { type: string }).type, 'log');
  assert.equal((grid.layout.xaxis as { title: { text: string } }).title.text, 'epoch');
  const d1 = (grid.layout.xaxis as { domain: number[] }).domain;
  const d2 = (grid.layout.xaxis2 as { domain: number[] }).domain;
  const y3 = (grid.layout.yaxis3 as { domain: number[] }).domain;
  assert.ok(d1[1] < d2[0], 'columns do not overlap');
  assert.ok(y3[1] < (grid.layout.yaxis as { domain: number[] }).domain[0], 'row 2 is below row 1');
  assert.deepEqual((grid.layout.annotations as { text: string }[]).map((x) => x.text), ['A', 'B', 'W']);
  assert.ok((grid.data[2].colorbar as { x: number }).x > d1[1]);
  assert.throws(() => subplots([a, b, hm], { rows: 1, cols: 2 }), /3 figures do not fit a 1 x 2 grid/);
});

test('colour bars: right, below or none; subplots make room so bars overlap no panel and no legend', () => {
  const z = [[0, 1], [2, 3]];
  assert.equal(heatmapFigure(z).data[0].showscale, undefined, 'a colour bar by default');
  assert.equal(heatmapFigure(z, { colorbar: 'none' }).data[0].showscale, false);
  const low = heatmapFigure(z, { colorbar: 'below', colorbarTitle: 'E' });
  assert.equal((low.data[0].colorbar as { orientation: string }).orientation, 'h');
  assert.equal((low.data[0].colorbar as { title: { text: string } }).title.text, 'E');
  assert.ok((low.layout.margin as { b: number }).b > (heatmapFigure(z).layout.margin as { b: number }).b, 'room under the plot');
  assert.throws(() => heatmapFigure(z, { colorbar: 'left' as 'right' }), /colorbar must be one of 'right', 'below', 'none'; got "left"/);

  // three panels with bars on the right, a legend: each bar sits in a gap of its own, left of the next panel
  const panel = (name: string) => overlayFigures(heatmapFigure(z, { matrixOrientation: false }), scatterFigure([[0, 1]], { name }));
  const width = 990;
  const grid = subplots([panel('a'), panel('b'), panel('c')], { rows: 1, cols: 3, width });
  const plotWidth = width - 60 - 30; // the grid's margins
  const domains = ['xaxis', 'xaxis2', 'xaxis3'].map((k) => (grid.layout[k] as { domain: [number, number] }).domain);
  const bars = grid.data.filter((t) => t.type === 'heatmap').map((t) => t.colorbar as { x: number });
  assert.equal(bars.length, 3);
  for (let k = 0; k < 3; k++) {
    assert.ok(bars[k].x > domains[k][1], `bar ${k} right of its panel`);
    // room for the bar and its labels (60 px) before the next panel's y tick labels (the old 0.08 gap) or the legend at 1
    const next = k < 2 ? domains[k + 1][0] - 0.08 : 1;
    assert.ok((next - bars[k].x) * plotWidth >= 60, `bar ${k}: ${((next - bars[k].x) * plotWidth).toFixed(0)} px to the next panel`);
  }
  const widths = domains.map(([a, b]) => b - a);
  assert.ok(widths.every((w) => Math.abs(w - widths[0]) < 1e-9), 'equal panels');
  // without bars the panels fill the width as before
  const plain = subplots([panel('a'), panel('b')].map((f) => ({ ...f, data: f.data.map((t) => ({ ...t, showscale: false })) })), { rows: 1, cols: 2 });
  assert.deepEqual((plain.layout.xaxis as { domain: number[] }).domain[0], 0);
  assert.ok(Math.abs((plain.layout.xaxis2 as { domain: number[] }).domain[1] - 1) < 1e-9);
  assert.ok(plain.data.every((t) => t.colorbar === undefined));

  // bars below: under each panel's x-axis title, above the next row's panel
  const titled = heatmapFigure(z, { colorbar: 'below', xTitle: 'x' });
  const tall = subplots([titled, titled], { rows: 2, cols: 1, height: 700 });
  const [top, bottom] = ['yaxis', 'yaxis2'].map((k) => (tall.layout[k] as { domain: [number, number] }).domain);
  const [barTop, barBottom] = tall.data.map((t) => t.colorbar as { y: number; yanchor: string; orientation: string });
  assert.equal(barTop.orientation, 'h');
  const plotHeight = 700 - 40 - 50;
  assert.ok((top[0] - barTop.y) * plotHeight >= 45, 'below the x-axis title');
  assert.ok((barTop.y - bottom[1]) * plotHeight >= 40 + 0.22 * plotHeight - 1, 'the bar, then the usual gap to the next row');
  assert.ok(barBottom.y >= 0, 'the last bar stays in the figure');
  assert.throws(() => subplots([titled, titled, titled, titled], { rows: 4, cols: 1, height: 300 }), /leave no room/);
});

test('escaping: text in HTML is escaped and embedded JSON cannot close the script', () => {
  assert.equal(escapeHtml(`<a href="x">&'`), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
  const evil = '</script><script>alert(1)</script><!-- \u2028 \u2029 &amp;';
  const json = jsonForScript({ evil });
  assert.ok(!/[<>&\u2028\u2029]/.test(json), json);
  assert.deepEqual(JSON.parse(json), { evil });
  assert.equal(scriptSafeSource('x = "</SCRIPT>" + "<!--"'), 'x = "<\\/SCRIPT>" + "<\\!--"');
  const fig = lineFigure({ [evil]: [1, 2] }, { title: evil, xTitle: evil });
  const html = figureHtml(fig, { includePlotly: false });
  // only genlab's own script tags: the spec and the loader-free figure script
  assert.equal((html.match(/<script/gi) ?? []).length, 1);
  assert.equal((html.match(/<\/script/gi) ?? []).length, 1);
  assert.ok(!html.includes('<!--'));
  assert.ok(html.includes('Figure "&lt;/script&gt;&lt;script&gt;alert(1)'));
  assert.deepEqual(embeddedSpec(html).data[0].name, evil); // the text survives intact
  assert.ok(figurePage(fig).includes(`<title>${escapeHtml(evil)}</title>`));
});

test('figureHtml includes plotly.js once; the bundle carries plotly JSON, HTML and text', () => {
  const fig = lineFigure({ a: [1, 2, 3] }, { title: 'T' });
  const loader = plotlyLoaderHtml();
  assert.ok(loader.length > 500000, 'plotly.js is inlined');
  assert.ok(loader.includes('if (!window.Plotly)'));
  assert.ok(loader.includes('(function (define, module, exports)'));
  const full = figureHtml(fig);
  assert.ok(full.startsWith(loader));
  const bare = figureHtml(fig, { includePlotly: false });
  assert.ok(bare.length < 5000);
  const withLoader = figureBundle(fig, true);
  const without = figureBundle(fig, false);
  assert.deepEqual(Object.keys(withLoader).sort(), [PLOTLY_MIME_TYPE, 'text/html', 'text/plain'].sort());
  assert.ok((withLoader['text/html'] as string).includes('if (!window.Plotly)'));
  assert.ok(!(without['text/html'] as string).includes('if (!window.Plotly)'));
  const spec = without[PLOTLY_MIME_TYPE] as Figure;
  assert.deepEqual(spec.data, fig.data);
  assert.equal((spec.config as { displaylogo: boolean }).displaylogo, false);
  assert.equal(without['text/plain'], 'Figure "T": 1 trace (scatter)');
  assert.deepEqual(embeddedSpec(bare).layout, fig.layout);
});

test('show outside a notebook prints a one-line note', () => {
  const lines: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => (lines.push(String(s)), true)) as typeof process.stdout.write;
  try {
    show(lineFigure({ a: [1] }, { title: 'note' }));
  } finally {
    process.stdout.write = orig;
  }
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^Figure "note": 1 trace \(scatter\) -- not in a notebook; saveFigure/);
});

test('line series take categorical x and error bars; subplots share legend entries by name', () => {
  const fig = lineFigure([{ x: ['00', '01', '10'], y: [1, 2, 3], error: [0.1, 0.2, 0.3], name: 'p' }]);
  assert.deepEqual(fig.data[0].x, ['00', '01', '10']);
  assert.deepEqual((fig.data[0].error_y as { array: number[] }).array, [0.1, 0.2, 0.3]);
  assert.throws(() => lineFigure([{ y: [1, 2], error: [1] }]), /error has 1 values/);
  const a = lineFigure([{ y: [1, 2], name: 'exact' }, { y: [2, 3], name: 'MC' }]);
  const b = lineFigure([{ y: [1, 2], name: 'exact' }, { y: [2, 3], name: 'MC' }]);
  const grid = subplots([a, b], { rows: 1, cols: 2 });
  const shown = grid.data.filter((t) => t.showlegend !== false).map((t) => t.name);
  assert.deepEqual(shown, ['exact', 'MC']);
});
