// onnxruntime-node sessions the way the profiler and the boundary calibration run them.
import * as ort from 'onnxruntime-node';
import { atUsableLevel, runtimeLoadFailure, runtimeMessage, type LevelChoice } from '@dnnpart/onnx-graph';
import { ProfileError } from './errors.js';
import type { GraphOptimizationLevel } from './types.js';

/** cpu EP, sequential, `threads` intra-op threads, no spinning. */
export function sessionOptions(threads: number, level: GraphOptimizationLevel): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: level,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Fatal only: a failed run's error reaches the user in our own one-line message, not as ORT's log line too.
    logSeverityLevel: 4,
    // Two sessions alternate their runs (measure.ts). With spinning on, the idle session's intra-op
    // threads keep spinning through the other's run: measured here, ResNet-18 at 2 threads took
    // 54.6 ms per run instead of 23.7 ms. Without spinning both sessions run at full speed.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
    // No memory pattern: with it, onnxruntime keeps a planned block for a run's activations on top of
    // what its arena grew to on the runs before (bench/results/mem-pattern.md: ISNet's second stage at
    // 1024x1024 held 1.87 GB after three runs with it, 1.24 GB without, at the same speed; PaddleOCR's
    // detector 182 -> 130 MiB; run times within this machine's noise, a few per cent slower on models
    // of 0.1 ms). A board's memory is the hard limit a plan has to keep.
    enableMemPattern: false,
  };
}

/**
 * Create a session from a model's bytes or its file; ORT's load failures become PROFILE_NO_KERNEL or
 * PROFILE_MODEL_LOAD naming `label`. From a file, onnxruntime reads the model itself: a session made
 * from bytes held in JavaScript kept about 1.5x a ResNet-18 stage's weights more resident here.
 * With `choice`, the session is made at its level instead of the options' one, lowered when
 * onnxruntime refuses the graph its optimiser makes (atUsableLevel; the caller says so).
 */
export async function createSession(
  model: Uint8Array | string, opts: ort.InferenceSession.SessionOptions, label: string, choice?: LevelChoice,
): Promise<ort.InferenceSession> {
  const create = (o: ort.InferenceSession.SessionOptions) => (typeof model === 'string' ? ort.InferenceSession.create(model, o) : ort.InferenceSession.create(model, o));
  try {
    return choice ? await atUsableLevel(choice, (level) => create({ ...opts, graphOptimizationLevel: level })) : await create(opts);
  } catch (e) {
    const why = runtimeLoadFailure(e);
    throw new ProfileError(why.kernel ? 'PROFILE_NO_KERNEL' : 'PROFILE_MODEL_LOAD', `${label}: ${why.message}`, { cause: e });
  }
}

/**
 * One run, outputs read back; its wall time in ms. With `fetches`, the outputs go into those
 * tensors (see preallocatedFetches).
 */
export async function timedRun(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, label: string, fetches?: Record<string, ort.Tensor> | null): Promise<number> {
  return (await timedRunOutputs(session, feeds, label, fetches)).ms;
}

/** timedRun, with the outputs (for a next stage to take). */
export async function timedRunOutputs(
  session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, label: string, fetches?: Record<string, ort.Tensor> | null,
): Promise<{ ms: number; outputs: ort.InferenceSession.OnnxValueMapType }> {
  const t0 = performance.now();
  let out: ort.InferenceSession.OnnxValueMapType;
  try {
    out = fetches ? await session.run(feeds, fetches) : await session.run(feeds);
    // Touch every output so a lazy binding could not hide the read-back from the timing.
    for (const k in out) void (out[k] as ort.Tensor).data;
  } catch (e) {
    throw new ProfileError('PROFILE_MODEL_RUN', `${label}: onnxruntime failed running the model (${runtimeMessage(e)})`, { cause: e });
  }
  return { ms: performance.now() - t0, outputs: out };
}
