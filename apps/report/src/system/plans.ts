// Solving a problem for everything a report shows: each objective's optimum and the two
// Pareto fronts; and the report's view of a problem that has no model (imported data).
import { solve, solvePareto, type Objective, type ParetoResult, type Plan, type Problem } from '@dnnpart/solver';
import type { ReportBoard, ReportCut, ReportLayer, ReportSystem } from '../report-data.js';
import type { ReportParts } from './build.js';

export const objectives: readonly Objective[] = ['throughput', 'latency', 'energy'];

export type TransferPlan = { readonly stages: readonly { readonly board: string }[]; readonly transfers?: readonly { readonly from: string; readonly to: string }[] | null };

/**
 * The link a plan sends the model inputs over to its first stage: its first transfer, when that goes
 * into the first stage's board from another (the first stage is not on the input board); else none.
 */
export function inputLink(plan: TransferPlan): { readonly from: string; readonly to: string } | undefined {
  const first = plan.stages[0]?.board;
  const input = Array.isArray(plan.transfers) ? plan.transfers[0] : undefined;
  return first !== undefined && input && input.to === first && input.from !== first ? input : undefined;
}

/** The fronts every report draws. */
export const paretoPairs: readonly (readonly [Objective, Objective])[] = [
  ['throughput', 'energy'],
  ['latency', 'energy'],
];

export interface SolveAllOptions {
  readonly timeLimitS?: number;
  /** Called before each solve with what is being solved (`throughput`, `pareto throughput,energy`). */
  readonly onStep?: (step: string, index: number, total: number) => void;
  /** The solver's own progress messages during a step. */
  readonly onMessage?: (message: string) => void;
}

/** Each objective's optimum and the throughput/energy and latency/energy fronts of `problem`. */
export async function solveAll(problem: Problem, opts: SolveAllOptions = {}): Promise<Pick<ReportSystem, 'plans' | 'pareto'>> {
  const total = objectives.length + paretoPairs.length;
  const limit = {
    ...(opts.timeLimitS !== undefined ? { timeLimitS: opts.timeLimitS } : {}),
    ...(opts.onMessage ? { onProgress: opts.onMessage } : {}),
  };
  const plans = {} as Record<Objective, Plan>;
  let step = 0;
  for (const objective of objectives) {
    opts.onStep?.(objective, step++, total);
    plans[objective] = await solve(problem, { objective, ...limit });
  }
  const pareto: Record<string, ParetoResult> = {};
  for (const pair of paretoPairs) {
    const key = pair.join(',');
    opts.onStep?.(`pareto ${key}`, step++, total);
    pareto[key] = await solvePareto(problem, [pair[0], pair[1]], limit);
  }
  return { plans, pareto };
}

/** The report's view of a bare problem: layers in the problem's node order, cuts computed from its tensors. */
export function partsFromProblem(problem: Problem, name: string, source: ReportBoard['source'] = 'imported', file?: string): ReportParts {
  const layers: ReportLayer[] = problem.nodes.map((n) => {
    const latencyMs: Record<string, number> = {};
    for (const b of problem.boards) {
      const ms = b.latencyMs[n.id];
      if (ms !== undefined) latencyMs[b.id] = ms;
    }
    return { name: n.id, op: '', macs: n.macs ?? 0, paramBytes: 0, latencyMs };
  });
  return {
    name: problem.name ?? name,
    model: { name: problem.name ?? name, layers: problem.nodes.length, params: 0, macs: problem.nodes.reduce((s, n) => s + (n.macs ?? 0), 0), ...(file ? { file } : {}) },
    boards: problem.boards.map((b) => ({ id: b.id, source, memoryBytes: b.memoryBytes, powerSource: source === 'imported' ? 'imported' : 'unavailable', ...(file ? { file } : {}) })),
    links: problem.links,
    inputBoard: problem.inputBoard,
    boardOrder: problem.boardOrder,
    constraints: problem.constraints ?? {},
    objective: problem.objective,
    layers,
    cuts: problemCuts(problem),
  };
}

/** For each position in the node order, the tensors produced at or before it and read after it. */
export function problemCuts(problem: Problem): ReportCut[] {
  const pos = new Map(problem.nodes.map((n, i) => [n.id, i]));
  const cuts: ReportCut[] = [];
  for (let i = 0; i < problem.nodes.length - 1; i++) {
    let bytes = 0;
    let tensors = 0;
    for (const t of problem.tensors) {
      const p = t.producer === null ? -1 : (pos.get(t.producer) ?? -1);
      if (p <= i && t.consumers.some((c) => (pos.get(c) ?? -1) > i)) {
        bytes += t.bytes;
        tensors++;
      }
    }
    cuts.push({ after: problem.nodes[i]!.id, bytes, tensors });
  }
  return cuts;
}
