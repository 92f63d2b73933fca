// The pipeline-aware lower bound against exhaustive enumeration: never above the optimum (on DAGs with
// skips, caps, unsupported nodes, missing links, boundary costs, model outputs mid-graph, identical
// boards), equal to it where nothing is relaxed (chains, uniform links, a group per cut set), and
// still a bound when cut sets share groups.

import { describe, expect, it } from 'vitest';
import { enumeratePlans, objectiveValue, solve, type Objective, type Problem } from '../src/index.js';
import { chainBound, chainBoundAndPlan } from '../src/_chain-bound.js';
import { compile } from '../src/_compiled.js';
import { assignmentProblem, metricsOf } from '../src/evaluate.js';
import { randomProblem, rng, type RandomOptions } from './_random.js';
import { wideProblem } from './_wide.js';

const OBJECTIVES: Objective[] = ['throughput', 'latency', 'energy'];
const FAR = Number.POSITIVE_INFINITY;

/** Stage boundary costs on every board, an intermediate model output, and optionally boards made identical. */
function dressed(p: Problem, seed: number, identical: boolean): Problem {
  const r = rng(seed * 31 + 7);
  const boards = p.boards.map((b, i) => ({
    ...(identical && i > 0 ? { ...p.boards[0]!, id: b.id } : b),
    boundary: { fixedMs: r() * 0.5, inMsPerByte: r() * 2e-4, outMsPerByte: r() * 2e-4 },
  }));
  const last = p.tensors.findIndex((t) => t.producer !== null && t.consumers.length === 0);
  const mid = p.tensors.findIndex((t) => t.producer === p.nodes[1]?.id);
  const tensors = p.tensors.map((t, i) => (i === last || i === mid ? { ...t, modelOutput: true } : t));
  return { ...p, boards, tensors };
}

function optimum(p: Problem, objective: Objective): number {
  const all = enumeratePlans(p);
  return Math.min(...all.map((x) => objectiveValue(x.metrics, objective)));
}

interface Case { readonly name: string; readonly opts: Omit<RandomOptions, 'objective' | 'boardOrder'>; readonly identical?: boolean }

const CASES: Case[] = [
  { name: 'skips, 3 boards', opts: { nodes: 7, boards: 3, skip: 0.35 } },
  { name: 'skips, 4 boards, ethernet, input not first', opts: { nodes: 6, boards: 4, skip: 0.3, ethernet: true, inputNotFirst: true } },
  { name: 'caps and unsupported nodes', opts: { nodes: 7, boards: 3, skip: 0.3, memoryCaps: true, unsupported: 0.15 } },
  { name: 'missing links', opts: { nodes: 6, boards: 3, skip: 0.3, missingLinks: 0.4 } },
  { name: 'zero-cost sources', opts: { nodes: 6, boards: 3, skip: 0.2, constants: 3 } },
  { name: 'identical boards', opts: { nodes: 7, boards: 4, skip: 0.3, uniformLinks: true }, identical: true },
];

describe('chainBound', () => {
  for (const c of CASES) {
    it(`never exceeds the enumerated optimum: ${c.name}`, () => {
      for (let seed = 1; seed <= 5; seed++) {
        for (const free of ['free', 'fixed'] as const) {
          const p = dressed(randomProblem(seed, { ...c.opts, objective: 'throughput', boardOrder: free }), seed, c.identical === true);
          const cp = compile(p);
          for (const o of OBJECTIVES) {
            const best = optimum(p, o);
            // A group per cut set, then two groups (cut sets share them): both must stay below.
            for (const groups of [4096, 2]) {
              const b = chainBound(cp, o, FAR, groups);
              expect(b, `${c.name} seed ${seed} ${free} ${o} groups ${groups}`).toBeDefined();
              expect(b!, `${c.name} seed ${seed} ${free} ${o} groups ${groups}: bound ${b} vs optimum ${best}`).toBeLessThanOrEqual(best * (1 + 1e-9) + 1e-12);
              expect(b!).toBeGreaterThan(0);
            }
          }
        }
      }
    });
  }

  it('equals the optimum on chains with uniform links (nothing relaxed)', () => {
    for (let seed = 1; seed <= 6; seed++) {
      const p = dressed(randomProblem(seed, { nodes: 7, boards: 3, objective: 'throughput', boardOrder: 'free', uniformLinks: true }), seed, false);
      const cp = compile(p);
      for (const o of OBJECTIVES) {
        const best = optimum(p, o);
        const b = chainBound(cp, o, FAR)!;
        expect(Math.abs(b - best), `seed ${seed} ${o}: bound ${b} vs optimum ${best}`).toBeLessThanOrEqual(1e-6 * best);
      }
    }
  });

  it('is far stronger than a fractional split where stages must be contiguous', () => {
    // A chain: two boards, one fast at odd nodes, one fast at even ones. Any per-node bound lets each
    // take its fast nodes; a pipeline of contiguous stages cannot interleave.
    const n = 8;
    const ids = Array.from({ length: n }, (_, i) => `n${i}`);
    const lat = (fastOdd: boolean) => Object.fromEntries(ids.map((id, i) => [id, (i % 2 === 1) === fastOdd ? 1 : 10]));
    const p: Problem = {
      version: 1,
      nodes: ids.map((id) => ({ id, memoryBytes: 1 })),
      tensors: [{ id: 'x', producer: null, consumers: ['n0'], bytes: 10 }, ...ids.map((id, i) => ({ id: `t${i}`, producer: id, consumers: i + 1 < n ? [ids[i + 1]!] : [], bytes: 10 }))],
      boards: [{ id: 'a', memoryBytes: null, latencyMs: lat(true) }, { id: 'b', memoryBytes: null, latencyMs: lat(false) }],
      links: [{ from: 'a', to: 'b', bandwidthBytesPerSec: 1e9, latencyMs: 0, powerW: 0 }, { from: 'b', to: 'a', bandwidthBytesPerSec: 1e9, latencyMs: 0, powerW: 0 }],
      inputBoard: 'a', objective: 'throughput', boardOrder: 'free',
    };
    const best = optimum(p, 'throughput');
    const b = chainBound(compile(p), 'throughput', FAR)!;
    // Interleaved, each board would carry 4 ms; contiguous halves carry 22 ms.
    expect(best).toBeCloseTo(22, 6);
    expect(b).toBeCloseTo(22, 6);
  });

  it('reads a valid plan off its chain, between the bound and any other plan', () => {
    let plans = 0;
    for (let seed = 1; seed <= 6; seed++) {
      for (const uniformLinks of [true, false]) {
        const p = dressed(randomProblem(seed, { nodes: 7, boards: 3, skip: 0.3, objective: 'throughput', boardOrder: 'free', uniformLinks }), seed, false);
        const cp = compile(p);
        for (const o of OBJECTIVES) {
          const r = chainBoundAndPlan(cp, o, FAR);
          if (r.plan === undefined) continue;
          plans++;
          expect(assignmentProblem(cp, r.plan), `seed ${seed} ${o}`).toBeNull();
          const value = objectiveValue(metricsOf(cp, r.plan), o);
          expect(value).toBeGreaterThanOrEqual(r.bound! * (1 - 1e-9));
        }
      }
    }
    expect(plans).toBeGreaterThan(20);
    // A chain graph: the plan read off is an optimal one.
    const chainP = dressed(randomProblem(4, { nodes: 7, boards: 3, objective: 'throughput', boardOrder: 'free', uniformLinks: true }), 4, false);
    for (const o of OBJECTIVES) {
      const r = chainBoundAndPlan(compile(chainP), o, FAR);
      expect(objectiveValue(metricsOf(compile(chainP), r.plan!), o)).toBeCloseTo(optimum(chainP, o), 6);
    }
  });

  it('gives up (undefined) when the deadline has passed', () => {
    const cp = compile(wideProblem(3, { branches: 4, length: 5, boards: 3 }));
    expect(chainBound(cp, 'throughput', performance.now() - 1)).toBeUndefined();
  });

  it('proves the plan of a wide graph optimal or bounds its gap tightly', async () => {
    // 4 branches of 6: 7^4 = 2401 cut sets, past the budget forced below: the coarsened path.
    for (const seed of [1, 2]) {
      const p = wideProblem(seed, { branches: 4, length: 6, boards: 3 });
      const exact = await solve(p, { objective: 'throughput', timeLimitS: 60 });
      expect(exact.status).toBe('optimal');
      const coarse = await solve(p, { objective: 'throughput', timeLimitS: 10, maxCutSets: 50 });
      expect(coarse.lowerBound!).toBeLessThanOrEqual(objectiveValue(exact as never, 'throughput') * (1 + 1e-9));
      const chain = chainBound(compile(p), 'throughput', FAR)!;
      expect(chain).toBeLessThanOrEqual(objectiveValue(exact as never, 'throughput') * (1 + 1e-9));
      expect(coarse.lowerBound!).toBeGreaterThanOrEqual(chain * (1 - 1e-12));
    }
  });
});
