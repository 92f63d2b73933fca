// Turns a NetGraph into ONNX: either a ModelProto (one Float32Array per initializer) or, for
// bytes, a streaming encoder that sizes the file first and writes every weight straight into
// the one output buffer, so vgg16 (553 MB) never exists twice in memory. raw_data is
// little-endian; Float32Array bytes are too on every platform Node and onnxruntime-node ship for.

import { create, toBinary } from '@bufbuild/protobuf';
import {
  GraphProtoSchema,
  ModelProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProtoSchema,
  TensorProto_DataType,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
  type GraphProto,
  type ModelProto,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf';
import { ONNX_DTYPE, type InitSpec, type NetGraph, type Tensor } from './_builder.js';
import { Mulberry32, tensorSeed } from './_rng.js';

/** ONNX IR version and opset the zoo writes (what torch.onnx.export writes for opset 17). */
export const IR_VERSION = 8;
export const OPSET_VERSION = 17;
export const PRODUCER_NAME = 'dnnpart-zoo';
export const PRODUCER_VERSION = '0.1.0';

function valueInfo(t: Tensor): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name: t.name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType: ONNX_DTYPE[t.dtype ?? 'float32'],
          shape: create(TensorShapeProtoSchema, {
            dim: t.shape.map((d) =>
              create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: BigInt(d) } }),
            ),
          }),
        }),
      },
    }),
  });
}

function numel(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function tensorHeader(spec: InitSpec): TensorProto {
  return create(TensorProtoSchema, {
    dims: spec.dims.map((d) => BigInt(d)),
    dataType: TensorProto_DataType.FLOAT,
    name: spec.name,
  });
}

/** The initializer's values; equal to what encodeModel writes for it. */
export function initializerValues(spec: InitSpec, seed: number): Float32Array {
  if (spec.values) return Float32Array.from(spec.values);
  const out = new Float32Array(numel(spec.dims));
  if (spec.fill.bound !== 0 || spec.fill.mean !== 0) {
    new Mulberry32(tensorSeed(seed, spec.name)).fillUniform(out, spec.fill.bound, spec.fill.mean);
  }
  return out;
}

function modelHead(g: NetGraph): ModelProto {
  return create(ModelProtoSchema, {
    irVersion: BigInt(IR_VERSION),
    producerName: PRODUCER_NAME,
    producerVersion: PRODUCER_VERSION,
    // The CNNs keep their original text: committed measured profiles pin their files' sha256.
    docString: g.doc ?? `torchvision ${g.name} topology with seeded random weights (BatchNorm folded into Conv)`,
  });
}

function opsets(): ModelProto {
  return create(ModelProtoSchema, {
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(OPSET_VERSION) })],
  });
}

function graphNodes(g: NetGraph): GraphProto {
  return create(GraphProtoSchema, { node: [...g.nodes], name: g.name });
}

function graphIo(g: NetGraph): GraphProto {
  return create(GraphProtoSchema, {
    input: g.inputs.map(valueInfo),
    output: [valueInfo(g.output)],
    valueInfo: g.valueInfo.map(valueInfo),
  });
}

/** The whole model as a ModelProto, weights materialized (one Float32Array per tensor). */
export function toModelProto(g: NetGraph, seed: number): ModelProto {
  const model = modelHead(g);
  const graph = graphNodes(g);
  for (const spec of g.initializers) {
    const t = tensorHeader(spec);
    const values = initializerValues(spec, seed);
    t.rawData = new Uint8Array(values.buffer as ArrayBuffer, values.byteOffset, values.byteLength);
    graph.initializer.push(t);
  }
  const io = graphIo(g);
  graph.input = io.input;
  graph.output = io.output;
  graph.valueInfo = io.valueInfo;
  model.graph = graph;
  model.opsetImport = opsets().opsetImport;
  return model;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

const TAG_MODEL_GRAPH = (7 << 3) | 2;
const TAG_GRAPH_INITIALIZER = (5 << 3) | 2;
const TAG_TENSOR_RAW_DATA = (9 << 3) | 2;
const CHUNK = 1 << 16;

/**
 * ONNX bytes of the model. Protobuf messages are concatenations of their fields, so the file
 * is written as: model fields 1-3, graph (field 7) = [nodes, name] + initializers (each
 * [dims, type, name] + raw_data) + [inputs, outputs, value_info], then the opset (field 8):
 * field-number order, the same message protobuf-es would decode from toBinary(toModelProto()).
 */
export function encodeModel(g: NetGraph, seed: number): Uint8Array {
  const head = toBinary(ModelProtoSchema, modelHead(g));
  const nodes = toBinary(GraphProtoSchema, graphNodes(g));
  const io = toBinary(GraphProtoSchema, graphIo(g));
  const tail = toBinary(ModelProtoSchema, opsets());
  const inits = g.initializers.map((spec) => {
    const header = toBinary(TensorProtoSchema, tensorHeader(spec));
    const rawLen = numel(spec.dims) * 4;
    const tensorLen = header.length + 1 + varintSize(rawLen) + rawLen;
    return { spec, header, rawLen, tensorLen };
  });
  let graphLen = nodes.length + io.length;
  for (const t of inits) graphLen += 1 + varintSize(t.tensorLen) + t.tensorLen;
  const total = head.length + 1 + varintSize(graphLen) + graphLen + tail.length;

  const out = new Uint8Array(total);
  let pos = 0;
  const bytes = (b: Uint8Array) => {
    out.set(b, pos);
    pos += b.length;
  };
  const varint = (n: number) => {
    while (n >= 128) {
      out[pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    out[pos++] = n;
  };
  const scratch = new Float32Array(CHUNK);
  const scratchBytes = new Uint8Array(scratch.buffer);

  bytes(head);
  out[pos++] = TAG_MODEL_GRAPH;
  varint(graphLen);
  bytes(nodes);
  for (const { spec, header, rawLen, tensorLen } of inits) {
    out[pos++] = TAG_GRAPH_INITIALIZER;
    varint(tensorLen);
    bytes(header);
    out[pos++] = TAG_TENSOR_RAW_DATA;
    varint(rawLen);
    const fill = spec.fill;
    if (spec.values) {
      const v = Float32Array.from(spec.values);
      bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    } else if (fill.bound === 0 && fill.mean === 0) {
      pos += rawLen; // the buffer is zero-initialised
    } else {
      // Float32Array views need 4-byte alignment, so fill a scratch chunk and copy its bytes.
      const rng = new Mulberry32(tensorSeed(seed, spec.name));
      for (let left = rawLen / 4; left > 0; left -= CHUNK) {
        const n = Math.min(left, CHUNK);
        rng.fillUniform(scratch, fill.bound, fill.mean, 0, n);
        out.set(n === CHUNK ? scratchBytes : scratchBytes.subarray(0, n * 4), pos);
        pos += n * 4;
      }
    }
  }
  bytes(io);
  bytes(tail);
  if (pos !== total) throw new Error(`internal: encoded ${pos} bytes, sized ${total}`);
  return out;
}
