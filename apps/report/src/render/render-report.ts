// The renderer's entry point: ReportData in, report.html, report.md, plans.csv and plans.json out.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReportData, ReportSystem } from '../report-data.js';
import {
  comparisonSpec, cutBytesSpec, layerLatencySpec, measuredSpec, memorySpec, paretoSpec,
} from './_chart-specs.js';
import { renderChartSvg } from './_charts.js';
import { toCsv } from './csv.js';
import { RenderError } from './errors.js';
import { reportHtml, type SystemCharts, type SystemView } from './_html.js';
import { reportMarkdown } from './_markdown.js';
import { PLAN_COLUMNS, plansJson, systemEntries, type PlanRow } from './plan-rows.js';

/** Names of the files renderReport writes, in order. */
export const REPORT_FILES = ['report.html', 'report.md', 'plans.csv', 'plans.json'] as const;

async function systemCharts(system: ReportSystem, n: number): Promise<SystemCharts> {
  const tag = `s${n + 1}`;
  const maybe = async (name: string, spec: ReturnType<typeof memorySpec>) =>
    (spec === undefined ? undefined : renderChartSvg(`${tag}-${name}`, spec));
  const pareto: Record<string, string | undefined> = {};
  for (const key of Object.keys(system.pareto)) {
    pareto[key] = await maybe(`pareto-${key.replace(',', '-')}`, paretoSpec(system, key));
  }
  return {
    layerLatency: system.layers.length > 0 ? await renderChartSvg(`${tag}-layer-latency`, layerLatencySpec(system)) : undefined,
    cutBytes: system.cuts.length > 0 ? await renderChartSvg(`${tag}-cut-bytes`, cutBytesSpec(system)) : undefined,
    pareto,
    memory: await maybe('memory', memorySpec(system)),
    measured: await maybe('measured', measuredSpec(system)),
  };
}

function checkData(data: ReportData): void {
  if (data.systems.length === 0) {
    throw new RenderError('RENDER_NO_SYSTEMS', `report "${data.title}" has no systems; add at least one --system`);
  }
}

/** Everything renderReport writes, as strings (no file access). */
export async function buildReport(data: ReportData): Promise<{ html: string; markdown: string; csv: string; json: string; rows: PlanRow[] }> {
  checkData(data);
  const rows: PlanRow[] = [];
  const views: SystemView[] = [];
  for (const [n, system] of data.systems.entries()) {
    const entries = systemEntries(system).map((entry) => {
      rows.push(entry.row);
      return { entry, index: rows.length - 1 };
    });
    views.push({ system, entries, charts: await systemCharts(system, n) });
  }
  const comparison = data.systems.length > 1 ? await renderChartSvg('comparison', comparisonSpec(data)) : undefined;
  return {
    html: reportHtml(data, views, comparison),
    markdown: reportMarkdown(data, views),
    csv: toCsv(PLAN_COLUMNS, rows),
    json: `${JSON.stringify(plansJson(rows), null, 2)}\n`,
    rows,
  };
}

/** Write report.html, report.md, plans.csv and plans.json into outDir (created if missing); returns their paths. */
export async function renderReport(data: ReportData, outDir: string): Promise<{ files: string[] }> {
  const fail = (e: unknown): never => {
    const why = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
    throw new RenderError('RENDER_OUT_DIR', `cannot write the report into ${outDir} (${why}); choose a writable directory`);
  };
  // Data and directory first, so a bad call fails before the charts are drawn.
  checkData(data);
  await mkdir(outDir, { recursive: true }).catch(fail);
  const built = await buildReport(data);
  const contents: Record<(typeof REPORT_FILES)[number], string> = {
    'report.html': built.html, 'report.md': built.markdown, 'plans.csv': built.csv, 'plans.json': built.json,
  };
  const files: string[] = [];
  for (const name of REPORT_FILES) {
    const path = join(outDir, name);
    await writeFile(path, contents[name], 'utf8').catch(fail);
    files.push(path);
  }
  return { files };
}
