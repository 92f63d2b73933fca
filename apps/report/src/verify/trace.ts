// The Chrome trace of a verify run (opens in Perfetto and chrome://tracing): one track per stage,
// spans named by stage, and by ONNX node for the profiled frame; written by @dnnpart/profiler.
import { writeChromeTrace } from '@dnnpart/profiler';
import type { Span } from './measure.js';

/** Write the trace of `spans` to `file`; a path that cannot be written is a ProfileError naming it. */
export async function writeTrace(spans: readonly Span[], file: string, signal?: AbortSignal): Promise<void> {
  await writeChromeTrace(spans, file, signal);
}
