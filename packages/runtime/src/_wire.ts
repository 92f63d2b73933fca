// The message format of every call: a 4-byte big-endian header length, a JSON header, then raw
// bytes (tensor data or a model chunk). No codegen and no protobuf schema to keep in step: the
// header says what the bytes are, and decodeMessage checks every length before trusting it.
import * as ort from 'onnxruntime-node';
import { typedArrayFor } from '@dnnpart/onnx-graph';
import { RuntimeError } from './errors.js';

/** Element types a tensor may have on the wire, with their byte size. */
const DTYPES = {
  float32: 4, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, uint16: 2, bool: 1, float16: 2,
} as const;
export type WireDType = keyof typeof DTYPES;

export interface WireTensorHeader {
  readonly name: string;
  readonly dtype: WireDType;
  readonly dims: readonly number[];
  readonly bytes: number;
}

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

/** Tensors as header entries and payload parts (no copy of the data). */
export function packTensors(tensors: Readonly<Record<string, ort.Tensor>>): { headers: WireTensorHeader[]; parts: Uint8Array[] } {
  const headers: WireTensorHeader[] = [];
  const parts: Uint8Array[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (!(t.type in DTYPES)) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `tensor ${name}: type ${t.type} cannot be sent`);
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
    const size = DTYPES[h.dtype as WireDType];
    const count = h.dims.reduce((a: number, b: number) => a * b, 1);
    if (h.bytes! > limits.maxTensorBytes) {
      throw new RuntimeError('RUNTIME_TOO_LARGE', `${what}: tensor ${h.name} has ${h.bytes} bytes, over this agent's limit of ${limits.maxTensorBytes} (start the agent with a larger --max-tensor-bytes)`);
    }
    if (count * size !== h.bytes) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${what}: tensor ${h.name}: dims [${h.dims.join(', ')}] of ${h.dtype} need ${count * size} bytes, header says ${h.bytes}`);
    if (offset + h.bytes! > payload.length) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${what}: tensor ${h.name} runs past the end of the message (${offset + h.bytes!} > ${payload.length} bytes)`);
    // Copy into an aligned buffer: typed arrays need their element alignment, payload offsets have none.
    const copy = new ArrayBuffer(h.bytes!);
    new Uint8Array(copy).set(payload.subarray(offset, offset + h.bytes!));
    offset += h.bytes!;
    out[h.name] = new ort.Tensor(h.dtype as 'float32', typedArrayFor(h.dtype, copy) as Float32Array, h.dims as number[]);
  }
  if (offset !== payload.length) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${what}: ${payload.length - offset} bytes after the last tensor`);
  return out;
}

/** Bytes of all tensors in a set. */
export function tensorBytes(tensors: Readonly<Record<string, ort.Tensor>>): number {
  let n = 0;
  for (const t of Object.values(tensors)) n += (t.data as ArrayBufferView).byteLength;
  return n;
}
