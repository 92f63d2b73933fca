// Exhaustive enumeration of every valid plan of a small problem: the reference the ILP is tested against.

import { compile } from './_compiled.js';
import { assignmentProblem, metricsOf, type Assignment } from './evaluate.js';
import { SolverError } from './errors.js';
import type { PlanMetrics, Problem } from './types.js';

export interface EnumeratedPlan {
  readonly stages: readonly { readonly board: string; readonly nodes: readonly string[] }[];
  readonly metrics: PlanMetrics;
}

/** Every valid plan (constraints ignored) of a problem with at most `maxPlans` candidates; for tests and tiny inputs. */
export function enumeratePlans(problem: Problem, maxPlans = 2_000_000): EnumeratedPlan[] {
  const cp = compile(problem);
  const out: EnumeratedPlan[] = [];
  let visited = 0;
  for (let k = 1; k <= cp.m; k++) {
    const sequences: number[][] = [];
    const pick = (seq: number[], used: boolean[]) => {
      if (seq.length === k) {
        sequences.push([...seq]);
        return;
      }
      const from = problem.boardOrder === 'fixed' && seq.length > 0 ? seq[seq.length - 1]! + 1 : 0;
      for (let b = from; b < cp.m; b++) {
        if (used[b]) continue;
        used[b] = true;
        seq.push(b);
        pick(seq, used);
        seq.pop();
        used[b] = false;
      }
    };
    pick([], new Array<boolean>(cp.m).fill(false));
    // Stage indices monotone along edges, assigned in topological order.
    const stageOf = new Int32Array(cp.n);
    const assign = (i: number) => {
      if (i === cp.n) {
        const hit = new Uint8Array(k);
        for (let v = 0; v < cp.n; v++) hit[stageOf[v]!] = 1;
        if (hit.includes(0)) return;
        for (const boards of sequences) {
          if (++visited > maxPlans) throw new SolverError('SOLVER_TOO_LARGE', `enumeration exceeds ${maxPlans} candidate plans`);
          const a: Assignment = { boards, stageOf: stageOf.slice() };
          if (assignmentProblem(cp, a) !== null) continue;
          const metrics = metricsOf(cp, a);
          out.push({ stages: metrics.stages.map((s) => ({ board: s.board, nodes: s.nodes })), metrics });
        }
        return;
      }
      const v = cp.topo[i]!;
      let lo = 0;
      for (const w of cp.preds[v]!) lo = Math.max(lo, stageOf[w]!);
      for (let s = lo; s < k; s++) {
        stageOf[v] = s;
        assign(i + 1);
      }
    };
    assign(0);
  }
  return out;
}
