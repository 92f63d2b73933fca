// What this host adds to a pipeline of stages that share it, calibrated once: the per-frame handoff
// between stage threads (a fixed cost and a cost per byte, timed with synthetic tensors of known sizes
// through verify's own worker pipeline) and how much work its cores do when k stage sessions run side
// by side (a small model in 1..k concurrent sessions of the stages' threads, counted in CPU time, so a
// lone session slowed by idle-state wake-ups cannot make the cores look faster than they are). A plan
// predicts boards that each have their own cores; verify measures stages that share this machine's,
// so its "this host" prediction simulates that sharing (hostPipelinePeriodMs).
import { availableParallelism, cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { fitBoundary } from '@dnnpart/profiler';
import { buildZooModel } from '@dnnpart/zoo';
import { VerifyError } from './errors.js';
import { runPipeline, type Handoff, type SyntheticStage } from './measure.js';

export const HOST_CALIBRATION_SCHEMA = 'dnnpart/host-calibration@2';

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
  /** Runs per second of all of them together (median over the rounds). */
  readonly runsPerSec: number;
  /** sessions × the median run alone / medianMs (wall clock; for reading, not used). */
  readonly speedup: number;
  /**
   * Work done per ms (runsPerSec × a run's work alone, its time × its parallelism, / 1000: cores)
   * over what the sessions ask for (sessions × their parallelism alone, at most the host's cores): 1
   * when sharing costs nothing; lower when switching between sessions, their caches or other processes
   * take a share; higher when sharing saves work (a session's threads wait on each other less).
   */
  readonly efficiency: number;
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
   * Sessions of the stages' threads side by side, 1..the plan's stages. singleMs and cpuMs are one run
   * alone (median wall clock, mean CPU time of the process); parallelism = cpuMs / singleMs.
   */
  readonly capacity: {
    readonly model: string;
    readonly sessionThreads: number;
    readonly singleMs: number;
    readonly cpuMs: number;
    readonly parallelism: number;
    readonly samples: readonly CapacitySample[];
  };
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

export interface HostPeriod {
  readonly periodMs: number;
  /** Each stage's time per frame when it runs alone here: its time plus its handoff. */
  readonly stageMs: readonly number[];
  /** Time-averaged number of stages running at once in the simulated steady state. */
  readonly concurrency: number;
  /** Time-averaged cores' worth of work the stages get in the simulated steady state. */
  readonly busyCores: number;
  /** periodMs / the slowest stage alone: how much sharing the cores stretches the pipeline. */
  readonly slowdown: number;
}

/** Efficiency of k sessions side by side: the calibrated figure for k (the last one past it). */
function efficiencyAt(efficiency: readonly number[], k: number): number {
  return efficiency[Math.min(k, efficiency.length) - 1]!;
}

/**
 * The pipeline period on this host, simulated frame by frame as verify's pipeline runs: one thread
 * per stage, input queues of `queue` frames, a stage that finished holds its frame (and takes no new
 * one) until the next queue has room, the first queue always full. Stage i alone takes stageMs[i] +
 * handoff[i] and keeps parallelism[i] cores busy: its work is the product. Running stages share the
 * cores as a fluid: k of them asking for D cores in all get min(D, efficiency[k-1] × cores), each in
 * proportion to what it asks. Balanced stages that ask for more than the cores give Σ work /
 * (efficiency × cores); one dominant stage gives its own time; blocked stages leave cores idle, as
 * they do here.
 */
export function hostPipelinePeriodMs(
  stageMs: readonly number[],
  handoff: readonly number[],
  parallelism: readonly number[],
  cores: number,
  efficiency: readonly number[],
  queue = 1,
): HostPeriod {
  const S = stageMs.length;
  if (S === 0 || handoff.length !== S || parallelism.length !== S) throw new VerifyError('VERIFY_BAD_OPTIONS', `host prediction: ${S} stage times but ${handoff.length} handoff costs and ${parallelism.length} parallelisms`);
  if (![...stageMs, ...handoff].every((x) => x >= 0) || !parallelism.every((x) => x > 0) || !(cores > 0) || !Number.isInteger(queue) || queue < 1) {
    throw new VerifyError('VERIFY_BAD_OPTIONS', 'host prediction: stage times and handoffs must be >= 0, parallelism and cores > 0, the queue an integer >= 1');
  }
  if (efficiency.length === 0 || !efficiency.every((x) => x > 0)) throw new VerifyError('VERIFY_BAD_OPTIONS', 'host calibration: every efficiency must be > 0');
  const alone = stageMs.map((t, i) => t + handoff[i]!);
  const slowest = Math.max(...alone);
  if (!(slowest > 0)) return { periodMs: 0, stageMs: alone, concurrency: 0, busyCores: 0, slowdown: 1 };
  const work = alone.map((t, i) => t * parallelism[i]!);
  const busy = alone.map(() => false);
  const holding = alone.map(() => false);
  const left = alone.map(() => 0);
  const waiting = alone.map((_, i) => (i === 0 ? queue : 0));
  const frames = Math.max(60, 20 * S);
  const from = frames >> 1; // steady state: the second half of the frames
  const done: number[] = [];
  let t = 0;
  let runningTime = 0;
  let coreTime = 0;
  for (let step = 0; ; step++) {
    if (step > 100 * frames * S) throw new VerifyError('VERIFY_BAD_OPTIONS', 'host prediction: the pipeline simulation did not settle');
    // Hand finished frames on and start stages, downstream first (that is what frees room upstream).
    for (let changed = true; changed;) {
      changed = false;
      for (let i = S - 1; i >= 0; i--) {
        if (holding[i] && (i === S - 1 || waiting[i + 1]! < queue)) {
          holding[i] = false;
          changed = true;
          if (i === S - 1) done.push(t);
          else waiting[i + 1]!++;
        }
        if (!busy[i] && !holding[i] && waiting[i]! > 0) {
          waiting[i]!--;
          if (i === 0) waiting[0]!++; // the main thread refills the first queue at once
          busy[i] = true;
          left[i] = work[i]!;
          changed = true;
        }
      }
    }
    if (done.length >= frames) break;
    const running = alone.map((_, i) => i).filter((i) => busy[i]);
    if (running.length === 0) throw new VerifyError('VERIFY_BAD_OPTIONS', 'host prediction: the pipeline simulation stalled');
    const demand = running.reduce((a, i) => a + parallelism[i]!, 0);
    const capacity = Math.min(demand, efficiencyAt(efficiency, running.length) * cores);
    const rate = (i: number) => (parallelism[i]! * capacity) / demand;
    // A stage of no work finishes at once.
    const dt = Math.min(...running.map((i) => left[i]! / rate(i)));
    t += dt;
    if (done.length > from) {
      runningTime += running.length * dt;
      coreTime += capacity * dt;
    }
    for (const i of running) {
      left[i]! -= rate(i) * dt;
      if (left[i]! <= 1e-9 * work[i]!) {
        busy[i] = false;
        holding[i] = true;
      }
    }
  }
  const span = done[frames - 1]! - done[from]!;
  const periodMs = span / (frames - 1 - from);
  return { periodMs, stageMs: alone, concurrency: span > 0 ? runningTime / span : 0, busyCores: span > 0 ? coreTime / span : 0, slowdown: periodMs / slowest };
}

/**
 * Seconds calibrateHost takes by its settings: a two-stage pipeline per handoff size (worker start-up
 * and frames of well under a millisecond), then rounds of 1..sessions side by side (the windows, and
 * the sessions' start-up and warm-up).
 */
export function calibrationSeconds(o: Pick<HostCalibrationOptions, 'sessions' | 'sizes' | 'frames' | 'windowMs' | 'rounds'> = {}): number {
  const sizes = (o.sizes ?? DEFAULT_HANDOFF_SIZES).length;
  const frames = o.frames ?? 60;
  const sessions = o.sessions ?? availableParallelism();
  return sizes * (0.3 + ((frames + WARMUP) * 0.5) / 1000) + 1 + (sessions * (o.rounds ?? 3) * ((o.windowMs ?? 300) + 10)) / 1000;
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
  // Sessions of the stages' threads, 1..sessions side by side.
  const counts = Array.from({ length: sessions }, (_, j) => j + 1);
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
  const cpuPerRun: number[] = [];
  await sideBySide(buildZooModel(CAPACITY_NET, { inputShape: CAPACITY_INPUT }), sessions, threads, async (go) => {
    for (let r = 0; r < rounds; r++) {
      for (const [c, k] of counts.entries()) {
        if (options.signal?.aborted) throw new VerifyError('VERIFY_INTERRUPTED', 'verify was interrupted');
        const res = await go(k, windowMs);
        times[c]!.push(...res.windows.flatMap((x) => x.times));
        rates[c]!.push(res.windows.reduce((a, x) => a + (x.runs * 1000) / x.ms, 0));
        // The whole process's CPU time while one session runs alone: that run's work, every thread counted.
        if (k === 1) cpuPerRun.push(res.cpuMs / res.windows[0]!.runs);
        tick();
      }
    }
  });
  const med = times.map((t) => median(t));
  const singleMs = med[0]!;
  const cpuMs = median(cpuPerRun);
  // At least the wall clock a run takes on one core, at most its threads' worth.
  const parallelism = Math.min(threads, Math.max(1, cpuMs / singleMs));
  // Core-ms of work per run, as hostPipelinePeriodMs counts a stage's: its time alone × its parallelism.
  const work = singleMs * parallelism;
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
      sessionThreads: threads,
      singleMs,
      cpuMs,
      parallelism,
      samples: med.map((m, i) => {
        const k = counts[i]!;
        const runsPerSec = median(rates[i]!);
        return { sessions: k, medianMs: m, runsPerSec, speedup: (k * singleMs) / m, efficiency: (runsPerSec * work) / 1000 / Math.min(k * parallelism, availableParallelism()) };
      }),
    },
  };
}

/**
 * Efficiency of 1..N sessions side by side, for hostPipelinePeriodMs, each held to 1. Above 1 the
 * calibration model's threads wasted CPU time alone (waiting on each other over small kernels) that
 * sharing put to use; how much of that a stage wastes is its own, and resnet18's stages, at 2
 * threads, waste next to none (their CPU time is their one-thread time), so none is credited.
 */
export function capacityEfficiency(host: Pick<HostCalibration, 'capacity'>): number[] {
  return host.capacity.samples.map((x) => Math.min(x.efficiency, 1));
}

interface WindowResult { readonly runs: number; readonly ms: number; readonly times: readonly number[] }

/** `n` warm sessions of `model` in worker threads; `go(k, ms)` runs the first k side by side for ms. */
async function sideBySide(model: Uint8Array, n: number, threads: number, body: (go: (k: number, windowMs: number) => Promise<{ windows: WindowResult[]; cpuMs: number }>) => Promise<void>): Promise<void> {
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
      const cpu0 = process.cpuUsage();
      const windows = await Promise.all(workers.slice(0, k).map((w, i) => new Promise<WindowResult>((resolve, reject) => {
        pending[i]!.reject = reject;
        w.once('message', (m: WindowResult) => resolve(m));
        w.postMessage({ kind: 'go', startAt, until: startAt + windowMs });
      })));
      const cpu = process.cpuUsage(cpu0);
      return { windows, cpuMs: (cpu.user + cpu.system) / 1000 };
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
