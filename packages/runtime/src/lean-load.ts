// A stage's model as an agent loads it: the graph onnxruntime's optimiser makes of it, saved by a
// process of its own and then loaded from its file, so that the agent keeps one copy of the stage's
// weights.
//
// Loaded with every optimisation on, onnxruntime (CPU provider, x86) keeps about three copies of each
// convolution's weights: the layout optimiser rewrites them into blocked (NCHWc) copies and the
// originals stay with the session. Measured here (bench/results/lean-load.md): ResNet-18's 44.6 MB of
// weights took 139 MB. The graph the optimiser saves (`optimizedModelFilePath`) already holds the
// weights in their final layout; loaded, it takes 47 MB, runs the same kernels and gives the same
// outputs to the bit, in the same time. What the optimiser itself allocated goes back to the system
// when its process ends: done in the agent's own process, freed memory stays with its allocator
// (109 MB). The transient peak, on the board, is the plain load's; what stays is a third of it.
//
// The saved graph keeps its weights in a file beside it (SAVED_DATA_SUFFIX), which onnxruntime maps
// when the agent loads the graph, instead of copying each weight out of the parsed model: in a process
// whose allocator keeps freed memory (the agents run so: runWithReusedMemory), those copies stayed
// resident too. A ViT-B/16 half (274 MB of weights): 471 MB from the graph with its weights inline,
// 290 MB beside its file; on two agents, ViT's, Swin-T's and ConvNeXt-T's stages took 30-44 % less at
// their peak (bench/results/runtime-real-models.md). A mapped weight is resident once read: removing
// the file after the session is made leaves the mapping (and on tmpfs its pages, once) in place.
//
// The session is made from the file, not from bytes held in JavaScript: from bytes, onnxruntime kept
// about 1.5x the weights more (a ResNet-18 stage of 29.5 MB of weights: 87 MB from bytes, 45 MB from
// its file, loaded from the saved graph; 168 against 114 MB as sent).
//
// The thread count a stage runs at, when the coordinator does not set it, is chosen in a process of
// its own too (stageProbe, which also measures the stage's footprint there, as verify does): the
// choice times a session at each count, and a session released in the agent's process would leave
// its memory with the allocator (ResNet-18's second half on its
// agent: 181-190 MB loaded from bytes with the choice made in its process, 39-48 MB now).
//
// The optimiser can also make a graph larger than it was: it copies outer weights into both branches
// of an `If` (Moonshine's decoder: 20 MB saved as 39 MB, and 82 MB loaded against 66 MB). A saved
// graph more than a quarter larger than the model it came from (and 64 KiB: a tiny stage's graph
// gains a few opset imports) is not used: the model is loaded as sent. So is a model the optimiser
// cannot save (over protobuf's 2 GB, or a failure of its own).

import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runtimeMessage, type LevelChoice } from '@dnnpart/onnx-graph';

/** A stage model in a file of its own, ready for a session to load, and how it was made. */
export interface StageModelFile {
  /** The file to create the session from: the optimiser's saved graph, or the model as sent. */
  readonly path: string;
  /** The model as sent, in a file too: what to load when the saved graph will not load. */
  readonly sentPath: string;
  /** True when `path` is the optimiser's saved graph. */
  readonly preoptimised: boolean;
  /** One line for a log: what is loaded and why. */
  readonly note: string;
  /** Bytes on disk of what `path` loads: the model as sent, or the saved graph and its weights' file. */
  readonly bytes: number;
  /** Remove the files (a session, once made, no longer reads them). */
  dispose(): Promise<void>;
}

export interface StageModelOptions {
  /** Have onnxruntime's optimiser save the graph first (default true); false: the model as sent. */
  readonly preoptimise?: boolean;
  /** Longest the optimiser's process may take before the model is loaded as sent; default LEAN_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** Stops the optimiser's process; the model is then loaded as sent. */
  readonly signal?: AbortSignal;
}

/** A saved graph at most this much larger than its model, plus LEAN_SLACK_BYTES, is used (see the top). */
export const LEAN_MAX_GROWTH = 1.25;
const LEAN_SLACK_BYTES = 65536;
/**
 * The optimiser's process past this is stopped and the model loaded as sent: 2 min, well within a
 * run's deploy deadline (VGG-16's 528 MB of weights took 17 s here, most of it writing the graph out).
 */
export const LEAN_TIMEOUT_MS = 120_000;

/** Weights of at least this many bytes go in the saved graph's data file (SAVED_DATA_SUFFIX); smaller ones stay inline. */
export const SAVED_DATA_MIN_BYTES = 1024;
/** The saved graph's weights are in `<saved graph><SAVED_DATA_SUFFIX>` beside it. */
export const SAVED_DATA_SUFFIX = '.data';

// Run by `node --input-type=module -e`: argv[1] is onnxruntime-node's entry, argv[2] the model, argv[3]
// where the optimised graph goes, argv[4] the name of its weights' file beside it. Session options as
// the stage's, one thread (threads change no optimisation), fatal log lines only (an error reaches the
// agent's log as one line). The weights go in a file of their own, which onnxruntime maps when the
// agent loads the graph (see the top). The saved graph is then loaded once: one onnxruntime cannot
// load again is reported as the optimiser's failure, and the model is loaded as sent.
const OPTIMISER = `
import { pathToFileURL } from 'node:url';
const [entry, model, out, data] = process.argv.slice(1);
try {
  const m = await import(pathToFileURL(entry).href);
  const ort = m.InferenceSession ? m : m.default;
  const s = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1,
    executionMode: 'sequential', logSeverityLevel: 4, optimizedModelFilePath: out,
    extra: { session: { optimized_model_external_initializers_file_name: data, optimized_model_external_initializers_min_size_in_bytes: '${SAVED_DATA_MIN_BYTES}' } },
  });
  await s.release();
  // onnxruntime 1.30 saves every initializer of an If's branches twice with its weights beside the
  // graph (torchvision's batched NMS, a Squeeze's axes in a branch), a graph it then refuses to load.
  try {
    const again = await ort.InferenceSession.create(out, { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 4 });
    await again.release();
  } catch (e) {
    throw new Error('it saved a graph it cannot load again: ' + String(e && e.message ? e.message : e).split('\\n')[0].replace('Load model from ' + out + ' failed:', ''));
  }
} catch (e) {
  process.stderr.write(String(e && e.message ? e.message : e).split('\\n')[0] + '\\n');
  process.exitCode = 1;
}
`;

// Run by `node --expose-gc --input-type=module -e`: argv[1] is onnxruntime-node's entry, argv[2]
// @dnnpart/profiler's, argv[3] @dnnpart/onnx-graph's, argv[4] the model, argv[5] its label, argv[6]
// '1' to choose its thread count. Sessions at level "all", or the highest level below it that
// onnxruntime accepts (atUsableLevel), reported as `level`.
// First the stage's footprint: the resident memory one session of it (1 thread) adds to a process
// whose onnxruntime is already set up (a tiny session made and released first), once made and at
// most over three runs on zeros, each reading after a garbage collection (verify's memory check
// measures the same). Then, if asked, the profiler's chooseModelThreads. Prints { footprint |
// footprintError, runMs?, frameBytes?, level, threads?, probe? }, or one line on stderr.
const STAGE_PROBE = `
import { pathToFileURL } from 'node:url';
const [ortEntry, profilerEntry, graphEntry, model, label, choose] = process.argv.slice(1);
const ARRAYS = { float32: Float32Array, float64: Float64Array, float16: Uint16Array, int64: BigInt64Array, uint64: BigUint64Array, int32: Int32Array, uint32: Uint32Array, int16: Int16Array, uint16: Uint16Array, int8: Int8Array, uint8: Uint8Array, bool: Uint8Array };
try {
  const m = await import(pathToFileURL(ortEntry).href);
  const ort = m.InferenceSession ? m : m.default;
  const profiler = await import(pathToFileURL(profilerEntry).href);
  const graph = await import(pathToFileURL(graphEntry).href);
  const level = graph.levelChoice('all');
  const out = { level };
  try {
    const rss = () => { globalThis.gc?.(); return process.memoryUsage().rss; };
    const warm = await ort.InferenceSession.create(profiler.glueChainModel(6).bytes, profiler.profileSessionOptions(1, 'all'));
    await warm.release();
    const base = rss();
    const s = await graph.atUsableLevel(level, (l) => ort.InferenceSession.create(model, profiler.profileSessionOptions(1, l)));
    const loaded = rss();
    const feeds = {};
    for (const md of s.inputMetadata) {
      const Ctor = ARRAYS[md.type];
      const dims = md.shape ?? [];
      if (!Ctor || !dims.every((d) => typeof d === 'number')) throw new Error('input ' + md.name + ' is a ' + md.type + ' tensor of shape [' + dims.join(', ') + ']');
      feeds[md.name] = new ort.Tensor(md.type, new Ctor(dims.reduce((a, d) => a * d, 1)), dims);
    }
    let peak = loaded;
    const times = [];
    let outputBytes = 0;
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      const o = await s.run(feeds);
      times.push(performance.now() - t0);
      peak = Math.max(peak, rss());
      outputBytes = Object.values(o).reduce((n, t) => n + (ArrayBuffer.isView(t.data) ? t.data.byteLength : 0), 0);
    }
    await s.release();
    out.footprint = { loadedBytes: Math.max(0, loaded - base), peakBytes: Math.max(0, peak - base) };
    out.runMs = Math.min(...times);
    out.frameBytes = Object.values(feeds).reduce((n, t) => n + t.data.byteLength, 0) + outputBytes;
  } catch (e) {
    out.footprintError = String(e && e.message ? e.message : e).split('\\n')[0];
  }
  if (choose === '1') {
    const c = await profiler.chooseModelThreads(model, label, undefined, level);
    await c.session.release();
    out.threads = c.threads;
    out.probe = c.probe;
  }
  process.stdout.write(JSON.stringify(out));
} catch (e) {
  process.stderr.write(String(e && e.message ? e.message : e).split('\\n')[0] + '\\n');
  process.exitCode = 1;
}
`;

function ortEntry(): string {
  return createRequire(import.meta.url).resolve('onnxruntime-node');
}

function profilerEntry(): string {
  return createRequire(import.meta.url).resolve('@dnnpart/profiler');
}

function graphEntry(): string {
  return createRequire(import.meta.url).resolve('@dnnpart/onnx-graph');
}

const MB = (n: number) => `${(n / 1048576).toFixed(1)} MB`;

/** `script` run with `args` in a Node process of its own: its stdout, or why it failed (one line, `file` not named). */
function apart(
  script: string, args: readonly string[], file: string, what: string, options: StageModelOptions, nodeFlags: readonly string[] = [],
): Promise<{ stdout: string } | { failure: string }> {
  const limit = options.timeoutMs ?? LEAN_TIMEOUT_MS;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeFlags, '--input-type=module', '-e', script, ...args],
      { timeout: limit, maxBuffer: 1 << 20, windowsHide: true, ...(options.signal ? { signal: options.signal } : {}) },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout: String(stdout) });
        if (options.signal?.aborted) return resolve({ failure: 'interrupted' });
        if (err.killed) return resolve({ failure: `${what} took over ${limit / 1000} s` });
        // onnxruntime's words, without its source paths and C++ signatures, nor this temporary file.
        const line = runtimeMessage(String(stderr).trim().split('\n')[0] ?? '').replace(`Load model from ${file} failed:`, '').split(file).join('the model').trim();
        resolve({ failure: line || err.message.split('\n')[0]! });
      },
    );
  });
}

/** The optimiser run on `input`, its graph saved to `output` and its weights beside it (SAVED_DATA_SUFFIX): null, or why it could not. */
async function optimise(input: string, output: string, options: StageModelOptions): Promise<string | null> {
  const r = await apart(OPTIMISER, [ortEntry(), input, output, path.basename(output) + SAVED_DATA_SUFFIX], input, 'the optimiser', options);
  return 'failure' in r ? r.failure : null;
}

/** What stageProbe found: the stage's footprint here, and its thread count when asked. */
export interface StageProbe {
  /** The resident memory one session of the stage adds to a process of its own, once made and at most over three runs. */
  readonly footprint?: { readonly loadedBytes: number; readonly peakBytes: number };
  /** Why the footprint was not measured (a string input, a symbolic dimension). */
  readonly footprintError?: string;
  /** With `chooseThreads`: the count the profiler's chooseModelThreads takes, and what it timed. */
  readonly threads?: number;
  readonly probe?: readonly { readonly threads: number; readonly medianMs: number }[];
  /** The fastest of the footprint's three runs (1 thread, zeros in), ms. */
  readonly runMs?: number;
  /** Bytes of the stage's inputs and outputs in one run (zeros in). */
  readonly frameBytes?: number;
  /** The optimisation level its sessions were made at: "all", or lower when onnxruntime refused its optimised graph. */
  readonly level?: LevelChoice;
}

/**
 * The stage model in `file` in a process of its own (see the top): the memory it takes there, and
 * with `chooseThreads` the thread count it runs fastest at here; or why the process failed.
 */
export async function stageProbe(
  file: string, label: string, options: Omit<StageModelOptions, 'preoptimise'> & { readonly chooseThreads?: boolean } = {},
): Promise<StageProbe | { readonly failure: string }> {
  const r = await apart(STAGE_PROBE, [ortEntry(), profilerEntry(), graphEntry(), file, label, options.chooseThreads ? '1' : '0'], file, 'the stage probe', options, ['--expose-gc']);
  if ('failure' in r) return r;
  let v: StageProbe;
  try {
    v = JSON.parse(r.stdout) as StageProbe;
  } catch {
    return { failure: `the stage probe printed ${JSON.stringify(r.stdout.slice(0, 80))}` };
  }
  if (options.chooseThreads && !(Number.isInteger(v.threads) && v.threads! >= 1 && Array.isArray(v.probe))) {
    return { failure: `the stage probe chose no thread count (${JSON.stringify(r.stdout.slice(0, 80))})` };
  }
  return v;
}

/**
 * `bytes` in a file, and beside it the graph onnxruntime's optimiser saves of it, made in a child
 * process (unless `preoptimise` is false); `path` is the saved graph when that worked and did not grow
 * the model, else the model as sent (said in `note`). Dispose of it once the session is made.
 */
export async function stageModelFile(bytes: Uint8Array, options: StageModelOptions = {}): Promise<StageModelFile> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dnnpart-stage-'));
  const dispose = () => rm(dir, { recursive: true, force: true }).catch(() => {});
  try {
    const sentPath = path.join(dir, 'model.onnx');
    await writeFile(sentPath, bytes);
    const asSent = (note: string): StageModelFile => ({ path: sentPath, sentPath, preoptimised: false, note, bytes: bytes.length, dispose });
    if (options.preoptimise === false) return asSent('loaded as sent (preoptimise off)');
    const output = path.join(dir, 'optimised.onnx');
    const failure = await optimise(sentPath, output, options);
    if (failure !== null) return asSent(`loaded as sent: onnxruntime could not save its optimised graph (${failure})`);
    const graphSize = (await stat(output)).size;
    if (graphSize === 0) return asSent('loaded as sent: onnxruntime saved an empty optimised graph');
    // The graph and its weights' file (absent when no weight reached SAVED_DATA_MIN_BYTES).
    const size = graphSize + (await stat(output + SAVED_DATA_SUFFIX).then((s) => s.size, () => 0));
    if (size > bytes.length * LEAN_MAX_GROWTH + LEAN_SLACK_BYTES) {
      return asSent(`loaded as sent: onnxruntime's optimised graph is ${MB(size)} against ${MB(bytes.length)} (weights copied into subgraphs)`);
    }
    return { path: output, sentPath, preoptimised: true, note: `onnxruntime's optimised graph, saved by a process of its own (${MB(size)}, its weights in a file beside it that onnxruntime maps; one copy of the weights kept)`, bytes: size, dispose };
  } catch (e) {
    await dispose();
    throw e;
  }
}
