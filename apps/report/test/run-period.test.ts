// The line `dnnpart run` prints about its frame period (periodLine), both ways.
import { describe, expect, it } from 'vitest';
import { memoryLine, memoryOverLines, periodLine, sharedMachineLines, waitingLines } from '../src/cli/runtime-commands.js';

describe('waitingLines', () => {
  const stage = (k: number, agent: string, measuredMs: number, waitingMs?: number) => ({
    stage: k, agent, nodes: 3, computeMs: { measured: 1, p95: 1, predicted: null },
    transferIn: { from: 'x', bytes: 1, measuredMs, ...(waitingMs !== undefined ? { waitingMs } : {}), predictedMs: null, predictedBytes: null },
  });
  it('names a hop whose time is mostly its receiver computing other frames, and no other', () => {
    // ddddocr's detector over three local agents: 2 MB into stage 0 took 102 ms, 88 of them behind earlier frames.
    expect(waitingLines([stage(0, 'here', 102.34, 88.13), stage(1, 'rpi4', 6.64, 0), stage(2, 'rpi5', 4, 0.3), stage(3, 'old', 9)])).toEqual([
      'transfer into stage 0: 102.34 ms from send to arrival, 88.13 ms of it while here computed other frames (its link\'s own time: 14.21 ms)',
    ]);
  });
});

describe('memoryLine', () => {
  it("says so when a stage added nothing to its agent's memory, instead of 0 B", () => {
    const stage = (k: number, agent: string, loadedBytes: number, peakBytes: number) => ({
      stage: k, agent, nodes: 3, computeMs: { measured: 1, p95: 1, predicted: null },
      transferIn: { from: 'x', bytes: 1, measuredMs: 1, predictedMs: null, predictedBytes: null },
      memory: { loadedBytes, peakBytes, predictedBytes: 15.7e6, alone: { loadedBytes: 1.99e6, peakBytes: 7.5e6 } },
    });
    // PaddleOCR's recognizer on agents that had profiled it first: their allocators reused that memory.
    expect(memoryLine([stage(0, 'b', 0, 0), stage(1, 'a', 2e6, 3e6)])).toEqual([
      "memory each stage added to its agent (loaded / most after a frame; the plan's; alone in a fresh process on that board): "
      + 'stage 0 on b nothing new (it took memory the agent already held, from an earlier profile or stage) (15.7 MB), alone 1.99 MB / 7.50 MB; '
      + 'stage 1 on a 2.00 MB / 3.00 MB (15.7 MB), alone 1.99 MB / 7.50 MB',
    ]);
  });
});

describe('sharedMachineLines', () => {
  it('names the agents that ran on one machine and their stages, and nothing when each had its own', () => {
    const stage = (k: number, agent: string) => ({ stage: k, agent });
    expect(sharedMachineLines({ sharedMachines: [{ host: '10.0.0.3', agents: ['c', 'd'], cores: 4 }], stages: [stage(0, 'a'), stage(1, 'c'), stage(2, 'd')] } as never)).toEqual([
      "agents c, d run on one machine (10.0.0.3, 4 cores): stages 1, 2 shared its cores, which a plan of one board per stage does not price; their measured times and the throughput are that machine's",
    ]);
    expect(sharedMachineLines({ stages: [stage(0, 'a')] } as never)).toEqual([]);
  });
});

describe('memoryOverLines', () => {
  const stage = (k: number, agent: string, peakBytes: number, predictedBytes: number | null, alone?: number) => ({
    stage: k, agent, nodes: 3, computeMs: { measured: 1, p95: 1, predicted: null },
    transferIn: { from: 'x', bytes: 1, measuredMs: 1, predictedMs: null, predictedBytes: null },
    memory: { loadedBytes: 1e6, peakBytes, predictedBytes, ...(alone !== undefined ? { alone: { loadedBytes: 1e6, peakBytes: alone } } : {}) },
  });
  it('names a stage that held clearly more than the plan says, and no other', () => {
    // ISNet's second stage before the plan counted frames in flight: 2.66 GB on its agent, 1.13 GB planned.
    expect(memoryOverLines([
      stage(0, 'here', 1.47e9, 1.49e9), stage(1, 'rpi5', 2.66e9, 1.13e9, 1.52e9),
      // Over by more than 25 % but by less than 16 MiB: RSS noise on a small stage, left out; no plan figure: nothing to hold it to.
      stage(2, 'small', 12e6, 5e6), stage(3, 'none', 5e9, null),
    ])).toEqual([
      "stage 1 held 2.66 GB on rpi5 while frames streamed, 135 % over the plan's 1.13 GB (alone in a fresh process 1.52 GB): a board the plan fills would not hold it; leave that much room in its memoryBytes, or give it larger frameBuffers in the system file",
    ]);
  });
});

describe('periodLine', () => {
  it('names the slowest step; nothing more when the steps account for the period', () => {
    expect(periodLine({ frameMs: 25.84, slowest: { step: 'transfer into stage 1 from rpi4', ms: 20.1 }, unaccountedMs: 5.74 }))
      .toBe('a frame every 25.84 ms; the slowest timed step, transfer into stage 1 from rpi4, took 20.10 ms');
  });

  it('says where a period the steps do not account for goes, and how a plan can price it', () => {
    expect(periodLine({ frameMs: 1.4, slowest: { step: 'outputs back from rpi5', ms: 0.42 }, unaccountedMs: 0.98 })).toBe(
      'a frame every 1.40 ms; the slowest timed step, outputs back from rpi5, took 0.42 ms: 0.98 ms a frame (70 %) is in no timed step '
      + "(the agents' channel, the coordinator); a plan prices it only through links measured between the agents (dnnpart link --agents ..., then linksFile: in the system file)");
  });
});
