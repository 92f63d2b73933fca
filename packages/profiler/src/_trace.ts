// Reading ORT's Chrome-trace profile: kernel durations per model run.
import { ProfileError } from './errors.js';

interface TraceEvent {
  readonly cat?: string;
  readonly name?: string;
  readonly ts?: number;
  readonly dur?: number;
  readonly tid?: number;
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
  readonly spans: readonly { readonly kernel: string; readonly startMs: number; readonly durMs: number; readonly within?: string }[];
}

export interface ParsedTrace {
  readonly runs: readonly TraceRun[];
  /** The same runs' kernel events in order (runs[i] is timeline[i]). */
  readonly timeline: readonly TraceRunTimeline[];
  /** Kernel name -> op type and provider. */
  readonly kernelInfo: ReadonlyMap<string, { readonly op: string; readonly provider: string }>;
  /**
   * Kernels of If/Loop/Scan subgraphs -> the top-level kernel they ran inside, with their op. They
   * are in no run's `kernels` and not in `kernelInfo`: their time is the enclosing kernel's.
   */
  readonly nested: ReadonlyMap<string, { readonly within: string; readonly op: string }>;
}

const CONTROL_FLOW = new Set(['If', 'Loop', 'Scan']);

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
    // A branch's first kernel may start in the same µs as its If, and is written before it.
    .sort((a, b) => a.ts! - b.ts! || Number(CONTROL_FLOW.has(b.args?.op_name ?? '')) - Number(CONTROL_FLOW.has(a.args?.op_name ?? '')));
  const kernelInfo = new Map<string, { op: string; provider: string }>();
  const nested = new Map<string, { within: string; op: string }>();
  // ORT times a subgraph's kernels (an If's branch, a Loop's body) inside the span of the node
  // that runs them, on its thread: summed as kernels of their own they would count twice. Only
  // control-flow kernels contain others (a zero-length kernel may share its start with the next).
  let open: { kernel: string; tid: number | undefined; end: number } | null = null;
  const out: { ms: number; kernels: Map<string, number> }[] = runs.map((r) => ({ ms: r.dur! / 1000, kernels: new Map() }));
  const timeline: { startMs: number; spans: { kernel: string; startMs: number; durMs: number; within?: string }[] }[] = runs.map((r) => ({ startMs: r.ts! / 1000, spans: [] }));
  let ri = 0;
  for (const e of nodes) {
    while (ri < runs.length && e.ts! > runs[ri]!.ts! + runs[ri]!.dur!) ri++;
    const run = runs[ri];
    if (!run || e.ts! < run.ts!) continue;
    const k = e.name!.slice(0, -'_kernel_time'.length);
    const end = e.ts! + (e.dur ?? 0);
    const span = { kernel: k, startMs: e.ts! / 1000, durMs: (e.dur ?? 0) / 1000 };
    // Sequential kernels start at or after the previous one's recorded end (µs are truncated, so
    // a nested end may pass its parent's by 1 µs): starting before it ends is being inside it.
    if (open && open.tid === e.tid && e.ts! < open.end) {
      if (!kernelInfo.has(k) && !nested.has(k)) nested.set(k, { within: open.kernel, op: e.args?.op_name ?? '?' });
      timeline[ri]!.spans.push({ ...span, within: open.kernel });
      continue;
    }
    open = CONTROL_FLOW.has(e.args?.op_name ?? '') ? { kernel: k, tid: e.tid, end } : null;
    if (!kernelInfo.has(k)) kernelInfo.set(k, { op: e.args?.op_name ?? '?', provider: e.args?.provider ?? '?' });
    const m = out[ri]!.kernels;
    m.set(k, (m.get(k) ?? 0) + (e.dur ?? 0) / 1000);
    timeline[ri]!.spans.push(span);
  }
  return { runs: out, timeline, kernelInfo, nested };
}
