// The ILP against exhaustive enumeration on seeded random instances: identical optimal values,
// and the reported metrics are those evaluatePlan recomputes from the problem.

import { describe, expect, it } from 'vitest';
import { enumeratePlans, evaluatePlan, objectiveValue, solve, violations, type Objective, type Problem } from '../src/index.js';
import { randomProblem, rng, type RandomOptions } from './_random.js';

const OBJECTIVES: Objective[] = ['throughput', 'latency', 'energy'];

interface Case {
  readonly name: string;
  readonly opts: Omit<RandomOptions, 'objective' | 'boardOrder'>;
  readonly seeds: number;
}

const CASES: Case[] = [
  { name: 'chains, 3 boards', opts: { nodes: 6, boards: 3 }, seeds: 4 },
  { name: 'skip connections', opts: { nodes: 7, boards: 3, skip: 0.35 }, seeds: 5 },
  { name: 'ethernet framing', opts: { nodes: 6, boards: 3, skip: 0.2, ethernet: true }, seeds: 4 },
  { name: 'memory caps', opts: { nodes: 6, boards: 3, skip: 0.2, memoryCaps: true }, seeds: 5 },
  { name: 'activation peaks under memory caps', opts: { nodes: 6, boards: 3, skip: 0.3, memoryCaps: true, activations: true }, seeds: 5 },
  { name: 'activation peaks, zero-cost sources merged', opts: { nodes: 5, boards: 3, skip: 0.2, constants: 2, uniformLinks: true, memoryCaps: true, activations: true }, seeds: 3 },
  { name: 'unsupported nodes', opts: { nodes: 6, boards: 3, skip: 0.2, unsupported: 0.25 }, seeds: 5 },
  { name: 'missing links', opts: { nodes: 6, boards: 3, skip: 0.2, missingLinks: 0.4 }, seeds: 5 },
  { name: 'input board not first', opts: { nodes: 6, boards: 3, skip: 0.2, inputNotFirst: true, ethernet: true }, seeds: 4 },
  { name: 'zero-cost sources (merged exactly)', opts: { nodes: 5, boards: 3, skip: 0.2, constants: 3, uniformLinks: true, ethernet: true }, seeds: 4 },
  { name: 'zero-cost sources, input board not first', opts: { nodes: 5, boards: 3, constants: 2, uniformLinks: true, inputNotFirst: true }, seeds: 4 },
  { name: 'empty placeholder outputs (merged exactly)', opts: { nodes: 5, boards: 3, skip: 0.2, constants: 1, emptyOutputs: 2, uniformLinks: true, ethernet: true }, seeds: 4 },
  { name: 'empty placeholder outputs, input board not first', opts: { nodes: 5, boards: 3, emptyOutputs: 3, uniformLinks: true, inputNotFirst: true }, seeds: 3 },
  { name: '4 boards, everything', opts: { nodes: 5, boards: 4, skip: 0.3, memoryCaps: true, unsupported: 0.15, missingLinks: 0.2, ethernet: true, inputNotFirst: true }, seeds: 4 },
];

/** Constraints that cut through the middle of the enumerated values, so they bind. */
function withConstraints(p: Problem, seed: number, all: ReturnType<typeof enumeratePlans>): Problem {
  const r = rng(seed * 7 + 3);
  const pick = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(r() * xs.length)]!;
  const c: { maxLatencyMs?: number; maxEnergyMj?: number; minThroughputFps?: number } = {};
  if (all.length === 0) return p;
  if (r() < 0.6) c.maxLatencyMs = pick(all.map((x) => x.metrics.latencyMs)) * 1.0001;
  if (r() < 0.6) c.maxEnergyMj = pick(all.map((x) => x.metrics.energyMj)) * 1.0001;
  if (r() < 0.6) c.minThroughputFps = pick(all.map((x) => x.metrics.throughputFps)) * 0.9999;
  return { ...p, constraints: c };
}

function check(p: Problem, objective: Objective, label: string, all: ReturnType<typeof enumeratePlans>, res: Awaited<ReturnType<typeof solve>>) {
  const ok = all.filter((x) => violations(x.metrics, p.constraints).length === 0);
  if (ok.length === 0) {
    expect(res.status, label).toBe('infeasible');
    expect(res.reason, label).toBeTruthy();
    return;
  }
  const best = Math.min(...ok.map((x) => objectiveValue(x.metrics, objective)));
  expect(res.status, `${label}: ${res.reason ?? ''}`).toBe('optimal');
  const got = objectiveValue(res as Required<typeof res>, objective);
  expect(Math.abs(got - best), `${label}: ${got} vs enumerated ${best}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(best)));
  // Throughput ties are broken by energy: the plan is the least energy among the enumerated optima.
  if (objective === 'throughput') {
    const second: Objective = 'energy';
    const tied = ok.filter((x) => objectiveValue(x.metrics, objective) <= best * (1 + 1e-9) + 1e-12);
    const bestSecond = Math.min(...tied.map((x) => objectiveValue(x.metrics, second)));
    const gotSecond = objectiveValue(res as Required<typeof res>, second);
    expect(gotSecond, `${label}: tie-break ${second} ${gotSecond} vs enumerated ${bestSecond}`).toBeLessThanOrEqual(bestSecond + 1e-6 * Math.max(1, Math.abs(bestSecond)));
  }
  // Reported metrics are exactly what evaluatePlan computes for the reported stages.
  const again = evaluatePlan(p, res.stages!.map((s) => ({ board: s.board, nodes: s.nodes })));
  expect(res.latencyMs).toBe(again.latencyMs);
  expect(res.energyMj).toBe(again.energyMj);
  expect(res.throughputFps).toBe(again.throughputFps);
  expect(violations(again, p.constraints), label).toEqual([]);
}

describe('solve equals exhaustive enumeration', () => {
  for (const c of CASES) {
    for (const boardOrder of ['fixed', 'free'] as const) {
      it(`${c.name}, ${boardOrder} order, every objective, with and without constraints`, async () => {
        for (let seed = 1; seed <= c.seeds; seed++) {
          for (const objective of OBJECTIVES) {
            const p = randomProblem(seed * 101 + c.name.length, { ...c.opts, objective, boardOrder });
            const all = enumeratePlans(p);
            check(p, objective, `${c.name} seed ${seed} ${objective}`, all, await solve(p));
            const pc = withConstraints(p, seed, all);
            check(pc, objective, `${c.name} seed ${seed} ${objective} constrained ${JSON.stringify(pc.constraints)}`, all, await solve(pc));
          }
        }
      });
    }
  }
});
