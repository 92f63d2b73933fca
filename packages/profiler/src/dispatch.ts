// What onnxruntime takes per kernel beyond the kernel's work on this machine: the per-op overhead of
// the analytic roofline (perOpOverheadMs), measured instead of fitted. Networks of large kernels
// cannot tell it from their compute (a fit on the zoo puts it at 0), while exported graphs run
// hundreds of tiny kernels (shape arithmetic, slices, concatenations) whose time is mostly this.
import * as ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import { median } from 'simple-statistics';
import { ProfileError } from './errors.js';
import { glueChainModel } from './_calibration-models.js';
import { fetchesFor } from './fetches.js';
import { createSession, sessionOptions, timedRun } from './_session.js';
import { round } from './_stats.js';

export interface DispatchCalibrationOptions {
  /** ORT intra-op threads; default: all cores. */
  readonly threads?: number;
  /** Timed runs of each chain per round; default 400. */
  readonly runs?: number;
  /** Rounds, the chains interleaved in each; default 5. */
  readonly rounds?: number;
  /** Nodes of the short and the long chain; default [12, 612]. */
  readonly nodes?: readonly [number, number];
  readonly signal?: AbortSignal;
}

export interface DispatchCalibration {
  /** Milliseconds per kernel: (long chain − short chain) / the nodes between them. */
  readonly perOpOverheadMs: number;
  readonly nodes: readonly [number, number];
  /** Median run time of each chain (the median of the rounds' medians). */
  readonly shortMs: number;
  readonly longMs: number;
  /** perOpOverheadMs of each round: their spread says how steady the machine was. */
  readonly perRound: readonly number[];
  readonly threads: number;
  readonly origin: string;
}

/**
 * Times a chain of a few small kernels and one of hundreds (glueChainModel), interleaved, and takes
 * the difference per node: onnxruntime's cost of running one more small kernel, with the same
 * session options as the profiler (all optimisations, no spinning).
 */
export async function calibrateDispatch(options: DispatchCalibrationOptions = {}): Promise<DispatchCalibration> {
  const threads = options.threads ?? availableParallelism();
  const runs = options.runs ?? 400;
  const rounds = options.rounds ?? 5;
  const [a, b] = options.nodes ?? [12, 612];
  for (const [field, v, min] of [['threads', threads, 1], ['runs', runs, 10], ['rounds', rounds, 1], ['nodes[0]', a, 1]] as const) {
    if (!Number.isInteger(v) || v < min) throw new ProfileError('PROFILE_BAD_OPTIONS', `dispatch calibration option ${field} must be an integer >= ${min}, got ${v}`);
  }
  const short = glueChainModel(a);
  const long = glueChainModel(b);
  if (long.nodes <= short.nodes) throw new ProfileError('PROFILE_BAD_OPTIONS', `dispatch calibration option nodes: the long chain (${b}) must have more nodes than the short one (${a})`);
  const opts = sessionOptions(threads, 'all');
  const labels = [short, long].map((m) => `dispatch calibration chain of ${m.nodes}`);
  const sessions = [await createSession(short.bytes, opts, labels[0]!), await createSession(long.bytes, opts, labels[1]!)];
  try {
    const feeds = { x: new ort.Tensor('float32', new Float32Array(64).map((_, i) => (i % 7) / 7), [1, 64]) };
    const fetches = sessions.map(() => fetchesFor([{ name: 'y', dtype: 'float32', shape: [1, 64] }]));
    const medians: [number[], number[]] = [[], []];
    for (let r = 0; r < rounds; r++) {
      for (let s = 0; s < 2; s++) {
        if (options.signal?.aborted) throw new ProfileError('PROFILE_INTERRUPTED', 'dispatch calibration was interrupted');
        for (let i = 0; i < Math.min(50, runs); i++) await timedRun(sessions[s]!, feeds, labels[s]!, fetches[s]);
        const t: number[] = [];
        for (let i = 0; i < runs; i++) t.push(await timedRun(sessions[s]!, feeds, labels[s]!, fetches[s]));
        medians[s]!.push(median(t));
      }
    }
    const perRound = medians[0].map((m, r) => Math.max(0, (medians[1][r]! - m) / (long.nodes - short.nodes)));
    const shortMs = median(medians[0]);
    const longMs = median(medians[1]);
    return {
      perOpOverheadMs: round(median(perRound), 7),
      nodes: [short.nodes, long.nodes],
      shortMs: round(shortMs, 5),
      longMs: round(longMs, 5),
      perRound: perRound.map((x) => round(x, 7)),
      threads,
      origin: `chains of ${short.nodes} and ${long.nodes} small kernels (Add, Mul, Slice, Concat, Reshape on [1, 64]) at ${threads} thread(s), ${rounds} interleaved rounds of ${runs} runs: the difference per kernel`,
    };
  } finally {
    for (const s of sessions) await s.release().catch(() => {});
  }
}
