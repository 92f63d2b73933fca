// How many intra-op threads a model runs fastest at, when the user did not say. Models of small
// kernels run slower with more threads (waking a pool costs more than their kernels gain): measured
// here at 2 threads against 1, PaddleOCR's text-direction classifier 1.25 ms against 0.66-0.71, and
// openWakeWord's embedding 1.35 ms against 0.84-0.94 (bench/results/real-models.md). A profile at the
// slower count makes every plan, run and verify of that model slower than the board can do.
import { availableParallelism } from 'node:os';
import type * as ort from 'onnxruntime-node';
import { median } from 'simple-statistics';
import { levelChoice, loadModel, type LevelChoice } from '@dnnpart/onnx-graph';
import { makeFeeds } from './_feeds.js';
import { createSession, sessionOptions, timedRun } from './_session.js';
import { round } from './_stats.js';

/** One thread count tried: the median of its runs. */
export interface ThreadProbe {
  readonly threads: number;
  readonly medianMs: number;
}

/** Above this a run at all cores is taken as parallel enough, and 1 thread is not tried (its runs would cost seconds). */
export const THREAD_PROBE_SKIP_MS = 20;

/** The thread count to profile at: 1 when it ran 10 % or more faster than `all`, else `all`. */
export function chooseThreads(probes: readonly ThreadProbe[], all: number): number {
  const at = (k: number) => probes.find((p) => p.threads === k)?.medianMs;
  const one = at(1);
  const many = at(all);
  return one !== undefined && many !== undefined && one < 0.9 * many ? 1 : all;
}

/**
 * Time the model at `all` threads and, when a run takes under THREAD_PROBE_SKIP_MS, at 1 thread, the
 * two sessions' runs alternating (so a change in load hits both) for up to 40 pairs or half a second;
 * the count chooseThreads takes. With `keep`, the session at that count stays open and is returned
 * (a stage runs on it: loading a large model twice would double its deployment); the other is released.
 */
export async function probeThreads(
  model: Uint8Array | string, all: number, level: LevelChoice, feeds: Record<string, ort.Tensor>, label: string, keep = false,
): Promise<{ readonly probes: ThreadProbe[]; readonly chosen: number; readonly session?: ort.InferenceSession }> {
  const open = new Map<number, ort.InferenceSession>();
  let kept: ort.InferenceSession | undefined;
  try {
    const many = await createSession(model, sessionOptions(all, level.level), label, level);
    open.set(all, many);
    for (let i = 0; i < 2; i++) await timedRun(many, feeds, label);
    const first = await timedRun(many, feeds, label);
    let probes: ThreadProbe[];
    if (first > THREAD_PROBE_SKIP_MS) probes = [{ threads: all, medianMs: round(first) }];
    else {
      const one = await createSession(model, sessionOptions(1, level.level), label, level);
      open.set(1, one);
      for (let i = 0; i < 2; i++) await timedRun(one, feeds, label);
      const tMany: number[] = [];
      const tOne: number[] = [];
      const end = performance.now() + 500;
      while (tOne.length < 40 && (tOne.length < 5 || performance.now() < end)) {
        tMany.push(await timedRun(many, feeds, label));
        tOne.push(await timedRun(one, feeds, label));
      }
      probes = [{ threads: all, medianMs: round(median(tMany)) }, { threads: 1, medianMs: round(median(tOne)) }];
    }
    const chosen = chooseThreads(probes, all);
    if (keep) kept = open.get(chosen);
    return { probes, chosen, ...(kept ? { session: kept } : {}) };
  } finally {
    for (const s of open.values()) if (s !== kept) await s.release().catch(() => {});
  }
}

/**
 * The thread count a model (a stage's, say) runs fastest at on this machine, as a profile without
 * --threads chooses it: all cores, or 1 when that is 10 % faster, and a session at that count with
 * the profiler's options, ready to run. The model (its bytes, or its file) must have fixed input
 * shapes (stage models do). `level`: the optimisation level to start from (default "all"), lowered
 * when onnxruntime refuses its optimised graph (levelNote says it), and returned.
 */
export async function chooseModelThreads(
  model: Uint8Array | string, label: string, all = availableParallelism(), level: LevelChoice = levelChoice('all'),
): Promise<{ readonly threads: number; readonly probe: readonly ThreadProbe[]; readonly session: ort.InferenceSession; readonly level: LevelChoice }> {
  if (all <= 1) return { threads: all, probe: [], session: await createSession(model, sessionOptions(all, level.level), label, level), level };
  const { graph } = await loadModel(model, { name: 'stage', simplify: false });
  const r = await probeThreads(model, all, level, makeFeeds(graph), label, true);
  return { threads: r.chosen, probe: r.probes, session: r.session!, level };
}
