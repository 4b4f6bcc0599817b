/**
 * Training histories as danfo.js DataFrames, the way the Python course shows Keras' `history.history` with
 * `pd.DataFrame(history.history)`: one call, then `table(frame)` renders it (or any danfo method applies:
 * `frame.describe()`, `frame.tail()`, ...).
 *
 * danfojs-node is loaded on first use only (it takes about two seconds), so importing genlab stays fast.
 */
import type { DataFrame } from 'danfojs-node';
import { describeValue } from '../core/validate';

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
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const dfd = require('danfojs-node') as typeof import('danfojs-node');
  return new dfd.DataFrame(columns);
}
