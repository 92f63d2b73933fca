// Stage boundary costs (issue 10): evaluatePlan held to an evaluation written apart from it on larger
// random problems and DAG plans, and the ILP (with its programmes and bounds) held to enumeration.

import { describe, expect, it } from 'vitest';
import { enumeratePlans, evaluatePlan, objectiveValue, parseProblem, solve, type Objective, type Problem, type ProblemTensor } from '../src/index.js';
import { randomProblem, rng, type RandomOptions } from './_random.js';
import { referenceEvaluate } from './_reference.js';

/** A random problem with boundary costs per board, a relayed second input and model outputs. */
function withBoundaries(p: Problem, seed: number, opts: { outputs?: boolean } = {}): Problem {
  const r = rng(seed * 13 + 5);
  const ids = p.nodes.filter((x) => !x.id.startsWith('c')).map((x) => x.id);
  const n = ids.length;
  const tensors: ProblemTensor[] = p.tensors.map((t) => {
    // The last node's tensor has no consumer: the model output. Another, read later too, is one as well.
    if (opts.outputs !== false && t.producer === ids[n - 1]) return { ...t, modelOutput: true };
    if (opts.outputs !== false && t.producer === ids[Math.floor(n / 2)] && t.id.startsWith('t')) return { ...t, modelOutput: true };
    return t;
  });
  // A second model input read only deep in the graph: it is relayed through the stages before.
  tensors.push({ id: 'x2', producer: null, consumers: [ids[Math.floor((2 * n) / 3)]!], bytes: 1000 + Math.round(r() * 3000) });
  // Half the boards price the model outputs apart (a runtime that encodes what it passes on, not them);
  // with odd seeds the input board takes the model inputs at a quarter of its rate (a runtime that
  // decodes what arrives over a link, not the frames already there), which every other board ignores.
  const boards = p.boards.map((b) => {
    const boundary = { fixedMs: Math.round(r() * 3000) / 1000, inMsPerByte: Math.round(r() * 1000) / 1e6, outMsPerByte: Math.round(r() * 1000) / 1e6, ...(r() < 0.5 ? { outputMsPerByte: Math.round(r() * 3000) / 1e6 } : {}) };
    return { ...b, boundary: seed % 2 === 1 ? { ...boundary, inputMsPerByte: boundary.inMsPerByte / 4 } : boundary };
  });
  return parseProblem({ ...p, tensors, boards });
}

/** A random valid plan on `k` boards: every node no earlier than its producers, not a prefix cut in general. */
function randomDagPlan(p: Problem, seed: number, k: number): { board: string; nodes: string[] }[] | null {
  const r = rng(seed * 31 + 17);
  const preds = new Map<string, string[]>(p.nodes.map((x) => [x.id, []]));
  for (const t of p.tensors) if (t.producer !== null) for (const c of t.consumers) preds.get(c)!.push(t.producer);
  const stageOf = new Map<string, number>();
  // The problem's node order is topological for these generators (producers come first).
  for (const x of p.nodes) {
    const lo = Math.max(0, ...preds.get(x.id)!.map((q) => stageOf.get(q) ?? 0));
    stageOf.set(x.id, Math.min(k - 1, lo + (r() < 0.1 ? 1 : 0) + (r() < 0.04 ? 1 : 0)));
  }
  const stages = Array.from({ length: k }, () => [] as string[]);
  for (const x of p.nodes) stages[stageOf.get(x.id)!]!.push(x.id);
  if (stages.some((s) => s.length === 0)) return null;
  const boards = [...p.boards.map((b) => b.id)].sort(() => r() - 0.5).slice(0, k);
  return stages.map((nodes, s) => ({ board: boards[s]!, nodes }));
}

function isPrefixOfOrder(p: Problem, plan: readonly { nodes: readonly string[] }[]): boolean {
  const order = p.nodes.map((x) => x.id);
  let i = 0;
  for (const st of plan) {
    const set = new Set(st.nodes);
    for (let j = 0; j < st.nodes.length; j++) if (!set.has(order[i++]!)) return false;
  }
  return true;
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

interface DagOptions {
  readonly nodes: number;
  readonly boards: number;
  readonly ethernet: boolean;
  readonly boundary: boolean;
  readonly inputNotFirst: boolean;
  /** Boards hold memory for frames in flight (frameBuffers). */
  readonly frames?: boolean;
}

/** A random wide DAG (each node reads one or two of the six nodes before it, some read the input), all boards linked. */
function randomDag(seed: number, o: DagOptions): Problem {
  const r = rng(seed);
  const ids = Array.from({ length: o.nodes }, (_, i) => `v${i}`);
  const readers = new Map<string, string[]>(ids.map((id) => [id, []]));
  const fromInput: string[] = [];
  ids.forEach((id, i) => {
    if (i === 0 || r() < 0.08) { fromInput.push(id); return; }
    const k = 1 + (r() < 0.3 ? 1 : 0);
    const picks = new Set<number>();
    for (let j = 0; j < k; j++) picks.add(Math.max(0, i - 1 - Math.floor(r() * 6)));
    for (const q of picks) readers.get(ids[q]!)!.push(id);
  });
  const tensors: ProblemTensor[] = [{ id: 'x', producer: null, consumers: fromInput, bytes: 1 + Math.round(r() * 6000) }];
  ids.forEach((id, i) => {
    const consumers = readers.get(id)!;
    const output = consumers.length === 0 || r() < 0.03;
    tensors.push({ id: `t${i}`, producer: id, consumers, bytes: Math.round(r() * 9000), ...(output ? { modelOutput: true } : {}) });
  });
  const boards = Array.from({ length: o.boards }, (_, b) => {
    const latencyMs: Record<string, number> = {};
    const energyMj: Record<string, number> = {};
    for (const id of ids) {
      latencyMs[id] = Math.round(r() * 5000) / 1000;
      energyMj[id] = Math.round(r() * 3000) / 1000;
    }
    const rates = { fixedMs: Math.round(r() * 2000) / 1000, inMsPerByte: Math.round(r() * 500) / 1e6, outMsPerByte: Math.round(r() * 500) / 1e6, ...(b % 2 === 1 ? { outputMsPerByte: Math.round(r() * 1500) / 1e6 } : {}) };
    // Odd seeds: the model inputs at a third of the rate on the input board (ignored on the others).
    const boundary = seed % 2 === 1 ? { ...rates, inputMsPerByte: rates.inMsPerByte / 3 } : rates;
    const frameBuffers = { perInByte: Math.round(r() * 8000) / 1000, perOutByte: Math.round(r() * 6000) / 1000 };
    return { id: `b${b}`, memoryBytes: null, latencyMs, energyMj, ...(o.boundary ? { boundary } : {}), ...(o.frames === true ? { frameBuffers } : {}) };
  });
  const links = [];
  for (let a = 0; a < o.boards; a++) {
    for (let b = 0; b < o.boards; b++) {
      if (a === b) continue;
      links.push({
        from: `b${a}`, to: `b${b}`, bandwidthBytesPerSec: Math.round((0.5 + r() * 20) * 1e6), latencyMs: Math.round(r() * 500) / 1000,
        powerW: Math.round(r() * 2000) / 1000, framing: o.ethernet ? 'ethernet' : 'none',
      });
    }
  }
  return parseProblem({
    version: 1, nodes: ids.map((id, i) => ({ id, memoryBytes: Math.round(r() * 100), activationBytes: (i * 7919) % 500 })), tensors, boards, links,
    inputBoard: o.inputNotFirst ? `b${o.boards - 1}` : 'b0', objective: 'throughput', boardOrder: 'free',
  });
}

interface EvalCase {
  readonly name: string;
  readonly opts: DagOptions;
}

const EVAL_CASES: EvalCase[] = [
  { name: '60 nodes, 4 boards, Ethernet, boundaries', opts: { nodes: 60, boards: 4, ethernet: true, boundary: true, inputNotFirst: false } },
  { name: '150 nodes, 5 boards, boundaries, input board not first', opts: { nodes: 150, boards: 5, ethernet: false, boundary: true, inputNotFirst: true } },
  { name: '80 nodes, 3 boards, Ethernet, no boundaries', opts: { nodes: 80, boards: 3, ethernet: true, boundary: false, inputNotFirst: false } },
  { name: '40 nodes, 6 boards, Ethernet, boundaries, input board not first', opts: { nodes: 40, boards: 6, ethernet: true, boundary: true, inputNotFirst: true } },
  { name: '60 nodes, 4 boards, boundaries, frames in flight', opts: { nodes: 60, boards: 4, ethernet: false, boundary: true, inputNotFirst: false, frames: true } },
  { name: '100 nodes, 5 boards, frames in flight, input board not first', opts: { nodes: 100, boards: 5, ethernet: true, boundary: false, inputNotFirst: true, frames: true } },
];

describe('evaluatePlan agrees with an independent evaluation', () => {
  it.each(EVAL_CASES)('$name', ({ opts }) => {
    const boundary = opts.boundary;
    let checked = 0;
    let dagPlans = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const p = randomDag(seed, opts);
      for (let k = 1; k <= Math.min(4, opts.boards); k++) {
        const plan = randomDagPlan(p, seed * 10 + k, k);
        if (plan === null) continue;
        const got = evaluatePlan(p, plan);
        const want = referenceEvaluate(p, plan);
        expect(got.stages.length).toBe(want.stages.length);
        got.stages.forEach((st, s) => {
          const w = want.stages[s]!;
          expect(st.board).toBe(w.board);
          expect(close(st.kernelMs!, w.kernelMs), `stage ${s} kernel ${st.kernelMs} vs ${w.kernelMs}`).toBe(true);
          expect(close(st.boundaryMs!, w.boundaryMs), `stage ${s} boundary ${st.boundaryMs} vs ${w.boundaryMs}`).toBe(true);
          expect(close(st.computeMs, w.ms), `stage ${s} ${st.computeMs} vs ${w.ms}`).toBe(true);
          expect(st.inBytes).toBe(w.inBytes);
          expect(st.outBytes).toBe(w.outBytes);
          expect(close(st.energyMj, w.energyMj)).toBe(true);
          expect(close(st.memoryBytes, w.memoryBytes), `stage ${s} memory ${st.memoryBytes} vs ${w.memoryBytes}`).toBe(true);
          if (opts.frames === true) {
            expect(close(st.framesBytes!, w.framesBytes), `stage ${s} frames ${st.framesBytes} vs ${w.framesBytes}`).toBe(true);
            expect(w.framesBytes).toBeGreaterThan(0);
          } else expect(st.framesBytes).toBeUndefined();
        });
        expect(got.transfers.map((t) => [t.from, t.to, t.bytes])).toEqual(want.transfers.map((t) => [t.from, t.to, t.bytes]));
        got.transfers.forEach((t, i) => {
          expect(close(t.ms, want.transfers[i]!.ms), `transfer ${i} ${t.ms} vs ${want.transfers[i]!.ms}`).toBe(true);
          expect(close(t.energyMj, want.transfers[i]!.energyMj)).toBe(true);
        });
        expect(close(got.latencyMs, want.latencyMs), `latency ${got.latencyMs} vs ${want.latencyMs}`).toBe(true);
        expect(close(objectiveValue(got, 'throughput'), want.periodMs), `period ${1000 / got.throughputFps} vs ${want.periodMs}`).toBe(true);
        expect(close(got.energyMj, want.energyMj)).toBe(true);
        if (boundary) {
          // Relayed input and boundaries are really there: every stage pays at least its fixed cost.
          got.stages.forEach((st) => expect(st.boundaryMs!).toBeGreaterThanOrEqual(p.boards.find((b) => b.id === st.board)!.boundary!.fixedMs));
          expect(got.stages[0]!.inBytes).toBeGreaterThan(0);
        } else {
          got.stages.forEach((st) => expect(st.boundaryMs).toBe(0));
        }
        if (!isPrefixOfOrder(p, plan)) dagPlans++;
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(20);
    // Most random plans are DAG plans: not prefix cuts of the node order.
    expect(dagPlans).toBeGreaterThanOrEqual(5);
  });
});

describe('boundary bytes on a hand-made problem', () => {
  // x -> a -> b -> c (output y); x also read by c (relayed); a's output also a model output.
  const p = parseProblem({
    version: 1,
    nodes: [{ id: 'a', memoryBytes: 1 }, { id: 'b', memoryBytes: 1 }, { id: 'c', memoryBytes: 1 }],
    tensors: [
      { id: 'x', producer: null, consumers: ['a', 'c'], bytes: 100 },
      { id: 'ta', producer: 'a', consumers: ['b'], bytes: 10, modelOutput: true },
      { id: 'tb', producer: 'b', consumers: ['c'], bytes: 20 },
      { id: 'y', producer: 'c', consumers: [], bytes: 4, modelOutput: true },
    ],
    boards: [
      { id: 'p', memoryBytes: null, latencyMs: { a: 1, b: 2, c: 3 }, boundary: { fixedMs: 0.5, inMsPerByte: 0.01, outMsPerByte: 0.1 } },
      { id: 'q', memoryBytes: null, latencyMs: { a: 1, b: 2, c: 3 }, boundary: { fixedMs: 1, inMsPerByte: 0.001, outMsPerByte: 0.01 } },
    ],
    links: [{ from: 'p', to: 'q', bandwidthBytesPerSec: 1e6, latencyMs: 0, powerW: 0 }],
    inputBoard: 'p',
    objective: 'throughput',
    boardOrder: 'fixed',
  });
  it.each([
    // One stage: x in (100), ta and y out (14): 6 + 0.5 + 1 + 1.4.
    { plan: [{ board: 'p', nodes: ['a', 'b', 'c'] }], want: [{ in: 100, out: 14, ms: 8.9 }] },
    // p: a (x in; ta out as crossing and as output, x relayed out) | q: b, c.
    { plan: [{ board: 'p', nodes: ['a'] }, { board: 'q', nodes: ['b', 'c'] }], want: [{ in: 100, out: 120, ms: 1 + 0.5 + 1 + 12 }, { in: 110, out: 4, ms: 5 + 1 + 0.11 + 0.04 }] },
    // p: a, b | q: c (x relayed, tb crossing).
    { plan: [{ board: 'p', nodes: ['a', 'b'] }, { board: 'q', nodes: ['c'] }], want: [{ in: 100, out: 130, ms: 3 + 0.5 + 1 + 13 }, { in: 120, out: 4, ms: 3 + 1 + 0.12 + 0.04 }] },
  ])('stages $plan.length: bytes in and out, and the time', ({ plan, want }) => {
    const m = evaluatePlan(p, plan);
    expect(m.stages.map((s) => ({ in: s.inBytes, out: s.outBytes }))).toEqual(want.map((w) => ({ in: w.in, out: w.out })));
    m.stages.forEach((s, i) => expect(s.computeMs).toBeCloseTo(want[i]!.ms, 9));
  });

  // The model outputs at their own rate (p: 1 ms per byte instead of 0.1; q: 0 instead of 0.01), what is passed on at outMsPerByte.
  const apart = parseProblem({
    ...p,
    boards: [
      { ...p.boards[0]!, boundary: { ...p.boards[0]!.boundary!, outputMsPerByte: 1 } },
      { ...p.boards[1]!, boundary: { ...p.boards[1]!.boundary!, outputMsPerByte: 0 } },
    ],
  });
  it.each([
    // One stage on p: ta and y (14 B) are outputs only: 6 + 0.5 + 1 + 14.
    { plan: [{ board: 'p', nodes: ['a', 'b', 'c'] }], ms: [21.5] },
    // p: a passes on ta and x (110 B at 0.1) and makes ta (10 B at 1) | q: y (4 B at 0).
    { plan: [{ board: 'p', nodes: ['a'] }, { board: 'q', nodes: ['b', 'c'] }], ms: [1 + 0.5 + 1 + 11 + 10, 5 + 1 + 0.11] },
    // p: a, b pass on tb and x (120 B) and make ta (10 B) | q: c makes y.
    { plan: [{ board: 'p', nodes: ['a', 'b'] }, { board: 'q', nodes: ['c'] }], ms: [3 + 0.5 + 1 + 12 + 10, 3 + 1 + 0.12] },
  ])('model outputs at outputMsPerByte, $plan.length stage(s)', ({ plan, ms }) => {
    const m = evaluatePlan(apart, plan);
    m.stages.forEach((s, i) => {
      expect(s.computeMs).toBeCloseTo(ms[i]!, 9);
      expect(s.boundaryMs! + s.kernelMs!).toBeCloseTo(ms[i]!, 9);
    });
    referenceEvaluate(apart, plan).stages.forEach((s, i) => expect(s.ms).toBeCloseTo(ms[i]!, 9));
  });

  // The model inputs at their own rate where they are (p, the input board: 0.002 ms per byte instead
  // of 0.01), at inMsPerByte where they arrive over a link (q's inputMsPerByte, 0, is then not used).
  const inputs = parseProblem({
    ...p,
    boards: [
      { ...p.boards[0]!, boundary: { ...p.boards[0]!.boundary!, inputMsPerByte: 0.002 } },
      { ...p.boards[1]!, boundary: { ...p.boards[1]!.boundary!, inputMsPerByte: 0 } },
    ],
  });
  it.each([
    // One stage on p: x (100 B) at 0.002: 6 + 0.5 + 0.2 + 1.4.
    { plan: [{ board: 'p', nodes: ['a', 'b', 'c'] }], ms: [8.1] },
    // p: a takes x at 0.002, passes on 120 B | q: b, c receive 110 B at q's inMsPerByte as before.
    { plan: [{ board: 'p', nodes: ['a'] }, { board: 'q', nodes: ['b', 'c'] }], ms: [1 + 0.5 + 0.2 + 12, 5 + 1 + 0.11 + 0.04] },
    // The first stage on q, away from the input: x arrives over the link, at q's inMsPerByte (0.001).
    { plan: [{ board: 'q', nodes: ['a', 'b', 'c'] }], ms: [6 + 1 + 0.1 + 0.14] },
  ])('model inputs at inputMsPerByte on the input board, $plan.length stage(s) from $plan.0.board', ({ plan, ms }) => {
    const m = evaluatePlan(inputs, plan);
    m.stages.forEach((s, i) => expect(s.computeMs).toBeCloseTo(ms[i]!, 9));
    referenceEvaluate(inputs, plan).stages.forEach((s, i) => expect(s.ms).toBeCloseTo(ms[i]!, 9));
  });
});

const OBJECTIVES: Objective[] = ['throughput', 'latency', 'energy'];

const SOLVE_CASES: { name: string; opts: Omit<RandomOptions, 'objective' | 'boardOrder'>; seeds: number }[] = [
  { name: 'chains, 3 boards', opts: { nodes: 6, boards: 3 }, seeds: 3 },
  { name: 'skips, Ethernet', opts: { nodes: 7, boards: 3, skip: 0.3, ethernet: true }, seeds: 3 },
  { name: 'input board not first, missing links', opts: { nodes: 6, boards: 3, skip: 0.2, inputNotFirst: true, missingLinks: 0.3 }, seeds: 3 },
  { name: '4 boards, memory caps', opts: { nodes: 5, boards: 4, skip: 0.3, memoryCaps: true }, seeds: 2 },
  { name: '3 boards, memory caps on weights and activation peaks', opts: { nodes: 6, boards: 3, skip: 0.3, memoryCaps: true, activations: true }, seeds: 3 },
];

describe('the ILP with boundary costs against enumeration', () => {
  const runs = SOLVE_CASES.flatMap((c) => (['fixed', 'free'] as const).flatMap((order) => OBJECTIVES.map((objective) => ({ ...c, order, objective }))));
  it.each(runs)('$name, $order order, $objective', async ({ opts, seeds, order, objective }) => {
    for (let seed = 1; seed <= seeds; seed++) {
      const p = withBoundaries(randomProblem(seed, { ...opts, objective, boardOrder: order }), seed);
      const all = enumeratePlans(p);
      const res = await solve(p, { objective });
      if (all.length === 0) {
        expect(res.status).toBe('infeasible');
        continue;
      }
      const best = Math.min(...all.map((x) => objectiveValue(x.metrics, objective)));
      expect(res.status, res.reason).toBe('optimal');
      const got = objectiveValue(res as Required<typeof res>, objective);
      expect(Math.abs(got - best), `seed ${seed}: ${got} vs enumerated ${best}`).toBeLessThanOrEqual(1e-6 * Math.max(1, best));
      // The plan's stage times are the independent evaluation's, boundary included.
      const want = referenceEvaluate(p, res.stages!);
      res.stages!.forEach((s, i) => expect(close(s.computeMs, want.stages[i]!.ms)).toBe(true));
      for (const b of res.baselines) {
        const w = referenceEvaluate(p, b.stages);
        expect(close(b.latencyMs, w.latencyMs), b.name).toBe(true);
      }
    }
  });
});
