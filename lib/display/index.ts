/**
 * Display for notebooks: figures, image grids, tables, progress bars, and the environment table. The pieces the
 * display functions are built from (progress-line formatters, cell formatting, the plotly-loader reset for tests)
 * stay internal to this folder.
 */
export * from './environment';
export { frame, historyFrame } from './frames';
export type { FrameCell, FrameColumns } from './frames';
export { createProgress } from './progress';
export type { EpochMetrics, ProgressReporter, ProgressStream, ProgressOptions, CurvePoint, ProgressSnapshot } from './progress';
export {
  lineFigure,
  scatterFigure,
  histogramCounts,
  histogramFigure,
  heatmapFigure,
  overlayFigures,
  subplots,
  plotlySource,
  plotlyLoaderHtml,
  figureHtml,
  figurePage,
  saveFigure,
  figureText,
  figureBundle,
  PLOTLY_MIME_TYPE,
  show,
  inNotebook,
} from './plot';
export type {
  PlotlyAxis,
  PlotlyLayout,
  PlotlyTrace,
  Figure,
  Numeric,
  FigureOptions,
  LineSeries,
  LineFigureOptions,
  Points,
  ScatterFigureOptions,
  HistogramCounts,
  HistogramCountsOptions,
  HistogramFigureOptions,
  HeatmapFigureOptions,
  ColorbarPosition,
  SubplotOptions,
  FigureHtmlOptions,
  ShowOptions,
} from './plot';
export * from './images';
export { check, expectOutcome, STRICT_OUTCOMES_ENV } from './checks';
export { tableHtml, tableText, table } from './table';
export type { DataFrameLike, TableData, TableOptions } from './table';
export { LiveOutput, displayBundle } from './notebook'; // live, in-place outputs (e.g. samples as a model trains)
