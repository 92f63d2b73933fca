// The report's charts as vega-lite specs, built from a system's plain data (pure functions).
import type { Objective, PlanMetrics } from '@dnnpart/solver';
import type { TopLevelSpec } from 'vega-lite';
import type { ReportData, ReportSystem } from '../report-data.js';
import { byteScale, PALETTE } from './_charts.js';
import { formatBytes } from './format.js';
import {
  bestSingleBoard, hasMetrics, layerIndex, metricOf, OBJECTIVES, paretoPair, relativeChange, systemBaselines,
} from './plan-rows.js';

const WIDTH = 640;

const AXIS_TITLE: Readonly<Record<Objective, string>> = {
  throughput: 'Throughput (FPS)',
  latency: 'Latency per frame (ms)',
  energy: 'Energy per frame (mJ)',
};

/** Board id -> colour, stable across every chart of a system. */
export function boardColors(system: ReportSystem): { domain: string[]; range: string[] } {
  const domain = system.boards.map((b) => b.id);
  return { domain, range: domain.map((_, i) => PALETTE[i % PALETTE.length] as string) };
}

/** Each stage's span in the layer sequence; empty when a stage's layers are not contiguous and in order (a DAG split across branches). */
export function stageSpans(plan: PlanMetrics, index: ReadonlyMap<string, number>): { board: string; lo: number; hi: number }[] {
  const spans: { board: string; lo: number; hi: number }[] = [];
  let prevMax = -1;
  for (const s of plan.stages) {
    const idx = s.nodes.map((n) => index.get(n));
    if (idx.some((x) => x === undefined) || idx.length === 0) return [];
    const lo = Math.min(...(idx as number[]));
    const hi = Math.max(...(idx as number[]));
    if (hi - lo + 1 !== idx.length || lo <= prevMax) return [];
    prevMax = hi;
    spans.push({ board: s.board, lo, hi });
  }
  return spans;
}

/** Layer indices after which the plan cuts (the last layer of each stage but the last); empty when stages interleave. */
export function cutPositions(plan: PlanMetrics, index: ReadonlyMap<string, number>): number[] {
  return stageSpans(plan, index).slice(0, -1).map((s) => s.hi);
}

function chosenSpans(system: ReportSystem): { board: string; lo: number; hi: number }[] {
  const plan = system.plans[system.objective];
  if (plan === undefined || !hasMetrics(plan)) return [];
  return stageSpans(plan, layerIndex(system));
}

function chosenCuts(system: ReportSystem): { x: number; label: string }[] {
  return chosenSpans(system).slice(0, -1).map((s) => ({ x: s.hi, label: `cut after ${s.hi}` }));
}

/** `hex` mixed with white, `share` of the colour kept: a light tint that stays opaque (opacity would leak into legends). */
export function tint(hex: string, share: number): string {
  const v = Number.parseInt(hex.replace('#', ''), 16);
  const mix = (c: number) => Math.round(255 - (255 - c) * share).toString(16).padStart(2, '0');
  return `#${mix((v >> 16) & 255)}${mix((v >> 8) & 255)}${mix(v & 255)}`;
}

/** Per-layer latency on each board over the layer sequence, with the chosen plan's cuts. */
export function layerLatencySpec(system: ReportSystem): TopLevelSpec {
  // A layer a board cannot run gets a null, which breaks that board's line instead of bridging it.
  const values = system.layers.flatMap((l, i) =>
    system.boards.map((b) => ({ i, layer: l.name, board: b.id, ms: typeof l.latencyMs[b.id] === 'number' ? l.latencyMs[b.id] as number : null })));
  const cuts = chosenCuts(system).map((c) => ({ ...c, x: c.x + 0.5 }));
  const colors = boardColors(system);
  // Span colours are given as values (scale: null) so they neither need nor disturb the board legend.
  const spans = chosenSpans(system).map((s) => {
    const fill = colors.range[colors.domain.indexOf(s.board)] ?? '#888888';
    return { ...s, x0: s.lo - 0.5, x1: s.hi + 0.5, mid: (s.lo + s.hi) / 2, fill, tint: tint(fill, 0.1) };
  });
  const n = system.layers.length;
  return {
    width: WIDTH,
    height: 230,
    title: { text: 'Latency of each layer on each board', subtitle: spans.length > 0 ? 'shaded: the board that runs each layer in the chosen plan; dashed: its cuts' : '' },
    layer: [
      ...(spans.length > 0 ? [{
        data: { values: spans },
        mark: { type: 'rect' as const },
        encoding: {
          x: { field: 'x0', type: 'quantitative' as const }, x2: { field: 'x1' },
          color: { field: 'tint', type: 'nominal' as const, scale: null },
        },
      }, {
        // Name a span only where the name fits (about 6.5 px per character at 10 px).
        data: { values: spans.filter((s) => ((s.hi - s.lo + 1) / Math.max(1, n)) * WIDTH >= s.board.length * 6.5 + 6) },
        mark: { type: 'text' as const, baseline: 'top' as const, dy: 4, fontSize: 10, fontWeight: 600 },
        encoding: {
          x: { field: 'mid', type: 'quantitative' as const }, y: { value: 0 }, text: { field: 'board' },
          color: { field: 'fill', type: 'nominal' as const, scale: null },
        },
      }] : []),
      {
        data: { values },
        mark: { type: 'line', strokeWidth: 1.4, interpolate: 'linear', point: n <= 60 ? { size: 18 } : false },
        encoding: {
          x: { field: 'i', type: 'quantitative', title: 'Layer (index in execution order)', scale: { domain: [-0.5, Math.max(1, n - 1) + 0.5], nice: false } },
          y: { field: 'ms', type: 'quantitative', title: 'Latency (ms)' },
          color: { field: 'board', type: 'nominal', title: 'Board', scale: colors },
        },
      },
      ...(cuts.length > 0 ? [{
        data: { values: cuts },
        mark: { type: 'rule' as const, strokeDash: [4, 3], color: '#333', strokeWidth: 1 },
        encoding: { x: { field: 'x', type: 'quantitative' as const } },
      }] : []),
    ],
  } as TopLevelSpec;
}

/** Bytes that would cross a link for a cut after each layer, with the chosen plan's cuts. */
export function cutBytesSpec(system: ReportSystem): TopLevelSpec {
  const index = layerIndex(system);
  const max = Math.max(0, ...system.cuts.map((c) => c.bytes));
  const { unit, divisor } = byteScale(max);
  const values = system.cuts
    .map((c) => ({ i: index.get(c.after), after: c.after, v: c.bytes / divisor }))
    .filter((r) => r.i !== undefined);
  const cuts = chosenCuts(system);
  const n = system.layers.length;
  const barWidth = Math.max(1, Math.floor(WIDTH / Math.max(1, n)) - 1);
  return {
    width: WIDTH,
    height: 200,
    title: { text: 'Bytes crossing the link for a cut after each layer', subtitle: cuts.length > 0 ? 'dashed: cuts of the chosen plan' : '' },
    layer: [
      {
        data: { values },
        mark: { type: 'bar', width: barWidth, color: PALETTE[0] },
        encoding: {
          x: { field: 'i', type: 'quantitative', title: 'Cut after layer (index in execution order)', scale: { domain: [-0.5, Math.max(1, n - 1) + 0.5], nice: false } },
          y: { field: 'v', type: 'quantitative', title: `Bytes per frame (${unit})` },
        },
      },
      ...(cuts.length > 0 ? [{
        data: { values: cuts },
        mark: { type: 'rule' as const, strokeDash: [4, 3], color: '#b5515b', strokeWidth: 1.2 },
        encoding: { x: { field: 'x', type: 'quantitative' as const } },
      }] : []),
    ],
  } as TopLevelSpec;
}

export interface ParetoPoint {
  readonly x: number;
  readonly y: number;
  readonly series: string;
  readonly label: string;
}

/** Pareto front of `key` (e.g. "throughput,energy"): second objective across, first up; optima and baselines marked. */
export function paretoSpec(system: ReportSystem, key: string): TopLevelSpec | undefined {
  const result = system.pareto[key];
  if (result === undefined) return undefined;
  const [yObj, xObj] = paretoPair(key, result.objectives);
  const point = (m: Partial<PlanMetrics>, series: string, label: string): ParetoPoint | undefined => {
    const x = metricOf(m, xObj);
    const y = metricOf(m, yObj);
    return x === undefined || y === undefined ? undefined : { x, y, series, label };
  };
  const front = result.front.filter(hasMetrics).map((p) => point(p, 'Pareto front', ''))
    .filter((p): p is ParetoPoint => p !== undefined).sort((a, b) => a.x - b.x);
  if (front.length === 0) return undefined;
  const optima = OBJECTIVES.map((o) => {
    const p = system.plans[o];
    if (p === undefined || !hasMetrics(p)) return undefined;
    return point(p, 'Optimum', `${o} optimum${o === system.objective ? ' (chosen)' : ''}`);
  }).filter((p): p is ParetoPoint => p !== undefined);
  const baselines = systemBaselines(system).map((b) => point(b, 'Baseline', b.name))
    .filter((p): p is ParetoPoint => p !== undefined);
  const labels = coincidentLabels([...optima, ...baselines]);
  const x = { field: 'x', type: 'quantitative' as const, title: AXIS_TITLE[xObj], scale: { zero: false, nice: true } };
  const y = { field: 'y', type: 'quantitative' as const, title: AXIS_TITLE[yObj], scale: { zero: false, nice: true } };
  const series = {
    field: 'series', type: 'nominal' as const, title: null,
    scale: { domain: ['Pareto front', 'Optimum', 'Baseline'], range: [PALETTE[0], '#b5515b', '#8a8f96'] },
  };
  const shape = {
    field: 'series', type: 'nominal' as const, title: null,
    scale: { domain: ['Pareto front', 'Optimum', 'Baseline'], range: ['circle', 'diamond', 'square'] },
  };
  return {
    width: 300,
    height: 240,
    title: { text: `${cap(yObj)} vs ${xObj}`, subtitle: `${front.length} non-dominated plans` },
    layer: [
      {
        data: { values: front },
        mark: { type: 'line', color: PALETTE[0], strokeWidth: 1.2, opacity: 0.7 },
        encoding: { x, y },
      },
      // Baselines, then the front, then the optima on top, so the marks that matter stay visible.
      ...([[baselines, 50], [front, 55], [optima, 120]] as const).map(([values, size]) => ({
        data: { values },
        mark: { type: 'point' as const, filled: true, opacity: 1, size, stroke: '#ffffff', strokeWidth: 0.8 },
        encoding: { x, y, color: series, shape },
      })),
      {
        data: { values: labels },
        mark: { type: 'text', align: 'left', dx: 7, dy: -6, fontSize: 10, color: '#333' },
        encoding: { x, y, text: { field: 'label' } },
      },
    ],
  } as TopLevelSpec;
}

/**
 * One label per position: plans that coincide (say the latency and energy optima, or two
 * boards of one kind alone) share a label, "latency, energy optimum = single:simba_like",
 * instead of printing over each other.
 */
export function coincidentLabels(points: readonly ParetoPoint[]): ParetoPoint[] {
  const groups = new Map<string, ParetoPoint[]>();
  for (const p of points) {
    const key = `${p.x.toPrecision(6)}|${p.y.toPrecision(6)}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  return [...groups.values()].map((g) => {
    const optima = g.filter((p) => p.series === 'Optimum');
    const names = optima.map((p) => p.label.replace(' (chosen)', '').replace(' optimum', ''));
    const chosen = optima.some((p) => p.label.endsWith('(chosen)')) ? ' (chosen)' : '';
    const others = g.filter((p) => p.series !== 'Optimum').map((p) => p.label);
    const parts = [...(names.length > 0 ? [`${names.join(', ')} optimum${chosen}`] : []), ...(others.length > 0 ? [others.join(', ')] : [])];
    return { ...(g[0] as ParetoPoint), label: parts.join(' = ') };
  });
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * Memory each optimum places on each board as a share of the board's cap (caps differ by
 * orders of magnitude, so absolute bars would hide the small boards); labels give bytes.
 */
export function memorySpec(system: ReportSystem): TopLevelSpec | undefined {
  const plans = OBJECTIVES.map((o) => ({ o, p: system.plans[o] })).filter((x) => x.p !== undefined && hasMetrics(x.p));
  if (plans.length === 0) return undefined;
  const planNames = plans.map(({ o }) => `${o} optimum`);
  const values = plans.flatMap(({ o, p }) => system.boards.map((b) => {
    const bytes = (p as PlanMetrics).stages.filter((s) => s.board === b.id).reduce((a, s) => a + s.memoryBytes, 0);
    const cap = b.memoryBytes;
    const pct = cap === null || cap <= 0 ? 0 : (100 * bytes) / cap;
    const label = bytes === 0 ? 'not used' : cap === null
      ? `${formatBytes(bytes)} (no cap)`
      : `${formatBytes(bytes)} of ${formatBytes(cap)} (${pct < 0.1 && bytes > 0 ? '<0.1' : pct.toFixed(1)} %)`;
    return { board: b.id, plan: `${o} optimum`, pct, label };
  }));
  const maxPct = Math.max(100, ...values.map((v) => v.pct));
  const y = { field: 'board', type: 'nominal' as const, title: null, sort: system.boards.map((b) => b.id), axis: { labelLimit: 200 } };
  const x = { field: 'pct', type: 'quantitative' as const, title: 'Memory used (% of the board\'s cap)', scale: { domain: [0, maxPct * 1.35] } };
  const yOffset = { field: 'plan', sort: planNames };
  return {
    width: WIDTH - 120,
    height: system.boards.length * (plans.length * 16 + 12),
    title: { text: 'Memory per board for each optimum, against the board\'s cap', subtitle: 'dashed line: the cap (100 %); boards without a cap show bytes only' },
    data: { values },
    layer: [
      {
        mark: { type: 'bar', height: 13 },
        encoding: {
          y, x, yOffset,
          color: { field: 'plan', type: 'nominal', title: 'Plan', scale: { domain: planNames, range: plans.map(({ o }) => PALETTE[OBJECTIVES.indexOf(o)] as string) } },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 10, color: '#333' },
        encoding: { y, x, yOffset, text: { field: 'label' } },
      },
      ...(system.boards.some((b) => b.memoryBytes !== null) ? [{
        data: { values: [{ cap: 100 }] },
        mark: { type: 'rule', color: '#b5515b', strokeDash: [5, 3], strokeWidth: 1.5 },
        encoding: { x: { field: 'cap', type: 'quantitative' } },
      }] : []),
    ],
  } as TopLevelSpec;
}

/** Predicted against measured throughput and latency for the runs that were measured. */
export function measuredSpec(system: ReportSystem): TopLevelSpec | undefined {
  const runs = system.measured ?? [];
  if (runs.length === 0) return undefined;
  const rows = (metric: 'fps' | 'ms') => runs.flatMap((r) => {
    const pred = metric === 'fps' ? r.predictedFps : r.predictedLatencyMs;
    const meas = metric === 'fps' ? r.measuredFps : r.measuredLatencyMs;
    return [
      ...(typeof pred === 'number' ? [{ plan: r.plan, kind: 'predicted', v: pred }] : []),
      ...(typeof meas === 'number' ? [{ plan: r.plan, kind: 'measured', v: meas }] : []),
    ];
  });
  const panel = (metric: 'fps' | 'ms', title: string) => ({
    width: 260,
    height: { step: 30 },
    title,
    data: { values: rows(metric) },
    mark: { type: 'bar' as const },
    encoding: {
      y: { field: 'plan', type: 'nominal' as const, title: null, axis: { labelLimit: 220 } },
      yOffset: { field: 'kind', sort: ['predicted', 'measured'] },
      x: { field: 'v', type: 'quantitative' as const, title },
      color: { field: 'kind', type: 'nominal' as const, title: null, scale: { domain: ['predicted', 'measured'], range: ['#9aa5b1', PALETTE[0]] } },
    },
  });
  return {
    hconcat: [panel('fps', 'Throughput (FPS)'), panel('ms', 'Latency (ms)')],
  } as TopLevelSpec;
}

/**
 * Across systems: throughput of the best single board against the optimum (log scale, since
 * networks differ by orders of magnitude), and each objective's improvement over the best
 * single board (higher is better).
 */
export function comparisonSpec(data: ReportData): TopLevelSpec {
  const order = data.systems.map((s) => s.name);
  const improvements = data.systems.flatMap((s) => OBJECTIVES.flatMap((o) => {
    const p = s.plans[o];
    const best = bestSingleBoard(s, o);
    if (p === undefined || !hasMetrics(p) || best === undefined) return [];
    const change = relativeChange(metricOf(p, o), metricOf(best, o));
    if (change === null) return [];
    // Throughput gains are increases; latency and energy gains are reductions.
    const improvement = o === 'throughput' ? change : -change;
    return [{ system: s.name, objective: o, v: improvement * 100 }];
  }));
  const fps = data.systems.flatMap((s) => {
    const p = s.plans.throughput;
    const best = bestSingleBoard(s, 'throughput');
    return [
      ...(best !== undefined ? [{ system: s.name, plan: 'best single board', v: best.throughputFps }] : []),
      ...(p !== undefined && hasMetrics(p) ? [{ system: s.name, plan: 'optimum', v: p.throughputFps }] : []),
    ];
  });
  // A dumbbell per system: a rule from the best single board up to the optimum.
  const spans = data.systems.flatMap((s) => {
    const p = s.plans.throughput;
    const best = bestSingleBoard(s, 'throughput');
    return best !== undefined && p !== undefined && hasMetrics(p) ? [{ system: s.name, lo: best.throughputFps, hi: p.throughputFps }] : [];
  });
  const x = { field: 'system', type: 'nominal' as const, title: null, sort: order, axis: { labelAngle: -30, labelLimit: 220 } };
  return {
    hconcat: [
      {
        width: { step: 56 },
        height: 220,
        title: { text: 'Throughput: best single board → optimum', subtitle: 'log scale' },
        layer: [
          {
            data: { values: spans },
            mark: { type: 'rule', color: '#9aa5b1', strokeWidth: 2 },
            encoding: { x, y: { field: 'lo', type: 'quantitative', scale: { type: 'log' } }, y2: { field: 'hi' } },
          },
          {
            data: { values: fps },
            mark: { type: 'point', filled: true, size: 70, opacity: 1 },
            encoding: {
              x,
              y: { field: 'v', type: 'quantitative', title: 'Throughput (FPS)', scale: { type: 'log' }, axis: { tickCount: 5, format: '~g' } },
              color: { field: 'plan', type: 'nominal', title: null, scale: { domain: ['best single board', 'optimum'], range: ['#8a8f96', PALETTE[0]] } },
            },
          },
        ],
      },
      {
        width: { step: 26 },
        height: 220,
        title: { text: 'Improvement of the optimum over the best single board', subtitle: 'throughput: more FPS; latency and energy: reduction' },
        data: { values: improvements },
        mark: { type: 'bar' },
        encoding: {
          x, xOffset: { field: 'objective', scale: { domain: [...OBJECTIVES] } },
          y: { field: 'v', type: 'quantitative', title: 'Improvement (%)' },
          color: { field: 'objective', type: 'nominal', title: 'Objective', scale: { domain: [...OBJECTIVES], range: [PALETTE[0], PALETTE[1], PALETTE[2]] } },
        },
      },
    ],
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  } as TopLevelSpec;
}
