// Checking a split the only way that matters: run the stages in sequence in onnxruntime and
// compare with the unsplit model on the same seeded input.
import * as ort from 'onnxruntime-node';
import { GraphError, runtimeLoadFailure, runtimeMessage } from './errors.js';
import { atUsableLevel, levelChoice } from './optimization-level.js';
import { edgeDtype, encodeModel, runnableModel, type SplitResult } from './split.js';
import { fromHalfBits } from './half.js';
import { SAMPLE_SEED, seededInputs, type InputToFeed } from './sample-input.js';
import type { LoadedModel } from './load.js';
import type { DType, Graph } from './types.js';

/** Result of `verifySplit`: the largest absolute difference over all model outputs. */
export interface SplitCheck {
  readonly maxAbsDiff: number;
  readonly outputs: readonly string[];
}

/**
 * The log level of every onnxruntime session in this process that does not set its own
 * (`logSeverityLevel`): the CLI's `-q` sets 'error' so onnxruntime's `[W:onnxruntime:...]`
 * warnings stay off stderr. Takes effect only before the process's first session.
 */
export function setRuntimeLogLevel(level: 'warning' | 'error' | 'fatal'): void {
  ort.env.logLevel = level;
}

/**
 * Seeded random feeds for every graph input (the sample input, `sample-input.ts`, with the default
 * seed); an input with a fixed value (`--input sr=:16000`) gets that value.
 */
export function randomFeeds(graph: Graph, seed = SAMPLE_SEED): Record<string, ort.Tensor> {
  return seededInputs(sampleInputs(graph), seed);
}

/** The graph's inputs as the sample input feeds them (see `zeroInputsAdvice` for what it puts in integers). */
export function sampleInputs(graph: Graph): InputToFeed[] {
  // A bfloat16 input is fed as float32 (the model as `runnableModel` and a split's first stage take it).
  return graph.inputs.map((name) => {
    const t = graph.tensors.get(name)!;
    return { name, dtype: edgeDtype(t.dtype), shape: t.shape, value: graph.inputValues?.[name], tokenRows: graph.tokenInputs?.[name] };
  });
}

/**
 * Runs ONNX bytes, or a model file (one with its weights beside it: see `modelSource`), in onnxruntime
 * (CPU, graph optimisations off unless `optimised`: then all of them, fused kernels included, as stages
 * run) and returns the requested outputs.
 */
export async function runModel(
  bytes: Uint8Array | string, feeds: Readonly<Record<string, ort.Tensor>>, fetches: readonly string[], options: { readonly optimised?: boolean; readonly label?: string } = {},
): Promise<Record<string, ort.Tensor>> {
  const label = options.label ?? 'the model';
  let s: ort.InferenceSession;
  try {
    // Warnings go nowhere: library code never prints, and failures still throw.
    // Optimised: at "all", or the highest level below it whose graph onnxruntime accepts.
    s = await atUsableLevel(levelChoice(options.optimised ? 'all' : 'disabled'), (level) => {
      // No memory pattern, as every session of dnnpart: a large model's activations held once.
      const opts = { graphOptimizationLevel: level, logSeverityLevel: 4, enableMemPattern: false } as const;
      // One overload each for a path and for bytes.
      return typeof bytes === 'string' ? ort.InferenceSession.create(bytes, opts) : ort.InferenceSession.create(bytes, opts);
    });
  } catch (e) {
    throw new GraphError('GRAPH_RUNTIME', `${label}: ${runtimeLoadFailure(e).message}`, { cause: e });
  }
  try {
    const input: Record<string, ort.Tensor> = {};
    for (const n of s.inputNames) {
      input[n] = feeds[n] ?? (() => { throw new GraphError('GRAPH_BAD_ASSIGNMENT', `${label}: no value for input ${n}`); })();
    }
    try {
      return await s.run(input, fetches as string[]);
    } catch (e) {
      throw new GraphError('GRAPH_RUNTIME', `${label}: onnxruntime failed to run it: ${runtimeMessage(e)}`, { cause: e });
    }
  } finally {
    await s.release();
  }
}

/** Runs the stages in sequence, each reading what the graph inputs and earlier stages produced. */
export async function runStages(split: SplitResult, feeds: Readonly<Record<string, ort.Tensor>>): Promise<Record<string, ort.Tensor>> {
  const values: Record<string, ort.Tensor> = { ...feeds };
  for (const s of split.stages) Object.assign(values, await runModel(s.bytes, values, s.outputs));
  return values;
}

/**
 * Largest absolute element difference between two sets of outputs: Infinity on a missing output,
 * another size, or an element finite in one and Inf or NaN in the other; a NaN, or an infinity of the
 * same sign, in the same place in both is no difference (the split computes what the model does).
 */
export function maxAbsDiff(expected: Readonly<Record<string, ort.Tensor>>, actual: Readonly<Record<string, ort.Tensor>>, names: readonly string[]): number {
  let max = 0;
  for (const name of names) {
    const a = expected[name]?.data as ArrayLike<number> | undefined;
    const b = actual[name]?.data as ArrayLike<number> | undefined;
    if (!a || !b || b.length !== a.length) return Infinity;
    // float16 data are bit patterns: compare the values they hold.
    const value = expected[name]!.type === 'float16' ? fromHalfBits : Number;
    for (let i = 0; i < a.length; i++) {
      const x = value(a[i]!);
      const y = value(b[i]!);
      if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
      const d = Math.abs(x - y);
      max = Math.max(max, Number.isNaN(d) ? Infinity : d);
    }
  }
  return max;
}

/** Runs the unsplit model and the stages in sequence on one seeded input; returns the max abs difference. */
export async function verifySplit(model: LoadedModel, split: SplitResult, seed = 1): Promise<SplitCheck> {
  const feeds = randomFeeds(model.graph, seed);
  const expected = await runModel(encodeModel(runnableModel(model)), feeds, model.graph.outputs);
  const actual = await runStages(split, feeds);
  return { maxAbsDiff: maxAbsDiff(expected, actual, model.graph.outputs), outputs: model.graph.outputs };
}
