import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { formatCell, table, tableHtml, tableText } from '../lib/display/table';

/** Cell texts of an HTML table, row by row (header row first), with entities decoded. */
function cells(html: string): string[][] {
  const decode = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  return [...html.matchAll(/<tr[^>]*>(.*?)<\/tr>/g)].map((m) => [...m[1].matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/g)].map((c) => decode(c[1])));
}

test('records, rows and columns give the same table', () => {
  const records = [{ epoch: 1, loss: 0.123456 }, { epoch: 2, loss: 0.0987654 }];
  const a = cells(tableHtml(records));
  const b = cells(tableHtml([[1, 0.123456], [2, 0.0987654]], { columns: ['epoch', 'loss'] }));
  const c = cells(tableHtml({ epoch: [1, 2], loss: new Float64Array([0.123456, 0.0987654]) }));
  const d = cells(tableHtml([['epoch', 'loss'], [1, 0.123456], [2, 0.0987654]], { header: true }));
  const expected = [['epoch', 'loss'], ['1', '0.1235'], ['2', '0.09877']];
  for (const t of [a, b, c, d]) assert.deepEqual(t, expected);
  // records with different keys: union in first-seen order, missing cells empty
  assert.deepEqual(cells(tableHtml([{ a: 1 }, { b: 'x', a: 2 }])), [['a', 'b'], ['1', ''], ['2', 'x']]);
  assert.deepEqual(cells(tableHtml([{ a: 1, b: 2 }], { columns: ['b'] })), [['b'], ['2']]);
});

test('numbers: precision, integers, exponents and special values; numeric columns right-aligned', () => {
  assert.equal(formatCell(3.14159265, 3), '3.14');
  assert.equal(formatCell(123456789), '123456789');
  assert.equal(formatCell(0.000012346), '1.235e-5');
  assert.equal(formatCell(2.5e12), '2500000000000');
  assert.equal(formatCell(-2.5e-12), '-2.5e-12');
  assert.equal(formatCell(1.5e20), '1.5e+20');
  assert.equal(formatCell(NaN), 'NaN');
  assert.equal(formatCell(-Infinity), '-Infinity');
  assert.equal(formatCell(null), '');
  assert.equal(formatCell(true), 'true');
  assert.equal(formatCell(new Float32Array([0.5, 1])), '[0.5, 1]');
  const html = tableHtml([{ name: 'a', v: 1.5 }]);
  assert.match(html, /<th style="[^"]*text-align:left;">name<\/th>/);
  assert.match(html, /<td style="[^"]*text-align:right;[^"]*">1.5<\/td>/);
  assert.throws(() => tableHtml([{ a: 1 }], { precision: 0 }), /precision must be a positive integer; got 0/);
});

test('long tables are cut in the middle with an ellipsis row', () => {
  const rows = Array.from({ length: 100 }, (_, i) => ({ i }));
  const t = cells(tableHtml(rows, { maxRows: 6, index: true }));
  assert.deepEqual(t.map((r) => r.join('|')), ['|i', '0|0', '1|1', '2|2', '...|...', '97|97', '98|98', '99|99']);
  const text = tableText(rows, { maxRows: 4 }).split('\n');
  assert.deepEqual(text, ['  i', '---', '  0', '  1', '...', ' 98', ' 99']);
});

test('all user text is escaped: cells, headers, caption, index', () => {
  const evil = '<script>alert("x")</script>&';
  const html = tableHtml([{ [evil]: evil }], { caption: evil, index: [evil] });
  assert.ok(!html.includes('<script'), html);
  assert.equal((html.match(/&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;&amp;/g) ?? []).length, 4);
  assert.ok(!html.includes('font-size:<'), 'fontSize is escaped too');
  assert.ok(!tableHtml([{ a: 1 }], { fontSize: '1em"><script>' }).includes('"><script>'));
});

test('a danfo DataFrame describe() and a Series', () => {
  // danfojs-node is a dependency (with tfjs-node overridden to tfjs); load it only here.
  const dfd = require('danfojs-node') as {
    DataFrame: new (d: Record<string, unknown[]>) => { describe(): unknown; column(c: string): unknown };
  };
  const df = new dfd.DataFrame({ x: [1, 2, 3, 4], y: [10, 20, 30, 41], s: ['a', 'b', 'c', 'd'] });
  const described = df.describe() as Parameters<typeof tableHtml>[0];
  const t = cells(tableHtml(described));
  assert.deepEqual(t[0], ['', 'x', 'y']);
  assert.deepEqual(t.map((r) => r[0]).slice(1), ['count', 'mean', 'std', 'min', 'median', 'max', 'variance']);
  assert.deepEqual(t[1], ['count', '4', '4']);
  assert.deepEqual(t[2], ['mean', '2.5', '25.25']);
  assert.deepEqual(t[3].slice(0, 2), ['std', '1.291']); // sample std of 1..4 = sqrt(5/3)
  const series = cells(tableHtml(df.column('s') as Parameters<typeof tableHtml>[0]));
  assert.deepEqual(series, [['', 's'], ['0', 'a'], ['1', 'b'], ['2', 'c'], ['3', 'd']]);
});

test('tableText aligns columns; table() prints it outside a notebook', () => {
  const text = tableText([{ name: 'RBM', nll: 88.123 }, { name: 'VAE', nll: 101.5 }], { caption: 'test NLL' });
  assert.equal(text, ['test NLL', 'name    nll', '----  -----', 'RBM   88.12', 'VAE   101.5'].join('\n'));
  const lines: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => (lines.push(String(s)), true)) as typeof process.stdout.write;
  try {
    table([{ a: 1 }]);
  } finally {
    process.stdout.write = orig;
  }
  assert.deepEqual(lines, ['a\n-\n1\n']);
  assert.throws(() => tableHtml(42 as unknown as []), /data must be records, rows, columns or a DataFrame; got 42/);
  assert.throws(() => tableHtml([{ a: 1 }, [2]] as unknown as []), /not a mix/);
});
