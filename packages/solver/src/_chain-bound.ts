// A pipeline-aware lower bound for graphs too wide for the exact method: it keeps what the
// per-node bounds of _lower-bound.ts drop (stages are contiguous cut-set differences in pipeline
// order, each cut is a transfer and a stage boundary, boards are few), and relaxes only what makes the
// exact problem large.
//
// Every plan is a chain of cut sets ∅ = D0 ⊂ D1 ⊂ … ⊂ Dk = V. Visit every cut set once (each step
// adds a ready node, with incremental sums; one representative per group is kept, not the cut sets)
// and summarise it by its work per board class, memory, unsupported nodes, model outputs and crossing
// bytes. Group the cut sets by their
// share of the work (nested cut sets never decrease it, so a chain visits groups in order) and keep
// per group the least and the most of every quantity. A stage between groups p and q then costs at
// least (least work of q − most work of p) plus its boundary over the least crossing bytes, and the
// link after it carries at least q's least crossing bytes. A dynamic programme over (group, boards
// used per class) finds the cheapest such chain: a bound, since every plan is one of its chains.
// What is relaxed: nesting within the chain (only the group order is kept), which cut set of a group
// a plan uses (least and most are taken independently), which link (the cheapest), and the plan's
// other constraints. With a group per cut set on a chain graph with uniform links it is exact.
// Where the cheapest chain is not nested, pivots split the groups and the programme runs again;
// where it is, its representatives are a plan priced like the bound (chainBoundAndPlan).

import { transferMs, type Compiled } from './_compiled.js';
import { incomparable } from './_coarsen.js';
import { cheapestTransfer } from './_downsets.js';
import { assignmentProblem, metricsOf, objectiveValue, type Assignment } from './evaluate.js';

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
    const fb = cp.frames[b]!;
    return `${b === cp.input ? 'input' : ''}|${cp.cap[b]}|${bd.fixedMs}|${bd.inMsPerByte}|${bd.outMsPerByte}|${bd.outputMsPerByte}|${fb.perInByte}|${fb.perOutByte}|${Array.from(cp.lat[b]!).join(',')}|${Array.from(cp.energy[b]!).join(',')}`;
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

/** Per-group summaries of the cut sets (index 0 is ∅ alone, the last is V alone), in order of share. */
interface Groups {
  readonly g: number;
  readonly nc: number;
  /** Share bucket and pivot signature (pivots in the cut set, one bit each) of each group. */
  readonly share: Int32Array;
  readonly sig: Int32Array;
  /** One cut set of each group (membership per node), to find where a relaxed chain is not nested. */
  readonly rep: readonly Uint8Array[];
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
 * What the walk visits. Exact (`kept` undefined): every cut set of the graph. Relaxed: the downsets of
 * the order the kept nodes induce (u before v when a path joins them); the other nodes are free. A
 * cut set D' of the graph restricts to the kept downset D = D' ∩ kept, and lies between D's least
 * extension (D and every free node some node of D depends on: `below`) and its most (D and every free
 * node all of whose kept ancestors are in D: `above`, `need`). So summing a quantity over the least
 * and the most extension brackets it for every cut set D stands for, and the programme's bound holds
 * (a stage of free nodes only goes from a group to itself).
 */
interface View {
  /** 1 for a node the walk adds; undefined when every node is kept. */
  readonly kept?: Uint8Array;
  /** Kept nodes: the kept nodes before it through paths of free nodes (its direct predecessors when exact). */
  readonly preds: readonly (readonly number[])[];
  readonly succs: readonly (readonly number[])[];
  /** Kept node: the free nodes that reach it through free nodes only (in every extension once it is in). */
  readonly below: readonly (readonly number[])[];
  /** Kept node: the free nodes it reaches through free nodes only. */
  readonly above: readonly (readonly number[])[];
  /** Free node: how many kept nodes reach it through free nodes only (all of them in: it may be in). */
  readonly need: Int32Array;
}

function exactView(cp: Compiled): View {
  const none: number[] = [];
  return { preds: cp.preds, succs: cp.succs, below: Array.from({ length: cp.n }, () => none), above: Array.from({ length: cp.n }, () => none), need: new Int32Array(cp.n) };
}

/** The view in which only `kept` nodes are walked (see View). */
function relaxedView(cp: Compiled, kept: Uint8Array): View {
  const n = cp.n;
  const preds: number[][] = Array.from({ length: n }, () => []);
  const succs: number[][] = Array.from({ length: n }, () => []);
  const below: number[][] = Array.from({ length: n }, () => []);
  const above: number[][] = Array.from({ length: n }, () => []);
  const need = new Int32Array(n);
  const mark = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  // Backward from each kept node through free nodes: the kept nodes met are its predecessors in the view.
  for (let s = 0; s < n; s++) {
    if (kept[s] !== 1) continue;
    stack.push(s);
    while (stack.length > 0) {
      const x = stack.pop()!;
      for (const w of cp.preds[x]!) {
        if (mark[w] === s) continue;
        mark[w] = s;
        if (kept[w] === 1) { preds[s]!.push(w); succs[w]!.push(s); } else { below[s]!.push(w); stack.push(w); }
      }
    }
  }
  mark.fill(-1);
  for (let u = 0; u < n; u++) {
    if (kept[u] !== 1) continue;
    stack.push(u);
    while (stack.length > 0) {
      const x = stack.pop()!;
      for (const w of cp.succs[x]!) {
        if (mark[w] === u || kept[w] === 1) continue;
        mark[w] = u;
        above[u]!.push(w);
        need[w]!++;
        stack.push(w);
      }
    }
  }
  return { kept, preds, succs, below, above, need };
}

type WalkEnd = 'done' | 'late' | 'stopped';

/**
 * Visit every cut set of the view once, calling `leaf` with its running sums ('late' when `deadline`
 * passed first, 'stopped' when `leaf` returned true). Each cut set is reached from a smaller one by
 * adding a node that is ready (all its predecessors in) and later in topological order than the node
 * added last, so every step of the walk is a cut set (no dead ends) and costs the graph's width, not
 * its size. Iterative: deep graphs cannot overflow the stack. A relaxed view reports both extensions
 * (the least and the most sums, see View), and an exact ∅ and V where its own first and last cut sets
 * are not exactly them.
 */
function walkCutSets(cp: Compiled, classes: Classes, view: View, deadline: number, leaf: (s: LeafSums) => boolean | void, sums = true): WalkEnd {
  const n = cp.n;
  const nc = classes.rep.length;
  const relaxed = view.kept !== undefined;
  // Per node and class, flat ([v * nc + c]): touched at every step.
  const lat = new Float64Array(n * nc);
  const en = new Float64Array(n * nc);
  const uns = new Uint8Array(n * nc);
  for (let c = 0; c < nc; c++) {
    const b = classes.rep[c]!;
    for (let v = 0; v < n; v++) {
      const x = cp.lat[b]![v]!;
      if (Number.isNaN(x)) uns[v * nc + c] = 1;
      else {
        lat[v * nc + c] = x;
        en[v * nc + c] = cp.energy[b]![v]!;
      }
    }
  }
  const nt = cp.tBytes.length;
  // Per tensor: distinct consuming nodes, how many of them are in the most extension, and whether its
  // producer is in the least one (a model input always is). It surely crosses when it is produced and
  // some consumer is surely out.
  const consumers = new Int32Array(nt);
  const inCount = new Int32Array(nt);
  const produced = new Uint8Array(nt);
  const consumed: number[][] = Array.from({ length: n }, () => []);
  const producedBy: number[][] = Array.from({ length: n }, () => []);
  const outsOf = new Float64Array(n);
  let cut = 0;
  for (let t = 0; t < nt; t++) {
    const seen = new Set<number>();
    for (const k of cp.tConsumers[t]!) if (!seen.has(k)) { seen.add(k); consumed[k]!.push(t); }
    consumers[t] = seen.size;
    const p = cp.tProducer[t]!;
    if (p >= 0) {
      producedBy[p]!.push(t);
      if (cp.tOutput[t] === 1) outsOf[p]! += cp.tBytes[t]!;
    } else {
      produced[t] = 1;
      if (seen.size > 0) cut += cp.tBytes[t]!; // ∅: the model inputs cross
    }
  }
  const inputCut = cut;
  const pos = new Int32Array(n);
  cp.topo.forEach((v, i) => { pos[v] = i; });
  const has = new Uint8Array(n);
  const s: LeafSums = {
    size: 0, w: new Float64Array(nc), e: new Float64Array(nc), u: new Int32Array(nc), mem: 0, cut, outs: 0, has,
    sizeMax: 0, wMax: new Float64Array(nc), eMax: new Float64Array(nc), uMax: new Int32Array(nc), memMax: 0, outsMax: 0,
  };
  // The least extension gains (d = 1) or loses (d = -1) node x.
  const least = (x: number, d: 1 | -1): void => {
    has[x] = d === 1 ? 1 : 0;
    s.size += d;
    s.mem += d * cp.mem[x]!;
    s.outs += d * outsOf[x]!;
    for (let c = 0, j = x * nc; c < nc; c++, j++) { s.w[c]! += d * lat[j]!; s.e[c]! += d * en[j]!; s.u[c]! += d * uns[j]!; }
    for (const t of producedBy[x]!) {
      produced[t] = d === 1 ? 1 : 0;
      if (inCount[t]! < consumers[t]!) s.cut += d * cp.tBytes[t]!;
    }
  };
  // The most extension gains or loses node x.
  const most = (x: number, d: 1 | -1): void => {
    s.sizeMax += d;
    s.memMax += d * cp.mem[x]!;
    s.outsMax += d * outsOf[x]!;
    for (let c = 0, j = x * nc; c < nc; c++, j++) { s.wMax[c]! += d * lat[j]!; s.eMax[c]! += d * en[j]!; s.uMax[c]! += d * uns[j]!; }
    for (const t of consumed[x]!) {
      if (d === 1) { if (++inCount[t]! === consumers[t] && produced[t] === 1) s.cut -= cp.tBytes[t]!; }
      else if (inCount[t]!-- === consumers[t] && produced[t] === 1) s.cut += cp.tBytes[t]!;
    }
  };
  const forced = new Int32Array(n); // free node: kept nodes in D that it reaches through free nodes
  const allowed = new Int32Array(n); // free node: kept nodes in D that reach it through free nodes
  if (relaxed) for (let v = 0; v < n; v++) if (view.kept![v] !== 1 && view.need[v] === 0) most(v, 1);
  // Ready nodes (all predecessors in, not in themselves), removable in O(1).
  const missing = Int32Array.from(view.preds, (p) => p.length);
  const ready = new Int32Array(n);
  const slot = new Int32Array(n).fill(-1);
  let nReady = 0;
  const addReady = (v: number) => { slot[v] = nReady; ready[nReady++] = v; };
  const dropReady = (v: number) => {
    const i = slot[v]!;
    const last = ready[--nReady]!;
    ready[i] = last;
    slot[last] = i;
    slot[v] = -1;
  };
  let keptCount = 0;
  for (let v = 0; v < n; v++) {
    if (relaxed && view.kept![v] !== 1) continue;
    keptCount++;
    if (missing[v] === 0) addReady(v);
  }
  const succs = view.succs;
  // Exact: the cut set gains or loses v (the hot path, kept as lean as the walk was before relaxing).
  const joinExact = (v: number): void => {
    has[v] = 1;
    s.size++;
    s.mem += cp.mem[v]!;
    s.outs += outsOf[v]!;
    for (let c = 0, j = v * nc; c < nc; c++, j++) { s.w[c]! += lat[j]!; s.e[c]! += en[j]!; s.u[c]! += uns[j]!; }
    // Its outputs cross (no consumer is in yet: consumers come later); inputs whose last consumer it is stop crossing.
    for (const t of producedBy[v]!) if (consumers[t]! > 0) s.cut += cp.tBytes[t]!;
    for (const t of consumed[v]!) if (++inCount[t]! === consumers[t]) s.cut -= cp.tBytes[t]!;
  };
  const unjoinExact = (v: number): void => {
    for (const t of consumed[v]!) if (inCount[t]!-- === consumers[t]) s.cut += cp.tBytes[t]!;
    for (const t of producedBy[v]!) if (consumers[t]! > 0) s.cut -= cp.tBytes[t]!;
    for (let c = 0, j = v * nc; c < nc; c++, j++) { s.w[c]! -= lat[j]!; s.e[c]! -= en[j]!; s.u[c]! -= uns[j]!; }
    s.outs -= outsOf[v]!;
    s.mem -= cp.mem[v]!;
    s.size--;
    has[v] = 0;
  };
  const join = (v: number): void => {
    if (relaxed) {
      least(v, 1);
      most(v, 1);
      for (const r of view.below[v]!) if (forced[r]!++ === 0) least(r, 1);
      for (const r of view.above[v]!) if (++allowed[r]! === view.need[r]) most(r, 1);
    } else if (sums) joinExact(v);
    dropReady(v);
    for (const w of succs[v]!) if (--missing[w]! === 0) addReady(w);
  };
  const unjoin = (v: number): void => {
    for (const w of succs[v]!) if (missing[w]!++ === 0) dropReady(w);
    addReady(v);
    if (relaxed) {
      for (const r of view.above[v]!) if (allowed[r]!-- === view.need[r]) most(r, -1);
      for (const r of view.below[v]!) if (--forced[r]! === 0) least(r, -1);
      most(v, -1);
      least(v, -1);
    } else if (sums) unjoinExact(v);
  };
  // Exact, the most sums are the least ones.
  if (!relaxed) { s.wMax = s.w; s.eMax = s.e; s.uMax = s.u; }
  const emit = (x: LeafSums): boolean | void => {
    if (!relaxed) { x.sizeMax = x.size; x.memMax = x.mem; x.outsMax = x.outs; }
    return leaf(x);
  };
  if (relaxed && s.sizeMax > 0) {
    // The walk's first cut set stands for cut sets holding free nodes: ∅ itself is reported first.
    const z = () => new Float64Array(nc);
    const empty: LeafSums = { size: 0, w: z(), e: z(), u: new Int32Array(nc), mem: 0, cut: inputCut, outs: 0, has: new Uint8Array(n), sizeMax: 0, wMax: z(), eMax: z(), uMax: new Int32Array(nc), memMax: 0, outsMax: 0 };
    if (emit(empty) === true) return 'stopped';
  }
  // Frames: the node added (-1 at the root) and the range of its children on the `kids` stack.
  const node = new Int32Array(n + 1);
  const from = new Int32Array(n + 1);
  const next = new Int32Array(n + 1);
  const to = new Int32Array(n + 1);
  let kids = new Int32Array(Math.max(16, 4 * n));
  let kidsTop = 0;
  const pushChildren = (after: number): void => {
    if (kidsTop + nReady > kids.length) { const k = new Int32Array(2 * (kidsTop + nReady)); k.set(kids); kids = k; }
    for (let i = 0; i < nReady; i++) { const v = ready[i]!; if (pos[v]! > after) kids[kidsTop++] = v; }
  };
  let top = 0;
  node[0] = -1;
  from[0] = next[0] = kidsTop;
  pushChildren(-1);
  to[0] = kidsTop;
  top = 1;
  // Whether V itself was visited (its least extension holds every node).
  let sawAll = s.size === n;
  if (emit(s) === true) return 'stopped';
  let steps = 0;
  while (top > 0) {
    const f = top - 1;
    if (next[f]! < to[f]!) {
      if ((++steps & 0x3fff) === 0 && performance.now() > deadline) return 'late';
      const v = kids[next[f]!++]!;
      join(v);
      node[top] = v;
      from[top] = next[top] = kidsTop;
      pushChildren(pos[v]!);
      to[top] = kidsTop;
      top++;
      if (s.size === n) sawAll = true;
      if (!relaxed) { s.sizeMax = s.size; s.memMax = s.mem; s.outsMax = s.outs; }
      if (leaf(s) === true) return 'stopped';
    } else {
      kidsTop = from[f]!;
      if (node[f]! >= 0) unjoin(node[f]!);
      top--;
    }
  }
  if (relaxed && !sawAll) {
    // Every kept node in, yet free nodes outside the least extension: V itself is reported last.
    const w = new Float64Array(nc);
    const e = new Float64Array(nc);
    const u = new Int32Array(nc);
    let mem = 0;
    let outs = 0;
    for (let v = 0; v < n; v++) {
      mem += cp.mem[v]!;
      outs += outsOf[v]!;
      for (let c = 0, j = v * nc; c < nc; c++, j++) { w[c]! += lat[j]!; e[c]! += en[j]!; u[c]! += uns[j]!; }
    }
    const all: LeafSums = { size: n, w, e, u, mem, cut: 0, outs, has: new Uint8Array(n).fill(1), sizeMax: n, wMax: w, eMax: e, uMax: u, memMax: mem, outsMax: outs };
    if (emit(all) === true) return 'stopped';
  }
  return 'done';
}

interface LeafSums {
  /** The least extension (the cut set itself when exact): its size, sums, crossing bytes (a lower bound when relaxed) and membership. */
  size: number;
  readonly w: Float64Array;
  readonly e: Float64Array;
  readonly u: Int32Array;
  mem: number;
  cut: number;
  outs: number;
  readonly has: Uint8Array;
  /** The most extension (equal to the least when exact). */
  sizeMax: number;
  wMax: Float64Array;
  eMax: Float64Array;
  uMax: Int32Array;
  memMax: number;
  outsMax: number;
}

/**
 * Summaries of every cut set, grouped by share of work (`shares` buckets) and by which `pivots` it
 * holds; undefined past the deadline.
 */
function groupCutSets(cp: Compiled, classes: Classes, view: View, shares: number, pivots: readonly number[], deadline: number): Groups | undefined {
  const nc = classes.rep.length;
  const total = new Float64Array(nc);
  for (let c = 0; c < nc; c++) for (let v = 0; v < cp.n; v++) { const x = cp.lat[classes.rep[c]!]![v]!; if (!Number.isNaN(x)) total[c]! += x; }
  const index = new Map<number, number>();
  const key: number[] = [];
  const rep: Uint8Array[] = [];
  const minW: number[] = [];
  const maxW: number[] = [];
  const minE: number[] = [];
  const maxE: number[] = [];
  const minU: number[] = [];
  const maxU: number[] = [];
  const minMem: number[] = [];
  const maxMem: number[] = [];
  const minCut: number[] = [];
  const minOuts: number[] = [];
  const maxOuts: number[] = [];
  const share = (w: Float64Array): number => {
    let x = 0;
    for (let c = 0; c < nc; c++) x += total[c]! > 0 ? w[c]! / total[c]! : 0;
    return x / nc;
  };
  const sigs = 2 ** pivots.length;
  // Group of each (share, signature) key: a flat table when it is small, else a map.
  const keys = (shares + 2) * sigs;
  const flat = keys <= 1 << 22 ? new Int32Array(keys).fill(-1) : undefined;
  const done = walkCutSets(cp, classes, view, deadline, (s) => {
    // ∅ sorts first (bucket -1), V last (bucket `shares`); the others by share, then signature.
    const ws = s.sizeMax === 0 ? -1 : s.size === cp.n ? shares : Math.min(shares - 1, Math.max(0, Math.floor(share(s.w) * shares)));
    let sig = 0;
    for (let i = 0; i < pivots.length; i++) if (s.has[pivots[i]!] === 1) sig |= 1 << i;
    const kk = (ws + 1) * sigs + sig;
    let k = flat === undefined ? index.get(kk) : flat[kk]! >= 0 ? flat[kk] : undefined;
    if (k === undefined) {
      k = key.length;
      if (flat === undefined) index.set(kk, k);
      else flat[kk] = k;
      key.push(kk);
      rep.push(new Uint8Array(0));
      for (let c = 0; c < nc; c++) {
        minW.push(Infinity); maxW.push(-Infinity); minE.push(Infinity); maxE.push(-Infinity); minU.push(2 ** 30); maxU.push(-1);
      }
      minMem.push(Infinity); maxMem.push(-Infinity); minCut.push(Infinity); minOuts.push(Infinity); maxOuts.push(-Infinity);
    }
    for (let c = 0; c < nc; c++) {
      const j = k * nc + c;
      if (s.w[c]! < minW[j]!) minW[j] = s.w[c]!;
      if (s.wMax[c]! > maxW[j]!) maxW[j] = s.wMax[c]!;
      if (s.e[c]! < minE[j]!) minE[j] = s.e[c]!;
      if (s.eMax[c]! > maxE[j]!) maxE[j] = s.eMax[c]!;
      if (s.u[c]! < minU[j]!) minU[j] = s.u[c]!;
      if (s.uMax[c]! > maxU[j]!) maxU[j] = s.uMax[c]!;
    }
    if (s.mem < minMem[k]!) minMem[k] = s.mem;
    if (s.memMax > maxMem[k]!) maxMem[k] = s.memMax;
    if (s.cut < minCut[k]!) {
      minCut[k] = s.cut;
      // The representative is a cut set of least crossing bytes: the one the programme prices.
      rep[k] = s.has.slice();
    }
    if (s.outs < minOuts[k]!) minOuts[k] = s.outs;
    if (s.outsMax > maxOuts[k]!) maxOuts[k] = s.outsMax;
  });
  if (done !== 'done') return undefined;
  const order = key.map((_, i) => i).sort((x, y) => key[x]! - key[y]!);
  const perClass = <T extends Float64Array | Int32Array>(src: number[], make: (len: number) => T): T => {
    const out = make(order.length * nc);
    order.forEach((k, i) => { for (let c = 0; c < nc; c++) out[i * nc + c] = src[k * nc + c]!; });
    return out;
  };
  const perGroup = (src: number[]) => Float64Array.from(order, (k) => src[k]!);
  return {
    g: order.length, nc,
    share: Int32Array.from(order, (k) => Math.floor(key[k]! / sigs) - 1),
    sig: Int32Array.from(order, (k) => key[k]! % sigs),
    rep: order.map((k) => rep[k]!),
    minW: perClass(minW, (l) => new Float64Array(l)), maxW: perClass(maxW, (l) => new Float64Array(l)),
    minE: perClass(minE, (l) => new Float64Array(l)), maxE: perClass(maxE, (l) => new Float64Array(l)),
    minU: perClass(minU, (l) => new Int32Array(l)), maxU: perClass(maxU, (l) => new Int32Array(l)),
    minMem: perGroup(minMem), maxMem: perGroup(maxMem), minCut: perGroup(minCut), minOuts: perGroup(minOuts), maxOuts: perGroup(maxOuts),
  };
}

/** Cheapest time (ms) and energy (mJ) of moving the model inputs off the input board. */
function inputMove(cp: Compiled, bytes: number): { ms: number; mj: number } {
  let ms = Infinity;
  let mj = Infinity;
  for (let b = 0; b < cp.m; b++) {
    const l = cp.links[cp.input]![b];
    if (l === undefined || b === cp.input) continue;
    const t = transferMs(l.link, bytes);
    ms = Math.min(ms, t);
    mj = Math.min(mj, t * l.link.powerW);
  }
  return { ms, mj };
}

/**
 * A lower bound on the optimum of `metric` (the period in ms for throughput), or undefined when the
 * cut sets could not all be walked before `deadline`. `maxGroups` caps the groups (tests use few).
 *
 * Rounds: where the cheapest relaxed chain steps between cut sets that are not nested, a node of the
 * first missing from the second becomes a pivot, and the groups are split by the pivots they hold
 * (nested cut sets hold nested pivot sets, so the programme may require that). Every round is a bound;
 * the best one is returned, as many rounds as the deadline allows.
 */
export function chainBound(cp: Compiled, metric: ChainMetric, deadline: number, maxGroups = 4096): number | undefined {
  return chainBoundAndPlan(cp, metric, deadline, { maxGroups }).bound;
}

export interface ChainOptions {
  /** Most groups (tests use few). */
  readonly maxGroups?: number;
  /**
   * Most cut sets a walk visits: past it, the cheapest nodes are freed (the relaxed walk of View).
   * Unset: exact when the cut sets, counted within EXACT_SHARE of the time, are at most EXACT_LEAVES;
   * else relaxed walks of RELAXED_LEAVES cut sets while time is left.
   */
  readonly maxLeaves?: number;
}

/**
 * Most cut sets walked exactly (YOLO11n's 2.6 million take about 0.45 s a walk here), and the share of
 * the bound's time their count may take before the cheapest nodes are freed instead.
 */
const EXACT_LEAVES = 4_000_000;
const EXACT_SHARE = 0.3;
/**
 * Cut sets of the relaxed walks, tried in turn while time is left (each costs a walk per round and
 * about ten counts to choose the free nodes: about 0.1, 0.4 and 1.5 s on the merged decoder here).
 */
const RELAXED_LEAVES = [10_000, 40_000, 160_000];

/** The view's cut sets, counted up to `limit` (past it, limit + 1); undefined past the deadline. */
function countCutSets(cp: Compiled, classes: Classes, view: View, limit: number, deadline: number): number | undefined {
  let k = 0;
  // An exact view is counted without its sums; a relaxed one needs them to know its ∅ and V.
  return walkCutSets(cp, classes, view, deadline, () => ++k > limit, view.kept !== undefined) === 'late' ? undefined : k;
}

/**
 * Which nodes to free first. `cheapest`: by their time on their slowest class (a node some class
 * cannot run counts as dearest). `wide`: that time over one plus the nodes incomparable with it, as
 * the coarsening contracts: inside wide regions first, where cut sets multiply, trunk nodes last.
 * Neither wins everywhere (the Moonshine decoder on here + RPi 5 + RPi 4: `wide` proves the plan
 * optimal where `cheapest` leaves 0.011 %; on four analytic boards `cheapest` bounds 20 % higher).
 */
type FreeOrder = 'cheapest' | 'wide';

/** Nodes in the order they are freed (see FreeOrder). */
function freeOrder(cp: Compiled, classes: Classes, by: FreeOrder): number[] {
  const n = cp.n;
  const cost = new Float64Array(n);
  for (let v = 0; v < n; v++) {
    for (const b of classes.rep) {
      const x = cp.lat[b]![v]!;
      cost[v] = Number.isNaN(x) ? Infinity : Math.max(cost[v]!, x);
    }
  }
  if (by === 'wide') {
    const wide = incomparable(cp);
    for (let v = 0; v < n; v++) cost[v] = cost[v]! / (1 + wide[v]!);
  }
  const pos = new Int32Array(n);
  cp.topo.forEach((v, i) => { pos[v] = i; });
  return Array.from({ length: n }, (_, v) => v).sort((a, b) => cost[a]! - cost[b]! || pos[a]! - pos[b]!);
}

/**
 * The nodes a relaxed walk keeps: as few freed, first in `order`, as bring the view's cut sets within
 * `limit` (bisection: freeing more never adds cut sets). Undefined past the deadline.
 */
function keptNodes(cp: Compiled, classes: Classes, order: readonly number[], limit: number, deadline: number): Uint8Array | undefined {
  const n = cp.n;
  const keptWithout = (k: number): Uint8Array => {
    const kept = new Uint8Array(n).fill(1);
    for (let i = 0; i < k; i++) kept[order[i]!] = 0;
    return kept;
  };
  let lo = 1;
  let hi = Math.max(1, n - 1);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = countCutSets(cp, classes, relaxedView(cp, keptWithout(mid)), limit, deadline);
    if (c === undefined) return undefined;
    if (c <= limit) hi = mid;
    else lo = mid + 1;
  }
  return keptWithout(lo);
}

/**
 * The bound, and a plan read off the cheapest relaxed chain when its groups' representatives (cut
 * sets of least crossing bytes) are nested: often at or next to the bound, since it is priced like it.
 */
export function chainBoundAndPlan(cp: Compiled, metric: ChainMetric, deadline: number, options: ChainOptions = {}): { bound?: number; plan?: Assignment } {
  const maxGroups = options.maxGroups ?? 4096;
  const classes = boardClasses(cp);
  const nc = classes.rep.length;
  // Usage states: boards used per class (mixed radix); past the cap, only the number of stages. The
  // more states, the fewer groups the programme can afford.
  const usageOf = (counts: readonly number[]): { usage: Usage; budget: number } => {
    let radix = counts.map((k) => k + 1);
    let states = radix.reduce((a, b) => a * b, 1);
    const counted = states > MAX_USAGE_STATES;
    if (counted) { radix = [counts.reduce((a, b) => a + b, 0) + 1]; states = radix[0]!; }
    return { usage: { radix, states, counted }, budget: Math.max(1, Math.min(maxGroups, Math.floor(Math.sqrt((2 * DP_OPERATIONS) / (states * nc))))) };
  };
  const all = usageOf(Array.from(classes.count));
  // Boards of a mixed set repeated (two of each kind) multiply the states and coarsen the groups, so
  // a plan read off the repeated set can be worse than one on a single board of each kind. Those
  // plans are valid here too (their bound is not: it has fewer boards), so the relaxed walks also
  // read one off a programme with one board per class, when that still allows three stages or more.
  const oneEach = classes.count.some((k) => k > 1) && nc >= 3 ? usageOf(Array.from(classes.count, (k) => Math.min(k, 1))) : undefined;
  // Rounds on one view: the best bound, and a plan when a chain's representatives are nested; `late`
  // when its first walk missed `firstDeadline`.
  const rounds = (view: View, firstDeadline: number, { usage, budget } = all): { bound?: number; plan?: Assignment; late: boolean } => {
    const pivots: number[] = [];
    let best: number | undefined;
    let plan: Assignment | undefined;
    let signatures = 1;
    let late = false;
    for (let round = 0; round <= MAX_PIVOTS; round++) {
      const gs = groupCutSets(cp, classes, view, Math.max(1, Math.floor(budget / signatures)), pivots, round === 0 ? firstDeadline : deadline);
      if (gs === undefined) { late = round === 0; break; }
      const r = cheapestChain(cp, classes, gs, usage, metric, deadline);
      if (r === undefined) break;
      best = Math.max(best ?? 0, r.value);
      if (!Number.isFinite(r.value)) break;
      const v = notNested(gs, r.chain);
      if (v < 0) {
        plan = planOf(cp, classes, gs, r.chain, r.classes);
        break;
      }
      pivots.push(v);
      signatures = 2 * new Set(gs.sig).size;
    }
    return { ...(best === undefined || !Number.isFinite(best) ? {} : { bound: best * (1 - 1e-9) }), ...(plan === undefined ? {} : { plan }), late };
  };
  let bound: number | undefined;
  let plan: Assignment | undefined;
  let planValue = Infinity;
  // Of the plans the relaxed walks read off, the best valid one (each walk prices its chain its own way).
  const offer = (a: Assignment | undefined): void => {
    if (a === undefined || assignmentProblem(cp, a) !== null) return;
    const value = objectiveValue(metricsOf(cp, a), metric);
    if (value < planValue) { plan = a; planValue = value; }
  };
  // Relaxed walks of growing size while time is left, each size with both orders of freeing: each is
  // a bound, the best is kept.
  const relaxed = (limits: readonly number[]): void => {
    const orders: Record<FreeOrder, number[]> = { cheapest: freeOrder(cp, classes, 'cheapest'), wide: freeOrder(cp, classes, 'wide') };
    for (const limit of limits) {
      for (const by of ['cheapest', 'wide'] as const) {
        if (performance.now() >= deadline) return;
        const kept = keptNodes(cp, classes, orders[by], limit, deadline);
        if (kept === undefined) return;
        const view = relaxedView(cp, kept);
        const r = rounds(view, deadline);
        if (r.bound !== undefined) bound = Math.max(bound ?? 0, r.bound);
        offer(r.plan);
        if (oneEach !== undefined && performance.now() < deadline) offer(rounds(view, deadline, oneEach).plan);
      }
    }
  };
  if (options.maxLeaves !== undefined) {
    const count = countCutSets(cp, classes, exactView(cp), options.maxLeaves, deadline);
    if (count === undefined) return {};
    if (count <= options.maxLeaves) ({ bound, plan } = rounds(exactView(cp), deadline));
    else relaxed([options.maxLeaves]);
  } else {
    // Exact when the cut sets can all be walked (counted first, within a share of the time); else, or
    // when the exact walk does not finish after all, relaxed walks.
    const start = performance.now();
    const count = countCutSets(cp, classes, exactView(cp), EXACT_LEAVES, start + EXACT_SHARE * (deadline - start));
    const exact = count !== undefined && count <= EXACT_LEAVES ? rounds(exactView(cp), deadline) : undefined;
    if (exact === undefined || exact.late) relaxed(RELAXED_LEAVES);
    else ({ bound, plan } = exact);
  }
  return { ...(bound === undefined ? {} : { bound }), ...(plan === undefined ? {} : { plan }) };
}

/** The chain's representatives as stages, each on a board of its class (the input board for its own class); empty stages dropped. */
function planOf(cp: Compiled, classes: Classes, gs: Groups, chain: readonly number[], stageClass: readonly number[]): Assignment | undefined {
  const taken = new Uint8Array(cp.m);
  const boards: number[] = [];
  const stageOf = new Int32Array(cp.n).fill(-1);
  for (let i = 0; i + 1 < chain.length; i++) {
    const a = gs.rep[chain[i]!]!;
    const b = gs.rep[chain[i + 1]!]!;
    let any = false;
    for (let v = 0; v < cp.n; v++) if (b[v] === 1 && a[v] === 0) { stageOf[v] = boards.length; any = true; }
    if (!any) continue;
    let board = -1;
    for (let x = 0; x < cp.m && board < 0; x++) if (taken[x] === 0 && classes.of[x] === stageClass[i]) board = x;
    if (board < 0) return undefined;
    taken[board] = 1;
    boards.push(board);
  }
  for (let v = 0; v < cp.n; v++) if (stageOf[v]! < 0) return undefined;
  return { boards, stageOf };
}

/** Most pivots (rounds after the first). */
const MAX_PIVOTS = 12;

interface Usage {
  readonly radix: readonly number[];
  readonly states: number;
  /** True when boards are only counted, not told apart by class. */
  readonly counted: boolean;
}

/** A node in one group's cut set and not in the next one's, along the chain; -1 when all are nested. */
function notNested(gs: Groups, chain: readonly number[]): number {
  for (let i = 0; i + 1 < chain.length; i++) {
    const a = gs.rep[chain[i]!]!;
    const b = gs.rep[chain[i + 1]!]!;
    for (let v = 0; v < a.length; v++) if (a[v] === 1 && b[v] === 0) return v;
  }
  return -1;
}

/** The programme over (group, boards used): the cheapest relaxed chain from ∅ to V and its groups. */
function cheapestChain(cp: Compiled, classes: Classes, gs: Groups, usage: Usage, metric: ChainMetric, deadline: number): { value: number; chain: number[]; classes: number[] } | undefined {
  const { radix, states, counted } = usage;
  const nc = gs.nc;
  const g = gs.g;
  const combine = metric === 'throughput' ? Math.max : (a: number, b: number) => a + b;
  // The move of the model inputs to a first stage away from the input board.
  const moveIn = inputMove(cp, gs.minCut[0]!);
  const inClass = classes.of[cp.input]!;
  const linkAfter = new Float64Array(g);
  const linkAfterMj = new Float64Array(g);
  for (let q = 1; q < g - 1; q++) {
    const mv = cheapestTransfer(cp, gs.minCut[q]!);
    linkAfter[q] = mv.ms;
    linkAfterMj[q] = mv.mj;
  }
  // Nested cut sets never lower the share; one bucket back absorbs rounding at bucket edges.
  const from = new Int32Array(g);
  for (let p = 1, q = 1; p < g; p++) {
    while (q < p && gs.share[q]! < gs.share[p]! - 1) q++;
    from[p] = q;
  }
  from[0] = 1;
  const value = new Float64Array(g * states).fill(Infinity);
  const parent = new Int32Array(g * states).fill(-1);
  const parentClass = new Int32Array(g * states).fill(-1);
  value[0] = 0; // ∅, no board used
  const stride = new Int32Array(radix.length);
  for (let c = 0, s = 1; c < radix.length; c++) { stride[c] = s; s *= radix[c]!; }
  const used = (u: number, c: number): number => Math.floor(u / stride[c]!) % radix[c]!;
  // States in order of boards used, so a state is final before it is extended.
  const order = Array.from({ length: states }, (_, u) => u);
  const usedTotal = (u: number) => { let t = 0; for (let c = 0; c < radix.length; c++) t += used(u, c); return t; };
  order.sort((a, b) => usedTotal(a) - usedTotal(b));
  let best = Infinity;
  let bestFrom = -1;
  let bestClass = -1;
  let steps = 0;
  for (const u of order) {
    if (usedTotal(u) >= cp.m) continue;
    for (let p = 0; p < g - 1; p++) {
      const vp = value[p * states + u]!;
      if (!Number.isFinite(vp) || vp >= best) continue;
      if ((++steps & 0x3ff) === 0 && performance.now() > deadline) return undefined;
      const sigP = gs.sig[p]!;
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
        for (let q = from[p]!; q < g; q++) {
          if ((sigP & ~gs.sig[q]!) !== 0) continue; // a pivot of p missing from q: not nested
          const qw = q * nc + c;
          if (gs.minU[qw]! - gs.maxU[pw]! > 0) continue; // some node of the stage cannot run on c
          if (cap !== null && cap !== undefined && gs.minMem[q]! - gs.maxMem[p]! > cap) continue;
          const last = q === g - 1;
          const outs = Math.max(0, gs.minOuts[q]! - gs.maxOuts[p]!);
          // The model inputs on the input board at its own rate (p === 0: the start; the input board is a class of its own).
          const inRate = p === 0 && c === inClass ? bd.inputMsPerByte : bd.inMsPerByte;
          const stageMs = Math.max(0, gs.minW[qw]! - gs.maxW[pw]!) + bd.fixedMs + inRate * gs.minCut[p]! + bd.outMsPerByte * (last ? 0 : gs.minCut[q]!) + bd.outputMsPerByte * outs;
          let cost: number;
          if (metric === 'energy') cost = Math.max(0, gs.minE[qw]! - gs.maxE[pw]!) + head + (last ? 0 : linkAfterMj[q]!);
          else if (metric === 'latency') cost = stageMs + head + (last ? 0 : linkAfter[q]!);
          else cost = Math.max(stageMs, head, last ? 0 : linkAfter[q]!);
          const v = combine(vp, cost);
          if (last) {
            if (v < best) { best = v; bestFrom = p * states + u; bestClass = c; }
            continue;
          }
          const j = q * states + u2;
          if (v < value[j]!) { value[j] = v; parent[j] = p * states + u; parentClass[j] = c; }
        }
      }
    }
  }
  // Stage i runs from chain[i] to chain[i + 1] on a board of class stageClass[i].
  const chain: number[] = [g - 1];
  const stageClass: number[] = [bestClass];
  for (let x = bestFrom; x >= 0; x = parent[x]!) {
    chain.push(Math.floor(x / states));
    if (parentClass[x]! >= 0) stageClass.push(parentClass[x]!);
  }
  chain.reverse();
  stageClass.reverse();
  return { value: best, chain, classes: stageClass };
}
