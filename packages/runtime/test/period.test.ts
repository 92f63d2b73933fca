// Where a run's frame period went: the slowest timed step, and what no step accounts for.
import { describe, expect, it } from 'vitest';
import { busyOverlapMs, hostOfAddress, runPeriod, sharedMachines, type StageResult } from '@dnnpart/runtime';

const stage = (k: number, agent: string, computeMs: number, from: string, transferMs: number): StageResult => ({
  stage: k, agent, nodes: 3,
  computeMs: { measured: computeMs, p95: computeMs, predicted: null },
  transferIn: { from, bytes: 1000, measuredMs: transferMs, predictedMs: null, predictedBytes: null },
});

describe('busyOverlapMs', () => {
  it('counts the part of an interval that busy spans cover, once where they overlap', () => {
    expect(busyOverlapMs(0, 10, [])).toBe(0);
    expect(busyOverlapMs(0, 10, [{ start: 2, end: 4 }, { start: 6, end: 12 }])).toBe(6);
    expect(busyOverlapMs(0, 10, [{ start: 5, end: 8 }, { start: -3, end: 1 }, { start: 3, end: 6 }])).toBe(6);
    expect(busyOverlapMs(5, 6, [{ start: 0, end: 10 }])).toBe(1);
    expect(busyOverlapMs(0, 10, [{ start: 10, end: 20 }, { start: -5, end: 0 }])).toBe(0);
  });
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

  it('a hop is charged its own time, not the time its receiver spent computing other frames', () => {
    const waited: StageResult = { ...stage(0, 'a', 35, 'coordinator', 98), transferIn: { ...stage(0, 'a', 35, 'coordinator', 98).transferIn, waitingMs: 90 } };
    expect(runPeriod(24, [waited], { from: 'a', measuredMs: 1 }).slowest).toEqual({ step: 'stage 0 compute on a', ms: 35 });
  });
});

describe('sharedMachines', () => {
  it('groups the agents whose addresses name one host, this machine\'s own addresses as one', () => {
    expect(hostOfAddress('127.0.0.1:7070')).toBe('loopback');
    expect(hostOfAddress('localhost:7071')).toBe('loopback');
    expect(hostOfAddress('[::1]:7072')).toBe('loopback');
    expect(hostOfAddress('[fe80::2]:7072')).toBe('fe80::2');
    expect(hostOfAddress('Pi5.local:7070')).toBe('pi5.local');
    expect(sharedMachines([
      { id: 'a', address: '127.0.0.1:7070', cores: 2 },
      { id: 'b', address: 'localhost:7071', cores: 2 },
      { id: 'c', address: '10.0.0.2:7070', cores: 4 },
      { id: 'd', address: '10.0.0.3:7070', cores: 4 },
      { id: 'e', address: '10.0.0.3:7071', cores: 4 },
    ])).toEqual([{ host: 'loopback', agents: ['a', 'b'], cores: 2 }, { host: '10.0.0.3', agents: ['d', 'e'], cores: 4 }]);
    // A machine of its own each: nothing to say.
    expect(sharedMachines([{ id: 'a', address: '10.0.0.2:7070', cores: 4 }, { id: 'b', address: '10.0.0.3:7070', cores: 4 }])).toEqual([]);
  });
});
