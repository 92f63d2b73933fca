// The inputs a profile feeds a model: deterministic, so runs and machines compare.
import type * as ort from 'onnxruntime-node';
import { edgeDtype, tensorOf, type Graph } from '@dnnpart/onnx-graph';
import { ProfileError } from './errors.js';

/**
 * Input tensors with deterministic values in [0, 1) (zeros for integer and bool inputs: valid
 * indices and masks), and the values the user fixed (`--input shape=2:1,-1`) where the graph still reads them.
 */
export function makeFeeds(graph: Graph): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  let seed = 12345;
  // Math.imul keeps the product exact: the plain product lost its low bits past 2^53 and fell into
  // a cycle of 7303 values, and a SqueezeNet first stage fed that ran 3.6 ms instead of 1.4.
  const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (const name of graph.inputs) {
    const t = graph.tensors.get(name)!;
    const fixed = graph.inputValues?.[name];
    // A bfloat16 input is fed as float32: the profiled model is `runnableModel`'s, which casts it inside.
    const dtype = edgeDtype(t.dtype);
    const isFloat = dtype === 'float32' || dtype === 'float64';
    // float16 inputs hold 0.5 (0x3800) everywhere.
    const tensor = tensorOf(dtype, t.shape, fixed ? (i) => fixed[i] ?? 0 : isFloat ? next : t.dtype === 'float16' ? () => 0.5 : undefined);
    if (!tensor) throw new ProfileError('PROFILE_MODEL_RUN', `input ${name} has dtype ${t.dtype}, which the profiler cannot feed`);
    feeds[name] = tensor;
  }
  return feeds;
}
