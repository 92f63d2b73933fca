// Fidelity of a system's plans, measured by running their stages with the system's transfer
// encoding (dnnpart accuracy's evaluation), and the minimum-fidelity constraint: when the chosen
// plan misses it, the next higher-precision encoding is solved and measured instead.
import path from 'node:path';
import { loadModel } from '@dnnpart/onnx-graph';
import { classScores, evaluatePlan, precisions, type Precision, type TransferEncoding } from '@dnnpart/accuracy';
import type { Objective, Plan } from '@dnnpart/solver';
import type { PlanFidelityFigures, ReportSystem, SystemFidelity } from '../report-data.js';
import { SystemError } from './errors.js';
import { inputLink } from './plans.js';
import { where, type FidelityConstraints } from './load.js';
import type { ResolvedBoard, ResolvedSystem } from './resolve.js';

/**
 * The precision a board computes in: the system file's `precision`, else an analytic profile's (the
 * description's defaultPrecision, as its latencies assume), else float32 (a measured profile:
 * onnxruntime on the CPU). int16 has no model here: null (measured as float32, and said).
 */
export function boardPrecision(b: ResolvedBoard): Precision | null {
  const p = b.spec.precision ?? (b.source === 'analytic' ? b.profile.analytic?.precision : 'fp32');
  if (p === undefined) return 'fp32';
  return (precisions as readonly string[]).includes(p) ? (p as Precision) : null;
}

/** Samples each plan is measured on (seeded generated inputs). */
export const FIDELITY_SAMPLES = 32;

const HIGHER: Readonly<Record<TransferEncoding, TransferEncoding | null>> = { int8: 'fp16', fp16: 'fp32', fp32: null };

/** True when a system asks for fidelity: a minimum in its constraints or a lossy transfer. */
export function wantsFidelity(system: ResolvedSystem): boolean {
  const f = system.spec.fidelity ?? {};
  return f.minCosine !== undefined || f.minTop1Agreement !== undefined || (system.spec.transfer ?? 'fp32') !== 'fp32';
}

/** Whether measured figures meet the constraints (null: no constraint given). */
export function meets(f: Pick<PlanFidelityFigures, 'cosine' | 'top1Agreement'>, c: FidelityConstraints): boolean | null {
  if (c.minCosine === undefined && c.minTop1Agreement === undefined) return null;
  if (c.minCosine !== undefined && !(f.cosine >= c.minCosine)) return false;
  if (c.minTop1Agreement !== undefined && !(f.top1Agreement !== undefined && f.top1Agreement >= c.minTop1Agreement)) return false;
  return true;
}

/** Measures each objective's plan (those with stages) under `transfer`. */
export async function measurePlans(system: ResolvedSystem, plans: Readonly<Record<Objective, Plan>>, transfer: TransferEncoding, samples = FIDELITY_SAMPLES): Promise<Partial<Record<Objective, PlanFidelityFigures>>> {
  const model = await loadModel(system.modelFile, system.inputShapes ? { inputShapes: system.inputShapes } : {});
  const c = system.spec.fidelity ?? {};
  // A minimum top-1 agreement needs class scores to agree on: without them no plan could meet it.
  const first = model.graph.tensors.get(model.graph.outputs[0]!)!;
  if (c.minTop1Agreement !== undefined && (first.dtype !== 'float32' || classScores(first.shape).classes === 0)) {
    throw new SystemError('SYSTEM_NO_CLASS_SCORES', `${where(system.spec, 'constraints.minTop1Agreement')}: ${path.basename(system.modelFile)} gives no class scores to agree on (its first output ${first.name} is ${first.dtype} [${first.shape.join(', ')}]; top-1 reads a classifier's last axis or a segmentation's channels), so no plan can be held to it; use minCosine`);
  }
  const byBoard = new Map(system.boards.map((b) => [b.spec.id, boardPrecision(b)]));
  const out: Partial<Record<Objective, PlanFidelityFigures>> = {};
  for (const [o, p] of Object.entries(plans) as [Objective, Plan][]) {
    if (!p.stages || p.stages.length === 0) continue;
    const stages: Record<string, number> = {};
    p.stages.forEach((s, k) => s.nodes.forEach((n) => (stages[n] = k)));
    // Each stage at its board's precision: the paper's platforms compute at their own bit widths.
    const precision = p.stages.map((s) => byBoard.get(s.board) ?? 'fp32');
    // The model inputs travel encoded too when the plan sends them over a link to its first stage.
    const inputTransfer = inputLink({ stages: p.stages, transfers: p.transfers }) ? transfer : 'fp32';
    const r = await evaluatePlan(model, { split: { stages }, transfer, inputTransfer, samples, precision });
    const figures = {
      transfer,
      precisions: precision,
      samples: r.samples,
      cosine: r.cosine,
      sqnrDb: r.sqnrDb,
      ...(r.top1Agreement !== undefined ? { top1Agreement: r.top1Agreement, top1Interval: r.top1Interval! } : {}),
      transferBytes: r.transferBytes,
      fp32TransferBytes: r.fp32TransferBytes,
    };
    out[o] = { ...figures, meets: meets(figures, c) };
  }
  return out;
}

/**
 * Measures the solved system's plans; while the chosen objective's plan misses the fidelity
 * constraint, re-solves with the next higher-precision encoding (`solveWith`) and measures again.
 */
export async function solveWithFidelity(
  system: ResolvedSystem,
  solved: ReportSystem,
  solveWith: (transfer: TransferEncoding) => Promise<ReportSystem>,
  onNote: (line: string) => void = () => {},
): Promise<ReportSystem> {
  const requested = system.spec.transfer ?? 'fp32';
  const constraints = system.spec.fidelity ?? {};
  const notes: string[] = [];
  for (const b of system.boards) {
    if (boardPrecision(b) === null) notes.push(`board ${b.spec.id} computes in ${b.spec.precision ?? b.profile.analytic?.precision}, which dnnpart accuracy does not model: its stages are measured in fp32`);
  }
  let transfer = requested;
  let current = solved;
  for (;;) {
    onNote(`measuring the fidelity of ${current.name}'s plans with ${transfer} transfers (${FIDELITY_SAMPLES} samples)`);
    const byObjective = await measurePlans(system, current.plans, transfer);
    const chosen = byObjective[current.objective];
    const next = HIGHER[transfer];
    if (!chosen || chosen.meets !== false || next === null) {
      if (chosen?.meets === false) notes.push(`the ${current.objective} plan misses the fidelity constraint even with fp32 transfers (cosine ${chosen.cosine.toFixed(6)}); no higher precision is left`);
      const fidelity: SystemFidelity = { requested, transfer, constraints, byObjective, notes };
      for (const n of notes) onNote(n);
      return { ...current, fidelity };
    }
    const why = [
      // Nine decimals: a miss against a minimum like 0.9999999 must not print as 1.000000.
      constraints.minCosine !== undefined ? `cosine ${chosen.cosine.toFixed(9)} (min ${constraints.minCosine})` : '',
      constraints.minTop1Agreement !== undefined ? `top-1 agreement ${chosen.top1Agreement?.toFixed(3) ?? 'n/a'} (min ${constraints.minTop1Agreement})` : '',
    ].filter(Boolean).join(', ');
    notes.push(`${transfer} transfers: the ${current.objective} plan misses the fidelity constraint (${why}); solved again with ${next} transfers`);
    transfer = next;
    current = await solveWith(transfer);
  }
}
