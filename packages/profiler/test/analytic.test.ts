import { describe, expect, it } from 'vitest';
import { loadModel } from '@dnnpart/onnx-graph';
import { analyticProfile, calibrateAnalytic, compareProfiles, validateBoardDescription, validateProfile, type BoardDescription, type Profile } from '@dnnpart/profiler';
import { Builder } from './_model.js';

/** x[1,3,8,8] -> /conv/Conv (W[4,3,3,3], b[4], pad 1) -> /relu/Relu -> y[1,4,8,8]. */
async function convRelu() {
  const b = new Builder().input('x', [1, 3, 8, 8]).output('y', [1, 4, 8, 8]);
  b.node('Conv', '/conv/Conv', ['x', b.weight('w', [4, 3, 3, 3]), b.weight('b', [4])], ['c'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  b.node('Relu', '/relu/Relu', ['c'], ['y']);
  return (await loadModel(b.bytes(), { name: 'conv-relu' })).graph;
}

const board = (over: Partial<BoardDescription> = {}): BoardDescription =>
  validateBoardDescription({
    name: 'hand',
    title: 'hand-computed board',
    kind: 'cpu',
    peakGops: { fp32: 10, int8: 40 },
    memoryBandwidthBytesPerSec: 1e9,
    memoryBytes: 1e9,
    power: { idleW: 1, activeW: 2 },
    sources: ['this test'],
    analytic: { computeEfficiency: 0.5, memoryEfficiency: 0.25, perOpOverheadMs: 0.001 },
    ...over,
  });

// Conv: 256 outputs x 27 = 6912 MACs = 13824 ops; bytes = 768 in + 432 W + 16 b + 1024 out = 2240.
// Relu: 256 flops; bytes = 1024 in + 1024 out = 2048.
describe('analyticProfile: roofline values computed by hand', () => {
  it.each([
    [
      'memory bound (fp32, 1 GB/s at 25 %)',
      board(),
      undefined,
      // conv: max(13824 / 5e6, 2240 / 2.5e5) + 0.001; relu: max(256 / 5e6, 2048 / 2.5e5) + 0.001
      [2240 / 2.5e5 + 0.001, 2048 / 2.5e5 + 0.001],
    ],
    [
      'compute-bound conv (fp32, 100 GB/s)',
      board({ memoryBandwidthBytesPerSec: 1e11 }),
      undefined,
      // conv: max(13824 / 5e6, 2240 / 2.5e7) + 0.001; relu: max(256 / 5e6, 2048 / 2.5e7) + 0.001
      [13824 / 5e6 + 0.001, 2048 / 2.5e7 + 0.001],
    ],
    [
      'int8: a quarter of the bytes, 4x the peak',
      board(),
      'int8' as const,
      // conv: max(13824 / 2e7, 560 / 2.5e5) + 0.001; relu: max(256 / 2e7, 512 / 2.5e5) + 0.001
      [560 / 2.5e5 + 0.001, 512 / 2.5e5 + 0.001],
    ],
  ])('%s', async (_label, desc, precision, [conv, relu]) => {
    const g = await convRelu();
    const p = analyticProfile(g, desc, { sha256: 'C'.repeat(64), ...(precision ? { precision } : {}) });
    expect(validateProfile(p)).toBe(p);
    expect(p.source).toBe('analytic');
    expect(p.model.sha256).toBe('c'.repeat(64));
    expect(p.nodes.map((n) => n.name)).toEqual(['/conv/Conv', '/relu/Relu']);
    expect(p.nodes[0]!.latencyMs.median).toBeCloseTo(conv!, 6);
    expect(p.nodes[1]!.latencyMs.median).toBeCloseTo(relu!, 6);
    expect(p.nodes[0]!.energyMj).toBeCloseTo(2 * conv!, 6);
    expect(p.endToEnd.medianMs).toBeCloseTo(conv! + relu!, 6);
    expect(p.power).toMatchObject({ source: 'estimated', activeW: 2, idleW: 1 });
    expect(p.nodes[0]).toMatchObject({ macs: 6912, paramBytes: 448, outputBytes: 1024 });
  });

  it('refuses a precision the board has no peak for', async () => {
    const g = await convRelu();
    expect(() => analyticProfile(g, board(), { sha256: 'c'.repeat(64), precision: 'fp16' })).toThrow(
      expect.objectContaining({ code: 'PROFILE_BOARD_DESCRIPTION', message: expect.stringMatching(/field peakGops\.fp16 is missing/) }),
    );
  });

  it('warns when the description has no calibrated parameters', async () => {
    const g = await convRelu();
    const d = board();
    const { analytic: _omit, ...bare } = d;
    expect(analyticProfile(g, bare, { sha256: 'c'.repeat(64) }).warnings[0]).toMatch(/no analytic block; default efficiencies/);
  });
});

describe('grouped convolutions', () => {
  // x[1,4,8,8] -> depthwise Conv (group 4, W[4,1,3,3]): 256 outputs x 9 = 2304 MACs = 4608 ops.
  async function depthwise() {
    const b = new Builder().input('x', [1, 4, 8, 8]).output('y', [1, 4, 8, 8]);
    b.node('Conv', '/dw/Conv', ['x', b.weight('w', [4, 1, 3, 3])], ['y'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 4 });
    return (await loadModel(b.bytes(), { name: 'dw' })).graph;
  }
  const fast = board({ memoryBandwidthBytesPerSec: 1e15 });
  it.each([
    ['as grouped work', {}, 4608 / 5e6],
    ['at a quarter of the efficiency', { groupedConvEfficiency: 0.25 }, 4608 / 1.25e6],
    ['as dense work (x group), as the reference simulator counts it', { groupedConvAsDense: true }, (4 * 4608) / 5e6],
  ])('%s', async (_label, params, computeMs) => {
    const p = analyticProfile(await depthwise(), fast, { sha256: 'c'.repeat(64), parameters: { perOpOverheadMs: 0, ...params } });
    expect(p.nodes[0]!.macs).toBe(2304);
    expect(p.nodes[0]!.latencyMs.median).toBeCloseTo(computeMs, 6);
    expect(validateProfile(p).analytic).toMatchObject(params);
  });
});

describe('calibrateAnalytic and compareProfiles', () => {
  it('recovers the parameters that generated a profile', async () => {
    const g = await convRelu();
    const truth = analyticProfile(g, board({ memoryBandwidthBytesPerSec: 2e10 }), { sha256: 'c'.repeat(64), parameters: { computeEfficiency: 0.2, memoryEfficiency: 0.5, perOpOverheadMs: 0.002 } });
    const fit = calibrateAnalytic([{ graph: g, measured: truth }], board({ memoryBandwidthBytesPerSec: 2e10 }));
    expect(fit.weightedAbsRelError).toBeLessThan(0.05);
    const again = analyticProfile(g, board({ memoryBandwidthBytesPerSec: 2e10 }), { sha256: 'c'.repeat(64), parameters: fit.parameters });
    expect(compareProfiles(again, truth).weightedAbsRelError).toBeLessThan(0.05);
  });

  it('compares per node and end to end', () => {
    const mk = (conv: number, relu: number, e2e: number) =>
      ({
        nodes: [
          { name: 'a', latencyMs: { median: conv } },
          { name: 'b', latencyMs: { median: relu } },
        ],
        endToEnd: { medianMs: e2e },
      }) as unknown as Profile;
    // Errors 50 % and 0 %: median 25 %; weighted 0.5 / (1 + 3); end to end (4.5 - 5) / 5; node sum (4.5 - 4) / 4.
    expect(compareProfiles(mk(1.5, 3, 0), mk(1, 3, 5))).toEqual({ nodes: 2, medianAbsRelError: 0.25, weightedAbsRelError: 0.125, endToEndRelError: -0.1, nodeSumRelError: 0.125 });
  });
});
