// The report renderers: ReportData to HTML, Markdown, CSV and JSON.
export { renderReport, buildReport, REPORT_FILES } from './render-report.js';
export { RenderError, type RenderCode } from './errors.js';
export {
  planRows, systemRows, PLAN_COLUMNS, PLANS_SCHEMA, bestSingleBoard, relativeChange, stagesLabel, type PlanRow, type RowKind,
} from './plan-rows.js';
export { csvField, toCsv, parseCsv } from './csv.js';
export {
  formatBytes, formatCount, formatFps, formatMj, formatMs, formatNumber, formatPercent, formatRate, parseFormatted,
  escapeHtml,
} from './format.js';
export { headline } from './_sections.js';
