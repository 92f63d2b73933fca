// The inputs a profile feeds a model: the sample input (onnx-graph's `randomFeeds`, seeded), the
// same one the load measured data-sized shapes on and verify times stages on, so that a node whose
// time or a tensor whose size follows the data (a detector's box head) has one figure everywhere.
import type * as ort from 'onnxruntime-node';
import { isGraphError, randomFeeds, type Graph } from '@dnnpart/onnx-graph';
import { ProfileError } from './errors.js';

/**
 * Input tensors with deterministic values (floats uniform in [-1, 1), 8-bit integers over their
 * range, wider integers and bools zero: valid indices and masks), and the values the user fixed
 * (`--input shape=2:1,-1`) where the graph still reads them.
 */
export function makeFeeds(graph: Graph): Record<string, ort.Tensor> {
  try {
    return randomFeeds(graph);
  } catch (e) {
    if (isGraphError(e)) throw new ProfileError('PROFILE_MODEL_RUN', e.message, { cause: e });
    throw e;
  }
}
