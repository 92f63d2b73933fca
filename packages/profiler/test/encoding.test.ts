// The CPU time of encoding tensors for a link and decoding them: calibrated on this machine, carried by
// profiles (measured, estimated for described boards, the default otherwise), and checked by schema.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { encodeInt8 } from '@dnnpart/onnx-graph';
import {
  DEFAULT_BOUNDARY,
  DEFAULT_ENCODINGS,
  boundaryOf,
  calibrateBoundary,
  calibrateEncodings,
  estimatedBoundary,
  loadBoardDescription,
  validateProfile,
  type Profile,
} from '@dnnpart/profiler';
import { sampleProfile } from './_profiles.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('calibrateEncodings on this machine', () => {
  it('times each encoding per float32 byte, and its int8 encoding agrees with a direct timing of the same function in units', () => {
    const { costs, samples } = calibrateEncodings({ sizes: [1 << 18, 1 << 20], runs: 5, warmup: 5 });
    expect(costs.method).toBe('measured');
    expect(samples.map((s) => [s.round, s.bytes])).toEqual([[0, 1 << 18], [0, 1 << 20], [1, 1 << 18], [1, 1 << 20]]);
    for (const s of samples) for (const x of [s.fp16.encodeMs, s.fp16.decodeMs, s.int8.encodeMs, s.int8.decodeMs]) expect(x).toBeGreaterThan(0);
    for (const c of [costs.fp16, costs.int8]) {
      expect(c.encodeMsPerByte).toBeGreaterThan(0);
      expect(c.decodeMsPerByte).toBeGreaterThan(0);
    }
    // Each rate is, of the two rounds, the least median over the sizes of ms / bytes.
    const roundRate = (r: number) => samples.filter((s) => s.round === r).reduce((a, s) => a + s.int8.encodeMs / s.bytes, 0) / 2;
    expect(costs.int8.encodeMsPerByte).toBeCloseTo(Math.min(roundRate(0), roundRate(1)), 12);
    // The rate prices a 2 MB tensor within a wide band of timing it directly (ms per byte, not per MB
    // or per element: a unit slip is a factor of 4 or a million; this machine's load moves it less than 8x).
    const x = new Float32Array(1 << 19).map((_, i) => ((i * 7919) % 1000) / 300);
    for (let i = 0; i < 5; i++) encodeInt8(x);
    const ms: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      encodeInt8(x);
      ms.push(performance.now() - t0);
    }
    const direct = ms.sort((a, b) => a - b)[3]!;
    const ratio = (costs.int8.encodeMsPerByte * x.byteLength) / direct;
    expect(ratio).toBeGreaterThan(1 / 8);
    expect(ratio).toBeLessThan(8);
  });

  it.each([
    [{ sizes: [6] }, /option sizes needs whole numbers of float32 bytes/],
    [{ sizes: [] }, /option sizes needs whole numbers of float32 bytes/],
    [{ runs: 0 }, /option runs must be an integer >= 1, got 0/],
    [{ warmup: -1 }, /option warmup must be an integer >= 0, got -1/],
    [{ rounds: 0 }, /option rounds must be an integer >= 1, got 0/],
  ])('refuses bad options %j with PROFILE_BAD_OPTIONS', (opts, message) => {
    expect(() => calibrateEncodings(opts)).toThrowError(expect.objectContaining({ code: 'PROFILE_BAD_OPTIONS', message: expect.stringMatching(message) }));
  });

  it('is part of the boundary calibration, and can be left out of it', async () => {
    const base = { threads: 1, runs: 3, warmup: 0, sizes: [4096, 65536], cutChains: [] };
    expect((await calibrateBoundary(base)).boundary.encodings?.method).toBe('measured');
    expect((await calibrateBoundary({ ...base, encodings: false })).boundary.encodings).toBeUndefined();
  });
});

describe('encoding costs in profiles', () => {
  const withBoundary = (boundary: unknown): Profile => ({ ...sampleProfile(), schema: 'dnnpart/profile@2', boundary } as unknown as Profile);

  it("a profile's own, else the default with a warning naming the board", () => {
    const own = { fp16: { encodeMsPerByte: 1e-6, decodeMsPerByte: 2e-6 }, int8: { encodeMsPerByte: 3e-6, decodeMsPerByte: 4e-6 }, method: 'measured' };
    const measured = { fixedMs: 0.01, inMsPerByte: 0, outMsPerByte: 1e-7, method: 'measured' };
    const b = boundaryOf(withBoundary({ ...measured, encodings: own }));
    expect(b.encodings).toEqual(own);
    expect(b.encodingsWarning).toBeUndefined();
    const old = boundaryOf(withBoundary(measured));
    expect(old.encodings).toEqual(DEFAULT_ENCODINGS);
    expect(old.encodingsWarning).toMatch(/on board \S+ has no calibration of encoding and decoding tensors for a link; they cost the default 1 \/ 0\.5 ms\/MB \(int8\) and 1 \/ 0\.5 ms\/MB \(fp16\) of float32; re-profile/);
    // A profile without any boundary: the default boundary carries the default encodings.
    expect(DEFAULT_BOUNDARY.encodings).toEqual(DEFAULT_ENCODINGS);
  });

  it('a described board gets the default scaled to its CPU, stated or derived', async () => {
    const pi4 = await loadBoardDescription(join(ROOT, 'profiles/boards/raspberry-pi-4.yaml'));
    const slower = 166.4 / pi4.peakGops.fp32!;
    expect(slower).toBeGreaterThan(1);
    const derived = estimatedBoundary(pi4).encodings!;
    expect(derived.method).toBe('estimated');
    expect(derived.int8.encodeMsPerByte).toBeCloseTo(DEFAULT_ENCODINGS.int8.encodeMsPerByte * slower, 12);
    expect(derived.fp16.decodeMsPerByte).toBeCloseTo(DEFAULT_ENCODINGS.fp16.decodeMsPerByte * slower, 12);
    const stated = estimatedBoundary({ ...pi4, boundary: { fixedMs: 0.2, inMsPerByte: 0, outMsPerByte: 1e-6 } });
    expect(stated.encodings).toEqual(derived);
  });

  it('the schema takes them and names a field that is wrong', () => {
    const p = sampleProfile() as unknown as Record<string, unknown>;
    const boundary = { fixedMs: 0.01, inMsPerByte: 0, outMsPerByte: 1e-7, method: 'measured', encodings: { ...DEFAULT_ENCODINGS, method: 'measured' } };
    const good = { ...p, schema: 'dnnpart/profile@2', boundary };
    expect(validateProfile(good).boundary?.encodings?.int8.encodeMsPerByte).toBe(DEFAULT_ENCODINGS.int8.encodeMsPerByte);
    const bad = { ...good, boundary: { ...boundary, encodings: { fp16: DEFAULT_ENCODINGS.fp16, int8: { encodeMsPerByte: -1, decodeMsPerByte: 0 }, method: 'measured' } } };
    expect(() => validateProfile(bad, 'x.profile.json')).toThrowError(/x\.profile\.json: .*boundary\/encodings\/int8\/encodeMsPerByte|x\.profile\.json: .*boundary\.encodings\.int8\.encodeMsPerByte/);
  });
});
