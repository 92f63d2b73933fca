// A pipeline-aware lower bound for graphs too wide for the exact method: it keeps what the
// per-node bounds of _lower-bound.ts drop (stages are contiguous cut-set differences in pipeline
// order, each cut is a transfer and a stage boundary, boards are few), and relaxes only what makes the
// exact problem large.
//
// Every plan is a chain of cut sets ∅ = D0 ⊂ D1 ⊂ … ⊂ Dk = V. Enumerate every cut set once (a
// depth-first walk with incremental sums, no cut set stored) and summarise it by its work per board
// class, memory, unsupported nodes, model outputs and crossing bytes. Group the cut sets by their
// share of the work (nested cut sets never decrease it, so a chain visits groups in order) and keep
// per group the least and the most of every quantity. A stage between groups p and q then costs at
// least (least work of q − most work of p) plus its boundary over the least crossing bytes, and the
// link after it carries at least q's least crossing bytes. A dynamic programme over (group, boards
// used per class) finds the cheapest such chain: a bound, since every plan is one of its chains.
// What is relaxed: nesting within the chain (only the group order is kept), which cut set of a group
// a plan uses (least and most are taken independently), which link (the cheapest), and the plan's
// other constraints. With a group per cut set on a chain graph with uniform links it is exact.

import { transferMs, type Compiled } from './_compiled.js';

export type ChainMetric = 'throughput' | 'latency' | 'energy';

/** Work of the programme (groups² / 2 × usage states × classes) it is allowed. */
const DP_OPERATIONS = 6e7;
/** Most usage states tracked exactly; past it boards are counted, not told apart. */
const MAX_USAGE_STATES = 4096;

interface Classes {
  /** Board class of each board; boards with equal costs, boundary and memory share one. The input board has its own. */
  readonly of: Int32Array;
  readonly count: Int32Array;
  readonly rep: Int32Array;
}

function boardClasses(cp: Compiled): Classes {
  const key = (b: number): string => {
    const bd = cp.boundary[b]!;
    return `${b === cp.input ? 'input' : ''}|${cp.cap[b]}|${bd.fixedMs}|${bd.inMsPerByte}|${bd.outMsPerByte}|${Array.from(cp.lat[b]!).join(',')}|${Array.from(cp.energy[b]!).join(',')}`;
  };
  const ids = new Map<string, number>();
  const of = new Int32Array(cp.m);
  const reps: number[] = [];
  const counts: number[] = [];
  for (let b = 0; b < cp.m; b++) {
    const k = key(b);
    let c = ids.get(k);
    if (c === undefined) {
      c = reps.length;
      ids.set(k, c);
      reps.push(b);
      counts.push(0);
    }
    of[b] = c;
    counts[c]!++;
  }
  return { of, count: Int32Array.from(counts), rep: Int32Array.from(reps) };
}

/** Per-group summaries of the cut sets (index 0 is ∅ alone, the last is V alone). */
interface Groups {
  readonly g: number;
  readonly nc: number;
  readonly minW: Float64Array; // [group * nc + class]
  readonly maxW: Float64Array;
  readonly minE: Float64Array;
  readonly maxE: Float64Array;
  readonly minU: Int32Array;
  readonly maxU: Int32Array;
  readonly minMem: Float64Array;
  readonly maxMem: Float64Array;
  readonly minCut: Float64Array;
  readonly minOuts: Float64Array;
  readonly maxOuts: Float64Array;
}

/**
 * Walk every cut set, calling `leaf` with the running sums; false when `deadline` passed first.
 * Iterative (deep graphs cannot overflow the stack).
 */
function walkCutSets(cp: Compiled, classes: Classes, deadline: number, leaf: (s: LeafSums) => void): boolean {
  const n = cp.n;
  const nc = classes.rep.length;
  const lat: Float64Array[] = [];
  const en: Float64Array[] = [];
  const uns: Uint8Array[] = [];
  for (let c = 0; c < nc; c++) {
    const b = classes.rep[c]!;
    const l = new Float64Array(n);
    const e = new Float64Array(n);
    const u = new Uint8Array(n);
    for (let v = 0; v < n; v++) {
      const x = cp.lat[b]![v]!;
      if (Number.isNaN(x)) u[v] = 1;
      else {
        l[v] = x;
        e[v] = cp.energy[b]![v]!;
      }
    }
    lat.push(l);
    en.push(e);
    uns.push(u);
  }
  const consumed: number[][] = Array.from({ length: n }, () => []);
  const outsOf = new Float64Array(n);
  for (let t = 0; t < cp.tBytes.length; t++) {
    const seen = new Set<number>();
    for (const k of cp.tConsumers[t]!) if (!seen.has(k)) { seen.add(k); consumed[k]!.push(t); }
    const p = cp.tProducer[t]!;
    if (p >= 0 && cp.tOutput[t] === 1) outsOf[p]! += cp.tBytes[t]!;
  }
  const s: LeafSums = { size: 0, w: new Float64Array(nc), e: new Float64Array(nc), u: new Int32Array(nc), mem: 0, cut: 0, outs: 0 };
  const has = new Uint8Array(n);
  // Consumers decided out, per tensor: a tensor crosses the cut when its producer is in (or it is a
  // model input) and one of its consumers is out; producers come first in topological order.
  const outCount = new Int32Array(cp.tBytes.length);
  const join = (v: number, sign: 1 | -1): void => {
    has[v] = sign > 0 ? 1 : 0;
    s.size += sign;
    s.mem += sign * cp.mem[v]!;
    s.outs += sign * outsOf[v]!;
    for (let c = 0; c < nc; c++) {
      s.w[c]! += sign * lat[c]![v]!;
      s.e[c]! += sign * en[c]![v]!;
      s.u[c]! += sign * uns[c]![v]!;
    }
  };
  const leave = (v: number, sign: 1 | -1): void => {
    for (const t of consumed[v]!) {
      const p = cp.tProducer[t]!;
      if (p >= 0 && has[p] === 0) continue;
      if (sign > 0) { if (outCount[t]!++ === 0) s.cut += cp.tBytes[t]!; }
      else if (--outCount[t]! === 0) s.cut -= cp.tBytes[t]!;
    }
  };
  // state[i]: 0 = try topo[i] in, 1 = try it out, 2 = both tried.
  const state = new Uint8Array(n + 1);
  let i = 0;
  let steps = 0;
  for (;;) {
    if ((++steps & 0xffff) === 0 && performance.now() > deadline) return false;
    if (i === n) {
      leaf(s);
      i--;
      continue;
    }
    const v = cp.topo[i]!;
    if (state[i] === 0) {
      state[i] = 1;
      let ok = true;
      for (const w of cp.preds[v]!) if (has[w] === 0) { ok = false; break; }
      if (ok) {
        join(v, 1);
        i++;
        state[i] = 0;
        continue;
      }
    }
    if (state[i] === 1) {
      if (has[v] === 1) join(v, -1);
      state[i] = 2;
      leave(v, 1);
      i++;
      state[i] = 0;
      continue;
    }
    leave(v, -1);
    i--;
    if (i < 0) return true;
  }
}

interface LeafSums {
  size: number;
  readonly w: Float64Array;
  readonly e: Float64Array;
  readonly u: Int32Array;
  mem: number;
  cut: number;
  outs: number;
}

/** Summaries of every cut set in `groups` groups by share of work; undefined past the deadline. */
function groupCutSets(cp: Compiled, classes: Classes, groups: number, deadline: number): Groups | undefined {
  const nc = classes.rep.length;
  const total = new Float64Array(nc);
  for (let c = 0; c < nc; c++) for (let v = 0; v < cp.n; v++) { const x = cp.lat[classes.rep[c]!]![v]!; if (!Number.isNaN(x)) total[c]! += x; }
  // Groups 1..groups hold the cut sets strictly between ∅ and V; 0 is ∅, groups + 1 is V.
  const g = groups + 2;
  const minW = new Float64Array(g * nc).fill(Infinity);
  const maxW = new Float64Array(g * nc).fill(-Infinity);
  const minE = new Float64Array(g * nc).fill(Infinity);
  const maxE = new Float64Array(g * nc).fill(-Infinity);
  const minU = new Int32Array(g * nc).fill(2 ** 30);
  const maxU = new Int32Array(g * nc).fill(-1);
  const minMem = new Float64Array(g).fill(Infinity);
  const maxMem = new Float64Array(g).fill(-Infinity);
  const minCut = new Float64Array(g).fill(Infinity);
  const minOuts = new Float64Array(g).fill(Infinity);
  const maxOuts = new Float64Array(g).fill(-Infinity);
  const share = (w: Float64Array): number => {
    let x = 0;
    for (let c = 0; c < nc; c++) x += total[c]! > 0 ? w[c]! / total[c]! : 0;
    return x / nc;
  };
  const done = walkCutSets(cp, classes, deadline, (s) => {
    let k: number;
    if (s.size === 0) k = 0;
    else if (s.size === cp.n) k = g - 1;
    else k = 1 + Math.min(groups - 1, Math.max(0, Math.floor(share(s.w) * groups)));
    for (let c = 0; c < nc; c++) {
      const j = k * nc + c;
      if (s.w[c]! < minW[j]!) minW[j] = s.w[c]!;
      if (s.w[c]! > maxW[j]!) maxW[j] = s.w[c]!;
      if (s.e[c]! < minE[j]!) minE[j] = s.e[c]!;
      if (s.e[c]! > maxE[j]!) maxE[j] = s.e[c]!;
      if (s.u[c]! < minU[j]!) minU[j] = s.u[c]!;
      if (s.u[c]! > maxU[j]!) maxU[j] = s.u[c]!;
    }
    if (s.mem < minMem[k]!) minMem[k] = s.mem;
    if (s.mem > maxMem[k]!) maxMem[k] = s.mem;
    if (s.cut < minCut[k]!) minCut[k] = s.cut;
    if (s.outs < minOuts[k]!) minOuts[k] = s.outs;
    if (s.outs > maxOuts[k]!) maxOuts[k] = s.outs;
  });
  if (!done) return undefined;
  return { g, nc, minW, maxW, minE, maxE, minU, maxU, minMem, maxMem, minCut, minOuts, maxOuts };
}

/** Cheapest time (ms) and energy (mJ) of moving `bytes` over any link out of `from` (any board when -1). */
function cheapestMove(cp: Compiled, from: number, bytes: number): { ms: number; mj: number } {
  let ms = Infinity;
  let mj = Infinity;
  for (let a = 0; a < cp.m; a++) {
    if (from >= 0 && a !== from) continue;
    for (let b = 0; b < cp.m; b++) {
      const l = cp.links[a]![b];
      if (l === undefined || a === b) continue;
      const t = transferMs(l.link, bytes);
      ms = Math.min(ms, t);
      mj = Math.min(mj, t * l.link.powerW);
    }
  }
  return { ms, mj };
}

/**
 * A lower bound on the optimum of `metric` (the period in ms for throughput), or undefined when the
 * cut sets could not all be walked before `deadline`. `maxGroups` caps the groups (tests use few).
 */
export function chainBound(cp: Compiled, metric: ChainMetric, deadline: number, maxGroups = 4096): number | undefined {
  const classes = boardClasses(cp);
  let nc = classes.rep.length;
  // Usage states: boards used per class (mixed radix); past the cap, only the number of stages.
  let radix = Array.from(classes.count, (k) => k + 1);
  let states = radix.reduce((a, b) => a * b, 1);
  const counted = states > MAX_USAGE_STATES;
  if (counted) { radix = [cp.m + 1]; states = cp.m + 1; }
  const groups = Math.max(1, Math.min(maxGroups, Math.floor(Math.sqrt((2 * DP_OPERATIONS) / (states * nc)))));
  const gs = groupCutSets(cp, classes, groups, deadline);
  if (gs === undefined) return undefined;
  nc = gs.nc;
  const g = gs.g;
  const combine = metric === 'throughput' ? Math.max : (a: number, b: number) => a + b;
  // The move of the model inputs to a first stage away from the input board.
  const inputBytes = gs.minCut[0]!;
  const moveIn = cheapestMove(cp, cp.input, inputBytes);
  const inClass = classes.of[cp.input]!;
  const linkAfter = new Float64Array(g);
  const linkAfterMj = new Float64Array(g);
  for (let q = 1; q < g - 1; q++) {
    if (!Number.isFinite(gs.minCut[q]!)) continue;
    const mv = cheapestMove(cp, -1, gs.minCut[q]!);
    linkAfter[q] = mv.ms;
    linkAfterMj[q] = mv.mj;
  }
  const value = new Float64Array(g * states).fill(Infinity);
  value[0] = 0; // ∅, no board used
  const stride = new Int32Array(radix.length);
  for (let c = 0, s = 1; c < radix.length; c++) { stride[c] = s; s *= radix[c]!; }
  const used = (u: number, c: number): number => Math.floor(u / stride[c]!) % radix[c]!;
  // States in order of boards used, so a state is final before it is extended.
  const order = Array.from({ length: states }, (_, u) => u);
  const usedTotal = (u: number) => { let t = 0; for (let c = 0; c < radix.length; c++) t += used(u, c); return t; };
  order.sort((a, b) => usedTotal(a) - usedTotal(b));
  let best = Infinity;
  let steps = 0;
  for (const u of order) {
    if (usedTotal(u) >= cp.m) continue;
    for (let p = 0; p < g - 1; p++) {
      const vp = value[p * states + u]!;
      if (!Number.isFinite(vp) || vp >= best) continue;
      if ((++steps & 0x3ff) === 0 && performance.now() > deadline) return undefined;
      for (let c = 0; c < nc; c++) {
        const rc = counted ? 0 : c;
        if (used(u, rc) >= radix[rc]! - 1) continue;
        const u2 = u + stride[rc]!;
        const b = classes.rep[c]!;
        const bd = cp.boundary[b]!;
        const cap = cp.cap[b];
        // A first stage away from the input board waits for the inputs to arrive.
        let head = 0;
        if (p === 0 && c !== inClass) {
          head = metric === 'throughput' || metric === 'latency' ? moveIn.ms : moveIn.mj;
          if (!Number.isFinite(head)) continue;
        }
        const pw = p * nc + c;
        // Nested cut sets keep their group order; one group back absorbs rounding at group edges.
        for (let q = p === 0 ? 1 : Math.max(1, p - 1); q < g; q++) {
          if (!Number.isFinite(gs.minCut[q]!)) continue; // an empty group
          const qw = q * nc + c;
          if (gs.minU[qw]! - gs.maxU[pw]! > 0) continue; // some node of the stage cannot run on c
          if (cap !== null && cap !== undefined && gs.minMem[q]! - gs.maxMem[p]! > cap) continue;
          const last = q === g - 1;
          const outs = Math.max(0, gs.minOuts[q]! - gs.maxOuts[p]!);
          const stageMs = Math.max(0, gs.minW[qw]! - gs.maxW[pw]!) + bd.fixedMs + bd.inMsPerByte * gs.minCut[p]! + bd.outMsPerByte * ((last ? 0 : gs.minCut[q]!) + outs);
          let cost: number;
          if (metric === 'energy') cost = Math.max(0, gs.minE[qw]! - gs.maxE[pw]!) + head + (last ? 0 : linkAfterMj[q]!);
          else if (metric === 'latency') cost = stageMs + head + (last ? 0 : linkAfter[q]!);
          else cost = Math.max(stageMs, head, last ? 0 : linkAfter[q]!);
          const v = combine(vp, cost);
          if (last) { if (v < best) best = v; continue; }
          const j = q * states + u2;
          if (v < value[j]!) value[j] = v;
        }
      }
    }
  }
  return Number.isFinite(best) ? best * (1 - 1e-9) : undefined;
}
