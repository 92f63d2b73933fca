// Memory for frames in flight (a board's frameBuffers): a stage holds perInByte for each byte it
// receives and perOutByte for each byte it sends on, on top of its weights and activation peak. Held
// to an evaluation written apart from the solver's (_reference.ts) and to enumeration.

import { describe, expect, it } from 'vitest';
import { enumeratePlans, evaluatePlan, objectiveValue, parseProblem, solve, type Objective, type Problem } from '../src/index.js';
import { randomProblem, rng, type RandomOptions } from './_random.js';
import { referenceEvaluate } from './_reference.js';

// x (1000 B) -> a -> ta (4000 B) -> b -> tb (10 B) -> c -> y (8 B). Weights 100 B each.
const chain = (frames: boolean, capQ: number | null): Problem => parseProblem({
  version: 1,
  nodes: [{ id: 'a', memoryBytes: 100 }, { id: 'b', memoryBytes: 100 }, { id: 'c', memoryBytes: 100 }],
  tensors: [
    { id: 'x', producer: null, consumers: ['a'], bytes: 1000 },
    { id: 'ta', producer: 'a', consumers: ['b'], bytes: 4000 },
    { id: 'tb', producer: 'b', consumers: ['c'], bytes: 10 },
    { id: 'y', producer: 'c', consumers: [], bytes: 8, modelOutput: true },
  ],
  boards: [
    { id: 'p', memoryBytes: null, latencyMs: { a: 5, b: 5, c: 5 }, ...(frames ? { frameBuffers: { perInByte: 2, perOutByte: 1.5 } } : {}) },
    { id: 'q', memoryBytes: capQ, latencyMs: { a: 5, b: 5, c: 5 }, ...(frames ? { frameBuffers: { perInByte: 2, perOutByte: 1.5 } } : {}) },
  ],
  links: [{ from: 'p', to: 'q', bandwidthBytesPerSec: 1e9, latencyMs: 0, powerW: 0 }],
  inputBoard: 'p',
  objective: 'throughput',
  boardOrder: 'fixed',
});

describe('frames in flight on a hand-made chain', () => {
  it('adds perInByte x in + perOutByte x out to each stage, and says how much', () => {
    const m = evaluatePlan(chain(true, null), [{ board: 'p', nodes: ['a'] }, { board: 'q', nodes: ['b', 'c'] }]);
    // p: 1000 in, 4000 out; q: 4000 in, 8 out (the model output).
    expect(m.stages.map((s) => s.framesBytes)).toEqual([2 * 1000 + 1.5 * 4000, 2 * 4000 + 1.5 * 8]);
    expect(m.stages.map((s) => s.memoryBytes)).toEqual([100 + 8000, 200 + 8012]);
    // Without frameBuffers a plan's stages say nothing of frames, and need their weights alone.
    const plain = evaluatePlan(chain(false, null), [{ board: 'p', nodes: ['a'] }, { board: 'q', nodes: ['b', 'c'] }]);
    expect(plain.stages.map((s) => s.framesBytes)).toEqual([undefined, undefined]);
    expect(plain.stages.map((s) => s.memoryBytes)).toEqual([100, 200]);
  });

  it('refuses a plan whose frames break a cap, naming the stage and its bytes', () => {
    expect(() => evaluatePlan(chain(true, 5000), [{ board: 'p', nodes: ['a'] }, { board: 'q', nodes: ['b', 'c'] }]))
      .toThrow('stage 2 needs 8212 bytes on "q" (cap 5000)');
  });

  it('moves the cut off the large tensor when the frames would not fit', async () => {
    // Without frames the balanced cut is after a (5 | 10 ms); a cap of 5000 B on q still allows it.
    const free = await solve(chain(false, 5000), { objective: 'throughput' });
    expect(free.stages!.map((s) => s.nodes)).toEqual([['a'], ['b', 'c']]);
    // With frames, q receiving ta (4000 B, 8000 B held) no longer fits: the cut moves after b.
    const held = await solve(chain(true, 5000), { objective: 'throughput' });
    expect(held.status).toBe('optimal');
    expect(held.stages!.map((s) => s.nodes)).toEqual([['a', 'b'], ['c']]);
    expect(held.stages![1]!.memoryBytes).toBe(100 + 2 * 10 + 1.5 * 8);
    // Nothing fits q with ta coming in or going out: with a cap that low, only p alone is left.
    const tight = await solve(chain(true, 100), { objective: 'throughput' });
    expect(tight.stages!.map((s) => s.board)).toEqual(['p']);
  });
});

/** Boards that hold frames, with caps drawn so that weights, peak and frames together bind. */
function withFrames(p: Problem, seed: number): Problem {
  const r = rng(seed * 31 + 7);
  const weights = p.nodes.reduce((s, n) => s + n.memoryBytes, 0);
  const act = p.nodes.reduce((s, n) => Math.max(s, n.activationBytes ?? 0), 0);
  return parseProblem({
    ...p,
    boards: p.boards.map((b) => {
      const frameBuffers = { perInByte: Math.round(r() * 60) / 1000, perOutByte: Math.round(r() * 40) / 1000 };
      // Frames of about 2.5 kB tensors at these rates: 0-250 B, against weights of up to 100 B a node.
      return { ...b, frameBuffers, memoryBytes: Math.round((weights + act + 150) * (0.45 + r() * 0.6)) };
    }),
  });
}

const OBJECTIVES: Objective[] = ['throughput', 'latency', 'energy'];
const CASES: { name: string; opts: Omit<RandomOptions, 'objective' | 'boardOrder'>; seeds: number }[] = [
  { name: 'chains, 3 boards', opts: { nodes: 6, boards: 3 }, seeds: 4 },
  { name: 'skips, activation peaks', opts: { nodes: 6, boards: 3, skip: 0.3, activations: true }, seeds: 4 },
  { name: '4 boards, input board not first', opts: { nodes: 5, boards: 4, skip: 0.3, inputNotFirst: true }, seeds: 3 },
];

describe('the solver with frames in flight against enumeration', () => {
  const runs = CASES.flatMap((c) => (['fixed', 'free'] as const).flatMap((order) => OBJECTIVES.map((objective) => ({ ...c, order, objective }))));
  let changed = 0;
  let feasible = 0;
  it.each(runs)('$name, $order order, $objective', async ({ opts, seeds, order, objective }) => {
    for (let seed = 1; seed <= seeds; seed++) {
      const base = randomProblem(seed, { ...opts, objective, boardOrder: order });
      const p = withFrames(base, seed);
      const all = enumeratePlans(p);
      const res = await solve(p, { objective });
      if (all.length === 0) {
        expect(res.status).toBe('infeasible');
        continue;
      }
      feasible++;
      const best = Math.min(...all.map((x) => objectiveValue(x.metrics, objective)));
      expect(res.status, res.reason).toBe('optimal');
      const got = objectiveValue(res as Required<typeof res>, objective);
      expect(Math.abs(got - best), `seed ${seed}: ${got} vs enumerated ${best}`).toBeLessThanOrEqual(1e-6 * Math.max(1, best));
      // Every stage of the plan and of each baseline fits its board by the independent evaluation.
      for (const plan of [res.stages!, ...res.baselines.map((b) => b.stages)]) {
        const want = referenceEvaluate(p, plan);
        want.stages.forEach((w) => {
          const cap = p.boards.find((b) => b.id === w.board)!.memoryBytes;
          expect(cap === null || w.memoryBytes <= cap, `${w.board}: ${w.memoryBytes} > ${cap}`).toBe(true);
        });
      }
      const want = referenceEvaluate(p, res.stages!);
      res.stages!.forEach((s, i) => expect(Math.abs(s.framesBytes! - want.stages[i]!.framesBytes)).toBeLessThanOrEqual(1e-9 * Math.max(1, s.framesBytes!)));
      // Would the plan have been another without the frames (same caps)?
      const without = parseProblem({ ...p, boards: p.boards.map(({ frameBuffers: _f, ...b }) => b) });
      const other = enumeratePlans(without);
      const bestWithout = Math.min(...other.map((x) => objectiveValue(x.metrics, objective)));
      if (bestWithout < best - 1e-9 * Math.max(1, best)) changed++;
    }
  });
  it('had frames decide some of those plans', () => {
    // The caps are drawn so that frames matter: some optima are worse with them than without.
    expect(feasible).toBeGreaterThanOrEqual(20);
    expect(changed).toBeGreaterThanOrEqual(5);
  });
});

describe('frameBuffers in a problem file', () => {
  const file = (frameBuffers: unknown) => ({
    version: 1,
    nodes: [{ id: 'a', memoryBytes: 1 }],
    tensors: [{ id: 'x', producer: null, consumers: ['a'], bytes: 4 }],
    boards: [{ id: 'p', memoryBytes: null, latencyMs: { a: 1 }, frameBuffers }],
    links: [],
    inputBoard: 'p',
    objective: 'throughput',
    boardOrder: 'fixed',
  });
  it.each([
    [{ perInByte: -1, perOutByte: 0 }, 'boards[0].frameBuffers.perInByte'],
    [{ perInByte: 1 }, 'boards[0].frameBuffers'],
    [{ perInByte: 1, perOutByte: 1, queue: 2 }, 'boards[0].frameBuffers'],
    [{ perInByte: 1e300, perOutByte: 0 }, 'boards[0].frameBuffers.perInByte'],
  ])('refuses %j naming %s', (fb, field) => {
    expect(() => parseProblem(file(fb))).toThrow(field);
  });
  it('reads one', () => {
    expect(parseProblem(file({ perInByte: 3, perOutByte: 2.5 })).boards[0]!.frameBuffers).toEqual({ perInByte: 3, perOutByte: 2.5 });
  });
  it('refuses a negative rate in a problem built in code too (no stage of negative memory)', () => {
    const p = parseProblem(file({ perInByte: 1, perOutByte: 0 }));
    const bad: Problem = { ...p, boards: [{ ...p.boards[0]!, memoryBytes: 50, frameBuffers: { perInByte: -1, perOutByte: 0.01 } }] };
    expect(() => evaluatePlan(bad, [{ board: 'p', nodes: ['a'] }])).toThrowError(expect.objectContaining({ code: 'SOLVER_NEGATIVE_COST', message: expect.stringContaining('boards[0].frameBuffers.perInByte: must be a finite number >= 0, got -1') }));
  });
});
