// Errors of `dnnpart verify`'s timing: each has a stable code, and main() turns it into exit 2.

export type VerifyErrorCode =
  /** The run would take longer than the limit the user set. */
  | 'VERIFY_TOO_SLOW'
  /** A stage model failed to load or run in onnxruntime. */
  | 'VERIFY_RUN_FAILED'
  | 'VERIFY_BAD_OPTIONS'
  | 'VERIFY_INTERRUPTED';

export class VerifyError extends Error {
  override readonly name = 'VerifyError';
  constructor(
    readonly code: VerifyErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
