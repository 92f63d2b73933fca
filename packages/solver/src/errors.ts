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
  /** The problem's field the error is about (`boards[1].boundary.outMsPerByte`), when there is one. */
  readonly field?: string;
  /** What is wrong with that field, without the source and field the message starts with. */
  readonly detail?: string;

  constructor(code: SolverErrorCode, message: string, options?: { cause?: unknown; field?: string; detail?: string }) {
    super(message.replace(/\s+/g, ' ').trim(), options);
    this.name = 'SolverError';
    this.code = code;
    if (options?.field !== undefined) this.field = options.field;
    if (options?.detail !== undefined) this.detail = options.detail.replace(/\s+/g, ' ').trim();
  }
}

/** True when `e` is a SolverError (optionally with the given code). */
export function isSolverError(e: unknown, code?: SolverErrorCode): e is SolverError {
  return e instanceof SolverError && (code === undefined || e.code === code);
}
