// Small builders and readers over onnx-buf messages for the model rewrites (quantize, fp16).
import { create } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType, GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, TensorProtoSchema, TensorProto_DataLocation,
  type ModelProto, type NodeProto, type TensorProto,
} from 'onnx-buf';
import { AccuracyError } from './errors.js';

/** ONNX element type numbers used here. */
export const T_FLOAT = 1;
export const T_UINT8 = 2;
export const T_INT8 = 3;
export const T_FLOAT16 = 10;

/** The default-domain opset of a model (0 if none). */
/**
 * A copy of `proto` whose node and output lists are its own (to add nodes and outputs to) and whose
 * weights are shared, not copied: clone() would copy every initializer's bytes (2.4 GB of them for a
 * model over 2 GB). The weights must not be modified through either.
 */
export function withOwnLists(proto: ModelProto): ModelProto {
  const g = proto.graph!;
  return create(ModelProtoSchema, { ...proto, graph: create(GraphProtoSchema, { ...g, node: [...g.node], output: [...g.output] }) });
}

export function opsetOf(proto: ModelProto): number {
  const o = proto.opsetImport.find((x) => x.domain === '' || x.domain === 'ai.onnx');
  return o ? Number(o.version) : 0;
}

/** The float32 contents of an initializer (raw_data or float_data). */
export function readFloats(t: TensorProto): Float32Array {
  if (t.dataType !== T_FLOAT) throw new AccuracyError('ACCURACY_DTYPE_MISMATCH', `initializer ${t.name} is not float32`);
  if (t.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    throw new AccuracyError('ACCURACY_BAD_TENSOR_FILE', `initializer ${t.name} keeps its data in an external file that was not loaded`);
  }
  if (t.rawData.length > 0) {
    // Copy: raw_data may be unaligned inside the file's buffer.
    const out = new Float32Array(t.rawData.length / 4);
    new Uint8Array(out.buffer).set(t.rawData);
    return out;
  }
  return Float32Array.from(t.floatData);
}

/** Dims of a tensor proto as numbers. */
export function dimsOf(t: TensorProto): number[] {
  return t.dims.map(Number);
}

function raw(name: string, dataType: number, dims: readonly number[], bytes: Uint8Array): TensorProto {
  return create(TensorProtoSchema, { name, dataType, dims: dims.map((d) => BigInt(d)), rawData: new Uint8Array(bytes) });
}

export function floatTensor(name: string, dims: readonly number[], data: Float32Array): TensorProto {
  return raw(name, T_FLOAT, dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

export function int8Tensor(name: string, dims: readonly number[], data: Int8Array): TensorProto {
  return raw(name, T_INT8, dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

export function uint8Tensor(name: string, dims: readonly number[], data: Uint8Array): TensorProto {
  return raw(name, T_UINT8, dims, data);
}

export function halfTensor(name: string, dims: readonly number[], bits: Uint16Array): TensorProto {
  return raw(name, T_FLOAT16, dims, new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength));
}

/** A node; integer attributes only (all the rewrites need). */
export function node(opType: string, name: string, input: string[], output: string[], ints: Record<string, number> = {}, domain = ''): NodeProto {
  return create(NodeProtoSchema, {
    opType,
    domain,
    name,
    input,
    output,
    attribute: Object.entries(ints).map(([k, v]) => ({ name: k, type: AttributeProto_AttributeType.INT, i: BigInt(v) })),
  });
}

/** An integer attribute of a node, or `dflt`. */
export function intAttr(n: NodeProto, name: string, dflt: number): number {
  const a = n.attribute.find((x) => x.name === name);
  return a ? Number(a.i) : dflt;
}

/** Names read by the nodes of `n`'s subgraphs (If branches, Loop and Scan bodies), nested ones included. */
export function subgraphReads(n: NodeProto): string[] {
  const out: string[] = [];
  const walk = (nodes: readonly NodeProto[]) => {
    for (const m of nodes) {
      out.push(...m.input.filter((x) => x !== ''));
      for (const a of m.attribute) for (const sg of [...(a.g ? [a.g] : []), ...a.graphs]) walk(sg.node);
    }
  };
  for (const a of n.attribute) for (const sg of [...(a.g ? [a.g] : []), ...a.graphs]) walk(sg.node);
  return out;
}

/**
 * `n` (already a copy) with reads inside its subgraphs renamed where `rename` gives a new name. ONNX
 * forbids a subgraph to shadow an outer name, so a name from the outer scope is an outer read wherever
 * it appears.
 */
export function renameSubgraphReads(n: NodeProto, rename: (x: string) => string | undefined): void {
  const walk = (nodes: NodeProto[]) => {
    for (const m of nodes) {
      m.input = m.input.map((x) => (x === '' ? x : rename(x) ?? x));
      for (const a of m.attribute) for (const sg of [...(a.g ? [a.g] : []), ...a.graphs]) walk(sg.node);
    }
  };
  for (const a of n.attribute) for (const sg of [...(a.g ? [a.g] : []), ...a.graphs]) walk(sg.node);
}
