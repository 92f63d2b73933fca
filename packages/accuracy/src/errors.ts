// Every failure the accuracy package reports, with a stable code the CLI and tests rely on.

/** Stable error codes of @dnnpart/accuracy. */
export type AccuracyErrorCode =
  | 'ACCURACY_BAD_OPTION'
  | 'ACCURACY_FILE_NOT_FOUND'
  | 'ACCURACY_BAD_TENSOR_FILE'
  | 'ACCURACY_SHAPE_MISMATCH'
  | 'ACCURACY_DTYPE_MISMATCH'
  | 'ACCURACY_BAD_IMAGE'
  | 'ACCURACY_BAD_LABELS'
  | 'ACCURACY_BAD_PLAN'
  | 'ACCURACY_RUN_FAILED';

/** The one error class of this package: a one-line message and a stable `code`. */
export class AccuracyError extends Error {
  readonly code: AccuracyErrorCode;

  constructor(code: AccuracyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AccuracyError';
    this.code = code;
  }
}

/** True when `e` is an AccuracyError (optionally with the given code). */
export function isAccuracyError(e: unknown, code?: AccuracyErrorCode): e is AccuracyError {
  return e instanceof AccuracyError && (code === undefined || e.code === code);
}
