// The per-kernel dispatch cost, measured on this machine with onnxruntime: the glue chains are real
// models, and the calibration times them (a range, not a figure: machines differ).
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { loadModel } from '@dnnpart/onnx-graph';
import { calibrateDispatch, glueChainModel, ProfileError } from '@dnnpart/profiler';

describe('glueChainModel', () => {
  it.each([[1, 6], [12, 12], [13, 18], [600, 600]])('%i nodes asked: %i small kernels, x [1, 64] to y [1, 64]', async (asked, nodes) => {
    const m = glueChainModel(asked);
    expect(m.nodes).toBe(nodes);
    const { graph } = await loadModel(m.bytes, { simplify: false });
    expect(graph.nodes).toHaveLength(nodes);
    expect(new Set(graph.nodes.map((n) => n.op))).toEqual(new Set(['Add', 'Mul', 'Slice', 'Concat', 'Reshape']));
    expect(graph.tensors.get('y')!.shape).toEqual([1, 64]);
    const s = await ort.InferenceSession.create(m.bytes, { graphOptimizationLevel: 'all' });
    try {
      const y = (await s.run({ x: new ort.Tensor('float32', new Float32Array(64).fill(1), [1, 64]) })).y!;
      expect([...y.dims]).toEqual([1, 64]);
      // Each cycle of six halves x + 0.5 ... : the values stay finite.
      expect([...(y.data as Float32Array)].every(Number.isFinite)).toBe(true);
    } finally {
      await s.release();
    }
  });
});

describe('calibrateDispatch', () => {
  it('measures what one more small kernel costs: positive, below 50 µs, steady over its rounds', async () => {
    const r = await calibrateDispatch({ threads: 1, runs: 60, rounds: 3 });
    expect(r.nodes).toEqual([12, 612]);
    expect(r.threads).toBe(1);
    expect(r.longMs).toBeGreaterThan(r.shortMs);
    expect(r.perOpOverheadMs).toBeGreaterThan(0);
    expect(r.perOpOverheadMs).toBeLessThan(0.05);
    expect(r.perRound).toHaveLength(3);
    expect(r.origin).toMatch(/^chains of 12 and 612 small kernels/);
  });

  it.each([
    [{ threads: 0 }, 'dispatch calibration option threads must be an integer >= 1, got 0'],
    [{ runs: 5 }, 'dispatch calibration option runs must be an integer >= 10, got 5'],
    [{ nodes: [60, 30] as const }, 'dispatch calibration option nodes: the long chain (30) must have more nodes than the short one (60)'],
  ])('refuses bad options: %j', async (options, message) => {
    const e = await calibrateDispatch(options).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProfileError);
    expect(e).toMatchObject({ code: 'PROFILE_BAD_OPTIONS', message });
  });
});
