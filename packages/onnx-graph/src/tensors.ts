// onnxruntime tensors of any element type a model's inputs and outputs can have, built from plain
// numbers. The one place that knows which typed array holds which ONNX type (float16 as its bit
// patterns, 64-bit integers as BigInts, bool as bytes); feeding, fetching and shape measuring use it.
import { fromBinary } from '@bufbuild/protobuf';
import { TensorProtoSchema, type TensorProto } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { GraphError } from './errors.js';
import { toHalfBits } from './half.js';
import { ELEMENT_BYTES, decodeTensor, tensorRawBytes } from './_proto.js';
import type { DType } from './types.js';

type Data = Float32Array | Float64Array | Uint16Array | BigInt64Array | BigUint64Array | Int32Array | Uint32Array | Int16Array | Int8Array | Uint8Array;

/** The typed array onnxruntime-node takes for a type, over a buffer's bytes; null for types it cannot hold (string, bfloat16). */
export function typedArrayFor(dtype: DType | string, buffer: ArrayBuffer): Data | null {
  switch (dtype) {
    case 'float32': return new Float32Array(buffer);
    case 'float64': return new Float64Array(buffer);
    case 'float16': return new Uint16Array(buffer);
    case 'int64': return new BigInt64Array(buffer);
    case 'uint64': return new BigUint64Array(buffer);
    case 'int32': return new Int32Array(buffer);
    case 'uint32': return new Uint32Array(buffer);
    case 'int16': return new Int16Array(buffer);
    case 'uint16': return new Uint16Array(buffer);
    case 'int8': return new Int8Array(buffer);
    case 'uint8': case 'bool': return new Uint8Array(buffer);
    default: return null;
  }
}

/**
 * A tensor of `dtype` and `shape` whose element i is `value(i)` (converted as the type stores it:
 * rounded to float16, truncated to an integer, nonzero as true), or zeros without `value`.
 * Null for a type onnxruntime-node cannot hold.
 */
export function tensorOf(dtype: DType | string, shape: readonly number[], value?: (i: number) => number): ort.Tensor | null {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = typedArrayFor(dtype, new ArrayBuffer(n * (ELEMENT_BYTES[dtype as DType] ?? 0)));
  if (!data) return null;
  if (value) {
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) for (let i = 0; i < n; i++) data[i] = BigInt(Math.trunc(value(i)));
    else if (dtype === 'float16') for (let i = 0; i < n; i++) data[i] = toHalfBits(value(i));
    else if (dtype === 'bool') for (let i = 0; i < n; i++) data[i] = value(i) ? 1 : 0;
    else for (let i = 0; i < n; i++) data[i] = value(i);
  }
  return new ort.Tensor(dtype as ort.Tensor.Type, data, shape.slice());
}

/**
 * A serialized TensorProto (the files of ONNX's test data, `test_data_set_0/input_0.pb`) as an
 * onnxruntime tensor, with the name it carries; null for a type onnxruntime-node cannot hold
 * (string, bfloat16). GRAPH_CORRUPT when the bytes are no TensorProto or hold fewer elements than
 * their dims say (a SequenceProto or OptionalProto file is no TensorProto).
 */
export function tensorFromProto(bytes: Uint8Array, label: string): { name: string; tensor: ort.Tensor } | null {
  let t: TensorProto;
  try {
    t = fromBinary(TensorProtoSchema, bytes);
  } catch (e) {
    throw new GraphError('GRAPH_CORRUPT', `${label} is no TensorProto: ${(e as Error).message}`, { cause: e });
  }
  const { dtype, shape } = decodeTensor(t, label, false);
  if (dtype === 'string' || typedArrayFor(dtype, new ArrayBuffer(0)) === null) return null;
  const raw = tensorRawBytes(t, label);
  // A fresh buffer: the decoded bytes may sit at any offset of the file's.
  const copy = new Uint8Array(raw.length);
  copy.set(raw);
  return { name: t.name, tensor: new ort.Tensor(dtype as ort.Tensor.Type, typedArrayFor(dtype, copy.buffer)!, shape.slice()) };
}
