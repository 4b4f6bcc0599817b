/**
 * Tabular results as danfo.js DataFrames, the way the Python course shows them with pandas: `frame(columns)` or
 * `frame(records)` for a sweep or a comparison (`pd.DataFrame({...})`), `historyFrame(history)` for Keras'
 * `pd.DataFrame(history.history)`. One call, then `table(df)` renders it as HTML (and any danfo method applies:
 * `df.describe()`, `df.sortValues('loss')`, `df.tail()`, ...). Notebooks import these from genlab rather than
 * danfojs-node itself.
 *
 * danfojs-node is loaded on first use only (it takes about two seconds), so importing genlab stays fast.
 */
import type { DataFrame } from 'danfojs-node';
import { describeValue } from '../core/validate';

/** One cell of a {@link frame}: a number, string or boolean; null or undefined is an empty cell (NaN in a numeric column, '' in a text one). */
export type FrameCell = number | string | boolean | null | undefined;

/** Columns of a {@link frame}: name -> values (arrays or typed arrays), all of one length. */
export type FrameColumns = Record<string, ArrayLike<FrameCell>>;

function loadDanfo(): typeof import('danfojs-node') {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return require('danfojs-node') as typeof import('danfojs-node');
}

/**
 * A danfo.js DataFrame from columns (`{ T: [1.5, 2.3], energy: [-1.9, -1.1] }`, typed arrays allowed) or from
 * records (`[{ T: 1.5, energy: -1.9 }, ...]`, columns in first-seen order, a missing key is an empty cell): the
 * `pd.DataFrame(...)` of the Python course. Columns must have equal lengths; cells are numbers, strings or booleans.
 * Keep numbers as numbers (not `toFixed` strings): `table` formats them, and danfo can sort and describe them.
 *
 * @example
 * table(frame({ T: temps, 'E/N': energies, 'C/N': heat }));
 * table(frame(runs.map((r) => ({ model: r.name, loss: r.loss }))).sortValues('loss'));
 */
export function frame(data: FrameColumns | Record<string, FrameCell>[]): DataFrame {
  let columns: Record<string, FrameCell[]>;
  if (Array.isArray(data)) {
    if (data.length === 0) throw new RangeError('frame needs at least one record; got []');
    const keys: string[] = [];
    data.forEach((r, i) => {
      if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new TypeError(`record ${i} must be an object; got ${describeValue(r)}`);
      for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
    });
    columns = Object.fromEntries(keys.map((k) => [k, data.map((r) => r[k])]));
  } else if (data !== null && typeof data === 'object') {
    columns = {};
    for (const [k, col] of Object.entries(data)) {
      if (col === null || typeof col !== 'object' || typeof (col as ArrayLike<FrameCell>).length !== 'number') {
        throw new TypeError(`column ${JSON.stringify(k)} must be an array; got ${describeValue(col)}`);
      }
      columns[k] = Array.from(col);
    }
    const keys = Object.keys(columns);
    if (keys.length === 0) throw new RangeError('frame needs at least one column; got {}');
    const n = columns[keys[0]].length;
    for (const k of keys) {
      if (columns[k].length !== n) throw new RangeError(`column ${JSON.stringify(k)} has ${columns[k].length} values but ${JSON.stringify(keys[0])} has ${n}: columns must have equal lengths`);
    }
  } else {
    throw new TypeError(`frame needs columns (an object of arrays) or records (an array of objects); got ${describeValue(data)}`);
  }
  for (const [k, col] of Object.entries(columns)) {
    const bad = col.findIndex((v) => v !== null && v !== undefined && !['number', 'string', 'boolean'].includes(typeof v));
    if (bad >= 0) throw new TypeError(`column ${JSON.stringify(k)}, row ${bad}: cells must be numbers, strings or booleans; got ${describeValue(col[bad])}`);
    // danfo types a column by its cells: empty cells become NaN in a numeric column, '' in a text one
    if (col.some((v) => v === null || v === undefined)) {
      const text = col.some((v) => typeof v === 'string');
      columns[k] = col.map((v) => (v === null || v === undefined ? (text ? '' : NaN) : v));
    }
  }
  return new (loadDanfo().DataFrame)(columns);
}

/**
 * The DataFrame of a genlab History (`Record<string, number[]>`, what every `fit` returns): one row per epoch, one
 * column per key, `epoch` first and `seconds` last, the metrics in between in their order in the history. Every
 * column must have the same length (genlab pads missing values with NaN).
 *
 * @example
 * const history = await ae.fit(x, { epochs: 5 });
 * table(historyFrame(history));
 */
export function historyFrame(history: Record<string, number[]>): DataFrame {
  if (history === null || typeof history !== 'object' || Array.isArray(history)) {
    throw new TypeError(`history must be an object of equal-length number arrays (a History from fit); got ${describeValue(history)}`);
  }
  const keys = Object.keys(history);
  if (keys.length === 0) throw new RangeError('history must have at least one column; got {}');
  const n = history[keys[0]]?.length;
  for (const k of keys) {
    const col = history[k];
    if (!Array.isArray(col) || col.some((v) => typeof v !== 'number')) throw new TypeError(`history.${k} must be a number[]; got ${describeValue(col)}`);
    if (col.length !== n) throw new RangeError(`history.${k} has ${col.length} values but history.${keys[0]} has ${n}: columns must have equal lengths`);
  }
  const ordered = [...keys.filter((k) => k === 'epoch'), ...keys.filter((k) => k !== 'epoch' && k !== 'seconds'), ...keys.filter((k) => k === 'seconds')];
  const columns: Record<string, number[]> = {};
  for (const k of ordered) columns[k] = [...history[k]];
  return new (loadDanfo().DataFrame)(columns);
}
