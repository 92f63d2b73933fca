// A plan's stages priced on one board of its problem, whichever boards the plan puts them on: what
// each stage should take on the machine that board's profile was made on. verify holds a stage the
// plan puts on a board not at hand against this, since it times every stage here.
import { evaluatePlan, type PlanStage, type Problem } from '@dnnpart/solver';
import type { StagePrediction } from './verify.js';

/** What verify compares of a plan's stage: its full predicted time, its parts, and its memory. */
export function stagePrediction(s: Pick<PlanStage, 'computeMs' | 'kernelMs' | 'boundaryMs' | 'framesBytes'> & { readonly memoryBytes?: number }): StagePrediction {
  return {
    computeMs: s.computeMs, ...(s.kernelMs !== undefined ? { kernelMs: s.kernelMs } : {}), ...(s.boundaryMs !== undefined ? { boundaryMs: s.boundaryMs } : {}),
    ...(s.memoryBytes !== undefined ? { memoryBytes: s.memoryBytes } : {}), ...(s.framesBytes !== undefined ? { framesBytes: s.framesBytes } : {}),
  };
}

/**
 * Each of `stages` (pipeline order) priced on `board` by the solver's own cost model (evaluatePlan):
 * its nodes' latencies there plus the board's boundary cost of the bytes entering and leaving it.
 * A plan may put a board on one stage only, so the stages go on copies of the board, joined in
 * order, without a memory cap (the plan's memory is the plan's). A string says why they cannot be
 * priced there (a node the board's profile leaves out).
 */
export function stagesOnBoard(problem: Problem, board: string, stages: readonly { readonly nodes: readonly string[] }[]): StagePrediction[] | string {
  const b = problem.boards.find((x) => x.id === board);
  if (b === undefined) return `board "${board}" is not one of the problem's`;
  if (stages.length === 0) return 'the plan has no stages';
  const missing = stages.flatMap((s) => s.nodes).find((n) => b.latencyMs[n] === undefined);
  if (missing !== undefined) return `board "${board}" cannot run node "${missing}" (its profile has no time for it)`;
  const ids = stages.map((_, i) => `${board}#${i}`);
  const { constraints: _constraints, ...rest } = problem;
  const copies: Problem = {
    ...rest,
    boards: ids.map((id) => ({ ...b, id, memoryBytes: null })),
    links: ids.slice(1).map((to, i) => ({ from: ids[i]!, to, bandwidthBytesPerSec: 1e12, latencyMs: 0, powerW: 0 })),
    inputBoard: ids[0]!,
    boardOrder: 'fixed',
  };
  try {
    return evaluatePlan(copies, stages.map((s, i) => ({ board: ids[i]!, nodes: s.nodes }))).stages.map(stagePrediction);
  } catch (e) {
    return (e as Error).message;
  }
}
