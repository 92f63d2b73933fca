// Conversions between onnx-buf messages and the plain graph model: element types, dims,
// attributes and constant tensor contents. Pure functions; no I/O.
import { create } from '@bufbuild/protobuf';
import type { AttributeProto, TensorProto, ValueInfoProto } from 'onnx-buf';
import { TensorProtoSchema, ValueInfoProtoSchema } from 'onnx-buf';
import { AttributeProto_AttributeType, TensorProto_DataLocation } from 'onnx-buf';
import { GraphError } from './errors.js';
import type { AttributeValue, DType, GraphTensor, TensorValue } from './types.js';

/** ONNX TensorProto.DataType numbers of the element types this project handles. */
export const DTYPE_BY_ONNX: ReadonlyMap<number, DType> = new Map<number, DType>([
  [1, 'float32'], [2, 'uint8'], [3, 'int8'], [4, 'uint16'], [5, 'int16'], [6, 'int32'], [7, 'int64'],
  [8, 'string'], [9, 'bool'], [10, 'float16'], [11, 'float64'], [12, 'uint32'], [13, 'uint64'],
  [16, 'bfloat16'], [17, 'float8e4m3fn'], [18, 'float8e4m3fnuz'], [19, 'float8e5m2'], [20, 'float8e5m2fnuz'],
  [21, 'uint4'], [22, 'int4'],
]);

/** The ONNX DataType number of a dtype. */
export const ONNX_BY_DTYPE: ReadonlyMap<DType, number> = new Map([...DTYPE_BY_ONNX].map(([k, v]) => [v, k]));

/** The ONNX DataType number of a dtype (a Cast's `to`). */
export function onnxElementType(dtype: DType): number {
  return ONNX_BY_DTYPE.get(dtype)!;
}

/** Bytes per element (4-bit types: half a byte, two to a byte); strings have no fixed size and count 0. */
export const ELEMENT_BYTES: Readonly<Record<DType, number>> = {
  float32: 4, float16: 2, bfloat16: 2, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2,
  int32: 4, uint32: 4, int64: 8, uint64: 8, bool: 1, string: 0,
  float8e4m3fn: 1, float8e4m3fnuz: 1, float8e5m2: 1, float8e5m2fnuz: 1, uint4: 0.5, int4: 0.5,
};

/** Bytes of `n` elements of `dtype` as ONNX stores them (4-bit ones packed, the last byte half used when n is odd). */
export function byteSize(dtype: DType, n: number): number {
  return Math.ceil(n * ELEMENT_BYTES[dtype]);
}

/** Largest dimension and element count accepted: anything above is a corrupt file, not a model. */
export const MAX_DIM = 2 ** 31 - 1;
export const MAX_ELEMENTS = 2 ** 40;
/** Integer constants up to this many elements are decoded for shape arithmetic. */
const MAX_DECODED = 1 << 16;

/** The dtype for an ONNX type number, or a typed error naming `what`. */
export function dtypeOf(onnxType: number, what: string): DType {
  const d = DTYPE_BY_ONNX.get(onnxType);
  if (d) return d;
  if (onnxType >= 14 && onnxType <= 26) {
    throw new GraphError('GRAPH_UNSUPPORTED_DTYPE', `${what} has ONNX element type ${onnxType}, which dnnpart does not support`);
  }
  throw new GraphError('GRAPH_CORRUPT', `${what} has invalid ONNX element type ${onnxType}`);
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Checks dims read from the file and converts them to numbers; absurd values are a corrupt file. */
export function checkedDims(dims: readonly bigint[], what: string): number[] {
  const out: number[] = [];
  let total = 1;
  for (const b of dims) {
    if (b < 0n || b > BigInt(MAX_DIM)) throw new GraphError('GRAPH_CORRUPT', `${what} has an impossible dimension ${b}`);
    const d = Number(b);
    total *= d;
    out.push(d);
  }
  if (total > MAX_ELEMENTS) throw new GraphError('GRAPH_CORRUPT', `${what} declares ${total} elements, more than any model can hold`);
  return out;
}

/** A dimension from a ValueInfoProto: a number, or null when symbolic or missing. */
export type MaybeDim = number | null;

/** Reads the tensor type of a value info: dtype and dims (null entries are dynamic); null if not a tensor or untyped. */
export function valueInfoType(vi: ValueInfoProto, what: string): { dtype: DType; dims: MaybeDim[] | null; params: string[] } | null {
  const t = vi.type?.value;
  if (!t || t.case !== 'tensorType') return null;
  const tt = t.value;
  if (tt.elemType === 0) return null;
  const dtype = dtypeOf(tt.elemType, what);
  if (!tt.shape) return { dtype, dims: null, params: [] };
  const dims: MaybeDim[] = [];
  const params: string[] = [];
  for (const d of tt.shape.dim) {
    if (d.value.case === 'dimValue') {
      const v = d.value.value;
      if (v < 0n || v > BigInt(MAX_DIM)) throw new GraphError('GRAPH_CORRUPT', `${what} has an impossible dimension ${v}`);
      // dim_value 0 from exporters sometimes means "unknown"; a real 0-sized tensor is not a DNN input.
      dims.push(Number(v));
      params.push('');
    } else {
      dims.push(null);
      params.push(d.value.case === 'dimParam' ? d.value.value : '');
    }
  }
  if (dims.length > 64) throw new GraphError('GRAPH_CORRUPT', `${what} has rank ${dims.length}`);
  return { dtype, dims, params };
}

const utf8 = new TextDecoder('utf-8');

/** Decodes a node attribute; graph-valued and sparse attributes are left out (returns undefined). */
export function decodeAttribute(a: AttributeProto, where: string): AttributeValue | undefined {
  const T = AttributeProto_AttributeType;
  let type = a.type;
  if (type === T.UNDEFINED) {
    // IR < 2 files carry no type: guess from the field that is set.
    if (a.ints.length) type = T.INTS;
    else if (a.floats.length) type = T.FLOATS;
    else if (a.strings.length) type = T.STRINGS;
    else if (a.t) type = T.TENSOR;
    else if (a.s.length) type = T.STRING;
    else if (a.f !== 0) type = T.FLOAT;
    else type = T.INT;
  }
  switch (type) {
    case T.FLOAT: return a.f;
    case T.INT: return int64ToNumber(a.i);
    case T.STRING: return utf8.decode(a.s);
    case T.FLOATS: return a.floats.slice();
    case T.INTS: return a.ints.map(int64ToNumber) as number[];
    case T.STRINGS: return a.strings.map((s) => utf8.decode(s));
    case T.TENSOR:
      if (!a.t) throw new GraphError('GRAPH_CORRUPT', `${where}: tensor attribute ${a.name} has no tensor`);
      return { tensor: decodeTensor(a.t, `${where} attribute ${a.name}`, true) };
    default: return undefined;
  }
}

/** int64 as a JS number; values beyond 2^53 become the nearest double (ONNX uses INT64_MAX as "to the end"). */
function int64ToNumber(b: bigint): number {
  return Number(b);
}

/**
 * Checks a tensor's declared dims against the data it carries and decodes small integer (and small
 * float) contents. `external` data must already be inlined by the loader. `decode` false skips contents.
 */
export function decodeTensor(t: TensorProto, what: string, decode: boolean): TensorValue {
  const dtype = dtypeOf(t.dataType, what);
  const shape = checkedDims(t.dims, what);
  const n = numel(shape);
  if (t.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    throw new GraphError('GRAPH_EXTERNAL_DATA', `${what} keeps its data in an external file that was not loaded`);
  }
  if (dtype !== 'string') {
    // Typed fields store sub-32-bit types widened to int32 (4-bit ones two to an int32), so compare
    // element counts, not bytes; packed 4-bit data holds a whole number of bytes.
    const half = ELEMENT_BYTES[dtype] === 0.5;
    const stored = t.rawData.length > 0 ? t.rawData.length / ELEMENT_BYTES[dtype]
      : t.floatData.length + (half ? 2 : 1) * t.int32Data.length + t.int64Data.length + t.doubleData.length + t.uint64Data.length;
    const count = half && stored === n + 1 ? n : stored;
    if (count !== n) {
      throw new GraphError('GRAPH_CORRUPT', `${what} declares ${n} elements of ${dtype} (dims [${shape.join(', ')}]) but stores ${count}`);
    }
  }
  if (!decode || n > MAX_DECODED) return { dtype, shape };
  const data = tensorNumbers(t, dtype, n);
  return data ? { dtype, shape, data } : { dtype, shape };
}

/** Tensor contents as numbers, for the element types shape arithmetic uses. */
function tensorNumbers(t: TensorProto, dtype: DType, n: number): number[] | Float32Array | undefined {
  const raw = t.rawData;
  const view = raw.length > 0 ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const out: number[] = new Array<number>(n);
  switch (dtype) {
    case 'int64':
      for (let i = 0; i < n; i++) out[i] = view ? Number(view.getBigInt64(i * 8, true)) : Number(t.int64Data[i]);
      return out;
    case 'uint64':
      for (let i = 0; i < n; i++) out[i] = view ? Number(view.getBigUint64(i * 8, true)) : Number(t.uint64Data[i]);
      return out;
    case 'int32':
      for (let i = 0; i < n; i++) out[i] = view ? view.getInt32(i * 4, true) : t.int32Data[i]!;
      return out;
    case 'int8': case 'uint8': case 'bool': case 'int16': case 'uint16':
      if (view) {
        for (let i = 0; i < n; i++) {
          out[i] = dtype === 'int8' ? view.getInt8(i) : dtype === 'int16' ? view.getInt16(i * 2, true)
            : dtype === 'uint16' ? view.getUint16(i * 2, true) : view.getUint8(i);
        }
      } else for (let i = 0; i < n; i++) out[i] = t.int32Data[i]!;
      return out;
    case 'float32': {
      const f = new Float32Array(n);
      for (let i = 0; i < n; i++) f[i] = view ? view.getFloat32(i * 4, true) : t.floatData[i]!;
      return f;
    }
    case 'float64':
      for (let i = 0; i < n; i++) out[i] = view ? view.getFloat64(i * 8, true) : t.doubleData[i]!;
      return out;
    default:
      return undefined;
  }
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** An int64 from a propagated number: sentinels like INT64_MAX came through a double, so clamp. */
function toInt64(v: number): bigint {
  if (v >= 9223372036854775807) return INT64_MAX;
  if (v <= -9223372036854775808) return INT64_MIN;
  return BigInt(Math.trunc(v));
}

/** A TensorProto holding `values` (row-major) as `dtype`; only the types shape arithmetic produces. */
export function tensorFromValues(name: string, dtype: DType, shape: readonly number[], values: readonly number[]): TensorProto {
  const n = numel(shape);
  if (values.length !== n) throw new GraphError('GRAPH_CORRUPT', `constant ${name}: ${values.length} values for shape [${shape.join(',')}]`);
  const size = ELEMENT_BYTES[dtype];
  const raw = new Uint8Array(n * size);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    switch (dtype) {
      case 'int64': view.setBigInt64(i * 8, toInt64(v), true); break;
      case 'uint64': view.setBigUint64(i * 8, BigInt(Math.max(0, Math.trunc(v))), true); break;
      case 'int32': view.setInt32(i * 4, v, true); break;
      case 'uint32': view.setUint32(i * 4, v, true); break;
      case 'int16': view.setInt16(i * 2, v, true); break;
      case 'uint16': view.setUint16(i * 2, v, true); break;
      case 'int8': view.setInt8(i, v); break;
      case 'uint8': view.setUint8(i, v); break;
      case 'bool': view.setUint8(i, v !== 0 ? 1 : 0); break;
      case 'float32': view.setFloat32(i * 4, v, true); break;
      case 'float64': view.setFloat64(i * 8, v, true); break;
      default: throw new GraphError('GRAPH_UNSUPPORTED_DTYPE', `constant ${name}: cannot write ${dtype} values`);
    }
  }
  return create(TensorProtoSchema, { name, dims: shape.map(BigInt), dataType: ONNX_BY_DTYPE.get(dtype)!, rawData: raw });
}

/** A tensor's contents as little-endian raw bytes, whichever field holds them (not strings). */
export function tensorRawBytes(t: TensorProto, what: string): Uint8Array {
  const dtype = dtypeOf(t.dataType, what);
  if (t.rawData.length > 0) return t.rawData;
  const n = numel(checkedDims(t.dims, what));
  if (n === 0) return new Uint8Array(0);
  const size = ELEMENT_BYTES[dtype];
  if (size === 0) throw new GraphError('GRAPH_UNSUPPORTED_DTYPE', `${what}: ${dtype} has no raw byte form`);
  const raw = new Uint8Array(byteSize(dtype, n));
  if (size < 2 && dtype !== 'int8' && dtype !== 'uint8' && dtype !== 'bool') {
    // float8 and packed 4-bit bytes sit one to an int32_data entry, as their bit patterns.
    for (let i = 0; i < raw.length; i++) raw[i] = (t.int32Data[i] ?? 0) & 0xff;
    return raw;
  }
  const view = new DataView(raw.buffer);
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case 'float32': view.setFloat32(i * 4, t.floatData[i] ?? 0, true); break;
      case 'float64': view.setFloat64(i * 8, t.doubleData[i] ?? 0, true); break;
      case 'int64': view.setBigInt64(i * 8, t.int64Data[i] ?? 0n, true); break;
      case 'uint64': view.setBigUint64(i * 8, t.uint64Data[i] ?? 0n, true); break;
      case 'uint32': view.setUint32(i * 4, Number(t.uint64Data[i] ?? 0n), true); break;
      case 'int32': view.setInt32(i * 4, t.int32Data[i] ?? 0, true); break;
      // Sub-32-bit types sit widened in int32_data (float16/bfloat16 as their bit patterns).
      case 'int16': view.setInt16(i * 2, t.int32Data[i] ?? 0, true); break;
      case 'uint16': case 'float16': case 'bfloat16': view.setUint16(i * 2, t.int32Data[i] ?? 0, true); break;
      case 'int8': view.setInt8(i, t.int32Data[i] ?? 0); break;
      case 'uint8': case 'bool': view.setUint8(i, t.int32Data[i] ?? 0); break;
      default: throw new GraphError('GRAPH_UNSUPPORTED_DTYPE', `${what}: ${dtype} has no raw byte form`);
    }
  }
  return raw;
}

/**
 * A tensor's ValueInfoProto: its element type and static shape; the dims `sizedByData` marks (sizes
 * the data decides: see data-sized.ts) named instead.
 */
export function tensorValueInfo(t: Pick<GraphTensor, 'name' | 'dtype' | 'shape'>, sizedByData?: readonly boolean[]): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name: t.name,
    type: {
      value: {
        case: 'tensorType',
        value: {
          elemType: ONNX_BY_DTYPE.get(t.dtype)!,
          // A dim of 0 is a size the data decides (NonMaxSuppression's selection came out empty on the
          // sample input its shape was measured with): declared by name, so a stage fed 100 rows runs.
          shape: { dim: t.shape.map((d, i) => ({ value: d === 0 || sizedByData?.[i] ? { case: 'dimParam' as const, value: `${t.name}_dim${i}` } : { case: 'dimValue' as const, value: BigInt(d) } })) },
        },
      },
    },
  });
}
