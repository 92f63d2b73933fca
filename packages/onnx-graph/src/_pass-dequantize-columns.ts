// Pass: the DequantizeLinear of an 8-bit weight read by MatMul, whose scalar scale or zero point is
// shared (another node reads it, or another scalar initializer has the same scale), gets its own
// per-column scale and zero point: the same value in each of the weight's columns (axis 1), so the
// values it computes do not change. onnxruntime fuses DequantizeLinear + MatMul of an 8-bit weight
// into one kernel on the 8-bit data only when the scale and zero point are the DequantizeLinear's
// own, and its constant sharing first merges equal scalar initializers across the graph. A shared
// scalar, as a tied embedding and output projection have in Optimum's quantized decoders, leaves
// the weight dequantized to float32 on every run: Moonshine's decoder spent most of its time there
// (its 288 x 32,768 logits projection), and a stage that held the projection without the embedding
// ran 2-3x faster than the profile of the whole model said. Per-column tensors are no scalars, so
// nothing merges them, and the whole model and every stage run the same kernels.
import { create } from '@bufbuild/protobuf';
import { AttributeProto_AttributeType, AttributeProtoSchema, type ModelProto, type NodeProto, type TensorProto } from 'onnx-buf';
import { DTYPE_BY_ONNX, decodeTensor, numel, tensorFromValues } from './_proto.js';
import { addInitializers, isDefaultDomain, type PassResult } from './_pass.js';

const FLOAT = 1;
const UINT8 = 2;
const INT8 = 3;

const scalar = (t: TensorProto | undefined): t is TensorProto => t !== undefined && numel(t.dims.map(Number)) === 1 && t.dims.length <= 1;

/** Gives shared-scalar weight dequantizations feeding MatMul their own per-column scale and zero point. */
export function dequantizeColumns(proto: ModelProto): PassResult {
  const none: PassResult = { removed: [], addedInitializers: 0, removedInitializers: 0 };
  const g = proto.graph!;
  const opset = Number(proto.opsetImport.find((o) => isDefaultDomain(o.domain))?.version ?? 0);
  // The axis attribute of DequantizeLinear exists from opset 13.
  if (opset < 13) return none;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const readers = new Map<string, NodeProto[]>();
  for (const n of g.node) for (const x of n.input) if (x !== '') readers.set(x, [...(readers.get(x) ?? []), n]);
  const outputs = new Set(g.output.map((o) => o.name));
  const valueOf = (t: TensorProto): number => Number(decodeTensor(t, t.name, true).data![0]);
  // Scalar float32 initializers some node reads, by value: onnxruntime merges equal ones.
  const sameValue = new Map<number, number>();
  for (const t of inits.values()) {
    if (t.dataType !== FLOAT || !scalar(t) || !readers.has(t.name)) continue;
    const v = valueOf(t);
    sameValue.set(v, (sameValue.get(v) ?? 0) + 1);
  }
  const taken = new Set([...inits.keys(), ...g.node.flatMap((n) => n.output)]);
  const unique = (base: string): string => {
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };
  const added: TensorProto[] = [];
  const rewritten: { name: string; op: string }[] = [];
  for (const n of g.node) {
    if (n.opType !== 'DequantizeLinear' || !isDefaultDomain(n.domain) || n.output.length !== 1) continue;
    const w = inits.get(n.input[0] ?? '');
    const scale = inits.get(n.input[1] ?? '');
    const zp = n.input[2] ? inits.get(n.input[2]) : undefined;
    if (!w || w.dims.length !== 2 || (w.dataType !== UINT8 && w.dataType !== INT8)) continue;
    if (!scalar(scale) || scale.dataType !== FLOAT || (n.input[2] && (!scalar(zp) || zp.dataType !== w.dataType))) continue;
    const y = n.output[0]!;
    const uses = readers.get(y) ?? [];
    if (outputs.has(y) || uses.length === 0 || !uses.every((r) => r.opType === 'MatMul' && isDefaultDomain(r.domain) && r.input[1] === y && r.input[0] !== y)) continue;
    const scaleValue = valueOf(scale);
    const shared = readers.get(scale.name)!.length > 1 || (zp !== undefined && readers.get(zp.name)!.length > 1) || (sameValue.get(scaleValue) ?? 0) > 1;
    if (!shared) continue;
    const columns = Number(w.dims[1]);
    const s = tensorFromValues(unique(`${n.name}/scale_per_column`), 'float32', [columns], new Array<number>(columns).fill(scaleValue));
    added.push(s);
    n.input[1] = s.name;
    if (zp) {
      const z = tensorFromValues(unique(`${n.name}/zero_point_per_column`), DTYPE_BY_ONNX.get(w.dataType)!, [columns], new Array<number>(columns).fill(valueOf(zp)));
      added.push(z);
      n.input[2] = z.name;
    }
    n.attribute = [...n.attribute.filter((a) => a.name !== 'axis'), create(AttributeProtoSchema, { name: 'axis', type: AttributeProto_AttributeType.INT, i: 1n })];
    rewritten.push({ name: n.name, op: n.opType });
  }
  if (added.length === 0) return none;
  addInitializers(proto, added);
  return { removed: [], addedInitializers: added.length, removedInitializers: 0, rewritten };
}
