// What this host adds to a pipeline of stages that share it, calibrated just before the pipeline runs:
// the per-frame handoff between stage threads (a fixed cost and a cost per byte, timed with synthetic
// tensors of known sizes through verify's own worker pipeline), and how much of its cores a pipeline
// of k stages really gets (a small model chained k times through the same worker pipeline, against
// what a fluid share of the cores would give it). A plan predicts boards that each have their own
// cores; verify measures stages that share this machine's, so its "this host" prediction simulates
// that sharing (hostPipelinePeriodMs) at the calibrated efficiency.
import { availableParallelism, cpus, loadavg } from 'node:os';
import * as ort from 'onnxruntime-node';
import { fitBoundary } from '@dnnpart/profiler';
import { buildZooModel } from '@dnnpart/zoo';
import { VerifyError } from './errors.js';
import { median } from './_stats.js';
import { runPipeline, timeBackToBack, type Handoff, type StageRunnable, type SyntheticStage } from './measure.js';

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
  /** Stages of the synthetic pipeline: the capacity model chained this many times. */
  readonly stages: number;
  /** Its measured period: the median gap between frames leaving it (median over the rounds). */
  readonly periodMs: number;
  /** What hostPipelinePeriodMs gives for it at full efficiency (the model's time alone, its handoffs, its parallelism). */
  readonly fluidMs: number;
  /** fluidMs / periodMs: the share of a fluid split of the cores the pipeline really got. */
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
   * The capacity model run alone (singleMs: median wall clock; cpuMs: median CPU time of the process,
   * for reading), then chained into pipelines of 2..N stages; parallelism: the cores a session holds
   * while it runs (stageParallelism).
   */
  readonly capacity: {
    readonly model: string;
    readonly sessionThreads: number;
    readonly singleMs: number;
    readonly cpuMs: number;
    readonly parallelism: number;
    /** The stage time the model was sized for (the mean of HostCalibrationOptions.stageMs), when one was given. */
    readonly targetMs?: number;
    /** Its time at one thread over its time at sessionThreads, when above one thread and sized for a plan (parallelism is then stageCores of it). */
    readonly speedup?: number;
    readonly samples: readonly CapacitySample[];
  };
}

export interface HostCalibrationOptions {
  readonly threads: number;
  /** Longest synthetic pipeline to time, in stages (those of the plans to predict); default: this host's cores. */
  readonly sessions?: number;
  readonly handoff?: Handoff;
  /** Handoff tensor sizes in bytes; default 4 B, 64 kB, 1 MB, 4 MB. */
  readonly sizes?: readonly number[];
  /** Frames per handoff size (after 20 warm-up frames); default 60. */
  readonly frames?: number;
  /** Measured frames through each synthetic pipeline of the capacity model; default 60. */
  readonly capacityFrames?: number;
  /** Rounds of the 2..sessions-stage pipelines, interleaved so that a burst of other load spreads over all counts; default 3. */
  readonly rounds?: number;
  /**
   * The plan's stage times (ms): the capacity model is sized so that one run takes about their mean,
   * and only a pipeline of as many stages is timed. How much of the cores a pipeline gets depends on
   * how long its stages run (bench/verify-capacity.mjs, bench/results/verify-stages.md: three one-thread
   * stages on two cores got 0.63-0.76 of a fluid share at 0.7-4 ms a stage, 0.84 at 8 ms, 0.56-0.68 at
   * 0.3 ms). Without it: a model of about
   * 2 ms, pipelines of 2..sessions stages.
   */
  readonly stageMs?: readonly number[];
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_HANDOFF_SIZES: readonly number[] = [4, 65536, 1 << 20, 4 << 20];
/** The capacity model: a small convolutional network, a few ms per run, like a pipeline stage. */
const CAPACITY_NET = 'squeezenet1_1';
const CAPACITY_SIZE = 160;
/** Input sizes the capacity model may be built at to match a plan's stages: about 0.1 to 20 ms a run here. */
const CAPACITY_SIZES = [32, 512] as const;
/** Roughly what one run of the capacity model at CAPACITY_SIZE takes (ms), for calibrationSeconds. */
const CAPACITY_MS = 3;
/** A capacity pipeline runs at least this long (ms) when sized for a plan, within 20..capacityFrames frames. */
const CAPACITY_SPAN_MS = 1000;
const WARMUP = 20;

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
  /**
   * Median time from a frame's injection (the main thread hands a frame to the first queue as soon
   * as it has room, as verify's pipeline does) to its leaving the last stage, in the steady state:
   * its stages' times plus the waits in full queues that a saturated pipeline builds up.
   */
  readonly latencyMs: number;
}

/**
 * The cores a stage holds while it runs, for hostPipelinePeriodMs: its threads, at most the cores.
 * Not its CPU time over its wall clock: its threads meet at the end of every kernel, so a stage whose
 * second thread waits for a core stalls as a whole, and measured here (2-thread squeezenet1_1 and
 * resnet18 stages on 2 cores) pipelines of them went at Σ time × threads / cores, not at the lower
 * figure their CPU time alone gives.
 */
export function stageParallelism(threads: number, cores: number): number {
  return Math.max(1, Math.min(threads, cores));
}

/** Cores' worth of waking and waiting each thread beyond the first adds to a stage that shares the cores (EXTRA_THREAD_CORES). */
export const EXTRA_THREAD_CORES = 0.5;

/**
 * The cores a stage keeps busy while it runs in a pipeline that shares this host's cores, given its
 * `speedup` (its time at one thread over its time at its threads, measured here): the work its
 * threads really share, speedup cores' worth, plus EXTRA_THREAD_CORES for each thread beyond the
 * first (threads woken for every kernel, then waiting for each other), within 1..stageParallelism.
 * Without a speedup (or at one thread): stageParallelism, every thread a core.
 *
 * Why: a second thread buys resnet18's stages 1.6-1.8x and PaddleOCR's recogniser nothing (0.8-1.0),
 * and in a pipeline on 2 cores the first kept about 2 cores busy, the second 1.2-1.4. Fitted on 18
 * such pipelines (p = 0.34 + 1.1 x speedup; this one-constant form with 0.3, 0.4 and 0.5 compared
 * on three runs of bench/verify-stages.mjs, 0.5 kept), fed the measured stage times it put 11-13 of
 * 18 two-thread pipelines within 10 % where every thread a core put 7-9 (bench/results/verify-stages.md).
 * Only two threads on two cores were measured.
 */
export function stageCores(threads: number, cores: number, speedup?: number): number {
  const n = stageParallelism(threads, cores);
  if (speedup === undefined || n === 1 || !(speedup > 0)) return n;
  return Math.min(n, Math.max(1, speedup + EXTRA_THREAD_CORES * (n - 1)));
}

/**
 * The pipeline period on this host, simulated frame by frame as verify's pipeline runs: one thread
 * per stage, input queues of `queue` frames, a stage that finished holds its frame (and takes no new
 * one) until the next queue has room, the first queue always full. Stage i alone takes stageMs[i] +
 * handoff[i] and keeps parallelism[i] cores busy: its work is the product. Running stages share the
 * cores as a fluid: asking for D cores in all they get min(D, efficiency × cores), each in proportion
 * to what it asks. Balanced stages that ask for more than the cores give Σ work / (efficiency ×
 * cores); one dominant stage gives its own time; blocked stages leave cores idle, as they do here.
 * The efficiency (capacityEfficiency) is what a pipeline of as many stages got of this fluid share
 * when calibrated: a scheduler that keeps two of three one-thread stages on one core, wake-ups, caches.
 */
export function hostPipelinePeriodMs(
  stageMs: readonly number[],
  handoff: readonly number[],
  parallelism: readonly number[],
  cores: number,
  efficiency: number,
  queue = 1,
): HostPeriod {
  const S = stageMs.length;
  if (S === 0 || handoff.length !== S || parallelism.length !== S) throw new VerifyError('VERIFY_BAD_OPTIONS', `host prediction: ${S} stage times but ${handoff.length} handoff costs and ${parallelism.length} parallelisms`);
  if (![...stageMs, ...handoff].every((x) => x >= 0) || !parallelism.every((x) => x > 0) || !(cores > 0) || !Number.isInteger(queue) || queue < 1) {
    throw new VerifyError('VERIFY_BAD_OPTIONS', 'host prediction: stage times and handoffs must be >= 0, parallelism and cores > 0, the queue an integer >= 1');
  }
  if (!(efficiency > 0)) throw new VerifyError('VERIFY_BAD_OPTIONS', `host prediction: the efficiency must be > 0, got ${efficiency}`);
  const alone = stageMs.map((t, i) => t + handoff[i]!);
  const slowest = Math.max(...alone);
  if (!(slowest > 0)) return { periodMs: 0, stageMs: alone, concurrency: 0, busyCores: 0, slowdown: 1, latencyMs: 0 };
  const work = alone.map((t, i) => t * parallelism[i]!);
  const busy = alone.map(() => false);
  const holding = alone.map(() => false);
  const left = alone.map(() => 0);
  const waiting = alone.map((_, i) => (i === 0 ? queue : 0));
  const frames = Math.max(60, 20 * S);
  const from = frames >> 1; // steady state: the second half of the frames
  const done: number[] = [];
  // When each frame entered the first queue (frames leave in the order they came).
  const injected: number[] = new Array<number>(queue).fill(0);
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
          if (i === 0) {
            waiting[0]!++; // the main thread refills the first queue at once
            injected.push(t);
          }
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
    const capacity = Math.min(demand, efficiency * cores);
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
  const latencies = done.slice(from).map((at, j) => at - injected[from + j]!).sort((a, b) => a - b);
  return {
    periodMs, stageMs: alone, concurrency: span > 0 ? runningTime / span : 0, busyCores: span > 0 ? coreTime / span : 0, slowdown: periodMs / slowest,
    latencyMs: latencies[latencies.length >> 1]!,
  };
}

/**
 * Seconds calibrateHost takes by its settings: a two-stage pipeline per handoff size (worker start-up
 * and frames of well under a millisecond), the capacity model alone, then rounds of its 2..sessions-
 * stage pipelines (start-up, and frames of a few ms shared by the cores).
 */
export function calibrationSeconds(o: Pick<HostCalibrationOptions, 'sessions' | 'sizes' | 'frames' | 'capacityFrames' | 'rounds' | 'stageMs'> & { readonly threads?: number } = {}): number {
  const sizes = (o.sizes ?? DEFAULT_HANDOFF_SIZES).length;
  const frames = o.frames ?? 60;
  const cores = availableParallelism();
  const target = o.stageMs && o.stageMs.length > 0 ? mean(o.stageMs) : undefined;
  const sessions = o.stageMs?.length || (o.sessions ?? cores);
  const runMs = target ?? CAPACITY_MS;
  const capFrames = (target === undefined ? (o.capacityFrames ?? 60) : capacityFramesFor(runMs, o.capacityFrames ?? 60)) + WARMUP;
  let pipelines = 0;
  for (let k = target === undefined ? 2 : Math.max(2, sessions); k <= sessions; k++) pipelines += 0.1 * k + (capFrames * runMs * Math.max(1, k / cores)) / 1000;
  // Timing the model alone: at 160x160, then at its plan's size (and at one thread, above one).
  const alone = (40 + WARMUP) * (CAPACITY_MS + (target === undefined ? 0 : target * ((o.threads ?? 1) > 1 ? 3 : 1))) / 1000;
  return sizes * (0.3 + ((frames + WARMUP) * 0.5) / 1000) + 1 + alone + (o.rounds ?? 3) * pipelines;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * The capacity model's input side for stages of `targetMs`, given that it takes `msAt160` at 160x160:
 * its time goes with the pixels, so 160 × √(targetMs / msAt160), rounded to 8 and held to 32..512.
 */
export function capacitySizeFor(targetMs: number, msAt160: number): number {
  if (!(targetMs > 0) || !(msAt160 > 0)) return CAPACITY_SIZE;
  const s = 8 * Math.round((CAPACITY_SIZE * Math.sqrt(targetMs / msAt160)) / 8);
  return Math.min(CAPACITY_SIZES[1], Math.max(CAPACITY_SIZES[0], s));
}

/** Frames of a capacity pipeline whose stages take `singleMs`: CAPACITY_SPAN_MS of them, within 20..max. */
function capacityFramesFor(singleMs: number, max: number): number {
  return Math.max(Math.min(20, max), Math.min(max, Math.ceil(CAPACITY_SPAN_MS / Math.max(singleMs, 1e-3))));
}

/** Time the handoff and the share of the cores a pipeline gets on this host (a few seconds). */
export async function calibrateHost(options: HostCalibrationOptions): Promise<HostCalibration> {
  const threads = options.threads;
  const sessions = options.sessions ?? availableParallelism();
  const sizes = options.sizes ?? DEFAULT_HANDOFF_SIZES;
  const frames = options.frames ?? 60;
  const capacityFrames = options.capacityFrames ?? 60;
  const rounds = options.rounds ?? 3;
  const mode = options.handoff ?? 'transfer';
  for (const [k, v, min] of [['threads', threads, 1], ['sessions', sessions, 1], ['frames', frames, 3], ['capacityFrames', capacityFrames, 3], ['rounds', rounds, 1]] as const) {
    if (!Number.isInteger(v) || v < min) throw new VerifyError('VERIFY_BAD_OPTIONS', `host calibration option ${k} must be an integer >= ${min}, got ${v}`);
  }
  if (sizes.length < 3 || sizes.some((s) => !Number.isInteger(s) || s < 4)) throw new VerifyError('VERIFY_BAD_OPTIONS', 'host calibration option sizes needs at least 3 sizes of >= 4 bytes');
  if (options.stageMs !== undefined && (options.stageMs.length === 0 || !options.stageMs.every((t) => Number.isFinite(t) && t >= 0))) {
    throw new VerifyError('VERIFY_BAD_OPTIONS', `host calibration option stageMs needs one time (ms, >= 0) per stage, got [${options.stageMs.join(', ')}]`);
  }
  const signal = options.signal ? { signal: options.signal } : {};
  const checkAbort = () => {
    if (options.signal?.aborted) throw new VerifyError('VERIFY_INTERRUPTED', 'verify was interrupted');
  };
  const loadBefore = loadavg()[0]!;
  const targetMs = options.stageMs && mean(options.stageMs) > 0 ? mean(options.stageMs) : undefined;
  // Sized for a plan: only a pipeline of its stages; otherwise 2..sessions.
  const counts = targetMs !== undefined
    ? (options.stageMs!.length >= 2 ? [options.stageMs!.length] : [])
    : Array.from({ length: Math.max(0, sessions - 1) }, (_, j) => j + 2);
  const total = sizes.length + 1 + counts.length * rounds;
  let done = 0;
  const tick = () => options.onProgress?.(++done, total);

  const samples: HandoffSample[] = [];
  for (const size of sizes) {
    checkAbort();
    const n = Math.max(1, Math.round(size / 4));
    // Two stages without models: the first turns a 4-byte input into `size` bytes, the second takes them.
    const stages: SyntheticStage[] = [
      { label: 'handoff stage 0', inputs: ['h_in'], outputs: ['h_mid'], synthetic: [{ name: 'h_mid', type: 'float32', dims: [n] }] },
      { label: 'handoff stage 1', inputs: ['h_mid'], outputs: ['h_out'], synthetic: [{ name: 'h_out', type: 'float32', dims: [1] }] },
    ];
    const feeds = { h_in: new ort.Tensor('float32', new Float32Array(1), [1]) };
    const r = await runPipeline(stages, feeds, { threads, frames, warmup: WARMUP, queue: 1, handoff: mode, ...signal });
    const runMs = Math.max(...[0, 1].map((s) => median(r.spans.filter((x) => x.name === stages[s]!.label).map((x) => x.durMs))));
    // The median gap between frames: a burst of other load on this shared host moves it less than the mean.
    const ends = r.spans.filter((x) => x.name === stages[1]!.label).map((x) => x.startMs + x.durMs).sort((a, b) => a - b);
    const periodMs = median(ends.slice(1).map((e, i) => e - ends[i]!));
    samples.push({ bytes: n * 4, periodMs, runMs, ms: Math.max(0, periodMs - runMs) });
    tick();
  }
  const fit = fitBoundary(samples.map((s) => ({ inBytes: s.bytes, outBytes: 0, ms: s.ms })));
  const handoff = { mode, fixedMs: fit.fixedMs, msPerByte: fit.inMsPerByte, fitR2: fit.fitR2, samples };

  // The capacity model alone, as verify times a stage, then chained: every stage reads the model's
  // input (relayed along the pipeline) and makes its own output. Sized for a plan, it is timed at
  // 160x160 first and built again at the side that takes about the plan's mean stage time.
  const capacityModel = (side: number) => {
    const shape = [1, 3, side, side];
    const bytes = buildZooModel(CAPACITY_NET, { inputShape: shape });
    const input = new Float32Array(3 * side * side);
    for (let i = 0; i < input.length; i++) input[i] = ((i * 7919) % 1000) / 1000;
    const feeds = { input: new ort.Tensor('float32', input, shape) };
    const stage = (i: number): StageRunnable => ({ bytes, inputs: ['input'], outputs: ['output'], label: `capacity stage ${i}` });
    return { shape, input, feeds, stage };
  };
  const timeAlone = async (m: ReturnType<typeof capacityModel>, t: number) => {
    checkAbort();
    const runs = Math.max(10, Math.min(40, Math.ceil(CAPACITY_SPAN_MS / Math.max(targetMs ?? CAPACITY_MS, 1e-3))));
    const r = await timeBackToBack([m.stage(0)], m.feeds, { threads: t, runs, warmup: Math.min(WARMUP, runs), ...signal });
    return { ms: median(r.stageMs[0]!), cpuMs: median(r.stageCpuMs[0]!) };
  };
  let cap = capacityModel(CAPACITY_SIZE);
  let alone = await timeAlone(cap, threads);
  if (targetMs !== undefined) {
    const side = capacitySizeFor(targetMs, alone.ms);
    if (side !== CAPACITY_SIZE) {
      cap = capacityModel(side);
      alone = await timeAlone(cap, threads);
    }
  }
  const { input, feeds, stage } = cap;
  const singleMs = alone.ms;
  const cpuMs = alone.cpuMs;
  // Sized for a plan above one thread, the model keeps busy the cores its own speedup says (stageCores), as the plan's stages do.
  const speedup = targetMs !== undefined && threads > 1 ? (await timeAlone(cap, 1)).ms / singleMs : undefined;
  const parallelism = stageCores(threads, availableParallelism(), speedup);
  tick();
  const pipeFrames = targetMs !== undefined ? capacityFramesFor(Math.max(singleMs, (counts[0] ?? 1) * singleMs * parallelism / availableParallelism()), capacityFrames) : capacityFrames;
  const periods = counts.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const [c, k] of counts.entries()) {
      checkAbort();
      const p = await runPipeline(Array.from({ length: k }, (_, i) => stage(i)), feeds, { threads, frames: pipeFrames, warmup: WARMUP, queue: 1, handoff: mode, ...signal });
      periods[c]!.push(1000 / p.medianFps);
      tick();
    }
  }
  const capSamples = counts.map((k, c) => {
    const periodMs = median(periods[c]!);
    // Each stage receives the input, and all but the last send it on.
    const h = Array.from({ length: k }, (_, i) => handoffMs(handoff, input.byteLength * (i < k - 1 ? 2 : 1)));
    const fluidMs = hostPipelinePeriodMs(Array(k).fill(singleMs), h, Array(k).fill(parallelism), availableParallelism(), 1).periodMs;
    return { stages: k, periodMs, fluidMs, efficiency: fluidMs / periodMs };
  });
  return {
    schema: HOST_CALIBRATION_SCHEMA,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    threads,
    loadBefore,
    loadAfter: loadavg()[0]!,
    handoff,
    capacity: {
      model: `${CAPACITY_NET} ${cap.shape.join('x')}`, sessionThreads: threads, singleMs, cpuMs, parallelism,
      ...(targetMs !== undefined ? { targetMs } : {}), ...(speedup !== undefined ? { speedup } : {}), samples: capSamples,
    },
  };
}

/**
 * The efficiency for a pipeline of `stages` stages: the calibrated one of as many (the longest
 * calibrated past it; 1 for one stage), held to 1. Above 1 the capacity model wasted CPU time alone
 * (threads waiting on each other over small kernels) that sharing put to use, which is its own and
 * no stage's to count on.
 */
export function capacityEfficiency(host: Pick<HostCalibration, 'capacity'>, stages: number): number {
  const xs = host.capacity.samples.filter((x) => x.stages <= stages);
  if (stages <= 1 || xs.length === 0) return 1;
  return Math.min(1, xs[xs.length - 1]!.efficiency);
}
