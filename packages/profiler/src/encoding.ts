// What encoding the tensors a stage passes on costs a board's CPU, and decoding the ones it receives.
//
// With a system `transfer` of fp16 or int8, `dnnpart run`'s agents encode each float32 tensor they
// send to the next stage (onnx-graph's encodeHalf / encodeInt8, in JavaScript on the stage's thread)
// and the next stage decodes it before its run. That time is part of each stage's time on its board,
// like the boundary's copies: per float32 byte sent and received. Measured here by timing the same
// functions on tensors of a few sizes (calibrateEncodings), or a documented default.
import { decodeHalf, decodeInt8, encodeHalf, encodeInt8 } from '@dnnpart/onnx-graph';
import { performance } from 'node:perf_hooks';
import { median } from 'simple-statistics';
import { ProfileError } from './errors.js';
import { round } from './_stats.js';
import type { EncodingCost, EncodingCosts } from './types.js';

/**
 * For profiles without an encoding calibration: this calibration on the project's 2-core x86 CI
 * machine with glibc reusing memory as dnnpart's commands and agents run (int8 0.8 / 0.37 ms per MB
 * of float32 to encode / decode, fp16 0.8 / 0.42; bench/results/profiler-boundary.md, "Encoding"),
 * rounded up. Per float32 byte.
 */
export const DEFAULT_ENCODINGS: EncodingCosts = {
  fp16: { encodeMsPerByte: 1e-6, decodeMsPerByte: 5e-7 },
  int8: { encodeMsPerByte: 1e-6, decodeMsPerByte: 5e-7 },
  method: 'default',
};

/** Float32 bytes of the default calibration tensors: 256 kB, 1 MB, 4 MB. */
export const DEFAULT_ENCODING_SIZES: readonly number[] = [1 << 18, 1 << 20, 4 << 20];

export interface EncodingCalibrationOptions {
  /** Float32 bytes of each tensor timed; default DEFAULT_ENCODING_SIZES. */
  readonly sizes?: readonly number[];
  /** Timed calls per function and size; default 15. */
  readonly runs?: number;
  /** Untimed calls first (the functions optimised, as in an agent after its first frames); default 10. */
  readonly warmup?: number;
  /** Times the sizes are timed over; each rate is the least round's; default 2. */
  readonly rounds?: number;
}

/** One size's medians in one round, in ms. */
export interface EncodingSample {
  readonly round: number;
  readonly bytes: number;
  readonly fp16: { readonly encodeMs: number; readonly decodeMs: number };
  readonly int8: { readonly encodeMs: number; readonly decodeMs: number };
}

/**
 * Time encodeHalf, decodeHalf, encodeInt8 and decodeInt8 on float32 tensors of each size (values
 * like a ReLU network's activations: a third zeros, the rest spread), each call making its own output
 * as the agents' do, in `rounds` rounds; each cost is, of the rounds, the least median over the sizes
 * of (median ms / bytes): a burst of other work on the CPU slows one round, rarely both (on this
 * project's VM a process on its second vCPU ran 1.3-1.7x slower at times; bench/results/profiler-boundary.md,
 * "Encoding"). No fixed part: a call's own overhead is microseconds, inside the boundary's fixed cost.
 */
export function calibrateEncodings(options: EncodingCalibrationOptions = {}): { costs: EncodingCosts; samples: EncodingSample[] } {
  const sizes = options.sizes ?? DEFAULT_ENCODING_SIZES;
  const runs = options.runs ?? 15;
  const warmup = options.warmup ?? 10;
  const rounds = options.rounds ?? 2;
  if (sizes.length < 1 || sizes.some((s) => !Number.isInteger(s) || s < 4 || s % 4 !== 0)) {
    throw new ProfileError('PROFILE_BAD_OPTIONS', 'encoding calibration option sizes needs whole numbers of float32 bytes (multiples of 4, at least 4)');
  }
  for (const [field, v, min] of [['runs', runs, 1], ['warmup', warmup, 0], ['rounds', rounds, 1]] as const) {
    if (!Number.isInteger(v) || v < min) throw new ProfileError('PROFILE_BAD_OPTIONS', `encoding calibration option ${field} must be an integer >= ${min}, got ${v}`);
  }
  const time = (f: () => unknown): number => {
    for (let i = 0; i < warmup; i++) f();
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      f();
      ms.push(performance.now() - t0);
    }
    return median(ms);
  };
  // The functions optimised first, on a small tensor many times: in a fresh process the first calls
  // on large tensors run code V8 has not optimised yet (int8 encoding 2.7 ms/MB against 0.8 here),
  // while an agent runs them optimised after its first frames.
  const small = activations(16384);
  const smallHalf = encodeHalf(small);
  const smallInt8 = encodeInt8(small);
  for (let i = 0; i < 200; i++) {
    encodeHalf(small);
    decodeHalf(smallHalf);
    encodeInt8(small);
    decodeInt8(smallInt8);
  }
  const samples: EncodingSample[] = [];
  const tensors = sizes.map((bytes) => {
    const x = activations(bytes / 4);
    return { bytes, x, half: encodeHalf(x), q: encodeInt8(x) };
  });
  for (let r = 0; r < rounds; r++) {
    for (const { bytes, x, half, q } of tensors) {
      samples.push({
        round: r,
        bytes,
        fp16: { encodeMs: round(time(() => encodeHalf(x)), 4), decodeMs: round(time(() => decodeHalf(half)), 4) },
        int8: { encodeMs: round(time(() => encodeInt8(x)), 4), decodeMs: round(time(() => decodeInt8(q)), 4) },
      });
    }
  }
  const rate = (pick: (s: EncodingSample) => number) => {
    const perRound = Array.from({ length: rounds }, (_, r) => median(samples.filter((s) => s.round === r).map((s) => pick(s) / s.bytes)));
    return round(Math.min(...perRound), 12);
  };
  const costs: EncodingCosts = {
    fp16: { encodeMsPerByte: rate((s) => s.fp16.encodeMs), decodeMsPerByte: rate((s) => s.fp16.decodeMs) },
    int8: { encodeMsPerByte: rate((s) => s.int8.encodeMs), decodeMsPerByte: rate((s) => s.int8.decodeMs) },
    method: 'measured',
  };
  return { costs, samples };
}

/** Deterministic values like a ReLU network's activations: about a third zeros, the rest in [0, 2.8). */
function activations(n: number): Float32Array {
  const x = new Float32Array(n);
  let s = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const v = (s / 2 ** 32 - 0.3) * 4;
    x[i] = v < 0 ? 0 : v;
  }
  return x;
}

/** The encoding costs a board's stage pays per float32 byte it sends and receives, scaled by how much slower its CPU is. */
export function scaledEncodings(costs: EncodingCosts, slower: number, method: EncodingCosts['method']): EncodingCosts {
  const s = (c: EncodingCost): EncodingCost => ({ encodeMsPerByte: round(c.encodeMsPerByte * slower, 12), decodeMsPerByte: round(c.decodeMsPerByte * slower, 12) });
  return { fp16: s(costs.fp16), int8: s(costs.int8), method };
}
