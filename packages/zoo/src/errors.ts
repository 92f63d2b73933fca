// Every failure the zoo reports, with a stable code the CLI and tests rely on.

/** Stable error codes of @dnnpart/zoo. */
export type ZooErrorCode =
  | 'ZOO_UNKNOWN_NETWORK'
  | 'ZOO_BAD_INPUT_SHAPE'
  | 'ZOO_BAD_SEED';

/** The one error class of this package: a one-line message and a stable `code`. */
export class ZooError extends Error {
  readonly code: ZooErrorCode;

  constructor(code: ZooErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ZooError';
    this.code = code;
  }
}

/** True when `e` is a ZooError (optionally with the given code). */
export function isZooError(e: unknown, code?: ZooErrorCode): e is ZooError {
  return e instanceof ZooError && (code === undefined || e.code === code);
}
