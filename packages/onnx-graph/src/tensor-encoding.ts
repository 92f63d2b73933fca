// How a float32 tensor may travel between two stages: as float16, or as int8 with one scale and
// zero point for the whole tensor. One implementation for what `dnnpart run`'s agents send and what
// `dnnpart accuracy` scores, so that the fidelity measured is the fidelity of the run.
import { fromHalfBits, toHalfBits } from './half.js';

/** An int8-encoded tensor: q = clamp(round(x / scale) + zeroPoint, -128, 127); x ~ (q - zeroPoint) * scale. */
export interface Int8Encoded {
  readonly data: Int8Array;
  readonly scale: number;
  readonly zeroPoint: number;
}

// The loops live in small leaf functions that take every value they use as an argument and return a
// number after their loop. V8 optimises a long loop on the stack (OSR) before the code after it has
// ever run; with a property read or an object literal after the loop, that code deoptimised at the
// end of every call and ran the next loop unoptimised, which made int8 encoding 3-4x slower for
// minutes in some processes (bench/results/profiler-boundary.md, "Encoding").

/** Asymmetric per-tensor int8 over the tensor's own range (0 always exact, so ReLU zeros stay zeros). */
export function encodeInt8(x: ArrayLike<number>): Int8Encoded {
  const n = x.length;
  const lo = rangeOf(x, n);
  const hi = rangeHigh;
  const scale = Math.fround(hi > lo ? (hi - lo) / 255 : 1);
  const zeroPoint = Math.max(-128, Math.min(127, Math.round(-128 - lo / scale)));
  const data = new Int8Array(n);
  quantizeInt8(x, data, n, scale, zeroPoint);
  return { data, scale, zeroPoint };
}

/** rangeOf's second result (a module variable: a store after the loop that needs no type feedback). */
let rangeHigh = 0;

/** min(0, least value), and max(0, greatest value) in rangeHigh; NaN is skipped. */
function rangeOf(x: ArrayLike<number>, n: number): number {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  rangeHigh = hi;
  return lo;
}

/**
 * q = clamp(round(x / scale) + zeroPoint): clamped first, then rounded half up as Math.round does
 * (floor(t + 0.5), by truncating a positive number), a few times faster than Math.round and Math.min.
 */
function quantizeInt8(x: ArrayLike<number>, data: Int8Array, n: number, scale: number, zeroPoint: number): number {
  for (let i = 0; i < n; i++) {
    let t = x[i]! / scale + zeroPoint;
    if (t !== t) continue; // NaN: 0, as an Int8Array stores it
    t = t < -128 ? -128 : t > 127 ? 127 : t;
    data[i] = ((t + 128.5) | 0) - 128;
  }
  return n;
}

/** The float32 values an int8 encoding stands for. */
export function decodeInt8(e: Int8Encoded): Float32Array {
  const n = e.data.length;
  const out = new Float32Array(n);
  dequantizeInt8(e.data, out, n, e.zeroPoint, e.scale);
  return out;
}

function dequantizeInt8(data: Int8Array, out: Float32Array, n: number, zeroPoint: number, scale: number): number {
  for (let i = 0; i < n; i++) out[i] = (data[i]! - zeroPoint) * scale;
  return n;
}

/** float16 bits of each value (round to nearest even, as halfRound). */
export function encodeHalf(x: ArrayLike<number>): Uint16Array {
  const n = x.length;
  const out = new Uint16Array(n);
  if (!(x instanceof Float32Array)) {
    for (let i = 0; i < n; i++) out[i] = toHalfBits(x[i]!);
    return out;
  }
  halfBitsOf(new Uint32Array(x.buffer, x.byteOffset, n), x, out, n);
  return out;
}

/**
 * A float32's own bits: normal float16 results and those that round to a signed zero inline (the
 * same rounding as toHalfBits), the rest (subnormal, overflow, Infinity, NaN) through it. Without
 * branches between the two inline cases or on the rounding (a ReLU's output is a third zeros, and
 * the rounding bit is a coin toss: mispredicted branches made this 1.5x slower).
 */
function halfBitsOf(bits: Uint32Array, x: Float32Array, out: Uint16Array, n: number): number {
  for (let i = 0; i < n; i++) {
    const b = bits[i]!;
    const exp = (b >>> 23) & 0xff;
    // exp > 112 (normal) or exp < 102 (below half the smallest subnormal: a signed zero), and no overflow.
    if (((exp - 102) >>> 0) > 10 && exp < 143) {
      const half = ((exp - 112) << 10) | ((b >>> 13) & 0x3ff);
      // Round to nearest, ties to even: the 13 dropped bits plus the kept lowest bit, carried out at 0x2000.
      const rounded = half + ((((b & 0x1fff) + (half & 1) + 0xfff) >>> 13));
      // All ones when normal (exp > 112), zeros when it rounds to zero: only the sign is left.
      out[i] = ((b >>> 16) & 0x8000) | (rounded & -((112 - exp) >>> 31));
    } else out[i] = toHalfBits(x[i]!);
  }
  return n;
}

let halfTable: Float32Array | undefined;

/** The float32 values of float16 bits (a table of all 65536). */
export function decodeHalf(bits: Uint16Array): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = fromHalfBits(h);
  }
  const out = new Float32Array(bits.length);
  lookupHalf(halfTable, bits, out, bits.length);
  return out;
}

function lookupHalf(table: Float32Array, bits: Uint16Array, out: Float32Array, n: number): number {
  for (let i = 0; i < n; i++) out[i] = table[bits[i]!]!;
  return n;
}
