// Every failure the profiler reports, with a stable code the CLI and tests rely on.

/** Stable error codes of @dnnpart/profiler. */
export type ProfileErrorCode =
  | 'PROFILE_MODEL_LOAD'
  | 'PROFILE_MODEL_RUN'
  | 'PROFILE_NO_KERNEL'
  | 'PROFILE_BAD_BOARD_NAME'
  | 'PROFILE_BAD_OPTIONS'
  | 'PROFILE_OUTPUT_UNWRITABLE'
  | 'PROFILE_INTERRUPTED'
  | 'PROFILE_FILE_NOT_FOUND'
  | 'PROFILE_NOT_JSON'
  | 'PROFILE_SCHEMA'
  | 'PROFILE_MODEL_MISMATCH'
  | 'PROFILE_BOARD_DESCRIPTION'
  | 'PROFILE_LINK_DESCRIPTION'
  | 'PROFILE_SENSOR'
  | 'PROFILE_TRACE';

/** The one error class of this package: a one-line message and a stable `code`. */
export class ProfileError extends Error {
  readonly code: ProfileErrorCode;

  constructor(code: ProfileErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProfileError';
    this.code = code;
  }
}

/** True when `e` is a ProfileError (optionally with the given code). */
export function isProfileError(e: unknown, code?: ProfileErrorCode): e is ProfileError {
  return e instanceof ProfileError && (code === undefined || e.code === code);
}

/** The message of any thrown value, on one line. */
export function messageOf(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/\s+/g, ' ').trim();
}
