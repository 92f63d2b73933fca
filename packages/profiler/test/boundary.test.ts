// Stage-boundary costs: the fit (known values come back), the defaults and estimates, and a real
// calibration on this machine (positive, growing with bytes, consistent with ORT's kernel times).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { graphCosts, loadModel } from '@dnnpart/onnx-graph';
import {
  DEFAULT_BOUNDARY,
  analyticProfile,
  boundaryMs,
  boundaryOf,
  calibrateBoundary,
  convChainModel,
  estimatedBoundary,
  fitBoundary,
  boundaryFromCuts,
  loadBoardDescription,
  readProfile,
  validateProfile,
  type BoardDescription,
  type Profile,
} from '@dnnpart/profiler';
import { sampleProfile } from './_profiles.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const SIZES = [4096, 65536, 1 << 20, 4 << 20, 16 << 20];

/** Samples of an exact linear boundary over the calibration grid (large input, large output, both). */
function grid(fixedMs: number, inMsPerByte: number, outMsPerByte: number, noise: (i: number) => number = () => 0) {
  const shapes = SIZES.flatMap((s) => [[s, 4], [4, s], [s, s]] as const);
  return shapes.map(([i, o], k) => ({ inBytes: i, outBytes: o, ms: (fixedMs + inMsPerByte * i + outMsPerByte * o) * (1 + noise(k)) }));
}

describe('fitBoundary', () => {
  it.each([
    ['all three terms', 0.03, 1e-8, 2e-7],
    ['no input cost (zero-copy feeds)', 0.02, 0, 1.5e-7],
    ['no fixed cost', 0, 5e-9, 1e-7],
    ['only a fixed cost', 0.05, 0, 0],
  ])('returns the known values of exact data: %s', (_label, fixedMs, inMsPerByte, outMsPerByte) => {
    const fit = fitBoundary(grid(fixedMs, inMsPerByte, outMsPerByte));
    // Relative agreement to 1e-9 (absolute for the zero terms).
    const close = (got: number, want: number) => expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-9 * Math.abs(want) + 1e-18);
    close(fit.fixedMs, fixedMs);
    close(fit.inMsPerByte, inMsPerByte);
    close(fit.outMsPerByte, outMsPerByte);
    expect(fit.fitR2).toBeCloseTo(1, 9);
  });

  it('keeps every coefficient >= 0 when the data would pull one below zero', () => {
    // Inputs that look cheaper the larger they are (noise): the in term is clamped at 0, not negative.
    const samples = [...grid(0.02, 0, 1e-7), { inBytes: 16 << 20, outBytes: 4, ms: 0.015 }, { inBytes: 4 << 20, outBytes: 4, ms: 0.017 }];
    const fit = fitBoundary(samples);
    expect(fit.inMsPerByte).toBe(0);
    expect(fit.fixedMs).toBeGreaterThan(0.01);
    expect(fit.outMsPerByte / 1e-7).toBeGreaterThan(0.98);
    expect(fit.outMsPerByte / 1e-7).toBeLessThan(1.02);
  });

  it('stays within 5 % of the known values under ±3 % relative noise', () => {
    const fit = fitBoundary(grid(0.03, 1e-8, 2e-7, (k) => 0.03 * Math.sin(k * 7.3)));
    expect(fit.fixedMs / 0.03).toBeGreaterThan(0.95);
    expect(fit.fixedMs / 0.03).toBeLessThan(1.05);
    expect(fit.outMsPerByte / 2e-7).toBeGreaterThan(0.95);
    expect(fit.outMsPerByte / 2e-7).toBeLessThan(1.05);
    expect(fit.fitR2).toBeGreaterThan(0.9);
  });

  it.each([
    ['too few samples', [{ inBytes: 1, outBytes: 1, ms: 1 }], /at least 3 samples, got 1/],
    ['a negative time', [...grid(0.1, 0, 0).slice(0, 3), { inBytes: 1, outBytes: 1, ms: -1 }], /sample 3 has a negative or non-finite field/],
    ['a NaN size', [...grid(0.1, 0, 0).slice(0, 3), { inBytes: Number.NaN, outBytes: 1, ms: 1 }], /sample 3 has a negative or non-finite field/],
  ])('refuses %s with PROFILE_BAD_OPTIONS', (_label, samples, message) => {
    expect(() => fitBoundary(samples)).toThrow(expect.objectContaining({ code: 'PROFILE_BAD_OPTIONS', message: expect.stringMatching(message) }));
  });
});

describe('boundaryOf and the defaults', () => {
  const measured = { fixedMs: 0.021, inMsPerByte: 0, outMsPerByte: 1.2e-7, method: 'measured', runs: 15, fitR2: 0.93 } as const;
  it.each([
    ['a dnnpart/profile@1 profile', sampleProfile(), DEFAULT_BOUNDARY, false, /profile of tiny on board ci-x86-2core has no boundary calibration \(dnnpart\/profile@1\); stage boundaries cost the default 0\.05 ms/],
    ['an @2 profile made without calibration', { ...sampleProfile(), schema: 'dnnpart/profile@2', boundary: DEFAULT_BOUNDARY } as Profile, DEFAULT_BOUNDARY, false, /was made without a boundary calibration/],
    ['a calibrated @2 profile', { ...sampleProfile(), schema: 'dnnpart/profile@2', boundary: measured } as Profile, measured, true, null],
  ])('%s', (_label, profile, expected, calibrated, warning) => {
    const b = boundaryOf(profile);
    expect({ fixedMs: b.fixedMs, inMsPerByte: b.inMsPerByte, outMsPerByte: b.outMsPerByte, method: b.method }).toEqual({
      fixedMs: expected.fixedMs,
      inMsPerByte: expected.inMsPerByte,
      outMsPerByte: expected.outMsPerByte,
      method: expected.method,
    });
    expect(b.calibrated).toBe(calibrated);
    if (warning) expect(b.warning).toMatch(warning);
    else expect(b.warning).toBeUndefined();
  });

  it('prices a boundary as fixed + per input byte + per output byte', () => {
    expect(boundaryMs({ fixedMs: 0.05, inMsPerByte: 1e-8, outMsPerByte: 2e-7 }, 1e6, 5e5)).toBeCloseTo(0.05 + 0.01 + 0.1, 12);
  });

  it('a dnnpart/profile@1 file still reads, and its boundary is the default', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const file = join(await mkdtemp(join((await import('node:os')).tmpdir(), 'dnnpart-v1-')), 'v1.profile.json');
    await writeFile(file, JSON.stringify(sampleProfile()));
    const p = await readProfile(file);
    expect(p.schema).toBe('dnnpart/profile@1');
    expect(p.boundary).toBeUndefined();
    expect(boundaryOf(p)).toMatchObject({ method: 'default', calibrated: false, fixedMs: DEFAULT_BOUNDARY.fixedMs });
  });

  it('every committed measured profile reads; @1 ones get the default boundary, @2 ones their own', async () => {
    const { readdir } = await import('node:fs/promises');
    const dir = join(ROOT, 'profiles/measured/ci-x86-2core');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.profile.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const p = await readProfile(join(dir, f));
      expect(boundaryOf(p).calibrated).toBe(p.schema === 'dnnpart/profile@2' && p.boundary?.method === 'measured');
    }
  });

  it('a description that states its boundary is taken at its word; otherwise it is derived from memory bandwidth', async () => {
    const pi5 = await loadBoardDescription(join(ROOT, 'profiles/boards/raspberry-pi-5.yaml'));
    const stated: BoardDescription = { ...pi5, boundary: { fixedMs: 0.2, inMsPerByte: 1e-8, outMsPerByte: 9e-7, source: 'measured on a Pi 5' } };
    expect(estimatedBoundary(stated)).toMatchObject({ fixedMs: 0.2, inMsPerByte: 1e-8, outMsPerByte: 9e-7, method: 'estimated' });
    const derived = estimatedBoundary(pi5, 0.5);
    const bytesPerMs = (pi5.memoryBandwidthBytesPerSec * 0.5) / 1e3;
    expect(derived.method).toBe('estimated');
    // Stored to 12 decimals of a ms: relative agreement to 1e-5.
    expect(derived.inMsPerByte * bytesPerMs).toBeCloseTo(1, 5);
    expect(derived.outMsPerByte * bytesPerMs).toBeCloseTo(4, 5);
    // The Pi 5's fp32 peak (153.6 GOPS) is below the reference machine's (166.4): a larger fixed cost.
    expect(derived.fixedMs).toBeCloseTo(DEFAULT_BOUNDARY.fixedMs * (166.4 / 153.6), 6);
  });

  it('analytic profiles carry an estimated boundary and are valid dnnpart/profile@2', async () => {
    const pi5 = await loadBoardDescription(join(ROOT, 'profiles/boards/raspberry-pi-5.yaml'));
    const { tinyCnn } = await import('./_model.js');
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const dir = await mkdtemp(join((await import('node:os')).tmpdir(), 'dnnpart-boundary-'));
    await writeFile(join(dir, 'tiny.onnx'), tinyCnn());
    const { graph, sha256 } = await loadModel(join(dir, 'tiny.onnx'));
    expect(graphCosts(graph).nodes.size).toBe(graph.nodes.length);
    const p = analyticProfile(graph, pi5, { sha256 });
    expect(validateProfile(p).schema).toBe('dnnpart/profile@2');
    expect(p.boundary).toEqual(estimatedBoundary(pi5, p.analytic!.memoryEfficiency));
  });
});

describe('the fixed and input costs from convolution cuts', () => {
  const fit = { fixedMs: 0.02, inMsPerByte: 1e-8, outMsPerByte: 1.2e-7 };
  it('returns the costs that price exact cuts', () => {
    // A cut of b bytes costs a stage's fixed cost and the first's output, the second's input: 0.15 + (1.2e-7 + 3e-7) b.
    const cuts = [5e4, 4e5, 8e5, 3.2e6].map((b) => ({ cutBytes: b, cutMs: 0.15 + (1.2e-7 + 3e-7) * b }));
    const r = boundaryFromCuts(cuts, fit);
    expect(r.fixedMs).toBeCloseTo(0.15, 12);
    expect(r.inMsPerByte).toBeCloseTo(3e-7, 15);
  });
  it('never goes below the one-kernel models\' costs, and keeps them without cuts', () => {
    // Cuts cheaper than the one-kernel models say: both stay.
    expect(boundaryFromCuts([{ cutBytes: 1e5, cutMs: 0 }, { cutBytes: 1e6, cutMs: 0.001 }], fit)).toEqual({ fixedMs: 0.02, inMsPerByte: 1e-8 });
    // One chain that stalled (every run of it 1.5 ms slower, whole and stages alike) moves neither far.
    const clean = [5e4, 4e5, 8e5, 3.2e6].map((b) => ({ cutBytes: b, cutMs: 0.05 + 3.2e-7 * b }));
    const stalled = clean.map((c, i) => (i === 1 ? { ...c, cutMs: c.cutMs + 1.5 } : c));
    const r = boundaryFromCuts(stalled, fit);
    expect(r.fixedMs).toBeLessThanOrEqual(clean[0]!.cutMs);
    expect(r.inMsPerByte).toBeGreaterThan(1e-7);
    expect(r.inMsPerByte).toBeLessThan(3e-7);
    expect(boundaryFromCuts([], fit)).toEqual({ fixedMs: 0.02, inMsPerByte: 1e-8 });
    // One cut size: no line through it, the fixed cost stays and the input cost takes the rest.
    const one = boundaryFromCuts([{ cutBytes: 1e6, cutMs: 0.02 + (1.2e-7 + 2e-7) * 1e6 }], fit);
    expect(one.fixedMs).toBe(0.02);
    expect(one.inMsPerByte).toBeCloseTo(2e-7, 15);
  });
  it('builds chains whose two stages compute what the whole does', async () => {
    const ort = await import('onnxruntime-node');
    const [whole, first, second] = (['whole', 'first', 'second'] as const).map((p) => convChainModel(p, 8, 6));
    expect(whole!.cutBytes).toBe(8 * 6 * 6 * 4);
    const x = new ort.Tensor('float32', Float32Array.from({ length: 8 * 36 }, (_, i) => Math.sin(i)), [1, 8, 6, 6]);
    const run = async (bytes: Uint8Array, feeds: Record<string, InstanceType<typeof ort.Tensor>>) => (await ort.InferenceSession.create(bytes)).run(feeds);
    const y = (await run(whole!.bytes, { x })).y!.data as Float32Array;
    const mid = (await run(first!.bytes, { x })).mid!;
    const y2 = (await run(second!.bytes, { mid })).y!.data as Float32Array;
    expect(y.length).toBe(8 * 36);
    expect(Math.max(...y)).toBeGreaterThan(0);
    y.forEach((v, i) => expect(y2[i]).toBeCloseTo(v, 5));
  });
});

describe('calibrateBoundary on this machine', () => {
  it('is positive, grows with bytes, and every sample is wall time beyond ORT\'s kernel time', async () => {
    const { boundary, samples, cuts, oneKernel } = await calibrateBoundary({ threads: 1, runs: 7, warmup: 1, sizes: [4096, 1 << 20, 4 << 20], cutChains: [[16, 28], [32, 56]] });
    expect(boundary.method).toBe('measured');
    expect(boundary.runs).toBe(7);
    expect(boundary.outputs).toBe('preallocated');
    expect(samples.map((s) => `${s.kind}:${s.inBytes}:${s.outBytes}`)).toEqual([
      'in:4096:4', 'out:4:4096', 'both:4096:4096',
      'in:1048576:4', 'out:4:1048576', 'both:1048576:1048576',
      'in:4194304:4', 'out:4:4194304', 'both:4194304:4194304',
    ]);
    for (const s of samples) {
      expect(s.kernelMs).toBeGreaterThan(0);
      // The kernel runs inside session.run: its median cannot exceed the run's wall time by more than timer noise.
      expect(s.kernelMs).toBeLessThan(s.wallMs + 0.01);
      expect(s.ms).toBeCloseTo(Math.max(0, s.wallMs - s.kernelMs), 5);
    }
    // A session.run costs something even for 4 bytes (the call into onnxruntime and back), and a
    // 4 MB output must be copied back into JavaScript: both terms are positive.
    expect(boundary.fixedMs).toBeGreaterThan(0);
    expect(boundary.outMsPerByte).toBeGreaterThan(0);
    expect(boundary.inMsPerByte).toBeGreaterThanOrEqual(0);
    const at = (bytes: number) => boundaryMs(boundary, bytes, bytes);
    expect(at(4096)).toBeLessThan(at(1 << 20));
    expect(at(1 << 20)).toBeLessThan(at(4 << 20));
    // Two convolution chains, whole and cut: the input cost is what prices their cuts, never less than the one-kernel models'.
    expect(cuts!.map((c) => [c.channels, c.size, c.cutBytes])).toEqual([[16, 28, 16 * 28 * 28 * 4], [32, 56, 32 * 56 * 56 * 4]]);
    for (const c of cuts!) {
      for (const t of [c.wholeMs, c.firstMs, c.secondMs]) expect(t).toBeGreaterThan(0);
      expect(c.cutMs).toBeCloseTo(c.firstMs + c.secondMs - c.wholeMs, 5);
    }
    const fit = fitBoundary(samples);
    expect(oneKernel!.fixedMs).toBeCloseTo(fit.fixedMs, 6);
    expect(oneKernel!.inMsPerByte).toBeCloseTo(fit.inMsPerByte, 12);
    const fromCuts = boundaryFromCuts(cuts!, fit);
    expect(boundary.fixedMs).toBeCloseTo(fromCuts.fixedMs, 6);
    expect(boundary.inMsPerByte).toBeCloseTo(fromCuts.inMsPerByte, 12);
    expect(boundary.fixedMs).toBeGreaterThanOrEqual(oneKernel!.fixedMs);
    expect(boundary.inMsPerByte).toBeGreaterThanOrEqual(oneKernel!.inMsPerByte);
    expect(boundary.origin).toContain('the fixed and input costs from 2 chains of two 1x1 convolutions cut between them (49 kB, 392 kB)');
  });

  it('keeps the one-kernel models\' input cost without chains', async () => {
    const r = await calibrateBoundary({ threads: 1, runs: 3, warmup: 0, sizes: [4096, 65536], cutChains: [] });
    expect(r.cuts).toBeUndefined();
    expect(r.boundary.inMsPerByte).toBeCloseTo(fitBoundary(r.samples).inMsPerByte, 12);
    expect(r.boundary.origin).not.toContain('convolutions');
  });

  it.each([
    [{ runs: 2 }, /option runs must be an integer >= 3, got 2/],
    [{ threads: 0 }, /option threads must be an integer >= 1, got 0/],
    [{ sizes: [4096] }, /needs at least 2 sizes/],
    [{ cutChains: [[16, 28], [0, 28]] as [number, number][] }, /option cutChains: each chain is \[channels, size\] of positive integers, got \[0, 28\]/],
  ])('refuses bad options %j with PROFILE_BAD_OPTIONS', async (opts, message) => {
    await expect(calibrateBoundary(opts)).rejects.toMatchObject({ code: 'PROFILE_BAD_OPTIONS', message: expect.stringMatching(message) });
  });
});
