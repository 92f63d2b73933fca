// The report's view of bare problems (cut bytes from tensors) and the gain over the best single board.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseProblem, type Plan } from '@dnnpart/solver';
import { partsFromProblem, problemCuts, summariseObjective } from '@dnnpart/report';

const tiny = parseProblem(JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/cli/tiny.problem.json', import.meta.url)), 'utf8')), 'tiny');

describe('problemCuts', () => {
  it('counts the tensors produced at or before each position and read after it', () => {
    expect(problemCuts(tiny)).toEqual([
      { after: 'a', bytes: 1000, tensors: 1 },
      { after: 'b', bytes: 1000, tensors: 1 },
    ]);
  });

  it('counts skip connections and model inputs read later', () => {
    const p = {
      ...tiny,
      tensors: [
        { id: 'x', producer: null, consumers: ['a', 'c'], bytes: 10 },
        { id: 'ta', producer: 'a', consumers: ['b', 'c'], bytes: 100 },
        { id: 'tb', producer: 'b', consumers: ['c'], bytes: 1000 },
      ],
    };
    expect(problemCuts(p)).toEqual([
      { after: 'a', bytes: 110, tensors: 2 },
      { after: 'b', bytes: 1110, tensors: 3 },
    ]);
  });
});

describe('partsFromProblem', () => {
  it('lists layers with each board’s latency, and boards as imported', () => {
    const parts = partsFromProblem(tiny, 'tiny', 'imported', 'tiny.problem.json');
    expect(parts.layers[1]).toEqual({ name: 'b', op: '', macs: 10, paramBytes: 0, latencyMs: { fast: 1, slow: 2 } });
    expect(parts.model).toEqual({ name: 'tiny', layers: 3, params: 0, macs: 30, file: 'tiny.problem.json' });
    expect(parts.boards.map((b) => [b.id, b.source, b.powerSource, b.memoryBytes])).toEqual([['fast', 'imported', 'imported', null], ['slow', 'imported', 'imported', null]]);
  });
});

describe('summariseObjective', () => {
  const metrics = (fps: number, ms: number, mj: number) => ({ throughputFps: fps, latencyMs: ms, energyMj: mj, stages: [], transfers: [], bottleneck: 'x' });
  const plan = (objective: Plan['objective'], m: ReturnType<typeof metrics>): Plan => ({
    status: 'optimal',
    objective,
    solveMs: 1,
    ...m,
    baselines: [
      { name: 'single:a', kind: 'single-board', ...metrics(100, 10, 50) },
      { name: 'single:b', kind: 'single-board', ...metrics(80, 8, 40) },
      { name: 'split:a->b', kind: 'best-single-split', ...metrics(190, 20, 90) },
    ],
  });
  it.each([
    ['throughput', metrics(150, 12, 60), 'single:a', 0.5],
    ['latency', metrics(150, 6, 60), 'single:b', -0.25],
    ['energy', metrics(150, 12, 30), 'single:b', -0.25],
  ] as const)('%s: against the best single board on that metric', (objective, m, best, gain) => {
    const s = summariseObjective(plan(objective, m), objective);
    expect(s.bestSingleBoard).toBe(best);
    expect(s.gainOverBestSingleBoard).toBeCloseTo(gain, 12);
  });

  it('a plan not proven optimal carries its gap to the proven lower bound; an optimal one none', () => {
    const feasible = summariseObjective({ ...plan('latency', metrics(150, 6, 60)), status: 'feasible', gap: 0.0027, lowerBound: 5.98, reason: 'too wide' }, 'latency');
    expect(feasible).toMatchObject({ status: 'feasible', gap: 0.0027, reason: 'too wide' });
    expect(summariseObjective({ ...plan('latency', metrics(150, 6, 60)), gap: 0 }, 'latency').gap).toBeUndefined();
  });

  it('an infeasible plan has no gain and keeps its reason', () => {
    const s = summariseObjective({ status: 'infeasible', objective: 'throughput', solveMs: 1, reason: 'no room', baselines: [] }, 'throughput');
    expect(s).toEqual({ objective: 'throughput', status: 'infeasible', stages: [], reason: 'no room' });
  });
});
