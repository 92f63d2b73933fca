// Pareto fronts against the non-dominated set of every enumerated plan.

import { describe, expect, it } from 'vitest';
import { enumeratePlans, evaluatePlan, objectiveValue, solvePareto, violations, type Objective } from '../src/index.js';
import { randomProblem } from './_random.js';

const PAIRS: [Objective, Objective][] = [['throughput', 'latency'], ['latency', 'energy'], ['energy', 'throughput']];

function close(x: number, y: number): boolean {
  return Math.abs(x - y) <= 1e-6 * Math.max(1, Math.abs(x), Math.abs(y));
}

/** Distinct non-dominated (a, b) points, sorted by a. */
function enumeratedFront(points: [number, number][]): [number, number][] {
  const nd = points.filter(([a, b]) => !points.some(([x, y]) => x <= a && y <= b && (x < a - 1e-9 * Math.max(1, a) || y < b - 1e-9 * Math.max(1, b))));
  nd.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  const out: [number, number][] = [];
  for (const p of nd) if (!out.some((q) => close(q[0], p[0]) && close(q[1], p[1]))) out.push(p);
  return out;
}

describe('solvePareto equals the enumerated non-dominated set', () => {
  for (const [a, b] of PAIRS) {
    for (const boardOrder of ['fixed', 'free'] as const) {
      it(`${a},${b} ${boardOrder}`, async () => {
        for (let seed = 1; seed <= 4; seed++) {
          const p = randomProblem(seed * 31 + 7, {
            nodes: 6, boards: 3, objective: a, boardOrder, skip: 0.3, ethernet: seed % 2 === 0, memoryCaps: seed === 3, inputNotFirst: seed === 4,
          });
          const all = enumeratePlans(p).filter((x) => violations(x.metrics, p.constraints).length === 0);
          const want = enumeratedFront(all.map((x) => [objectiveValue(x.metrics, a), objectiveValue(x.metrics, b)]));
          const res = await solvePareto(p, [a, b]);
          expect(res.status).toBe('optimal');
          const got = res.front.map((pl) => [objectiveValue(pl as never, a), objectiveValue(pl as never, b)] as [number, number]);
          expect(got.length, `seed ${seed}: ${JSON.stringify(got.slice(0, 6))} vs ${JSON.stringify(want)}`).toBe(want.length);
          got.forEach((g, i) => {
            expect(close(g[0], want[i]![0]) && close(g[1], want[i]![1]), `seed ${seed} point ${i}: ${g} vs ${want[i]}`).toBe(true);
          });
          for (const pl of res.front) {
            const m = evaluatePlan(p, pl.stages!.map((s) => ({ board: s.board, nodes: s.nodes })));
            expect(m.latencyMs).toBe(pl.latencyMs);
            expect(m.energyMj).toBe(pl.energyMj);
          }
        }
      });
    }
  }

  it('respects constraints and reports an infeasible front with a reason', async () => {
    const p = randomProblem(5, { nodes: 5, boards: 2, objective: 'latency', boardOrder: 'free' });
    const res = await solvePareto({ ...p, constraints: { maxLatencyMs: 0.001 } }, ['latency', 'energy']);
    expect(res.status).toBe('infeasible');
    expect(res.front).toEqual([]);
    expect(res.reason).toBeTruthy();
  });

  it('rejects the same objective twice', async () => {
    const p = randomProblem(5, { nodes: 5, boards: 2, objective: 'latency', boardOrder: 'free' });
    await expect(solvePareto(p, ['latency', 'latency'])).rejects.toMatchObject({ code: 'SOLVER_BAD_OPTION' });
  });
});
