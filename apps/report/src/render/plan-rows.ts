// One flat row per plan and objective: the shared source of plans.csv, plans.json and the
// plan tables in the HTML and Markdown, so the four can never disagree.
import type { Baseline, Objective, Plan, PlanMetrics, PlanStage } from '@dnnpart/solver';
import type { ReportData, ReportSystem } from '../report-data.js';
import { formatBytes } from './format.js';

export const PLANS_SCHEMA = 'dnnpart/plans@1';

export const OBJECTIVES: readonly Objective[] = ['throughput', 'latency', 'energy'];

export type RowKind = 'optimum' | 'baseline' | 'pareto';

/** A baseline is evaluated, not solved: "feasible" when it fits every memory cap and meets the constraints, else "infeasible". */
export type RowStatus = Plan['status'];

export interface PlanRow {
  readonly system: string;
  readonly kind: RowKind;
  /** The objective the gain is measured in; for Pareto rows the pair, "throughput/energy". */
  readonly objective: string;
  /** "optimum:throughput", a baseline's name ("single:jetson"), or "pareto:throughput/energy#3". */
  readonly name: string;
  readonly status: RowStatus;
  readonly throughputFps: number | null;
  readonly latencyMs: number | null;
  readonly energyMj: number | null;
  /** Stages in pipeline order with layer index ranges: "jetson[0..57] > rpi[58..240]". */
  readonly stages: string;
  readonly bottleneck: string;
  /**
   * Relative change of the objective's metric against the best single board on that metric:
   * +0.477 is 47.7 % more FPS; for latency and energy, negative is better (-0.2 = 20 % less).
   */
  readonly gainOverBestSingleBoard: number | null;
  readonly solveMs: number | null;
  /** Bytes crossing links per frame, input transfer included. */
  readonly linkBytes: number | null;
  /** "board=bytes" per stage, space-separated. */
  readonly memoryBytes: string;
  /** Why infeasible, not proven, or over a memory cap; empty otherwise. */
  readonly reason: string;
}

/** Column order of plans.csv (and key order of plans.json rows). */
export const PLAN_COLUMNS: readonly (keyof PlanRow)[] = [
  'system', 'kind', 'objective', 'name', 'status', 'throughputFps', 'latencyMs', 'energyMj',
  'stages', 'bottleneck', 'gainOverBestSingleBoard', 'solveMs', 'linkBytes', 'memoryBytes', 'reason',
];

/** The metric an objective optimises, read from a plan's metrics. */
export function metricOf(m: Partial<PlanMetrics>, objective: Objective): number | undefined {
  const v = objective === 'throughput' ? m.throughputFps : objective === 'latency' ? m.latencyMs : m.energyMj;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** True when `a` is strictly better than `b` on the objective. */
export function isBetter(a: number, b: number, objective: Objective): boolean {
  return objective === 'throughput' ? a > b : a < b;
}

/** Has the plan's metrics (optimal, feasible, or a timeout that kept an incumbent). */
export function hasMetrics(p: Partial<PlanMetrics>): p is PlanMetrics {
  return Array.isArray(p.stages) && p.stages.length > 0 && typeof p.throughputFps === 'number'
    && Number.isFinite(p.throughputFps);
}

/** Stages whose memory exceeds their board's cap, as "rpi needs 5.10 MB of its 4.00 MB". */
export function memoryViolations(stages: readonly PlanStage[], system: ReportSystem): string[] {
  const caps = new Map(system.boards.map((b) => [b.id, b.memoryBytes]));
  const out: string[] = [];
  for (const s of stages) {
    const cap = caps.get(s.board);
    if (typeof cap === 'number' && s.memoryBytes > cap) {
      out.push(`${s.board} needs ${formatBytes(s.memoryBytes)} of its ${formatBytes(cap)}`);
    }
  }
  return out;
}

/** Baselines of a system, once each: taken from the chosen objective's plan first, then the others. */
export function systemBaselines(system: ReportSystem): Baseline[] {
  const seen = new Map<string, Baseline>();
  const order = [system.objective, ...OBJECTIVES.filter((o) => o !== system.objective)];
  for (const o of order) {
    for (const b of system.plans[o]?.baselines ?? []) {
      if (!seen.has(b.name)) seen.set(b.name, b);
    }
  }
  return [...seen.values()];
}

/** The single-board baseline best on the objective among those that fit their memory cap. */
export function bestSingleBoard(system: ReportSystem, objective: Objective): Baseline | undefined {
  let best: Baseline | undefined;
  let bestValue = 0;
  for (const b of systemBaselines(system)) {
    if (b.kind !== 'single-board' || memoryViolations(b.stages, system).length > 0) continue;
    const v = metricOf(b, objective);
    if (v === undefined) continue;
    if (best === undefined || isBetter(v, bestValue, objective)) {
      best = b;
      bestValue = v;
    }
  }
  return best;
}

/** Relative change of `value` against `reference`: (value - reference) / reference; null when undefined. */
export function relativeChange(value: number | undefined, reference: number | undefined): number | null {
  if (value === undefined || reference === undefined || reference === 0) return null;
  if (!Number.isFinite(value) || !Number.isFinite(reference)) return null;
  return (value - reference) / reference;
}

/** Index of each layer name in the system's layer sequence. */
export function layerIndex(system: ReportSystem): Map<string, number> {
  return new Map(system.layers.map((l, i) => [l.name, i]));
}

/** Compress sorted indices into "a..b" ranges: [0,1,2,5] -> "0..2,5". */
export function indexRanges(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i] as number;
    let end = start;
    while (i + 1 < sorted.length && sorted[i + 1] === end + 1) {
      i += 1;
      end = sorted[i] as number;
    }
    parts.push(start === end ? `${start}` : `${start}..${end}`);
    i += 1;
  }
  return parts.join(',');
}

/** "jetson[0..57] > rpi[58..240]"; nodes missing from the layer list are counted instead. */
export function stagesLabel(stages: readonly PlanStage[], index: ReadonlyMap<string, number>): string {
  return stages.map((s) => {
    const known = s.nodes.map((n) => index.get(n)).filter((i): i is number => i !== undefined);
    if (known.length === s.nodes.length && known.length > 0) return `${s.board}[${indexRanges(known)}]`;
    return `${s.board}(${s.nodes.length} nodes)`;
  }).join(' > ');
}

function sumTransferBytes(m: PlanMetrics): number {
  return m.transfers.reduce((a, t) => a + t.bytes, 0);
}

function memoryLabel(stages: readonly PlanStage[]): string {
  return stages.map((s) => `${s.board}=${s.memoryBytes}`).join(' ');
}

interface RowSource {
  readonly kind: RowKind;
  readonly objective: string;
  readonly gainObjective: Objective;
  readonly name: string;
  readonly metrics: Partial<PlanMetrics>;
  readonly status: RowStatus;
  readonly solveMs: number | null;
  readonly reason: string;
}

function makeRow(system: ReportSystem, index: ReadonlyMap<string, number>, src: RowSource): PlanRow {
  const m = src.metrics;
  const ok = hasMetrics(m);
  const best = bestSingleBoard(system, src.gainObjective);
  const violations = ok ? memoryViolations(m.stages, system) : [];
  // Baselines are kept for comparison even when they break the constraints; the solver lists why.
  const broken = src.kind === 'baseline' ? ((m as Partial<Baseline>).violations ?? []) : [];
  const reasons = [
    src.reason,
    ...violations.map((v) => `over memory cap: ${v}`),
    ...(broken.length > 0 ? [`breaks the constraints: ${broken.join(', ')}`] : []),
  ].filter((r) => r !== '');
  return {
    system: system.name,
    kind: src.kind,
    objective: src.objective,
    name: src.name,
    status: src.kind === 'baseline' && (violations.length > 0 || broken.length > 0) ? 'infeasible' : src.status,
    throughputFps: ok ? m.throughputFps : null,
    latencyMs: ok ? m.latencyMs : null,
    energyMj: ok ? m.energyMj : null,
    stages: ok ? stagesLabel(m.stages, index) : '',
    bottleneck: ok ? m.bottleneck : '',
    gainOverBestSingleBoard: ok && best !== undefined
      ? relativeChange(metricOf(m, src.gainObjective), metricOf(best, src.gainObjective))
      : null,
    solveMs: src.solveMs,
    linkBytes: ok ? sumTransferBytes(m) : null,
    memoryBytes: ok ? memoryLabel(m.stages) : '',
    reason: reasons.join('; '),
  };
}

/** A row together with the plan metrics it was made from (absent for plans without a result). */
export interface PlanEntry {
  readonly row: PlanRow;
  readonly metrics: PlanMetrics | undefined;
  /** Relative MIP gap of a plan stopped before optimality was proven. */
  readonly gap?: number;
}

/** Every row of one system with its metrics: the optimum per objective, the baselines, then the Pareto points. */
export function systemEntries(system: ReportSystem): PlanEntry[] {
  const index = layerIndex(system);
  const out: PlanEntry[] = [];
  const add = (src: RowSource, gap?: number) => {
    const metrics = hasMetrics(src.metrics) ? src.metrics : undefined;
    out.push({ row: makeRow(system, index, src), metrics, ...(gap !== undefined ? { gap } : {}) });
  };
  for (const o of OBJECTIVES) {
    const plan = system.plans[o];
    if (plan === undefined) continue;
    add({
      kind: 'optimum', objective: o, gainObjective: o, name: `optimum:${o}`, metrics: plan,
      status: plan.status, solveMs: plan.solveMs, reason: plan.reason ?? '',
    }, plan.gap);
  }
  for (const b of systemBaselines(system)) {
    add({
      kind: 'baseline', objective: system.objective, gainObjective: system.objective, name: b.name,
      metrics: b, status: 'feasible', solveMs: null, reason: '',
    });
  }
  for (const [key, result] of Object.entries(system.pareto)) {
    const pair = paretoPair(key, result.objectives);
    const label = pair.join('/');
    if (result.front.length === 0) {
      add({
        kind: 'pareto', objective: label, gainObjective: pair[0], name: `pareto:${label}`, metrics: {},
        status: result.status, solveMs: result.solveMs, reason: result.reason ?? 'empty front',
      });
      continue;
    }
    result.front.forEach((p, i) => {
      add({
        kind: 'pareto', objective: label, gainObjective: pair[0], name: `pareto:${label}#${i + 1}`,
        metrics: p, status: p.status, solveMs: p.solveMs, reason: p.reason ?? '',
      });
    });
  }
  return out;
}

/** Every row of one system: the optimum per objective, the baselines, then the Pareto points. */
export function systemRows(system: ReportSystem): PlanRow[] {
  return systemEntries(system).map((e) => e.row);
}

/** The objective pair of a Pareto entry: its `objectives`, else its key "throughput,energy". */
export function paretoPair(key: string, objectives: readonly Objective[] | undefined): [Objective, Objective] {
  if (objectives !== undefined && objectives.length === 2) return [objectives[0] as Objective, objectives[1] as Objective];
  const parts = key.split(',').map((s) => s.trim()) as Objective[];
  return [parts[0] ?? 'throughput', parts[1] ?? 'energy'];
}

/** Every row of the report, systems in order. */
export function planRows(data: ReportData): PlanRow[] {
  return data.systems.flatMap((s) => systemRows(s));
}

/** The plans.json document. */
export function plansJson(rows: readonly PlanRow[]): { schema: typeof PLANS_SCHEMA; rows: readonly PlanRow[] } {
  return { schema: PLANS_SCHEMA, rows };
}
