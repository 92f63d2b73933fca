// Encodings of the tensors that cross a cut: what the producing board sends and the consuming
// board decodes. Applied in JS between stage runs, so the bytes counted are the bytes a link
// would carry: fp16 two per element, int8 one per element plus a float32 scale and an int8 zero point.
import { decodeInt8, encodeInt8, halfRound } from '@dnnpart/onnx-graph';
import { AccuracyError } from './errors.js';

// The int8 encoding lives in onnx-graph, beside float16's: the runtime's agents send the same bytes.
export { decodeInt8, encodeInt8, type Int8Encoded } from '@dnnpart/onnx-graph';

/** How a float tensor travels over a link. */
export type TransferEncoding = 'fp32' | 'fp16' | 'int8';

export const transferEncodings: readonly TransferEncoding[] = ['fp32', 'fp16', 'int8'];

/** Bytes of int8's per-tensor header: a float32 scale and an int8 zero point. */
export const INT8_HEADER_BYTES = 5;

/** True for a known encoding name. */
export function isTransferEncoding(s: string): s is TransferEncoding {
  return (transferEncodings as readonly string[]).includes(s);
}

/** Checks an encoding name given by the user (`what` names the flag or field). */
export function parseTransferEncoding(s: string, what: string): TransferEncoding {
  if (isTransferEncoding(s)) return s;
  throw new AccuracyError('ACCURACY_BAD_OPTION', `${what}: "${s}" is not a transfer encoding; use fp32, fp16 or int8`);
}

/** Bytes on the link for a float32 tensor of `elements` (other dtypes always travel as they are). */
export function encodedBytes(elements: number, encoding: TransferEncoding): number {
  switch (encoding) {
    case 'fp32': return elements * 4;
    case 'fp16': return elements * 2;
    case 'int8': return elements + INT8_HEADER_BYTES;
  }
}

/** Bytes on the link for a tensor of `bytes` as float32 (its fp32 size) under `encoding`. */
export function scaleTransferBytes(fp32Bytes: number, encoding: TransferEncoding): number {
  return encodedBytes(fp32Bytes / 4, encoding);
}

/** What the consumer receives for float32 values sent with `encoding`, and the bytes sent. */
export function roundTrip(x: Float32Array, encoding: TransferEncoding): { values: Float32Array; bytes: number } {
  switch (encoding) {
    case 'fp32': return { values: x, bytes: x.length * 4 };
    case 'fp16': {
      const out = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) out[i] = halfRound(x[i]!);
      return { values: out, bytes: x.length * 2 };
    }
    case 'int8': return { values: decodeInt8(encodeInt8(x)), bytes: x.length + INT8_HEADER_BYTES };
  }
}
