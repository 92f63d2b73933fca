// The solve for graphs whose cut sets exceed the exact method's budget: candidates from the coarsened
// problem (solved exactly) and from the prefix-cut programme, each refined on the full graph, the best
// one measured against a lower bound of the original problem (its gap, or a proof when they meet).

import type { Compiled } from './_compiled.js';
import type { MetricBounds } from './_model.js';
import { depthFirstOrder, refinePlan } from './_refine.js';
import { assignmentProblem, metricsOf, objectiveValue, type Assignment } from './evaluate.js';
import type { Objective, PlanMetrics, SolveMethod } from './types.js';

/** A method whose plan local refinement improved. */
type RefinedMethod = 'coarsened+refined' | 'prefix-dp+refined' | 'bound-chain+refined' | 'labelling+refined';

const refined = (m: WideCandidate['method']): RefinedMethod => (m.endsWith('+refined') ? m as RefinedMethod : `${m}+refined` as RefinedMethod);

export interface WideCandidate {
  readonly a: Assignment;
  readonly method: 'coarsened' | 'prefix-dp' | 'bound-chain' | 'labelling' | RefinedMethod;
}

export interface WideInput {
  readonly cp: Compiled;
  readonly minimize: Objective;
  readonly bounds: MetricBounds;
  /** performance.now() time by which refinement must stop. */
  readonly deadline: number;
  readonly candidates: readonly WideCandidate[];
  /** A lower bound on the minimised metric over every plan of the original problem. */
  readonly lowerBound: number;
}

export interface WideResult {
  readonly status: 'optimal' | 'feasible' | 'timeout' | 'infeasible';
  readonly assignment?: Assignment;
  readonly metrics?: PlanMetrics;
  readonly gap?: number;
  readonly method?: SolveMethod;
}

function withinBounds(m: PlanMetrics, b: MetricBounds): boolean {
  const ok = (v: number, bound: number) => v <= bound * (1 + 1e-9) + 1e-12;
  return ok(objectiveValue(m, 'throughput'), b.periodMs) && ok(m.latencyMs, b.latencyMs) && ok(m.energyMj, b.energyMj);
}

/** Relative gap of a value above a lower bound (0 when they meet). */
export function gapOf(value: number, lowerBound: number): number {
  if (value <= 0) return 0;
  return Math.max(0, (value - lowerBound) / value);
}

/** Refine every candidate within the time left, keep the best plan within the bounds. */
export function pickRefined(input: WideInput): WideResult {
  const { cp, minimize, bounds } = input;
  const bound = minimize === 'throughput' ? bounds.periodMs : minimize === 'latency' ? bounds.latencyMs : bounds.energyMj;
  if (input.lowerBound > bound * (1 + 1e-9) + 1e-12) return { status: 'infeasible' };
  const valid = input.candidates.filter((c) => assignmentProblem(cp, c.a) === null);
  const scored = valid.map((c) => ({ ...c, m: metricsOf(cp, c.a) })).filter((c) => withinBounds(c.m, bounds));
  // Best first, so the best start gets the most refinement time; duplicates of a plan add nothing.
  scored.sort((x, y) => objectiveValue(x.m, minimize) - objectiveValue(y.m, minimize));
  const seen = new Set<string>();
  const starts = scored.filter((c) => {
    const key = `${c.a.boards.join(',')}|${c.a.stageOf.join(',')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  }).slice(0, 4);
  if (starts.length === 0) return { status: 'timeout' };
  const orders = [cp.topo, depthFirstOrder(cp)];
  let best: { a: Assignment; m: PlanMetrics; method: SolveMethod } | undefined;
  starts.forEach((c, i) => {
    const left = input.deadline - performance.now();
    const share = left / (starts.length - i);
    const r = share > 0 ? refinePlan(cp, c.a, minimize, bounds, performance.now() + share, orders) : c.a;
    const m = r === c.a ? c.m : metricsOf(cp, r);
    const method: SolveMethod = r === c.a ? c.method : refined(c.method);
    if (best === undefined || objectiveValue(m, minimize) < objectiveValue(best.m, minimize)) best = { a: r, m, method };
  });
  const b = best!;
  const value = objectiveValue(b.m, minimize);
  const proven = value <= input.lowerBound * (1 + 1e-9) + 1e-12;
  return {
    status: proven ? 'optimal' : 'feasible', assignment: b.a, metrics: b.m, method: b.method,
    ...(proven ? {} : { gap: gapOf(value, input.lowerBound) }),
  };
}
