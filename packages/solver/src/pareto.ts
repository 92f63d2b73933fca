// Exact Pareto fronts of two objectives by the epsilon-constraint method with lexicographic steps.

import { baselinesOf } from './baselines.js';
import { objectiveValue } from './evaluate.js';
import { SolverError } from './errors.js';
import { parseProblem } from './problem.js';
import { boundsOf, checkOptions, LEX_SLACK, SolveContext, structuralReason, withBound, type SolveOptions } from './solve.js';
import type { Objective, ParetoResult, Plan, Problem } from './types.js';

/**
 * Two values of the stepped objective closer than this (relative) count as equal: after each point the
 * next must be better by at least this much (lexicographic steps allow the first objective LEX_SLACK).
 */
export const PARETO_EPSILON = 1e-6;
/** Safety stop; real fronts here have tens of points. */
const MAX_POINTS = 500;

/** Every non-dominated plan for objectives [a, b] (within the problem's constraints), sorted by a. */
export async function solvePareto(
  problem: Problem,
  objectives: readonly [Objective, Objective],
  options: Omit<SolveOptions, 'objective'> = {},
): Promise<ParetoResult> {
  checkOptions(options);
  const [a, b] = objectives;
  for (const o of [a, b]) checkOptions({ objective: o });
  if (a === b) throw new SolverError('SOLVER_BAD_OPTION', `pareto: needs two different objectives, got ${a},${b}`);
  const t0 = performance.now();
  // Problems built in code (not read through parseProblem) are checked here too: a bad one is an error, never a wrong plan.
  const ctx = new SolveContext(parseProblem(problem), options);
  const baselines = baselinesOf(ctx.original);
  const result = (status: ParetoResult['status'], front: Plan[], reason?: string): ParetoResult => ({
    status, objectives: [a, b], front, solveMs: performance.now() - t0, baselines, ...(reason === undefined ? {} : { reason }),
  });
  const structural = structuralReason(ctx.original);
  if (structural !== null) return result('infeasible', [], structural);
  const base = boundsOf(problem.constraints);
  const front: Plan[] = [];
  let boundB = Number.POSITIVE_INFINITY;
  let proven = true;
  while (front.length < MAX_POINTS) {
    const step0 = performance.now();
    const first = await ctx.optimize({ minimize: a, bounds: withBound(base, b, boundB) });
    if (first.status === 'infeasible') break;
    if (first.metrics === undefined) {
      proven = false;
      break;
    }
    const aStar = objectiveValue(first.metrics, a);
    // Out of time: the first step's plan stands (unproven as a front point).
    const second = ctx.remainingS() > 0 ? await ctx.optimize({ minimize: b, bounds: withBound(withBound(base, b, boundB), a, aStar * (1 + LEX_SLACK) + 1e-12) }) : { ...first, status: 'feasible' as const };
    const pick = second.metrics !== undefined ? second : first;
    if (first.status !== 'optimal' || second.status !== 'optimal') proven = false;
    front.push({
      status: pick.status === 'optimal' ? 'optimal' : 'feasible',
      ...(pick.method === undefined ? {} : { method: pick.method }),
      objective: a,
      solveMs: performance.now() - step0,
      ...pick.metrics!,
      baselines: [],
      reduction: pick.reduction,
      engine: ctx.engine.name,
    });
    const bStar = objectiveValue(pick.metrics!, b);
    boundB = bStar * (1 - PARETO_EPSILON) - 1e-12;
    ctx.progress(`pareto point ${front.length}: ${a} ${aStar}, ${b} ${bStar}`);
    // Unproven steps (the coarsened search, or a stopped ILP) keep going while time is left: each
    // step still improves b, so the loop ends; points it finds dominated are dropped below.
    if (ctx.remainingS() <= 0) break;
    if (boundB < 0) break;
  }
  if (front.length === 0) {
    if (!proven) return result('timeout', [], `no plan found within ${options.timeLimitS ?? 120} s`);
    return result('infeasible', [], 'no plan meets the constraints');
  }
  if (!proven) {
    // Unproven points can be dominated by later ones; keep the non-dominated, sorted by a.
    const va = (p: Plan) => objectiveValue(p as never, a);
    const vb = (p: Plan) => objectiveValue(p as never, b);
    const kept = front.filter((p) => !front.some((q) => q !== p && va(q) <= va(p) && vb(q) <= vb(p) && (va(q) < va(p) || vb(q) < vb(p))));
    kept.sort((p, q) => va(p) - va(q));
    return result('feasible', kept, 'not proven complete: stopped at the time limit, or the graph is too wide for the exact method');
  }
  return result('optimal', front);
}
