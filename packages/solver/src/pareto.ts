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
/**
 * Shares of the time left that a point's first solve and its lexicographic second solve may take: one
 * slow step cannot use up the front's time limit, and the points after it still get solved. The first
 * gets more: on a wide graph its coarsened problem gets half of it, and with less (half of half under
 * load) it fell back on poor plans that ended the front early.
 */
const FIRST_SHARE = 0.75;
const LEX_SHARE = 0.5;
/** Most seconds of the time limit kept in reserve (3 % of it below 10 s). */
const DEADLINE_MARGIN_S = 0.3;

/**
 * Every non-dominated plan for objectives [a, b] (within the problem's constraints), sorted by a.
 * `timeLimitS` bounds the whole front: all steps share one context (graph analysis, cut sets, coarsening,
 * seeds, lower bounds), each step gets a share of the time left, and at the limit the points found so far
 * are returned with `timeLimited: true`.
 */
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
  ctx.labelling = false;
  const baselines = baselinesOf(ctx.original);
  let timeLimited = false;
  const result = (status: ParetoResult['status'], front: Plan[], reason?: string): ParetoResult => ({
    status, objectives: [a, b], front, solveMs: performance.now() - t0, baselines, ...(reason === undefined ? {} : { reason }),
    ...(timeLimited ? { timeLimited } : {}),
  });
  const limitS = options.timeLimitS ?? 120;
  // The whole front within the limit: the deadline keeps a margin for what cannot be interrupted (a
  // programme run or GLPK call under way, the last plan's expansion).
  ctx.deadline = t0 + (limitS - Math.min(DEADLINE_MARGIN_S, limitS * 0.03)) * 1000;
  // One step within its share of the time left (the context's deadline is the front's).
  const step = (spec: Parameters<SolveContext['optimize']>[0], share: number) => ctx.within(ctx.remainingS() * share, () => ctx.optimize(spec));
  const structural = structuralReason(ctx.original);
  if (structural !== null) return result('infeasible', [], structural);
  const base = boundsOf(problem.constraints);
  const front: Plan[] = [];
  let boundB = Number.POSITIVE_INFINITY;
  let proven = true;
  while (front.length < MAX_POINTS) {
    // Another step is needed (the last one proves that nothing lies beyond the last point): without
    // time for it, the front stops here.
    if (ctx.remainingS() <= 0) {
      timeLimited = true;
      proven = false;
      break;
    }
    // Nothing has b below its proven lower bound: the front is complete without a last (infeasible) step.
    const floorB = front.length > 0 ? ctx.chainLowerBound(b) : undefined;
    if (floorB !== undefined && floorB > boundB * (1 + 1e-9) + 1e-12) break;
    const step0 = performance.now();
    const spec = { minimize: a, bounds: withBound(base, b, boundB) };
    let first = await step(spec, FIRST_SHARE);
    // No plan in its share of the time, but time left: this step gets all of it (the next point needs this one).
    if (first.status === 'timeout' && first.reduction.coarseNodes === undefined && ctx.remainingS() > 0) first = await ctx.optimize(spec);
    if (first.status === 'infeasible') break;
    if (first.metrics === undefined) {
      // No plan: out of time, unless the coarsened search (wide graphs) found none within the bounds,
      // which is how its fronts end.
      timeLimited = first.reduction.coarseNodes === undefined || ctx.remainingS() <= 0;
      proven = false;
      break;
    }
    const aStar = objectiveValue(first.metrics, a);
    // Out of time: the first step's plan stands (unproven as a front point).
    const lex = ctx.remainingS() > 0;
    if (!lex) timeLimited = true;
    const second = lex ? await step({ minimize: b, bounds: withBound(withBound(base, b, boundB), a, aStar * (1 + LEX_SLACK) + 1e-12) }, LEX_SHARE) : { ...first, status: 'feasible' as const };
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
    if (boundB < 0) break;
  }
  if (front.length === MAX_POINTS) proven = false;
  if (front.length === 0) {
    if (!proven) return result('timeout', [], `no plan found within ${limitS} s`);
    return result('infeasible', [], 'no plan meets the constraints');
  }
  if (!proven) {
    // Unproven points can be dominated by later ones; keep the non-dominated, sorted by a.
    const va = (p: Plan) => objectiveValue(p as never, a);
    const vb = (p: Plan) => objectiveValue(p as never, b);
    const kept = front.filter((p) => !front.some((q) => q !== p && va(q) <= va(p) && vb(q) <= vb(p) && (va(q) < va(p) || vb(q) < vb(p))));
    kept.sort((p, q) => va(p) - va(q));
    const wide = front.some((p) => p.method !== undefined);
    const why = timeLimited
      ? `partial: the time limit (${limitS} s) ended the front after ${front.length} points; it may miss points between or beyond them${wide ? ', and the graph is too wide for the exact method' : ''}`
      : wide ? 'not proven complete: the graph is too wide for the exact method (points from the coarsened search)' : 'not proven complete: a step was not proven optimal within its share of the time limit';
    return result('feasible', kept, why);
  }
  return result('optimal', front);
}
