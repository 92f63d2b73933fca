// A board's stage-boundary cost for the join, read from its profile (issue 10).
import type { Profile } from '@dnnpart/profiler';
import type { StageBoundary } from '@dnnpart/solver';

/**
 * For profiles without a calibration: the profiler's documented default (DEFAULT_BOUNDARY in
 * @dnnpart/profiler, measured on the project's 2-core x86 machine at 1 thread, rounded up).
 * Kept here until the profiler exports boundaryOf; then this file defers to it.
 */
export const FALLBACK_BOUNDARY: StageBoundary = { fixedMs: 0.05, inMsPerByte: 0, outMsPerByte: 2e-7 };

/** The profile's boundary cost, and whether it was measured or estimated (else the default is used). */
export function profileBoundary(profile: Profile): { boundary: StageBoundary; calibrated: boolean } {
  // Read as plain data: older profiles (dnnpart/profile@1) have no such field.
  const b = (profile as { boundary?: { fixedMs?: unknown; inMsPerByte?: unknown; outMsPerByte?: unknown; method?: unknown } }).boundary;
  if (b && typeof b.fixedMs === 'number' && typeof b.inMsPerByte === 'number' && typeof b.outMsPerByte === 'number') {
    return { boundary: { fixedMs: b.fixedMs, inMsPerByte: b.inMsPerByte, outMsPerByte: b.outMsPerByte }, calibrated: b.method !== 'default' };
  }
  return { boundary: FALLBACK_BOUNDARY, calibrated: false };
}
