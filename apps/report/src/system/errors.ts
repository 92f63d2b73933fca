// Failures in system files and in joining a model with its profiles: stable codes, one line,
// naming the file, the line and the field (`system.yaml:12: boards[1].profile: ...`).

/** Stable error codes of system files and problem building. */
export type SystemErrorCode =
  | 'SYSTEM_FILE_NOT_FOUND'
  | 'SYSTEM_YAML_SYNTAX'
  | 'SYSTEM_SCHEMA'
  | 'SYSTEM_DUPLICATE_ID'
  | 'SYSTEM_UNKNOWN_BOARD'
  | 'SYSTEM_REF_NOT_FOUND'
  | 'SYSTEM_UNKNOWN_ZOO'
  | 'SYSTEM_PROFILE_MODEL_MISMATCH'
  | 'SYSTEM_PROFILE_NODE_UNKNOWN'
  | 'SYSTEM_PROFILE_NODE_MISSING'
  | 'SYSTEM_NO_COSTS'
  | 'SYSTEM_VALUE_TOO_LARGE'
  | 'SYSTEM_NO_CLASS_SCORES';

/** The one error class of system files: a one-line message and a stable `code`. */
export class SystemError extends Error {
  readonly code: SystemErrorCode;

  constructor(code: SystemErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SystemError';
    this.code = code;
  }
}
