import { readFileSync } from 'node:fs';
import type { Baseline, Plan, PlanStage } from '@dnnpart/solver';
import { describe, expect, it } from 'vitest';
import type { ReportData, ReportSystem } from '../src/report-data.js';
import {
  bestSingleBoard, headline, PLAN_COLUMNS, planRows, relativeChange, stagesLabel,
} from '../src/render/index.js';
import { indexRanges } from '../src/render/plan-rows.js';

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/render/report-data.json', import.meta.url), 'utf8'),
) as ReportData;

function stage(board: string, nodes: string[], computeMs: number, memoryBytes = 1000): PlanStage {
  return { board, nodes, computeMs, energyMj: computeMs, memoryBytes };
}

// The paper's EfficientNet-B0 headline case (packages/cnnparted/data/cnnparted-2024-02/README.md):
// stages 172.775 ms and 207.729 ms with a 0.715 ms link, against 3.2628 FPS all on Simba-like.
function paperSystem(): ReportSystem {
  const layers = Array.from({ length: 241 }, (_, i) => `n${i}`);
  const split = {
    throughputFps: 1000 / 207.729, latencyMs: 381.219, energyMj: 100,
    stages: [stage('eyeriss_like', layers.slice(0, 58), 172.775), stage('simba_like', layers.slice(58), 207.729)],
    transfers: [{ from: 'eyeriss_like', to: 'simba_like', bytes: 87_808, ms: 0.715, energyMj: 0.429, tensors: ['t'] }],
    bottleneck: 'simba_like',
  };
  const single = (board: string, ms: number): Baseline => ({
    name: `single:${board}`, kind: 'single-board', throughputFps: 1000 / ms, latencyMs: ms, energyMj: 200,
    stages: [stage(board, layers, ms)], transfers: [], bottleneck: board,
  });
  const baselines = [single('eyeriss_like', 800.1), single('simba_like', 1000 / 3.2628)];
  const plan = (objective: 'throughput' | 'latency' | 'energy'): Plan => ({ status: 'optimal', objective, solveMs: 5, ...split, baselines });
  return {
    name: 'efficientnet_b0', model: { name: 'efficientnet_b0', layers: 241, params: 5.3e6, macs: 3.9e8 },
    boards: [
      { id: 'eyeriss_like', source: 'imported', memoryBytes: null },
      { id: 'simba_like', source: 'imported', memoryBytes: null },
    ],
    links: [{ from: 'eyeriss_like', to: 'simba_like', bandwidthBytesPerSec: 125e6, latencyMs: 0, powerW: 0.6, framing: 'ethernet' }],
    inputBoard: 'eyeriss_like', boardOrder: 'fixed', constraints: {}, objective: 'throughput',
    layers: layers.map((name) => ({ name, op: 'Conv', macs: 1, paramBytes: 1, latencyMs: {} })),
    cuts: [], plans: { throughput: plan('throughput'), latency: plan('latency'), energy: plan('energy') }, pareto: {},
  };
}

describe('pure helpers', () => {
  it.each([
    [4.814, 3.2628, 0.47542],
    [100, 100, 0],
    [80, 100, -0.2],
    [1, 0, null],
    [undefined, 3, null],
    [3, undefined, null],
    [Number.NaN, 3, null],
  ])('relativeChange(%o, %o) = %o', (value, reference, expected) => {
    const r = relativeChange(value, reference);
    if (expected === null) expect(r).toBeNull();
    else expect(r).toBeCloseTo(expected, 4);
  });

  it.each([
    [[0, 1, 2, 3], '0..3'],
    [[5], '5'],
    [[3, 1, 2, 7, 9, 8], '1..3,7..9'],
    [[], ''],
  ])('indexRanges(%o) = %o', (input, expected) => {
    expect(indexRanges(input)).toBe(expected);
  });

  it.each([
    ['contiguous', [stage('jetson', ['a', 'b'], 1), stage('rpi', ['c', 'd', 'e'], 1)], 'jetson[0..1] > rpi[2..4]'],
    ['interleaved DAG branches', [stage('jetson', ['a', 'c'], 1), stage('rpi', ['b', 'd', 'e'], 1)], 'jetson[0,2] > rpi[1,3..4]'],
    ['nodes not in the layer list', [stage('jetson', ['a', 'zz'], 1)], 'jetson(2 nodes)'],
  ])('stagesLabel: %s', (_name, stages, expected) => {
    const index = new Map(['a', 'b', 'c', 'd', 'e'].map((n, i) => [n, i]));
    expect(stagesLabel(stages, index)).toBe(expected);
  });
});

describe('headline', () => {
  it('states the paper\'s EfficientNet-B0 result the way a reviewer reads it', () => {
    expect(headline(paperSystem(), 'throughput')).toBe(
      'Best throughput: 4.81 FPS on eyeriss_like → simba_like, +47.5 % over the best single board (simba_like, 3.26 FPS).',
    );
  });

  it.each([
    ['throughput', 'Best throughput: no plan (infeasible: no board has room for node conv1).'],
    ['latency', 'Lowest latency: no plan (infeasible: no board has room for node conv1).'],
  ] as const)('says why there is no %s plan', (o, expected) => {
    const s = paperSystem();
    const none: Plan = { status: 'infeasible', objective: o, solveMs: 1, reason: 'no board has room for node conv1', baselines: [] };
    expect(headline({ ...s, plans: { ...s.plans, [o]: none } }, o)).toBe(expected);
  });

  it('headlines of the fixture name the best single board that fits its memory', () => {
    const s = fixture.systems[0] as ReportSystem;
    expect(headline(s, 'throughput')).toBe(
      'Best throughput: 281.9 FPS on rpi5 → npu_stick → jetson_orin_nano, +57.4 % over the best single board (jetson_orin_nano, 179.1 FPS).',
    );
    expect(headline(s, 'energy')).toBe(
      'Lowest energy: 40.2 mJ on rpi5 → npu_stick → jetson_orin_nano, −4.5 % against the best single board (rpi5, 42.1 mJ).',
    );
  });
});

describe('plan rows of the fixture', () => {
  const rows = planRows(fixture);
  const s1 = fixture.systems[0] as ReportSystem;

  it('has one row per optimum, per baseline and per Pareto point, systems in order', () => {
    const count = (system: string, kind: string) => rows.filter((r) => r.system === system && r.kind === kind).length;
    expect(count('squeezenet-3boards', 'optimum')).toBe(3);
    expect(count('squeezenet-3boards', 'baseline')).toBe(5);
    expect(count('squeezenet-3boards', 'pareto')).toBe(
      (s1.pareto['throughput,energy']?.front.length ?? 0) + (s1.pareto['latency,energy']?.front.length ?? 0),
    );
    expect(count('squeezenet-2boards <eth>', 'optimum')).toBe(3);
    expect(count('squeezenet-2boards <eth>', 'baseline')).toBe(4);
    expect(count('squeezenet-2boards <eth>', 'pareto')).toBe(1);
    expect(rows.map((r) => Object.keys(r))).toEqual(rows.map(() => [...PLAN_COLUMNS]));
  });

  it.each([
    ['optimum:throughput', { status: 'optimal', throughputFps: 281.928, stages: 'rpi5[0..7] > npu_stick[8..14] > jetson_orin_nano[15..29]', bottleneck: 'rpi5', gain: 281.928 / 179.147 - 1 }],
    ['optimum:latency', { status: 'optimal', latencyMs: 6.932, stages: 'rpi5[0..3] > jetson_orin_nano[4..29]', bottleneck: 'jetson_orin_nano', gain: 6.932 / 10.533 - 1 }],
    ['optimum:energy', { status: 'optimal', energyMj: 40.178, gain: 40.178 / 42.077 - 1 }],
    ['single:jetson_orin_nano', { status: 'feasible', throughputFps: 179.147, gain: 0 }],
    ['single:npu_stick', { status: 'infeasible', throughputFps: 65.561, reasonIncludes: 'npu_stick needs 8.66 MB of its 1.50 MB' }],
    ['split:rpi5->jetson_orin_nano', { status: 'feasible', throughputFps: 236.183, stages: 'rpi5[0..8] > jetson_orin_nano[9..29]', gain: 236.183 / 179.147 - 1 }],
  ])('system 1 %s', (name, want) => {
    const row = rows.find((r) => r.system === 'squeezenet-3boards' && r.name === name);
    expect(row).toBeDefined();
    const w = want as Record<string, string | number>;
    expect(row?.status).toBe(w.status);
    if (w.throughputFps !== undefined) expect(row?.throughputFps).toBe(w.throughputFps);
    if (w.latencyMs !== undefined) expect(row?.latencyMs).toBe(w.latencyMs);
    if (w.energyMj !== undefined) expect(row?.energyMj).toBe(w.energyMj);
    if (w.stages !== undefined) expect(row?.stages).toBe(w.stages);
    if (w.bottleneck !== undefined) expect(row?.bottleneck).toBe(w.bottleneck);
    if (w.gain !== undefined) expect(row?.gainOverBestSingleBoard).toBeCloseTo(w.gain as number, 9);
    if (w.reasonIncludes !== undefined) expect(row?.reason).toContain(w.reasonIncludes);
  });

  it('shows the infeasible energy plan and the empty front of system 2 with reasons, never zeros', () => {
    const s2 = rows.filter((r) => r.system === 'squeezenet-2boards <eth>');
    const energy = s2.find((r) => r.name === 'optimum:energy');
    expect(energy).toMatchObject({
      status: 'infeasible', throughputFps: null, latencyMs: null, energyMj: null, stages: '', bottleneck: '',
      gainOverBestSingleBoard: null, linkBytes: null, solveMs: 3.1,
    });
    expect(energy?.reason).toMatch(/maxEnergyMj 40/);
    const front = s2.find((r) => r.kind === 'pareto');
    expect(front).toMatchObject({ name: 'pareto:throughput/energy', status: 'infeasible', throughputFps: null });
    expect(front?.reason).toMatch(/no plan meets/);
  });

  it('measures gains of baselines in the system objective and of Pareto points in their first objective', () => {
    const s2latency = rows.find((r) => r.system === 'squeezenet-2boards <eth>' && r.name === 'split:rpi5->jetson_orin_nano');
    expect(s2latency?.objective).toBe('latency');
    expect(s2latency?.gainOverBestSingleBoard).toBeCloseTo(9.599 / 10.533 - 1, 9);
    const p = rows.find((r) => r.name === 'pareto:latency/energy#1');
    expect(p?.objective).toBe('latency/energy');
    expect(p?.gainOverBestSingleBoard).toBeCloseTo((p?.latencyMs ?? 0) / 10.533 - 1, 9);
  });

  it('picks the best single board among those that fit their memory cap', () => {
    expect(bestSingleBoard(s1, 'throughput')?.name).toBe('single:jetson_orin_nano');
    // npu_stick alone has the lowest energy (27.1 mJ) but needs 8.66 MB of its 1.50 MB.
    expect(bestSingleBoard(s1, 'energy')?.name).toBe('single:rpi5');
    expect(bestSingleBoard(s1, 'latency')?.name).toBe('single:jetson_orin_nano');
  });
});
