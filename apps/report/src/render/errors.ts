// Failures while writing a report; each has a stable code the CLI maps to exit 2.

export type RenderCode =
  | 'RENDER_NO_SYSTEMS'
  | 'RENDER_OUT_DIR'
  | 'RENDER_CHART_FAILED'
  | 'RENDER_NETWORK_BLOCKED';

/** A report that cannot be written: empty data, an unwritable directory, or a chart that failed. */
export class RenderError extends Error {
  override readonly name = 'RenderError';
  constructor(
    readonly code: RenderCode,
    message: string,
  ) {
    super(message);
  }
}
