// The renderer on plans from the real solver (GLPK through glpk.js): the shapes the report
// command will hand it, including an infeasible answer with the solver's own reason.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { solve, type Objective, type Plan, type Problem } from '@dnnpart/solver';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ReportData, ReportSystem } from '../src/report-data.js';
import { renderReport, type PlanRow } from '../src/render/index.js';

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/render/report-data.json', import.meta.url), 'utf8'),
) as ReportData;
const base = fixture.systems[0] as ReportSystem;
const POWER_W: Readonly<Record<string, number>> = { jetson_orin_nano: 9.5, rpi5: 2.6, npu_stick: 2.2 };

// The fixture's 30-layer chain as a solver problem: each layer's output feeds the next.
function problemOf(constraints: Problem['constraints']): Problem {
  const layers = base.layers;
  return {
    version: 1,
    name: 'squeezenet-chain',
    nodes: layers.map((l) => ({ id: l.name, memoryBytes: l.paramBytes, macs: l.macs })),
    tensors: [
      { id: 'input', producer: null, consumers: [layers[0]!.name], bytes: 602_112 },
      ...layers.slice(0, -1).map((l, i) => ({
        id: `${l.name}:out`, producer: l.name, consumers: [layers[i + 1]!.name],
        bytes: base.cuts.find((c) => c.after === l.name)!.bytes,
      })),
    ],
    boards: base.boards.map((b) => ({
      id: b.id, memoryBytes: b.memoryBytes,
      latencyMs: Object.fromEntries(layers.map((l) => [l.name, l.latencyMs[b.id]!])),
      energyMj: Object.fromEntries(layers.map((l) => [l.name, l.latencyMs[b.id]! * POWER_W[b.id]!])),
    })),
    links: base.links,
    inputBoard: base.inputBoard,
    objective: 'throughput',
    boardOrder: 'free',
    constraints,
  };
}

async function solveAll(problem: Problem): Promise<Record<Objective, Plan>> {
  const plans: Partial<Record<Objective, Plan>> = {};
  for (const o of ['throughput', 'latency', 'energy'] as const) plans[o] = await solve(problem, { objective: o, timeLimitS: 60 });
  return plans as Record<Objective, Plan>;
}

describe('renderReport on real solver output', () => {
  let rows: PlanRow[] = [];
  let html = '';
  let open: Record<Objective, Plan>;
  let tight: Record<Objective, Plan>;

  beforeAll(async () => {
    open = await solveAll(problemOf({}));
    tight = await solveAll(problemOf({ maxLatencyMs: 3 }));
    const system = (name: string, plans: Record<Objective, Plan>, constraints: Problem['constraints']): ReportSystem => ({
      ...base, name, constraints: constraints ?? {}, plans, pareto: {}, measured: [],
    });
    const data: ReportData = {
      ...fixture,
      systems: [system('open', open, {}), system('tight latency', tight, { maxLatencyMs: 3 })],
    };
    const dir = mkdtempSync(join(tmpdir(), 'dnnpart-solved-'));
    await renderReport(data, dir);
    rows = (JSON.parse(readFileSync(join(dir, 'plans.json'), 'utf8')) as { rows: PlanRow[] }).rows;
    html = readFileSync(join(dir, 'report.html'), 'utf8');
  });

  it.each(['throughput', 'latency', 'energy'] as const)('reports the %s optimum exactly as solved', (o) => {
    const plan = open[o];
    expect(plan.status).toBe('optimal');
    const row = rows.find((r) => r.system === 'open' && r.name === `optimum:${o}`);
    expect(row).toMatchObject({
      status: 'optimal', throughputFps: plan.throughputFps, latencyMs: plan.latencyMs, energyMj: plan.energyMj,
      bottleneck: plan.bottleneck, solveMs: plan.solveMs,
    });
    // Stage labels name every layer once, in order, on the solver's boards.
    const ranges = [...(row?.stages ?? '').matchAll(/(\w+)\[(\d+)\.\.(\d+)\]|(\w+)\[(\d+)\]/g)];
    expect(ranges.map((m) => m[1] ?? m[4])).toEqual(plan.stages?.map((s) => s.board));
    expect(ranges.reduce((n, m) => n + (m[2] !== undefined ? Number(m[3]) - Number(m[2]) + 1 : 1), 0)).toBe(30);
  });

  it('the throughput optimum beats or equals every baseline the solver computed', () => {
    const best = rows.find((r) => r.system === 'open' && r.name === 'optimum:throughput')!;
    const baselines = rows.filter((r) => r.system === 'open' && r.kind === 'baseline');
    expect(baselines.map((b) => b.name)).toEqual(open.throughput.baselines.map((b) => b.name));
    for (const b of baselines) expect(best.throughputFps!).toBeGreaterThanOrEqual(b.throughputFps! * (1 - 1e-9));
    expect(best.gainOverBestSingleBoard).toBeGreaterThan(0);
  });

  it('shows the infeasible answer with the solver\'s reason, and baselines that break the bound as such', () => {
    expect(tight.latency.status).toBe('infeasible');
    const row = rows.find((r) => r.system === 'tight latency' && r.name === 'optimum:latency')!;
    expect(row).toMatchObject({ status: 'infeasible', throughputFps: null, latencyMs: null, energyMj: null });
    expect(row.reason).toBe(tight.latency.reason);
    expect(row.reason).toMatch(/latency/);
    expect(html).toContain(`No plan (infeasible): ${row.reason.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}`);
    const broken = rows.filter((r) => r.system === 'tight latency' && r.kind === 'baseline');
    expect(broken.length).toBeGreaterThan(0);
    for (const b of broken) {
      expect(b.status).toBe('infeasible');
      expect(b.reason).toMatch(/^breaks the constraints: latency/);
    }
  });
});
