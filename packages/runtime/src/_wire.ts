// The message format of every call: a 4-byte big-endian header length, a JSON header, then raw
// bytes (tensor data or a model chunk). No codegen and no protobuf schema to keep in step: the
// header says what the bytes are, and decodeMessage checks every length before trusting it.
import * as ort from 'onnxruntime-node';
import { decodeHalf, decodeInt8, encodeHalf, encodeInt8, typedArrayFor } from '@dnnpart/onnx-graph';
import { RuntimeError } from './errors.js';

/** Element types a tensor may have on the wire, with their byte size. */
const DTYPES = {
  float32: 4, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, uint16: 2, bool: 1, float16: 2,
} as const;
export type WireDType = keyof typeof DTYPES;

export interface WireTensorHeader {
  readonly name: string;
  /** The tensor's type once received (float32 for an encoded one). */
  readonly dtype: WireDType;
  readonly dims: readonly number[];
  /** Bytes on the wire (an encoded tensor's: 2 or 1 per element). */
  readonly bytes: number;
  /** A float32 tensor sent as float16 bits, or as int8 with one scale and zero point (TransferEncoding). */
  readonly encoding?: 'fp16' | 'int8';
  readonly scale?: number;
  readonly zeroPoint?: number;
}

/** How the float32 tensors of a hop travel: as they are, as float16, or as int8 (tensor-encoding.ts in onnx-graph). */
export type WireEncoding = 'fp32' | 'fp16' | 'int8';
export const WIRE_ENCODINGS: readonly WireEncoding[] = ['fp32', 'fp16', 'int8'];

/** A decoded message: its header and the bytes after it. */
export interface WireMessage<H = Record<string, unknown>> {
  readonly header: H;
  readonly payload: Buffer;
}

/** Limits a receiver enforces on messages. */
export interface WireLimits {
  /** Largest tensor accepted, in bytes. */
  readonly maxTensorBytes: number;
}

const MAX_HEADER = 1 << 20;

/** One message: header JSON and optional payload. */
export function encodeMessage(header: object, payload?: Uint8Array | readonly Uint8Array[]): Buffer {
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(head.length, 0);
  const parts: Uint8Array[] = [len, head];
  if (payload) {
    if (Array.isArray(payload)) parts.push(...(payload as readonly Uint8Array[]));
    else parts.push(payload as Uint8Array);
  }
  return Buffer.concat(parts);
}

/** Split a message into header and payload; `what` names it in errors. */
export function decodeMessage<H = Record<string, unknown>>(buf: Buffer, what: string): WireMessage<H> {
  if (!Buffer.isBuffer(buf) || buf.length < 4) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${what}: malformed message (${buf?.length ?? 0} bytes, shorter than its 4-byte header length)`);
  const n = buf.readUInt32BE(0);
  if (n > MAX_HEADER || 4 + n > buf.length) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${what}: malformed message (header length ${n} does not fit in ${buf.length} bytes)`);
  let header: unknown;
  try {
    header = JSON.parse(buf.subarray(4, 4 + n).toString('utf8'));
  } catch {
    throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${what}: malformed message (its header is not JSON)`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${what}: malformed message (its header is not an object)`);
  return { header: header as H, payload: buf.subarray(4 + n) };
}

/**
 * Tensors as header entries and payload parts: with `encoding` fp16 or int8, float32 tensors are
 * encoded (a new buffer each); the others, and every tensor at fp32, go as they are, without a copy.
 */
export function packTensors(tensors: Readonly<Record<string, ort.Tensor>>, encoding: WireEncoding = 'fp32'): { headers: WireTensorHeader[]; parts: Uint8Array[] } {
  const headers: WireTensorHeader[] = [];
  const parts: Uint8Array[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (!(t.type in DTYPES)) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `tensor ${name}: type ${t.type} cannot be sent`);
    if (encoding !== 'fp32' && t.type === 'float32') {
      const x = t.data as Float32Array;
      if (encoding === 'fp16') {
        const bits = encodeHalf(x);
        headers.push({ name, dtype: 'float32', dims: [...t.dims], bytes: bits.byteLength, encoding });
        parts.push(new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength));
      } else {
        const q = encodeInt8(x);
        headers.push({ name, dtype: 'float32', dims: [...t.dims], bytes: q.data.byteLength, encoding, scale: q.scale, zeroPoint: q.zeroPoint });
        parts.push(new Uint8Array(q.data.buffer, q.data.byteOffset, q.data.byteLength));
      }
      continue;
    }
    const data = t.data as ArrayBufferView;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    headers.push({ name, dtype: t.type as WireDType, dims: [...t.dims], bytes: bytes.byteLength });
    parts.push(bytes);
  }
  return { headers, parts };
}

/** Rebuild tensors from header entries and the payload, checking names, types, sizes and the limit. */
export function unpackTensors(list: unknown, payload: Buffer, limits: WireLimits, what: string): Record<string, ort.Tensor> {
  if (!Array.isArray(list)) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${what}: malformed message (no tensor list)`);
  const out: Record<string, ort.Tensor> = {};
  let offset = 0;
  for (const [i, raw] of list.entries()) {
    const h = raw as Partial<WireTensorHeader> | null;
    if (!h || typeof h.name !== 'string' || typeof h.dtype !== 'string' || !(h.dtype in DTYPES) || !Array.isArray(h.dims) || !h.dims.every((d) => Number.isInteger(d) && d >= 0) || !Number.isInteger(h.bytes)) {
      throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${what}: malformed message (tensor entry ${i} needs name, a known dtype, integer dims and bytes)`);
    }
    const enc = h.encoding;
    if (enc !== undefined) {
      if (enc !== 'fp16' && enc !== 'int8') throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${what}: tensor ${h.name}: unknown encoding ${JSON.stringify(enc)} (this agent reads fp16 and int8)`);
      if (h.dtype !== 'float32') throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${what}: tensor ${h.name}: only float32 tensors travel encoded, not ${h.dtype}`);
      if (enc === 'int8' && !(typeof h.scale === 'number' && Number.isFinite(h.scale) && h.scale > 0 && Number.isInteger(h.zeroPoint) && h.zeroPoint! >= -128 && h.zeroPoint! <= 127)) {
        throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${what}: tensor ${h.name}: int8 needs a finite scale > 0 and an integer zeroPoint in -128..127`);
      }
    }
    const size = enc === 'fp16' ? 2 : enc === 'int8' ? 1 : DTYPES[h.dtype as WireDType];
    const count = h.dims.reduce((a: number, b: number) => a * b, 1);
    // The limit is on the tensor as received (float32 once decoded), as the agent holds it.
    const held = enc === undefined ? h.bytes! : count * 4;
    if (held > limits.maxTensorBytes) {
      throw new RuntimeError('RUNTIME_TOO_LARGE', `${what}: tensor ${h.name} has ${held} bytes, over this agent's limit of ${limits.maxTensorBytes} (start the agent with a larger --max-tensor-bytes)`);
    }
    if (count * size !== h.bytes) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${what}: tensor ${h.name}: dims [${h.dims.join(', ')}] of ${enc ?? h.dtype} need ${count * size} bytes, header says ${h.bytes}`);
    if (offset + h.bytes! > payload.length) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${what}: tensor ${h.name} runs past the end of the message (${offset + h.bytes!} > ${payload.length} bytes)`);
    if (enc !== undefined) {
      const bytes = payload.subarray(offset, offset + h.bytes!);
      offset += h.bytes!;
      // float16 bits read in place when the payload is 2-byte aligned there, else copied to an aligned
      // buffer first (typed arrays need their element alignment); int8 needs none.
      const values = enc === 'fp16'
        ? decodeHalf(bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2) : new Uint16Array(new Uint8Array(bytes).buffer))
        : decodeInt8({ data: new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), scale: h.scale!, zeroPoint: h.zeroPoint! });
      out[h.name] = new ort.Tensor('float32', values, h.dims as number[]);
      continue;
    }
    // Copy into an aligned buffer: typed arrays need their element alignment, payload offsets have none.
    const copy = new ArrayBuffer(h.bytes!);
    new Uint8Array(copy).set(payload.subarray(offset, offset + h.bytes!));
    offset += h.bytes!;
    out[h.name] = new ort.Tensor(h.dtype as 'float32', typedArrayFor(h.dtype, copy) as Float32Array, h.dims as number[]);
  }
  if (offset !== payload.length) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${what}: ${payload.length - offset} bytes after the last tensor`);
  return out;
}
