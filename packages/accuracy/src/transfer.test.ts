import { describe, expect, it } from 'vitest';
import { fromHalfBits, halfRound, toHalfBits } from '@dnnpart/onnx-graph';
import { decodeInt8, encodeInt8, encodedBytes, parseTransferEncoding, roundTrip, scaleTransferBytes } from './transfer.js';

describe('binary16', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0, 0x0000],
    [65504, 0x7bff], // largest finite half
    [65520, 0x7c00], // rounds up to Infinity
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -26, 0x0000], // below half of it: zero
    [1 + 2 ** -11, 0x3c00], // a tie: to even (1.0)
    [1 + 3 * 2 ** -11, 0x3c02], // a tie: to even (1 + 2^-9)
    [0.1, 0x2e66],
    [Infinity, 0x7c00],
  ])('%d -> 0x%s', (x, bits) => {
    expect(toHalfBits(x)).toBe(bits);
  });

  it('round-trips every finite half exactly', () => {
    for (let h = 0; h < 0x7c00; h += 7) expect(toHalfBits(fromHalfBits(h))).toBe(h);
    expect(Number.isNaN(halfRound(NaN))).toBe(true);
  });
});

describe('transfer bytes', () => {
  it.each([
    [1000, 'fp32', 4000],
    [1000, 'fp16', 2000],
    [1000, 'int8', 1005],
  ] as const)('%d elements as %s: %d bytes', (n, enc, bytes) => {
    expect(encodedBytes(n, enc)).toBe(bytes);
  });

  it('fp16 is exactly half and int8 a quarter plus scale and zero point', () => {
    const x = Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i));
    expect(roundTrip(x, 'fp16').bytes * 2).toBe(x.byteLength);
    expect(roundTrip(x, 'int8').bytes).toBe(x.byteLength / 4 + 5);
    expect(scaleTransferBytes(802816, 'int8')).toBe(802816 / 4 + 5);
  });

  it('rejects an unknown encoding naming the flag', () => {
    expect(() => parseTransferEncoding('bf16', '--transfer')).toThrow('--transfer: "bf16" is not a transfer encoding; use fp32, fp16 or int8');
  });
});

describe('int8 encoding', () => {
  it.each([
    ['ReLU output', [0, 0.5, 1, 2, 3.9]],
    ['signed', [-3, -1, 0, 2, 5]],
    ['constant', [0.25, 0.25, 0.25]],
    ['all zero', [0, 0]],
  ])('%s: every value within half a step, zero exact', (_, values) => {
    const x = Float32Array.from(values);
    const e = encodeInt8(x);
    const y = decodeInt8(e);
    for (let i = 0; i < x.length; i++) {
      expect(Math.abs(y[i]! - x[i]!)).toBeLessThanOrEqual(e.scale / 2 + 1e-7);
      if (x[i] === 0) expect(y[i]).toBe(0);
    }
  });

  it('uses the range [min(0, lo), max(0, hi)] over 255 steps', () => {
    const e = encodeInt8(Float32Array.of(-1, 1.55));
    expect(e.scale).toBeCloseTo(2.55 / 255, 7);
    expect(e.zeroPoint).toBe(-28); // -128 + 1 / 0.01
    expect([...e.data]).toEqual([-128, 127]);
  });
});
