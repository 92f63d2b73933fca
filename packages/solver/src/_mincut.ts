// The fewest bytes any cut between two stages carries: the minimum over proper, non-empty downsets D
// of the bytes of tensors produced in D (or model inputs) with a consumer outside D. Every plan with
// two stages or more pays at least one transfer of that size, which is what makes the lower bounds
// of _lower-bound.ts hold up on models whose feature maps are expensive to move.
//
// A max-flow per (source node in D, sink node outside D) pair: every proper non-empty downset holds a
// node without predecessors and misses a node without successors. Closure (consumer in D => producer
// in D) is an infinite arc consumer -> producer; a tensor is an auxiliary vertex that may join D only
// when all its consumers are in D, and costs its bytes when its producer is in D and it is not.

import type { Compiled } from './_compiled.js';

/** Most (source, sink) pairs tried; past it the bound is not computed (0). */
const MAX_PAIRS = 64;

class FlowGraph {
  readonly head: Int32Array;
  private to: number[] = [];
  private next: number[] = [];
  cap: number[] = [];
  private original: number[] = [];

  constructor(readonly size: number) {
    this.head = new Int32Array(size).fill(-1);
  }

  add(u: number, v: number, c: number): void {
    this.to.push(v); this.cap.push(c); this.original.push(c); this.next.push(this.head[u]!); this.head[u] = this.to.length - 1;
    this.to.push(u); this.cap.push(0); this.original.push(0); this.next.push(this.head[v]!); this.head[v] = this.to.length - 1;
  }

  reset(): void {
    this.cap = [...this.original];
  }

  /** Dinic's max-flow from s to t; stops early (returning Infinity) once the flow exceeds `stopAbove`. */
  maxFlow(s: number, t: number, stopAbove: number, deadline: number): number {
    const level = new Int32Array(this.size);
    const it = new Int32Array(this.size);
    let flow = 0;
    const queue = new Int32Array(this.size);
    for (;;) {
      if (performance.now() > deadline) return Number.NaN;
      level.fill(-1);
      level[s] = 0;
      let qh = 0;
      let qt = 0;
      queue[qt++] = s;
      while (qh < qt) {
        const u = queue[qh++]!;
        for (let e = this.head[u]!; e >= 0; e = this.next[e]!) {
          if (this.cap[e]! > 1e-9 && level[this.to[e]!] === -1) {
            level[this.to[e]!] = level[u]! + 1;
            queue[qt++] = this.to[e]!;
          }
        }
      }
      if (level[t] === -1) return flow;
      it.set(this.head);
      // Iterative blocking-flow search.
      for (;;) {
        const pushed = this.augment(s, t, level, it);
        if (pushed <= 0) break;
        flow += pushed;
        if (flow > stopAbove) return Number.POSITIVE_INFINITY;
      }
    }
  }

  private augment(s: number, t: number, level: Int32Array, it: Int32Array): number {
    const path: number[] = [];
    let u = s;
    for (;;) {
      if (u === t) {
        let f = Number.POSITIVE_INFINITY;
        for (const e of path) f = Math.min(f, this.cap[e]!);
        for (const e of path) { this.cap[e]! -= f; this.cap[e ^ 1]! += f; }
        return f;
      }
      let e = it[u]!;
      while (e >= 0 && !(this.cap[e]! > 1e-9 && level[this.to[e]!] === level[u]! + 1)) e = this.next[e]!;
      it[u] = e;
      if (e < 0) {
        if (path.length === 0) return 0;
        // Dead end: retreat and skip the arc that led here.
        level[u] = -1;
        const back = path.pop()!;
        u = this.to[back ^ 1]!;
        it[u] = this.next[it[u]!]!;
        continue;
      }
      path.push(e);
      u = this.to[e]!;
    }
  }
}

/** The closure network of a problem: nodes, tensor vertices, per-pair forcing arcs, and optional node-cost arcs. */
function closureNetwork(cp: Compiled, nodeCost?: Float64Array) {
  const n = cp.n;
  const sources: number[] = [];
  const sinks: number[] = [];
  for (let v = 0; v < n; v++) {
    if (cp.preds[v]!.length === 0) sources.push(v);
    if (cp.succs[v]!.length === 0) sinks.push(v);
  }
  const S = n;
  const T = n + 1;
  const nt = cp.tBytes.length;
  const g = new FlowGraph(n + 2 + nt);
  const INF = Number.POSITIVE_INFINITY;
  let total = 0;
  for (let t = 0; t < nt; t++) {
    const cons = cp.tConsumers[t]!;
    const bytes = cp.tBytes[t]!;
    if (cons.length === 0 || bytes <= 0) continue;
    total += bytes;
    const a = n + 2 + t;
    const p = cp.tProducer[t]!;
    g.add(p < 0 ? S : p, a, bytes);
    for (const c of cons) g.add(a, c, INF);
  }
  for (let v = 0; v < n; v++) for (const w of cp.preds[v]!) g.add(v, w, INF);
  // Forcing arcs, switched per pair through their capacities.
  const forceIn = new Map<number, number>();
  const forceOut = new Map<number, number>();
  const arcOf = (u: number, v: number) => { g.add(u, v, 0); return g.cap.length - 2; };
  for (const s of sources) forceIn.set(s, arcOf(S, s));
  for (const t of sinks) forceOut.set(t, arcOf(t, T));
  // Node in D costs nodeCost[v] (scaled per run): an arc v -> T.
  const costArcs: number[] = [];
  if (nodeCost !== undefined) for (let v = 0; v < n; v++) costArcs.push(arcOf(v, T));
  /** min over proper non-empty downsets of cut bytes + scale x node costs (NaN past the deadline). */
  const minimum = (scale: number, stopAbove: number, deadline: number): number => {
    let best = stopAbove;
    for (const s of sources) {
      for (const t of sinks) {
        if (s === t) continue;
        g.reset();
        g.cap[forceIn.get(s)!] = INF;
        g.cap[forceOut.get(t)!] = INF;
        if (nodeCost !== undefined) costArcs.forEach((e, v) => { g.cap[e] = nodeCost[v]! * scale; });
        const f = g.maxFlow(S, T, best, deadline);
        if (Number.isNaN(f)) return Number.NaN;
        if (f < best) best = f;
      }
    }
    return best;
  };
  return { pairs: sources.length * sinks.length, total, minimum };
}

/** Fewest bytes crossing any cut between two stages; 0 when not computed in time (a valid bound still). */
export function minCutBytes(cp: Compiled, deadline: number): number {
  if (cp.n < 2) return 0;
  const net = closureNetwork(cp);
  if (net.pairs > MAX_PAIRS) return 0;
  const best = net.minimum(0, net.total, deadline);
  return Number.isNaN(best) ? 0 : best;
}

/**
 * A lower bound on max(work(D), moveMs(cut bytes of D)) over proper non-empty downsets D, where
 * work sums `cost` (Infinity: the node cannot be in D): what a first stage on one board costs the
 * period when more stages follow. Certified by Lagrangian relaxation: if for some lambda >= 0 every
 * D has cut(D) + lambda work(D) > B + lambda tau, where B is the most bytes moved within tau, then no
 * D has both work <= tau and a transfer <= tau. Bisection on tau up to `cap`; 0 when out of time.
 */
export function firstStageBound(cp: Compiled, cost: Float64Array, bytesWithin: (ms: number) => number, cap: number, deadline: number): number {
  if (cp.n < 2 || !(cap > 0)) return 0;
  const net = closureNetwork(cp, cost);
  if (net.pairs > MAX_PAIRS) return 0;
  const certified = (tau: number): boolean | undefined => {
    const B = bytesWithin(tau);
    if (B >= net.total) return false;
    for (const k of [-3, -2, -1, 0, 1, 2, 3]) {
      const lambda = (Math.max(B, 1) / tau) * 2 ** k;
      const target = B + lambda * tau;
      const v = net.minimum(lambda, target * (1 + 1e-9) + 1, deadline);
      if (Number.isNaN(v)) return undefined;
      if (v > target * (1 + 1e-9) + 1e-9) return true;
    }
    return false;
  };
  let lo = 0;
  let hi = cap;
  // Past the time that moves every byte no cut can certify anything: start below it.
  for (let i = 0; i < 60 && bytesWithin(hi) >= net.total; i++) hi /= 2;
  if (certified(hi) === true) return hi;
  for (let i = 0; i < 14; i++) {
    const mid = (lo + hi) / 2;
    const c = certified(mid);
    if (c === undefined) break;
    if (c) lo = mid;
    else hi = mid;
  }
  return lo;
}
