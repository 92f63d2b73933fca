// A stage's model as an agent loads it: the graph onnxruntime's optimiser makes of it, saved by a
// process of its own and then loaded, so that the agent keeps one copy of the stage's weights.
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
// The optimiser can also make a graph larger than it was: it copies outer weights into both branches
// of an `If` (Moonshine's decoder: 20 MB saved as 39 MB, and 82 MB loaded against 66 MB). A saved
// graph more than a quarter larger than the model it came from (and 64 KiB: a tiny stage's graph
// gains a few opset imports) is not used: the model is loaded as sent. So is a model the optimiser cannot save (over protobuf's 2 GB, or a failure of its own).

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runtimeMessage } from '@dnnpart/onnx-graph';

/** A model ready to load, and how it was made. */
export interface LeanModel {
  /** The bytes to create the session from: the optimiser's saved graph, or the model as given. */
  readonly bytes: Uint8Array;
  /** True when `bytes` is the optimiser's saved graph. */
  readonly preoptimised: boolean;
  /** One line for a log: what was loaded and why. */
  readonly note: string;
}

export interface LeanOptions {
  /** Longest the optimiser's process may take before the model is loaded as given; default LEAN_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** Stops the optimiser's process; the model is then given back as sent. */
  readonly signal?: AbortSignal;
}

/** A saved graph at most this much larger than its model, plus LEAN_SLACK_BYTES, is used (see the top). */
export const LEAN_MAX_GROWTH = 1.25;
const LEAN_SLACK_BYTES = 65536;
/**
 * The optimiser's process past this is stopped and the model loaded as given: 2 min, well within a
 * run's deploy deadline (VGG-16's 528 MB of weights took 17 s here, most of it writing the graph out).
 */
export const LEAN_TIMEOUT_MS = 120_000;

// Run by `node --input-type=module -e`: argv[1] is onnxruntime-node's entry, argv[2] the model, argv[3]
// where the optimised graph goes. Sessions options as the stage's, one thread (threads change no
// optimisation), fatal log lines only (an error reaches the agent's log as one line).
const OPTIMISER = `
import { pathToFileURL } from 'node:url';
const [entry, model, out] = process.argv.slice(1);
try {
  const m = await import(pathToFileURL(entry).href);
  const ort = m.InferenceSession ? m : m.default;
  const s = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1,
    executionMode: 'sequential', logSeverityLevel: 4, optimizedModelFilePath: out,
  });
  await s.release();
} catch (e) {
  process.stderr.write(String(e && e.message ? e.message : e).split('\\n')[0] + '\\n');
  process.exitCode = 1;
}
`;

function ortEntry(): string {
  return createRequire(import.meta.url).resolve('onnxruntime-node');
}

const MB = (n: number) => `${(n / 1048576).toFixed(1)} MB`;

/**
 * `bytes` optimised by onnxruntime in a child process and saved, for a session to load with one copy
 * of its weights; the model as given when that fails or would grow it (said in `note`).
 */
export async function leanModel(bytes: Uint8Array, options: LeanOptions = {}): Promise<LeanModel> {
  const asSent = (why: string): LeanModel => ({ bytes, preoptimised: false, note: `loaded as sent: ${why}` });
  const dir = await mkdtemp(path.join(tmpdir(), 'dnnpart-lean-'));
  try {
    const input = path.join(dir, 'model.onnx');
    const output = path.join(dir, 'optimised.onnx');
    await writeFile(input, bytes);
    const failure = await new Promise<string | null>((resolve) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', OPTIMISER, ortEntry(), input, output],
        { timeout: options.timeoutMs ?? LEAN_TIMEOUT_MS, maxBuffer: 1 << 20, windowsHide: true, ...(options.signal ? { signal: options.signal } : {}) },
        (err, _stdout, stderr) => {
          if (!err) return resolve(null);
          // onnxruntime's words, without its source paths and C++ signatures, nor this temporary file.
          const line = runtimeMessage(String(stderr).trim().split('\n')[0] ?? '').replace(`Load model from ${input} failed:`, '').split(input).join('the model').trim();
          if (options.signal?.aborted) return resolve('interrupted');
          resolve(err.killed ? `the optimiser took over ${(options.timeoutMs ?? LEAN_TIMEOUT_MS) / 1000} s` : line || err.message.split('\n')[0]!);
        },
      );
    });
    if (failure !== null) return asSent(`onnxruntime could not save its optimised graph (${failure})`);
    const saved = new Uint8Array(await readFile(output));
    if (saved.length === 0) return asSent('onnxruntime saved an empty optimised graph');
    if (saved.length > bytes.length * LEAN_MAX_GROWTH + LEAN_SLACK_BYTES) {
      return asSent(`onnxruntime's optimised graph is ${MB(saved.length)} against ${MB(bytes.length)} (weights copied into subgraphs)`);
    }
    return { bytes: saved, preoptimised: true, note: `onnxruntime's optimised graph, saved by a process of its own (${MB(saved.length)}; one copy of the weights kept)` };
  } catch (e) {
    return asSent(`could not hand the model to the optimiser (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}
