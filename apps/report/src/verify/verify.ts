// `dnnpart verify` as a function: split a model by a plan, time every stage model on this machine,
// and hold the plan's predictions (stage times, latency, throughput) against the measurements.
import { availableParallelism, cpus, loadavg } from 'node:os';
import { disposeModelFiles, freshOutputAdvice, largeOutputBytes, levelNote, modelSource, outputMemory, randomFeeds, splitModel, wholeStage, type LoadedModel, type ModelFiles, type StageModel } from '@dnnpart/onnx-graph';
import { roomFor } from '@dnnpart/profiler';
import { ACTIVATION_FACTOR } from '../system/build.js';
import { VerifyError } from './errors.js';
import { quantile } from './_stats.js';
import { calibrateHost, calibrationSeconds, capacityEfficiency, handoffMs, hostPipelinePeriodMs, stageCores, type HostCalibration } from './host.js';
import { ALONE_UNMEASURED_RUNS, framesFor, measureStageMemory, mib, runPipeline, stageLevel, timeBackToBack, type Handoff, type Span, type StageMemory, type StageRunnable } from './measure.js';

export const VERIFY_SCHEMA = 'dnnpart/verify@1';
/** Stages predicted under this many ms get a note on this host's pipeline prediction (PaddleOCR's classifier cut in 2-4 on the bench). */
const SHORT_STAGE_MS = 0.5;
/** A stage whose one-thread time over its time at the plan's threads is below this gets a note: its extra threads slow it down. */
const SLOWER_SPEEDUP = 0.9;
/**
 * What measuring a stage's memory takes, for --max-seconds: two processes (onnxruntime's optimiser
 * saves the stage's graph, as an agent has it done; then the stage loads and runs), each about a second.
 */
const MEMORY_SECONDS_PER_STAGE = 2;
/** A stage whose plan memory is this far below its measured peak gets a note. */
const MEMORY_UNDER = 0.25;
/**
 * A stage whose plan's memory is more than this many times what it took (and at least
 * MEMORY_OVER_MIN_BYTES in the plan) gets a note: the plan adds every activation of the stage, and
 * onnxruntime reuses their buffers (PaddleOCR's recognizer: a stage planned at 177 MB took 13 MB).
 */
const MEMORY_OVER = 3;
const MEMORY_OVER_MIN_BYTES = 8 << 20;

/** What the plan predicts for a stage (from the plan file, or evaluatePlan on a problem). */
export interface StagePrediction {
  readonly computeMs: number;
  readonly kernelMs?: number;
  readonly boundaryMs?: number;
  /** The plan's memory of the stage on its board (the solver's: its nodes' weights plus the largest of their activationBytes, plus framesBytes). */
  readonly memoryBytes?: number;
  /** Of memoryBytes: what the stage holds for frames in flight on its board's agent (absent: none). */
  readonly framesBytes?: number;
}

/** What verify's back-to-back frames and pipeline frames cover at least when their counts are not given (VerifyOptions.runsSpanMs, framesSpanMs). */
export const DEFAULT_SPAN_MS = 500;

export interface VerifyOptions {
  /** Intra-op threads of each stage's session. */
  readonly threads: number;
  /**
   * The memory verify may still take, in bytes; default what this machine has available
   * (process.availableMemory). Too little for the whole model's session beside the stages': the
   * reference is not timed, and a note says so.
   */
  readonly availableMemoryBytes?: number;
  /** Measured back-to-back frames (each stage's median is over these). */
  readonly runs: number;
  /** Unmeasured frames first, back to back and through the pipeline: every stage session runs this many times before timing (20 warms ORT up). */
  readonly warmup: number;
  /** Measured frames through the pipeline (0: no pipeline run). */
  readonly pipelineFrames: number;
  /**
   * Raise `runs` until the back-to-back frames cover at least this many ms, by their warm-up frames'
   * median, and the warm-up until it covers a fifth of it (timeBackToBack's minSpanMs); default 0:
   * exactly `runs`. Stages of a tenth of a millisecond take 30 frames in 3 ms, one moment of a
   * machine whose speed moves from second to second. settings.runs is the count used.
   */
  readonly runsSpanMs?: number;
  /** Raise pipelineFrames (when above 0) until they cover this many ms by the measured stage times; default 0. settings.pipelineFrames is the count used. */
  readonly framesSpanMs?: number;
  /** Frames each stage's input queue holds. */
  readonly queue?: number;
  /**
   * Times the pipeline is run, each time with its warm-up and pipelineFrames measured frames (default
   * 1). Above 1 the measured figures are the runs' medians, and how far the runs spread says how much
   * this machine moves the same measurement: an error below that spread is within its noise.
   */
  readonly pipelineRepeats?: number;
  /** Refuse to start when the estimated run time exceeds this (seconds). */
  readonly maxSeconds?: number;
  /** Cores the pipeline may use (default: this machine's). */
  readonly cores?: number;
  /** How tensors cross between pipeline stages (default "transfer": moved, not copied). */
  readonly handoff?: Handoff;
  /**
   * This host's handoff and parallel capacity for the "this host" pipeline prediction: a calibration
   * made before (calibrateHost, same threads and handoff), false for none; default: calibrate now
   * when there is a prediction and a pipeline run (a few seconds).
   */
  readonly host?: HostCalibration | false;
  /** One profiled frame adds a span per ONNX kernel to the timeline. */
  readonly nodeTrace?: boolean;
  /** Measure each stage's memory in a process of its own (measureStageMemory), beside the plan's memory of it. */
  readonly memory?: boolean;
  /**
   * The whole model's predicted time on `boards`, the boards of the plan that stand for this machine
   * with one profile made here (one board, or copies of it): the whole model is then timed in the
   * same back-to-back runs as the stages, and the ratio of its measured to its predicted time, how
   * fast the machine runs now against when it was profiled, scales the predictions of those boards'
   * stages into a second error (scaledError) that a change of speed since the profile does not move.
   */
  readonly reference?: { readonly predictedMs: number; readonly boards: readonly string[] };
  /**
   * Every stage of the plan predicted on `board`, a board that stands for this machine (a board of
   * the system profiled here at these threads), whether or not the plan puts the stage there. A stage
   * the plan puts on another board is then held against what it should take here (VerifyStage.here),
   * the frame back to back too (VerifyResult.here), and this host's pipeline is predicted from those
   * times: what the plan predicts for another board, no measurement here can check.
   */
  readonly here?: { readonly board: string; readonly stages: readonly StagePrediction[] };
  readonly signal?: AbortSignal;
  readonly onProgress?: (phase: string, done: number, total: number) => void;
}

export interface VerifyStage {
  readonly index: number;
  readonly board: string;
  readonly nodes: number;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly predictedMs: number | null;
  readonly kernelMs: number | null;
  readonly boundaryMs: number | null;
  /** Median of the measured back-to-back runs. */
  readonly measuredMs: number;
  readonly p90Ms: number;
  /** The fastest measured run: the figure other processes on the machine disturb least. */
  readonly minMs: number;
  /** Median CPU time of the process (every thread) over the stage's runs: above measuredMs when its threads work in parallel. */
  readonly cpuMs: number;
  /** With more than one thread and a host prediction: the stage's median at one thread, timed back to back the same way (what its extra threads buy it). */
  readonly singleThreadMs?: number;
  /**
   * In a plan of more than one stage: the stage timed alone, run after run of its own session as a
   * board runs it (measuredMs runs the stages in turn, which then share this machine's caches).
   */
  readonly alone?: StageAlone;
  /** predicted / measured - 1 (null without a prediction). */
  readonly error: number | null;
  /** predicted x reference.ratio / measured - 1: the error left once the machine's speed now is taken into account (with a reference; null for a stage of another board). */
  readonly scaledError?: number | null;
  /**
   * With options.here, for a stage the plan puts on another board: its prediction on the board that
   * stands for this machine, and the errors of that prediction against the same measurement.
   */
  readonly here?: HereStage;
  /**
   * With the memory option: the plan's memory of the stage without its frames in flight, which is
   * what a stage alone in a process holds (null when the plan has none).
   */
  readonly predictedMemoryBytes?: number | null;
  /** With the memory option: the frames in flight the plan adds on the stage's board (its memoryBytes = predictedMemoryBytes + this). */
  readonly predictedFramesBytes?: number;
  /** With the memory option: what the stage took in a process of its own. */
  readonly memory?: StageMemory;
  /** predictedMemoryBytes / memory.peakBytes - 1. */
  readonly memoryError?: number | null;
}

/** A stage timed alone: its median and fastest run, and the prediction it is held against. */
export interface StageAlone {
  readonly measuredMs: number;
  readonly minMs: number;
  /** The stage's prediction here (the plan's, or with options.here for a stage of another board, its prediction on that board) / measuredMs - 1; null without a prediction. */
  readonly error: number | null;
  /** The same prediction scaled by reference.aloneRatio / measuredMs - 1 (with a reference timed alone; null for a stage whose board does not stand for this machine). */
  readonly scaledError?: number | null;
}

/** A stage of another board, as predicted on the board that stands for this machine. */
export interface HereStage {
  readonly board: string;
  readonly predictedMs: number;
  readonly kernelMs: number | null;
  readonly boundaryMs: number | null;
  /** predictedMs / the stage's measured median - 1. */
  readonly error: number;
  /** The same with predictedMs scaled by the reference's ratio (with a reference of that board). */
  readonly scaledError?: number;
}

/** The whole model timed in the same runs as the stages, against its prediction. */
export interface VerifyReference {
  /** The boards whose profile (one, made here) predicts this machine. */
  readonly boards: readonly string[];
  readonly predictedMs: number;
  /** Median over the back-to-back runs, each right after the frame's stages. */
  readonly measuredMs: number;
  readonly p90Ms: number;
  /** measuredMs / predictedMs: above 1 when the machine runs slower now than when it was profiled (load, thermal throttling, clock). */
  readonly ratio: number;
  /** The whole model timed alone, in turn with the stages alone (as the profile timed it), and that over predictedMs. */
  readonly aloneMs?: number;
  readonly aloneRatio?: number;
}

export interface VerifyFigures {
  readonly predictedFps: number | null;
  readonly measuredFps: number;
  readonly predictedLatencyMs: number | null;
  readonly measuredLatencyMs: number;
  readonly fpsError: number | null;
  readonly latencyError: number | null;
}

/** The pipeline as predicted for this host: the plan's stage times plus handoffs, on cores shared as calibrated. */
export interface HostPrediction {
  readonly predictedFps: number;
  readonly periodMs: number;
  /** predicted / measured FPS - 1. */
  readonly fpsError: number;
  /** predicted / the measured median-gap FPS - 1. */
  readonly fpsErrorMedian: number;
  /**
   * Median latency of a frame in the simulated pipeline, queueing included (verify's pipeline keeps
   * it saturated: a frame waits in every full queue), and its error against the measured median.
   */
  readonly latencyMs: number;
  readonly latencyError?: number;
  /** Time-averaged number of stages running at once in the simulated pipeline, and how much sharing the cores stretches its slowest stage. */
  readonly concurrency: number;
  readonly slowdown: number;
  readonly stages: readonly {
    /** The stage's time here by the plan: its computeMs, or for a stage of another board its prediction on the board that stands for this machine (options.here). */
    readonly predictedMs: number;
    /** Cores the stage keeps busy while it runs (stageCores: its speedup plus what its extra threads waste, or all its threads without a speedup). */
    readonly parallelism: number;
    /** Bytes the stage receives and sends on per frame in verify's pipeline. */
    readonly handoffBytes: number;
    readonly handoffMs: number;
    /** Its time at one thread over its time at the plan's threads, measured here (with more than one thread). */
    readonly speedup?: number;
  }[];
  /**
   * The same simulation fed with the stages' measured back-to-back medians instead of the plan's
   * times: what is left of fpsError here is the sharing model's, not the stage predictions'.
   */
  readonly fromMeasuredStages?: { readonly predictedFps: number; readonly periodMs: number; readonly fpsError: number; readonly fpsErrorMedian: number };
  /** The same simulation with the reference board's stage times scaled by the reference ratio (the machine's speed now); with a reference. */
  readonly scaled?: { readonly predictedFps: number; readonly periodMs: number; readonly fpsError: number; readonly fpsErrorMedian: number };
  /** The calibration used (the full one is the result's hostCalibration). */
  readonly handoffFixedMs: number;
  readonly handoffMsPerByte: number;
  /** The share of a fluid split of the cores that a calibrated pipeline of as many stages got (capacityEfficiency). */
  readonly efficiency: number;
  /** Time-averaged cores' worth of work the stages get in the simulated pipeline. */
  readonly effectiveCores: number;
}

export interface VerifyResult {
  readonly schema: typeof VERIFY_SCHEMA;
  readonly model: { readonly name: string; readonly file: string; readonly sha256: string };
  readonly machine: { readonly cpu: string; readonly cores: number; readonly loadBefore: number; readonly loadAfter: number };
  readonly settings: { readonly threads: number; readonly runs: number; readonly warmup: number; readonly pipelineFrames: number; readonly queue: number; readonly pipelineRepeats?: number };
  /** The plan that was verified (node names per stage), so `--plan verify.json` repeats it. */
  readonly plan: { readonly stages: readonly { readonly board: string; readonly nodes: readonly string[] }[] };
  readonly stages: readonly VerifyStage[];
  /** The whole model timed in the same runs (with options.reference). */
  readonly reference?: VerifyReference;
  /**
   * With options.here and a stage of the plan on another board: one frame through every stage in
   * turn as predicted on the board that stands for this machine (each stage's here prediction, or
   * the plan's own for the stages on that board), against the same back-to-back measurement.
   */
  readonly here?: { readonly board: string; readonly stages: number; readonly backToBack: VerifyFigures };
  /** One frame through every stage in turn, in one thread: latency = the frame's time, fps = 1000 / it. */
  readonly backToBack: VerifyFigures;
  /**
   * One worker thread per stage with bounded queues. Predicted period: the slowest stage, or the
   * stages' total CPU time (time x threads) spread over the cores, whichever is longer. Predicted
   * latency: the stages' sum (queueing not included; the measured one includes it).
   */
  readonly pipeline?: VerifyFigures & {
    readonly frames: number;
    readonly cores: number;
    /** How tensors crossed between stages. */
    readonly handoff?: Handoff;
    /** 1000 / the median gap between frames leaving the pipeline (measuredFps is over the whole run). */
    readonly measuredMedianFps?: number;
    /** The plan's own prediction, 1000 / its slowest stage: a board per stage, each with its own cores (links left out). */
    readonly planFps?: number | null;
    readonly planFpsError?: number | null;
    /** What this host should measure (plan's stage times + calibrated handoffs, on shared cores); absent without a prediction or calibration. */
    readonly host?: HostPrediction;
    /** With pipelineRepeats above 1: each run's FPS over its frames and from its median gap (measuredFps and measuredMedianFps are their medians). */
    readonly runs?: readonly { readonly fps: number; readonly medianFps: number }[];
    /** With pipelineRepeats above 1: (the fastest run's FPS - the slowest's) / measuredFps. */
    readonly spread?: number;
  };
  /** The host calibration the "this host" prediction used. */
  readonly hostCalibration?: HostCalibration;
  readonly notes: readonly string[];
}

const rel = (p: number | null, m: number): number | null => (p === null || !(m > 0) ? null : p / m - 1);
const pct0 = (x: number): string => `${(x * 100).toFixed(0)} %`;
/** The median share by which the stages run in turn were slower than alone above which verify says so. */
const SHARED_CACHE_NOTE = 0.1;

/** A stage's measured memory (alone in a process) beside the plan's figure for it without frames in flight. */
function aloneMemory(p: StagePrediction | undefined, memory: StageMemory): Pick<VerifyStage, 'predictedMemoryBytes' | 'predictedFramesBytes' | 'memory' | 'memoryError'> {
  const alone = p?.memoryBytes === undefined ? null : p.memoryBytes - (p.framesBytes ?? 0);
  return { predictedMemoryBytes: alone, ...(p?.framesBytes !== undefined ? { predictedFramesBytes: p.framesBytes } : {}), memory, memoryError: rel(alone, memory.peakBytes) };
}

/** Predicted pipeline period on `cores` cores when every stage runs with `threads` threads. */
export function pipelinePeriodMs(stageMs: readonly number[], threads: number, cores: number): number {
  const slowest = Math.max(...stageMs);
  const cpu = stageMs.reduce((a, x) => a + x, 0) * Math.min(threads, cores);
  return Math.max(slowest, cpu / cores);
}

/** Seconds a verify run takes by the prediction: back-to-back frames (with more than one thread, at one thread too), then the pipeline's. */
export function estimateSeconds(predictedMs: readonly number[], o: Pick<VerifyOptions, 'runs' | 'warmup' | 'pipelineFrames' | 'threads' | 'cores' | 'reference' | 'pipelineRepeats'>): number {
  const frame = predictedMs.reduce((a, x) => a + x, 0);
  const cores = o.cores ?? availableParallelism();
  const pipeline = o.pipelineFrames > 0 ? (o.pipelineRepeats ?? 1) * ((o.pipelineFrames + o.warmup) * pipelinePeriodMs(predictedMs, o.threads, cores) + frame) : 0;
  // The stages at one thread too, before a pipeline of several threads each: at most threads x as long.
  const single = o.threads > 1 && o.pipelineFrames > 0 ? (o.runs + o.warmup) * frame * Math.min(o.threads, cores) : 0;
  // Each stage, and the reference, alone too (a plan of several stages): as many runs, and a few to settle.
  const alone = predictedMs.length > 1 ? (o.runs + ALONE_UNMEASURED_RUNS) * (frame + (o.reference?.predictedMs ?? 0)) : 0;
  return ((o.runs + o.warmup) * (frame + (o.reference?.predictedMs ?? 0)) + single + pipeline + alone) / 1000;
}

/**
 * What this host's capacity calibration is sized for: at one thread, the plan's stage times (the
 * share of the cores one-thread stages get depends on how long they run: three stages on two cores
 * got 0.63-0.76 of a fluid share at 0.7-4 ms a stage, 0.84 at 8 ms). Above one thread, none: the
 * two-thread rule (stageCores) was fitted with the unsized calibration, and sizing did not help
 * there in three paired bench runs (bench/results/verify-stages.md, runs 18-20: at one thread 35 of 54
 * pipelines within 10 % sized against 28 unsized, at two threads 35 against 37).
 */
function capacityTarget(predicted: readonly StagePrediction[], threads: number): { stageMs?: readonly number[] } {
  return threads === 1 ? { stageMs: predicted.map((p) => p.computeMs) } : {};
}

/**
 * Split `model` by `stageOf` (node -> stage), time every stage here, and compare with `predicted`
 * (one per stage, or null when the plan carries no prediction). `boards` names each stage's board.
 */
export async function verifyPlan(
  model: LoadedModel,
  modelFile: string,
  stageOf: Readonly<Record<string, number>>,
  boards: readonly string[],
  predicted: readonly StagePrediction[] | null,
  options: VerifyOptions,
): Promise<{ result: VerifyResult; spans: readonly Span[] }> {
  const files: ModelFiles = {};
  try {
    return await verifyWith(files, [model, modelFile, stageOf, boards, predicted, options]);
  } finally {
    await disposeModelFiles(files);
  }
}

/**
 * A stage as verify runs it: its bytes, or one whose weights come near protobuf's 2 GB written as a
 * file in `files.dir` with them beside it, for onnxruntime to take by path (modelSource).
 */
async function runnableStage(s: Pick<StageModel, 'proto' | 'bytes' | 'inputs' | 'outputs'>, label: string, files: ModelFiles): Promise<StageRunnable> {
  let source: Uint8Array | string;
  try {
    source = await modelSource(s.proto, files, label);
  } catch (e) {
    throw new VerifyError('VERIFY_RUN_FAILED', `${label}: cannot write it with its weights beside it for onnxruntime: ${(e as Error).message}`, { cause: e });
  }
  return typeof source === 'string'
    ? { get bytes() { return s.bytes; }, modelPath: source, inputs: s.inputs, outputs: s.outputs, label }
    : { bytes: source, inputs: s.inputs, outputs: s.outputs, label };
}

async function verifyWith(files: ModelFiles, args: Parameters<typeof verifyPlan>): Promise<{ result: VerifyResult; spans: readonly Span[] }> {
  const [model, modelFile, stageOf, boards, predicted, options] = args;
  const repeats = options.pipelineRepeats ?? 1;
  for (const [k, v, min] of [['threads', options.threads, 1], ['runs', options.runs, 1], ['warmup', options.warmup, 0], ['pipelineFrames', options.pipelineFrames, 0], ['pipelineRepeats', repeats, 1]] as const) {
    if (!Number.isInteger(v) || v < min) throw new VerifyError('VERIFY_BAD_OPTIONS', `${k} must be an integer >= ${min}, got ${v}`);
  }
  const runsSpanMs = options.runsSpanMs ?? 0;
  const framesSpanMs = options.pipelineFrames > 0 ? options.framesSpanMs ?? 0 : 0;
  for (const [k, v] of [['runsSpanMs', runsSpanMs], ['framesSpanMs', framesSpanMs]] as const) {
    if (!(v >= 0 && Number.isFinite(v))) throw new VerifyError('VERIFY_BAD_OPTIONS', `${k} must be a number of ms >= 0, got ${v}`);
  }
  // What the spans add at most: the back-to-back frames (the reference run beside them, the stages
  // alone, and the one-thread pass) and each pipeline run, with their warm-ups.
  const spanSeconds = (1.2 * runsSpanMs * 4 + 1.2 * framesSpanMs * repeats) / 1000;
  if (options.reference !== undefined && !(options.reference.predictedMs > 0)) {
    throw new VerifyError('VERIFY_BAD_OPTIONS', `reference.predictedMs must be a positive number of ms, got ${options.reference.predictedMs}`);
  }
  // The board that stands for this machine may run no stage of the plan: its profile still predicts them all here.
  const stray = options.reference?.boards.find((b) => !boards.includes(b) && b !== options.here?.board);
  if (options.reference !== undefined && (stray !== undefined || options.reference.boards.length === 0)) {
    throw new VerifyError('VERIFY_BAD_OPTIONS', stray !== undefined
      ? `reference board "${stray}" runs no stage of the plan (boards: ${[...new Set(boards)].join(', ')})`
      : 'reference.boards is empty: name the boards of the plan that stand for this machine');
  }
  const split = splitModel(model, { stages: stageOf });
  if (predicted !== null && predicted.length !== split.stages.length) {
    throw new VerifyError('VERIFY_BAD_OPTIONS', `the plan predicts ${predicted.length} stages but splits into ${split.stages.length}`);
  }
  if (options.here !== undefined && options.here.stages.length !== split.stages.length) {
    throw new VerifyError('VERIFY_BAD_OPTIONS', `here predicts ${options.here.stages.length} stages on board "${options.here.board}" but the plan splits into ${split.stages.length}`);
  }
  // What each stage should take on this machine: for a stage of another board, its prediction on the
  // board that stands for this machine; for the rest, the plan's own.
  const hereBoard = predicted !== null ? options.here?.board : undefined;
  const elsewhere = (i: number): boolean => hereBoard !== undefined && (boards[i] ?? `stage${i}`) !== hereBoard;
  const local: readonly StagePrediction[] | null = predicted === null ? null : predicted.map((p, i) => (elsewhere(i) ? options.here!.stages[i]! : p));
  const cores = options.cores ?? availableParallelism();
  const notes: string[] = [];
  // This host is calibrated before the pipeline when nothing else was given and there is a prediction to price.
  const calibrate = options.pipelineFrames > 0 && options.host === undefined && predicted !== null;
  if (predicted !== null && options.maxSeconds !== undefined) {
    const cal = calibrate ? calibrationSeconds({ sessions: split.stages.length, ...capacityTarget(local!, options.threads), threads: options.threads }) : 0;
    // A one-stage plan is its own reference: no extra run.
    const { reference: _ref, ...rest } = options;
    // A Node process per stage for its memory: about a second each, loading included.
    const mem = options.memory ? split.stages.length * MEMORY_SECONDS_PER_STAGE : 0;
    const est = estimateSeconds(local!.map((p) => p.computeMs), { ...rest, cores, ...(_ref && split.stages.length > 1 ? { reference: _ref } : {}) }) + cal + mem + spanSeconds;
    if (est > options.maxSeconds) {
      throw new VerifyError('VERIFY_TOO_SLOW', `verifying this plan would take about ${est.toFixed(0)} s by its prediction (${options.warmup + options.runs} frames of ${local!.reduce((a, p) => a + p.computeMs, 0).toFixed(1)} ms back to back${split.stages.length > 1 ? ', each stage alone as many times' : ''}${options.pipelineFrames > 0 ? `, ${options.pipelineFrames + options.warmup} through the pipeline${repeats > 1 ? ` ${repeats} times` : ''}` : ''}${cal > 0 ? `, about ${cal.toFixed(0)} s calibrating this host` : ''}${mem > 0 ? `, about ${mem.toFixed(0)} s measuring stage memory` : ''}), over --max-seconds ${options.maxSeconds}; lower --runs${repeats > 1 ? ', --frames or --repeat' : ' or --frames'}, or raise --max-seconds`);
    }
  }
  const stages: StageRunnable[] = [];
  for (const [i, s] of split.stages.entries()) stages.push(await runnableStage(s, `stage ${i} (${boards[i] ?? `stage${i}`})`, files));
  const feeds = randomFeeds(model.graph, 1);
  // The whole model as one stage: the graph the stages were cut from, with its inputs and outputs.
  const reference: StageRunnable | undefined = options.reference && split.stages.length > 1
    ? await runnableStage(wholeStage(model), 'whole model (reference)', files)
    : undefined;
  const loadBefore = loadavg()[0]!;
  const progress = options.onProgress ?? (() => {});
  const b2b = await timeBackToBack(stages, feeds, {
    threads: options.threads, runs: options.runs, warmup: options.warmup, ...(options.nodeTrace ? { nodeTrace: true } : {}),
    ...(reference ? { reference } : {}), ...(runsSpanMs > 0 ? { minSpanMs: runsSpanMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.availableMemoryBytes !== undefined ? { availableMemoryBytes: options.availableMemoryBytes } : {}),
    ...(options.pipelineFrames > 0 ? { measureSessions: true } : {}),
    alone: true,
    onRun: (d, t) => progress('stages back to back', d, t),
    onAloneRun: (d, t) => progress('each stage alone', d, t),
  });
  const runs = b2b.totalMs.length;
  // The pipeline's frames, sized by the stage times just measured.
  // Each stage's median, for the pipeline's frames here and for each stage's figures below.
  const stageMedians = b2b.stageMs.map((xs) => quantile(xs, 0.5));
  const measuredPeriod = pipelinePeriodMs(stageMedians, options.threads, cores);
  // The pipeline holds every stage's session at once, in worker threads, with frames in flight:
  // without room for that, the stages' own times are what verify measures (a note says so).
  const room = b2b.sessionsBytes === undefined ? undefined : roomFor(b2b.sessionsBytes, options.availableMemoryBytes);
  const pipelineFits = room === undefined || room.fits;
  if (room && !room.fits) notes.push(`the pipeline was not run: the stages' sessions took ${mib(b2b.sessionsBytes!)} back to back and this machine had ${mib(room.availableBytes)} left, too little for them again in worker threads with frames in flight`);
  const pipelineFrames = pipelineFits ? framesFor(options.pipelineFrames, framesSpanMs, measuredPeriod) : 0;
  const pipelineWarmup = framesFor(options.warmup, framesSpanMs / 5, measuredPeriod);
  if (predicted === null && options.maxSeconds !== undefined) {
    // No prediction: estimate from what was just measured, before the pipeline.
    const rest = pipelineFrames > 0 ? (repeats * (pipelineFrames + pipelineWarmup) * measuredPeriod) / 1000 : 0;
    if (rest > options.maxSeconds) {
      throw new VerifyError('VERIFY_TOO_SLOW', `the pipeline run would take about ${rest.toFixed(0)} s by the measured stage times, over --max-seconds ${options.maxSeconds}; lower --frames${repeats > 1 ? ' or --repeat' : ''} or raise --max-seconds`);
    }
    notes.push('the plan carries no prediction: measured figures only (give --system or --problem to predict)');
  }
  const memory = options.memory
    ? await measureStageMemory(stages, b2b.tensors, {
      threads: options.threads, ...(options.signal ? { signal: options.signal } : {}),
      onStage: (d, t) => progress('stage memory', d, t),
    })
    : null;
  for (const [i, m] of (memory ?? []).entries()) if (typeof m === 'string') notes.push(`stage ${i}'s memory was not measured: ${m}`);
  // A stage onnxruntime refused to optimise fully runs at a lower level here and on its board.
  for (const s of stages) {
    const lowered = levelNote(s.label, stageLevel(s));
    if (lowered) notes.push(lowered);
  }
  const handoff = options.handoff ?? 'transfer';
  // What each stage's extra threads buy it, for this host's prediction of the shared cores (stageCores).
  const single = options.threads > 1 && pipelineFrames > 0 && predicted !== null && options.host !== false
    ? await timeBackToBack(stages, feeds, {
      threads: 1, runs, warmup: options.warmup, ...(options.signal ? { signal: options.signal } : {}),
      onRun: (d, t) => progress('stages back to back at 1 thread', d, t),
    })
    : null;
  let pipe: Awaited<ReturnType<typeof runPipeline>> | undefined;
  const pipeRuns: Awaited<ReturnType<typeof runPipeline>>[] = [];
  let host: HostCalibration | undefined;
  if (pipelineFrames > 0) {
    if (options.host) {
      if (options.host.threads !== options.threads || options.host.handoff.mode !== handoff) {
        throw new VerifyError('VERIFY_BAD_OPTIONS', `the host calibration is for ${options.host.threads} thread(s) and handoff ${options.host.handoff.mode}, this run uses ${options.threads} and ${handoff}; calibrate again`);
      }
      host = options.host;
    } else if (calibrate) {
      host = await calibrateHost({
        threads: options.threads, sessions: split.stages.length, handoff, ...capacityTarget(local!, options.threads),
        ...(options.signal ? { signal: options.signal } : {}), onProgress: (d, t) => progress('calibrating this host', d, t),
      });
    }
    progress('pipeline', 0, repeats);
    for (let r = 0; r < repeats; r++) {
      pipeRuns.push(await runPipeline(stages, feeds, {
        threads: options.threads, frames: pipelineFrames, warmup: pipelineWarmup, queue: options.queue ?? 1, handoff,
        ...(options.signal ? { signal: options.signal } : {}),
      }));
      progress('pipeline', r + 1, repeats);
    }
    // The runs' medians; the trace keeps the first run's spans.
    pipe = repeats === 1 ? pipeRuns[0]! : {
      frames: pipeRuns[0]!.frames, fps: quantile(pipeRuns.map((x) => x.fps), 0.5), medianFps: quantile(pipeRuns.map((x) => x.medianFps), 0.5),
      latencyMs: pipeRuns.flatMap((x) => x.latencyMs), spans: pipeRuns[0]!.spans,
    };
  }
  const runFps = pipeRuns.map((x) => x.fps);
  const [slowest, fastest] = [Math.min(...runFps), Math.max(...runFps)];
  const spread = pipe && repeats > 1 ? (fastest - slowest) / pipe.fps : undefined;
  if (spread !== undefined && spread > 0.1) {
    notes.push(`the pipeline's throughput moved ${(spread * 100).toFixed(0)} % between its ${repeats} runs (${slowest.toFixed(1)} to ${fastest.toFixed(1)} FPS): a pipeline error smaller than that is within this machine's own variation`);
  }
  if (predicted !== null && new Set(boards).size > 1) {
    notes.push(hereBoard === undefined
      ? `predicted times are for each stage's board (${[...new Set(boards)].join(', ')}); measured ones are all on this machine, so they compare only where the boards are this machine (with --system, a board profiled here by dnnpart profile prices every stage here too)`
      : `predicted times are for each stage's board (${[...new Set(boards)].join(', ')}); measured ones are all on this machine, so the stages of other boards than ${hereBoard} are held against their prediction on ${hereBoard} (its profile, made here), and this host's pipeline is predicted from those times`);
  }
  if (pipe && split.stages.length * options.threads > cores) {
    notes.push(`${split.stages.length} stages of ${options.threads} thread(s) share this machine's ${cores} cores: the pipeline measured checks this host's prediction (shared cores), not the plan's (a board per stage)`);
  }
  const short = local?.filter((p) => p.computeMs < SHORT_STAGE_MS).length ?? 0;
  if (pipe && host && short > 0) {
    notes.push(`${short} stage(s) predicted under ${SHORT_STAGE_MS} ms: next to stages that short, handing a frame between threads costs more than the handoff calibration (timed with stages that do nothing) says, and this host's pipeline prediction ran 13-67 % fast on such stages here (bench/results/verify-stages.md)`);
  }
  // Outputs of 32 MiB or more cost their pages afresh every run unless glibc was told to reuse them,
  // which no boundary calibration prices (its tensors, to 16 MB, reuse memory).
  const large = split.stages.map((s, i) => ({ who: `stage ${i}`, bytes: largeOutputBytes(model.graph, s.outputs) }));
  const freshNote = freshOutputAdvice(large, outputMemory(), predicted !== null ? ", which the plan's boundary cost (calibrated on tensors up to 16 MB, whose memory is reused) leaves out, so such stages can take longer than predicted" : '');
  if (freshNote) notes.push(freshNote);
  const loadAfter = loadavg()[0]!;
  if (Math.max(loadBefore, loadAfter) > cores) notes.push(`machine load average ${Math.max(loadBefore, loadAfter).toFixed(1)} exceeded its ${cores} cores: timings include contention from other processes`);

  // A one-stage plan is its own reference: its stage is the whole model.
  const refTimes = reference ? (b2b.referenceMs ?? null) : options.reference ? b2b.stageMs[0]! : null;
  if (b2b.referenceSkipped) notes.push(b2b.referenceSkipped);
  const refAlone = b2b.referenceAloneMs ? quantile(b2b.referenceAloneMs, 0.5) : undefined;
  const ref: VerifyReference | undefined = options.reference && refTimes
    ? {
      boards: [...options.reference.boards], predictedMs: options.reference.predictedMs, measuredMs: quantile(refTimes, 0.5), p90Ms: quantile(refTimes, 0.9), ratio: quantile(refTimes, 0.5) / options.reference.predictedMs,
      ...(refAlone !== undefined ? { aloneMs: refAlone, aloneRatio: refAlone / options.reference.predictedMs } : {}),
    }
    : undefined;
  const scale = (i: number): number | null => (ref && ref.boards.includes(boards[i] ?? `stage${i}`) ? ref.ratio : null);
  const hereScale = ref && hereBoard !== undefined && ref.boards.includes(hereBoard) ? ref.ratio : null;
  if (ref && Math.abs(ref.ratio - 1) > 0.1) {
    notes.push(`the whole model, timed in the same runs as the stages, took ${ref.measuredMs.toFixed(2)} ms against ${ref.predictedMs.toFixed(2)} ms predicted (${ref.ratio > 1 ? `${((ref.ratio - 1) * 100).toFixed(0)} % slower` : `${((1 - ref.ratio) * 100).toFixed(0)} % faster`}): this machine runs at another speed than when it was profiled (load, thermal throttling, clock); scaledError takes that out, or profile again`);
  }
  const aloneOf = (i: number): StageAlone | undefined => {
    const xs = b2b.aloneMs?.[i];
    if (!xs) return undefined;
    const ms = quantile(xs, 0.5);
    // Held against what the stage should take here: the plan's prediction, or for a stage of another board its prediction here.
    const p = local?.[i]?.computeMs ?? null;
    // Scaled as the stage's error in turn is: by the whole model alone when its board (or, for a stage of another board, the board here) stands for this machine.
    const ratio = ref?.aloneRatio !== undefined && (elsewhere(i) ? hereScale : scale(i)) !== null ? ref.aloneRatio : null;
    return { measuredMs: ms, minMs: Math.min(...xs), error: rel(p, ms), ...(ref?.aloneRatio !== undefined ? { scaledError: rel(p !== null && ratio !== null ? p * ratio : null, ms) } : {}) };
  };
  const vStages: VerifyStage[] = split.stages.map((s, i) => {
    const p = predicted?.[i];
    const measuredMs = stageMedians[i]!;
    const alone = aloneOf(i);
    return {
      index: i, board: boards[i] ?? `stage${i}`, nodes: s.nodes.length, inputs: s.inputs, outputs: s.outputs,
      predictedMs: p?.computeMs ?? null, kernelMs: p?.kernelMs ?? null, boundaryMs: p?.boundaryMs ?? null,
      measuredMs, p90Ms: quantile(b2b.stageMs[i]!, 0.9), minMs: Math.min(...b2b.stageMs[i]!), cpuMs: quantile(b2b.stageCpuMs[i]!, 0.5), error: rel(p?.computeMs ?? null, measuredMs),
      ...(single ? { singleThreadMs: quantile(single.stageMs[i]!, 0.5) } : {}),
      ...(alone ? { alone } : {}),
      ...(ref ? { scaledError: rel(p && scale(i) !== null ? p.computeMs * scale(i)! : null, measuredMs) } : {}),
      ...(p && elsewhere(i) ? { here: hereStage(hereBoard!, local![i]!, measuredMs, hereScale) } : {}),
      ...(memory && typeof memory[i] === 'object' ? aloneMemory(p, memory[i]) : {}),
    };
  });
  // Stages run in turn share the caches; a board runs its stage alone, as the plan predicts it.
  const turnCost = vStages.filter((x) => x.alone).map((x) => x.measuredMs / x.alone!.measuredMs - 1);
  if (turnCost.length > 0 && quantile(turnCost, 0.5) > SHARED_CACHE_NOTE) {
    notes.push(`run in turn in one process, the stages took ${pct0(Math.min(...turnCost))} to ${pct0(Math.max(...turnCost))} longer than each alone (their sessions share this machine's caches, and a stage whose weights fit in them alone loses that): a board runs its stage alone ("alone ms"); the plan prices a stage by its nodes' times inside the whole model, so a stage that fits in caches the whole model did not fit in can also run faster alone than predicted`);
  }
  // The plan's memory counts each node's weights once, plus ACTIVATION_FACTOR x the activations alive at the stage's
  // peak and 2 MB; onnxruntime also keeps prepacked weights, convolution workspace and an arena.
  const under = vStages.filter((x) => x.memoryError !== undefined && x.memoryError !== null && x.memoryError < -MEMORY_UNDER);
  if (under.length > 0) {
    notes.push(`the plan's memory of ${under.length === 1 ? 'stage' : 'stages'} ${under.map((x) => x.index).join(', ')} is ${under.map((x) => `${(-x.memoryError! * 100).toFixed(0)} %`).join(', ')} below what ${under.length === 1 ? 'it' : 'they'} took here in a process of ${under.length === 1 ? 'its' : 'their'} own: a board whose memory the plan fills may not hold ${under.length === 1 ? 'it' : 'them'}; leave that much room in the boards' memoryBytes`);
  }
  const over = vStages.filter((x) => x.memory && (x.predictedMemoryBytes ?? 0) >= MEMORY_OVER_MIN_BYTES && x.predictedMemoryBytes! > MEMORY_OVER * x.memory.peakBytes);
  if (over.length > 0) {
    notes.push(`the plan's memory of ${over.length === 1 ? 'stage' : 'stages'} ${over.map((x) => x.index).join(', ')} is ${over.map((x) => `${(x.predictedMemoryBytes! / x.memory!.peakBytes).toFixed(1)}x`).join(', ')} what ${over.length === 1 ? 'it' : 'they'} took here: the plan counts every activation alive at the stage's peak in the model's order, ${ACTIVATION_FACTOR} times over (tensors relayed past its nodes included, which a board's agent holds and this measurement does not); boards' memoryBytes are checked against the plan's figure, so a plan that fits has room to spare, and a board the plan calls too small may still hold the stage`);
  }
  // Stages that their extra threads slow down: small kernels whose threads wait on each other more than they share.
  const slower = vStages.filter((x) => x.singleThreadMs !== undefined && x.singleThreadMs / x.measuredMs < SLOWER_SPEEDUP);
  if (slower.length > 0) {
    notes.push(`${slower.length === 1 ? 'stage' : 'stages'} ${slower.map((x) => x.index).join(', ')} ran slower at ${options.threads} threads than at 1 (${slower.map((x) => `x${(x.singleThreadMs! / x.measuredMs).toFixed(2)}`).join(', ')} of the one-thread speed): their kernels are too small to share; run and profile them at 1 thread. this host's prediction overstated the throughput of pipelines of such stages by up to 85 % here (bench/results/verify-stages.md)`);
  }
  const measLatency = quantile(b2b.totalMs, 0.5);
  const backToBack = frameFigures(predicted, measLatency);
  const predSum = backToBack.predictedLatencyMs;
  // The stages the plan puts on other boards than the one that stands for this machine (options.here).
  const moved = vStages.filter((_, i) => elsewhere(i)).length;
  let pipeline: VerifyResult['pipeline'];
  if (pipe) {
    const period = predicted === null ? null : pipelinePeriodMs(predicted.map((x) => x.computeMs), options.threads, cores);
    const lat = quantile(pipe.latencyMs, 0.5);
    const planFps = predicted === null ? null : 1000 / Math.max(...predicted.map((x) => x.computeMs));
    pipeline = {
      frames: pipe.frames, cores,
      predictedFps: period === null ? null : 1000 / period, measuredFps: pipe.fps,
      predictedLatencyMs: predSum, measuredLatencyMs: lat,
      fpsError: rel(period === null ? null : 1000 / period, pipe.fps), latencyError: rel(predSum, lat),
      handoff, measuredMedianFps: pipe.medianFps, planFps, planFpsError: rel(planFps, pipe.fps),
      ...(predicted !== null && host ? {
        host: hostPrediction(local!.map((x) => x.computeMs), handoffBytes(model, split.stages, feeds), host, {
          fps: pipe.fps, medianFps: pipe.medianFps, latencyMs: lat, queue: options.queue ?? 1, stageMs: vStages.map((x) => x.measuredMs),
          ...(ref ? { speedRatio: local!.map((_, i) => (elsewhere(i) ? hereScale : scale(i)) ?? 1) } : {}),
          ...(single ? { speedups: vStages.map((x) => x.singleThreadMs! / x.measuredMs) } : {}),
        }),
      } : {}),
      ...(spread !== undefined ? { runs: pipeRuns.map((x) => ({ fps: x.fps, medianFps: x.medianFps })), spread } : {}),
    };
  }
  const planStages = split.stages.map((s, i) => ({ board: boards[i] ?? `stage${i}`, nodes: s.nodes }));
  const result: VerifyResult = {
    schema: VERIFY_SCHEMA,
    model: { name: model.graph.name, file: modelFile, sha256: model.sha256 },
    machine: { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores, loadBefore, loadAfter },
    settings: { threads: options.threads, runs, warmup: options.warmup, pipelineFrames, queue: options.queue ?? 1, ...(repeats > 1 ? { pipelineRepeats: repeats } : {}) },
    plan: { stages: planStages },
    stages: vStages,
    ...(ref ? { reference: ref } : {}),
    ...(local !== null && hereBoard !== undefined && moved > 0 ? { here: { board: hereBoard, stages: moved, backToBack: frameFigures(local, measLatency) } } : {}),
    backToBack,
    ...(pipeline ? { pipeline } : {}),
    ...(host ? { hostCalibration: host } : {}),
    notes,
  };
  return { result, spans: [...b2b.spans, ...(pipe?.spans ?? [])] };
}

/** A stage of another board held against its prediction on `board`, the board that stands for this machine. */
function hereStage(board: string, p: StagePrediction, measuredMs: number, ratio: number | null): HereStage {
  return {
    board, predictedMs: p.computeMs, kernelMs: p.kernelMs ?? null, boundaryMs: p.boundaryMs ?? null, error: p.computeMs / measuredMs - 1,
    ...(ratio !== null ? { scaledError: (p.computeMs * ratio) / measuredMs - 1 } : {}),
  };
}

/** One frame back to back: the stages' predictions summed (null without any) against the measured frame time. */
function frameFigures(stages: readonly StagePrediction[] | null, measuredMs: number): VerifyFigures {
  const ms = stages === null ? null : stages.reduce((a, x) => a + x.computeMs, 0);
  const fps = ms === null ? null : 1000 / ms;
  return { predictedFps: fps, measuredFps: 1000 / measuredMs, predictedLatencyMs: ms, measuredLatencyMs: measuredMs, fpsError: rel(fps, 1000 / measuredMs), latencyError: rel(ms, measuredMs) };
}

/**
 * Bytes each stage of verify's pipeline receives plus sends on per frame, as the stage worker moves
 * them: stage 0 gets every model input from the main thread; each stage passes on what later stages
 * still read (its outputs and what it relays); the last sends nothing back but its timings.
 */
export function handoffBytes(
  model: LoadedModel,
  stages: readonly { readonly inputs: readonly string[]; readonly outputs: readonly string[] }[],
  feeds: Readonly<Record<string, { readonly data: unknown }>>,
): number[] {
  const lastUse = new Map<string, number>();
  stages.forEach((s, i) => s.inputs.forEach((x) => lastUse.set(x, i)));
  const size = (name: string): number => {
    const d = feeds[name]?.data;
    if (ArrayBuffer.isView(d)) return d.byteLength;
    return model.graph.tensors.get(name)?.bytes ?? 0;
  };
  let pool = new Set(Object.keys(feeds));
  return stages.map((s, i) => {
    const inBytes = [...pool].reduce((a, n) => a + size(n), 0);
    const next = new Set([...pool, ...s.outputs].filter((n) => (lastUse.get(n) ?? -1) > i));
    pool = next;
    const outBytes = i === stages.length - 1 ? 0 : [...next].reduce((a, n) => a + size(n), 0);
    return inBytes + outBytes;
  });
}

/** What the pipeline measured, and per-stage figures the "this host" prediction uses besides the plan's. */
export interface HostMeasured {
  readonly fps: number;
  /** 1000 / the median gap between frames (default: fps). */
  readonly medianFps?: number;
  /** The measured median latency of a frame through the pipeline (queueing included). */
  readonly latencyMs?: number;
  readonly queue?: number;
  /** The stages' measured back-to-back medians, for fromMeasuredStages. */
  readonly stageMs?: readonly number[];
  /** Per stage, the factor its predicted time is scaled by for `scaled` (the reference's ratio, 1 for a stage of another board). */
  readonly speedRatio?: readonly number[];
  /** Per stage, its time at one thread over its time at the plan's threads, measured here (stageCores); without: every thread a core. */
  readonly speedups?: readonly number[];
}

/** The "this host" prediction of a pipeline from the plan's stage times, their handoff bytes and a calibration. */
export function hostPrediction(
  stageMs: readonly number[],
  bytes: readonly number[],
  host: HostCalibration,
  measured: HostMeasured,
): HostPrediction {
  const measuredFps = measured.fps;
  const measuredMedianFps = measured.medianFps ?? measured.fps;
  const queue = measured.queue ?? 1;
  const efficiency = capacityEfficiency(host, stageMs.length);
  // Each stage keeps the cores busy that what its threads buy it says (all its threads' without a speedup).
  const parallelism = stageMs.map((_, i) => stageCores(host.threads, host.cores, measured.speedups?.[i]));
  const h = bytes.map((b) => handoffMs(host.handoff, b));
  const p = hostPipelinePeriodMs(stageMs, h, parallelism, host.cores, efficiency, queue);
  const predictedFps = 1000 / p.periodMs;
  const measuredStageMs = measured.stageMs;
  const speedRatio = measured.speedRatio;
  const simulate = (ms: readonly number[]) => {
    const m = hostPipelinePeriodMs(ms, h, parallelism, host.cores, efficiency, queue);
    return { predictedFps: 1000 / m.periodMs, periodMs: m.periodMs, fpsError: 1000 / m.periodMs / measuredFps - 1, fpsErrorMedian: 1000 / m.periodMs / measuredMedianFps - 1 };
  };
  const fromMeasuredStages = measuredStageMs ? simulate(measuredStageMs) : undefined;
  const scaled = speedRatio !== undefined ? simulate(stageMs.map((t, i) => t * (speedRatio[i] ?? 1))) : undefined;
  return {
    predictedFps, periodMs: p.periodMs, fpsError: predictedFps / measuredFps - 1, fpsErrorMedian: predictedFps / measuredMedianFps - 1,
    latencyMs: p.latencyMs, ...(measured.latencyMs !== undefined && measured.latencyMs > 0 ? { latencyError: p.latencyMs / measured.latencyMs - 1 } : {}),
    concurrency: p.concurrency, slowdown: p.slowdown,
    stages: stageMs.map((t, i) => ({
      predictedMs: t, parallelism: parallelism[i]!, handoffBytes: bytes[i]!, handoffMs: h[i]!,
      ...(measured.speedups?.[i] !== undefined ? { speedup: measured.speedups[i]! } : {}),
    })),
    handoffFixedMs: host.handoff.fixedMs, handoffMsPerByte: host.handoff.msPerByte, efficiency, effectiveCores: p.busyCores,
    ...(fromMeasuredStages ? { fromMeasuredStages } : {}),
    ...(scaled ? { scaled } : {}),
  };
}
