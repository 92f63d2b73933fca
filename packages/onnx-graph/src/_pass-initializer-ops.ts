// Pass: data-movement ops applied to initializers (a weight reshaped, transposed, squeezed or passed
// through Identity, as exporters write them) become the initializer they compute. The bytes are
// moved, never recomputed, so the result is exactly what onnxruntime would produce.
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema, type ModelProto, type TensorProto } from 'onnx-buf';
import { ELEMENT_BYTES, dtypeOf, numel, tensorRawBytes } from './_proto.js';
import { addInitializers, hasSubgraphs, isDefaultDomain, type PassContext, type PassResult } from './_pass.js';

const RESHAPES = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity']);

/** Row-major transpose of raw element bytes. */
function transposeBytes(raw: Uint8Array, shape: readonly number[], perm: readonly number[], size: number): Uint8Array {
  const rank = shape.length;
  const out = new Uint8Array(raw.length);
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = shape.map((_, i) => numel(shape.slice(i + 1)));
  const n = numel(shape);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += idx[k]! * inStrides[perm[k]!]!;
    out.set(raw.subarray(src * size, (src + 1) * size), o * size);
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k]! < outShape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** Replaces Reshape/Flatten/Squeeze/Unsqueeze/Identity/Transpose of initializers by new initializers. */
export function foldInitializerOps(proto: ModelProto, ctx: PassContext): PassResult {
  const { graph, info, label } = ctx;
  if (!graph || !info) throw new Error('foldInitializerOps needs the analysed graph');
  const g = proto.graph!;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const outputs = new Set(graph.outputs);
  const protoByName = new Map(g.node.map((n) => [n.name, n]));
  const folded = new Set<string>();
  const removed: { name: string; op: string }[] = [];
  const added: TensorProto[] = [];
  for (const node of graph.nodes) {
    const isMove = RESHAPES.has(node.op) || node.op === 'Transpose';
    if (!isMove || !isDefaultDomain(node.domain) || hasSubgraphs(protoByName.get(node.name)!)) continue;
    const out = node.outputs[0];
    const src = inits.get(node.inputs[0] ?? '');
    if (!out || !src || outputs.has(out) || node.outputs.length !== 1) continue;
    // Shape operands must be constants too (they are, once the fold pass ran).
    if (node.inputs.slice(1).some((x) => x !== '' && !inits.has(x))) continue;
    const o = info.get(out);
    const dtype = dtypeOf(src.dataType, `${label}: initializer ${src.name}`);
    const size = ELEMENT_BYTES[dtype];
    if (!o || size === 0) continue;
    let raw = tensorRawBytes(src, `${label}: initializer ${src.name}`);
    if (node.op === 'Transpose') {
      const inShape = src.dims.map(Number);
      const p = node.attributes['perm'];
      const perm = Array.isArray(p) ? (p as number[]).map(Number) : inShape.map((_, i) => inShape.length - 1 - i);
      raw = transposeBytes(raw, inShape, perm, size);
    }
    const t = create(TensorProtoSchema, { name: out, dims: o.shape.map(BigInt), dataType: src.dataType, rawData: raw as Uint8Array<ArrayBuffer> });
    inits.set(out, t);
    added.push(t);
    folded.add(node.name);
    removed.push({ name: node.name, op: node.op });
  }
  if (folded.size === 0) return { removed, addedInitializers: 0, removedInitializers: 0 };
  g.node = g.node.filter((n) => !folded.has(n.name));
  addInitializers(proto, added);
  return { removed, addedInitializers: added.length, removedInitializers: 0 };
}
