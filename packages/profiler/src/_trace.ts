// Reading ORT's Chrome-trace profile: kernel durations per model run.
import { ProfileError } from './errors.js';

interface TraceEvent {
  readonly cat?: string;
  readonly name?: string;
  readonly ts?: number;
  readonly dur?: number;
  readonly args?: { readonly op_name?: string; readonly provider?: string };
}

export interface TraceRun {
  /** model_run duration in ms. */
  readonly ms: number;
  /** Kernel name -> summed duration in ms within this run. */
  readonly kernels: ReadonlyMap<string, number>;
}

/** One run on the trace's clock, for timelines. */
export interface TraceRunTimeline {
  /** model_run start in ms. */
  readonly startMs: number;
  /** Each kernel event of the run in order. */
  readonly spans: readonly { readonly kernel: string; readonly startMs: number; readonly durMs: number }[];
}

export interface ParsedTrace {
  readonly runs: readonly TraceRun[];
  /** The same runs' kernel events in order (runs[i] is timeline[i]). */
  readonly timeline: readonly TraceRunTimeline[];
  /** Kernel name -> op type and provider. */
  readonly kernelInfo: ReadonlyMap<string, { readonly op: string; readonly provider: string }>;
}

/** Split a trace into model runs and sum each kernel's time within each run (durations µs -> ms). */
export function parseTrace(json: unknown, file: string): ParsedTrace {
  // ORT writes a bare event array; the Chrome format also allows { traceEvents: [...] }.
  const list = Array.isArray(json) ? json : (json as { traceEvents?: unknown } | null)?.traceEvents;
  if (!Array.isArray(list)) throw new ProfileError('PROFILE_TRACE', `${file}: ORT trace is not a JSON array of events`);
  const events = list as TraceEvent[];
  const runs = events
    .filter((e) => e.cat === 'Session' && e.name === 'model_run' && typeof e.ts === 'number' && typeof e.dur === 'number')
    .sort((a, b) => a.ts! - b.ts!);
  const nodes = events
    .filter((e) => e.cat === 'Node' && typeof e.name === 'string' && e.name.endsWith('_kernel_time') && typeof e.ts === 'number')
    .sort((a, b) => a.ts! - b.ts!);
  const kernelInfo = new Map<string, { op: string; provider: string }>();
  const out: { ms: number; kernels: Map<string, number> }[] = runs.map((r) => ({ ms: r.dur! / 1000, kernels: new Map() }));
  const timeline: { startMs: number; spans: { kernel: string; startMs: number; durMs: number }[] }[] = runs.map((r) => ({ startMs: r.ts! / 1000, spans: [] }));
  let ri = 0;
  for (const e of nodes) {
    while (ri < runs.length && e.ts! > runs[ri]!.ts! + runs[ri]!.dur!) ri++;
    const run = runs[ri];
    if (!run || e.ts! < run.ts!) continue;
    const k = e.name!.slice(0, -'_kernel_time'.length);
    if (!kernelInfo.has(k)) kernelInfo.set(k, { op: e.args?.op_name ?? '?', provider: e.args?.provider ?? '?' });
    const m = out[ri]!.kernels;
    m.set(k, (m.get(k) ?? 0) + (e.dur ?? 0) / 1000);
    timeline[ri]!.spans.push({ kernel: k, startMs: e.ts! / 1000, durMs: (e.dur ?? 0) / 1000 });
  }
  return { runs: out, timeline, kernelInfo };
}
