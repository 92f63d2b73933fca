// Mistakes on the command line: each has a stable code, and main() turns it into exit 2.

export type UsageCode =
  | 'CLI_UNKNOWN_COMMAND'
  | 'CLI_UNKNOWN_FLAG'
  | 'CLI_MISSING_VALUE'
  | 'CLI_BAD_VALUE'
  | 'CLI_MISSING_ARGUMENT'
  | 'CLI_TOO_MANY_ARGUMENTS'
  | 'CLI_CONFLICTING_FLAGS'
  | 'CLI_FILE_EXISTS'
  | 'CLI_FILE_NOT_FOUND'
  | 'CLI_ABORTED';

/** A user's mistake on the command line (exit 2), or an interruption (exit 130). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    readonly code: UsageCode,
    message: string,
  ) {
    super(message);
  }
}
