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

/** Fewest bytes crossing any cut between two stages; 0 when not computed in time (a valid bound still). */
export function minCutBytes(cp: Compiled, deadline: number): number {
  const n = cp.n;
  const sources: number[] = [];
  const sinks: number[] = [];
  for (let v = 0; v < n; v++) {
    if (cp.preds[v]!.length === 0) sources.push(v);
    if (cp.succs[v]!.length === 0) sinks.push(v);
  }
  if (n < 2 || sources.length * sinks.length > MAX_PAIRS) return 0;
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
  let best = total;
  for (const s of sources) {
    for (const t of sinks) {
      if (s === t) continue;
      g.reset();
      g.cap[forceIn.get(s)!] = INF;
      g.cap[forceOut.get(t)!] = INF;
      const f = g.maxFlow(S, T, best, deadline);
      if (Number.isNaN(f)) return 0;
      if (f < best) best = f;
    }
  }
  return best;
}
