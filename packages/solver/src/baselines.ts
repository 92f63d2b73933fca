// The classic comparison points, computed beside every optimum: one board alone, the best
// two-board split at a topological prefix, and an even split by MACs over all boards in order.

import { compile, transferMs, type Compiled } from './_compiled.js';
import { prefixStageFrames, prefixStageMs, prefixTables } from './_dp.js';
import { assignmentProblem, metricsOf, objectiveValue, violations, type Assignment } from './evaluate.js';
import type { Baseline, Problem } from './types.js';

/**
 * Baselines of a problem. Plans that are not valid (a board cannot run a node, a memory cap, a
 * missing link) are left out; valid plans that break the problem's constraints are kept and marked
 * (`meetsConstraints: false`, `violations`).
 */
export function computeBaselines(problem: Problem): Baseline[] {
  return baselinesOf(compile(problem));
}

export function baselinesOf(cp: Compiled): Baseline[] {
  const out: Baseline[] = [];
  const c = cp.problem.constraints;
  const make = (a: Assignment, name: string, kind: Baseline['kind']): Baseline => {
    const m = metricsOf(cp, a);
    const v = violations(m, c);
    return { ...m, name, kind, meetsConstraints: v.length === 0, violations: v };
  };
  for (let b = 0; b < cp.m; b++) {
    const a: Assignment = { boards: [b], stageOf: new Int32Array(cp.n) };
    if (assignmentProblem(cp, a) === null) out.push(make(a, `single:${cp.boardIds[b]}`, 'single-board'));
  }
  const split = bestSplit(cp);
  if (split !== null) out.push(make(split, `split:${cp.boardIds[split.boards[0]!]}->${cp.boardIds[split.boards[1]!]}`, 'best-single-split'));
  const even = evenSplit(cp);
  if (even !== null && assignmentProblem(cp, even) === null) out.push(make(even, 'even-macs', 'even-split-macs'));
  return out;
}

/** Best two-stage split over ordered linked pairs and prefix cuts; plans meeting the constraints first. */
function bestSplit(cp: Compiled): Assignment | null {
  const tab = prefixTables(cp, cp.topo);
  const n = cp.n;
  const objective = cp.problem.objective;
  const fixed = cp.problem.boardOrder === 'fixed';
  let best: { key: [number, number]; a: number; b: number; cut: number } | null = null;
  for (let a = 0; a < cp.m; a++) {
    const inMs = a === cp.input ? 0 : cp.links[cp.input]![a] === undefined ? Number.NaN : transferMs(cp.links[cp.input]![a]!.link, cp.inputBytes);
    if (Number.isNaN(inMs)) continue;
    const inMj = a === cp.input ? 0 : inMs * cp.links[cp.input]![a]!.link.powerW;
    for (let b = 0; b < cp.m; b++) {
      if (b === a || (fixed && b < a)) continue;
      const link = cp.links[a]![b];
      if (link === undefined) continue;
      const capA = cp.cap[a] ?? Number.POSITIVE_INFINITY;
      const capB = cp.cap[b] ?? Number.POSITIVE_INFINITY;
      for (let cut = 1; cut < n; cut++) {
        if (tab.unsup[a]![cut]! > 0 || tab.mem[cut]! + tab.peakHead[cut]! > capA) break;
        if (tab.unsup[b]![n]! - tab.unsup[b]![cut]! > 0 || tab.mem[n]! - tab.mem[cut]! + tab.peakTail[cut]! > capB) continue;
        // Frames in flight: they depend on the cut, so a cut that breaks a cap with them ends no search.
        if (tab.mem[cut]! + tab.peakHead[cut]! + prefixStageFrames(cp, tab, a, 0, cut) > capA) continue;
        if (tab.mem[n]! - tab.mem[cut]! + tab.peakTail[cut]! + prefixStageFrames(cp, tab, b, cut, n) > capB) continue;
        const s1 = prefixStageMs(cp, tab, a, 0, cut);
        const s2 = prefixStageMs(cp, tab, b, cut, n);
        const t = transferMs(link.link, tab.cutBytes[cut]!);
        const m = {
          throughputFps: 1000 / Math.max(inMs, s1, t, s2),
          latencyMs: inMs + s1 + t + s2,
          energyMj: inMj + tab.energy[a]![cut]! + t * link.link.powerW + tab.energy[b]![n]! - tab.energy[b]![cut]!,
        };
        const key: [number, number] = [violations(m, cp.problem.constraints).length, objectiveValue(m, objective)];
        if (best === null || key[0] < best.key[0] || (key[0] === best.key[0] && key[1] < best.key[1])) best = { key, a, b, cut };
      }
    }
  }
  if (best === null) return null;
  const stageOf = new Int32Array(cp.n);
  cp.topo.forEach((v, i) => { stageOf[v] = i < best!.cut ? 0 : 1; });
  return { boards: [best.a, best.b], stageOf };
}

/** Cut the topological order into (at most) one contiguous part per board, of roughly equal MACs. */
function evenSplit(cp: Compiled): Assignment | null {
  if (cp.m < 2 || cp.n < 2) return null;
  const macs = cp.problem.nodes.map((x) => x.macs ?? 0);
  const useMacs = macs.some((x) => x > 0);
  // Without MACs, weigh each node by its mean latency over the boards that can run it.
  const weight = cp.topo.map((v) => {
    if (useMacs) return macs[v]!;
    let s = 0;
    let k = 0;
    for (let b = 0; b < cp.m; b++) if (!Number.isNaN(cp.lat[b]![v]!)) { s += cp.lat[b]![v]!; k++; }
    return k > 0 ? s / k : 0;
  });
  const total = weight.reduce((s, x) => s + x, 0);
  const parts = Math.min(cp.m, cp.n);
  const stageOf = new Int32Array(cp.n);
  let acc = 0;
  let stage = 0;
  let inStage = 0;
  cp.topo.forEach((v, i) => {
    const w = weight[i]!;
    const target = (total * (stage + 1)) / parts;
    // Start the next part when this node's midpoint passes the share, or when only one node per later part is left.
    const mustMove = cp.n - i === parts - 1 - stage;
    if (stage < parts - 1 && inStage > 0 && (acc + w / 2 > target || mustMove)) {
      stage++;
      inStage = 0;
    }
    stageOf[v] = stage;
    inStage++;
    acc += w;
  });
  const boards = Array.from({ length: stage + 1 }, (_, s) => s);
  return { boards, stageOf };
}
