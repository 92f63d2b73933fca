// Measured profiles: run a model with onnxruntime-node on this machine and time every node.
//
// Two sessions with the same settings, their runs alternating: one without ORT's profiler, one with
// it for per-kernel times. Then the plain session alone, back to back, for the end-to-end latency
// that the node times are scaled to (the profiled session's runs would slow its neighbours down).
// When the machine has too little memory left for two sessions of the model, the profiled runs go
// alone and the plain session is made again after them.
// Power is sampled over the alternating runs. Default graph optimisation is "all" (what a deployment would run);
// kernels are mapped back to original nodes by _attribution.ts.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism, freemem, loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { edgeDtype, levelChoice, modelSource, levelNote, freshOutputAdvice, largeOutputBytes, outputMemory, graphCosts, inputBranches, loadModel, runnableModel, runtimeMessage, type Graph, type InputShapes } from '@dnnpart/onnx-graph';
import { assertBoardName } from './board.js';
import { boardFacts } from './board-facts.js';
import { DEFAULT_BOUNDARY, boundaryMs, calibrateBoundary } from './boundary.js';
import { writeChromeTrace, type ChromeTraceSpan } from './chrome-trace.js';
import { ProfileError, messageOf } from './errors.js';
import { fetchesFor } from './fetches.js';
import { assertWritable, writeProfile } from './profile-file.js';
import { detectSensor } from './sensor-detect.js';
import { wallClockMs, type Sensor } from './sensor.js';
import { whyUnwritable } from './_atomic.js';
import { attributeKernels, type Attribution, type NodeWeights } from './_attribution.js';
import { kernelHints, readOptimizedNodes } from './_optimized.js';
import { createSession, sessionOptions, timedRun } from './_session.js';
import { probeThreads, type ThreadProbe } from './_threads.js';
import { makeFeeds } from './_feeds.js';
import { latencyStats, round } from './_stats.js';
import { parseTrace, type ParsedTrace, type TraceRun, type TraceRunTimeline } from './_trace.js';
import { TOOL } from './version.js';
import {
  PROFILE_SCHEMA_ID,
  type BoardDescription,
  type BoundaryCost,
  type GraphOptimizationLevel,
  type LatencyStats,
  type Profile,
  type ProfileNode,
  type ProfilePower,
} from './types.js';

export interface ProgressEvent {
  /** "load", "boundary" (when calibrating), "warmup", "runs", "write". */
  readonly phase: string;
  readonly done: number;
  readonly total: number;
}

export interface ProfileOptions {
  /** Board name for the profile (/^[a-z0-9][a-z0-9._-]*$/). */
  readonly board: string;
  readonly inputShapes?: InputShapes;
  /** Timed runs per session; default 20. */
  readonly runs?: number;
  /** Untimed runs first; default 3. */
  readonly warmup?: number;
  /**
   * Raise the end-to-end runs (not the profiled ones) until they cover at least this many ms, by the
   * plain session's median over the profiled runs, and their warm-up until it covers a fifth of it
   * (at most MAX_END_TO_END_RUNS runs). Default: DEFAULT_MIN_END_TO_END_MS when `runs` is not given,
   * else 0 (exactly `runs`). A model of 0.05 ms takes 20 runs in
   * 1 ms, and this machine's speed moves by a third or more from one second to the next
   * (bench/results/verify-stages.md), so a few runs catch one moment of it. The count used is the
   * profile's endToEnd.runs.
   */
  readonly minEndToEndMs?: number;
  /**
   * ORT intra-op threads; default: all cores, or 1 when the model runs 10 % or more faster at 1
   * thread (tried first when a run at all cores takes under 20 ms; recorded in settings.threadProbe).
   */
  readonly threads?: number;
  /** undefined: detect one on this machine; null: none. */
  readonly sensor?: Sensor | null;
  /** Used for estimated power when there is no sensor, and recorded in the profile. */
  readonly boardDescription?: BoardDescription;
  /** Default "all". */
  readonly graphOptimizationLevel?: GraphOptimizationLevel;
  /** Seconds of idle sampling before the runs when a sensor is present; default 0.5. */
  readonly idleSeconds?: number;
  /** Model name in the profile; default the file's base name without ".onnx". */
  readonly modelName?: string;
  /** When given: checked for writability before the runs, and the profile is written there atomically. */
  readonly output?: string;
  /** Where ORT's trace goes (in a fresh subdirectory, removed at the end); default the OS temp dir. */
  readonly tempDir?: string;
  readonly onProgress?: (e: ProgressEvent) => void;
  readonly signal?: AbortSignal;
  /**
   * The board's stage-boundary cost: "calibrate" measures it here first (calibrateBoundary at the
   * same threads, a few seconds); a BoundaryCost is used as given (one calibration for many
   * models); default: not calibrated, DEFAULT_BOUNDARY (method "default") is recorded and used.
   */
  readonly boundary?: 'calibrate' | BoundaryCost;
  /** "preallocated" (default): outputs fetched into tensors made once, as a stage runner does; "allocated": ORT allocates them each run. */
  readonly outputs?: 'preallocated' | 'allocated';
  /** Write a Chrome trace (Perfetto, chrome://tracing) of the profiled runs here, spans named by ONNX node. */
  readonly trace?: string;
  /**
   * The memory the profile may still take, in bytes; default what this machine has available when the
   * first session has run (process.availableMemory). Under SECOND_SESSION_ROOM times that session's
   * memory, the profiled runs are made without a timed session beside them (and a warning says so).
   */
  readonly availableMemoryBytes?: number;
}

/** The least share of the end-to-end median a profile leaves its kernels when the boundary would take more (then the boundary is scaled). */
const MIN_KERNEL_SHARE = 0.2;

/** `b` with its costs multiplied by `factor`, and its origin saying so. */
function scaleBoundary(b: BoundaryCost, factor: number): BoundaryCost {
  const why = `scaled by ${round(factor, 3)} to this model's end-to-end time, which it exceeded`;
  return { ...b, fixedMs: round(b.fixedMs * factor), inMsPerByte: b.inMsPerByte * factor, outMsPerByte: b.outMsPerByte * factor, origin: b.origin ? `${b.origin}; ${why}` : why };
}

/** A second session of the model is made beside the first only when this many times the first's memory is available. */
export const SECOND_SESSION_ROOM = 1.5;

/** The memory this process can still take: the machine's available memory, within its cgroup's limit. */
export function availableMemory(): number {
  const p = process as { availableMemory?: () => number };
  return typeof p.availableMemory === 'function' ? p.availableMemory() : freemem();
}

/**
 * Whether another `bytes` (a session like one that took that much) fit in what this process can still
 * take, `SECOND_SESSION_ROOM` times over: `availableBytes` given, or availableMemory().
 */
export function roomFor(bytes: number, availableBytes: number = availableMemory()): { readonly fits: boolean; readonly availableBytes: number } {
  return { fits: bytes * SECOND_SESSION_ROOM <= availableBytes, availableBytes };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** What the end-to-end runs cover at least when a profile is not given its runs (ProfileOptions.minEndToEndMs). */
export const DEFAULT_MIN_END_TO_END_MS = 500;

/** The most end-to-end runs (or warm-up runs before them) minEndToEndMs raises a profile to. */
export const MAX_END_TO_END_RUNS = 100_000;

/** End-to-end runs: `runs`, raised to cover `minMs` at `runMs` a run, within MAX_END_TO_END_RUNS. */
export function endToEndRuns(runs: number, minMs: number, runMs: number): number {
  if (!(minMs > 0)) return runs;
  return Math.max(runs, Math.min(MAX_END_TO_END_RUNS, Math.ceil(minMs / Math.max(runMs, 1e-4))));
}

/** Profile an ONNX model on this machine with onnxruntime-node (cpu EP): per-node latency, memory, power. */
export async function profileModel(modelPath: string, options: ProfileOptions): Promise<Profile> {
  assertBoardName(options.board);
  const runs = options.runs ?? 20;
  const warmup = options.warmup ?? 3;
  let threads = options.threads ?? availableParallelism();
  // Lowered, and said, when onnxruntime refuses the graph its optimiser makes at the level asked for.
  const level = levelChoice(options.graphOptimizationLevel ?? 'all');
  for (const [field, v, min] of [['runs', runs, 1], ['warmup', warmup, 0], ['threads', threads, 1]] as const) {
    if (!Number.isInteger(v) || v < min) throw new ProfileError('PROFILE_BAD_OPTIONS', `option ${field} must be an integer >= ${min}, got ${v}`);
  }
  const minEndToEndMs = options.minEndToEndMs ?? (options.runs === undefined ? DEFAULT_MIN_END_TO_END_MS : 0);
  if (!(minEndToEndMs >= 0 && Number.isFinite(minEndToEndMs))) throw new ProfileError('PROFILE_BAD_OPTIONS', `option minEndToEndMs must be a number >= 0, got ${minEndToEndMs}`);
  const memoryOption = options.availableMemoryBytes;
  if (memoryOption !== undefined && !(typeof memoryOption === 'number' && memoryOption >= 0 && Number.isFinite(memoryOption))) {
    throw new ProfileError('PROFILE_BAD_OPTIONS', `option availableMemoryBytes must be a number of bytes >= 0, got ${String(memoryOption)}`);
  }
  const signal = options.signal;
  const progress = options.onProgress ?? (() => {});
  const checkAbort = () => {
    if (signal?.aborted) throw new ProfileError('PROFILE_INTERRUPTED', `profiling ${modelPath} was interrupted; no profile written`);
  };
  if (options.output) await assertWritable(options.output);
  if (options.trace) {
    const why = await whyUnwritable(options.trace);
    if (why) throw new ProfileError('PROFILE_OUTPUT_UNWRITABLE', `${options.trace}: cannot write the trace: ${why}`);
  }
  const outputsMode = options.outputs ?? 'preallocated';
  checkAbort();

  progress({ phase: 'load', done: 0, total: 1 });
  const loaded = await loadModel(modelPath, { inputShapes: options.inputShapes, name: options.modelName ?? basename(modelPath).replace(/\.onnx$/i, '') });
  const graph = loaded.graph;
  const allCosts = graphCosts(graph);
  const costs = allCosts.nodes;
  // ORT gets the proto whose node names are the graph's unique names, so the trace uses them too
  // (bfloat16 inputs and outputs taken and given as float32, cast inside: runnableModel). A model
  // whose weights come near protobuf's 2 GB goes to onnxruntime as a file with its weights beside it.
  const runnable = runnableModel(loaded);
  const tmp = await mkdtemp(join(options.tempDir ?? tmpdir(), 'dnnpart-profile-'));
  let modelBytes: Uint8Array | string;
  try {
    modelBytes = await modelSource(runnable, { dir: tmp });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw new ProfileError('PROFILE_MODEL_LOAD', `${modelPath}: cannot write the model with its weights beside it for onnxruntime in ${tmp}: ${(e as Error).message}`, { cause: e });
  }
  progress({ phase: 'load', done: 1, total: 1 });

  const warnings: string[] = [
    ...inputBranches(graph).map((b) => `${b.message} (input spec ${b.condition}=${b.shape.join('x')}:1)`),
    ...loaded.shapeMismatches.map((m) => m.message),
    ...loaded.replacedOutputs.map((m) => m.message),
    ...loaded.emptyTensors.map((m) => m.message),
  ];
  // Resident memory before any session (the thread probe's included): the profile's peak minus
  // this is what the sessions added, taken before the probe so that what it leaves resident counts.
  const rssBeforeSessionsBytes = process.memoryUsage().rss;
  const feeds = makeFeeds(graph);
  // No thread count given: all cores, unless the model runs faster at one (small kernels do).
  let threadProbe: ThreadProbe[] | undefined;
  if (options.threads === undefined && threads > 1) {
    progress({ phase: 'threads', done: 0, total: 1 });
    const tried = await probeThreads(modelBytes, threads, level, feeds, modelPath).catch(async (e: unknown) => {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    });
    threadProbe = tried.probes;
    const chosen = tried.chosen;
    if (chosen !== threads) {
      const [many, one] = threadProbe;
      warnings.push(`${graph.name} ran faster at 1 thread (${one!.medianMs.toPrecision(3)} ms a run) than at ${threads} (${many!.medianMs.toPrecision(3)} ms), as models of small kernels do: profiled at 1 thread; --threads ${threads} profiles at ${threads} anyway`);
      threads = chosen;
    }
    progress({ phase: 'threads', done: 1, total: 1 });
  }
  const sessions: ort.InferenceSession[] = [];
  let sensor: Sensor | null = null;
  let sensorRunning = false;
  try {
    // Interrupted during the thread probe: stopped here, where the temporary directory goes too.
    checkAbort();
    // Resident memory: the process's RSS before the sessions, and its highest value seen after any
    // run (sampled, since getrusage's maxRSS never falls when one process profiles many models).
    let peakRssBytes = Math.max(rssBeforeSessionsBytes, process.memoryUsage().rss);
    const sampleRss = () => {
      peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss);
    };
    // Both sessions live side by side and their runs alternate, so a change in machine load
    // (other processes) hits the end-to-end and the profiled runs alike.
    // The boundary first, before the model's sessions exist, so they do not share the cores with it.
    let boundary: BoundaryCost = DEFAULT_BOUNDARY;
    if (options.boundary === 'calibrate') {
      boundary = (await calibrateBoundary({ threads, outputs: outputsMode, tempDir: tmp, ...(signal ? { signal } : {}), onProgress: (e) => progress(e) })).boundary;
    } else if (options.boundary) {
      boundary = options.boundary;
    }
    checkAbort();
    let plain: ort.InferenceSession | undefined = await createSession(modelBytes, sessionOptions(threads, level.level), modelPath, level);
    const levelWarning = levelNote(graph.name, level);
    if (levelWarning) warnings.push(levelWarning);
    const opts = sessionOptions(threads, level.level);
    sessions.push(plain);
    const outputSpecs = graph.outputs.map((name) => {
      const t = graph.tensors.get(name)!;
      return { name, dtype: edgeDtype(t.dtype), shape: t.shape };
    });
    // One set of output tensors per session: sharing them between the two alternating sessions
    // made the plain runs of a SqueezeNet first stage (two 373 kB outputs) take 4.5 ms instead of 1.8.
    let fetches = outputsMode === 'preallocated' ? fetchesFor(outputSpecs) : null;
    let profFetches = outputsMode === 'preallocated' ? fetchesFor(outputSpecs) : null;
    if (fetches) {
      // An output whose shape depends on the data (NonZero, say) may not fit the tensor made from
      // the graph's shapes: then ORT allocates the outputs, and the profile says so.
      try {
        await plain.run(feeds, fetches);
      } catch (e) {
        const msg = runtimeMessage(e);
        const sized = /provided for output '([^']+)'.* has shape \{([^}]*)\} but the computed output shape for this run is \{([^}]*)\}/.exec(msg);
        warnings.push(sized
          ? `output ${sized[1]} came out [${sized[3]}] where its shape says [${sized[2]}]: its size depends on the data, so onnxruntime allocated the outputs each run instead of writing into tensors made once`
          : `outputs could not be fetched into tensors made once from their shapes (${msg.slice(0, 200)}); onnxruntime allocated them each run`);
        fetches = null;
        profFetches = null;
      }
    } else {
      await timedRun(plain, feeds, modelPath, null);
    }
    // One session of the model, run twice (onnxruntime's memory arena grows on the second run of a
    // large model: IS-Net at 1024x1024 took 0.9 GB after one run, 1.75 GB after two, 1.9 GB after
    // four): a second, profiled one beside it takes as much again. Where that does not fit in the
    // memory this machine has left (a board profiling a large model), the profiled runs go alone and
    // the timed session is made again after them, rather than the kernel killing the process (IS-Net
    // in a 3 GiB cgroup: killed by SIGKILL after 30 s, no message; bench/results/profiler.md).
    await timedRun(plain, feeds, modelPath, fetches);
    // (At least its weights: the resident memory of a small model's session can be lost in the noise.)
    const oneSessionBytes = Math.max(process.memoryUsage().rss - rssBeforeSessionsBytes, allCosts.paramBytes);
    sampleRss();
    const { fits, availableBytes } = roomFor(oneSessionBytes, options.availableMemoryBytes);
    if (!fits) {
      warnings.push(
        `one session of ${graph.name} took ${mib(oneSessionBytes)} and this machine had ${mib(availableBytes)} left, too little for a second beside it: `
        + 'the profiled runs were made alone instead of alternating with timed ones, so a change of machine load between them and the end-to-end runs is not evened out',
      );
      sessions.splice(sessions.indexOf(plain), 1);
      await plain.release().catch(() => {});
      plain = undefined;
    }
    // The profiled session also saves the optimised model: it names each kernel's real inputs and outputs.
    const optimizedPath = join(tmp, 'optimized.onnx');
    // Weights go to a side file, so reading the graph back does not decode them (VGG-16: 553 MB).
    const prof = await createSession(
      modelBytes,
      {
        ...opts,
        enableProfiling: true,
        profileFilePrefix: join(tmp, 'ort'),
        optimizedModelFilePath: optimizedPath,
        extra: {
          ...opts.extra,
          session: {
            ...((opts.extra as { session?: object } | undefined)?.session ?? {}),
            optimized_model_external_initializers_file_name: 'optimized.weights',
            optimized_model_external_initializers_min_size_in_bytes: '1024',
          },
        },
      },
      modelPath,
    );
    sessions.push(prof);
    progress({ phase: 'warmup', done: 0, total: warmup });
    for (let i = 0; i < warmup; i++) {
      checkAbort();
      if (plain) await timedRun(plain, feeds, modelPath, fetches);
      await timedRun(prof, feeds, modelPath, profFetches);
      sampleRss();
      progress({ phase: 'warmup', done: i + 1, total: warmup });
    }

    sensor = options.sensor === undefined ? await detectSensor('/') : options.sensor;
    let idleWindow: [number, number] | null = null;
    if (sensor) {
      try {
        await sensor.start();
        sensorRunning = true;
        const t0 = wallClockMs();
        await sleep((options.idleSeconds ?? 0.5) * 1000, signal);
        idleWindow = [t0, wallClockMs()];
      } catch (e) {
        if (signal?.aborted) throw e;
        warnings.push(`power sensor ${sensor.name} could not start: ${messageOf(e)}; power marked unavailable`);
        sensor = null;
      }
    }
    checkAbort();
    progress({ phase: 'runs', done: 0, total: runs });
    const runStart = wallClockMs();
    const plainMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      checkAbort();
      const timed = plain ? await timedRun(plain, feeds, modelPath, fetches) : undefined;
      const profiled = await timedRun(prof, feeds, modelPath, profFetches);
      // Alone, the profiled runs size the end-to-end runs (they are slower: fewer runs, never under `runs`).
      plainMs.push(timed ?? profiled);
      sampleRss();
      progress({ phase: 'runs', done: i + 1, total: runs });
    }
    const runEnd = wallClockMs();
    // The end-to-end latency from plain runs back to back, as a deployed stage runs: a plain run
    // right after a profiled one was 30-45 % slower for PaddleOCR's 0.7 ms classifier (caches and
    // threads the profiled session disturbed; bench/results/verify-stages.md), which the node times,
    // scaled to this median, would then have carried into every stage prediction. The profiled
    // session is ended and released first: alive, it slowed the plain runs of Moonshine's decoder
    // (1.2-1.6 ms alone) to 2.2-2.8 ms, and no deployed stage has one beside it.
    prof.endProfiling();
    sessions.splice(sessions.indexOf(prof), 1);
    await prof.release().catch(() => {});
    if (!plain) {
      plain = await createSession(modelBytes, sessionOptions(threads, level.level), modelPath, level);
      sessions.push(plain);
    }
    const e2eRuns = endToEndRuns(runs, minEndToEndMs, latencyStats(plainMs).median);
    const warmFrom = performance.now();
    for (let i = 0; i < Math.max(3, warmup) || performance.now() - warmFrom < minEndToEndMs / 5; i++) {
      if (i >= MAX_END_TO_END_RUNS) break;
      checkAbort();
      await timedRun(plain, feeds, modelPath, fetches);
    }
    const e2e: number[] = [];
    for (let i = 0; i < e2eRuns; i++) {
      checkAbort();
      e2e.push(await timedRun(plain, feeds, modelPath, fetches));
    }
    sampleRss();
    let sensorFailure: string | null = null;
    if (sensor && sensorRunning) {
      sensorRunning = false;
      try {
        await sensor.stop();
      } catch (e) {
        sensorFailure = messageOf(e);
      }
    }
    // Outputs of 32 MiB or more fault in afresh every run under glibc as it starts: the end-to-end
    // runs, and the node times scaled to them, carry that cost, which the agents may not pay.
    const freshNote = freshOutputAdvice([{ who: 'the model', bytes: largeOutputBytes(graph, graph.outputs) }], outputMemory(), ', which this profile\'s end-to-end time, and its node times scaled to it, include');
    if (freshNote) warnings.push(freshNote);
    // Other processes competing for the cores inflate and scatter the timings; say so.
    const load = loadavg()[0]!;
    if (load > availableParallelism()) {
      warnings.push(`machine load average ${load.toFixed(1)} exceeded its ${availableParallelism()} cores during profiling; timings include contention from other processes`);
    }
    for (const s of sessions.splice(0)) await s.release().catch(() => {});
    const traceFile = (await readdir(tmp)).find((f) => f.startsWith('ort') && f.endsWith('.json'));
    if (!traceFile) throw new ProfileError('PROFILE_TRACE', `ORT wrote no profile trace for ${modelPath} in ${tmp}`);
    const trace = parseTrace(JSON.parse(await readFile(join(tmp, traceFile), 'utf8')), traceFile);
    const timed = trace.runs.slice(-runs);
    if (timed.length < runs) throw new ProfileError('PROFILE_TRACE', `ORT trace for ${modelPath} has ${trace.runs.length} runs, expected ${warmup + runs}`);

    const e2eStats = latencyStats(e2e);
    const profiledStats = latencyStats(timed.map((r) => r.ms));
    const optimized = await readOptimizedNodes(optimizedPath);
    const hints = optimized ? kernelHints(optimized, graph) : new Map<string, string>();
    const { nodeStats, attribution, unattributedShare } = nodeStatistics(graph, costs, trace, timed, hints);
    // ORT's profiler slows sub-millisecond kernels down and leaves gaps between them, so profiled
    // kernel times overstate small models (PaddleOCR's classifier: node sum 1.6-2x end to end).
    // Each node keeps its share of the profiled kernel time; the shares are scaled to what the
    // kernels take un-profiled: the end-to-end median minus the boundary cost of the model's own
    // inputs and outputs. Then a whole-model single stage predicts the end-to-end median.
    const profiledNodeSum = nodeStats.reduce((s, x) => s + x.stats.median, 0);
    const inBytes = graph.inputs.reduce((s, t) => s + (graph.tensors.get(t)?.bytes ?? 0), 0);
    const outBytes = graph.outputs.reduce((s, t) => s + (graph.tensors.get(t)?.bytes ?? 0), 0);
    let wholeBoundaryMs = boundaryMs(boundary, inBytes, outBytes);
    let kernelBudget = e2eStats.median - wholeBoundaryMs;
    if (kernelBudget < MIN_KERNEL_SHARE * e2eStats.median) {
      // The boundary, calibrated apart from this model, is most of its whole run or more: the two
      // were timed at different speeds of this machine (a 0.04 ms model's calibrated fixed cost
      // read 0.025 ms in one profile and 0.046 ms in the next), or the calibration is off. The
      // model's own runs are the better figure for its stages: the boundary is scaled so that the
      // whole model as one stage still predicts its end-to-end median.
      const factor = ((1 - MIN_KERNEL_SHARE) * e2eStats.median) / wholeBoundaryMs;
      warnings.push(`the boundary cost of the model's inputs and outputs (${round(wholeBoundaryMs, 4)} ms) leaves less than a fifth of the end-to-end median (${round(e2eStats.median, 4)} ms) to the kernels: the boundary calibration and this model's runs disagree (this machine ran at another speed, or the calibration is off); this profile's boundary is scaled by ${round(factor, 3)} and its node times to a fifth of the end-to-end median`);
      boundary = scaleBoundary(boundary, factor);
      wholeBoundaryMs = boundaryMs(boundary, inBytes, outBytes);
      kernelBudget = MIN_KERNEL_SHARE * e2eStats.median;
    }
    const scale = profiledNodeSum > 0 ? kernelBudget / profiledNodeSum : 1;
    const scaled = (x: LatencyStats): LatencyStats => ({ median: round(x.median * scale), p90: round(x.p90 * scale), mean: round(x.mean * scale), stddev: round(x.stddev * scale) });
    const nodeSum = nodeStats.reduce((s, x) => s + scaled(x.stats).median, 0);

    const power = powerOf(sensor, sensorFailure, idleWindow, [runStart, runEnd], options.boardDescription, e2eStats.median, warnings);
    const perInference = power.energyPerInferenceMj;

    const nodes: ProfileNode[] = nodeStats.map(({ node, stats, kernel }) => {
      const c = costs.get(node.name);
      const corrected = scaled(stats);
      return {
        name: node.name,
        op: node.op,
        latencyMs: corrected,
        paramBytes: c?.paramBytes ?? 0,
        outputBytes: c?.outputBytes ?? 0,
        energyMj: perInference === undefined ? null : round(nodeSum > 0 ? (perInference * corrected.median) / nodeSum : 0),
        macs: c?.macs ?? 0,
        runs: timed.length,
        ...(kernel ? { kernel } : {}),
        profiledMs: stats,
      };
    });
    if (attribution.unattributedKernels.length) {
      const shown = attribution.unattributedKernels.slice(0, 5).join(', ');
      warnings.push(`${attribution.unattributedKernels.length} ORT kernel(s) map to no original node (${shown}${attribution.unattributedKernels.length > 5 ? ', …' : ''}); their time is in unattributedShare`);
    }
    const providers = new Set([...trace.kernelInfo.values()].map((k) => k.provider));

    const profile: Profile = {
      schema: PROFILE_SCHEMA_ID,
      source: 'measured',
      board: { ...(await boardFacts(options.board)), ...(options.boardDescription ? { description: options.boardDescription.name } : {}) },
      model: {
        name: graph.name,
        sha256: loaded.sha256,
        inputs: graph.inputs.map((name) => {
          const t = graph.tensors.get(name)!;
          return { name, shape: [...t.shape], dtype: t.dtype };
        }),
      },
      settings: {
        runs,
        warmup,
        threads,
        executionProvider: providers.size === 1 ? [...providers][0]! : 'CPUExecutionProvider',
        graphOptimizationLevel: level.level,
        ortVersion: ort.env.versions.node ?? ort.env.versions.common,
        ...(threadProbe ? { threadProbe } : {}),
      },
      endToEnd: { medianMs: e2eStats.median, p90Ms: e2eStats.p90, runs: e2e.length, meanMs: e2eStats.mean, stddevMs: e2eStats.stddev },
      nodes,
      power,
      createdAt: new Date().toISOString(),
      tool: { name: TOOL.name, version: TOOL.version },
      unattributedShare,
      fusedNodes: attribution.fused.map((f) => ({ kernel: f.kernel, op: f.kernel.split('+').map((k) => trace.kernelInfo.get(k)?.op ?? '?').join('+'), nodes: f.nodes })),
      eliminatedNodes: attribution.eliminated,
      overhead: { profiledMedianMs: profiledStats.median, ratio: round(e2eStats.median > 0 ? profiledStats.median / e2eStats.median : 0, 4) },
      nodeSumToEndToEnd: round(e2eStats.median > 0 ? nodeSum / e2eStats.median : 0, 4),
      boundary,
      correction: {
        profiledNodeSumMs: round(profiledNodeSum),
        kernelBudgetMs: round(kernelBudget),
        scale: round(scale, 6),
        boundaryMs: round(wholeBoundaryMs),
        rawNodeSumToEndToEnd: round(e2eStats.median > 0 ? profiledNodeSum / e2eStats.median : 0, 4),
      },
      peakRssBytes,
      rssBeforeSessionsBytes,
      warnings,
    };
    if (options.trace) {
      checkAbort();
      await writeChromeTrace(profileTraceSpans(profile, timed, trace.timeline.slice(-runs), attribution, trace), options.trace, signal);
    }
    if (options.output) {
      checkAbort();
      progress({ phase: 'write', done: 0, total: 1 });
      await writeProfile(options.output, profile, signal);
      progress({ phase: 'write', done: 1, total: 1 });
    }
    return profile;
  } finally {
    if (sensor && sensorRunning) await sensor.stop().catch(() => {});
    for (const s of sessions) await s.release().catch(() => {});
    await rm(tmp, { recursive: true, force: true });
  }
}

type Costs = ReturnType<typeof graphCosts>['nodes'];

/** Attribute the timed runs' kernels to nodes; per-node statistics and the unattributed share. */
function nodeStatistics(graph: Graph, costs: Costs, trace: ParsedTrace, timed: readonly TraceRun[], hints: ReadonlyMap<string, string>) {
  const weights = new Map<string, NodeWeights>();
  for (const n of graph.nodes) {
    const c = costs.get(n.name);
    weights.set(n.name, { macs: c?.macs ?? 0, outputBytes: c?.outputBytes ?? 0 });
  }
  const attribution = attributeKernels(graph, [...trace.kernelInfo].map(([name, k]) => ({ name, op: k.op })), weights, hints);
  const nodeStats = graph.nodes.map((n) => {
    const a = attribution.nodes.get(n.name);
    const samples = timed.map((r) => (a ? a.kernels.reduce((s, k) => s + (r.kernels.get(k) ?? 0), 0) * a.share : 0));
    const renamed = a && !(a.kernels.length === 1 && a.kernels[0] === n.name);
    return { node: n, stats: latencyStats(samples), kernel: renamed ? a.kernels.join('+') : undefined };
  });
  const attributed = new Set([...attribution.nodes.values()].flatMap((a) => a.kernels));
  const unattributed = timed.map((r) => {
    const inKernels = [...r.kernels].reduce((s, [k, ms]) => s + (attributed.has(k) ? ms : 0), 0);
    return r.ms > 0 ? Math.max(0, 1 - inKernels / r.ms) : 0;
  });
  return { nodeStats, attribution, unattributedShare: round(latencyStats(unattributed).median, 4) };
}

/** Power figures: measured with a working sensor, else estimated from the description, else unavailable. */
function powerOf(
  sensor: Sensor | null,
  sensorFailure: string | null,
  idleWindow: readonly [number, number] | null,
  runWindow: readonly [number, number],
  description: BoardDescription | undefined,
  e2eMedianMs: number,
  warnings: string[],
): ProfilePower {
  if (sensor) {
    // A sensor that was there but failed: never fall back to an estimate that could pass for a measurement.
    try {
      if (sensorFailure) throw new Error(sensorFailure);
      const meanW = ([t0, t1]: readonly [number, number]) => (sensor.energyJ(t0, t1) * 1000) / (t1 - t0);
      return powerFigures('measured', sensor.description, meanW(runWindow), idleWindow ? meanW(idleWindow) : undefined, e2eMedianMs);
    } catch (e) {
      warnings.push(`power sensor ${sensor.name} failed during the runs: ${messageOf(e)}; power marked unavailable`);
      return { source: 'unavailable' };
    }
  }
  if (description) {
    const origin = `board description ${description.name}${description.file ? ` (${basename(description.file)})` : ''}: power figures from the description, not measured`;
    return powerFigures('estimated', origin, description.power.activeW, description.power.idleW, e2eMedianMs);
  }
  return { source: 'unavailable' };
}

function powerFigures(source: 'measured' | 'estimated', origin: string, activeW: number, idleW: number | undefined, e2eMedianMs: number): ProfilePower {
  return {
    source,
    origin,
    ...(idleW !== undefined ? { idleW: round(idleW, 4) } : {}),
    activeW: round(activeW, 4),
    energyPerInferenceMj: round(activeW * e2eMedianMs),
    ...(idleW !== undefined ? { dynamicEnergyPerInferenceMj: round((activeW - idleW) * e2eMedianMs) } : {}),
    attribution:
      'energyPerInferenceMj = board power while inferring (activeW) x end-to-end median; dynamicEnergyPerInferenceMj = (activeW - idleW) x end-to-end median; node energyMj = energyPerInferenceMj x node median / sum of node medians (the board draws activeW whichever node runs)',
  };
}

/**
 * Timeline of a profile: the profiled runs as ORT timed them (run spans, kernel spans named by the
 * ONNX nodes they ran), and the corrected profile laid end to end (boundary, then every node's
 * corrected median): what a single stage of the whole model is predicted to take.
 */
function profileTraceSpans(profile: Profile, timed: readonly TraceRun[], timeline: readonly TraceRunTimeline[], attribution: Attribution, trace: ParsedTrace): ChromeTraceSpan[] {
  const byKernel = new Map<string, { node: string; share: number }[]>();
  for (const [node, a] of attribution.nodes) for (const k of a.kernels) byKernel.set(k, [...(byKernel.get(k) ?? []), { node, share: a.share }]);
  const proc = `dnnpart profile: ${profile.model.name} on ${profile.board.name}`;
  const spans: ChromeTraceSpan[] = [];
  const t0 = timeline[0]?.startMs ?? 0;
  const profiledTrack = `profiled runs (ORT kernel times, ${profile.settings.threads} thread(s))`;
  timed.forEach((r, i) => {
    const tl = timeline[i]!;
    spans.push({ name: `run ${i + 1}`, track: profiledTrack, process: proc, cat: 'run', startMs: tl.startMs - t0, durMs: r.ms });
    for (const k of tl.spans) {
      // A subgraph's kernel is shown inside its If/Loop, named by the node of that kernel.
      const nodes = [...(byKernel.get(k.within ?? k.kernel) ?? [])].sort((a, b) => b.share - a.share);
      const head = nodes[0]?.node;
      const named = head === undefined ? k.kernel : nodes.length > 1 ? `${head} (+${nodes.length - 1} fused)` : head;
      spans.push({
        name: k.within ? `${named} > ${k.kernel}` : named,
        track: profiledTrack,
        process: proc,
        cat: head === undefined ? 'unattributed' : k.within ? 'subgraph' : 'node',
        startMs: k.startMs - t0,
        durMs: k.durMs,
        args: { kernel: k.kernel, op: (trace.kernelInfo.get(k.kernel) ?? trace.nested.get(k.kernel))?.op ?? '?', nodes: nodes.map((n) => n.node) },
      });
    }
  });
  // The corrected profile after the last run, with a gap of a tenth of a run.
  const last = timed.at(-1);
  let at = last ? timeline.at(-1)!.startMs - t0 + last.ms * 1.1 : 0;
  const predictedTrack = 'profile: corrected node medians end to end (one predicted run)';
  const b = profile.correction?.boundaryMs ?? 0;
  spans.push({ name: 'predicted run', track: predictedTrack, process: proc, cat: 'run', startMs: at, durMs: (profile.correction?.kernelBudgetMs ?? 0) + b });
  spans.push({ name: 'boundary (inputs, outputs, call)', track: predictedTrack, process: proc, cat: 'boundary', startMs: at, durMs: b, args: { ...profile.boundary } });
  at += b;
  for (const n of profile.nodes) {
    if (n.latencyMs.median <= 0) continue;
    spans.push({ name: n.name, track: predictedTrack, process: proc, cat: 'node', startMs: at, durMs: n.latencyMs.median, args: { op: n.op, ...(n.kernel ? { kernel: n.kernel } : {}), profiledMedianMs: n.profiledMs?.median } });
    at += n.latencyMs.median;
  }
  return spans;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
