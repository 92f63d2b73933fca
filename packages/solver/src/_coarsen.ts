// Coarsening for DAGs too wide for the exact cut-set method (as Alpa clusters operators into layers
// before its stage DP): contract edges into clusters until the quotient DAG has few downsets, then
// solve the quotient exactly. A contracted edge u -> v has no other path from u to v, so the quotient
// stays acyclic, and any plan of the quotient expands to a valid plan of the original with the same
// metrics (a cluster's costs are its members' sums; tensors inside a cluster never cross).

import type { Compiled } from './_compiled.js';
import type { Problem, ProblemBoard, ProblemTensor } from './types.js';

/** A DAG as the downset counter needs it. */
interface Dag {
  readonly n: number;
  readonly topo: readonly number[];
  readonly preds: readonly (readonly number[])[];
}

/**
 * Number of downsets (empty and full set included), or `limit + 1` as soon as there are more.
 * Iterative depth-first search over the topological order, so deep graphs cannot overflow the stack.
 */
export function countDownsets(g: Dag, limit: number): number {
  const n = g.n;
  const has = new Uint8Array(n);
  // state[i]: 0 = try with topo[i] in, 1 = try without, 2 = done.
  const state = new Uint8Array(n + 1);
  let count = 0;
  let i = 0;
  for (;;) {
    if (i === n) {
      if (++count > limit) return limit + 1;
      i--;
      while (i >= 0 && state[i] === 2) i--;
      if (i < 0) return count;
      continue;
    }
    const v = g.topo[i]!;
    if (state[i] === 0) {
      state[i] = 1;
      let ok = true;
      for (const w of g.preds[v]!) if (has[w] === 0) { ok = false; break; }
      if (ok) {
        has[v] = 1;
        i++;
        if (i <= n) state[i] = 0;
        continue;
      }
    }
    if (state[i] === 1) {
      state[i] = 2;
      has[v] = 0;
      i++;
      if (i <= n) state[i] = 0;
      continue;
    }
    // state 2: both branches done; backtrack.
    i--;
    while (i >= 0 && state[i] === 2) i--;
    if (i < 0) return count;
  }
}

export interface Coarsening {
  /** Cluster index of each node of the compiled problem (clusters numbered in topological order). */
  readonly groupOf: Int32Array;
  readonly clusters: number;
  /** Downsets of the quotient DAG (at most the target when `fits`). */
  readonly cutSets: number;
  readonly fits: boolean;
}

/** Min-heap of (key, a, b) triples. */
class Heap {
  private readonly keys: number[] = [];
  private readonly as: number[] = [];
  private readonly bs: number[] = [];
  get size(): number { return this.keys.length; }
  push(key: number, a: number, b: number): void {
    const k = this.keys;
    k.push(key); this.as.push(a); this.bs.push(b);
    let i = k.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (k[p]! <= k[i]!) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): [number, number, number] {
    const k = this.keys;
    const top: [number, number, number] = [k[0]!, this.as[0]!, this.bs[0]!];
    const last = k.length - 1;
    this.swap(0, last);
    k.pop(); this.as.pop(); this.bs.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let s = i;
      if (l < k.length && k[l]! < k[s]!) s = l;
      if (r < k.length && k[r]! < k[s]!) s = r;
      if (s === i) break;
      this.swap(i, s);
      i = s;
    }
    return top;
  }
  private swap(i: number, j: number): void {
    for (const a of [this.keys, this.as, this.bs]) { const t = a[i]!; a[i] = a[j]!; a[j] = t; }
  }
}

/**
 * For each node, how many nodes are neither its ancestors nor its descendants: 0 on the trunk of the
 * DAG, large inside wide regions (parallel branches), where contraction removes the most downsets.
 */
export function incomparable(cp: Compiled): Float64Array {
  const n = cp.n;
  const words = Math.ceil(n / 32);
  // Two n x n bit matrices: past 256 MB (about 45,000 nodes) every node counts as trunk (plain cheapest-first).
  if (2 * n * words * 4 > 256 * 2 ** 20) return new Float64Array(n);
  const anc = new Uint32Array(n * words);
  const desc = new Uint32Array(n * words);
  for (const v of cp.topo) {
    for (const w of cp.preds[v]!) {
      for (let k = 0; k < words; k++) anc[v * words + k]! |= anc[w * words + k]!;
      anc[v * words + (w >>> 5)]! |= 1 << (w & 31);
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    const v = cp.topo[i]!;
    for (const w of cp.succs[v]!) {
      for (let k = 0; k < words; k++) desc[v * words + k]! |= desc[w * words + k]!;
      desc[v * words + (w >>> 5)]! |= 1 << (w & 31);
    }
  }
  const out = new Float64Array(n);
  for (let v = 0; v < n; v++) {
    let c = 0;
    for (let k = 0; k < words; k++) {
      let x = anc[v * words + k]! | desc[v * words + k]!;
      while (x !== 0) { x &= x - 1; c++; }
    }
    out[v] = n - 1 - c;
  }
  return out;
}

/**
 * Contract edges, cheapest first (cheap nodes matter least to the balance of stages) and inside wide
 * regions first (that is where downsets multiply), until the quotient has at most `target` downsets.
 * Never merges nodes that no single board could run together (support or memory cap).
 */
export function coarsen(cp: Compiled, target: number, deadline: number): Coarsening {
  const n = cp.n;
  const m = cp.m;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) { parent[x] = parent[parent[x]!]!; x = parent[x]!; }
    return x;
  };
  const succ = cp.succs.map((s) => new Set(s));
  const pred = cp.preds.map((s) => new Set(s));
  const weight = new Float64Array(n);
  const mem = Float64Array.from(cp.mem);
  const act = Float64Array.from(cp.act);
  // support[v * m + b]: board b can run every member of v's cluster.
  const support = new Uint8Array(n * m);
  for (let v = 0; v < n; v++) {
    let best = Number.POSITIVE_INFINITY;
    for (let b = 0; b < m; b++) {
      const l = cp.lat[b]![v]!;
      if (Number.isNaN(l)) continue;
      support[v * m + b] = 1;
      best = Math.min(best, l);
    }
    weight[v] = Number.isFinite(best) ? best : 0;
  }
  const wide = incomparable(cp);
  let alive = n;
  const quotient = (): Dag & { index: Int32Array } => {
    // Roots in topological order of their earliest member: a valid order of the quotient because
    // contraction keeps it acyclic; recomputed by Kahn's algorithm to be safe.
    const index = new Int32Array(n).fill(-1);
    const roots: number[] = [];
    for (const v of cp.topo) {
      const r = find(v);
      if (index[r] === -1) { index[r] = roots.length; roots.push(r); }
    }
    const k = roots.length;
    const preds = roots.map((r) => [...pred[r]!].map((x) => index[x]!));
    const indeg = preds.map((p) => p.length);
    const succs: number[][] = Array.from({ length: k }, () => []);
    preds.forEach((p, i) => { for (const x of p) succs[x]!.push(i); });
    const topo: number[] = [];
    const ready: number[] = [];
    for (let i = 0; i < k; i++) if (indeg[i] === 0) ready.push(i);
    while (ready.length > 0) {
      const x = ready.pop()!;
      topo.push(x);
      for (const y of succs[x]!) if (--indeg[y]! === 0) ready.push(y);
    }
    return { n: k, topo, preds, index };
  };
  const keyOf = (a: number, b: number) => (weight[a]! + weight[b]! + 1e-12) / (1 + Math.max(wide[a]!, wide[b]!));
  const heap = new Heap();
  for (let a = 0; a < n; a++) for (const b of succ[a]!) heap.push(keyOf(a, b), a, b);
  const capOk = (a: number, b: number): boolean => {
    let any = false;
    for (let x = 0; x < m; x++) {
      if (support[a * m + x] === 0 || support[b * m + x] === 0) continue;
      const cap = cp.cap[x];
      if (cap === null || cap === undefined || mem[a]! + mem[b]! + Math.max(act[a]!, act[b]!) <= cap) { any = true; break; }
    }
    return any;
  };
  const stamp = new Int32Array(n);
  let epoch = 0;
  // Another path a -> ... -> b besides the edge itself would close a cycle once a and b merge.
  const otherPath = (a: number, b: number): boolean => {
    epoch++;
    const stack: number[] = [];
    for (const c of succ[a]!) if (c !== b) { stack.push(c); stamp[c] = epoch; }
    while (stack.length > 0) {
      const x = stack.pop()!;
      for (const y of succ[x]!) {
        if (y === b) return true;
        if (stamp[y] !== epoch) { stamp[y] = epoch; stack.push(y); }
      }
    }
    return false;
  };
  const contract = (a: number, b: number): void => {
    // b joins a.
    parent[b] = a;
    succ[a]!.delete(b);
    pred[b]!.delete(a);
    for (const c of succ[b]!) { pred[c]!.delete(b); pred[c]!.add(a); succ[a]!.add(c); }
    for (const c of pred[b]!) { succ[c]!.delete(b); succ[c]!.add(a); pred[a]!.add(c); }
    succ[b]!.clear();
    pred[b]!.clear();
    weight[a]! += weight[b]!;
    mem[a]! += mem[b]!;
    act[a] = Math.max(act[a]!, act[b]!);
    wide[a] = Math.max(wide[a]!, wide[b]!);
    for (let x = 0; x < m; x++) support[a * m + x] = support[a * m + x]! & support[b * m + x]!;
    for (const c of succ[a]!) heap.push(keyOf(a, c), a, c);
    for (const c of pred[a]!) heap.push(keyOf(c, a), c, a);
  };
  let q = quotient();
  let count = countDownsets(q, target);
  while (count > target && heap.size > 0 && performance.now() < deadline) {
    // Large batches while far from the target, small ones near it, so few clusters are merged needlessly.
    const batch = Math.max(1, Math.floor(alive * (count > 4 * target ? 0.1 : 0.02)));
    let done = 0;
    while (done < batch && heap.size > 0) {
      const [key, a, b] = heap.pop();
      if (parent[a] !== a || parent[b] !== b || !succ[a]!.has(b)) continue;
      if (key !== keyOf(a, b)) continue; // stale: a newer entry carries the current key
      if (!capOk(a, b) || otherPath(a, b)) continue;
      contract(a, b);
      alive--;
      done++;
    }
    if (done === 0) break;
    q = quotient();
    count = countDownsets(q, target);
  }
  const groupOf = new Int32Array(n);
  for (let v = 0; v < n; v++) groupOf[v] = q.index[find(v)]!;
  return { groupOf, clusters: q.n, cutSets: count, fits: count <= target };
}

/**
 * The quotient as a problem of its own: one node per cluster (named after its first member), costs
 * summed, tensors between clusters kept with their ids, tensors inside a cluster dropped.
 */
export function coarseProblem(cp: Compiled, c: Coarsening): Problem {
  const p = cp.problem;
  const members: number[][] = Array.from({ length: c.clusters }, () => []);
  for (const v of cp.topo) members[c.groupOf[v]!]!.push(v);
  const ids = members.map((ms) => cp.nodeIds[ms[0]!]!);
  const nodes = members.map((ms, k) => {
    let mem = 0;
    let act = 0;
    let macs = 0;
    for (const v of ms) { mem += cp.mem[v]!; act = Math.max(act, cp.act[v]!); macs += p.nodes[v]!.macs ?? 0; }
    // A cluster always runs in one stage: its nodes' largest act is the stage's whenever it is the largest there.
    return { id: ids[k]!, memoryBytes: mem, ...(act > 0 ? { activationBytes: act } : {}), macs };
  });
  const tensors: ProblemTensor[] = [];
  p.tensors.forEach((t, i) => {
    const prod = cp.tProducer[i]!;
    const from = prod < 0 ? -1 : c.groupOf[prod]!;
    const cons = [...new Set(Array.from(cp.tConsumers[i]!, (x) => c.groupOf[x]!))].filter((k) => k !== from);
    // Model outputs are kept even when consumed inside their cluster: stage costs may count them.
    if (from >= 0 && cons.length === 0 && t.consumers.length > 0 && (t as { modelOutput?: boolean }).modelOutput !== true) return;
    tensors.push({ ...t, producer: from < 0 ? null : ids[from]!, consumers: cons.map((k) => ids[k]!) });
  });
  const boards: ProblemBoard[] = p.boards.map((b, x) => {
    const latencyMs: Record<string, number> = {};
    const energyMj: Record<string, number> = {};
    members.forEach((ms, k) => {
      let l = 0;
      let e = 0;
      for (const v of ms) {
        const lv = cp.lat[x]![v]!;
        if (Number.isNaN(lv)) return;
        l += lv;
        e += cp.energy[x]![v]!;
      }
      latencyMs[ids[k]!] = l;
      energyMj[ids[k]!] = e;
    });
    return { ...b, latencyMs, energyMj };
  });
  return { ...p, name: `${p.name ?? 'problem'} (coarsened)`, nodes, tensors, boards };
}
