// report.md: the tables and headlines of report.html, for a pull request or a wiki.
import type { ReportData } from '../report-data.js';
import { escapeMarkdownCell } from './format.js';
import type { SystemView } from './_html.js';
import { OBJECTIVES } from './plan-rows.js';
import {
  agentStagesTable, boardsTable, sharedMachineNotes, comparisonTable, formatDate, headline, linksTable, measuredTable, modelTable, paretoTable, planTable, verifiedStagesTable,
  resourcesTable, settingsTable, summaryTable,
} from './_sections.js';
import { tableMarkdown } from './_table.js';

function text(s: string): string {
  return escapeMarkdownCell(s);
}

/** The whole Markdown document. */
export function reportMarkdown(data: ReportData, views: readonly SystemView[]): string {
  const out: string[] = [
    `# ${text(data.title)}`,
    '',
    `Generated ${formatDate(data.createdAt)} by ${text(data.tool.name)} ${text(data.tool.version)}. Charts are in report.html; plans.csv and plans.json hold every plan.`,
    '',
  ];
  if (views.length > 1) {
    out.push('## Comparison across systems', '', tableMarkdown(comparisonTable(data)), '');
  }
  views.forEach((view, i) => {
    const { system } = view;
    out.push(`## ${views.length > 1 ? `${i + 1}. ` : ''}${text(system.name)}`, '');
    out.push(`**${text(headline(system, system.objective))}**`, '');
    for (const o of OBJECTIVES.filter((x) => x !== system.objective)) out.push(`- ${text(headline(system, o))}`);
    out.push('', tableMarkdown(summaryTable(system)), '');
    if ((system.caveats ?? []).length > 0) {
      out.push('### Caveats', '', "What these figures rest on, as the command warned while loading the model and joining the boards' profiles:", '', ...system.caveats!.map((w) => `- ${text(w)}`), '');
    }
    out.push('### The system', '', tableMarkdown(settingsTable(system)), '', tableMarkdown(boardsTable(system)), '',
      tableMarkdown(linksTable(system)), '');
    out.push('### The model', '', tableMarkdown(modelTable(system)), '');
    const planEntries = view.entries.filter((e) => e.entry.row.kind !== 'pareto');
    out.push('### Plans side by side', '', tableMarkdown(planTable(system, planEntries)), '');
    out.push('### Memory and links per plan', '', tableMarkdown(resourcesTable(system, planEntries)), '');
    for (const key of Object.keys(system.pareto)) {
      const label = key.split(',').join('/');
      const rows = view.entries.filter((e) => e.entry.row.kind === 'pareto' && e.entry.row.objective === label);
      out.push(`### Pareto front: ${text(key.replace(',', ' vs '))}`, '', tableMarkdown(paretoTable(rows)), '');
    }
    const measured = measuredTable(system);
    out.push('### Measured vs predicted', '', measured === undefined ? 'No runtime measurements of these plans exist yet.' : tableMarkdown(measured), '');
    const onAgents = agentStagesTable(system);
    if (onAgents !== undefined) out.push('#### Stages on the agents, predicted vs measured (dnnpart run)', '', tableMarkdown(onAgents), '');
    const shared = sharedMachineNotes(system);
    if (shared.length > 0) out.push(...shared.map((n) => `- ${text(n)}`), '');
    const stages = verifiedStagesTable(system);
    if (stages !== undefined) out.push('#### Stages, predicted vs measured (dnnpart verify)', '', tableMarkdown(stages), '');
    for (const v of system.verified ?? []) {
      if ((v.notes ?? []).length > 0) out.push(`${text(v.source)} (dnnpart verify) noted:`, '', ...v.notes!.map((n) => `- ${text(n)}`), '');
    }
  });
  return `${out.join('\n')}\n`;
}
