// A board's stage-boundary cost for the join, read from its profile (issue 10).
import { boundaryOf, type Profile } from '@dnnpart/profiler';
import type { StageBoundary } from '@dnnpart/solver';

/**
 * The profile's boundary cost (measured, or estimated for a described board); for a profile without
 * one, the profiler's documented default (DEFAULT_BOUNDARY) and the warning that says so.
 */
export function profileBoundary(profile: Profile): { boundary: StageBoundary; warning?: string } {
  const b = boundaryOf(profile);
  const boundary = { fixedMs: b.fixedMs, inMsPerByte: b.inMsPerByte, outMsPerByte: b.outMsPerByte };
  return b.calibrated ? { boundary } : { boundary, warning: b.warning ?? 'its profile has no stage-boundary calibration; the default is used' };
}
