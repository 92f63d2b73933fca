// Pass: top-level `Constant` nodes become initializers. Exporters (paddle2onnx, torch.onnx, tf2onnx)
// write weights and shape constants as nodes; they are data, not layers, and as initializers a
// stage file carries the ones it reads instead of receiving them from an earlier stage.
import { clone, create } from '@bufbuild/protobuf';
import { TensorProtoSchema, type AttributeProto, type ModelProto, type NodeProto, type TensorProto } from 'onnx-buf';
import { GraphError } from './errors.js';
import { ELEMENT_BYTES, MAX_ELEMENTS, ONNX_BY_DTYPE, checkedDims, dtypeOf, numel, tensorFromValues, tensorRawBytes } from './_proto.js';
import { addInitializers, type PassResult } from './_pass.js';

/** The tensor a Constant node holds, named as its output; a typed error for what cannot be one. */
export function constantTensor(n: NodeProto, label: string): TensorProto {
  const out = n.output[0]!;
  const where = `${label}: Constant node ${n.name || out}`;
  if (n.attribute.length !== 1) throw new GraphError('GRAPH_BAD_CONSTANT', `${where} has ${n.attribute.length} attributes; a Constant holds exactly one value`);
  const a: AttributeProto = n.attribute[0]!;
  switch (a.name) {
    case 'value': {
      if (!a.t) throw new GraphError('GRAPH_BAD_CONSTANT', `${where}: attribute value holds no tensor`);
      const t = clone(TensorProtoSchema, a.t);
      t.name = out;
      return t;
    }
    case 'value_float': return tensorFromValues(out, 'float32', [], [a.f]);
    case 'value_floats': return tensorFromValues(out, 'float32', [a.floats.length], a.floats);
    case 'value_int': return scalarsInt64(out, [], [a.i]);
    case 'value_ints': return scalarsInt64(out, [a.ints.length], a.ints);
    case 'value_string': return create(TensorProtoSchema, { name: out, dims: [], dataType: ONNX_BY_DTYPE.get('string')!, stringData: [a.s] });
    case 'value_strings': return create(TensorProtoSchema, { name: out, dims: [BigInt(a.strings.length)], dataType: ONNX_BY_DTYPE.get('string')!, stringData: a.strings.slice() });
    case 'sparse_value': return densify(a, out, where);
    default:
      throw new GraphError('GRAPH_BAD_CONSTANT', `${where} has attribute ${a.name}; a Constant takes value, value_float(s), value_int(s), value_string(s) or sparse_value`);
  }
}

function scalarsInt64(name: string, dims: number[], v: readonly bigint[]): TensorProto {
  // int64 kept as bigint: no detour through doubles.
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: ONNX_BY_DTYPE.get('int64')!, int64Data: v.slice() });
}

/** A dense tensor from a SparseTensorProto (COO indices, linear [NNZ] or [NNZ, rank]). */
function densify(a: AttributeProto, name: string, where: string): TensorProto {
  const sp = a.sparseTensor;
  if (!sp?.values || !sp.indices) throw new GraphError('GRAPH_BAD_CONSTANT', `${where}: sparse_value without values or indices`);
  const dims = checkedDims(sp.dims, `${where} sparse_value`);
  const dtype = dtypeOf(sp.values.dataType, `${where} sparse_value`);
  const size = ELEMENT_BYTES[dtype];
  const n = numel(dims);
  // A sparse constant exists to be small on disk; a huge dense one is better refused than allocated.
  if (size < 1 || n * size > 2 ** 30 || n > MAX_ELEMENTS) {
    throw new GraphError('GRAPH_BAD_CONSTANT', `${where}: sparse_value of ${dtype} [${dims.join(',')}] cannot be made dense (string, 4-bit or over 1 GiB); store it as a dense initializer`);
  }
  const nnz = Number(sp.values.dims[0] ?? 0n);
  const values = tensorRawBytes(sp.values, `${where} sparse_value values`);
  const idx = tensorRawBytes(sp.indices, `${where} sparse_value indices`);
  const idxView = new DataView(idx.buffer, idx.byteOffset, idx.byteLength);
  const idxRank = sp.indices.dims.length === 2 ? Number(sp.indices.dims[1]) : 1;
  if (values.length !== nnz * size || idx.length !== nnz * idxRank * 8) {
    throw new GraphError('GRAPH_BAD_CONSTANT', `${where}: sparse_value has ${nnz} values but indices of another length`);
  }
  const strides = dims.map((_, i) => numel(dims.slice(i + 1)));
  const raw = new Uint8Array(n * size);
  for (let k = 0; k < nnz; k++) {
    let linear = 0;
    if (idxRank === 1) linear = Number(idxView.getBigInt64(k * 8, true));
    else for (let j = 0; j < idxRank; j++) linear += Number(idxView.getBigInt64((k * idxRank + j) * 8, true)) * strides[j]!;
    if (!(linear >= 0 && linear < n)) throw new GraphError('GRAPH_BAD_CONSTANT', `${where}: sparse_value index ${linear} outside [${dims.join(',')}]`);
    raw.set(values.subarray(k * size, (k + 1) * size), linear * size);
  }
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: sp.values.dataType, rawData: raw });
}

/** Moves every top-level Constant node (not one that is itself a graph output) into the initializers. */
export function constantsToInitializers(proto: ModelProto, label: string): PassResult {
  const g = proto.graph!;
  const outputs = new Set(g.output.map((o) => o.name));
  const removed: { name: string; op: string }[] = [];
  const keep: NodeProto[] = [];
  const added: TensorProto[] = [];
  for (const n of g.node) {
    const isConstant = n.opType === 'Constant' && (n.domain === '' || n.domain === 'ai.onnx') && n.output.length === 1;
    // A graph output must be produced by a node for onnxruntime, so such a Constant stays.
    if (!isConstant || outputs.has(n.output[0]!)) {
      keep.push(n);
      continue;
    }
    added.push(constantTensor(n, label));
    removed.push({ name: n.name, op: n.opType });
  }
  if (added.length === 0) return { removed, addedInitializers: 0, removedInitializers: 0 };
  g.node = keep;
  addInitializers(proto, added);
  return { removed, addedInitializers: added.length, removedInitializers: 0 };
}
