// `--input` beside `--system`: the system's profiles, and the plans solved from them, are for the
// shapes (and fixed values) its `model.input` gives. Timing or running the model at other shapes
// would hold the measurement against predictions for those, so it is refused.
import type { Graph, InputShapes, InputSpec, Shape } from '@dnnpart/onnx-graph';
import { UsageError } from './errors.js';

/** The system's spec of one input: a bare shape is the only input's. */
function specFor(planned: InputShapes, name: string, only: boolean): InputSpec | undefined {
  if (Array.isArray(planned)) return only ? { shape: planned as Shape } : undefined;
  const v = (planned as Readonly<Record<string, Shape | InputSpec>>)[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? { shape: v as Shape } : (v as InputSpec);
}

const text = (s: { shape: readonly number[]; value?: readonly number[] | undefined }) => `${s.shape.join('x')}${s.value ? `:${s.value.join(',')}` : ''}`;

/** Throws CLI_CONFLICTING_FLAGS when the loaded model's inputs are not what the system plans them as. */
export function checkInputsMatchSystem(graph: Graph, planned: InputShapes | undefined, given: readonly string[] | undefined, system: string): void {
  if (!planned || !given || given.length === 0) return;
  for (const x of graph.inputs) {
    const want = specFor(planned, x, graph.inputs.length === 1);
    if (!want) continue;
    const got = { shape: graph.tensors.get(x)!.shape, value: graph.inputValues?.[x] };
    if (text(want) !== text(want.value ? got : { shape: got.shape })) {
      throw new UsageError('CLI_CONFLICTING_FLAGS', `--input ${x}=${text(got)}: the system ${system} plans input ${x} as ${text(want)}, and its profiles and predictions are for that; change model.input in ${system}, or leave --input out`);
    }
  }
}
