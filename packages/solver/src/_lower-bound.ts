// Lower bounds on the optimum of the original problem, valid for every plan (no cut sets needed):
// what a plan found without proof is measured against (its gap).
//
// - Latency (energy): every node costs at least its cheapest time (energy) on any board that can hold
//   it; on top, the first stage either runs on the input board (and holds a source node, which costs
//   at least its time there) or the input travels over a link.
// - Throughput: the period is at least every node's cheapest time, at least the first part (as
//   above), and at least the LP bound of a fractional assignment of nodes to boards with every board's
//   load <= T; transfers and stage boundaries only add to it. The LP's dual gives a bound for any
//   board weights w on the simplex, sum over nodes of min_b w_b lat_b(v) (weak duality), so a few
//   hundred steps of mirror ascent on w give a bound at once; GLPK solves the LP itself (memory
//   caps included) when there is time for it.
// - All three: a plan of two stages or more pays at least one transfer of the minimum cut (the
//   fewest bytes between two stages, _mincut.ts) over the cheapest link; a plan of one stage is one
//   board's whole cost. So the bound is min(best single board, multi-stage bound + that transfer)
//   (for the period: max instead of +, since it is one part of the pipeline).
// Latency and energy have a stronger bound in _labelling.ts (linear programmes that price every
// tensor moving between boards), which the solve computes when these do not prove its plan.

import { transferMs, type Compiled } from './_compiled.js';
import { cheapestTransfer } from './_downsets.js';
import { firstStageBound } from './_mincut.js';
import type { LinearProgram, Row, Solver, Term } from './engine.js';
import type { Objective } from './types.js';

/** Largest LP (node x board columns) the period bound builds. */
const MAX_LP_COLUMNS = 200_000;

/** Cheapest value per node over the boards that can run it and hold it alone. */
function perNodeMin(cp: Compiled, costs: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(cp.n);
  for (let v = 0; v < cp.n; v++) {
    let best = Number.POSITIVE_INFINITY;
    for (let b = 0; b < cp.m; b++) {
      if (!canHold(cp, b, v)) continue;
      best = Math.min(best, costs[b]![v]!);
    }
    out[v] = Number.isFinite(best) ? best : 0;
  }
  return out;
}

/** Board b can run node v and hold it alone (its weights and activations within b's cap). */
export function canHold(cp: Compiled, b: number, v: number): boolean {
  if (Number.isNaN(cp.lat[b]![v]!)) return false;
  const cap = cp.cap[b];
  return cap === null || cap === undefined || cp.mem[v]! + cp.act[v]! <= cap;
}

/** The least the first part of the pipeline adds: an input transfer, or a source node on the input board beyond its cheapest cost. */
function entryCost(cp: Compiled, metric: 'latency' | 'energy', min: Float64Array): number {
  const costs = metric === 'latency' ? cp.lat : cp.energy;
  let viaLink = Number.POSITIVE_INFINITY;
  for (let b = 0; b < cp.m; b++) {
    const l = cp.links[cp.input]![b];
    if (b === cp.input || l === undefined) continue;
    const ms = transferMs(l.link, cp.inputBytes);
    viaLink = Math.min(viaLink, metric === 'latency' ? ms : ms * l.link.powerW);
  }
  let onInput = Number.POSITIVE_INFINITY;
  for (let v = 0; v < cp.n; v++) {
    if (cp.preds[v]!.length > 0 || !canHold(cp, cp.input, v)) continue;
    onInput = Math.min(onInput, costs[cp.input]![v]! - min[v]!);
  }
  const e = Math.min(viaLink, onInput);
  return Number.isFinite(e) ? Math.max(0, e) : 0;
}

/** Most bytes a link out of the input board moves within `ms` (transfer time grows with bytes). */
function bytesWithin(cp: Compiled, ms: number): number {
  const fastest = (bytes: number) => {
    let t = Number.POSITIVE_INFINITY;
    for (let b = 0; b < cp.m; b++) {
      const l = cp.links[cp.input]![b];
      if (b !== cp.input && l !== undefined) t = Math.min(t, transferMs(l.link, bytes));
    }
    return t;
  };
  let total = cp.inputBytes;
  for (let t = 0; t < cp.tBytes.length; t++) total += cp.tBytes[t]!;
  if (fastest(total) <= ms) return total;
  let lo = 0;
  let hi = total;
  for (let i = 0; i < 60 && hi - lo > 0.5; i++) {
    const mid = (lo + hi) / 2;
    if (fastest(mid) <= ms) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Per board that can run and hold every node: its whole latency, energy and period as a one-stage plan. */
function singleBoards(cp: Compiled): { latency: number; energy: number; period: number } {
  const out = { latency: Number.POSITIVE_INFINITY, energy: Number.POSITIVE_INFINITY, period: Number.POSITIVE_INFINITY };
  let mem = 0;
  for (let v = 0; v < cp.n; v++) mem += cp.mem[v]!;
  // One stage holds every node: its peak is the largest act of all.
  mem += cp.actMax;
  for (let b = 0; b < cp.m; b++) {
    const cap = cp.cap[b];
    if (cap !== null && cap !== undefined && mem > cap) continue;
    let lat = 0;
    let en = 0;
    let ok = true;
    for (let v = 0; v < cp.n && ok; v++) {
      if (Number.isNaN(cp.lat[b]![v]!)) ok = false;
      lat += cp.lat[b]![v]!;
      en += cp.energy[b]![v]!;
    }
    if (!ok) continue;
    let inMs = 0;
    let inMj = 0;
    if (b !== cp.input) {
      const l = cp.links[cp.input]![b];
      if (l === undefined) continue;
      inMs = transferMs(l.link, cp.inputBytes);
      inMj = inMs * l.link.powerW;
    }
    out.latency = Math.min(out.latency, lat + inMs);
    out.energy = Math.min(out.energy, en + inMj);
    out.period = Math.min(out.period, Math.max(lat, inMs));
  }
  return out;
}

/** A lower bound on the optimal latency or energy of any plan (`cutBytes`: the minimum cut, 0 if unknown). */
export function sumLowerBound(cp: Compiled, metric: 'latency' | 'energy', cutBytes = 0): number {
  const min = perNodeMin(cp, metric === 'latency' ? cp.lat : cp.energy);
  let s = 0;
  for (let v = 0; v < cp.n; v++) s += min[v]!;
  const spread = s + entryCost(cp, metric, min);
  const move = cheapestTransfer(cp, cutBytes);
  const multi = spread + (metric === 'latency' ? move.ms : move.mj);
  const single = singleBoards(cp)[metric];
  // Without links only one-stage plans exist; the spread bound covers every plan either way.
  return Math.max(spread, Math.min(single, Number.isFinite(multi) ? multi : single));
}

/** A lower bound on the optimal period (ms per frame) of any plan; the LP part runs within `timeLimitS`. */
export async function periodLowerBound(cp: Compiled, engine: Solver, timeLimitS: number, cutBytes = 0, deadline = Number.NEGATIVE_INFINITY): Promise<number> {
  const every = await periodAnyPlan(cp, engine, timeLimitS, deadline);
  const move = cheapestTransfer(cp, cutBytes).ms;
  const single = singleBoards(cp).period;
  const multi = Number.isFinite(move) ? Math.max(every, move) : single;
  return Math.max(every, Math.min(single, multi));
}

/** Bounds on the period that hold for every plan, one stage or many. */
async function periodAnyPlan(cp: Compiled, engine: Solver, timeLimitS: number, deadline: number): Promise<number> {
  const min = perNodeMin(cp, cp.lat);
  let bound = 0;
  let total = 0;
  for (let v = 0; v < cp.n; v++) {
    bound = Math.max(bound, min[v]!);
    total += min[v]!;
  }
  bound = Math.max(bound, total / cp.m, dualLoadBound(cp));
  // The first part: a source node on the input board, or the input transfer.
  let viaLink = Number.POSITIVE_INFINITY;
  for (let b = 0; b < cp.m; b++) {
    const l = cp.links[cp.input]![b];
    if (b !== cp.input && l !== undefined) viaLink = Math.min(viaLink, transferMs(l.link, cp.inputBytes));
  }
  let onInput = Number.POSITIVE_INFINITY;
  for (let v = 0; v < cp.n; v++) if (cp.preds[v]!.length === 0 && canHold(cp, cp.input, v)) onInput = Math.min(onInput, cp.lat[cp.input]![v]!);
  // A first stage on the input board either is the whole plan, or hands its cut on over a link: it
  // costs the period max(its work there, that transfer), bounded below by a parametric min-cut.
  let singleInput = 0;
  for (let v = 0; v < cp.n; v++) singleInput += canHold(cp, cp.input, v) ? cp.lat[cp.input]![v]! : Number.POSITIVE_INFINITY;
  const cap = Math.min(viaLink, singleInput);
  if (Number.isFinite(cap) && cap > onInput && performance.now() < deadline) {
    const work = Float64Array.from({ length: cp.n }, (_, v) => (canHold(cp, cp.input, v) ? cp.lat[cp.input]![v]! : Number.POSITIVE_INFINITY));
    const first = firstStageBound(cp, work, (ms) => bytesWithin(cp, ms), cap, deadline);
    onInput = Math.max(onInput, Math.min(singleInput, first));
  }
  const entry = Math.min(viaLink, onInput);
  if (Number.isFinite(entry)) bound = Math.max(bound, entry);
  if (cp.m < 2 || cp.n * cp.m > MAX_LP_COLUMNS || timeLimitS <= 0) return bound;
  const rows: Row[] = [];
  const load: Term[][] = Array.from({ length: cp.m }, () => [{ v: 'T', c: -1 }]);
  const memRow: Term[][] = Array.from({ length: cp.m }, () => []);
  for (let v = 0; v < cp.n; v++) {
    const one: Term[] = [];
    for (let b = 0; b < cp.m; b++) {
      if (!canHold(cp, b, v)) continue;
      const x = `x${v}_${b}`;
      one.push({ v: x, c: 1 });
      if (cp.lat[b]![v]! > 0) load[b]!.push({ v: x, c: cp.lat[b]![v]! });
      if (cp.cap[b] !== null && cp.mem[v]! > 0) memRow[b]!.push({ v: x, c: cp.mem[v]! });
    }
    if (one.length === 0) return bound;
    rows.push({ name: `a${v}`, terms: one, lo: 1, hi: 1 });
  }
  for (let b = 0; b < cp.m; b++) {
    rows.push({ name: `l${b}`, terms: load[b]!, lo: Number.NEGATIVE_INFINITY, hi: 0 });
    const cap = cp.cap[b];
    if (cap !== null && cap !== undefined && memRow[b]!.length > 0) rows.push({ name: `m${b}`, terms: memRow[b]!, lo: Number.NEGATIVE_INFINITY, hi: cap });
  }
  const lp: LinearProgram = { name: 'dnnpart-period-bound', objective: [{ v: 'T', c: 1 }], rows, binaries: [] };
  const res = await engine.solve(lp, { relax: true, timeLimitS });
  // Only a proven LP optimum is a bound; a stopped simplex gives an upper value.
  if (res.status === 'optimal' && Number.isFinite(res.objective)) bound = Math.max(bound, res.objective * (1 - 1e-9));
  return bound;
}

/** max over board weights w (simplex) of sum_v min_b w_b lat_b(v), by mirror ascent: a lower bound on the least max load. */
export function dualLoadBound(cp: Compiled, iterations = 400): number {
  const m = cp.m;
  const w = new Float64Array(m);
  const total = new Float64Array(m);
  for (let b = 0; b < m; b++) for (let v = 0; v < cp.n; v++) if (canHold(cp, b, v)) total[b]! += cp.lat[b]![v]!;
  // Start from weights inversely proportional to each board's total (exact for proportional boards).
  let sum = 0;
  for (let b = 0; b < m; b++) { w[b] = total[b]! > 0 ? 1 / total[b]! : 0; sum += w[b]!; }
  if (sum === 0) return 0;
  for (let b = 0; b < m; b++) w[b]! /= sum;
  const load = new Float64Array(m);
  let best = 0;
  for (let it = 0; it < iterations; it++) {
    load.fill(0);
    let value = 0;
    for (let v = 0; v < cp.n; v++) {
      let bi = -1;
      let bv = Number.POSITIVE_INFINITY;
      for (let b = 0; b < m; b++) {
        if (!canHold(cp, b, v)) continue;
        const x = w[b]! * cp.lat[b]![v]!;
        if (x < bv) { bv = x; bi = b; }
      }
      if (bi < 0) return best;
      value += bv;
      load[bi]! += cp.lat[bi]![v]!;
    }
    best = Math.max(best, value);
    if (value <= 0) break;
    // Supergradient: the loads (minus the constant sum); step on the log weights.
    const eta = 1 / Math.sqrt(it + 1);
    let mx = 0;
    for (let b = 0; b < m; b++) mx = Math.max(mx, load[b]! / value);
    let z = 0;
    for (let b = 0; b < m; b++) { w[b]! *= Math.exp(eta * (load[b]! / value - mx)); z += w[b]!; }
    for (let b = 0; b < m; b++) w[b]! /= z;
  }
  return best * (1 - 1e-12);
}

/** A lower bound on the optimum of `objective` (the period in ms for throughput). */
export async function lowerBoundOf(cp: Compiled, objective: Objective, engine: Solver, timeLimitS: number, cutBytes = 0, deadline = Number.NEGATIVE_INFINITY): Promise<number> {
  if (objective === 'throughput') return periodLowerBound(cp, engine, timeLimitS, cutBytes, deadline);
  return sumLowerBound(cp, objective, cutBytes);
}
