// Where a run's frame period went: the slowest timed step, and what no step accounts for.
import { describe, expect, it } from 'vitest';
import { runPeriod, type StageResult } from '@dnnpart/runtime';

const stage = (k: number, agent: string, computeMs: number, from: string, transferMs: number): StageResult => ({
  stage: k, agent, nodes: 3,
  computeMs: { measured: computeMs, p95: computeMs, predicted: null },
  transferIn: { from, bytes: 1000, measuredMs: transferMs, predictedMs: null, predictedBytes: null },
});

describe('runPeriod', () => {
  it('names the slowest step and leaves the rest of the period unaccounted', () => {
    const p = runPeriod(400, [stage(0, 'a', 0.3, 'coordinator', 0.2), stage(1, 'b', 0.9, 'a', 0.4)], { from: 'b', measuredMs: 0.1 });
    expect(p.frameMs).toBe(2.5);
    expect(p.slowest).toEqual({ step: 'stage 1 compute on b', ms: 0.9 });
    expect(p.unaccountedMs).toBeCloseTo(1.6, 12);
  });

  it('a hop or the outputs back can be the slowest step; a step longer than the period leaves nothing unaccounted', () => {
    expect(runPeriod(50, [stage(0, 'a', 5, 'coordinator', 25)], { from: 'a', measuredMs: 1 })).toEqual({
      frameMs: 20, slowest: { step: 'transfer into stage 0 from coordinator', ms: 25 }, unaccountedMs: 0,
    });
    expect(runPeriod(100, [stage(0, 'a', 1, 'coordinator', 2)], { from: 'a', measuredMs: 8 }).slowest).toEqual({ step: 'outputs back from a', ms: 8 });
  });
});
