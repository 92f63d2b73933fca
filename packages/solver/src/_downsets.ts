// Cut candidates: the downsets (predecessor-closed node sets) of the DAG, with their prefix sums.
// Any valid plan's stage k holds D_k \ D_(k-1) for a chain of downsets, so costs over downsets are exact.

import { fitsCap, stageBetweenFrames, stageBetweenMs, transferMs, type Compiled } from './_compiled.js';
import { SolverError } from './errors.js';

export interface Downset {
  /** Membership per node (1 = in). */
  readonly has: Uint8Array;
  readonly size: number;
  /** Bytes crossing the cut after D: tensors produced in D (or inputs) with a consumer outside D. */
  readonly cutBytes: number;
  /** Bytes of the model outputs produced in D (they leave the stage that produces them). */
  readonly outBytes: number;
  /** Per board: sum of latency over D's nodes that the board can run. */
  readonly work: Float64Array;
  /** Per board: number of D's nodes the board cannot run. */
  readonly unsupported: Int32Array;
  readonly energy: Float64Array;
  readonly mem: number;
}

/** Every downset of the graph, empty set and full set included; throws SOLVER_TOO_LARGE past `limit`. */
export function enumerateDownsets(cp: Compiled, limit: number): Downset[] {
  const out: Uint8Array[] = [];
  const has = new Uint8Array(cp.n);
  // Depth-first over the topological order: a node may join only when all its predecessors are in.
  // Recursion depth equals the node count; fine for the few thousand nodes this solver targets.
  const rec = (i: number): void => {
    if (i === cp.n) {
      if (out.length >= limit) {
        throw new SolverError('SOLVER_TOO_LARGE', `the graph has more than ${limit} cut sets (downsets); the exact solver does not scale to so wide a DAG`);
      }
      out.push(has.slice());
      return;
    }
    const v = cp.topo[i]!;
    let ok = true;
    for (const w of cp.preds[v]!) if (has[w] === 0) { ok = false; break; }
    if (ok) {
      has[v] = 1;
      rec(i + 1);
      has[v] = 0;
    }
    rec(i + 1);
  };
  rec(0);
  return out.map((h) => describe(cp, h));
}

/** Costs of one downset. */
export function describe(cp: Compiled, has: Uint8Array): Downset {
  let size = 0;
  let mem = 0;
  const work = new Float64Array(cp.m);
  const unsupported = new Int32Array(cp.m);
  const energy = new Float64Array(cp.m);
  for (let v = 0; v < cp.n; v++) {
    if (has[v] === 0) continue;
    size++;
    mem += cp.mem[v]!;
    for (let b = 0; b < cp.m; b++) {
      const l = cp.lat[b]![v]!;
      if (Number.isNaN(l)) unsupported[b]!++;
      else {
        work[b]! += l;
        energy[b]! += cp.energy[b]![v]!;
      }
    }
  }
  let cutBytes = 0;
  let outBytes = 0;
  for (let t = 0; t < cp.tBytes.length; t++) {
    const p = cp.tProducer[t]!;
    if (p >= 0 && has[p] === 0) continue;
    if (p >= 0 && cp.tOutput[t] === 1) outBytes += cp.tBytes[t]!;
    let out = false;
    for (const c of cp.tConsumers[t]!) if (has[c] === 0) { out = true; break; }
    if (out) cutBytes += cp.tBytes[t]!;
  }
  return { has, size, cutBytes, outBytes, work, unsupported, energy, mem };
}

/** Whether the stage x ⊂ y (nodes of y not in x) fits board b's memory cap, its frames in flight included. */
export function downsetStageFits(cp: Compiled, b: number, x: Downset, y: Downset): boolean {
  const frames = stageBetweenFrames(cp, b, x.cutBytes, x.outBytes, y.cutBytes, y.outBytes);
  return fitsCap(cp, b, y.mem - x.mem + frames, (v) => y.has[v] === 1 && x.has[v] === 0);
}

/** Time of the stage x ⊂ y (nodes of y not in x) on board b, boundary included. */
export function downsetStageMs(cp: Compiled, b: number, x: Downset, y: Downset): number {
  return stageBetweenMs(cp, b, x.work[b]!, x.cutBytes, x.outBytes, y.work[b]!, y.cutBytes, y.outBytes, x.size === 0);
}

/** The fastest any existing link carries `bytes` (Infinity without links). */
export function cheapestTransfer(cp: Compiled, bytes: number): { ms: number; mj: number } {
  let ms = Number.POSITIVE_INFINITY;
  let mj = Number.POSITIVE_INFINITY;
  for (const row of cp.links) {
    for (const l of row) {
      if (l === undefined) continue;
      const t = transferMs(l.link, bytes);
      ms = Math.min(ms, t);
      mj = Math.min(mj, t * l.link.powerW);
    }
  }
  return { ms, mj };
}
