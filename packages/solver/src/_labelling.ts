// The labelling bound: a lower bound on the latency or energy of every plan that keeps what the
// per-node bound of _lower-bound.ts drops, the cost of moving tensors between boards.
//
// Relax a plan to its node-to-board assignment x[v][b] and let each tensor pay for entering every
// board that reads it without producing it (y[t][b] >= x[c][b] - x[p][b] for each consumer c): the
// uniform labelling programme of Kleinberg and Tardos, which for two boards is Stone's min cut. A
// plan pays at least that much: a tensor entering board b's stage enters it (inMsPerByte on b), leaves
// the stage before it (outMsPerByte there) and crosses the link between them, whose time is at least
// its bytes over the bandwidth, plus 26 bytes per started 1500 on Ethernet (a whole number of frames
// for everything entering b, in the integer programme) and the link's latency once; each board's
// stage pays fixedMs once and each node's model outputs their outputMsPerByte; energy is the nodes'
// plus the links' power times that time. A tensor relayed through stages that do not read it, and
// the order of the stages, are what the programme leaves out.
//
// The order, when the boards allow few: every plan runs its boards in some order π, and then a tensor
// only flows forward (sum_b pos(b) x[v][b] >= the same for each predecessor of v). The least over the
// orders of the programme with those rows is a bound too, and usually a much better one: without them
// the programme may send tensors round a cycle of boards. Knowing π, it also prices what the first
// leaves out: relays (a tensor made before a board that holds a stage and read at or after it enters
// that stage), the sender's outMsPerByte on the stage that passes a tensor on, the input board's
// inputMsPerByte on a first stage there, links only from boards before. With one kind of link, an
// order's integer programme prices every plan of that order exactly (memory peaks aside). Boards
// alike in every cost are interchangeable, so one order per sequence of board classes is enough.
// Each order's LP is raised to its integer optimum (GLPK's branch and cut) where that finishes in
// time, cheapest order first. An integer solution is a plan (the order's boards that hold nodes, in
// that order): the wide path refines it like its other candidates (Swin-T on the default boards:
// 29.18 ms where the coarsened search found 29.67).

import type { CLink, Compiled } from './_compiled.js';
import type { LinearProgram, Row, Solver, Term } from './engine.js';
import type { Assignment } from './evaluate.js';
import { canHold } from './_lower-bound.js';

/** Most orders (distinct sequences of board classes) the bound tries; past it, no order rows. */
const MAX_ORDERS = 24;

export type SumMetric = 'latency' | 'energy';

/** ms per byte over a link, framing left out. */
const msPerByte = (link: CLink): number => 1000 / link.link.bandwidthBytesPerSec;
/** ms per Ethernet frame's overhead (26 bytes per 1500 or part of it; 0 without framing). */
const msPerFrame = (link: CLink): number => (link.link.framing === 'ethernet' ? (26 * 1000) / link.link.bandwidthBytesPerSec : 0);
/** Payload bytes per Ethernet frame (framedBytes in _compiled.ts). */
const FRAME_BYTES = 1500;

/**
 * Per board: the least a byte costs entering it from another stage, and from the input board as the
 * first stage; the least a transfer into it costs whatever it carries (its link's latency), and per
 * frame of what it carries. With a board order (pos), the stage before b is on a board before b.
 */
function entryRates(cp: Compiled, metric: SumMetric, pos?: Int32Array): { into: Float64Array; fromInput: Float64Array; fixed: Float64Array; frame: Float64Array } {
  const lat = metric === 'latency';
  const into = new Float64Array(cp.m).fill(Number.POSITIVE_INFINITY);
  const fromInput = new Float64Array(cp.m).fill(Number.POSITIVE_INFINITY);
  const fixed = new Float64Array(cp.m).fill(Number.POSITIVE_INFINITY);
  const frame = new Float64Array(cp.m).fill(Number.POSITIVE_INFINITY);
  for (let b = 0; b < cp.m; b++) {
    // Entering b's stage: inMsPerByte there (the first stage's model inputs too, off the input board).
    const enter = lat ? cp.boundary[b]!.inMsPerByte : 0;
    for (let a = 0; a < cp.m; a++) {
      const l = cp.links[a]![b];
      if (a === b || l === undefined) continue;
      const hop = lat ? msPerByte(l) : l.link.powerW * msPerByte(l);
      // A model input: the input transfer to a first stage on b, or relayed like any other tensor.
      if (a === cp.input) fromInput[b] = Math.min(fromInput[b]!, enter + hop);
      // Whatever enters b comes from the stage before (on a board before b in the order), or in the
      // input transfer.
      const before = pos === undefined || pos[a]! < pos[b]!;
      if (!before && a !== cp.input) continue;
      fixed[b] = Math.min(fixed[b]!, lat ? l.link.latencyMs : l.link.powerW * l.link.latencyMs);
      frame[b] = Math.min(frame[b]!, lat ? msPerFrame(l) : l.link.powerW * msPerFrame(l));
      // From the stage before, which passes it on at outMsPerByte (in an order programme, priced
      // apart, on the stage that does: see labellingProgramme).
      if (before) into[b] = Math.min(into[b]!, enter + hop + (lat && pos === undefined ? cp.boundary[a]!.outMsPerByte : 0));
    }
    fromInput[b] = Math.min(fromInput[b]!, into[b]!);
  }
  return { into, fromInput, fixed, frame };
}

const xName = (v: number, b: number): string => `x${v}_${b}`;

/**
 * The programme (null when some node fits no board). With a board order, also its order rows and
 * the relays: a tensor made before a used board b and read at or after it enters b's stage too.
 */
function labellingProgramme(cp: Compiled, metric: SumMetric, order?: readonly number[]): LinearProgram | null {
  const lat = metric === 'latency';
  const pos = new Int32Array(cp.m);
  order?.forEach((b, i) => (pos[b] = i));
  const { into, fromInput, fixed, frame } = entryRates(cp, metric, order === undefined ? undefined : pos);
  const costs = lat ? cp.lat : cp.energy;
  const framedBytes: Term[][] = Array.from({ length: cp.m }, () => []);
  const used: Term[][] = Array.from({ length: cp.m }, () => []);
  const received: Term[][] = Array.from({ length: cp.m }, () => []);
  const objective: Term[] = [];
  const rows: Row[] = [];
  /** -x[v][d] for each board d that can hold node v and where `where(d)`: "v is on one of those boards". */
  const onAny = (v: number, where: (d: number) => boolean): Term[] => {
    const terms: Term[] = [];
    for (let d = 0; d < cp.m; d++) if (where(d) && canHold(cp, d, v)) terms.push({ v: xName(v, d), c: -1 });
    return terms;
  };
  const outputBytes = new Float64Array(cp.n);
  for (let t = 0; t < cp.tBytes.length; t++) if (cp.tOutput[t] === 1 && cp.tProducer[t]! >= 0) outputBytes[cp.tProducer[t]!]! += cp.tBytes[t]!;
  for (let v = 0; v < cp.n; v++) {
    const one: Term[] = [];
    for (let b = 0; b < cp.m; b++) {
      if (!canHold(cp, b, v)) continue;
      const x = xName(v, b);
      one.push({ v: x, c: 1 });
      const c = costs[b]![v]! + (lat ? cp.boundary[b]!.outputMsPerByte * outputBytes[v]! : 0);
      if (c > 0) objective.push({ v: x, c });
      if (order !== undefined || (lat && cp.boundary[b]!.fixedMs > 0)) used[b]!.push({ v: x, c: -1 });
    }
    if (one.length === 0) return null;
    rows.push({ name: `a${v}`, terms: one, lo: 1, hi: 1 });
  }
  // Board b holds a stage (u_b = 1) when it holds a node: one row per board, exact in the integer
  // programme (u_b a whole number), weaker in the LP than a row per node, and much smaller.
  const integers: string[] = [];
  for (let b = 0; b < cp.m; b++) {
    if (used[b]!.length === 0) continue;
    integers.push(`u${b}`);
    if (lat && cp.boundary[b]!.fixedMs > 0) objective.push({ v: `u${b}`, c: cp.boundary[b]!.fixedMs });
    rows.push({ name: `u${b}`, terms: [{ v: `u${b}`, c: used[b]!.length }, ...used[b]!], lo: 0, hi: Number.POSITIVE_INFINITY });
    // ...and only then (the order rows below reward a board before the input board that holds a stage).
    rows.push({ name: `U${b}`, terms: [{ v: `u${b}`, c: 1 }, ...used[b]!], lo: Number.NEGATIVE_INFINITY, hi: 0 });
  }
  for (let b = 0; b < cp.m; b++) {
    const cap = cp.cap[b];
    if (cap === null || cap === undefined) continue;
    const terms: Term[] = [];
    for (let v = 0; v < cp.n; v++) if (canHold(cp, b, v) && cp.mem[v]! > 0) terms.push({ v: xName(v, b), c: cp.mem[v]! });
    if (terms.length > 0) rows.push({ name: `m${b}`, terms, lo: Number.NEGATIVE_INFINITY, hi: cap });
  }
  for (let t = 0; t < cp.tBytes.length; t++) {
    const bytes = cp.tBytes[t]!;
    if (!(bytes > 0)) continue;
    const p = cp.tProducer[t]!;
    const consumers = [...new Set(cp.tConsumers[t]!)];
    for (let b = 0; b < cp.m; b++) {
      // Passed on: t leaves a used board's stage when made there or before and read after it (a model
      // input: made before every stage), at that board's outMsPerByte.
      const out = lat && order !== undefined ? cp.boundary[b]!.outMsPerByte : 0;
      if (out > 0 && used[b]!.length > 0) {
        const made = p >= 0 ? onAny(p, (a) => pos[a]! <= pos[b]!) : [];
        const o = `o${t}_${b}`;
        let passed = false;
        for (const c of p < 0 || made.length > 0 ? consumers : []) {
          const later = onAny(c, (d) => pos[d]! > pos[b]!);
          if (later.length === 0) continue;
          rows.push({ name: `o${t}_${b}_${c}`, terms: [{ v: o, c: 1 }, ...made, ...later, { v: `u${b}`, c: -1 }], lo: p < 0 ? -1 : -2, hi: Number.POSITIVE_INFINITY });
          passed = true;
        }
        if (passed) objective.push({ v: o, c: out * bytes });
      }
      // A model input on the input board is there already.
      if (p < 0 && b === cp.input) continue;
      const rate = p < 0 ? fromInput[b]! : into[b]!;
      if (!Number.isFinite(rate) || rate <= 0) continue;
      const y = `y${t}_${b}`;
      let read = false;
      for (const c of consumers) {
        if (!canHold(cp, b, c)) continue;
        const terms: Term[] = [{ v: y, c: 1 }, { v: xName(c, b), c: -1 }];
        if (p >= 0 && canHold(cp, b, p)) terms.push({ v: xName(p, b), c: 1 });
        rows.push({ name: `y${t}_${b}_${c}`, terms, lo: 0, hi: Number.POSITIVE_INFINITY });
        read = true;
      }
      // Relayed: made on a board before b, read on b or after it, and b holds a stage (u_b).
      if (order !== undefined && p >= 0 && used[b]!.length > 0) {
        const made = onAny(p, (a) => pos[a]! < pos[b]!);
        for (const c of made.length === 0 ? [] : consumers) {
          const later = onAny(c, (d) => pos[d]! >= pos[b]!);
          if (later.length === 0) continue;
          rows.push({ name: `z${t}_${b}_${c}`, terms: [{ v: y, c: 1 }, ...made, ...later, { v: `u${b}`, c: -1 }], lo: -2, hi: Number.POSITIVE_INFINITY });
          read = true;
        }
      }
      if (!read) continue;
      objective.push({ v: y, c: rate * bytes });
      framedBytes[b]!.push({ v: y, c: -bytes });
      if (Number.isFinite(fixed[b]!) && fixed[b]! > 0) received[b]!.push({ v: y, c: -1 });
    }
  }
  for (let b = 0; b < cp.m; b++) {
    // Whatever enters b's stage comes in one transfer, which pays its link's latency once (r_b = 1;
    // one row per board, like u_b).
    if (received[b]!.length > 0) {
      integers.push(`r${b}`);
      objective.push({ v: `r${b}`, c: fixed[b]! });
      rows.push({ name: `r${b}`, terms: [{ v: `r${b}`, c: received[b]!.length }, ...received[b]!], lo: 0, hi: Number.POSITIVE_INFINITY });
    }
    // The frames of the transfer into b: at least its bytes / 1500, a whole number (in the MIP).
    if (!(frame[b]! > 0) || !Number.isFinite(frame[b]!) || framedBytes[b]!.length === 0) continue;
    const f = `f${b}`;
    integers.push(f);
    objective.push({ v: f, c: frame[b]! });
    rows.push({ name: `F${b}`, terms: [{ v: f, c: FRAME_BYTES }, ...framedBytes[b]!], lo: 0, hi: Number.POSITIVE_INFINITY });
  }
  if (order !== undefined) {
    rows.push(...orderRows(cp, order));
    // The first stage takes the model inputs in at inputMsPerByte on the input board (g = 1 when that
    // board holds a stage and none before it does); elsewhere y above prices them at inMsPerByte.
    const rate = lat ? cp.boundary[cp.input]!.inputMsPerByte * cp.inputBytes : 0;
    if (rate > 0 && used[cp.input]!.length > 0) {
      const before: Term[] = [];
      for (let a = 0; a < cp.m; a++) if (pos[a]! < pos[cp.input]! && used[a]!.length > 0) before.push({ v: `u${a}`, c: 1 });
      objective.push({ v: 'g', c: rate });
      rows.push({ name: 'g', terms: [{ v: 'g', c: 1 }, { v: `u${cp.input}`, c: -1 }, ...before], lo: 0, hi: Number.POSITIVE_INFINITY });
    }
  }
  const binaries = [];
  for (let v = 0; v < cp.n; v++) for (let b = 0; b < cp.m; b++) if (canHold(cp, b, v)) binaries.push(xName(v, b));
  return { name: `dnnpart-labelling-${metric}${order === undefined ? '' : `-${order.join('.')}`}`, objective, rows, binaries, integers };
}

/** Board classes: boards alike in costs, memory, boundary, entry rates and being the input board. */
function classesOf(cp: Compiled): Int32Array {
  const lat = entryRates(cp, 'latency');
  const en = entryRates(cp, 'energy');
  const ids = new Map<string, number>();
  return Int32Array.from({ length: cp.m }, (_, b) => {
    const bd = cp.boundary[b]!;
    const key = [b === cp.input, cp.cap[b], bd.fixedMs, bd.inMsPerByte, bd.outMsPerByte, bd.outputMsPerByte, lat.into[b], lat.fromInput[b], en.into[b], en.fromInput[b],
      Array.from(cp.lat[b]!).join(','), Array.from(cp.energy[b]!).join(',')].join('|');
    let c = ids.get(key);
    if (c === undefined) ids.set(key, (c = ids.size));
    return c;
  });
}

/** The board orders to try (one per sequence of classes), or null when there are more than `max`. */
export function boardOrders(cp: Compiled, max = MAX_ORDERS): number[][] | null {
  if (cp.problem.boardOrder === 'fixed') return [Array.from({ length: cp.m }, (_, b) => b)];
  const cls = classesOf(cp);
  const members: number[][] = [];
  for (let b = 0; b < cp.m; b++) (members[cls[b]!] ??= []).push(b);
  // m! / prod(count!) sequences.
  let count = 1;
  for (let i = 2; i <= cp.m; i++) count *= i;
  for (const g of members) for (let i = 2; i <= g.length; i++) count /= i;
  if (count > max) return null;
  const out: number[][] = [];
  const left = members.map((g) => g.length);
  const seq: number[] = [];
  const walk = (): void => {
    if (seq.length === cp.m) {
      const next = members.map(() => 0);
      out.push(seq.map((c) => members[c]![next[c]!++]!));
      return;
    }
    for (let c = 0; c < members.length; c++) {
      if (left[c] === 0) continue;
      left[c]!--;
      seq.push(c);
      walk();
      seq.pop();
      left[c]!++;
    }
  };
  walk();
  return out;
}

/** The programme's rows that keep tensors flowing forward in board order `order`. */
function orderRows(cp: Compiled, order: readonly number[]): Row[] {
  const pos = new Float64Array(cp.m);
  order.forEach((b, i) => (pos[b] = i));
  const rows: Row[] = [];
  for (let v = 0; v < cp.n; v++) {
    for (const w of new Set(cp.preds[v]!)) {
      const terms: Term[] = [];
      for (let b = 0; b < cp.m; b++) {
        if (pos[b] === 0) continue;
        if (canHold(cp, b, v)) terms.push({ v: xName(v, b), c: pos[b]! });
        if (canHold(cp, b, w)) terms.push({ v: xName(w, b), c: -pos[b]! });
      }
      if (terms.length > 0) rows.push({ name: `o${v}_${w}`, terms, lo: 0, hi: Number.POSITIVE_INFINITY });
    }
  }
  return rows;
}

/** GLPK's optimum (tolerances shaved off) and its solution, or undefined when it was not proven in time. */
async function optimumOf(engine: Solver, lp: LinearProgram, relax: boolean, deadline: number): Promise<{ value: number; values: Readonly<Record<string, number>> } | undefined> {
  const s = (deadline - performance.now()) / 1000;
  if (s <= 0.01) return undefined;
  const res = await engine.solve(lp, { relax, timeLimitS: s });
  // Infeasible (the relaxation included; GLPK's branch and cut says 'no-solution' when its presolver
  // finds none, as the exact path reads it too): no plan within the limits.
  if ((res.status === 'infeasible' || res.status === 'no-solution') && !res.timedOut) return { value: Number.POSITIVE_INFINITY, values: {} };
  if (res.status !== 'optimal' || !Number.isFinite(res.objective)) return undefined;
  // Shaved by less than the solve's own slack (1e-9), so that a plan priced like the programme meets it.
  return { value: res.objective * (1 - 1e-10), values: res.values };
}

/** The plan an integer solution in board order `order` stands for (its boards in that order, the empty ones left out). */
function planOf(cp: Compiled, order: readonly number[], values: Readonly<Record<string, number>>): Assignment | undefined {
  const boardOf = new Int32Array(cp.n).fill(-1);
  for (let v = 0; v < cp.n; v++) for (let b = 0; b < cp.m; b++) if ((values[xName(v, b)] ?? 0) > 0.5) boardOf[v] = b;
  if (boardOf.includes(-1)) return undefined;
  const boards = order.filter((b) => boardOf.includes(b));
  const stage = new Int32Array(cp.m).fill(-1);
  boards.forEach((b, s) => (stage[b] = s));
  return { boards, stageOf: Int32Array.from(boardOf, (b) => stage[b]!) };
}

export interface LabellingResult {
  /**
   * A lower bound on the latency (ms) or energy (mJ) of every plan within the limits: 0 when nothing
   * was solved in time, +Infinity when no plan is within them (proven).
   */
  readonly bound: number;
  /**
   * The plans of the integer solutions found on the way, one per order solved: the cheapest under
   * the programme's prices, which leave relays out, so good candidates rather than optima (the caller
   * checks them: a board pair without a link, or a memory peak, can make one invalid).
   */
  readonly plans: readonly Assignment[];
}

/** Most latency (ms) and energy (mJ) a plan may take: the constraints of a step of a Pareto front, or the problem's. */
export interface SumLimits {
  readonly latencyMs?: number;
  readonly energyMj?: number;
}

/**
 * The programme for `metric` with the limits as rows: each limited metric's own programme (same
 * variables, its own prices, its rows renamed) priced at most its limit. Every plan within the limits
 * is a solution, so the optimum stays a bound for those plans (infeasible: there is none).
 */
function limitedProgramme(cp: Compiled, metric: SumMetric, limits: SumLimits, order?: readonly number[]): LinearProgram | null {
  const lp = labellingProgramme(cp, metric, order);
  if (lp === null) return null;
  const rows = [...lp.rows];
  const integers = new Set(lp.integers);
  for (const [m, limit] of [['latency', limits.latencyMs], ['energy', limits.energyMj]] as const) {
    if (limit === undefined || !Number.isFinite(limit)) continue;
    const other: LinearProgram = m === metric ? lp : labellingProgramme(cp, m, order)!;
    if (other !== lp) for (const r of other.rows) rows.push({ ...r, name: `${m}.${r.name}` });
    for (const v of other.integers ?? []) integers.add(v);
    rows.push({ name: `limit.${m}`, terms: other.objective, lo: Number.NEGATIVE_INFINITY, hi: limit });
  }
  return { ...lp, rows, integers: [...integers] };
}

/**
 * The labelling bound within `deadline` (performance.now() time) over the plans within `limits`, and
 * the plans its integer programmes found.
 */
export async function labellingBound(cp: Compiled, metric: SumMetric, engine: Solver, deadline: number, limits: SumLimits = {}): Promise<LabellingResult> {
  const none: LabellingResult = { bound: 0, plans: [] };
  if (cp.m < 2) return none;
  const base = limitedProgramme(cp, metric, limits);
  if (base === null) return none;
  const t0 = performance.now();
  const plain = Math.max(0, (await optimumOf(engine, base, true, deadline))?.value ?? 0);
  const orders = boardOrders(cp);
  // Each order's LP takes about as long as the first (0.7-1.7 times it on RAFT and Swin-T): orders
  // that cannot all finish are not started.
  const now = performance.now();
  if (orders === null || now + orders.length * (now - t0) > deadline) return { bound: plain, plans: [] };
  if (plain === Number.POSITIVE_INFINITY) return { bound: plain, plans: [] };
  const programmes = orders.map((o) => limitedProgramme(cp, metric, limits, o)!);
  const values: number[] = [];
  for (const lp of programmes) {
    const v = await optimumOf(engine, lp, true, deadline);
    // An order not solved in time leaves only the bound without order rows.
    if (v === undefined) return { bound: plain, plans: [] };
    values.push(v.value);
  }
  // Raise the cheapest order to its integer optimum while time lasts: the bound is the least over orders.
  const raised = new Uint8Array(values.length);
  const plans: Assignment[] = [];
  for (;;) {
    let i = 0;
    for (let j = 1; j < values.length; j++) if (values[j]! < values[i]!) i = j;
    if (raised[i] === 1 || values[i] === Number.POSITIVE_INFINITY) break;
    const v = await optimumOf(engine, programmes[i]!, false, deadline);
    if (v === undefined) break;
    values[i] = Math.max(values[i]!, v.value);
    raised[i] = 1;
    const plan = Number.isFinite(v.value) ? planOf(cp, orders[i]!, v.values) : undefined;
    if (plan !== undefined) plans.push(plan);
  }
  return { bound: Math.max(plain, Math.min(...values)), plans };
}
