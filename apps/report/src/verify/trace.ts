// Chrome trace event JSON of a verify run (opens in Perfetto and chrome://tracing): one track per
// stage, spans named by stage (and by ONNX node for the profiled frame). Same span shape as
// @dnnpart/profiler's writeChromeTrace, which replaces this file once the profiler exports it.
import { writeFile } from 'node:fs/promises';
import { VerifyError } from './errors.js';
import type { Span } from './measure.js';

/** Trace events for `spans`: µs timestamps from the first span, one pid per process and one tid per track. */
export function chromeTraceOf(spans: readonly Span[]): { traceEvents: Record<string, unknown>[]; displayTimeUnit: 'ms' } {
  const t0 = spans.reduce((a, s) => Math.min(a, s.startMs), Number.POSITIVE_INFINITY);
  const pids = new Map<string, number>();
  const tids = new Map<string, number>();
  const meta: Record<string, unknown>[] = [];
  const events: Record<string, unknown>[] = [];
  for (const s of spans) {
    const proc = s.process ?? 'dnnpart';
    let pid = pids.get(proc);
    if (pid === undefined) {
      pids.set(proc, (pid = pids.size + 1));
      meta.push({ ph: 'M', name: 'process_name', pid, tid: 0, args: { name: proc } });
    }
    const key = `${pid}\u0000${s.track}`;
    let tid = tids.get(key);
    if (tid === undefined) {
      tids.set(key, (tid = tids.size + 1));
      meta.push({ ph: 'M', name: 'thread_name', pid, tid, args: { name: s.track } }, { ph: 'M', name: 'thread_sort_index', pid, tid, args: { sort_index: tid } });
    }
    const us = (x: number) => Math.round(x * 1e6) / 1e3;
    events.push({ name: s.name, cat: s.cat ?? 'span', ph: 'X', ts: us(s.startMs - t0), dur: us(s.durMs), pid, tid, ...(s.args ? { args: s.args } : {}) });
  }
  return { traceEvents: [...meta, ...events], displayTimeUnit: 'ms' };
}

/** Write the trace to `file` (named by the user as `given`). */
export async function writeTrace(spans: readonly Span[], file: string, given: string): Promise<void> {
  try {
    await writeFile(file, `${JSON.stringify(chromeTraceOf(spans))}\n`);
  } catch (e) {
    throw new VerifyError('VERIFY_BAD_OPTIONS', `--trace ${given}: cannot write ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}); choose a writable path`);
  }
}
