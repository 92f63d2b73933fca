// Pass: nodes whose outputs are known constants once the input shapes are fixed become
// initializers: Shape, Size, Gather, Unsqueeze, Squeeze, Concat, Slice, Cast, Reshape, Range,
// ConstantOfShape, comparisons and arithmetic on small tensors (values from shape inference, as
// onnxruntime's constant folding and onnx-simplifier compute them). Shape chains then stop being
// branches of the DAG.
import type { ModelProto, TensorProto } from 'onnx-buf';
import { ELEMENT_BYTES, numel, tensorFromValues } from './_proto.js';
import { computedInitializer } from './_build.js';
import { addInitializers, hasSubgraphs, isDefaultDomain, type PassContext, type PassResult } from './_pass.js';
import type { AttributeValue, DType } from './types.js';

// Never folded even with known inputs: their outputs differ run to run.
const NONDETERMINISTIC = new Set(['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli']);
const WRITABLE = new Set<DType>(['int64', 'int32', 'int16', 'int8', 'uint64', 'uint32', 'uint16', 'uint8', 'bool', 'float32', 'float64']);
const FLOATS = new Set<DType>(['float32', 'float64']);
/** ConstantOfShape outputs up to this many bytes are materialised (an LSTM's zero state, a mask). */
const MAX_FILL_BYTES = 1 << 22;

function fillValue(v: AttributeValue | undefined): { dtype: DType; value: number } {
  if (v && typeof v === 'object' && 'tensor' in v) return { dtype: v.tensor.dtype, value: v.tensor.data ? Number(v.tensor.data[0]) : 0 };
  return { dtype: 'float32', value: 0 };
}

/** Replaces every node with known constant outputs by initializers. */
export function foldKnownValues(proto: ModelProto, ctx: PassContext): PassResult {
  const { graph, info } = ctx;
  if (!graph || !info) throw new Error('foldKnownValues needs the analysed graph');
  const g = proto.graph!;
  const outputs = new Set(graph.outputs);
  const folded = new Set<string>();
  const removed: { name: string; op: string }[] = [];
  const added: TensorProto[] = [];
  const protoByName = new Map(g.node.map((n) => [n.name, n]));
  for (const node of graph.nodes) {
    const p = protoByName.get(node.name);
    // A node an earlier pass of this round removed is gone from the proto.
    if (!p || !isDefaultDomain(node.domain) || NONDETERMINISTIC.has(node.op) || hasSubgraphs(p)) continue;
    const outs = node.outputs.filter((o) => o !== '');
    if (outs.some((o) => outputs.has(o))) continue;
    const tensors: TensorProto[] = [];
    for (const o of outs) {
      const i = info.get(o);
      if (!i) break;
      const n = numel(i.shape);
      // Float constants may be infinite (an attention mask's -inf); integers must be finite, and nothing NaN.
      const fits = (v: number) => Number.isFinite(v) || (FLOATS.has(i.dtype) && !Number.isNaN(v));
      if (i.value && i.value.length === n && WRITABLE.has(i.dtype) && i.value.every(fits)) {
        const t = tensorFromValues(o, i.dtype, i.shape, i.value);
        computedInitializer(t, { dtype: i.dtype, shape: i.shape, value: i.value });
        tensors.push(t);
      } else if (node.op === 'ConstantOfShape' && info.get(p.input[0]!)?.value) {
        const f = fillValue(node.attributes['value']);
        if (!WRITABLE.has(f.dtype) || n * ELEMENT_BYTES[f.dtype] > MAX_FILL_BYTES) break;
        tensors.push(tensorFromValues(o, f.dtype, i.shape, new Array<number>(n).fill(f.value)));
      } else break;
    }
    if (tensors.length !== outs.length) continue;
    added.push(...tensors);
    folded.add(node.name);
    removed.push({ name: node.name, op: node.op });
  }
  if (folded.size === 0) return { removed, addedInitializers: 0, removedInitializers: 0 };
  g.node = g.node.filter((n) => !folded.has(n.name));
  addInitializers(proto, added);
  return { removed, addedInitializers: added.length, removedInitializers: 0 };
}
