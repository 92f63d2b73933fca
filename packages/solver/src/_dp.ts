// A dynamic programme over the prefix cuts of one topological order and one board sequence:
// exact for chains, and a valid plan (an upper bound) for any DAG, used as the ILP's incumbent and cutoff.

import { stageBetweenFrames, stageBetweenMs, transferMs, type Compiled } from './_compiled.js';
import type { Assignment } from './evaluate.js';
import type { Objective } from './types.js';

export interface PrefixTables {
  /** Node order. */
  readonly order: readonly number[];
  /** cutBytes[c]: bytes crossing after the first c nodes of `order` (c = 1..n-1). */
  readonly cutBytes: Float64Array;
  /** Per board prefix sums over `order`: latency, energy, unsupported count; and memory. */
  readonly work: readonly Float64Array[];
  readonly energy: readonly Float64Array[];
  readonly unsup: readonly Int32Array[];
  readonly mem: Float64Array;
  /** peakHead[c]: the largest act among the first c nodes of `order`; peakTail[c]: among the nodes from c on. */
  readonly peakHead: Float64Array;
  readonly peakTail: Float64Array;
  /** Prefix sums over `order` of the model-output bytes the nodes produce. */
  readonly outs: Float64Array;
}

/** Prefix sums and cut sizes along a topological order. */
export function prefixTables(cp: Compiled, order: readonly number[]): PrefixTables {
  const n = order.length;
  const pos = new Int32Array(cp.n);
  order.forEach((v, i) => { pos[v] = i; });
  const diff = new Float64Array(n + 2);
  for (let t = 0; t < cp.tBytes.length; t++) {
    let last = -1;
    for (const c of cp.tConsumers[t]!) last = Math.max(last, pos[c]!);
    if (last < 0) continue;
    const p = cp.tProducer[t]!;
    const from = p < 0 ? 0 : pos[p]! + 1;
    // Crosses every cut c with from <= c <= last (cut c = after the first c nodes).
    if (from <= last) {
      diff[from]! += cp.tBytes[t]!;
      diff[last + 1]! -= cp.tBytes[t]!;
    }
  }
  const cutBytes = new Float64Array(n + 1);
  let run = 0;
  for (let c = 0; c <= n; c++) {
    run += diff[c]!;
    cutBytes[c] = run;
  }
  const work = cp.lat.map((l) => {
    const a = new Float64Array(n + 1);
    order.forEach((v, i) => { a[i + 1] = a[i]! + (Number.isNaN(l[v]!) ? 0 : l[v]!); });
    return a;
  });
  const energy = cp.energy.map((e, b) => {
    const a = new Float64Array(n + 1);
    order.forEach((v, i) => { a[i + 1] = a[i]! + (Number.isNaN(cp.lat[b]![v]!) ? 0 : e[v]!); });
    return a;
  });
  const unsup = cp.lat.map((l) => {
    const a = new Int32Array(n + 1);
    order.forEach((v, i) => { a[i + 1] = a[i]! + (Number.isNaN(l[v]!) ? 1 : 0); });
    return a;
  });
  const mem = new Float64Array(n + 1);
  order.forEach((v, i) => { mem[i + 1] = mem[i]! + cp.mem[v]!; });
  const peakHead = new Float64Array(n + 1);
  order.forEach((v, i) => { peakHead[i + 1] = Math.max(peakHead[i]!, cp.act[v]!); });
  const peakTail = new Float64Array(n + 1);
  for (let i = n - 1; i >= 0; i--) peakTail[i] = Math.max(peakTail[i + 1]!, cp.act[order[i]!]!);
  const produced = new Float64Array(cp.n);
  for (let t = 0; t < cp.tBytes.length; t++) if (cp.tOutput[t] === 1 && cp.tProducer[t]! >= 0) produced[cp.tProducer[t]!]! += cp.tBytes[t]!;
  const outs = new Float64Array(n + 1);
  order.forEach((v, i) => { outs[i + 1] = outs[i]! + produced[v]!; });
  return { order, cutBytes, work, energy, unsup, mem, peakHead, peakTail, outs };
}

/** Memory of the frames in flight of the stage holding nodes c0..c1-1 of `tab.order` on board b. */
export function prefixStageFrames(cp: Compiled, tab: PrefixTables, b: number, c0: number, c1: number): number {
  return stageBetweenFrames(cp, b, tab.cutBytes[c0]!, tab.outs[c0]!, tab.cutBytes[c1]!, tab.outs[c1]!);
}

/** Time of the stage holding nodes c0..c1-1 of `tab.order` on board b, boundary included. */
export function prefixStageMs(cp: Compiled, tab: PrefixTables, b: number, c0: number, c1: number): number {
  return stageBetweenMs(cp, b, tab.work[b]![c0]!, tab.cutBytes[c0]!, tab.outs[c0]!, tab.work[b]![c1]!, tab.cutBytes[c1]!, tab.outs[c1]!, c0 === 0);
}

/**
 * Best plan (objective only; constraints other than memory and support ignored) whose stages are
 * contiguous in `tab.order` and whose boards follow `seq` (boards may be skipped). Null when none.
 */
export function bestPrefixPlan(cp: Compiled, tab: PrefixTables, seq: readonly number[], objective: Objective): Assignment | null {
  const n = tab.order.length;
  const L = seq.length;
  const combine = objective === 'throughput' ? Math.max : (a: number, b: number) => a + b;
  // best[c][j]: best value with the first c nodes placed and the last stage on seq[j].
  const best = new Float64Array((n + 1) * L).fill(Number.POSITIVE_INFINITY);
  const from = new Int32Array((n + 1) * L).fill(-1);
  const fromJ = new Int32Array((n + 1) * L).fill(-1);
  // peak: the largest act among nodes c0..c1-1 (the callers grow c1 one node at a time). NaN: no
  // longer stage from c0 on b can be valid either (the callers stop); Infinity: this one is not, a
  // longer one may be (its frames in flight depend on the cut it ends at, which may be smaller).
  const cost = (b: number, c0: number, c1: number, peak: number): number => {
    if (tab.unsup[b]![c1]! - tab.unsup[b]![c0]! > 0) return Number.NaN;
    const cap = cp.cap[b];
    if (cap !== null && cap !== undefined) {
      const mem = tab.mem[c1]! - tab.mem[c0]! + peak;
      if (mem > cap) return Number.NaN;
      if (mem + prefixStageFrames(cp, tab, b, c0, c1) > cap) return Number.POSITIVE_INFINITY;
    }
    return objective === 'energy' ? tab.energy[b]![c1]! - tab.energy[b]![c0]! : prefixStageMs(cp, tab, b, c0, c1);
  };
  const hop = (a: number, b: number, bytes: number): number => {
    if (a === b) return 0;
    const l = cp.links[a]![b];
    if (l === undefined) return Number.NaN;
    const ms = transferMs(l.link, bytes);
    return objective === 'energy' ? ms * l.link.powerW : ms;
  };
  for (let j = 0; j < L; j++) {
    const b = seq[j]!;
    const tin = hop(cp.input, b, cp.inputBytes);
    if (Number.isNaN(tin)) continue;
    for (let c1 = 1; c1 <= n; c1++) {
      const s = cost(b, 0, c1, tab.peakHead[c1]!);
      if (Number.isNaN(s)) break;
      const val = combine(tin, s);
      if (val < best[c1 * L + j]!) {
        best[c1 * L + j] = val;
        from[c1 * L + j] = 0;
        fromJ[c1 * L + j] = -1;
      }
    }
  }
  for (let c0 = 1; c0 < n; c0++) {
    for (let i = 0; i < L; i++) {
      const here = best[c0 * L + i]!;
      if (here === Number.POSITIVE_INFINITY) continue;
      for (let j = i + 1; j < L; j++) {
        const t = hop(seq[i]!, seq[j]!, tab.cutBytes[c0]!);
        if (Number.isNaN(t)) continue;
        const base = combine(here, t);
        const b = seq[j]!;
        let peak = 0;
        for (let c1 = c0 + 1; c1 <= n; c1++) {
          peak = Math.max(peak, cp.act[tab.order[c1 - 1]!]!);
          const s = cost(b, c0, c1, peak);
          if (Number.isNaN(s)) break;
          const val = combine(base, s);
          if (val < best[c1 * L + j]!) {
            best[c1 * L + j] = val;
            from[c1 * L + j] = c0;
            fromJ[c1 * L + j] = i;
          }
        }
      }
    }
  }
  let bj = -1;
  for (let j = 0; j < L; j++) if (best[n * L + j]! < Number.POSITIVE_INFINITY && (bj < 0 || best[n * L + j]! < best[n * L + bj]!)) bj = j;
  if (bj < 0) return null;
  const cuts: { c0: number; c1: number; j: number }[] = [];
  let c = n;
  let j = bj;
  while (c > 0) {
    const c0 = from[c * L + j]!;
    cuts.unshift({ c0, c1: c, j });
    const pj = fromJ[c * L + j]!;
    c = c0;
    j = pj;
  }
  const stageOf = new Int32Array(cp.n);
  cuts.forEach((st, s) => {
    for (let k = st.c0; k < st.c1; k++) stageOf[tab.order[k]!] = s;
  });
  return { boards: cuts.map((st) => seq[st.j]!), stageOf };
}
