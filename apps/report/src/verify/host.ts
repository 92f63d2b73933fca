// What this host adds to a pipeline of stages that share it, calibrated once: the per-frame handoff
// between stage threads (a fixed cost and a cost per byte, timed with synthetic tensors of known sizes
// through verify's own worker pipeline) and how much work its cores do in parallel (one small model
// in 1..N concurrent one-thread sessions; a stage of T threads counts as T of them). A plan predicts boards that each have their own cores; verify measures
// stages that share this machine's, so its "this host" prediction prices both.
import { availableParallelism, cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { fitBoundary } from '@dnnpart/profiler';
import { buildZooModel } from '@dnnpart/zoo';
import { VerifyError } from './errors.js';
import { runPipeline, type Handoff, type SyntheticStage } from './measure.js';

export const HOST_CALIBRATION_SCHEMA = 'dnnpart/host-calibration@1';

export interface HandoffSample {
  /** Bytes handed from the first synthetic stage to the second per frame. */
  readonly bytes: number;
  /** Pipeline period of the two synthetic stages: the median time between frames leaving the last one. */
  readonly periodMs: number;
  /** The slower synthetic stage's own time per frame (making its fresh outputs), median. */
  readonly runMs: number;
  /** periodMs - runMs: what each frame's handoff adds to the period. */
  readonly ms: number;
}

export interface CapacitySample {
  /** Sessions running side by side. */
  readonly sessions: number;
  /** Median time of one run while they do (over every session and round). */
  readonly medianMs: number;
  /** Runs per second of all of them together (mean over the rounds; disturbed more by other processes than the median). */
  readonly runsPerSec: number;
  /** sessions × the median run alone / medianMs: the cores' worth of work done in parallel. */
  readonly speedup: number;
}

export interface HostCalibration {
  readonly schema: typeof HOST_CALIBRATION_SCHEMA;
  readonly cpu: string;
  readonly cores: number;
  /** Intra-op threads of every session (the stages' setting). */
  readonly threads: number;
  readonly loadBefore: number;
  readonly loadAfter: number;
  /** Per frame and stage: fixedMs + msPerByte × (bytes the stage receives + bytes it sends on). */
  readonly handoff: { readonly mode: Handoff; readonly fixedMs: number; readonly msPerByte: number; readonly fitR2: number; readonly samples: readonly HandoffSample[] };
  /**
   * Speedup of one-thread sessions side by side, at 1, threads, 2 × threads, ... stages × threads
   * sessions (speedup 1 at 1). One-thread sessions because a small model does not keep T threads
   * busy the way a stage does; a T-thread stage is priced as T of them (stageSpeedups).
   */
  readonly capacity: { readonly model: string; readonly sessionThreads: 1; readonly singleMs: number; readonly samples: readonly CapacitySample[] };
}

export interface HostCalibrationOptions {
  readonly threads: number;
  /** Most sessions side by side to time (the stages of the plans to predict); default: this host's cores. */
  readonly sessions?: number;
  readonly handoff?: Handoff;
  /** Handoff tensor sizes in bytes; default 4 B, 64 kB, 1 MB, 4 MB. */
  readonly sizes?: readonly number[];
  /** Frames per handoff size (after 20 warm-up frames); default 60. */
  readonly frames?: number;
  /** How long each capacity measurement runs; default 300 ms. */
  readonly windowMs?: number;
  /** Rounds of 1..sessions side by side, interleaved so that a burst of other load spreads over all counts; default 3. */
  readonly rounds?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_HANDOFF_SIZES: readonly number[] = [4, 65536, 1 << 20, 4 << 20];
/** The capacity model: a small convolutional network, a few ms per run, like a pipeline stage. */
const CAPACITY_NET = 'squeezenet1_1';
const CAPACITY_INPUT = [1, 3, 160, 160];
const WARMUP = 20;
const CAPACITY_WORKER = new URL('../../worker/capacity-worker.mjs', import.meta.url);
const now = () => performance.timeOrigin + performance.now();

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** What a stage's handoff costs per frame on this host. */
export function handoffMs(h: Pick<HostCalibration['handoff'], 'fixedMs' | 'msPerByte'>, bytes: number): number {
  return h.fixedMs + h.msPerByte * bytes;
}

/**
 * How much longer each busy session takes when `n` sessions (fractional: a time-weighted average)
 * share the host: n / speedup(n), linear between the calibrated counts; past the last, the speedup
 * stays where it was (no more parallel capacity than measured).
 */
export function concurrencySlowdown(speedups: readonly number[], n: number): number {
  if (speedups.length === 0 || speedups.some((s) => !(s > 0))) throw new VerifyError('VERIFY_BAD_OPTIONS', 'host calibration: every speedup must be > 0');
  if (!(n >= 1)) return 1;
  const d = (k: number) => k / speedups[k - 1]!;
  const K = speedups.length;
  if (n >= K) return n / speedups[K - 1]!;
  const lo = Math.floor(n);
  return d(lo) + (d(lo + 1) - d(lo)) * (n - lo);
}

/**
 * Speedup of j = 1, 2, ... stages side by side, each of the calibration's threads: s(j·T) / s(T) on
 * the one-thread curve s, each s held to its sessions and the host's cores (a higher one is a
 * single run slowed by other load) and the result to j. Stops at the last count calibrated.
 */
export function stageSpeedups(host: Pick<HostCalibration, 'threads' | 'cores' | 'capacity'>): number[] {
  const s = new Map(host.capacity.samples.map((x) => [x.sessions, Math.min(x.speedup, x.sessions, host.cores)]));
  const base = s.get(host.threads);
  const out: number[] = [];
  if (base === undefined || !(base > 0)) return [1];
  for (let j = 1; s.has(j * host.threads); j++) out.push(Math.min(j, s.get(j * host.threads)! / base));
  return out;
}

export interface HostPeriod {
  readonly periodMs: number;
  /** Each stage's time per frame when it runs alone here: its time plus its handoff. */
  readonly stageMs: readonly number[];
  /** Time-weighted number of stages busy at once: Σ stage / slowest stage. */
  readonly concurrency: number;
  /** How much the slowest stage is stretched by sharing the cores with the others. */
  readonly slowdown: number;
}

/**
 * The pipeline period on this host: the slowest stage (its time plus its handoff), stretched by the
 * stages that run beside it. The others are busy stage_j / slowest of the time, so on average
 * n = Σ stage_j / slowest sessions share the cores, each slowed by n / speedup(n). Balanced stages
 * give Σ stage / speedup(k) (the cores' real capacity); one dominant stage gives its own time.
 */
export function hostPipelinePeriodMs(stageMs: readonly number[], handoff: readonly number[], speedups: readonly number[]): HostPeriod {
  if (stageMs.length === 0 || stageMs.length !== handoff.length) throw new VerifyError('VERIFY_BAD_OPTIONS', `host prediction: ${stageMs.length} stage times but ${handoff.length} handoff costs`);
  const work = stageMs.map((t, i) => t + handoff[i]!);
  const slowest = Math.max(...work);
  const concurrency = work.reduce((a, x) => a + x, 0) / slowest;
  const slowdown = concurrencySlowdown(speedups, concurrency);
  return { periodMs: slowest * slowdown, stageMs: work, concurrency, slowdown };
}

/** Time the handoff and the parallel capacity of this host (a few seconds). */
export async function calibrateHost(options: HostCalibrationOptions): Promise<HostCalibration> {
  const threads = options.threads;
  const sessions = options.sessions ?? availableParallelism();
  const sizes = options.sizes ?? DEFAULT_HANDOFF_SIZES;
  const frames = options.frames ?? 60;
  const windowMs = options.windowMs ?? 300;
  const rounds = options.rounds ?? 3;
  const mode = options.handoff ?? 'transfer';
  for (const [k, v, min] of [['threads', threads, 1], ['sessions', sessions, 1], ['frames', frames, 3], ['windowMs', windowMs, 1], ['rounds', rounds, 1]] as const) {
    if (!Number.isInteger(v) || v < min) throw new VerifyError('VERIFY_BAD_OPTIONS', `host calibration option ${k} must be an integer >= ${min}, got ${v}`);
  }
  if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 4)) throw new VerifyError('VERIFY_BAD_OPTIONS', 'host calibration option sizes needs at least 2 sizes of >= 4 bytes');
  const loadBefore = loadavg()[0]!;
  // One-thread sessions at 1, T, 2T, ..., sessions × T side by side.
  const counts = [...new Set([1, ...Array.from({ length: sessions }, (_, j) => (j + 1) * threads)])];
  const total = sizes.length + counts.length * rounds;
  let done = 0;
  const tick = () => options.onProgress?.(++done, total);

  const samples: HandoffSample[] = [];
  for (const size of sizes) {
    if (options.signal?.aborted) throw new VerifyError('VERIFY_INTERRUPTED', 'verify was interrupted');
    const n = Math.max(1, Math.round(size / 4));
    // Two stages without models: the first turns a 4-byte input into `size` bytes, the second takes them.
    const stages: SyntheticStage[] = [
      { label: 'handoff stage 0', inputs: ['h_in'], outputs: ['h_mid'], synthetic: [{ name: 'h_mid', type: 'float32', dims: [n] }] },
      { label: 'handoff stage 1', inputs: ['h_mid'], outputs: ['h_out'], synthetic: [{ name: 'h_out', type: 'float32', dims: [1] }] },
    ];
    const feeds = { h_in: new ort.Tensor('float32', new Float32Array(1), [1]) };
    const r = await runPipeline(stages, feeds, { threads, frames, warmup: WARMUP, queue: 1, handoff: mode, ...(options.signal ? { signal: options.signal } : {}) });
    const runMs = Math.max(...[0, 1].map((s) => median(r.spans.filter((x) => x.name === stages[s]!.label).map((x) => x.durMs))));
    // The median gap between frames: a burst of other load on this shared host moves it less than the mean.
    const ends = r.spans.filter((x) => x.name === stages[1]!.label).map((x) => x.startMs + x.durMs).sort((a, b) => a - b);
    const periodMs = median(ends.slice(1).map((e, i) => e - ends[i]!));
    samples.push({ bytes: n * 4, periodMs, runMs, ms: Math.max(0, periodMs - runMs) });
    tick();
  }
  const fit = fitBoundary(samples.map((s) => ({ inBytes: s.bytes, outBytes: 0, ms: s.ms })));

  const times = counts.map(() => [] as number[]);
  const rates = counts.map(() => [] as number[]);
  await sideBySide(buildZooModel(CAPACITY_NET, { inputShape: CAPACITY_INPUT }), counts[counts.length - 1]!, 1, async (go) => {
    for (let r = 0; r < rounds; r++) {
      for (const [c, k] of counts.entries()) {
        if (options.signal?.aborted) throw new VerifyError('VERIFY_INTERRUPTED', 'verify was interrupted');
        const res = await go(k, windowMs);
        times[c]!.push(...res.flatMap((x) => x.times));
        rates[c]!.push(res.reduce((a, x) => a + (x.runs * 1000) / x.ms, 0));
        tick();
      }
    }
  });
  const med = times.map((t) => median(t));
  const singleMs = med[0]!;
  return {
    schema: HOST_CALIBRATION_SCHEMA,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    threads,
    loadBefore,
    loadAfter: loadavg()[0]!,
    handoff: { mode, fixedMs: fit.fixedMs, msPerByte: fit.inMsPerByte, fitR2: fit.fitR2, samples },
    capacity: {
      model: `${CAPACITY_NET} ${CAPACITY_INPUT.join('x')}`,
      sessionThreads: 1,
      singleMs,
      samples: med.map((m, i) => ({ sessions: counts[i]!, medianMs: m, runsPerSec: rates[i]!.reduce((a, x) => a + x, 0) / rates[i]!.length, speedup: (counts[i]! * singleMs) / m })),
    },
  };
}

interface WindowResult { readonly runs: number; readonly ms: number; readonly times: readonly number[] }

/** `n` warm sessions of `model` in worker threads; `go(k, ms)` runs the first k side by side for ms. */
async function sideBySide(model: Uint8Array, n: number, threads: number, body: (go: (k: number, windowMs: number) => Promise<WindowResult[]>) => Promise<void>): Promise<void> {
  const workers = Array.from({ length: n }, () => new Worker(CAPACITY_WORKER, { workerData: { modelBytes: model, threads, warmup: WARMUP, dims: CAPACITY_INPUT } }));
  const fail = (e: Error) => new VerifyError('VERIFY_RUN_FAILED', `host calibration: the capacity model (${CAPACITY_NET}) failed: ${e.message.split('\n')[0]}`, { cause: e });
  try {
    // One error listener per worker for its whole life; it rejects whatever that worker is doing.
    const pending = workers.map(() => ({ reject: (_: Error) => {} }));
    workers.forEach((w, i) => w.on('error', (e) => pending[i]!.reject(fail(e))));
    await Promise.all(workers.map((w, i) => new Promise<void>((resolve, reject) => {
      pending[i]!.reject = reject;
      w.once('message', () => resolve());
    })));
    await body(async (k, windowMs) => {
      const startAt = now() + 5;
      return Promise.all(workers.slice(0, k).map((w, i) => new Promise<WindowResult>((resolve, reject) => {
        pending[i]!.reject = reject;
        w.once('message', (m: WindowResult) => resolve(m));
        w.postMessage({ kind: 'go', startAt, until: startAt + windowMs });
      })));
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
