// Chrome trace event JSON (opens in Perfetto and chrome://tracing): spans on named tracks.
import { ProfileError } from './errors.js';
import { whyUnwritable, writeFileAtomic } from './_atomic.js';

/** One span: a complete event ("ph": "X") on a track (a thread row) of a process (a group of rows). */
export interface ChromeTraceSpan {
  readonly name: string;
  /** The row it is drawn on, e.g. "stage 0 (board pi5)"; rows appear in order of first use. */
  readonly track: string;
  /** Group of rows; default "dnnpart". */
  readonly process?: string;
  readonly startMs: number;
  readonly durMs: number;
  /** Category (filterable in the viewer), e.g. "node", "run". */
  readonly cat?: string;
  readonly args?: Readonly<Record<string, unknown>>;
}

export interface ChromeTrace {
  readonly traceEvents: readonly Record<string, unknown>[];
  readonly displayTimeUnit: 'ms';
}

/** The trace object for `spans` (µs timestamps, one pid per process and one tid per track, named by metadata events). */
export function chromeTrace(spans: readonly ChromeTraceSpan[]): ChromeTrace {
  const pids = new Map<string, number>();
  const tids = new Map<string, number>();
  const meta: Record<string, unknown>[] = [];
  const events: Record<string, unknown>[] = [];
  for (const [i, s] of spans.entries()) {
    if (typeof s.name !== 'string' || typeof s.track !== 'string' || !Number.isFinite(s.startMs) || !Number.isFinite(s.durMs) || s.durMs < 0) {
      throw new ProfileError('PROFILE_BAD_OPTIONS', `trace span ${i} (${JSON.stringify(s.name)}) needs a name, a track, a finite start and a duration >= 0`);
    }
    const proc = s.process ?? 'dnnpart';
    let pid = pids.get(proc);
    if (pid === undefined) {
      pids.set(proc, (pid = pids.size + 1));
      meta.push({ ph: 'M', name: 'process_name', pid, tid: 0, args: { name: proc } }, { ph: 'M', name: 'process_sort_index', pid, tid: 0, args: { sort_index: pid } });
    }
    const key = `${pid}\u0000${s.track}`;
    let tid = tids.get(key);
    if (tid === undefined) {
      tids.set(key, (tid = tids.size + 1));
      meta.push({ ph: 'M', name: 'thread_name', pid, tid, args: { name: s.track } }, { ph: 'M', name: 'thread_sort_index', pid, tid, args: { sort_index: tid } });
    }
    // Microseconds with ns resolution: the viewers take fractional µs.
    events.push({ name: s.name, cat: s.cat ?? 'span', ph: 'X', ts: round3(s.startMs * 1000), dur: round3(s.durMs * 1000), pid, tid, ...(s.args ? { args: s.args } : {}) });
  }
  return { traceEvents: [...meta, ...events], displayTimeUnit: 'ms' };
}

/** Write `spans` as Chrome trace event JSON to `path`, atomically; PROFILE_OUTPUT_UNWRITABLE names the path. */
export async function writeChromeTrace(spans: readonly ChromeTraceSpan[], path: string, signal?: AbortSignal): Promise<void> {
  const trace = chromeTrace(spans);
  const why = await whyUnwritable(path);
  if (why) throw new ProfileError('PROFILE_OUTPUT_UNWRITABLE', `${path}: cannot write the trace: ${why}`);
  try {
    await writeFileAtomic(path, `${JSON.stringify(trace)}\n`, signal);
  } catch (e) {
    if (signal?.aborted) throw new ProfileError('PROFILE_INTERRUPTED', `${path}: interrupted before the trace was written`, { cause: e });
    throw new ProfileError('PROFILE_OUTPUT_UNWRITABLE', `${path}: cannot write the trace (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
