// Local refinement of a plan on the full graph: shift the boundary between two adjacent stages by a
// few nodes while the objective improves. A suffix (in a topological order) of a stage's nodes can
// always move to the next stage, and a prefix of the next stage back, without breaking the downset
// chain; memory caps, support, links and the metric bounds are checked for every move. Moves are
// ranked by per-stage sums (fast), and each one taken is confirmed on the shared metrics (metricsOf),
// so a move that the full cost model (stage boundary costs and all) does not favour is never kept.

import { hasFrames, stagePeaks, transferMs, type Compiled } from './_compiled.js';
import type { MetricBounds } from './_model.js';
import { assignmentProblem, metricsOf, objectiveValue, type Assignment } from './evaluate.js';
import type { Objective, PlanMetrics } from './types.js';

/** Longest run of nodes one move shifts (every length up to it is tried). */
const MAX_SHIFT = 64;

interface State {
  readonly boards: readonly number[];
  readonly stageOf: Int32Array;
  readonly comp: Float64Array;
  readonly energy: Float64Array;
  readonly mem: Float64Array;
  /** The largest act among each stage's nodes. */
  peak: Float64Array;
  readonly count: Int32Array;
  /** Bytes crossing after stage s. */
  readonly cut: Float64Array;
}

/** Reverse postorder of a depth-first search: a topological order that keeps branches together. */
export function depthFirstOrder(cp: Compiled): number[] {
  const seen = new Uint8Array(cp.n);
  const post: number[] = [];
  for (let r = cp.n - 1; r >= 0; r--) {
    const root = cp.topo[r]!;
    if (seen[root] === 1 || cp.preds[root]!.length > 0) continue;
    const stack: [number, number][] = [[root, 0]];
    seen[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const s = cp.succs[top[0]]!;
      if (top[1] < s.length) {
        const w = s[top[1]++]!;
        if (seen[w] === 0) { seen[w] = 1; stack.push([w, 0]); }
      } else {
        post.push(top[0]);
        stack.pop();
      }
    }
  }
  return post.reverse();
}

/** Bytes of the tensors crossing the boundary after stage s. */
function cutAt(cp: Compiled, stageOf: Int32Array, s: number): number {
  let bytes = 0;
  for (let t = 0; t < cp.tBytes.length; t++) {
    const p = cp.tProducer[t]!;
    if (p >= 0 && stageOf[p]! > s) continue;
    for (const c of cp.tConsumers[t]!) {
      if (stageOf[c]! > s) { bytes += cp.tBytes[t]!; break; }
    }
  }
  return bytes;
}

function stateOf(cp: Compiled, a: Assignment): State {
  const k = a.boards.length;
  const st: State = {
    boards: a.boards, stageOf: Int32Array.from(a.stageOf), comp: new Float64Array(k), energy: new Float64Array(k),
    mem: new Float64Array(k), peak: stagePeaks(cp, a.stageOf, k), count: new Int32Array(k), cut: new Float64Array(Math.max(0, k - 1)),
  };
  for (let v = 0; v < cp.n; v++) {
    const s = st.stageOf[v]!;
    const b = a.boards[s]!;
    st.comp[s]! += cp.lat[b]![v]!;
    st.energy[s]! += cp.energy[b]![v]!;
    st.mem[s]! += cp.mem[v]!;
    st.count[s]!++;
  }
  for (let s = 0; s + 1 < k; s++) st.cut[s] = cutAt(cp, st.stageOf, s);
  return st;
}

/** The three metrics (period, latency, energy) and a balance term, from per-stage sums. */
function measure(cp: Compiled, boards: readonly number[], comp: Float64Array, energy: Float64Array, cut: Float64Array): [number, number, number, number] {
  let period = 0;
  let latency = 0;
  let en = 0;
  let squares = 0;
  const part = (ms: number, mj: number) => {
    period = Math.max(period, ms);
    latency += ms;
    en += mj;
    squares += ms * ms;
  };
  if (boards[0] !== cp.input) {
    const l = cp.links[cp.input]![boards[0]!]!.link;
    const ms = transferMs(l, cp.inputBytes);
    part(ms, ms * l.powerW);
  }
  for (let s = 0; s < boards.length; s++) {
    part(comp[s]!, energy[s]!);
    if (s + 1 < boards.length) {
      const l = cp.links[boards[s]!]![boards[s + 1]!]!.link;
      const ms = transferMs(l, cut[s]!);
      part(ms, ms * l.powerW);
    }
  }
  return [period, latency, en, squares];
}

/**
 * The plan improved by boundary moves (the same object when nothing improves). The objective is
 * minimised; for throughput, ties on the period are broken by the sum of squared part times, so
 * that relieving one of two equal bottlenecks counts as progress.
 */
export function refinePlan(cp: Compiled, plan: Assignment, objective: Objective, bounds: MetricBounds, deadline: number, orders: readonly (readonly number[])[] = [cp.topo]): Assignment {
  const k = plan.boards.length;
  if (k < 2) return plan;
  const st = stateOf(cp, plan);
  const within = (x: [number, number, number, number]) =>
    x[0] <= bounds.periodMs * (1 + 1e-9) + 1e-12 && x[1] <= bounds.latencyMs * (1 + 1e-9) + 1e-12 && x[2] <= bounds.energyMj * (1 + 1e-9) + 1e-12;
  const keyOf = (x: [number, number, number, number]): [number, number] =>
    objective === 'throughput' ? [x[0], x[3]] : objective === 'latency' ? [x[1], x[0]] : [x[2], x[0]];
  const better = (x: [number, number], y: [number, number]) => x[0] < y[0] * (1 - 1e-12) || (x[0] <= y[0] && x[1] < y[1] * (1 - 1e-12));
  let cur = measure(cp, st.boards, st.comp, st.energy, st.cut);
  let curKey = keyOf(cur);
  // The same ranking on the shared metrics.
  const trueKey = (mt: PlanMetrics): [number, number] => {
    const period = objectiveValue(mt, 'throughput');
    if (objective !== 'throughput') return [objectiveValue(mt, objective), period];
    let sq = 0;
    for (const x of mt.stages) sq += x.computeMs * x.computeMs;
    for (const x of mt.transfers) sq += x.ms * x.ms;
    return [period, sq];
  };
  const trueWithin = (mt: PlanMetrics) =>
    within([objectiveValue(mt, 'throughput'), mt.latencyMs, mt.energyMj, 0]);
  const start = metricsOf(cp, plan);
  if (!trueWithin(start)) return plan;
  let curTrue = trueKey(start);
  const comp = new Float64Array(k);
  const energy = new Float64Array(k);
  const cut = new Float64Array(k - 1);
  let improved = true;
  let changed = false;
  const frames = hasFrames(cp);
  for (let pass = 0; improved && pass < 200 && performance.now() < deadline; pass++) {
    improved = false;
    for (const order of orders) {
      for (let s = 0; s + 1 < k; s++) {
        for (const dir of [1, -1] as const) {
          // dir 1: a suffix of stage s moves to s + 1; dir -1: a prefix of stage s + 1 moves to s.
          const from = dir === 1 ? s : s + 1;
          const to = dir === 1 ? s + 1 : s;
          const seq: number[] = [];
          if (dir === 1) for (let i = order.length - 1; i >= 0 && seq.length < MAX_SHIFT; i--) { const v = order[i]!; if (st.stageOf[v] === from) seq.push(v); }
          else for (let i = 0; i < order.length && seq.length < MAX_SHIFT; i++) { const v = order[i]!; if (st.stageOf[v] === from) seq.push(v); }
          const bFrom = st.boards[from]!;
          const bTo = st.boards[to]!;
          const capTo = cp.cap[bTo];
          comp.set(st.comp); energy.set(st.energy); cut.set(st.cut);
          let memTo = st.mem[to]!;
          let peakTo = st.peak[to]!;
          // Every length that improves on the current plan; the best is applied, or with frames in flight
          // (which the trial does not count) the best of them whose frames fit.
          const cands: { len: number; key: [number, number]; x: [number, number, number, number]; cut: number }[] = [];
          const limit = Math.min(seq.length, st.count[from]! - 1);
          let len = 0;
          for (; len < limit; len++) {
            const v = seq[len]!;
            const lt = cp.lat[bTo]![v]!;
            if (Number.isNaN(lt)) break;
            memTo += cp.mem[v]!;
            peakTo = Math.max(peakTo, cp.act[v]!);
            if (capTo !== null && capTo !== undefined && memTo + peakTo > capTo) break;
            comp[from]! -= cp.lat[bFrom]![v]!;
            comp[to]! += lt;
            energy[from]! -= cp.energy[bFrom]![v]!;
            energy[to]! += cp.energy[bTo]![v]!;
            st.stageOf[v] = to;
            cut[s] = cutAt(cp, st.stageOf, s);
            const x = measure(cp, st.boards, comp, energy, cut);
            const key = keyOf(x);
            if (within(x) && better(key, curKey)) cands.push({ len: len + 1, key, x, cut: cut[s]! });
          }
          // Undo the trial, then apply the best prefix of it that holds.
          for (let i = 0; i < len; i++) st.stageOf[seq[i]!] = from;
          cands.sort((a, b) => (better(a.key, b.key) ? -1 : better(b.key, a.key) ? 1 : a.len - b.len));
          let best: (typeof cands)[number] | undefined;
          for (const c of cands.slice(0, frames ? cands.length : 1)) {
            for (let i = 0; i < c.len; i++) st.stageOf[seq[i]!] = to;
            const trial = metricsOf(cp, { boards: st.boards, stageOf: st.stageOf });
            const trialKey = trueKey(trial);
            // The trial above kept each stage's weights and peak under its cap; its frames in flight,
            // which move with both cuts of the two stages, are checked on the whole plan.
            const overCap = frames && assignmentProblem(cp, { boards: st.boards, stageOf: st.stageOf }) !== null;
            if (!overCap && trueWithin(trial) && better(trialKey, curTrue)) {
              best = c;
              curTrue = trialKey;
              break;
            }
            for (let i = 0; i < c.len; i++) st.stageOf[seq[i]!] = from;
          }
          if (best === undefined) continue;
          for (let i = 0; i < best.len; i++) {
            const v = seq[i]!;
            st.comp[from]! -= cp.lat[bFrom]![v]!;
            st.comp[to]! += cp.lat[bTo]![v]!;
            st.energy[from]! -= cp.energy[bFrom]![v]!;
            st.energy[to]! += cp.energy[bTo]![v]!;
            st.mem[from]! -= cp.mem[v]!;
            st.mem[to]! += cp.mem[v]!;
            st.count[from]!--;
            st.count[to]!++;
          }
          st.cut[s] = best.cut;
          if (cp.actMax > 0) st.peak = stagePeaks(cp, st.stageOf, st.boards.length);
          cur = best.x;
          curKey = best.key;
          improved = true;
          changed = true;
        }
      }
    }
  }
  if (!changed) return plan;
  // Sums drift with many small updates; the caller recomputes the metrics from scratch (metricsOf).
  return { boards: plan.boards, stageOf: st.stageOf };
}
