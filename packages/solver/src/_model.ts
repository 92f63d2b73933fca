// The ILP over cut candidates (downsets). Each board b gets an interval [in_b, out_b] of candidates
// (in_b = out_b = all nodes when unused); successor arcs chain the used boards from the input to the end.
// Stage costs are differences of prefix sums over candidates, so every cost, memory cap and framed
// transfer time is a precomputed constant: no products, no big-M on stage times, no integer framing.

import { endPotential, memEndPotential, memStartPotential, startPotential, transferMs, type Compiled } from './_compiled.js';
import type { Downset } from './_downsets.js';
import type { Row, LinearProgram, Term } from './engine.js';
import type { Assignment } from './evaluate.js';
import type { Objective } from './types.js';

/** Upper bounds on the three metrics (period in ms for throughput); Infinity when absent. */
export interface MetricBounds {
  readonly periodMs: number;
  readonly latencyMs: number;
  readonly energyMj: number;
}

export interface ModelSpec {
  readonly minimize: Objective;
  readonly bounds: MetricBounds;
  /** Allowed (candidate, board) pairs for in-cuts and out-cuts, index d * m + b; absent: all. */
  readonly allowIn?: Uint8Array;
  readonly allowOut?: Uint8Array;
  /** A proven lower bound on the minimised metric: once GLPK meets it, its search is over. */
  readonly lowerBound?: number;
}

export interface BuiltModel {
  readonly lp: LinearProgram;
  readonly columns: number;
  readonly binaries: number;
  readonly rows: number;
  readonly decode: (values: Readonly<Record<string, number>>) => Assignment;
}

/** Blocks: nodes that belong to exactly the same candidates, hence always share a stage. */
export function blocksOf(cp: Compiled, cands: readonly Downset[]): number[][] {
  const groups = new Map<string, number[]>();
  for (let v = 0; v < cp.n; v++) {
    let key = '';
    for (const d of cands) key += d.has[v] === 1 ? '1' : '0';
    const g = groups.get(key);
    if (g === undefined) groups.set(key, [v]);
    else g.push(v);
  }
  return [...groups.values()];
}

/** Build the ILP for the given candidates (index 0 must be the empty set, the last the full set). */
export function buildModel(cp: Compiled, cands: readonly Downset[], blocks: readonly number[][], spec: ModelSpec): BuiltModel {
  const m = cp.m;
  const nd = cands.length;
  const FULL = nd - 1;
  const fixed = cp.problem.boardOrder === 'fixed';
  const rows: Row[] = [];
  const binaries: string[] = [];
  const bounds = new Map<string, { lo: number; hi: number }>();
  const yi = (d: number, b: number) => `i${d}_${b}`;
  const yo = (d: number, b: number) => `o${d}_${b}`;
  const used = (b: number) => `u${b}`;
  const arc = (b: number, c: number) => `w${b}_${c}`;
  const first = (b: number) => `s${b}`;
  const last = (b: number) => `k${b}`;
  const row = (name: string, terms: Term[], lo: number, hi: number) => rows.push({ name, terms, lo, hi });
  // Dropped columns are fixed at 0; the full set stays available to every board (unused boards sit there).
  const hasI = (d: number, b: number) => d === nd - 1 || spec.allowIn === undefined || spec.allowIn[d * m + b] === 1;
  const hasO = (d: number, b: number) => d === nd - 1 || spec.allowOut === undefined || spec.allowOut[d * m + b] === 1;
  const INF = Number.POSITIVE_INFINITY;

  const succ: number[][] = Array.from({ length: m }, (_, b) => {
    const out: number[] = [];
    for (let c = 0; c < m; c++) if (c !== b && (!fixed || c > b) && cp.links[b]![c] !== undefined) out.push(c);
    return out;
  });
  for (let b = 0; b < m; b++) {
    for (let d = 0; d < nd; d++) {
      if (hasI(d, b)) binaries.push(yi(d, b));
      if (hasO(d, b)) binaries.push(yo(d, b));
    }
    binaries.push(used(b), first(b), last(b));
    for (const c of succ[b]!) binaries.push(arc(b, c));
  }
  // Difference of a per-candidate quantity between out and in: the stage's total of it.
  const stageExpr = (b: number, q: (d: Downset) => number): Term[] => {
    const t: Term[] = [];
    for (let d = 0; d < nd; d++) {
      const x = q(cands[d]!);
      if (x === 0) continue;
      if (hasO(d, b)) t.push({ v: yo(d, b), c: x });
      if (hasI(d, b)) t.push({ v: yi(d, b), c: -x });
    }
    return t;
  };

  const latency: Term[] = [];
  const energy: Term[] = [];
  const periodRows: Term[][] = [];
  const blockAct = blocks.map((blk) => blk.reduce((a, v) => Math.max(a, cp.act[v]!), 0));
  const totalMem = cands[FULL]!.mem;
  // The most frames in flight any stage on b can hold: every tensor in, and every tensor out twice
  // (crossing the next cut and a model output).
  const allBytes = cp.tBytes.reduce((s, x) => s + x, 0);
  const maxFrames = cp.frames.map((f) => f.perInByte * allBytes + 2 * f.perOutByte * allBytes);
  for (let b = 0; b < m; b++) {
    const ins: Term[] = [];
    const outs: Term[] = [];
    for (let d = 0; d < nd; d++) {
      if (hasI(d, b)) ins.push({ v: yi(d, b), c: 1 });
      if (hasO(d, b)) outs.push({ v: yo(d, b), c: 1 });
    }
    row(`ai${b}`, ins, 1, 1);
    row(`ao${b}`, outs, 1, 1);
    // Unused: in = out = all nodes, so it contributes no work and no transfer.
    row(`ui${b}`, [{ v: yi(FULL, b), c: 1 }, { v: used(b), c: 1 }], 1, INF);
    row(`uo${b}`, [{ v: yo(FULL, b), c: 1 }, { v: used(b), c: 1 }], 1, INF);
    // Used: at least one node.
    row(`ne${b}`, [...stageExpr(b, (d) => d.size), { v: used(b), c: -1 }], 0, INF);
    // in ⊆ out, one row per block.
    blocks.forEach((blk, k) => {
      const v0 = blk[0]!;
      const t: Term[] = [];
      for (let d = 0; d < nd; d++) {
        if (cands[d]!.has[v0] !== 1) continue;
        if (hasI(d, b)) t.push({ v: yi(d, b), c: 1 });
        if (hasO(d, b)) t.push({ v: yo(d, b), c: -1 });
      }
      if (t.length > 0) row(`n${k}_${b}`, t, -INF, 0);
    });
    const unsup = stageExpr(b, (d) => d.unsupported[b]!);
    if (unsup.length > 0) row(`x${b}`, unsup, -INF, 0);
    const cap = cp.cap[b];
    if (cap !== null && cap !== undefined) {
      // The stage's weights and its frames in flight: linear in its in and out cut sets (_compiled.ts).
      // `extra(d)`: a quantity counted when d is the out cut set and not the in one.
      const memExpr = (extra: (d: Downset) => number): Term[] => {
        const t: Term[] = [];
        for (let d = 0; d < nd; d++) {
          const x = cands[d]!;
          const e = extra(x);
          const end = memEndPotential(cp, b, x.mem, x.cutBytes, x.outBytes) + e;
          const start = memStartPotential(cp, b, x.mem, x.cutBytes, x.outBytes) + e;
          if (hasO(d, b) && end !== 0) t.push({ v: yo(d, b), c: end });
          if (hasI(d, b) && start !== 0) t.push({ v: yi(d, b), c: -start });
        }
        return t;
      };
      const memT = memExpr(() => 0);
      if (memT.length > 0) row(`m${b}`, memT, -INF, cap);
      // The stage's largest act: a row per block whose act could break the cap, that block's act
      // counted when the block is in the stage (out has it, in does not).
      blocks.forEach((blk, k) => {
        const peak = blockAct[k]!;
        if (peak === 0 || totalMem + peak + maxFrames[b]! <= cap) return;
        const v0 = blk[0]!;
        const t = memExpr((d) => (d.has[v0] === 1 ? peak : 0));
        if (t.length > 0) row(`p${k}_${b}`, t, -INF, cap);
      });
    }
    // The stage's time (kernels and boundary): linear in the in/out cuts, see _compiled.ts.
    const work: Term[] = [];
    for (let d = 0; d < nd; d++) {
      const x = cands[d]!;
      const end = endPotential(cp, b, x.work[b]!, x.cutBytes, x.outBytes);
      const start = startPotential(cp, b, x.work[b]!, x.cutBytes, x.outBytes, x.size === 0);
      if (hasO(d, b) && end !== 0) work.push({ v: yo(d, b), c: end });
      if (hasI(d, b) && start !== 0) work.push({ v: yi(d, b), c: -start });
    }
    const fixedMs = cp.boundary[b]!.fixedMs;
    if (fixedMs > 0) work.push({ v: used(b), c: fixedMs });
    latency.push(...work);
    energy.push(...stageExpr(b, (d) => d.energy[b]!));
    periodRows.push(work);

    // Chain: one successor (or the end) per used board, one predecessor (or the start).
    row(`fo${b}`, [...succ[b]!.map((c) => ({ v: arc(b, c), c: 1 })), { v: last(b), c: 1 }, { v: used(b), c: -1 }], 0, 0);
    const preds: Term[] = [];
    for (let a = 0; a < m; a++) if (succ[a]!.includes(b)) preds.push({ v: arc(a, b), c: 1 });
    row(`fi${b}`, [...preds, { v: first(b), c: 1 }, { v: used(b), c: -1 }], 0, 0);
    row(`sf${b}`, hasI(0, b) ? [{ v: yi(0, b), c: 1 }, { v: first(b), c: -1 }] : [{ v: first(b), c: -1 }], 0, INF);
    row(`sk${b}`, [{ v: yo(FULL, b), c: 1 }, { v: last(b), c: -1 }], 0, INF);
    for (const c of succ[b]!) {
      // out_b = in_c when c follows b (candidates strictly between empty and full; the others break `ne`).
      for (let d = 1; d < FULL; d++) {
        if (!hasO(d, b)) continue;
        const t: Term[] = [{ v: yo(d, b), c: -1 }, { v: arc(b, c), c: -1 }];
        if (hasI(d, c)) t.push({ v: yi(d, c), c: 1 });
        row(`l${d}_${b}_${c}`, t, -1, INF);
      }
    }

    // Input transfer when b runs the first stage and is not the input board.
    if (b !== cp.input) {
      const l = cp.links[cp.input]![b];
      // A row, not a column bound: glpk.js resets the bounds of binary columns to [0, 1].
      if (l === undefined) row(`nf${b}`, [{ v: first(b), c: 1 }], 0, 0);
      else {
        const ms = transferMs(l.link, cp.inputBytes);
        if (ms > 0) {
          latency.push({ v: first(b), c: ms });
          energy.push({ v: first(b), c: ms * l.link.powerW });
          periodRows.push([{ v: first(b), c: ms }]);
        }
      }
    }

    // Transfer out of b, carrying the cut after out_b.
    const sigs = new Set(succ[b]!.map((c) => cp.links[b]![c]!.sig));
    if (sigs.size === 1) {
      // Every successor link is alike: the time depends on out_b only (0 for the full set or unused b).
      const l = cp.links[b]![succ[b]![0]!]!.link;
      const t: Term[] = [];
      const e: Term[] = [];
      for (let d = 1; d < FULL; d++) {
        if (!hasO(d, b)) continue;
        const ms = transferMs(l, cands[d]!.cutBytes);
        if (ms > 0) {
          t.push({ v: yo(d, b), c: ms });
          e.push({ v: yo(d, b), c: ms * l.powerW });
        }
      }
      latency.push(...t);
      energy.push(...e);
      if (t.length > 0) periodRows.push(t);
    } else if (sigs.size > 1) {
      for (const c of succ[b]!) {
        const l = cp.links[b]![c]!.link;
        const t: Term[] = [];
        const e: Term[] = [];
        for (let d = 1; d < FULL; d++) {
          if (!hasO(d, b)) continue;
          const ms = transferMs(l, cands[d]!.cutBytes);
          if (ms <= 0) continue;
          const v = `v${d}_${b}_${c}`;
          // v >= [out_b = d and c follows b]; minimisation keeps it at that value.
          row(`g${d}_${b}_${c}`, [{ v, c: 1 }, { v: yo(d, b), c: -1 }, { v: arc(b, c), c: -1 }], -1, INF);
          t.push({ v, c: ms });
          e.push({ v, c: ms * l.powerW });
        }
        latency.push(...t);
        energy.push(...e);
        if (t.length > 0) periodRows.push(t);
      }
    }
  }
  row('fs', Array.from({ length: m }, (_, b) => ({ v: first(b), c: 1 })), 1, 1);
  row('fk', Array.from({ length: m }, (_, b) => ({ v: last(b), c: 1 })), 1, 1);
  // Every node in exactly one stage (implied by the chain; stated for a stronger relaxation).
  const cover: Term[] = [];
  for (let b = 0; b < m; b++) cover.push(...stageExpr(b, (d) => d.size));
  row('cov', cover, cp.n, cp.n);
  // Interchangeable boards (free order): use the earlier one first.
  if (!fixed) {
    for (let b = 0; b < m; b++) {
      for (let c = b + 1; c < m; c++) {
        if (interchangeable(cp, b, c)) {
          row(`sym${b}_${c}`, [{ v: used(b), c: 1 }, { v: used(c), c: -1 }], 0, INF);
          break;
        }
      }
    }
  }

  const needPeriod = spec.minimize === 'throughput' || Number.isFinite(spec.bounds.periodMs);
  if (needPeriod) {
    periodRows.forEach((t, k) => row(`p${k}`, [{ v: 'T', c: 1 }, ...t.map((x) => ({ v: x.v, c: -x.c }))], 0, INF));
    if (Number.isFinite(spec.bounds.periodMs)) bounds.set('T', { lo: 0, hi: spec.bounds.periodMs });
  }
  if (Number.isFinite(spec.bounds.latencyMs)) row('Lmax', merge(latency), -INF, spec.bounds.latencyMs);
  if (Number.isFinite(spec.bounds.energyMj)) row('Emax', merge(energy), -INF, spec.bounds.energyMj);
  const objective = spec.minimize === 'throughput' ? [{ v: 'T', c: 1 }] : merge(spec.minimize === 'latency' ? latency : energy);
  if (spec.lowerBound !== undefined && spec.lowerBound > 0) row('lb', objective, spec.lowerBound, INF);
  // A model with an all-zero objective still needs a column GLPK knows; T is harmless there.
  if (objective.length === 0) objective.push({ v: 'T', c: 0 });
  if (!needPeriod) row('p0', [{ v: 'T', c: 1 }], 0, INF);

  const names = new Set<string>(binaries);
  for (const r of rows) for (const t of r.terms) names.add(t.v);
  const lp: LinearProgram = { name: `dnnpart-${spec.minimize}`, objective, rows, binaries, bounds };

  const decode = (values: Readonly<Record<string, number>>): Assignment => {
    const on = (v: string) => (values[v] ?? 0) > 0.5;
    const inOf = (b: number) => { for (let d = 0; d < nd; d++) if (hasI(d, b) && on(yi(d, b))) return d; return FULL; };
    const outOf = (b: number) => { for (let d = 0; d < nd; d++) if (hasO(d, b) && on(yo(d, b))) return d; return FULL; };
    let b = -1;
    for (let x = 0; x < m; x++) if (on(first(x))) b = x;
    const boards: number[] = [];
    const stageOf = new Int32Array(cp.n).fill(-1);
    while (b >= 0 && boards.length < m) {
      const din = cands[inOf(b)]!;
      const dout = cands[outOf(b)]!;
      for (let v = 0; v < cp.n; v++) if (dout.has[v] === 1 && din.has[v] === 0) stageOf[v] = boards.length;
      boards.push(b);
      const nextB: number = succ[b]!.find((c) => on(arc(b, c))) ?? -1;
      b = nextB;
    }
    return { boards, stageOf };
  };
  return { lp, columns: names.size, binaries: binaries.length, rows: rows.length, decode };
}

function merge(terms: readonly Term[]): Term[] {
  const acc = new Map<string, number>();
  for (const t of terms) acc.set(t.v, (acc.get(t.v) ?? 0) + t.c);
  return [...acc.entries()].filter(([, c]) => c !== 0).map(([v, c]) => ({ v, c }));
}

/** Two boards that no plan can tell apart: same costs, memory, and links to and from every board. */
export function interchangeable(cp: Compiled, b: number, c: number): boolean {
  if (b === cp.input || c === cp.input) return false;
  if (cp.cap[b] !== cp.cap[c]) return false;
  const x = cp.boundary[b]!;
  const y = cp.boundary[c]!;
  if (x.fixedMs !== y.fixedMs || x.inMsPerByte !== y.inMsPerByte || x.outMsPerByte !== y.outMsPerByte || x.outputMsPerByte !== y.outputMsPerByte) return false;
  if (cp.frames[b]!.perInByte !== cp.frames[c]!.perInByte || cp.frames[b]!.perOutByte !== cp.frames[c]!.perOutByte) return false;
  for (let v = 0; v < cp.n; v++) {
    const x = cp.lat[b]![v]!;
    const y = cp.lat[c]![v]!;
    if (!(x === y || (Number.isNaN(x) && Number.isNaN(y)))) return false;
    if (cp.energy[b]![v] !== cp.energy[c]![v]) return false;
  }
  for (let a = 0; a < cp.m; a++) {
    if (a === b || a === c) continue;
    if (cp.links[a]![b]?.sig !== cp.links[a]![c]?.sig) return false;
    if (cp.links[b]![a]?.sig !== cp.links[c]![a]?.sig) return false;
  }
  return cp.links[b]![c]?.sig === cp.links[c]![b]?.sig;
}
