// A run as a Chrome trace (chrome://tracing, Perfetto): one track (process) per agent, with a
// receive, compute and send span per frame.

/** One span in ms from the run's start. */
export interface TraceSpan {
  readonly track: string;
  readonly name: string;
  readonly frame: number;
  readonly start: number;
  readonly end: number;
}

interface TraceEvent {
  readonly name: string;
  readonly ph: 'X' | 'M';
  readonly pid: number;
  readonly tid: number;
  readonly ts?: number;
  readonly dur?: number;
  readonly cat?: string;
  readonly args?: Record<string, unknown>;
}

/** Trace Event Format JSON (`traceEvents`, microseconds). */
export function chromeTrace(spans: readonly TraceSpan[], tracks: readonly string[]): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms' } {
  const pid = new Map(tracks.map((t, i) => [t, i + 1]));
  const events: TraceEvent[] = tracks.map((t, i) => ({ name: 'process_name', ph: 'M', pid: i + 1, tid: 0, args: { name: t } }));
  // Receiving the next frame overlaps computing this one: one thread row per kind of span.
  const kinds = ['receive', 'compute', 'send'];
  for (const [i] of tracks.entries()) for (const [tid, k] of kinds.entries()) events.push({ name: 'thread_name', ph: 'M', pid: i + 1, tid, args: { name: k } });
  for (const s of spans) {
    const p = pid.get(s.track) ?? 0;
    const tid = Math.max(0, kinds.findIndex((k) => s.name.startsWith(k)));
    events.push({ name: s.name, cat: 'frame', ph: 'X', pid: p, tid, ts: Math.round(s.start * 1000), dur: Math.max(1, Math.round((s.end - s.start) * 1000)), args: { frame: s.frame } });
  }
  return { traceEvents: events, displayTimeUnit: 'ms' };
}
