// One clock for every timestamp the runtime records: milliseconds since the epoch, sub-ms resolution.

/** Now, in ms since the epoch (fractional). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
