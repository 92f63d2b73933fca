// The report's text and tables, built from ReportData alone (pure); html.ts and markdown.ts
// lay them out, so both files say the same thing.
import type { Objective, Plan, PlanMetrics } from '@dnnpart/solver';
import type { ReportData, ReportSystem, SystemFidelity } from '../report-data.js';
import {
  formatBytes, formatCount, formatFps, formatMj, formatMs, formatNumber, formatPercent, formatRate,
} from './format.js';
import {
  bestSingleBoard, hasMetrics, metricOf, OBJECTIVES, relativeChange, type PlanEntry, type PlanRow,
} from './plan-rows.js';
import { cell, type Cell, type Row, type Table } from './_table.js';

const FORMAT: Readonly<Record<Objective, (x: number | null | undefined) => string>> = {
  throughput: formatFps, latency: formatMs, energy: formatMj,
};

const BEST_WORD: Readonly<Record<Objective, string>> = {
  throughput: 'Best throughput', latency: 'Lowest latency', energy: 'Lowest energy',
};

/** "a → b → c": the boards of a plan in pipeline order. */
export function boardPath(m: PlanMetrics): string {
  return m.stages.map((s) => s.board).join(' → ');
}

/** A plan's value on an objective, formatted: "4.82 FPS". */
export function formatMetric(m: Partial<PlanMetrics>, o: Objective): string {
  return FORMAT[o](metricOf(m, o));
}

/** "+47.7 % throughput" or "−12.0 % latency". */
export function gainPhrase(change: number | null, o: Objective): string {
  return change === null ? '—' : `${formatPercent(change)} ${o}`;
}

/**
 * One sentence per objective: "Best throughput: 4.82 FPS on a → b, +47.7 % over the best
 * single board (b, 3.26 FPS)", or why there is no plan.
 */
export function headline(system: ReportSystem, o: Objective): string {
  const plan = system.plans[o];
  if (plan === undefined) return `${BEST_WORD[o]}: not solved.`;
  if (!hasMetrics(plan)) return `${BEST_WORD[o]}: no plan (${plan.status}${plan.reason ? `: ${plan.reason}` : ''}).`;
  const best = bestSingleBoard(system, o);
  const head = `${BEST_WORD[o]}: ${formatMetric(plan, o)} on ${boardPath(plan)}`;
  const gap = plan.gap !== undefined && Number.isFinite(plan.gap) ? `, gap ${formatPercent(plan.gap).replace('+', '')}` : '';
  const how = plan.method !== undefined && plan.method !== 'exact' ? `, by ${plan.method}` : '';
  const proven = plan.status === 'optimal' ? '' : ` (${plan.status}${gap}${how})`;
  if (best === undefined) return `${head}${proven}; no single board can run the whole model.`;
  const change = relativeChange(metricOf(plan, o), metricOf(best, o));
  const single = best.stages[0]?.board ?? best.name;
  const sameAsSingle = plan.stages.length === 1 && plan.stages[0]?.board === single;
  if (sameAsSingle) return `${head}${proven}: the best single board is already optimal.`;
  return `${head}${proven}, ${formatPercent(change)} ${o === 'throughput' ? 'over' : 'against'} the best single board (${single}, ${formatMetric(best, o)}).`;
}

/** Optimum per objective against the best single board on that objective. */
export function summaryTable(system: ReportSystem): Table {
  const fid = system.fidelity;
  const fidCells = (o: Objective): Cell[] => (fid ? [fidelityCell(fid, o)] : []);
  return {
    cls: 'summary',
    columns: [
      { label: 'Objective' }, { label: 'Optimum', num: true }, { label: 'Boards' }, { label: 'Status' },
      { label: 'Best single board', num: true }, { label: 'Change', num: true }, { label: 'Solved in', num: true },
      ...(fid ? [{ label: 'Fidelity', title: 'Measured by running the plan against the full-precision model on seeded inputs: cosine similarity of the outputs, top-1 agreement, transfer encoding' }] : []),
    ],
    rows: OBJECTIVES.map((o): Row => {
      const p = system.plans[o];
      const best = bestSingleBoard(system, o);
      const chosen = o === system.objective;
      const objCell = cell(chosen ? `${o} (chosen)` : o);
      if (p === undefined || !hasMetrics(p)) {
        return {
          cls: 'noplan',
          cells: [objCell, cell('—', { num: true }), cell(p?.reason ?? 'not solved'), statusCell(p?.status ?? 'not solved'),
            cell(best ? `${formatMetric(best, o)} (${best.stages[0]?.board ?? ''})` : '—', { num: true }), cell('—', { num: true }),
            solvedCell(p), ...fidCells(o)],
        };
      }
      const change = best === undefined ? null : relativeChange(metricOf(p, o), metricOf(best, o));
      return {
        cls: chosen ? 'chosen' : undefined,
        cells: [
          objCell, cell(formatMetric(p, o), { num: true }), cell(boardPath(p)), statusCell(p.status),
          cell(best ? `${formatMetric(best, o)} (${best.stages[0]?.board ?? ''})` : 'none fits', { num: true }),
          cell(formatPercent(change), { num: true, cls: goodness(change, o) }),
          solvedCell(p),
          ...fidCells(o),
        ],
      };
    }),
  };
}

/** A plan's measured fidelity: "cosine 0.999912, top-1 100.0 %, int8 transfers", marked when it misses the constraint. */
function fidelityCell(fid: SystemFidelity, o: Objective): Cell {
  const f = fid.byObjective[o];
  if (!f) return cell('not measured');
  const stages = f.precisions.some((x) => x !== 'fp32') ? `, stages ${f.precisions.join(' > ')}` : '';
  const lines = [`cosine ${f.cosine.toFixed(6)}${f.top1Agreement !== undefined ? `, top-1 ${(f.top1Agreement * 100).toFixed(1)} %` : ''}, ${f.transfer} transfers${stages}`];
  if (f.meets === false) lines.push('misses the fidelity constraint');
  if (fid.transfer !== fid.requested) lines.push(`(${fid.requested} transfers missed the constraint)`);
  return cell(lines.join('\n'), { col: 'fidelity', value: f.cosine, ...(f.meets === false ? { cls: 'worse' } : {}), title: `${f.samples} samples, SQNR ${Number.isFinite(f.sqnrDb) ? `${f.sqnrDb.toFixed(1)} dB` : 'exact'}` });
}

/** Solve time and engine, with the size of the ILP on hover. */
function solvedCell(p: Plan | undefined): Cell {
  if (p === undefined) return cell('—', { num: true });
  const r = p.reduction;
  const size = r === undefined ? undefined
    : r.coarseNodes !== undefined
      ? `${r.nodes} nodes, ${r.boards} boards; more than ${r.cutSetBudget ?? r.cutSets - 1} cut sets: coarsened to ${r.coarseNodes} clusters (${r.coarseCutSets} cut sets)${p.method ? `, plan by ${p.method}` : ''}`
      : `${r.nodes} nodes, ${r.boards} boards; ${r.cutCandidates} of ${r.cutSets} cut sets kept; ILP ${r.columns} columns (${r.binaries} binary), ${r.rows} rows`;
  return cell(`${formatMs(p.solveMs)}${p.engine ? ` (${p.engine})` : ''}`, { num: true, ...(size ? { title: size } : {}) });
}

function goodness(change: number | null, o: Objective): string {
  if (change === null || Math.abs(change) < 0.0005) return '';
  const better = o === 'throughput' ? change > 0 : change < 0;
  return better ? 'better' : 'worse';
}

function statusCell(status: string): Cell {
  return cell(status, { cls: `status status-${status.replace(/[^a-z-]/g, '')}`, col: 'status', value: status });
}

/** Boards with where their costs came from. */
export function boardsTable(system: ReportSystem): Table {
  return {
    columns: [
      { label: 'Board' }, { label: 'Costs' }, { label: 'Power' }, { label: 'Profiled' },
      { label: 'Memory cap', num: true }, { label: 'Source file' }, { label: 'Description' },
    ],
    rows: system.boards.map((b) => ({
      cells: [
        cell(b.id + (b.id === system.inputBoard ? '\n(input)' : '')),
        cell(b.source, { cls: `source-${b.source}` }),
        cell(b.powerSource ?? 'unknown', { cls: `source-${b.powerSource ?? 'unknown'}` }),
        cell(b.createdAt ? formatDate(b.createdAt) : 'unknown'),
        cell(b.memoryBytes === null ? 'none' : formatBytes(b.memoryBytes), { num: true }),
        cell(b.file ?? '—', { cls: 'path' }),
        cell(b.description ?? ''),
      ],
    })),
  };
}

/** "2026-11-20 09:14 UTC" from an ISO time; the input unchanged when it does not parse. */
export function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Directed links between boards. */
export function linksTable(system: ReportSystem): Table {
  return {
    columns: [
      { label: 'Link' }, { label: 'Bandwidth', num: true }, { label: 'Latency', num: true },
      { label: 'Power', num: true }, { label: 'Framing' },
    ],
    rows: system.links.map((l) => ({
      cells: [
        cell(`${l.from} → ${l.to}`), cell(formatRate(l.bandwidthBytesPerSec), { num: true }),
        cell(formatMs(l.latencyMs), { num: true }), cell(`${formatNumber(l.powerW)} W`, { num: true }),
        cell(l.framing ?? 'none'),
      ],
    })),
  };
}

/** Objective, input board, board order and constraints. */
export function settingsTable(system: ReportSystem): Table {
  const c = system.constraints;
  const constraints = [
    c.maxLatencyMs !== undefined ? `latency ≤ ${formatMs(c.maxLatencyMs)}` : '',
    c.maxEnergyMj !== undefined ? `energy ≤ ${formatMj(c.maxEnergyMj)}` : '',
    c.minThroughputFps !== undefined ? `throughput ≥ ${formatFps(c.minThroughputFps)}` : '',
  ].filter((x) => x !== '');
  return {
    cls: 'settings',
    columns: [{ label: 'Setting' }, { label: 'Value' }],
    rows: [
      { cells: [cell('Objective'), cell(system.objective)] },
      { cells: [cell('Input board'), cell(system.inputBoard)] },
      { cells: [cell('Board order'), cell(system.boardOrder === 'fixed' ? 'fixed (boards in the order listed)' : 'free (any order)')] },
      { cells: [cell('Constraints'), cell(constraints.length > 0 ? constraints.join('\n') : 'none')] },
    ],
  };
}

/** The model: name, layers, parameters, MACs. */
export function modelTable(system: ReportSystem): Table {
  const m = system.model;
  return {
    cls: 'model',
    columns: [{ label: 'Model' }, { label: 'Layers', num: true }, { label: 'Parameters', num: true }, { label: 'MACs', num: true }, { label: 'File' }],
    rows: [{
      // Imported problems carry no weights: 0 parameters means unknown, not none.
      cells: [cell(m.name), cell(String(m.layers), { num: true }), cell(m.params > 0 ? formatCount(m.params) : 'unknown', { num: true }),
        cell(formatCount(m.macs), { num: true }), cell(m.file ?? '—', { cls: 'path' })],
    }],
  };
}

/** Layers grouped by operator: count, MACs and share of the model's MACs, latency per board. */
export function opsTable(system: ReportSystem): Table {
  const groups = new Map<string, { count: number; macs: number; ms: Map<string, number> }>();
  for (const l of system.layers) {
    const g = groups.get(l.op) ?? { count: 0, macs: 0, ms: new Map<string, number>() };
    g.count += 1;
    g.macs += l.macs;
    for (const [b, v] of Object.entries(l.latencyMs)) g.ms.set(b, (g.ms.get(b) ?? 0) + v);
    groups.set(l.op, g);
  }
  const total = system.layers.reduce((a, l) => a + l.macs, 0);
  const sorted = [...groups.entries()].sort((a, b) => b[1].macs - a[1].macs || b[1].count - a[1].count);
  return {
    columns: [
      { label: 'Operator' }, { label: 'Layers', num: true }, { label: 'MACs', num: true }, { label: 'Share', num: true },
      ...system.boards.map((b) => ({ label: `${b.id} (ms)`, num: true })),
    ],
    rows: sorted.map(([op, g]) => ({
      cells: [
        cell(op === '' ? '(operator not given)' : op), cell(String(g.count), { num: true }), cell(formatCount(g.macs), { num: true }),
        cell(total > 0 ? `${((100 * g.macs) / total).toFixed(1)} %` : '—', { num: true }),
        ...system.boards.map((b) => cell(g.ms.has(b.id) ? formatNumber(g.ms.get(b.id)) : 'n/a', { num: true })),
      ],
    })),
  };
}

function memoryLines(m: PlanMetrics, system: ReportSystem): { text: string; over: boolean } {
  let over = false;
  const lines = m.stages.map((s) => {
    const cap = system.boards.find((b) => b.id === s.board)?.memoryBytes ?? null;
    if (cap !== null && s.memoryBytes > cap) over = true;
    const share = cap === null ? '' : ` of ${formatBytes(cap)}${s.memoryBytes > cap ? ' (over its cap)' : ''}`;
    return `${s.board}: ${formatBytes(s.memoryBytes)}${share}`;
  });
  return { text: lines.join('\n'), over };
}

function linkLines(m: PlanMetrics): string {
  if (m.transfers.length === 0) return 'none';
  // Busy share: the fraction of each frame period the link spends sending.
  return m.transfers.map((t) => {
    const busy = (t.ms * m.throughputFps) / 1000;
    return `${t.from} → ${t.to}: ${formatBytes(t.bytes)}, ${formatMs(t.ms)} (${(busy * 100).toFixed(0)} % busy)`;
  }).join('\n');
}

const KIND_LABEL: Readonly<Record<string, string>> = {
  'single-board': 'single board', 'best-single-split': 'best single split', 'even-split-macs': 'even split by MACs',
};

function planLabel(row: PlanRow): string {
  if (row.kind === 'optimum') return `Optimum: ${row.objective}`;
  if (row.kind === 'pareto') return row.name;
  const [kind, rest] = row.name.split(':');
  if (kind === 'single') return `Single board: ${rest ?? ''}`;
  if (kind === 'split') return `Best split: ${(rest ?? '').replace('->', ' → ')}`;
  if (kind === 'even-macs') return 'Even split by MACs';
  return row.name;
}

/**
 * The plans side by side (optima, then baselines). Each row carries data-row (its index in
 * plans.json) and each figure data-col/data-value, so a reader can check the page against the file.
 * A plan without a result, or over a memory cap, gets its reason on a row of its own below.
 */
export function planTable(system: ReportSystem, entries: readonly { entry: PlanEntry; index: number }[]): Table {
  const chosenName = `optimum:${system.objective}`;
  const columns = [
    { label: 'Plan' }, { label: 'Status' }, { label: 'Throughput', num: true }, { label: 'Latency', num: true },
    { label: 'Energy', num: true },
    { label: 'vs best single board', num: true, title: 'relative change of the row\'s objective against the single board best on it' },
    { label: 'Stages (layer indices)' }, { label: 'Bottleneck' }, { label: 'Solve', num: true },
  ];
  const rows: Row[] = [];
  for (const { entry, index } of entries) {
    const { row, metrics } = entry;
    const obj = (row.kind === 'optimum' ? row.objective : system.objective) as Objective;
    const cls = [row.name === chosenName ? 'chosen' : '', `kind-${row.kind}`, metrics === undefined ? 'noplan' : '',
      row.status === 'infeasible' ? 'infeasible' : '', row.reason !== '' ? 'has-reason' : ''].filter((x) => x !== '').join(' ');
    const attrs = { 'data-row': index, 'data-name': row.name };
    const gain = row.gainOverBestSingleBoard;
    rows.push({
      cls, attrs,
      cells: [
        cell(planLabel(row), { col: 'name', value: row.name, cls: 'planname' }),
        statusCell(row.status),
        cell(formatFps(row.throughputFps), { num: true, col: 'throughputFps', value: row.throughputFps, cls: emph(obj, 'throughput', row) }),
        cell(formatMs(row.latencyMs), { num: true, col: 'latencyMs', value: row.latencyMs, cls: emph(obj, 'latency', row) }),
        cell(formatMj(row.energyMj), { num: true, col: 'energyMj', value: row.energyMj, cls: emph(obj, 'energy', row) }),
        cell(gain === null ? '—' : gainPhrase(gain, obj), { num: true, col: 'gainOverBestSingleBoard', value: gain, cls: `gain ${goodness(gain, obj)}`.trim() }),
        cell(metrics === undefined ? '—' : row.stages.replace(/ > /g, ' >\n'), { col: 'stages', value: row.stages, cls: 'stages' }),
        cell(metrics === undefined ? '—' : row.bottleneck.replace('->', ' → '), { col: 'bottleneck', value: row.bottleneck, cls: 'nowrap' }),
        cell(row.solveMs === null ? '—' : formatMs(row.solveMs), { num: true, col: 'solveMs', value: row.solveMs }),
      ],
    });
    if (row.reason !== '') {
      const gapText = entry.gap !== undefined && Number.isFinite(entry.gap) ? `, gap ${formatPercent(entry.gap).replace('+', '')}` : '';
      const prefix = metrics === undefined ? `No plan (${row.status})`
        : row.kind === 'baseline' ? 'Not a feasible plan' : `Not proven optimal (${row.status}${gapText})`;
      rows.push({
        cls: 'reason-row', attrs: { 'data-reason-for': index },
        cells: [cell(''), cell(`${prefix}: ${row.reason}`, { span: columns.length - 1, cls: 'reason', col: 'reason', value: row.reason })],
      });
    }
  }
  return { cls: 'plans', attrs: { 'data-system': system.name }, columns, rows };
}

/** Memory per board against its cap and the load on each link, for every plan with a result. */
export function resourcesTable(system: ReportSystem, entries: readonly { entry: PlanEntry; index: number }[]): Table {
  return {
    cls: 'resources',
    columns: [{ label: 'Plan' }, { label: 'Memory per board (of its cap)' }, { label: 'Link load per frame (share of the frame period the link is busy)' }],
    rows: entries.filter((e) => e.entry.metrics !== undefined).map(({ entry, index }) => {
      const m = entry.metrics as PlanMetrics;
      const mem = memoryLines(m, system);
      return {
        attrs: { 'data-resources-for': index },
        cells: [cell(planLabel(entry.row), { cls: 'planname' }), cell(mem.text, { cls: mem.over ? 'over' : 'mem' }), cell(linkLines(m), { cls: 'links' })],
      };
    }),
  };
}

function emph(rowObjective: Objective, column: Objective, row: PlanRow): string {
  return row.kind === 'optimum' && rowObjective === column ? 'objective' : '';
}

/** The points of one Pareto front. */
export function paretoTable(entries: readonly { entry: PlanEntry; index: number }[]): Table {
  return {
    cls: 'pareto',
    columns: [
      { label: '#', num: true }, { label: 'Throughput', num: true }, { label: 'Latency', num: true },
      { label: 'Energy', num: true }, { label: 'Stages (layer indices)' }, { label: 'Bottleneck' },
    ],
    rows: entries.map(({ entry, index }, i) => {
      const r = entry.row;
      if (entry.metrics === undefined) {
        return {
          cls: 'noplan', attrs: { 'data-row': index, 'data-name': r.name },
          cells: [cell('—', { num: true }), cell(`No front (${r.status}): ${r.reason}`, { span: 5, cls: 'reason', col: 'reason', value: r.reason })],
        };
      }
      return {
        attrs: { 'data-row': index, 'data-name': r.name },
        cells: [
          cell(String(i + 1), { num: true }),
          cell(formatFps(r.throughputFps), { num: true, col: 'throughputFps', value: r.throughputFps }),
          cell(formatMs(r.latencyMs), { num: true, col: 'latencyMs', value: r.latencyMs }),
          cell(formatMj(r.energyMj), { num: true, col: 'energyMj', value: r.energyMj }),
          cell(r.stages, { col: 'stages', value: r.stages, cls: 'stages' }),
          cell(r.bottleneck.replace('->', ' → '), { col: 'bottleneck', value: r.bottleneck, cls: 'nowrap' }),
        ],
      };
    }),
  };
}

/** Measured against predicted figures, with the prediction error. */
export function measuredTable(system: ReportSystem): Table | undefined {
  const runs = system.measured ?? [];
  if (runs.length === 0) return undefined;
  const err = (meas: number | undefined, pred: number | undefined) => formatPercent(relativeChange(meas, pred) ?? undefined);
  // Repeated runs (verify --repeat): how far apart they lay, the measurement's own spread.
  const ranged = runs.some((r) => r.measuredFpsRange !== undefined);
  return {
    columns: [
      { label: 'Plan' }, { label: 'Predicted', num: true }, { label: 'Measured', num: true }, ...(ranged ? [{ label: 'Runs (slowest–fastest)', num: true }] : []), { label: 'Error', num: true },
      { label: 'Predicted latency', num: true }, { label: 'Measured latency', num: true }, { label: 'Error', num: true },
    ],
    rows: runs.map((r) => ({
      cells: [
        cell(r.plan), cell(formatFps(r.predictedFps), { num: true }), cell(formatFps(r.measuredFps), { num: true }),
        ...(ranged ? [cell(r.measuredFpsRange ? `${formatFps(r.measuredFpsRange[0])}–${formatFps(r.measuredFpsRange[1])}` : '—', { num: true })] : []),
        cell(err(r.measuredFps, r.predictedFps), { num: true }),
        cell(formatMs(r.predictedLatencyMs), { num: true }), cell(formatMs(r.measuredLatencyMs), { num: true }),
        cell(err(r.measuredLatencyMs, r.predictedLatencyMs), { num: true }),
      ],
    })),
  };
}

/** Each stage of the runs on the agents: its compute and its memory there against the plan's. */
export function agentStagesTable(system: ReportSystem): Table | undefined {
  const runs = (system.measured ?? []).filter((r) => r.stages !== undefined && r.stages.length > 0);
  if (runs.length === 0) return undefined;
  const err = (meas: number | undefined, pred: number | null) => (meas === undefined ? '—' : formatPercent(relativeChange(pred ?? undefined, meas) ?? undefined));
  // An agent that could not measure a stage alone still says what it held while frames streamed.
  const memory = runs.some((r) => r.stages!.some((st) => st.peakMemoryBytes !== undefined || st.aloneMemoryBytes !== undefined));
  return {
    columns: [
      { label: 'Run' }, { label: 'Stage', num: true }, { label: 'Agent' },
      { label: 'Compute: predicted', num: true }, { label: 'Measured (median)', num: true }, { label: 'Error', num: true },
      ...(memory ? [
        { label: 'Memory: plan', num: true }, { label: 'On the agent while streaming', num: true }, { label: 'Error', num: true },
        { label: 'Plan without frames in flight', num: true }, { label: 'Alone on the board', num: true }, { label: 'Error', num: true },
      ] : []),
    ],
    rows: runs.flatMap((r) => r.stages!.map((st) => ({
      cells: [
        cell(r.plan), cell(String(st.index), { num: true }), cell(st.agent),
        cell(formatMs(st.predictedMs ?? undefined), { num: true }), cell(formatMs(st.measuredMs), { num: true }), cell(err(st.measuredMs, st.predictedMs), { num: true }),
        ...(memory ? (() => {
          // The plan's figure holds the frames in flight, as the agent does while frames stream; alone, a stage holds none.
          const withoutFrames = st.predictedMemoryBytes === null ? null : st.predictedMemoryBytes - (st.predictedFramesBytes ?? 0);
          return [
            cell(formatBytes(st.predictedMemoryBytes), { num: true }), cell(formatBytes(st.peakMemoryBytes), { num: true }),
            cell(err(st.peakMemoryBytes, st.predictedMemoryBytes), { num: true }),
            cell(formatBytes(withoutFrames), { num: true }), cell(formatBytes(st.aloneMemoryBytes), { num: true }),
            cell(err(st.aloneMemoryBytes, withoutFrames), { num: true }),
          ];
        })() : []),
      ],
    }))),
  };
}

/** Runs on the agents whose agents shared a machine, one line each: those stages' times are that machine's. */
export function sharedMachineNotes(system: ReportSystem): string[] {
  return (system.measured ?? []).flatMap((r) => (r.sharedMachines ?? []).map((m) =>
    `${r.plan}: agents ${m.agents.join(', ')} ran on one machine (${m.host === 'loopback' ? 'the coordinator\'s' : m.host}, ${m.cores} cores) and shared its cores, which a plan of one board per stage does not price; their measured times and the throughput are that machine's`));
}

/** Each stage of the verified plans: predicted time against the median measured by `dnnpart verify`. */
export function verifiedStagesTable(system: ReportSystem): Table | undefined {
  const runs = system.verified ?? [];
  if (runs.length === 0) return undefined;
  const err = (meas: number, pred: number | null) => formatPercent(relativeChange(pred ?? undefined, meas) ?? undefined);
  // A run that timed the whole model beside its stages: its errors again at the speed the machine ran at.
  const speed = runs.some((r) => r.speedRatio !== undefined);
  const memory = runs.some((r) => r.stages.some((st) => st.measuredMemoryBytes !== undefined));
  // A run whose stages of other boards were also predicted on the board that stands for its machine.
  const here = runs.some((r) => r.stages.some((st) => st.here !== undefined));
  // Each stage alone too (a plan of several stages): a board runs its stage alone, as the plan predicts it.
  const alone = runs.some((r) => r.stages.some((st) => st.aloneMs !== undefined));
  return {
    columns: [
      { label: 'Run' }, { label: 'Stage', num: true }, { label: 'Board' }, { label: 'Nodes', num: true },
      { label: 'Predicted', num: true }, ...(here ? [{ label: 'Predicted on the machine verified', num: true }] : []),
      { label: 'Measured (median)', num: true }, { label: 'p90', num: true }, { label: 'Error', num: true },
      ...(speed ? [{ label: 'Error at the measured speed', num: true }] : []),
      ...(alone ? [{ label: 'Measured alone (median)', num: true }, { label: 'Error alone', num: true }] : []),
      // verify times each stage alone: it holds no frames in flight, so the plan's figure is without them.
      ...(memory ? [{ label: 'Memory: plan without frames in flight', num: true }, { label: 'Memory: measured', num: true }, { label: 'Memory error', num: true }] : []),
    ],
    rows: runs.flatMap((r) => r.stages.map((st) => ({
      cells: [
        cell(`${r.source} (${r.threads} thread${r.threads === 1 ? '' : 's'}, ${r.runs} runs${r.speedRatio !== undefined ? `; whole model x${r.speedRatio.toFixed(2)} its prediction` : ''})`),
        cell(String(st.index), { num: true }), cell(st.board),
        cell(String(st.nodes), { num: true }), cell(formatMs(st.predictedMs ?? undefined), { num: true }),
        ...(here ? [cell(st.here ? `${formatMs(st.here.predictedMs)} (${st.here.board})` : formatMs(st.predictedMs ?? undefined), { num: true })] : []),
        cell(formatMs(st.measuredMs), { num: true }),
        // A stage predicted for another board than this machine: its time there checks nothing, its
        // prediction on the board that stands for this machine does (st.here).
        cell(formatMs(st.p90Ms), { num: true }),
        cell(st.here ? err(st.measuredMs, st.here.predictedMs) : r.speedRatio !== undefined && st.scaledError === null ? 'other board' : err(st.measuredMs, st.predictedMs), { num: true }),
        ...(speed ? [cell(formatPercent(st.here ? st.here.scaledError : st.scaledError), { num: true })] : []),
        ...(alone ? [
          cell(formatMs(st.aloneMs), { num: true }),
          cell(st.aloneMs === undefined ? '—' : st.here ? err(st.aloneMs, st.here.predictedMs) : r.speedRatio !== undefined && st.scaledError === null ? 'other board' : err(st.aloneMs, st.predictedMs), { num: true }),
        ] : []),
        ...(memory ? [
          cell(formatBytes(st.predictedMemoryBytes), { num: true }), cell(formatBytes(st.measuredMemoryBytes), { num: true }),
          cell(st.measuredMemoryBytes !== undefined ? err(st.measuredMemoryBytes, st.predictedMemoryBytes ?? null) : '—', { num: true }),
        ] : []),
      ],
    }))),
  };
}

/** Across systems: the best single board against the optimum, per objective. */
export function comparisonTable(data: ReportData): Table {
  const columns = [
    { label: 'System' }, { label: 'Model' }, { label: 'Boards', num: true },
    ...OBJECTIVES.flatMap((o) => [
      { label: `${cap(o)}\nbest single → optimum`, num: true }, { label: 'Change', num: true },
    ]),
  ];
  return {
    cls: 'comparison',
    columns,
    rows: data.systems.map((s) => ({
      attrs: { 'data-system': s.name },
      cells: [
        cell(s.name), cell(s.model.name), cell(String(s.boards.length), { num: true }),
        ...OBJECTIVES.flatMap((o) => {
          const p = s.plans[o];
          const best = bestSingleBoard(s, o);
          const bestText = best === undefined ? 'none fits' : formatMetric(best, o);
          if (p === undefined || !hasMetrics(p)) {
            return [cell(`${bestText}\n→ ${p?.status ?? 'not solved'}`, { num: true, cls: 'reason', title: p?.reason ?? '' }), cell('—', { num: true })];
          }
          const change = best === undefined ? null : relativeChange(metricOf(p, o), metricOf(best, o));
          return [cell(`${bestText}\n→ ${formatMetric(p, o)}`, { num: true }),
            cell(formatPercent(change), { num: true, cls: goodness(change, o) })];
        }),
      ],
    })),
  };
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
