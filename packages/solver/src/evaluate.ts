// The single source of truth for a plan's metrics (issue 4 semantics); every reported number goes through here.

import { boundaryMs, compile, framesBytes, hasFrames, stagePeaks, transferMs, type Compiled } from './_compiled.js';
import { SolverError } from './errors.js';
import type { Constraints, Objective, PlanMetrics, PlanStage, PlanTransfer, Problem } from './types.js';

/** A plan as the caller states it: stages in pipeline order. */
export interface StageSpec {
  readonly board: string;
  readonly nodes: readonly string[];
}

/** Relative tolerance when checking constraints (GLPK's row feasibility is ~1e-7). */
export const CONSTRAINT_TOLERANCE = 1e-7;

/** Stage board indices and each node's stage index: the compact form a plan takes inside the solver. */
export interface Assignment {
  readonly boards: readonly number[];
  readonly stageOf: Int32Array;
}

/** Why an assignment is not a valid plan, or null when it is. */
export function assignmentProblem(cp: Compiled, a: Assignment): string | null {
  const k = a.boards.length;
  if (k === 0) return 'a plan needs at least one stage';
  const seen = new Set<number>();
  for (const b of a.boards) {
    if (seen.has(b)) return `board "${cp.boardIds[b]}" appears in two stages`;
    seen.add(b);
  }
  if (cp.problem.boardOrder === 'fixed') {
    for (let s = 1; s < k; s++) {
      if (a.boards[s]! < a.boards[s - 1]!) return `board order is fixed: "${cp.boardIds[a.boards[s]!]}" cannot follow "${cp.boardIds[a.boards[s - 1]!]}"`;
    }
  }
  const count = new Int32Array(k);
  const memUse = new Float64Array(k);
  for (let v = 0; v < cp.n; v++) {
    const s = a.stageOf[v]!;
    if (s < 0 || s >= k) return `node "${cp.nodeIds[v]}" is in no stage`;
    count[s]!++;
    const b = a.boards[s]!;
    if (Number.isNaN(cp.lat[b]![v]!)) return `board "${cp.boardIds[b]}" cannot run node "${cp.nodeIds[v]}"`;
    memUse[s]! += cp.mem[v]!;
    for (const w of cp.preds[v]!) {
      if (a.stageOf[w]! > s) return `node "${cp.nodeIds[v]}" runs before its input from "${cp.nodeIds[w]}"`;
    }
  }
  const peaks = stagePeaks(cp, a.stageOf, k);
  for (let s = 0; s < k; s++) {
    if (count[s] === 0) return `stage ${s + 1} on "${cp.boardIds[a.boards[s]!]}" has no nodes`;
  }
  // Frames in flight depend on the stages' boundaries: computed only when a board holds any.
  const bytes = hasFrames(cp) && a.boards.some((b) => cp.cap[b] !== null) ? boundaryBytes(cp, a) : null;
  for (let s = 0; s < k; s++) {
    const b = a.boards[s]!;
    memUse[s]! += peaks[s]! + (bytes === null ? 0 : framesBytes(cp, b, bytes.inBytes[s]!, bytes.outBytes[s]!));
    const cap = cp.cap[b];
    if (cap !== null && cap !== undefined && memUse[s]! > cap) {
      return `stage ${s + 1} needs ${memUse[s]} bytes on "${cp.boardIds[b]}" (cap ${cap})`;
    }
  }
  if (a.boards[0] !== cp.input && cp.links[cp.input]![a.boards[0]!] === undefined) {
    return `no link from "${cp.boardIds[cp.input]}" to "${cp.boardIds[a.boards[0]!]}"`;
  }
  for (let s = 0; s + 1 < k; s++) {
    if (cp.links[a.boards[s]!]![a.boards[s + 1]!] === undefined) {
      return `no link from "${cp.boardIds[a.boards[s]!]}" to "${cp.boardIds[a.boards[s + 1]!]}"`;
    }
  }
  return null;
}

/** Bytes of a list of tensors. */
const bytesOf = (cp: Compiled, ts: readonly number[]): number => ts.reduce((acc, t) => acc + cp.tBytes[t]!, 0);

/**
 * Per stage of an assignment: the tensors crossing each boundary (crossing[s + 1]: after stage s;
 * crossing[0]: the model inputs entering the first), and the bytes entering and leaving each stage
 * (leaving: the next boundary's tensors plus the model outputs it makes).
 */
function boundaryBytes(cp: Compiled, a: Assignment): { crossing: number[][]; inBytes: Float64Array; outBytes: Float64Array; outputBytes: Float64Array } {
  const k = a.boards.length;
  // A tensor crosses boundary s (after stage s) when produced at or before s and consumed after s.
  const nt = cp.tBytes.length;
  const first = new Int32Array(nt);
  const last = new Int32Array(nt);
  for (let t = 0; t < nt; t++) {
    const p = cp.tProducer[t]!;
    first[t] = p < 0 ? -1 : a.stageOf[p]!;
    let mx = -1;
    for (const c of cp.tConsumers[t]!) mx = Math.max(mx, a.stageOf[c]!);
    last[t] = mx;
  }
  // Boundary -1 is the model input entering the first stage.
  const crossingAt = (s: number): number[] => {
    const out: number[] = [];
    for (let t = 0; t < nt; t++) if (first[t]! <= s && last[t]! > s) out.push(t);
    return out;
  };
  const crossing = Array.from({ length: k + 1 }, (_, i) => crossingAt(i - 1));
  const inBytes = new Float64Array(k);
  const outBytes = new Float64Array(k);
  const outputBytes = new Float64Array(k);
  for (let s = 0; s < k; s++) {
    let outputs = 0;
    for (let t = 0; t < nt; t++) if (cp.tOutput[t] === 1 && first[t] === s && cp.tProducer[t]! >= 0) outputs += cp.tBytes[t]!;
    inBytes[s] = bytesOf(cp, crossing[s]!);
    outBytes[s] = bytesOf(cp, crossing[s + 1]!) + outputs;
    outputBytes[s] = outputs;
  }
  return { crossing, inBytes, outBytes, outputBytes };
}

/** Metrics of a valid assignment, computed exactly as the issue defines them. */
export function metricsOf(cp: Compiled, a: Assignment): PlanMetrics {
  const k = a.boards.length;
  const stageNodes: string[][] = Array.from({ length: k }, () => []);
  const computeMs = new Float64Array(k);
  const stageEnergy = new Float64Array(k);
  const memUse = new Float64Array(k);
  for (const v of cp.topo) {
    const s = a.stageOf[v]!;
    const b = a.boards[s]!;
    stageNodes[s]!.push(cp.nodeIds[v]!);
    computeMs[s]! += cp.lat[b]![v]!;
    stageEnergy[s]! += cp.energy[b]![v]!;
    memUse[s]! += cp.mem[v]!;
  }
  const peaks = stagePeaks(cp, a.stageOf, k);
  const { crossing, inBytes: stageIn, outBytes: stageOut, outputBytes: stageOutputs } = boundaryBytes(cp, a);
  const frames = hasFrames(cp);
  const stages: PlanStage[] = stageNodes.map((nodes, s) => {
    const b = a.boards[s]!;
    const inBytes = stageIn[s]!;
    const outBytes = stageOut[s]!;
    const bMs = boundaryMs(cp, b, inBytes, outBytes - stageOutputs[s]!, stageOutputs[s]!, s === 0);
    const fBytes = framesBytes(cp, b, inBytes, outBytes);
    return {
      board: cp.boardIds[b]!, nodes, computeMs: computeMs[s]! + bMs, energyMj: stageEnergy[s]!, memoryBytes: memUse[s]! + peaks[s]! + fBytes,
      kernelMs: computeMs[s]!, boundaryMs: bMs, inBytes, outBytes, ...(frames ? { framesBytes: fBytes } : {}),
    };
  });
  const transfers: PlanTransfer[] = [];
  const transfer = (from: number, to: number, tensors: number[]): PlanTransfer => {
    const link = cp.links[from]![to]!.link;
    const bytes = bytesOf(cp, tensors);
    const ms = transferMs(link, bytes);
    return { from: cp.boardIds[from]!, to: cp.boardIds[to]!, bytes, ms, energyMj: link.powerW * ms, tensors: tensors.map((t) => cp.tIds[t]!) };
  };
  if (a.boards[0] !== cp.input) {
    const inputs: number[] = [];
    for (let t = 0; t < cp.tBytes.length; t++) if (cp.tProducer[t] === -1) inputs.push(t);
    transfers.push(transfer(cp.input, a.boards[0]!, inputs));
  }
  for (let s = 0; s + 1 < k; s++) transfers.push(transfer(a.boards[s]!, a.boards[s + 1]!, crossing[s + 1]!));
  // Pipeline order for the bottleneck: input transfer, then stage, transfer, stage, ...
  const parts: { name: string; ms: number }[] = [];
  let ti = 0;
  if (a.boards[0] !== cp.input) {
    const t = transfers[ti++]!;
    parts.push({ name: `${t.from}->${t.to}`, ms: t.ms });
  }
  for (let s = 0; s < k; s++) {
    parts.push({ name: stages[s]!.board, ms: stages[s]!.computeMs });
    if (s + 1 < k) {
      const t = transfers[ti++]!;
      parts.push({ name: `${t.from}->${t.to}`, ms: t.ms });
    }
  }
  let worst = parts[0]!;
  for (const p of parts) if (p.ms > worst.ms) worst = p;
  let latencyMs = 0;
  let energyMj = 0;
  for (const st of stages) {
    latencyMs += st.computeMs;
    energyMj += st.energyMj;
  }
  for (const t of transfers) {
    latencyMs += t.ms;
    energyMj += t.energyMj;
  }
  return {
    throughputFps: worst.ms > 0 ? 1000 / worst.ms : Number.POSITIVE_INFINITY,
    latencyMs, energyMj, stages, transfers, bottleneck: worst.name,
  };
}

/** Turn stage specs into the compact form, or throw SOLVER_BAD_PLAN naming the bad entry. */
export function toAssignment(cp: Compiled, stages: readonly StageSpec[]): Assignment {
  const stageOf = new Int32Array(cp.n).fill(-1);
  const boards = stages.map((st, s) => {
    const b = cp.boardIndex.get(st.board);
    if (b === undefined) throw new SolverError('SOLVER_BAD_PLAN', `stages[${s}].board: unknown board "${st.board}"`);
    st.nodes.forEach((id, j) => {
      const v = cp.nodeIndex.get(id);
      if (v === undefined) throw new SolverError('SOLVER_BAD_PLAN', `stages[${s}].nodes[${j}]: unknown node "${id}"`);
      if (stageOf[v] !== -1) throw new SolverError('SOLVER_BAD_PLAN', `stages[${s}].nodes[${j}]: node "${id}" is already in stage ${stageOf[v]! + 1}`);
      stageOf[v] = s;
    });
    return b;
  });
  return { boards, stageOf };
}

/** Metrics of a plan given as stages (board and node ids); throws SOLVER_BAD_PLAN when the plan is not valid. */
export function evaluatePlan(problem: Problem, stages: readonly StageSpec[]): PlanMetrics {
  const cp = compile(problem);
  const a = toAssignment(cp, stages);
  const why = assignmentProblem(cp, a);
  if (why !== null) throw new SolverError('SOLVER_BAD_PLAN', `invalid plan: ${why}`);
  return metricsOf(cp, a);
}

/** The value an objective minimises: the period (ms per frame) for throughput, else latency or energy. */
export function objectiveValue(m: Pick<PlanMetrics, 'throughputFps' | 'latencyMs' | 'energyMj'>, objective: Objective): number {
  if (objective === 'throughput') return m.throughputFps === Number.POSITIVE_INFINITY ? 0 : 1000 / m.throughputFps;
  return objective === 'latency' ? m.latencyMs : m.energyMj;
}

/** The constraints a plan's metrics break, each as a short phrase; empty when it meets them all. */
export function violations(m: Pick<PlanMetrics, 'throughputFps' | 'latencyMs' | 'energyMj'>, c: Constraints | undefined): string[] {
  if (c === undefined) return [];
  const out: string[] = [];
  const over = (v: number, bound: number) => v > bound * (1 + CONSTRAINT_TOLERANCE) + 1e-12;
  if (c.maxLatencyMs !== undefined && over(m.latencyMs, c.maxLatencyMs)) out.push(`latency ${fmt(m.latencyMs)} ms > ${c.maxLatencyMs} ms`);
  if (c.maxEnergyMj !== undefined && over(m.energyMj, c.maxEnergyMj)) out.push(`energy ${fmt(m.energyMj)} mJ > ${c.maxEnergyMj} mJ`);
  // Compare periods (ms per frame), the quantity the ILP bounds.
  if (c.minThroughputFps !== undefined && c.minThroughputFps > 0 && over(1000 / m.throughputFps, 1000 / c.minThroughputFps)) {
    out.push(`throughput ${fmt(m.throughputFps)} FPS < ${c.minThroughputFps} FPS`);
  }
  return out;
}

/** A number for a message: 4 significant digits, no exponent for ordinary sizes. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Number(x.toPrecision(4)).toString();
}
