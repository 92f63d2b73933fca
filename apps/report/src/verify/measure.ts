// Timing stage models the way a runtime runs them: onnxruntime-node on the CPU, optimised sessions,
// no spinning, feeds from JavaScript buffers and every output read back. Two ways: back to back in
// this thread (each stage's own time, and the frame's latency), and as a pipeline with one worker
// thread per stage and bounded queues between them (throughput on the cores at hand).
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { atUsableLevel, levelChoice, runtimeLoadFailure, runtimeMessage, type LevelChoice, type OptimizationLevel } from '@dnnpart/onnx-graph';
import { MAX_END_TO_END_RUNS, endToEndRuns, roomFor, glueChainModel, preallocatedFetches, type ChromeTraceSpan } from '@dnnpart/profiler';
import { stageModelFile, type StageModelFile } from '@dnnpart/runtime';
import { VerifyError } from './errors.js';
import { median } from './_stats.js';
import { stageSessionOptions } from '../../worker/session-options.mjs';

/** A stage model to run: its ONNX bytes and the names it reads and writes. */
export interface StageRunnable {
  readonly bytes: Uint8Array;
  /**
   * The stage written with its weights beside it (writeModelFile), when they come near protobuf's
   * 2 GB: onnxruntime takes it by this path, and `bytes` is not read. (Not a split's `file`, which
   * is only the name a stage has in the split's directory.)
   */
  readonly modelPath?: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Track name in traces, e.g. "stage 1 (pi5)". */
  readonly label: string;
}

/** A stage without a model, for timing the handoff alone: each frame it makes fresh tensors of these sizes. */
export interface SyntheticStage {
  readonly synthetic: readonly { readonly name: string; readonly type: ort.Tensor.Type; readonly dims: readonly number[] }[];
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly label: string;
}

/** How tensors cross between pipeline stages: structured-clone copies, or their ArrayBuffers moved. */
export type Handoff = 'copy' | 'transfer';

/** One span of a timeline, as the profiler's trace writer takes it. */
export type Span = ChromeTraceSpan;

export interface TimingOptions {
  readonly threads: number;
  readonly signal?: AbortSignal;
  /** The memory the timing may still take, in bytes; default what this machine has available (process.availableMemory). */
  readonly availableMemoryBytes?: number;
}

const now = () => performance.timeOrigin + performance.now();
export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** Session options of a stage: what the profiler uses, so that node times and stage times compare. */
function sessionOptions(threads: number, level: OptimizationLevel, profilePrefix?: string): ort.InferenceSession.SessionOptions {
  // The workers' own options (worker/session-options.mjs), so that every timing here compares.
  return { ...stageSessionOptions(threads, level), ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}) };
}

const levels = new WeakMap<Uint8Array, LevelChoice>();
const fileLevels = new Map<string, LevelChoice>();

/**
 * The optimisation level a stage's sessions are made at, here, in its workers and in its memory
 * process: "all", lowered for good the first time onnxruntime refuses the stage's optimised graph
 * (atUsableLevel; levelNote words it for verify's notes).
 */
export function stageLevel(stage: StageRunnable): LevelChoice {
  if (stage.modelPath) {
    let choice = fileLevels.get(stage.modelPath);
    if (!choice) fileLevels.set(stage.modelPath, (choice = levelChoice('all')));
    return choice;
  }
  let choice = levels.get(stage.bytes);
  if (!choice) levels.set(stage.bytes, (choice = levelChoice('all')));
  return choice;
}

/** What onnxruntime loads for a stage: its file when it has one, else its bytes. */
export const modelOf = (stage: StageRunnable): Uint8Array | string => stage.modelPath ?? stage.bytes;

/** A stage model's size: its bytes, or its file and the weights beside it. */
function modelSize(stage: StageRunnable): number {
  if (!stage.modelPath) return stage.bytes.length;
  const size = (f: string) => { try { return statSync(f).size; } catch { return 0; } };
  return size(stage.modelPath) + size(`${stage.modelPath}.data`);
}

async function open(stage: StageRunnable, threads: number, profilePrefix?: string): Promise<ort.InferenceSession> {
  try {
    return await atUsableLevel(stageLevel(stage), (level) => ort.InferenceSession.create(modelOf(stage) as string, sessionOptions(threads, level, profilePrefix)));
  } catch (e) {
    throw new VerifyError('VERIFY_RUN_FAILED', `${stage.label}: ${runtimeLoadFailure(e).message}`, { cause: e });
  }
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new VerifyError('VERIFY_INTERRUPTED', 'verify was interrupted');
}

/**
 * Run one stage on the tensors in `pool`, read every output back into JavaScript, add them to the
 * pool. `out.fetches`: output tensors made once (preallocatedFetches), or null; set to null when a
 * run into them fails and one that lets onnxruntime allocate succeeds (an output whose size depends
 * on the data: NonMaxSuppression's selection, NonZero), so later runs allocate too.
 */
async function runStage(session: ort.InferenceSession, stage: StageRunnable, pool: Map<string, ort.Tensor>, out: { fetches: Record<string, ort.Tensor> | null }): Promise<number> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of stage.inputs) {
    const t = pool.get(name);
    if (!t) throw new VerifyError('VERIFY_RUN_FAILED', `${stage.label}: no tensor "${name}" from the stages before it`);
    feeds[name] = t;
  }
  let result: ort.InferenceSession.OnnxValueMapType;
  try {
    // Preallocated outputs, as the profiler times the whole model and as a stage runner runs.
    result = out.fetches ? await session.run(feeds, out.fetches) : await session.run(feeds, [...stage.outputs]);
  } catch (e) {
    if (out.fetches) {
      out.fetches = null;
      return runStage(session, stage, pool, out);
    }
    throw new VerifyError('VERIFY_RUN_FAILED', `${stage.label}: onnxruntime failed to run the stage: ${runtimeMessage(e)}`, { cause: e });
  }
  let touched = 0;
  for (const name of stage.outputs) {
    const t = result[name] as ort.Tensor;
    // Reading the data is what a runtime does with the outputs (send them on).
    touched += (t.data as { length: number }).length;
    pool.set(name, t);
  }
  return touched;
}

export interface BackToBackResult {
  /** stageMs[s][r]: stage s in measured run r. */
  readonly stageMs: readonly (readonly number[])[];
  /** stageCpuMs[s][r]: the process's CPU time (every thread, user + system) during stage s's run r. */
  readonly stageCpuMs: readonly (readonly number[])[];
  /** Whole frame (every stage in turn) per measured run. */
  readonly totalMs: readonly number[];
  /** The reference model's time per measured run (with options.reference): run after each frame's stages, not in totalMs. */
  readonly referenceMs?: readonly number[];
  /** Why the reference was not timed (too little memory left for its session beside the stages'), when it was asked for. */
  readonly referenceSkipped?: string;
  /** What the stages' sessions added to this process's resident memory after two frames (with a reference or `measureSessions`). */
  readonly sessionsBytes?: number;
  /**
   * With `alone` and more than one stage: aloneMs[s][r], stage s timed alone, run after run of its own
   * session on the last frame's tensors (as a board runs its stage), as many runs as back to back.
   */
  readonly aloneMs?: readonly (readonly number[])[];
  /** The same for the reference, the whole model run after run of its own (as the profile times it). */
  readonly referenceAloneMs?: readonly number[];
  readonly spans: readonly Span[];
  /** Every tensor of the last frame: the feeds and each stage's outputs (what each stage reads, for measureStageMemory). */
  readonly tensors: ReadonlyMap<string, ort.Tensor>;
}

/**
 * Every stage in turn per frame, `warmup` unmeasured frames then `runs` measured ones, all in this
 * thread. With `nodeTrace`, one more profiled frame adds a span per ONNX kernel to `spans`.
 */
export async function timeBackToBack(
  stages: readonly StageRunnable[],
  feeds: Readonly<Record<string, ort.Tensor>>,
  options: TimingOptions & {
    readonly runs: number;
    readonly warmup: number;
    readonly nodeTrace?: boolean;
    /**
     * A model timed in the same runs, after each frame's stages (the whole model, for verify): what
     * it measures against its own prediction tells how fast the machine runs now, under the same
     * load, against when it was profiled.
     */
    readonly reference?: StageRunnable;
    /**
     * Raise the measured frames until they cover at least this many ms (by the warm-up frames'
     * median), and the warm-up until it covers a fifth of it, within MAX_FRAMES; 0 (default): exactly
     * `runs` and `warmup`. The count used is the result's stageMs[s].length.
     */
    readonly minSpanMs?: number;
    /** Run two frames first and read what the stages' sessions take (sessionsBytes); done anyway with a reference. */
    readonly measureSessions?: boolean;
    /** Then time each stage, and the reference, alone (aloneMs): in blocks taken in turn, so that a change of the machine's speed reaches them all. */
    readonly alone?: boolean;
    readonly onRun?: (done: number, total: number) => void;
    readonly onAloneRun?: (done: number, total: number) => void;
  },
): Promise<BackToBackResult> {
  const sessions: ort.InferenceSession[] = [];
  const referenceMs: number[] = [];
  const spans: Span[] = [];
  const stageMs = stages.map(() => [] as number[]);
  const stageCpuMs = stages.map(() => [] as number[]);
  const totalMs: number[] = [];
  let last = new Map<string, ort.Tensor>(Object.entries(feeds));
  let referenceSkipped: string | undefined;
  let sessionsBytes: number | undefined;
  let aloneMs: number[][] | undefined;
  let referenceAloneMs: number[] | undefined;
  try {
    const rssBefore = process.memoryUsage().rss;
    for (const s of stages) sessions.push(await open(s, options.threads));
    const fetches = sessions.map((x) => ({ fetches: preallocatedFetches(x) }));
    let ref = options.reference;
    if (ref || options.measureSessions) {
      // What the stages' sessions take, onnxruntime's arenas grown (two frames first; IS-Net's grew
      // on its second run). The whole model's session takes about as much again: without room for
      // it beside them, the stages are timed without it rather than the kernel killing the process
      // (the profile does the same: profiler's measure.ts).
      for (let r = 0; r < 2; r++) {
        const pool = new Map(Object.entries(feeds));
        for (let s = 0; s < stages.length; s++) await runStage(sessions[s]!, stages[s]!, pool, fetches[s]!);
      }
      sessionsBytes = Math.max(process.memoryUsage().rss - rssBefore, stages.reduce((a, s) => a + modelSize(s), 0));
      const room = roomFor(sessionsBytes, options.availableMemoryBytes);
      if (ref && !room.fits) {
        referenceSkipped = `the whole model was not timed beside the stages (their sessions took ${mib(sessionsBytes)} and this machine had ${mib(room.availableBytes)} left, too little for its session too): no reference, so no error at the machine's present speed (scaledError)`;
        ref = undefined;
      }
    }
    const refSession = ref ? await open(ref, options.threads) : null;
    if (refSession) sessions.push(refSession);
    const refFetches = { fetches: refSession ? preallocatedFetches(refSession) : null };
    const minSpanMs = options.minSpanMs ?? 0;
    // Sized by the warm-up frames: at least one of them.
    let warmup = minSpanMs > 0 ? Math.max(1, options.warmup) : options.warmup;
    let total = warmup + options.runs;
    const warmFrom = now();
    const warmFrames: number[] = [];
    for (let r = 0; r < total; r++) {
      checkAbort(options.signal);
      const measured = r >= warmup;
      const pool = new Map(Object.entries(feeds));
      last = pool;
      const t0 = now();
      for (let s = 0; s < stages.length; s++) {
        const cpu = process.cpuUsage();
        const a = now();
        await runStage(sessions[s]!, stages[s]!, pool, fetches[s]!);
        const b = now();
        const used = process.cpuUsage(cpu);
        if (measured) {
          stageMs[s]!.push(b - a);
          stageCpuMs[s]!.push((used.user + used.system) / 1000);
          if (r - warmup < TRACE_FRAMES) spans.push({ name: stages[s]!.label, track: stages[s]!.label, process: 'back to back', startMs: a, durMs: b - a, cat: 'stage', args: { frame: r - warmup } });
        }
      }
      if (measured) totalMs.push(now() - t0);
      else warmFrames.push(now() - t0);
      if (ref && refSession) {
        const a = now();
        await runStage(refSession, ref, new Map(Object.entries(feeds)), refFetches);
        if (measured) referenceMs.push(now() - a);
      }
      // The last warm-up frame: warm on until a fifth of the span has passed, then size the measured frames.
      if (minSpanMs > 0 && r === warmup - 1) {
        if (now() - warmFrom < minSpanMs / 5 && warmup < MAX_FRAMES) {
          warmup++;
          total++;
        } else {
          total = warmup + framesFor(options.runs, minSpanMs, median(warmFrames));
        }
      }
      options.onRun?.(r + 1, total);
    }
    if (options.alone && stages.length > 1) {
      const done = await timeAlone(
        [...stages.map((s, i) => () => runStage(sessions[i]!, s, new Map(last), fetches[i]!)), ...(ref && refSession ? [() => runStage(refSession, ref, new Map(Object.entries(feeds)), refFetches)] : [])],
        totalMs.length, options.signal, options.onAloneRun,
      );
      aloneMs = done.slice(0, stages.length);
      if (ref && refSession) referenceAloneMs = done[stages.length];
    }
  } finally {
    for (const s of sessions.splice(0)) await s.release().catch(() => {});
  }
  if (options.nodeTrace) spans.push(...(await nodeSpans(stages, feeds, options.threads)));
  return {
    stageMs, stageCpuMs, totalMs, spans, tensors: last, ...(options.reference && !referenceSkipped ? { referenceMs } : {}), ...(referenceSkipped ? { referenceSkipped } : {}),
    ...(sessionsBytes !== undefined ? { sessionsBytes } : {}), ...(aloneMs ? { aloneMs } : {}), ...(referenceAloneMs ? { referenceAloneMs } : {}),
  };
}

/** Blocks of runs of one session each, the sessions taken in turn (timeAlone). */
const ALONE_BLOCKS = 6;
/** Runs at the start of each block left out: the session's weights and arena come back into the caches. */
const ALONE_SETTLE = 2;
/** The runs timeAlone leaves out per session at most, on top of the measured ones (verify's time estimate). */
export const ALONE_UNMEASURED_RUNS = ALONE_BLOCKS * ALONE_SETTLE;

/**
 * Each of `runners` timed alone, `runs` measured runs each: in ALONE_BLOCKS blocks per runner taken
 * in turn (a minute in which this machine runs slower reaches every runner alike), each block's first
 * ALONE_SETTLE runs left out. Run in turn, sessions share the caches: measured here, a text encoder's
 * stages each took 15-25 % longer back to back than alone, ResNet-18's 1-3 % (bench/results/verify-stages.md).
 */
async function timeAlone(
  runners: readonly (() => Promise<unknown>)[], runs: number, signal: AbortSignal | undefined, onRun?: (done: number, total: number) => void,
): Promise<number[][]> {
  const out = runners.map(() => [] as number[]);
  const block = Math.max(1, Math.ceil(runs / ALONE_BLOCKS));
  const total = runners.length * (runs + Math.ceil(runs / block) * ALONE_SETTLE);
  let done = 0;
  for (let from = 0; from < runs; from += block) {
    const n = Math.min(block, runs - from);
    for (const [i, run] of runners.entries()) {
      for (let r = 0; r < ALONE_SETTLE + n; r++) {
        checkAbort(signal);
        const a = now();
        await run();
        if (r >= ALONE_SETTLE) out[i]!.push(now() - a);
        onRun?.(++done, total);
      }
    }
  }
  return out;
}

/** Frames whose spans go into a timeline (back to back, and through the pipeline): a small stage's half second is thousands. */
export const TRACE_FRAMES = 1000;

/** The most frames minSpanMs raises a count to: the profiler's limit for its end-to-end runs. */
export const MAX_FRAMES = MAX_END_TO_END_RUNS;

/** `count` frames, raised to cover `minSpanMs` at `frameMs` a frame, within MAX_FRAMES (the profiler's rule for its end-to-end runs). */
export const framesFor: (count: number, minSpanMs: number, frameMs: number) => number = endToEndRuns;

/** What one stage's session and runs add to the resident memory of a process that already runs onnxruntime. */
export interface StageMemory {
  /**
   * Right after the session is created: the weights onnxruntime copied or prepacked, and its plan.
   * Weights it maps from the saved graph's data file (lean-load) count once a run has read them, in peakBytes.
   */
  readonly sessionBytes: number;
  /** The most over its runs: the session, its activation arena, and the outputs handed back. */
  readonly peakBytes: number;
  /**
   * Loaded as an agent loads it: from the graph onnxruntime's optimiser saved (one copy of the
   * weights; true), or as split (false: the optimiser could not save it, or its graph was larger).
   */
  readonly preoptimised: boolean;
}

/** Where the memory child sits: apps/report/worker, two levels above this file in src/ and in dist/. */
const MEMORY_CHILD = new URL('../../worker/stage-memory.mjs', import.meta.url);
/** Runs of a stage in its memory process: the arena grows to its size on the first; each run's outputs are held while the memory is read. */
const MEMORY_RUNS = 3;

/**
 * Each stage's memory, each in a Node process of its own (a board's agent runs one stage in its
 * process), loaded as an agent loads it (runtime's stageModelFile): the stage model and its inputs
 * (`tensors`: the last frame timeBackToBack ran) are handed to worker/stage-memory.mjs, which reports
 * the resident set size its session and runs added.
 */
export async function measureStageMemory(
  stages: readonly StageRunnable[],
  tensors: ReadonlyMap<string, ort.Tensor>,
  options: TimingOptions & { readonly onStage?: (done: number, total: number) => void },
): Promise<(StageMemory | string)[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dnnpart-memory-'));
  let lean: StageModelFile | undefined;
  try {
    const warm = path.join(dir, 'warm.onnx');
    await writeFile(warm, glueChainModel(6).bytes);
    const out: (StageMemory | string)[] = [];
    for (const [i, s] of stages.entries()) {
      checkAbort(options.signal);
      // The stage as an agent loads it (dnnpart agent's default): the optimiser's saved graph, from its file.
      // A stage with its weights in a file beside it is loaded from that file as split (onnxruntime
      // cannot save an optimised graph over 2 GB).
      lean = s.modelPath ? { path: s.modelPath, sentPath: s.modelPath, preoptimised: false, note: 'loaded as split', bytes: modelSize(s), dispose: async () => {} } : await stageModelFile(s.bytes, options.signal ? { signal: options.signal } : {});
      checkAbort(options.signal);
      const model = lean.path;
      const missing = s.inputs.find((name) => !tensors.has(name));
      if (missing !== undefined) throw new VerifyError('VERIFY_RUN_FAILED', `${s.label}: no tensor "${missing}" from the stages before it to measure its memory with`);
      // A string tensor has no bytes to hand over: that stage's memory is not measured (said why).
      const text = s.inputs.find((name) => !ArrayBuffer.isView(tensors.get(name)!.data));
      if (text !== undefined) {
        out.push(`input ${text} is a ${tensors.get(text)!.type} tensor, which the memory process cannot be handed`);
        options.onStage?.(i + 1, stages.length);
        await lean.dispose();
        continue;
      }
      // Each input in a file of its own bytes: read straight into the feed's buffer, so that nothing
      // the child decodes lingers as garbage that the stage's session would then reuse unseen.
      const inputs = [];
      for (const [k, name] of s.inputs.entries()) {
        const t = tensors.get(name)!;
        const data = t.data as ArrayBufferView;
        const file = path.join(dir, `stage-${i}.input-${k}.bin`);
        await writeFile(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        inputs.push({ name, type: t.type, dims: t.dims, file });
      }
      const r = await child(JSON.stringify({ model, warm, threads: options.threads, level: stageLevel(s).level, runs: MEMORY_RUNS, inputs }), options.signal);
      if (r.code !== 0) throw new VerifyError('VERIFY_RUN_FAILED', `${s.label}: measuring its memory in a process of its own failed: ${r.stderr.trim().split('\n').pop() || `exit ${r.code}`}`);
      const m = JSON.parse(r.stdout) as { baseBytes: number; loadedBytes: number; peakBytes: number };
      out.push({ sessionBytes: Math.max(0, m.loadedBytes - m.baseBytes), peakBytes: Math.max(0, m.peakBytes - m.baseBytes), preoptimised: lean.preoptimised });
      // A large stage's two files (as split, and the optimiser's graph) go before the next stage's come.
      await lean.dispose();
      options.onStage?.(i + 1, stages.length);
    }
    return out;
  } finally {
    await lean?.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

function child(input: string, signal: AbortSignal | undefined): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--expose-gc', fileURLToPath(MEMORY_CHILD)], { stdio: ['pipe', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d));
    c.stderr.on('data', (d: Buffer) => (stderr += d));
    c.on('error', (e) => (signal?.aborted ? reject(new VerifyError('VERIFY_INTERRUPTED', 'verify was interrupted')) : reject(new VerifyError('VERIFY_RUN_FAILED', `cannot start a process to measure stage memory: ${e.message}`, { cause: e }))));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
    // A child that fails early closes its stdin: its exit code and stderr say why, not EPIPE.
    c.stdin.on('error', () => {});
    c.stdin.end(input);
  });
}

/** One profiled frame: ORT's kernel events as spans named by node, placed on the stage's node track. */
async function nodeSpans(stages: readonly StageRunnable[], feeds: Readonly<Record<string, ort.Tensor>>, threads: number): Promise<Span[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dnnpart-verify-'));
  const spans: Span[] = [];
  try {
    const pool = new Map(Object.entries(feeds));
    for (const [i, stage] of stages.entries()) {
      const session = await open(stage, threads, path.join(dir, `stage${i}`));
      const t0 = now();
      await runStage(session, stage, pool, { fetches: preallocatedFetches(session) });
      session.endProfiling();
      await session.release().catch(() => {});
      const file = (await readdir(dir)).find((f) => f.startsWith(`stage${i}`) && f.endsWith('.json'));
      if (!file) continue;
      const events = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as { cat?: string; name?: string; ts?: number; dur?: number }[];
      // The last model_run is the profiled frame; its kernels follow it.
      const run = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').pop();
      if (!run || typeof run.ts !== 'number') continue;
      for (const e of events) {
        if (e.cat !== 'Node' || typeof e.name !== 'string' || !e.name.endsWith('_kernel_time') || typeof e.ts !== 'number' || e.ts < run.ts) continue;
        spans.push({
          name: e.name.slice(0, -'_kernel_time'.length), track: `${stage.label}: ONNX nodes`, process: 'one profiled frame',
          startMs: t0 + (e.ts - run.ts) / 1000, durMs: (e.dur ?? 0) / 1000, cat: 'node',
        });
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return spans;
}

interface Wire {
  readonly type: ort.Tensor.Type;
  readonly dims: readonly number[];
  readonly data: unknown;
}

export interface PipelineResult {
  /** Measured frames (after the warm-up frames). */
  readonly frames: number;
  /** Frames per second at the end of the pipeline, over the measured frames. */
  readonly fps: number;
  /** 1000 / the median gap between measured frames leaving the pipeline: moved less by a burst of other load. */
  readonly medianFps: number;
  /** Per measured frame: from entering the first queue to leaving the last stage. */
  readonly latencyMs: readonly number[];
  readonly spans: readonly Span[];
}

/** Where the stage worker sits: apps/report/worker, two levels above this file in src/ and in dist/. */
const WORKER = new URL('../../worker/stage-worker.mjs', import.meta.url);

type WorkerMessage =
  | { kind: 'loaded' | 'ready' | 'credit' }
  | { kind: 'error'; message: string }
  | { kind: 'done'; frame: number; at: number; spans: { stage: number; startMs: number; endMs: number }[] };

/**
 * Stream frames through one worker thread per stage, each stage handing its frames straight to the
 * next over a MessagePort. Every stage's input queue holds at most `queue` frames; a stage whose
 * next queue is full holds its finished frame (and takes no new one) until there is room. With
 * handoff "transfer" (the default) tensors move between threads without a copy.
 */
export async function runPipeline(
  stages: readonly (StageRunnable | SyntheticStage)[],
  feeds: Readonly<Record<string, ort.Tensor>>,
  options: TimingOptions & { readonly frames: number; readonly warmup: number; readonly queue?: number; readonly handoff?: Handoff },
): Promise<PipelineResult> {
  const k = stages.length;
  const Q = options.queue ?? 1;
  const handoff = options.handoff ?? 'transfer';
  const total = options.warmup + options.frames;
  // Each tensor travels only as far as the last stage that reads it.
  const lastUse: Record<string, number> = {};
  stages.forEach((s, i) => s.inputs.forEach((x) => { lastUse[x] = i; }));
  const input: Record<string, Wire> = Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, { type: t.type, dims: [...t.dims], data: t.data }]));

  const channels = stages.slice(1).map(() => new MessageChannel());
  const workers = stages.map((s, i) => new Worker(WORKER, {
    workerData: {
      modelBytes: 'bytes' in s ? modelOf(s) : null, synthetic: 'synthetic' in s ? s.synthetic.map((o) => ({ ...o, dims: [...o.dims] })) : null,
      threads: options.threads, level: 'bytes' in s ? stageLevel(s).level : 'all', inputs: [...s.inputs], outputs: [...s.outputs], index: i, last: i === k - 1, lastUse, queue: Q, handoff,
    },
  }));
  const spans: Span[] = [];
  const done: { at: number; latency: number }[] = [];
  const failure = (i: number, what: string, e: Error) => new VerifyError('VERIFY_RUN_FAILED', `${stages[i]!.label}: ${what}: ${e.message.split('\n')[0]}`, { cause: e });
  try {
    await Promise.all(workers.map((w, i) => new Promise<void>((resolve, reject) => {
      w.once('message', (m: WorkerMessage) => (m.kind === 'loaded' ? resolve() : reject(failure(i, 'the stage worker failed to start', new Error(m.kind === 'error' ? m.message : m.kind)))));
      w.once('error', (e) => reject(failure(i, 'the stage worker failed to start', e)));
    })));
    // Join stage i to stage i+1 directly.
    await Promise.all(workers.map((w, i) => new Promise<void>((resolve) => {
      w.once('message', () => resolve());
      const ports: { in?: MessagePort; out?: MessagePort } = {};
      const transfer: MessagePort[] = [];
      if (i > 0) { ports.in = channels[i - 1]!.port2; transfer.push(ports.in); }
      if (i < k - 1) { ports.out = channels[i]!.port1; transfer.push(ports.out); }
      w.postMessage({ kind: 'ports', ...ports }, transfer);
    })));
    await new Promise<void>((resolve, reject) => {
      let credits = Q;
      let injected = 0;
      const injectedAt = new Map<number, number>();
      let failed = false;
      const fail = (e: Error) => {
        if (failed) return;
        failed = true;
        reject(e);
      };
      const inject = () => {
        if (failed) return;
        if (options.signal?.aborted) return fail(new VerifyError('VERIFY_INTERRUPTED', 'verify was interrupted'));
        while (credits > 0 && injected < total) {
          credits--;
          const id = injected++;
          injectedAt.set(id, now());
          if (handoff === 'copy') workers[0]!.postMessage({ kind: 'frame', frame: { id, pool: input, spans: [] } });
          else {
            // A fresh copy of the input per frame (a camera hands over a new buffer each frame), moved.
            const pool = Object.fromEntries(Object.entries(input).map(([n, w]) => [n, { ...w, data: ArrayBuffer.isView(w.data) ? (w.data as Uint8Array).slice() : w.data }]));
            workers[0]!.postMessage({ kind: 'frame', frame: { id, pool, spans: [] } }, Object.values(pool).flatMap((w) => (ArrayBuffer.isView(w.data) ? [w.data.buffer as ArrayBuffer] : [])));
          }
        }
      };
      workers.forEach((w, s) => {
        w.on('error', (e) => fail(failure(s, 'the stage worker failed', e)));
        w.on('message', (m: WorkerMessage) => {
          if (m.kind === 'error') return fail(new VerifyError('VERIFY_RUN_FAILED', `${stages[s]!.label}: onnxruntime failed to run the stage: ${runtimeMessage(m.message)}`));
          if (m.kind === 'credit' && s === 0) {
            credits++;
            return inject();
          }
          if (m.kind !== 'done') return;
          if (m.frame >= options.warmup) {
            done.push({ at: m.at, latency: m.at - injectedAt.get(m.frame)! });
            for (const x of m.frame - options.warmup < TRACE_FRAMES ? m.spans : []) {
              spans.push({ name: stages[x.stage]!.label, track: stages[x.stage]!.label, process: 'pipeline', startMs: x.startMs, durMs: x.endMs - x.startMs, cat: 'stage', args: { frame: m.frame - options.warmup } });
            }
          }
          if (m.frame === total - 1) resolve();
        });
      });
      inject();
    });
  } finally {
    for (const c of channels) { c.port1.close(); c.port2.close(); }
    await Promise.all(workers.map((w) => w.terminate()));
  }
  const n = done.length;
  const span = n > 1 ? done[n - 1]!.at - done[0]!.at : Number.NaN;
  const medianGap = median(done.slice(1).map((d, i) => d.at - done[i]!.at));
  return { frames: n, fps: n > 1 ? ((n - 1) * 1000) / span : Number.NaN, medianFps: 1000 / medianGap, latencyMs: done.map((d) => d.latency), spans };
}
