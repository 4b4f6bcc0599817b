/**
 * Tables for notebooks and slides: `tableHtml(data)` (pure) and `table(data)` (displays it).
 *
 * Accepted data:
 * - records: `[{ epoch: 1, loss: 0.5 }, ...]` (columns: the union of keys, in first-seen order);
 * - rows: `[[1, 0.5], ...]` with `columns: ['epoch', 'loss']` (or `header: true` to take the first row);
 * - columns: `{ epoch: [1, 2], loss: new Float32Array([0.5, 0.4]) }`;
 * - a danfo.js DataFrame or Series (e.g. `df.describe()`), recognised by its `columns`, `index`, `values`.
 * Numbers are right-aligned with a fixed number of significant digits; every cell, header and caption is
 * HTML-escaped. Styles are inline (they survive JupyterLab's sanitiser, nbconvert and reveal.js themes).
 */
import { escapeHtml } from './html';
import { displayBundle } from './notebook';
import { assertKnownOptions, assertPositiveInteger, describeValue, optionKeys } from '../core/validate';

/** The parts of a danfo.js DataFrame or Series that tables read. */
export interface DataFrameLike {
  /** Column names (one for a Series). */
  columns: string[];
  /** Row labels, e.g. 'count', 'mean', ... for `describe()`. */
  index: (string | number)[];
  /** Values: rows of cells (DataFrame) or one cell per row (Series). */
  values: unknown[] | unknown[][];
}

/** Data accepted by {@link tableHtml} and {@link table}. */
export type TableData = Record<string, unknown>[] | unknown[][] | Record<string, ArrayLike<unknown>> | DataFrameLike;

/** Options for {@link tableHtml}, {@link tableText} and {@link table}. */
export interface TableOptions {
  /** Column names for row arrays; for records and columns, the columns to show and their order. */
  columns?: string[];
  /** Row arrays only: take the column names from the first row. Default false. */
  header?: boolean;
  /** Caption above the table. */
  caption?: string;
  /** Significant digits of non-integer numbers (1..17). Default 4. */
  precision?: number;
  /** Show at most this many rows: the first and last halves, with a '...' row between. Default 60. */
  maxRows?: number;
  /** Show a row-label column: true for 0, 1, ... or explicit labels. Default: a DataFrame's index, else none. */
  index?: boolean | (string | number)[];
  /** CSS font size of the table, e.g. '0.8em' for a dense slide. Default '0.95em'. */
  fontSize?: string;
}

const TABLE_OPTION_KEYS = optionKeys<TableOptions>({
  columns: true, header: true, caption: true, precision: true, maxRows: true, index: true, fontSize: true,
});

interface Normalized {
  header: string[];
  rows: unknown[][];
  index: string[] | null;
}

function isDataFrameLike(d: unknown): d is DataFrameLike {
  return typeof d === 'object' && d !== null && !Array.isArray(d) && Array.isArray((d as DataFrameLike).columns) &&
    Array.isArray((d as DataFrameLike).index) && Array.isArray((d as DataFrameLike).values);
}

function normalize(data: TableData, opts: TableOptions): Normalized {
  let header: string[];
  let rows: unknown[][];
  let index: string[] | null = null;
  if (isDataFrameLike(data)) {
    header = data.columns.map(String);
    const v = data.values as unknown[];
    rows = v.map((r) => (Array.isArray(r) ? r : [r])); // a Series has one value per row
    index = data.index.map(String);
  } else if (Array.isArray(data)) {
    const list = data as unknown[];
    if (list.length > 0 && list.every((r) => Array.isArray(r))) {
      rows = (data as unknown[][]).map((r) => r.slice());
      if (opts.header) header = (rows.shift() ?? []).map(String);
      else header = opts.columns ?? Array.from({ length: Math.max(0, ...rows.map((r) => r.length)) }, (_, i) => String(i));
    } else if (list.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) {
      const recs = data as Record<string, unknown>[];
      const keys: string[] = [];
      for (const r of recs) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
      header = opts.columns ?? keys;
      rows = recs.map((r) => header.map((k) => r[k]));
    } else {
      throw new TypeError('data must be an array of records (objects) or of rows (arrays), not a mix');
    }
  } else if (typeof data === 'object' && data !== null) {
    const cols = data as Record<string, ArrayLike<unknown>>;
    header = opts.columns ?? Object.keys(cols);
    for (const k of header) {
      if (!cols[k] || typeof cols[k].length !== 'number') throw new TypeError(`column ${JSON.stringify(k)} must be an array; got ${describeValue(cols[k])}`);
    }
    const n = Math.max(0, ...header.map((k) => cols[k].length));
    rows = Array.from({ length: n }, (_, i) => header.map((k) => cols[k][i]));
  } else {
    throw new TypeError(`data must be records, rows, columns or a DataFrame; got ${describeValue(data)}`);
  }
  if (opts.index === true) index = rows.map((_, i) => String(i));
  else if (opts.index === false) index = null;
  else if (Array.isArray(opts.index)) {
    if (opts.index.length !== rows.length) throw new RangeError(`index has ${opts.index.length} labels; the table has ${rows.length} rows`);
    index = opts.index.map(String);
  }
  return { header, rows, index };
}

/** Formats one cell: integers in full, other numbers with `precision` significant digits. */
export function formatCell(v: unknown, precision = 4): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-4 || a >= 1e9)) return v.toExponential(precision - 1).replace(/\.?0+e/, 'e');
    return String(Number(v.toPrecision(precision)));
  }
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return v;
  if (ArrayBuffer.isView(v) || Array.isArray(v)) return `[${Array.from(v as ArrayLike<unknown>, (x) => formatCell(x, precision)).join(', ')}]`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

interface Prepared {
  header: string[];
  body: { cells: string[]; numeric: boolean[]; ellipsis: boolean }[];
  index: string[] | null;
  numericCols: boolean[];
  shown: string;
}

function prepare(data: TableData, opts: TableOptions): Prepared {
  const precision = opts.precision ?? 4;
  assertPositiveInteger('precision', precision);
  if (precision > 17) throw new RangeError(`precision must be at most 17; got ${precision}`);
  const maxRows = opts.maxRows ?? 60;
  assertPositiveInteger('maxRows', maxRows);
  const { header, rows, index } = normalize(data, opts);
  let picked = rows.map((r, i) => ({ r, i }));
  let cut = false;
  if (rows.length > maxRows) {
    const head = Math.ceil(maxRows / 2);
    picked = [...picked.slice(0, head), ...picked.slice(rows.length - (maxRows - head))];
    cut = true;
  }
  const numericCols = header.map((_, c) => rows.length > 0 && rows.every((r) => r[c] === undefined || r[c] === null || typeof r[c] === 'number'));
  const body: Prepared['body'] = [];
  picked.forEach(({ r }, k) => {
    if (cut && k === Math.ceil(maxRows / 2)) body.push({ cells: header.map(() => '...'), numeric: header.map(() => false), ellipsis: true });
    body.push({ cells: header.map((_, c) => formatCell(r[c], precision)), numeric: header.map((_, c) => typeof r[c] === 'number'), ellipsis: false });
  });
  const idx = index ? picked.map(({ i }) => index[i]) : null;
  if (idx && cut) idx.splice(Math.ceil(maxRows / 2), 0, '...');
  return { header, body, index: idx, numericCols, shown: cut ? `${maxRows} of ${rows.length} rows` : `${rows.length} rows` };
}

const STYLE = {
  table: 'border-collapse:collapse;margin:0.5em 0;font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;line-height:1.35;',
  caption: 'caption-side:top;text-align:left;font-weight:bold;padding:0 0 0.35em 0;',
  th: 'padding:0.3em 0.8em;border-bottom:2px solid #444;font-weight:bold;',
  td: 'padding:0.25em 0.8em;border-bottom:1px solid #ddd;',
  num: 'text-align:right;font-variant-numeric:tabular-nums;',
  text: 'text-align:left;',
  index: 'font-weight:bold;color:#444;',
  even: 'background:#f6f6f6;',
} as const;

/**
 * An HTML `<table>` of the data (pure: what {@link table} shows). Every cell, header and the caption are
 * escaped; numbers are right-aligned with `precision` significant digits.
 */
export function tableHtml(data: TableData, opts: TableOptions = {}): string {
  assertKnownOptions('tableHtml', opts, TABLE_OPTION_KEYS);
  const p = prepare(data, opts);
  const font = escapeHtml(opts.fontSize ?? '0.95em');
  const align = (c: number) => (p.numericCols[c] ? STYLE.num : STYLE.text);
  const out: string[] = [`<table class="genlab-table" style="${STYLE.table}font-size:${font};">`];
  if (opts.caption !== undefined) out.push(`<caption style="${STYLE.caption}">${escapeHtml(opts.caption)}</caption>`);
  out.push('<thead><tr>');
  if (p.index) out.push(`<th style="${STYLE.th}"></th>`);
  p.header.forEach((h, c) => out.push(`<th style="${STYLE.th}${align(c)}">${escapeHtml(h)}</th>`));
  out.push('</tr></thead><tbody>');
  p.body.forEach((row, k) => {
    const zebra = k % 2 === 1 ? STYLE.even : '';
    out.push(`<tr style="${zebra}">`);
    if (p.index) out.push(`<td style="${STYLE.td}${STYLE.index}">${escapeHtml(p.index[k])}</td>`);
    row.cells.forEach((cell, c) => out.push(`<td style="${STYLE.td}${row.ellipsis ? 'text-align:center;' : align(c)}">${escapeHtml(cell)}</td>`));
    out.push('</tr>');
  });
  out.push('</tbody></table>');
  return out.join('');
}

/** The same table as aligned plain text (for terminals, logs and the `text/plain` part of the output). */
export function tableText(data: TableData, opts: TableOptions = {}): string {
  assertKnownOptions('tableText', opts, TABLE_OPTION_KEYS);
  const p = prepare(data, opts);
  const cols: string[][] = [];
  if (p.index) cols.push(['', ...p.index]);
  p.header.forEach((h, c) => cols.push([h, ...p.body.map((r) => r.cells[c])]));
  const widths = cols.map((col) => Math.max(...col.map((s) => s.length)));
  const right = [...(p.index ? [false] : []), ...p.numericCols];
  const line = (i: number) => cols.map((col, c) => (right[c] ? col[i].padStart(widths[c]) : col[i].padEnd(widths[c]))).join('  ').trimEnd();
  const lines = [line(0), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (let i = 1; i <= p.body.length; i++) lines.push(line(i));
  if (opts.caption !== undefined) lines.unshift(opts.caption);
  return lines.join('\n');
}

/**
 * Displays a table in a tslab notebook (HTML, with a plain-text alternative). Outside a notebook it prints
 * the plain-text table.
 */
export function table(data: TableData, opts: TableOptions = {}): void {
  assertKnownOptions('table', opts, TABLE_OPTION_KEYS);
  const text = tableText(data, opts);
  if (displayBundle({ 'text/html': tableHtml(data, opts), 'text/plain': text })) return;
  process.stdout.write(text + '\n');
}
