// The encodings tensors travel in between stages (dnnpart run) and that dnnpart accuracy scores:
// the fast loops give exactly what the plain definitions give.
import { describe, expect, it } from 'vitest';
import { decodeHalf, decodeInt8, encodeHalf, encodeInt8, fromHalfBits, toHalfBits } from '../src/index.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('encodeHalf', () => {
  it('gives toHalfBits of every value: each float16 value, its neighbours, the ties between two, and random bit patterns', () => {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    const bitsOf = (x: number) => ((f[0] = x), u[0]!);
    const patterns: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const v = fromHalfBits(h);
      if (Number.isNaN(v)) continue;
      const b = bitsOf(v);
      patterns.push(b, b + 1, b - 1);
      // The midpoint to the next float16 value, and either side of it (ties round to even).
      const next = fromHalfBits(h + 1);
      if (Number.isFinite(next) && (h & 0x7fff) < 0x7bff) {
        const mid = bitsOf((v + next) / 2);
        patterns.push(mid, mid + 1, mid - 1);
      }
    }
    const r = rng(7);
    for (let i = 0; i < 200_000; i++) patterns.push(Math.floor(r() * 2 ** 32));
    patterns.push(0x7f800000, 0xff800000, 0x7fc00000, 0x00000001, 0x80000001);
    // Zeros and the edge of what rounds to zero: 2^-25 (a tie: to the even zero), just above it, just below.
    for (const s of [0, 0x80000000]) patterns.push(s, s | (102 << 23), s | ((102 << 23) + 1), s | ((101 << 23) | 0x7fffff), s | (103 << 23));
    const x = new Float32Array(new Uint32Array(patterns.map((p) => p >>> 0)).buffer);
    const got = encodeHalf(x);
    const want = Uint16Array.from(x, toHalfBits);
    let mismatches = 0;
    for (let i = 0; i < x.length; i++) if (got[i] !== want[i] && !(Number.isNaN(x[i]!) && (got[i]! & 0x7c00) === 0x7c00 && (got[i]! & 0x3ff) !== 0)) mismatches++;
    expect(mismatches).toBe(0);
    // Not a Float32Array: the same through toHalfBits.
    expect([...encodeHalf([1.5, -2, 1e-8, 70000])]).toEqual([1.5, -2, 1e-8, 70000].map(toHalfBits));
  });

  it('decodes to fromHalfBits of each pattern', () => {
    const all = Uint16Array.from({ length: 0x10000 }, (_, h) => h);
    const got = decodeHalf(all);
    for (let h = 0; h < 0x10000; h++) {
      const want = fromHalfBits(h);
      if (Number.isNaN(want)) expect(Number.isNaN(got[h]!)).toBe(true);
      else expect(got[h]).toBe(Math.fround(want));
    }
  });
});

describe('encodeInt8', () => {
  // The definition: q = clamp(round(x / scale) + zeroPoint, -128, 127).
  const plain = (x: Float32Array, scale: number, zeroPoint: number) => Int8Array.from(x, (v) => Math.max(-128, Math.min(127, Math.round(v / scale) + zeroPoint)));

  it.each([
    ['a ReLU output', 0, 6], ['centred', -3, 3], ['negative', -40, -0.5], ['wide', -1e4, 3e4], ['tiny', -1e-6, 2e-6],
  ])('on %s values gives the definition, element for element', (_n, lo, hi) => {
    const r = rng(3);
    const x = Float32Array.from({ length: 100_000 }, () => lo + (hi - lo) * r());
    x[0] = 0;
    const e = encodeInt8(x);
    expect(Array.from(e.data)).toEqual(Array.from(plain(x, e.scale, e.zeroPoint)));
    // Decoding: (q - zeroPoint) * scale, within half a step of the value, zeros exact.
    const y = decodeInt8(e);
    for (let i = 0; i < x.length; i += 97) expect(Math.abs(y[i]! - x[i]!)).toBeLessThanOrEqual(e.scale / 2 + Math.abs(x[i]!) * 1e-6);
    expect(y[0]).toBe(0);
  });

  it('stores NaN as 0, as an Int8Array does', () => {
    const x = Float32Array.of(1, Number.NaN, -1);
    const e = encodeInt8(x);
    expect([...e.data]).toEqual([...plain(x, e.scale, e.zeroPoint)]);
    expect(e.data[1]).toBe(0);
  });
});
