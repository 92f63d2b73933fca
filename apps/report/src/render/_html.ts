// report.html: one self-contained page (inline CSS and SVG, no script, no external resource).
import type { Objective } from '@dnnpart/solver';
import type { ReportData, ReportSystem } from '../report-data.js';
import { escapeHtml, formatFps, formatMs } from './format.js';
import { hasMetrics, layerIndex, OBJECTIVES, type PlanEntry } from './plan-rows.js';
import { pipelineSvg } from './_pipeline-svg.js';
import {
  agentStagesTable, sharedMachineNotes, boardPath, boardsTable, comparisonTable, formatDate, headline, linksTable, measuredTable, modelTable, opsTable, verifiedStagesTable,
  paretoTable, planTable, resourcesTable, settingsTable, summaryTable,
} from './_sections.js';
import { REPORT_CSS } from './_style.js';
import { tableHtml } from './_table.js';

/** Rendered charts of one system, by name; absent when there was nothing to draw. */
export interface SystemCharts {
  readonly layerLatency?: string;
  readonly cutBytes?: string;
  readonly pareto: Readonly<Record<string, string | undefined>>;
  readonly memory?: string;
  readonly measured?: string;
}

/** A system with its rows (and their index in plans.json) and charts, ready to lay out. */
export interface SystemView {
  readonly system: ReportSystem;
  readonly entries: readonly { entry: PlanEntry; index: number }[];
  readonly charts: SystemCharts;
}

function figure(svg: string | undefined, caption: string, cls = 'chart'): string {
  if (svg === undefined) return '';
  return `<figure class="${cls}">${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

function anchor(i: number): string {
  return `system-${i + 1}`;
}

function pipelineSection(view: SystemView): string {
  const { system } = view;
  const plan = system.plans[system.objective];
  const title = `<h3>Chosen partition: the ${escapeHtml(system.objective)} optimum</h3>`;
  if (plan === undefined || !hasMetrics(plan)) {
    const why = plan === undefined ? 'not solved' : `${plan.status}${plan.reason ? `: ${plan.reason}` : ''}`;
    return `${title}<p class="notice">No plan for the system's objective (${escapeHtml(why)}).</p>`;
  }
  const svg = pipelineSvg(plan, layerIndex(system), system.inputBoard, `pipeline of the ${system.objective} optimum`);
  const slow = Math.max(...plan.stages.map((s) => s.computeMs), ...plan.transfers.map((t) => t.ms));
  const caption = `Stages run on ${boardPath(plan)}; arrows are transfers (bytes per frame and time). `
    + `Bars compare each part's time with the slowest, ${formatMs(slow)}, which sets the rate: `
    + `${formatFps(plan.throughputFps)} = 1000 / ${formatMs(slow)}. Latency ${formatMs(plan.latencyMs)} is the sum of all parts.`;
  return `${title}${figure(svg, caption, 'pipeline')}`;
}

function paretoSection(view: SystemView): string {
  const keys = Object.keys(view.system.pareto);
  if (keys.length === 0) return '<h3>Pareto fronts</h3><p class="note">No Pareto fronts were computed.</p>';
  const charts = keys.map((k) => {
    const r = view.system.pareto[k];
    const svg = view.charts.pareto[k];
    // An empty front says why in its table below; a chart is missing only when there is nothing to draw.
    if (svg === undefined) return '';
    return figure(svg, `Every non-dominated plan for ${k.replace(',', ' and ')} (solved in ${formatMs(r?.solveMs)}); the three optima and the baselines for reference.`);
  });
  const tables = keys.map((k) => {
    const label = k.split(',').join('/');
    const rows = view.entries.filter((e) => e.entry.row.kind === 'pareto' && e.entry.row.objective === label);
    return `<div><h4>${escapeHtml(k.replace(',', ' vs '))}</h4>${tableHtml(paretoTable(rows))}</div>`;
  });
  return `<h3>Pareto fronts</h3><div class="charts2">${charts.join('')}</div><div class="cols">${tables.join('')}</div>`;
}

/** What each verify run said about its measurement, under the stages it measured. */
function verifyNotes(system: ReportSystem): string {
  return (system.verified ?? []).filter((v) => (v.notes ?? []).length > 0)
    .map((v) => `<p class="note">${escapeHtml(v.source)} (dnnpart verify) noted:</p><ul class="notes">${v.notes!.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`).join('');
}

function measuredSection(view: SystemView): string {
  const table = measuredTable(view.system);
  if (table === undefined) {
    return '<h3>Measured vs predicted</h3><p class="note">No runtime measurements of these plans exist yet; every figure above is predicted from the per-layer profiles and link descriptions.</p>';
  }
  const onAgents = agentStagesTable(view.system);
  const agentStages = onAgents === undefined ? '' : `<h4>Stages on the agents, predicted vs measured (dnnpart run)</h4>${tableHtml(onAgents)}<p class="note">Compute is each stage's median per frame on its agent; memory alone is the stage in a fresh process on its agent's board, at its peak. Error is predicted / measured − 1.</p>${sharedMachineNotes(view.system).map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('')}`;
  const stages = verifiedStagesTable(view.system);
  const perStage = stages === undefined ? '' : `<h4>Stages, predicted vs measured (dnnpart verify)</h4>${tableHtml(stages)}<p class="note">Error is predicted / measured − 1: positive means the plan overstates the stage's time.</p>${verifyNotes(view.system)}`;
  return `<h3>Measured vs predicted</h3>${tableHtml(table)}${figure(view.charts.measured, 'Predicted figures come from the cost model; measured ones from running the plan on the boards.')}${agentStages}${perStage}`;
}

/** The warnings the figures rest on (ReportSystem.caveats), as a list under the summary. */
function caveatsHtml(system: ReportSystem): string {
  const c = system.caveats ?? [];
  if (c.length === 0) return '';
  return `<h3>Caveats</h3>
<p class="note">What these figures rest on, as the command warned while loading the model and joining the boards' profiles:</p>
<ul class="caveats">${c.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`;
}

function systemSection(view: SystemView, i: number, numbered: boolean): string {
  const { system } = view;
  const chosen = system.plans[system.objective];
  const others = OBJECTIVES.filter((o) => o !== system.objective);
  const planRows = view.entries.filter((e) => e.entry.row.kind !== 'pareto');
  return `<section class="system" id="${anchor(i)}" data-system="${escapeHtml(system.name)}">
<h2>${numbered ? `${i + 1}. ` : ''}${escapeHtml(system.name)}</h2>
<p class="headline${chosen !== undefined && hasMetrics(chosen) ? '' : ' noplan'}">${escapeHtml(headline(system, system.objective))}</p>
<ul class="headlines">${others.map((o: Objective) => `<li>${escapeHtml(headline(system, o))}</li>`).join('')}</ul>
${tableHtml(summaryTable(system))}
${caveatsHtml(system)}
<h3>The system</h3>
<div class="cols"><div>${tableHtml(settingsTable(system))}</div><div>${tableHtml(linksTable(system))}</div></div>
${tableHtml(boardsTable(system))}
<h3>The model</h3>
${tableHtml(modelTable(system))}
${tableHtml(opsTable(system))}
${figure(view.charts.layerLatency, 'Latency of every layer on every board, in execution order; a board without a value cannot run that layer.')}
${figure(view.charts.cutBytes, 'Bytes per frame that a link would carry for a cut after each layer (every tensor still needed later).')}
${pipelineSection(view)}
<h3>Plans side by side</h3>
<p class="note">Optima for each objective, then the baselines. "vs best single board" is the relative change of the row's objective (for baselines, the system's objective, ${escapeHtml(system.objective)}) against the single board that is best on it and fits its memory.</p>
${tableHtml(planTable(system, planRows))}
<h3>Memory and links per plan</h3>
${tableHtml(resourcesTable(system, planRows))}
${paretoSection(view)}
<h3>Memory per board</h3>
${view.charts.memory !== undefined ? figure(view.charts.memory, 'Memory each optimum places on each board (weights and buffers), with the board\'s cap.') : '<p class="note">No plan to show.</p>'}
${measuredSection(view)}
</section>`;
}

function comparisonSection(data: ReportData, chart: string | undefined): string {
  return `<section class="comparison" id="comparison">
<h2>Comparison across systems</h2>
<p class="note">For each system and objective: the best single board, the optimum, and the relative change (more is better for throughput, less for latency and energy).</p>
${tableHtml(comparisonTable(data))}
${figure(chart, 'Improvement of each optimum over the best single board on the same objective; a missing bar means no plan or no single board that fits.')}
</section>`;
}

const DEFINITIONS = `<h2>How to read this report</h2>
<dl class="defs">
<dt>Throughput</dt><dd>Frames per second of the pipeline: 1000 divided by the slowest stage or transfer (each link is a pipeline stage).</dd>
<dt>Latency</dt><dd>Time of one frame through every stage and transfer, in milliseconds.</dd>
<dt>Energy</dt><dd>Energy per frame: the stages' energy plus each transfer's link power times its time (mJ).</dd>
<dt>Baselines</dt><dd>Each board alone; the best split of the layer sequence between two boards; an even split of the MACs over the boards in order.</dd>
<dt>Change vs best single board</dt><dd>(plan − best) / best on the objective's metric, against the single board that is best on that metric and fits its memory cap.</dd>
<dt>Status</dt><dd>optimal: proven by the solver; feasible: a plan without proof (with its gap); timeout and infeasible: no plan, with the reason.</dd>
<dt>Costs</dt><dd>measured: profiled on the board; analytic: from a board description; imported: from published data; estimated: assumed figures.</dd>
</dl>`;

/** The whole page. */
export function reportHtml(data: ReportData, views: readonly SystemView[], comparisonChart: string | undefined): string {
  const multi = views.length > 1;
  const toc = multi
    ? `<nav class="toc"><strong>Contents</strong><ol><li><a href="#comparison">Comparison across systems</a></li>${views.map((v, i) => `<li><a href="#${anchor(i)}">${escapeHtml(v.system.name)}</a></li>`).join('')}</ol></nav>`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(data.title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
<header>
<h1>${escapeHtml(data.title)}</h1>
<p class="meta">Generated ${escapeHtml(formatDate(data.createdAt))} by ${escapeHtml(data.tool.name)} ${escapeHtml(data.tool.version)} · ${views.length} system${multi ? 's' : ''}</p>
${toc}
</header>
${multi ? comparisonSection(data, comparisonChart) : ''}
${views.map((v, i) => systemSection(v, i, multi)).join('\n')}
${DEFINITIONS}
<footer>Self-contained report: no scripts, fonts or images are loaded. Machine-readable plans: plans.csv, plans.json.</footer>
</main>
</body>
</html>
`;
}
