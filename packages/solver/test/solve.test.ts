// solve(): infeasible answers with their reasons, options, statuses, baselines.

import { describe, expect, it } from 'vitest';
import { computeBaselines, createGlpkSolver, enumeratePlans, solve, type Problem, type Solver } from '../src/index.js';
import { randomProblem } from './_random.js';
import { tinyProblem } from './_fixtures.js';

/** One node n; board a is fast and hungry, b slow and frugal; zero-byte input, so no transfer costs. */
function tradeoff(constraints: Problem['constraints']): Problem {
  return {
    version: 1,
    nodes: [{ id: 'n', memoryBytes: 10 }],
    tensors: [{ id: 'x', producer: null, consumers: ['n'], bytes: 0 }],
    boards: [
      { id: 'a', memoryBytes: null, latencyMs: { n: 1 }, energyMj: { n: 10 } },
      { id: 'b', memoryBytes: null, latencyMs: { n: 10 }, energyMj: { n: 1 } },
    ],
    links: [{ from: 'a', to: 'b', bandwidthBytesPerSec: 1e6, latencyMs: 0, powerW: 0 }],
    inputBoard: 'a', objective: 'latency', boardOrder: 'free',
    ...(constraints === undefined ? {} : { constraints }),
  };
}

const tiny = tinyProblem();
const noConstraints: Problem = { ...tiny, constraints: {} };

describe('solve: infeasible answers name the cause', () => {
  it.each<[string, Problem, string]>([
    ['no board can run a node', { ...noConstraints, boards: tiny.boards.map((b) => ({ ...b, latencyMs: Object.fromEntries(Object.entries(b.latencyMs).filter(([k]) => k !== 'conv2')) })) },
      'no board can run node "conv2"'],
    ['no board has room', { ...noConstraints, boards: tiny.boards.map((b) => ({ ...b, memoryBytes: 1000 })) },
      'no board has room for node "conv1" (needs 37632 bytes, largest cap 1000)'],
    ['no board has room for a node and what is alive while it runs', { ...noConstraints, nodes: tiny.nodes.map((x) => ({ ...x, activationBytes: 5000 })), boards: tiny.boards.map((b) => ({ ...b, memoryBytes: 40000 })) },
      'no board has room for node "conv1" (needs 42632 bytes: 37632 of its own and 5000 alive while it runs, largest cap 40000)'],
    ['unreachable board', { ...noConstraints, links: [], boards: [tiny.boards[0]!, { ...tiny.boards[1]!, id: 'rpi' }].map((b, i) => (i === 0 ? { ...b, latencyMs: { conv1: 1 } } : b)) },
      'node "relu1" can run only on boards the input cannot reach (no link from "jetson" to "rpi")'],
    ['throughput out of reach', { ...tiny, constraints: { minThroughputFps: 1000 } },
      'the best reachable throughput is 400 FPS against the required 1000'],
    ['latency out of reach', { ...tiny, constraints: { maxLatencyMs: 1 } },
      'the lowest reachable latency is 2.5 ms against the maximum 1'],
    ['energy out of reach', { ...tiny, constraints: { maxEnergyMj: 0.5 } },
      'the lowest reachable energy is 1.8 mJ against the maximum 0.5'],
    ['constraints that conflict', tradeoff({ maxLatencyMs: 5, maxEnergyMj: 5 }),
      'the constraints cannot be met together, though each alone can (best latency 1 ms, best energy 1 mJ)'],
    ['memory caps and links', {
      ...noConstraints,
      boards: tiny.boards.map((b) => ({ ...b, memoryBytes: 40000 })),
      links: [],
    }, 'no plan fits the memory caps with the available links and the nodes each board can run'],
  ])('%s', async (_name, problem, reason) => {
    const plan = await solve(problem);
    expect(plan.status).toBe('infeasible');
    expect(plan.reason).toBe(reason);
    expect(plan.stages).toBeUndefined();
  });
});

describe('solve: answers', () => {
  it('meets all three constraints of the issue example and reports the optimum', async () => {
    const plan = await solve(tiny);
    expect(plan.status).toBe('optimal');
    expect(plan.throughputFps).toBeCloseTo(400, 9);
    expect(plan.stages!.map((s) => s.board)).toEqual(['jetson']);
    expect(plan.engine).toBe('glpk');
    expect(plan.reduction).toMatchObject({ nodes: 4, tensors: 5, boards: 2, cutSets: 5 });
  });

  it('overrides the objective', async () => {
    const plan = await solve(tradeoff(undefined), { objective: 'energy' });
    expect(plan.objective).toBe('energy');
    expect(plan.energyMj).toBe(1);
    expect(plan.stages!.map((s) => s.board)).toEqual(['b']);
  });

  it.each<[string, object]>([
    ['objective', { objective: 'speed' }],
    ['timeLimitS', { timeLimitS: -1 }],
    ['timeLimitS', { timeLimitS: Number.NaN }],
    ['maxCutSets', { maxCutSets: 1 }],
    ['maxCutSets', { maxCutSets: 2.5 }],
  ])('rejects a bad %s option', async (_n, options) => {
    await expect(solve(tiny, options as never)).rejects.toMatchObject({ code: 'SOLVER_BAD_OPTION' });
  });

  it('reports "feasible" (unproven, with the dynamic-programme plan) when the engine runs out of time', async () => {
    const glpk = createGlpkSolver();
    const slow: Solver = {
      name: 'out-of-time',
      async solve(lp, o) {
        if (o?.relax === true) return glpk.solve(lp, o);
        return { status: 'no-solution', objective: Number.NaN, values: {}, ms: 1, timedOut: true };
      },
    };
    // A problem whose seed plans the pipeline-aware bound does not prove (tiny's are: see below).
    const p = randomProblem(1, { nodes: 6, boards: 3, skip: 0.3, objective: 'throughput', boardOrder: 'fixed' });
    const best = Math.max(...enumeratePlans(p).map((x) => x.metrics.throughputFps));
    const plan = await solve(p, { engine: slow });
    expect(plan.status).toBe('feasible');
    expect(plan.throughputFps).toBeCloseTo(best, 9);
    expect(plan.reason).toMatch(/time limit/);
    // tiny's best seed meets the lower bound: optimal without the engine.
    const proven = await solve({ ...tiny, constraints: {} }, { engine: slow });
    expect(proven.status).toBe('optimal');
    expect(proven.reduction?.proof).toBe('lower-bound');
    expect(proven.throughputFps).toBeCloseTo(400, 9);
  });

  it('falls back on the exact programme\'s plan, checked by GLPK, when the full ILP runs out of time', async () => {
    const glpk = createGlpkSolver();
    let calls = 0;
    const firstTimesOut: Solver = {
      name: 'glpk',
      async solve(lp, o) {
        if (calls++ === 0) return { status: 'no-solution', objective: Number.NaN, values: {}, ms: 1, timedOut: true };
        return glpk.solve(lp, o);
      },
    };
    const p = randomProblem(1, { nodes: 6, boards: 3, skip: 0.3, objective: 'throughput', boardOrder: 'fixed' });
    const best = Math.max(...enumeratePlans(p).map((x) => x.metrics.throughputFps));
    const plan = await solve(p, { engine: firstTimesOut });
    expect(plan.status).toBe('optimal');
    expect(plan.reduction?.proof).toBe('programme+ilp-check');
    expect(plan.throughputFps).toBeCloseTo(best, 9);
    expect((await solve(p)).reduction?.proof).toBe('ilp');
  });

  it('returns the best baseline within the constraints when the search finds no plan in time', async () => {
    const slow: Solver = { name: 'out-of-time', async solve() { return { status: 'no-solution', objective: Number.NaN, values: {}, ms: 1, timedOut: true }; } };
    // Only the compromise board c meets both bounds; no seed plan (fastest, leanest) does.
    const base = tradeoff({ maxLatencyMs: 6, maxEnergyMj: 6 });
    const p: Problem = {
      ...base, objective: 'throughput',
      boards: [...base.boards, { id: 'c', memoryBytes: null, latencyMs: { n: 5 }, energyMj: { n: 5 } }],
      links: [...base.links, { from: 'a', to: 'c', bandwidthBytesPerSec: 1e6, latencyMs: 0, powerW: 0 }],
    };
    expect((await solve(p)).stages?.map((x) => x.board)).toEqual(['c']);
    const plan = await solve(p, { engine: slow, timeLimitS: 5 });
    // Never worse than a baseline it prints: single:c meets both bounds, unproven by the engine.
    expect(plan.status).toBe('feasible');
    expect(plan.method).toBe('baseline');
    expect(plan.stages?.map((x) => x.board)).toEqual(['c']);
    expect(plan.reason).toBe('the search found nothing better than the baseline single:c; not proven optimal');
    expect(plan.lowerBound).toBeLessThanOrEqual(5);
  });
});

describe('solve: exact reduction', () => {
  it('merges a zero-cost source (an ONNX Constant) into its consumer and reports it in the plan', async () => {
    const p: Problem = {
      ...tiny,
      constraints: {},
      nodes: [...tiny.nodes, { id: 'const0', memoryBytes: 0 }],
      tensors: [...tiny.tensors, { id: 'k', producer: 'const0', consumers: ['conv2'], bytes: 8 }],
      boards: tiny.boards.map((b) => ({ ...b, latencyMs: { ...b.latencyMs, const0: 0 }, energyMj: { ...b.energyMj, const0: 0 } })),
    };
    const plan = await solve(p);
    expect(plan.status).toBe('optimal');
    expect(plan.reduction).toMatchObject({ nodes: 5, mergedNodes: 1, cutSets: 5 });
    const host = plan.stages!.find((s) => s.nodes.includes('conv2'))!;
    expect(host.nodes).toContain('const0');
  });

  it('places free nodes that give only empty model outputs (a merged decoder\'s placeholders) with the first node', async () => {
    const p: Problem = {
      ...tiny,
      constraints: {},
      nodes: [...tiny.nodes, { id: 'empty0', memoryBytes: 0 }, { id: 'empty1', memoryBytes: 0 }],
      tensors: [...tiny.tensors, ...['empty0', 'empty1'].map((id) => ({ id: `${id}_out`, producer: id, consumers: [], bytes: 0, modelOutput: true }))],
      boards: tiny.boards.map((b) => ({ ...b, latencyMs: { ...b.latencyMs, empty0: 0, empty1: 0 }, energyMj: { ...b.energyMj, empty0: 0, empty1: 0 } })),
    };
    const plan = await solve(p);
    const without = await solve({ ...tiny, constraints: {} });
    expect(plan.status).toBe('optimal');
    expect(plan.reduction).toMatchObject({ nodes: 6, mergedNodes: 2, cutSets: 5 });
    expect(plan.stages!.find((s) => s.nodes.includes(tiny.nodes[0]!.id))!.nodes).toEqual(expect.arrayContaining(['empty0', 'empty1']));
    expect(plan.throughputFps).toBeCloseTo(without.throughputFps!, 9);
  });
});

describe('computeBaselines', () => {
  it('single boards, the best single split and the even split by MACs, marked against the constraints', () => {
    const b = computeBaselines(tiny);
    expect(b.map((x) => x.name)).toEqual(['single:jetson', 'single:rpi', 'split:jetson->rpi', 'even-macs']);
    expect(b.map((x) => x.kind)).toEqual(['single-board', 'single-board', 'best-single-split', 'even-split-macs']);
    expect(b[0]).toMatchObject({ meetsConstraints: true, violations: [] });
    expect(b[0]!.throughputFps).toBeCloseTo(400, 9);
    // rpi alone: 17.9 ms compute plus a 4.95 ms input transfer.
    expect(b[1]!.meetsConstraints).toBe(true);
    const tight = computeBaselines({ ...tiny, constraints: { maxLatencyMs: 10, minThroughputFps: 100 } });
    expect(tight[1]!.meetsConstraints).toBe(false);
    expect(tight[1]!.violations).toEqual(['latency 22.85 ms > 10 ms', 'throughput 55.87 FPS < 100 FPS']);
    // Even MACs: conv1 on jetson; the MAC-free relu1 falls past the half-way mark, with conv2 and add3 on rpi.
    expect(b[3]!.stages.map((s) => s.nodes)).toEqual([['conv1'], ['relu1', 'conv2', 'add3']]);
  });

  it('leaves out plans that are not valid (a board that cannot run every node)', () => {
    const p: Problem = { ...tiny, boards: tiny.boards.map((x, i) => (i === 1 ? { ...x, latencyMs: { conv2: 8, add3: 0.4 } } : x)) };
    expect(computeBaselines(p).map((x) => x.name)).toEqual(['single:jetson', 'split:jetson->rpi']);
    const q: Problem = { ...tiny, boards: tiny.boards.map((x, i) => (i === 1 ? { ...x, latencyMs: { conv1: 8, relu1: 0.4 } } : x)) };
    expect(computeBaselines(q).map((x) => x.name)).toEqual(['single:jetson', 'split:rpi->jetson']);
  });
});

describe('solve: problems built in code are validated too', () => {
  it.each<[string, Problem, string]>([
    ['unknown node in a latency map', { ...tiny, boards: [{ ...tiny.boards[0]!, latencyMs: { ...tiny.boards[0]!.latencyMs, ghost: 1 } }, tiny.boards[1]!] }, 'SOLVER_UNKNOWN_ID'],
    ['a cycle', { ...tiny, tensors: [...tiny.tensors, { id: 'loop', producer: 'add3', consumers: ['conv1'], bytes: 1 }] }, 'SOLVER_CYCLE'],
  ])('%s -> %s', async (_n, p, code) => {
    await expect(solve(p)).rejects.toMatchObject({ code });
  });
});
