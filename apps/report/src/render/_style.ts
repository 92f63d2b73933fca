// The page's only stylesheet, inlined: system fonts, restrained colours, print rules.

export const REPORT_CSS = `
:root { --ink:#1f2328; --muted:#59636e; --line:#d8dde3; --soft:#f4f6f9; --accent:#3b6ea8; --bad:#a8434e; --good:#2f7a58; --warn:#8a5a00; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 32px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 21px; margin: 44px 0 10px; padding-bottom: 5px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 28px 0 8px; }
p { margin: 6px 0 10px; max-width: 78ch; }
.meta { color: var(--muted); margin: 0 0 18px; }
.headline { font-size: 17px; font-weight: 600; margin: 10px 0 6px; padding: 10px 14px; background: var(--soft);
  border-left: 4px solid var(--accent); max-width: none; }
.headline.noplan { border-left-color: var(--bad); }
ul.headlines { margin: 4px 0 14px; padding-left: 20px; color: #333; }
ul.caveats { margin: 4px 0 14px; padding-left: 20px; font-size: 13px; color: #6b4e00; }
nav.toc { margin: 8px 0 0; padding: 8px 14px; background: var(--soft); border-radius: 4px; }
nav.toc ol { margin: 4px 0; padding-left: 22px; columns: 2; }
a { color: var(--accent); }
.tablewrap { overflow-x: auto; margin: 6px 0 14px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 13px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: #f7f8fa; border-bottom: 2px solid #aab3bd; font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.path { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; color: #444; word-break: break-all; }
td.stages { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; white-space: nowrap; }
td.mem, td.links, td.over { font-size: 12px; color: #333; white-space: nowrap; }
td.over { color: #333; }
.over-mark { color: var(--bad); font-weight: 600; }
td.objective { font-weight: 700; }
td.nowrap { white-space: nowrap; }
td.better { color: var(--good); font-weight: 600; }
td.worse { color: var(--bad); }
td.reason { color: var(--bad); font-style: italic; white-space: normal; }
tr.reason-row td { padding-top: 0; font-size: 12px; }
tr.has-reason td { border-bottom: none; }
tr.chosen td { background: #eef3f9; }
tr.chosen td.planname::after { content: " ◆ chosen"; color: var(--accent); font-size: 11px; font-weight: 600; }
tr.kind-baseline td.planname { color: #444; }
tr.kind-optimum + tr.kind-baseline td { border-top: 2px solid #aab3bd; }
td.status { font-size: 12px; white-space: nowrap; }
td.status-optimal { color: var(--good); }
td.status-feasible { color: var(--warn); }
td.status-timeout, td.status-infeasible { color: var(--bad); font-weight: 600; }
td.source-measured { color: var(--good); }
td.source-estimated, td.source-unavailable, td.source-unknown { color: var(--warn); font-style: italic; }
table.settings td:first-child { color: var(--muted); }
.cols { display: flex; flex-wrap: wrap; gap: 8px 36px; align-items: flex-start; }
figure { margin: 10px 0 18px; }
figure.chart svg, figure.pipeline svg { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; max-width: 90ch; }
.note { color: var(--muted); font-size: 13px; }
.notice { color: var(--bad); }
.charts2 { display: flex; flex-wrap: wrap; gap: 8px 28px; align-items: flex-start; }
.charts2 figure { flex: 0 1 540px; }
dl.defs { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; font-size: 13px; }
dl.defs dt { font-weight: 600; }
dl.defs dd { margin: 0; color: #333; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 8px; }
@media (max-width: 1200px) { main { padding: 20px; } td.gain, thead th, thead th.num { white-space: normal; } th, td { padding: 4px 7px; } }
@media (max-width: 760px) { main { padding: 16px; } nav.toc ol { columns: 1; } }
@media print {
  /* Landscape: the plan tables have nine columns of figures. */
  @page { size: A4 landscape; margin: 11mm 12mm; }
  body { font-size: 9.5pt; }
  main { max-width: none; padding: 0; }
  h2 { margin-top: 0; }
  section.system { break-before: page; }
  section.system:first-of-type { break-before: auto; }
  nav.toc { display: none; }
  .tablewrap { overflow: visible; }
  table { font-size: 8pt; }
  td.stages, td.mem, td.links, td.over, td.path { font-size: 7.5pt; }
  th, td { padding: 2px 5px; }
  thead th, thead th.num { white-space: normal; }
  td.status, td.reason, tr.reason-row td { font-size: 7.5pt; }
  table.plans td, table.plans th, table.comparison td, table.comparison th { font-size: 7.5pt; }
  td.stages, td.mem, td.links, td.gain { white-space: normal; }
  table.plans td.stages { font-size: 7pt; }
  .charts2 figure { flex-basis: 48%; }
  figure, table, .headline, tr { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  tr.chosen td { background: #eef3f9 !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;
