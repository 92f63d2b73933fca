// The ILP engine behind a small interface: the model is plain data, GLPK (glpk.js) is one adapter.

import GLPK from 'glpk.js/node';
import { SolverError } from './errors.js';

/** One linear term: coefficient times a named column. */
export interface Term {
  readonly v: string;
  readonly c: number;
}

/** A row: lo <= sum(terms) <= hi (either side may be infinite). */
export interface Row {
  readonly name: string;
  readonly terms: readonly Term[];
  readonly lo: number;
  readonly hi: number;
}

/** A minimisation MILP over named columns (default bounds [0, +inf)). */
export interface LinearProgram {
  readonly name: string;
  readonly objective: readonly Term[];
  readonly rows: readonly Row[];
  readonly binaries: readonly string[];
  readonly integers?: readonly string[];
  /** Column bounds other than [0, +inf). */
  readonly bounds?: ReadonlyMap<string, { lo: number; hi: number }>;
}

export type EngineStatus = 'optimal' | 'feasible' | 'infeasible' | 'unbounded' | 'no-solution';

export interface EngineResult {
  readonly status: EngineStatus;
  /** Objective value of the returned solution (NaN without one). */
  readonly objective: number;
  readonly values: Readonly<Record<string, number>>;
  readonly ms: number;
  /** True when the engine stopped at its time limit. */
  readonly timedOut: boolean;
}

export interface EngineOptions {
  readonly timeLimitS?: number;
  /** Solve the LP relaxation only (integrality dropped). */
  readonly relax?: boolean;
}

/** An ILP engine: solves a LinearProgram to proven optimality, or says why not. */
export interface Solver {
  readonly name: string;
  solve(lp: LinearProgram, options?: EngineOptions): Promise<EngineResult>;
}

type GlpkInstance = Awaited<ReturnType<typeof GLPK>>;
let glpkPromise: Promise<GlpkInstance> | undefined;

/** The default engine: GLPK 5 compiled to WebAssembly (glpk.js), branch and cut with presolve, gap 0. */
export function createGlpkSolver(): Solver {
  return {
    name: 'glpk',
    async solve(lp, options = {}) {
      glpkPromise ??= GLPK();
      const glpk = await glpkPromise;
      const bnd = (lo: number, hi: number) => {
        const hasLo = Number.isFinite(lo);
        const hasHi = Number.isFinite(hi);
        if (hasLo && hasHi) return lo === hi ? { type: glpk.GLP_FX, lb: lo, ub: hi } : { type: glpk.GLP_DB, lb: lo, ub: hi };
        if (hasLo) return { type: glpk.GLP_LO, lb: lo, ub: 0 };
        if (hasHi) return { type: glpk.GLP_UP, lb: 0, ub: hi };
        return { type: glpk.GLP_FR, lb: 0, ub: 0 };
      };
      const model = {
        name: lp.name,
        objective: { direction: glpk.GLP_MIN, name: 'obj', vars: lp.objective.map((t) => ({ name: t.v, coef: t.c })) },
        subjectTo: lp.rows.map((r) => ({ name: r.name, vars: r.terms.map((t) => ({ name: t.v, coef: t.c })), bnds: bnd(r.lo, r.hi) })),
        bounds: [...(lp.bounds ?? new Map()).entries()].map(([name, b]) => ({ name, ...bnd(b.lo, b.hi) })),
        ...(options.relax === true ? {} : { binaries: [...lp.binaries], generals: [...(lp.integers ?? [])] }),
      };
      const limit = options.timeLimitS;
      const t0 = performance.now();
      let res: ReturnType<GlpkInstance['solve']>;
      try {
        res = glpk.solve(model, {
          msglev: glpk.GLP_MSG_OFF,
          presol: true,
          ...(limit !== undefined && Number.isFinite(limit) ? { tmlim: Math.max(limit, 0.001) } : {}),
        });
      } catch (e) {
        throw new SolverError('SOLVER_ENGINE', `GLPK failed on model "${lp.name}": ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      const ms = performance.now() - t0;
      const timedOut = limit !== undefined && ms >= limit * 1000 * 0.98;
      const st = res.result.status;
      // GLPK: 5 optimal, 2 feasible (stopped early), 4 no feasible solution, 6 unbounded, 1 undefined.
      const status: EngineStatus =
        st === glpk.GLP_OPT ? 'optimal'
          : st === glpk.GLP_FEAS ? 'feasible'
            : st === glpk.GLP_NOFEAS ? 'infeasible'
              : st === glpk.GLP_UNBND ? 'unbounded'
                : 'no-solution';
      const hasSolution = status === 'optimal' || status === 'feasible';
      return { status, objective: hasSolution ? res.result.z : Number.NaN, values: res.result.vars, ms, timedOut };
    },
  };
}
