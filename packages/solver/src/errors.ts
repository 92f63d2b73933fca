// Every failure the solver reports, with a stable code the CLI and tests rely on.

/** Stable error codes of the solver package. */
export type SolverErrorCode =
  | 'SOLVER_SCHEMA'
  | 'SOLVER_UNKNOWN_ID'
  | 'SOLVER_DUPLICATE_ID'
  | 'SOLVER_NEGATIVE_COST'
  | 'SOLVER_CYCLE'
  | 'SOLVER_BAD_OPTION'
  | 'SOLVER_CONTRADICTORY_CONSTRAINTS'
  | 'SOLVER_BAD_PLAN'
  | 'SOLVER_TOO_LARGE'
  | 'SOLVER_ENGINE';

/** The one error class of this package: a one-line message and a stable `code`. */
export class SolverError extends Error {
  readonly code: SolverErrorCode;

  constructor(code: SolverErrorCode, message: string, options?: { cause?: unknown }) {
    super(message.replace(/\s+/g, ' ').trim(), options);
    this.name = 'SolverError';
    this.code = code;
  }
}

/** True when `e` is a SolverError (optionally with the given code). */
export function isSolverError(e: unknown, code?: SolverErrorCode): e is SolverError {
  return e instanceof SolverError && (code === undefined || e.code === code);
}
