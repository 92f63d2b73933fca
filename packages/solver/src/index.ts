export type * from './types.js';
export { SolverError, isSolverError, type SolverErrorCode } from './errors.js';
export { checkProblemScale, parseProblem, problemSchema } from './problem.js';
export {
  evaluatePlan, objectiveValue, violations, CONSTRAINT_TOLERANCE, type StageSpec,
} from './evaluate.js';
export { enumeratePlans, type EnumeratedPlan } from './enumerate.js';
export { computeBaselines } from './baselines.js';
export { solve, MAX_CUT_SETS, type SolveOptions } from './solve.js';
export { solvePareto, PARETO_EPSILON } from './pareto.js';
export {
  createGlpkSolver, type Solver, type LinearProgram, type Row, type Term, type EngineOptions, type EngineResult, type EngineStatus,
} from './engine.js';
