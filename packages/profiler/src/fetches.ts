// Output tensors made once and reused across runs: what a stage runner passes as session.run's fetches.
import * as ort from 'onnxruntime-node';
import { tensorOf } from '@dnnpart/onnx-graph';

/**
 * Output tensors made once, for `session.run(feeds, fetches)`, when every output has a static
 * shape and a numeric type; else null. onnxruntime-node 1.30 lets the kernels write into them, so
 * it does not allocate (and page in) fresh output buffers each run; it still returns a copy.
 */
export function preallocatedFetches(session: ort.InferenceSession): Record<string, ort.Tensor> | null {
  const outputs: { name: string; dtype: string; shape: number[] }[] = [];
  for (const m of session.outputMetadata) {
    // An empty shape is how ORT reports an unknown one (a scalar output is rare enough to skip too).
    if (!m.isTensor || m.shape.length === 0 || m.shape.some((d) => typeof d !== 'number' || d < 0)) return null;
    outputs.push({ name: m.name, dtype: m.type, shape: m.shape as number[] });
  }
  return fetchesFor(outputs);
}

/** Output tensors made once for outputs of known dtype and static shape; null when one cannot be made. */
export function fetchesFor(outputs: readonly { readonly name: string; readonly dtype: string; readonly shape: readonly number[] }[]): Record<string, ort.Tensor> | null {
  const fetches: Record<string, ort.Tensor> = {};
  for (const o of outputs) {
    if (o.shape.some((d) => !Number.isInteger(d) || d < 0)) return null;
    const t = tensorOf(o.dtype, o.shape);
    if (!t) return null;
    fetches[o.name] = t;
  }
  return fetches;
}
