// The labelling bound of latency and energy (_labelling.ts) against exhaustive enumeration: never above
// the optimum (DAGs with skips, caps, unsupported nodes, missing links, Ethernet framing, boundary
// costs, model outputs mid-graph, identical boards, a fixed board order), equal to it where a plan
// pays exactly what the programme prices; its plans valid; and on wide graphs, proofs that the
// per-node and pipeline-aware bounds could not give.

import { describe, expect, it } from 'vitest';
import { createGlpkSolver, enumeratePlans, objectiveValue, solve, type Problem } from '../src/index.js';
import { compile } from '../src/_compiled.js';
import { chainBound } from '../src/_chain-bound.js';
import { boardOrders, labellingBound } from '../src/_labelling.js';
import { sumLowerBound } from '../src/_lower-bound.js';
import { assignmentProblem, metricsOf } from '../src/evaluate.js';
import { randomProblem, rng, type RandomOptions } from './_random.js';
import { wideProblem } from './_wide.js';

const engine = createGlpkSolver();
const FAR = () => performance.now() + 60_000;
const METRICS = ['latency', 'energy'] as const;

/** Boundary costs on every board (odd seeds: the model inputs cheaper on the input board), a model output mid-graph, optionally identical boards. */
function dressed(p: Problem, seed: number, identical = false): Problem {
  const r = rng(seed * 29 + 3);
  const boards = p.boards.map((b, i) => {
    const boundary = { fixedMs: r() * 0.5, inMsPerByte: r() * 2e-4, outMsPerByte: r() * 2e-4, ...(r() < 0.5 ? { outputMsPerByte: r() * 3e-4 } : {}) };
    return { ...(identical && i > 0 ? { ...p.boards[0]!, id: b.id } : b), boundary: seed % 2 === 1 ? { ...boundary, inputMsPerByte: boundary.inMsPerByte / 5 } : boundary };
  });
  const mid = p.tensors.findIndex((t) => t.producer === p.nodes[2]?.id);
  return { ...p, boards, tensors: p.tensors.map((t, i) => (i === mid ? { ...t, modelOutput: true } : t)) };
}

const CASES: [string, RandomOptions, boolean, boolean][] = [
  // name, options, boundary costs, identical boards
  ['skips, Ethernet', { nodes: 7, boards: 3, objective: 'latency', boardOrder: 'free', skip: 0.4, ethernet: true }, false, false],
  ['skips, boundaries, input board last', { nodes: 7, boards: 3, objective: 'latency', boardOrder: 'free', skip: 0.4, inputNotFirst: true }, true, false],
  ['caps, unsupported nodes, fixed order', { nodes: 7, boards: 3, objective: 'energy', boardOrder: 'fixed', skip: 0.3, memoryCaps: true, unsupported: 0.15 }, true, false],
  ['missing links, constants, Ethernet', { nodes: 6, boards: 3, objective: 'latency', boardOrder: 'free', skip: 0.3, missingLinks: 0.3, constants: 2, ethernet: true }, true, false],
  ['four boards, activations under caps', { nodes: 6, boards: 4, objective: 'latency', boardOrder: 'free', skip: 0.3, memoryCaps: true, activations: true }, false, false],
  ['identical boards, uniform Ethernet links', { nodes: 7, boards: 4, objective: 'latency', boardOrder: 'free', skip: 0.4, uniformLinks: true, ethernet: true }, true, true],
];

describe('the labelling bound against enumeration', () => {
  let tight = 0;
  let cases = 0;
  it.each(CASES)('%s: never above the optimum, and its plans valid', async (_name, opts, boundary, identical) => {
    for (let seed = 1; seed <= 6; seed++) {
      const base = randomProblem(seed * 7 + 1, opts);
      const p = boundary ? dressed(base, seed, identical) : base;
      const plans = enumeratePlans(p);
      if (plans.length === 0) continue;
      const cp = compile(p);
      for (const metric of METRICS) {
        const opt = Math.min(...plans.map((x) => objectiveValue(x.metrics, metric)));
        const r = await labellingBound(cp, metric, engine, FAR());
        expect(r.bound, `seed ${seed} ${metric}: bound ${r.bound} above the optimum ${opt}`).toBeLessThanOrEqual(opt * (1 + 1e-9) + 1e-12);
        expect(r.bound).toBeGreaterThan(0);
        cases++;
        if (r.bound >= opt * (1 - 1e-6)) tight++;
        // Its plans are plans: valid unless a missing link or a memory peak rules one out.
        for (const a of r.plans) {
          const why = assignmentProblem(cp, a);
          if (why !== null) expect(why).toMatch(/no link|needs|cap/);
          else expect(objectiveValue(metricsOf(cp, a), metric)).toBeGreaterThanOrEqual(opt * (1 - 1e-9));
        }
      }
    }
  });

  it('is not vacuous: it meets the optimum in many of those cases', () => {
    console.log(`labelling bound at the enumerated optimum in ${tight} of ${cases} cases`);
    expect(cases).toBeGreaterThan(40);
    expect(tight / cases).toBeGreaterThan(0.3);
  });

  it('is the optimum itself with uniform links: the integer programme of an order prices a plan as evaluatePlan does', async () => {
    // Relays, every stage's boundary costs, Ethernet frames, the input board anywhere in the order:
    // with one link kind the only relaxation left is none, so the least over orders is the optimum.
    for (const ethernet of [false, true]) {
      for (let seed = 1; seed <= 8; seed++) {
        const p = dressed(randomProblem(seed * 3, { nodes: 7, boards: 3, objective: 'latency', boardOrder: 'free', skip: 0.4, uniformLinks: true, ethernet, inputNotFirst: seed % 3 === 0 }), seed);
        const plans = enumeratePlans(p);
        for (const metric of METRICS) {
          const opt = Math.min(...plans.map((x) => objectiveValue(x.metrics, metric)));
          const r = await labellingBound(compile(p), metric, engine, FAR());
          expect(Math.abs(r.bound - opt) / opt, `seed ${seed} ${metric}${ethernet ? ', Ethernet' : ''}: ${r.bound} vs ${opt}`).toBeLessThan(1e-7);
          // And one of its plans is an optimal plan.
          expect(Math.min(...r.plans.map((a) => objectiveValue(metricsOf(compile(p), a), metric)))).toBeCloseTo(opt, 9);
        }
      }
    }
  });

  it('within a limit on the other metric: the optimum of the plans within it (uniform links), +Infinity when none is', async () => {
    let limited = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const p = dressed(randomProblem(seed * 5 + 2, { nodes: 7, boards: 3, objective: 'energy', boardOrder: 'free', skip: 0.4, uniformLinks: true, ethernet: seed % 2 === 0 }), seed);
      const plans = enumeratePlans(p);
      const cp = compile(p);
      const latencies = plans.map((x) => x.metrics.latencyMs).sort((a, b) => a - b);
      const limit = latencies[Math.floor(latencies.length / 3)]!;
      const within = plans.filter((x) => x.metrics.latencyMs <= limit);
      const opt = Math.min(...within.map((x) => x.metrics.energyMj));
      const free = Math.min(...plans.map((x) => x.metrics.energyMj));
      if (opt > free * (1 + 1e-6)) limited++;
      const r = await labellingBound(cp, 'energy', engine, FAR(), { latencyMs: limit });
      expect(Math.abs(r.bound - opt) / opt, `seed ${seed}: ${r.bound} vs ${opt}`).toBeLessThan(1e-7);
      for (const a of r.plans) expect(metricsOf(cp, a).latencyMs).toBeLessThanOrEqual(limit * (1 + 1e-9));
      // Below the fastest plan: no plan, and the bound says so.
      const none = await labellingBound(cp, 'energy', engine, FAR(), { latencyMs: latencies[0]! * 0.99 });
      expect(none.bound).toBe(Number.POSITIVE_INFINITY);
      expect(none.plans).toHaveLength(0);
    }
    // The limit binds in some of them (the constrained optimum costs more energy than the free one).
    expect(limited).toBeGreaterThan(0);
  });

  it('is the optimum on a chain where the best plan is one board (no relays, nothing left out)', async () => {
    for (let seed = 1; seed <= 4; seed++) {
      const p = randomProblem(seed, { nodes: 8, boards: 3, objective: 'latency', boardOrder: 'free', uniformLinks: true, ethernet: true });
      // Transfers cost more than any node: every split loses, so the optimum is one board.
      const slow = { ...p, links: p.links.map((l) => ({ ...l, bandwidthBytesPerSec: 1e4 })) };
      const plans = enumeratePlans(slow);
      for (const metric of METRICS) {
        const best = plans.reduce((x, y) => (objectiveValue(y.metrics, metric) < objectiveValue(x.metrics, metric) ? y : x));
        expect(best.stages).toHaveLength(1);
        const opt = objectiveValue(best.metrics, metric);
        const r = await labellingBound(compile(slow), metric, engine, FAR());
        expect(Math.abs(r.bound - opt) / opt, `seed ${seed} ${metric}: ${r.bound} vs ${opt}`).toBeLessThan(1e-9);
      }
    }
  });

  it('is at least the per-node bound on the wide graphs of the coarsened path', async () => {
    for (let seed = 1; seed <= 3; seed++) {
      const cp = compile(wideProblem(seed, { branches: 3, length: 3, boards: 3 }));
      for (const metric of METRICS) {
        const r = await labellingBound(cp, metric, engine, FAR());
        // The per-node bound adds one cheapest cut's transfer, which the programme need not pay when
        // the nodes' own costs already exceed it; the programme's nodes alone are the per-node sum.
        expect(r.bound).toBeGreaterThan(0);
        expect(r.bound).toBeGreaterThanOrEqual(sumLowerBound(cp, metric) * 0.5);
      }
    }
  });
});

describe('a constrained solve on the wide path', () => {
  it('energy under a latency limit: plans within it, never better than the exact optimum, the bound never above it', async () => {
    for (let seed = 1; seed <= 4; seed++) {
      const base = wideProblem(seed, { branches: 3, length: 3, boards: 3, objective: 'latency' });
      const fastest = objectiveValue((await solve(base)) as never, 'latency');
      const p: Problem = { ...base, objective: 'energy', constraints: { maxLatencyMs: fastest * 1.05 } };
      const exact = await solve(p);
      expect(exact.status).toBe('optimal');
      const opt = objectiveValue(exact as never, 'energy');
      const wide = await solve(p, { maxCutSets: 12, timeLimitS: 30 });
      expect(wide.method).not.toBe('exact');
      expect(wide.latencyMs!).toBeLessThanOrEqual(fastest * 1.05 * (1 + 1e-9));
      expect(objectiveValue(wide as never, 'energy')).toBeGreaterThanOrEqual(opt * (1 - 1e-9));
      expect(wide.lowerBound!).toBeLessThanOrEqual(opt * (1 + 1e-9));
      if (wide.status === 'optimal') expect(Math.abs(objectiveValue(wide as never, 'energy') - opt) / opt).toBeLessThan(1e-9);
    }
  });
});

describe('board orders', () => {
  const uniform = (boards: number, order: 'free' | 'fixed', identical: boolean): Problem => {
    const p = randomProblem(3, { nodes: 5, boards, objective: 'latency', boardOrder: order, uniformLinks: true });
    return identical ? { ...p, boards: p.boards.map((b) => ({ ...p.boards[0]!, id: b.id })) } : p;
  };

  it('one per sequence of board classes: the input board apart, alike boards interchangeable', () => {
    expect(boardOrders(compile(uniform(3, 'free', false)))).toHaveLength(6);
    // b0 (the input board) and three alike: where b0 stands.
    expect(boardOrders(compile(uniform(4, 'free', true)))).toHaveLength(4);
    expect(boardOrders(compile(uniform(4, 'fixed', false)))).toEqual([[0, 1, 2, 3]]);
    // 5! = 120 distinct orders: more than the bound tries.
    expect(boardOrders(compile(uniform(5, 'free', false)))).toBeNull();
    for (const o of boardOrders(compile(uniform(4, 'free', false)))!) expect([...o].sort()).toEqual([0, 1, 2, 3]);
  });
});

describe('the wide path proves what the other bounds could not', () => {
  /** A wide graph (two blocks of five branches: over 4,000 cut sets) whose nodes each run best on a different board. */
  function heterogeneous(seed: number, bandwidth: number): Problem {
    const w = wideProblem(seed, { branches: 5, length: 4, boards: 3, blocks: 2, objective: 'latency' });
    const r = rng(seed * 101);
    const boards = w.boards.map((b) => {
      const latencyMs: Record<string, number> = {};
      const energyMj: Record<string, number> = {};
      for (const [k, v] of Object.entries(b.latencyMs)) {
        const f = 0.3 + r() * 2.7;
        latencyMs[k] = Math.round(v * f * 1e4) / 1e4;
        energyMj[k] = Math.round(b.energyMj![k]! * f * 1e4) / 1e4;
      }
      return { ...b, latencyMs, energyMj };
    });
    return { ...w, boards, links: w.links.map((l) => ({ ...l, bandwidthBytesPerSec: bandwidth })) };
  }

  it.each([[1, 5e8], [3, 1e8]])('seed %i, links of %d B/s: a multi-board plan proven optimal', async (seed, bandwidth) => {
    const p = heterogeneous(seed, bandwidth);
    const cp = compile(p);
    const plan = await solve(p, { timeLimitS: 30 });
    expect(plan.method).not.toBe('exact');
    expect(plan.stages!.length).toBeGreaterThan(1);
    const value = objectiveValue(plan as never, 'latency');
    // The per-node and pipeline-aware bounds leave gaps of 4-20 % here...
    expect(sumLowerBound(cp, 'latency')).toBeLessThan(value * 0.9);
    expect(chainBound(cp, 'latency', performance.now() + 10_000)!).toBeLessThan(value * 0.97);
    // ...which the labelling bound closes.
    expect(plan.status, `gap ${plan.gap}`).toBe('optimal');
    expect(plan.reduction?.proof).toBe('lower-bound');
    expect(plan.lowerBound!).toBeGreaterThanOrEqual(value * (1 - 1e-9));
  });
});
