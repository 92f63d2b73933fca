// Every failure the runtime reports, with a stable code. gRPC status codes are mapped to these at
// the edge (the client wrapper), so the coordinator and the CLI never see a raw gRPC error.

/** Stable error codes of @dnnpart/runtime. */
export type RuntimeErrorCode =
  | 'RUNTIME_AGENTS_FILE'
  | 'RUNTIME_BAD_OPTIONS'
  | 'RUNTIME_CREDENTIALS'
  | 'RUNTIME_UNAVAILABLE'
  | 'RUNTIME_UNAUTHENTICATED'
  | 'RUNTIME_DEADLINE'
  | 'RUNTIME_BAD_MESSAGE'
  | 'RUNTIME_TOO_LARGE'
  | 'RUNTIME_HASH_MISMATCH'
  | 'RUNTIME_STAGE_FAILED'
  | 'RUNTIME_STALLED'
  | 'RUNTIME_AGENT_FAILED'
  | 'RUNTIME_PLAN'
  | 'RUNTIME_ENGINE'
  | 'RUNTIME_LISTEN'
  | 'RUNTIME_ABORTED';

/** The one error class of this package: a one-line message and a stable `code`. */
export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode;

  constructor(code: RuntimeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
    this.code = code;
  }
}

/** True when `e` is a RuntimeError (optionally with the given code). */
export function isRuntimeError(e: unknown, code?: RuntimeErrorCode): e is RuntimeError {
  return e instanceof RuntimeError && (code === undefined || e.code === code);
}

/** The message of any thrown value, on one line. */
export function messageOf(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/\s+/g, ' ').trim();
}
