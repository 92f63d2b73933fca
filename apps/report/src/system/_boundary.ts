// A board's stage-boundary cost for the join, read from its profile (issue 10).
import { boundaryOf, type Profile } from '@dnnpart/profiler';
import type { StageBoundary } from '@dnnpart/solver';
import type { TransferEncoding } from './load.js';

/** Float32 bytes a byte of a float tensor stands for in each encoding (what the join scales per-byte rates by). */
export const FLOAT32_PER_BYTE: Readonly<Record<TransferEncoding, number>> = { fp32: 1, fp16: 2, int8: 4 };

/**
 * The profile's boundary cost (measured, or estimated for a described board); for a profile without
 * one, the profiler's documented default (DEFAULT_BOUNDARY) and the warning that says so.
 *
 * With a `transfer` of fp16 or int8 the problem's tensor bytes are the encoded ones, while a stage
 * still copies float32 in and out of onnxruntime, encodes what it passes on to the next stage and
 * decodes what it receives (the runtime's agents do both in JavaScript). So per byte of the problem:
 * inMsPerByte = (in + decode) x r and outMsPerByte = (out + encode) x r, with r the float32 bytes a
 * byte stands for (2 at fp16, 4 at int8), the model outputs, sent back as they are, at
 * outputMsPerByte = out x r, and the model inputs, where the first stage runs on the input board and
 * finds them as they are (no link, nothing to decode), at inputMsPerByte = in x r.
 * `encodingsWarning` says when the encoding costs are the default.
 */
export function profileBoundary(profile: Profile, transfer: TransferEncoding = 'fp32'): { boundary: StageBoundary; warning?: string; encodingsWarning?: string } {
  const b = boundaryOf(profile);
  const warning = b.calibrated ? undefined : (b.warning ?? 'its profile has no stage-boundary calibration; the default is used');
  const plain = { fixedMs: b.fixedMs, inMsPerByte: b.inMsPerByte, outMsPerByte: b.outMsPerByte };
  if (transfer === 'fp32') return { boundary: plain, ...(warning ? { warning } : {}) };
  const r = FLOAT32_PER_BYTE[transfer];
  const e = b.encodings[transfer];
  return {
    boundary: {
      fixedMs: b.fixedMs, inMsPerByte: (b.inMsPerByte + e.decodeMsPerByte) * r, outMsPerByte: (b.outMsPerByte + e.encodeMsPerByte) * r,
      outputMsPerByte: b.outMsPerByte * r, inputMsPerByte: b.inMsPerByte * r,
    },
    ...(warning ? { warning } : {}),
    ...(b.encodingsWarning ? { encodingsWarning: b.encodingsWarning } : {}),
  };
}
