// Every failure of the paper-data import, with a stable code the CLI and tests rely on.

/** Stable error codes of @dnnpart/cnnparted. */
export type CnnpartedErrorCode = 'CNNPARTED_NOT_FOUND' | 'CNNPARTED_FORMAT' | 'CNNPARTED_BAD_OPTION';

/** The one error class of this package: a one-line message and a stable `code`. */
export class CnnpartedError extends Error {
  readonly code: CnnpartedErrorCode;

  constructor(code: CnnpartedErrorCode, message: string, options?: { cause?: unknown }) {
    super(message.replace(/\s+/g, ' ').trim(), options);
    this.name = 'CnnpartedError';
    this.code = code;
  }
}

/** True when `e` is a CnnpartedError (optionally with the given code). */
export function isCnnpartedError(e: unknown, code?: CnnpartedErrorCode): e is CnnpartedError {
  return e instanceof CnnpartedError && (code === undefined || e.code === code);
}
