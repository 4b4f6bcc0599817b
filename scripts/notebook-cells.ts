/**
 * Reading and writing Jupyter notebooks (.ipynb, nbformat 4): the one reader the scripts and the tests share
 * (scripts/notebook-stats.ts, test/notebook*.test.ts, test/slides.test.ts, test/export.test.ts, ...), so the cell
 * shape and the joining of `source` line lists are written once.
 */
import * as fs from 'node:fs';

/** What genlab reads of a cell's metadata: slide type, tags, JupyterLab's collapsed source. */
export interface CellMetadata {
  /** reveal.js slide type: 'slide', 'subslide', 'fragment', 'skip', 'notes' or '-'. */
  slideshow?: { slide_type?: string };
  /** Cell tags, e.g. 'solution', 'raises-exception'. */
  tags?: string[];
  /** JupyterLab's view state; `source_hidden` collapses the input. */
  jupyter?: { source_hidden?: boolean };
}

/** One output of an executed code cell (`stream`, `display_data`, `execute_result`, `error`). */
export interface CellOutput {
  output_type: string;
  /** Stream name ('stdout', 'stderr') of a stream output. */
  name?: string;
  /** Text of a stream output; nbformat may store it as a list of lines. */
  text?: string | string[];
  /** Rich outputs by MIME type; string values may be stored as lists of lines. */
  data?: Record<string, unknown>;
}

/** One cell of a notebook. */
export interface NotebookCell {
  /** 'code', 'markdown' or 'raw'. */
  cell_type: string;
  /** The cell's text; nbformat may store it as a list of lines (each with its newline). */
  source: string | string[];
  metadata: CellMetadata;
  /** Outputs of a code cell (empty in a committed notebook). */
  outputs?: CellOutput[];
  /** Execution count of a code cell (null in a committed notebook). */
  execution_count?: number | null;
}

/** A notebook: its cells and the kernel it names. */
export interface Notebook {
  cells: NotebookCell[];
  metadata: { kernelspec?: { name?: string; display_name?: string; language?: string } };
}

/** The text of a cell (or of an output's `text`), whether nbformat stored it as one string or as a list of lines. */
export function cellSource(cell: { source: string | string[] }): string {
  return joinLines(cell.source);
}

/** A string or nbformat's list of lines as one string (`undefined` as ''). */
export function joinLines(text: string | string[] | undefined): string {
  return Array.isArray(text) ? text.join('') : text ?? '';
}

/**
 * Parses a notebook's JSON text.
 * @param json The file's contents.
 * @param what Names the notebook in the error (e.g. its path).
 * @throws when the text is not JSON or has no `cells` array.
 */
export function parseNotebook(json: string, what = 'notebook'): Notebook {
  let nb: unknown;
  try {
    nb = JSON.parse(json);
  } catch (e) {
    throw new SyntaxError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
  if (nb === null || typeof nb !== 'object' || !Array.isArray((nb as Notebook).cells)) {
    throw new TypeError(`${what} is not a notebook: no "cells" array`);
  }
  const out = nb as Notebook;
  out.metadata ??= {};
  for (const c of out.cells) c.metadata ??= {};
  return out;
}

/** Reads and parses a .ipynb file ({@link parseNotebook}). */
export function readNotebook(file: string): Notebook {
  return parseNotebook(fs.readFileSync(file, 'utf8'), file);
}

/**
 * A new notebook for the tslab kernel (nbformat 4.5) with these code cells, unexecuted (each with an id `c<i>`),
 * after an optional first markdown cell: what tests write to run through Jupyter.
 */
export function tslabNotebook(code: (string | { source: string; tags: string[] })[], opts: { title?: string } = {}): object {
  return {
    cells: [
      ...(opts.title === undefined ? [] : [{ cell_type: 'markdown', id: 'intro', metadata: {}, source: opts.title }]),
      ...code.map((c, i) => ({
        cell_type: 'code',
        id: `c${i}`,
        execution_count: null,
        metadata: typeof c === 'string' ? {} : { tags: c.tags },
        outputs: [],
        source: typeof c === 'string' ? c : c.source,
      })),
    ],
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}
