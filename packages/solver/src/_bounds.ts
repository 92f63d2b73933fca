// Exact variable fixing. A dynamic programme over (cut set, board) states gives, for each board and
// each cut set, the best value any plan can reach with that board's stage ending (or starting) at that
// cut set. Pairs whose best value exceeds a bound cannot be in a plan within the bound, so their ILP
// columns are dropped. With a fixed board order the programme is exact; with a free order it lets a
// board recur (a relaxation), so its values are lower bounds and the fixing stays exact.

import { transferMs, type Compiled } from './_compiled.js';
import { downsetStageFits, downsetStageMs, type Downset } from './_downsets.js';
import type { Objective } from './types.js';

export interface PairValues {
  /** Best value with board b's out-cut = candidate d: index d * m + b (Infinity: impossible). */
  readonly out: Float64Array;
  /** Best value with board b's in-cut = candidate d. */
  readonly in: Float64Array;
  /** Best value of any plan (exact for a fixed order, a lower bound for a free order). */
  readonly best: number;
  /** A plan reaching `best` as stages (board, in-cut, out-cut candidate indices), when the programme is exact. */
  readonly plan?: readonly { readonly board: number; readonly from: number; readonly to: number }[];
}

/** Largest number of cut sets the pair programme handles (it is quadratic in them). */
export const MAX_PAIR_CUT_SETS = 4000;

/** d0 ⊊ d1 for candidates sorted by size: sub[d0 * D + d1]. */
export function strictSubsets(cp: Compiled, cands: readonly Downset[]): Uint8Array {
  const D = cands.length;
  const words = Math.ceil(cp.n / 32);
  const bits = cands.map((d) => {
    const w = new Uint32Array(words);
    for (let v = 0; v < cp.n; v++) if (d.has[v] === 1) w[v >>> 5]! |= 1 << (v & 31);
    return w;
  });
  const sub = new Uint8Array(D * D);
  for (let a = 0; a < D; a++) {
    const A = bits[a]!;
    for (let b = 0; b < D; b++) {
      if (cands[a]!.size >= cands[b]!.size) continue;
      const B = bits[b]!;
      let ok = 1;
      for (let k = 0; k < words; k++) if ((A[k]! & ~B[k]!) !== 0) { ok = 0; break; }
      sub[a * D + b] = ok;
    }
  }
  return sub;
}

/**
 * The programmes' step costs: a stage of board b from cut set d0 to d1, and a transfer from board a
 * to c, as the metric (or its Lagrangian mix with the other sum when lambda > 0); Infinity where
 * not allowed (unsupported node, memory cap, over the period cap, no link).
 */
function stepCosts(cp: Compiled, cands: readonly Downset[], metric: Objective, capMs: number, lambda: number) {
  const INF = Number.POSITIVE_INFINITY;
  const combine = metric === 'throughput' ? (a: number, b: number) => (a > b ? a : b) : (a: number, b: number) => a + b;
  const stage = (b: number, d0: number, d1: number): number => {
    const x = cands[d0]!;
    const y = cands[d1]!;
    if (y.unsupported[b]! - x.unsupported[b]! > 0) return INF;
    if (!downsetStageFits(cp, b, x, y)) return INF;
    const lat = downsetStageMs(cp, b, x, y);
    // Only stages within the period cap (every plan within a throughput bound has them all).
    if (lat > capMs) return INF;
    const en = y.energy[b]! - x.energy[b]!;
    // lambda > 0: the Lagrangian mix of the metric with the other sum (latency + lambda x energy, or the reverse).
    return metric === 'energy' ? en + lambda * lat : metric === 'latency' ? lat + lambda * en : lat;
  };
  const hop = (a: number, c: number, bytes: number): number => {
    if (a === c) return 0;
    const l = cp.links[a]![c];
    if (l === undefined) return INF;
    const ms = transferMs(l.link, bytes);
    if (ms > capMs) return INF;
    const mj = ms * l.link.powerW;
    return metric === 'energy' ? mj + lambda * ms : metric === 'latency' ? ms + lambda * mj : ms;
  };
  return { combine, stage, hop };
}

/** Best reachable value of `metric` through every (cut set, board) pair; candidates sorted by size. */
export function pairValues(cp: Compiled, cands: readonly Downset[], sub: Uint8Array, metric: Objective, capMs = Number.POSITIVE_INFINITY, lambda = 0): PairValues {
  const D = cands.length;
  const m = cp.m;
  const INF = Number.POSITIVE_INFINITY;
  const FULL = D - 1;
  const fixed = cp.problem.boardOrder === 'fixed';
  const costs = stepCosts(cp, cands, metric, capMs, lambda);
  const { combine, hop } = costs;
  const stage = (b: number, d0: number, d1: number): number => (sub[d0 * D + d1] === 0 ? INF : costs.stage(b, d0, d1));
  const precedes = (a: number, c: number) => a !== c && (!fixed || a < c);
  // F[d*m+b]: best value with the nodes of d done and the last stage on b, ending at d.
  const F = new Float64Array(D * m).fill(INF);
  // FT[d*m+c]: best value with d done and its cut delivered to c (c's in-cut = d).
  const FT = new Float64Array(D * m).fill(INF);
  const predF = new Int32Array(D * m).fill(-1);
  const predFT = new Int32Array(D * m).fill(-1);
  for (let c = 0; c < m; c++) FT[c] = hop(cp.input, c, cp.inputBytes);
  for (let d = 1; d < D; d++) {
    for (let b = 0; b < m; b++) {
      let best = INF;
      for (let d0 = 0; d0 < d; d0++) {
        const f = FT[d0 * m + b]!;
        if (f === INF || sub[d0 * D + d] === 0) continue;
        const s = stage(b, d0, d);
        if (s === INF) continue;
        const v = combine(f, s);
        if (v < best) {
          best = v;
          predF[d * m + b] = d0;
        }
      }
      F[d * m + b] = best;
    }
    if (d === FULL) break;
    const bytes = cands[d]!.cutBytes;
    for (let c = 0; c < m; c++) {
      let best = INF;
      for (let a = 0; a < m; a++) {
        if (!precedes(a, c)) continue;
        const f = F[d * m + a]!;
        if (f === INF) continue;
        const v = combine(f, hop(a, c, bytes));
        if (v < best) {
          best = v;
          predFT[d * m + c] = a;
        }
      }
      FT[d * m + c] = best;
    }
  }
  // B[d*m+b]: best value of the rest after b's out-cut d (its transfer out included).
  // H[d*m+c]: best value of the rest when c's in-cut is d (c's stage included).
  const B = new Float64Array(D * m).fill(INF);
  const H = new Float64Array(D * m).fill(INF);
  for (let b = 0; b < m; b++) B[FULL * m + b] = 0;
  for (let d = FULL - 1; d >= 0; d--) {
    for (let c = 0; c < m; c++) {
      let best = INF;
      for (let d1 = d + 1; d1 < D; d1++) {
        const r = B[d1 * m + c]!;
        if (r === INF || sub[d * D + d1] === 0) continue;
        const s = stage(c, d, d1);
        if (s === INF) continue;
        const v = combine(s, r);
        if (v < best) best = v;
      }
      H[d * m + c] = best;
    }
    if (d === 0) break;
    const bytes = cands[d]!.cutBytes;
    for (let b = 0; b < m; b++) {
      let best = INF;
      for (let c = 0; c < m; c++) {
        if (!precedes(b, c)) continue;
        const h = H[d * m + c]!;
        if (h === INF) continue;
        const v = combine(hop(b, c, bytes), h);
        if (v < best) best = v;
      }
      B[d * m + b] = best;
    }
  }
  const out = new Float64Array(D * m);
  const inn = new Float64Array(D * m);
  let best = INF;
  for (let d = 0; d < D; d++) {
    for (let b = 0; b < m; b++) {
      out[d * m + b] = combine(F[d * m + b]!, B[d * m + b]!);
      inn[d * m + b] = combine(FT[d * m + b]!, H[d * m + b]!);
    }
  }
  let end = -1;
  for (let b = 0; b < m; b++) if (F[FULL * m + b]! < best) { best = F[FULL * m + b]!; end = b; }
  if (end < 0 || !fixed) return { out, in: inn, best };
  const plan: { board: number; from: number; to: number }[] = [];
  for (let d = FULL, b = end; ;) {
    const d0 = predF[d * m + b]!;
    plan.unshift({ board: b, from: d0, to: d });
    if (d0 === 0) break;
    b = predFT[d0 * m + b]!;
    d = d0;
  }
  return { out, in: inn, best, plan };
}

/** Largest 2^m * m * D^2 the exact free-order programme (over sets of used boards) takes on. */
export const MAX_SUBSET_WORK = 1e9;

/**
 * The same values for a free board order, exactly: states remember the set of boards used so far,
 * so no board recurs. Cost grows with 2^m; callers check MAX_SUBSET_WORK.
 */
export function pairValuesFree(cp: Compiled, cands: readonly Downset[], sub: Uint8Array, metric: Objective, capMs = Number.POSITIVE_INFINITY, lambda = 0): PairValues {
  const D = cands.length;
  const m = cp.m;
  const P = 1 << m;
  const INF = Number.POSITIVE_INFINITY;
  const FULL = D - 1;
  // Stage cost table per (board, d0, d1) would be D^2 m; compute on the fly instead.
  const { combine, stage, hop } = stepCosts(cp, cands, metric, capMs, lambda);
  const idx = (d: number, S: number, b: number) => (d * P + S) * m + b;
  const size = D * P * m;
  const F = new Float64Array(size).fill(INF);
  const FT = new Float64Array(size).fill(INF);
  const predF = new Int32Array(size).fill(-1);
  const predFT = new Int32Array(size).fill(-1);
  for (let c = 0; c < m; c++) FT[idx(0, 0, c)] = hop(cp.input, c, cp.inputBytes);
  // Stage costs per board for one (d0, d1) pair, hoisted out of the loop over board sets.
  const sc = new Float64Array(m);
  const stagesOf = (d0: number, d1: number): boolean => {
    let any = false;
    for (let c = 0; c < m; c++) {
      sc[c] = stage(c, d0, d1);
      if (sc[c] !== INF) any = true;
    }
    return any;
  };
  for (let d1 = 1; d1 < D; d1++) {
    for (let d0 = 0; d0 < d1; d0++) {
      if (sub[d0 * D + d1] === 0 || !stagesOf(d0, d1)) continue;
      for (let S = 0; S < P; S++) {
        for (let c = 0; c < m; c++) {
          if ((S >> c) & 1) continue;
          const s = sc[c]!;
          if (s === INF) continue;
          const f = FT[idx(d0, S, c)]!;
          if (f === INF) continue;
          const v = combine(f, s);
          const k = idx(d1, S | (1 << c), c);
          if (v < F[k]!) {
            F[k] = v;
            predF[k] = d0;
          }
        }
      }
    }
    if (d1 === FULL) break;
    const bytes = cands[d1]!.cutBytes;
    for (let S = 1; S < P; S++) {
      for (let a = 0; a < m; a++) {
        if (!((S >> a) & 1)) continue;
        const f = F[idx(d1, S, a)]!;
        if (f === INF) continue;
        for (let c = 0; c < m; c++) {
          if ((S >> c) & 1) continue;
          const v = combine(f, hop(a, c, bytes));
          const k = idx(d1, S, c);
          if (v < FT[k]!) {
            FT[k] = v;
            predFT[k] = a;
          }
        }
      }
    }
  }
  const B = new Float64Array(size).fill(INF);
  const H = new Float64Array(size).fill(INF);
  for (let S = 0; S < P; S++) for (let b = 0; b < m; b++) B[idx(FULL, S, b)] = 0;
  for (let d = FULL - 1; d >= 0; d--) {
    for (let d1 = d + 1; d1 < D; d1++) {
      if (sub[d * D + d1] === 0 || !stagesOf(d, d1)) continue;
      for (let S = 1; S < P; S++) {
        for (let c = 0; c < m; c++) {
          if (!((S >> c) & 1)) continue;
          const s = sc[c]!;
          if (s === INF) continue;
          const r = B[idx(d1, S, c)]!;
          if (r === INF) continue;
          const v = combine(s, r);
          const k = idx(d, S, c);
          if (v < H[k]!) H[k] = v;
        }
      }
    }
    if (d === 0) break;
    const bytes = cands[d]!.cutBytes;
    for (let S = 1; S < P; S++) {
      for (let b = 0; b < m; b++) {
        if (!((S >> b) & 1)) continue;
        let best = INF;
        for (let c = 0; c < m; c++) {
          if ((S >> c) & 1) continue;
          const h = H[idx(d, S | (1 << c), c)]!;
          if (h === INF) continue;
          const v = combine(hop(b, c, bytes), h);
          if (v < best) best = v;
        }
        B[idx(d, S, b)] = best;
      }
    }
  }
  const out = new Float64Array(D * m).fill(INF);
  const inn = new Float64Array(D * m).fill(INF);
  let best = INF;
  let endS = -1;
  let endB = -1;
  for (let d = 0; d < D; d++) {
    for (let S = 0; S < P; S++) {
      for (let b = 0; b < m; b++) {
        if ((S >> b) & 1) {
          const v = combine(F[idx(d, S, b)]!, B[idx(d, S, b)]!);
          if (v < out[d * m + b]!) out[d * m + b] = v;
          if (d === FULL && F[idx(d, S, b)]! < best) {
            best = F[idx(d, S, b)]!;
            endS = S;
            endB = b;
          }
        } else {
          const v = combine(FT[idx(d, S, b)]!, H[idx(d, S | (1 << b), b)]!);
          if (v < inn[d * m + b]!) inn[d * m + b] = v;
        }
      }
    }
  }
  if (endB < 0) return { out, in: inn, best };
  const plan: { board: number; from: number; to: number }[] = [];
  for (let d = FULL, S = endS, b = endB; ;) {
    const d0 = predF[idx(d, S, b)]!;
    plan.unshift({ board: b, from: d0, to: d });
    const prevS = S & ~(1 << b);
    if (d0 === 0) break;
    const a = predFT[idx(d0, prevS, b)]!;
    d = d0;
    S = prevS;
    b = a;
  }
  return { out, in: inn, best, plan };
}

/** Every time a stage or a transfer can take (sorted, unique): the values a plan's period can have. */
export function periodCandidates(cp: Compiled, cands: readonly Downset[], sub: Uint8Array): Float64Array {
  const D = cands.length;
  const out: number[] = [];
  for (let d0 = 0; d0 < D; d0++) {
    for (let d1 = d0 + 1; d1 < D; d1++) {
      if (sub[d0 * D + d1] === 0) continue;
      for (let b = 0; b < cp.m; b++) if (cands[d1]!.unsupported[b]! === cands[d0]!.unsupported[b]!) out.push(downsetStageMs(cp, b, cands[d0]!, cands[d1]!));
    }
  }
  for (const row of cp.links) {
    for (const l of row) {
      if (l === undefined) continue;
      for (const d of cands) out.push(transferMs(l.link, d.cutBytes));
      out.push(transferMs(l.link, cp.inputBytes));
    }
  }
  out.push(0);
  const sorted = Float64Array.from(out).sort();
  let k = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[k - 1]) sorted[k++] = sorted[i]!;
  return sorted.slice(0, k);
}
