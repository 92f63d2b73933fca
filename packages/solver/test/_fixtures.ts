// A small hand-made problem (the example, completed) for table-driven tests.

import type { Problem } from '../src/index.js';

/** conv1 -> relu1 -> conv2 -> add3, with a skip conv1 -> add3; two boards joined both ways. */
export function tinyProblem(): Problem {
  return {
    version: 1,
    name: 'tiny',
    nodes: [
      { id: 'conv1', memoryBytes: 37632, macs: 118013952 },
      { id: 'relu1', memoryBytes: 0, macs: 0 },
      { id: 'conv2', memoryBytes: 36864, macs: 115605504 },
      { id: 'add3', memoryBytes: 0, macs: 0 },
    ],
    tensors: [
      { id: 'x', producer: null, consumers: ['conv1'], bytes: 602112 },
      { id: 't1', producer: 'conv1', consumers: ['relu1', 'add3'], bytes: 3211264 },
      { id: 't2', producer: 'relu1', consumers: ['conv2'], bytes: 3211264 },
      { id: 't3', producer: 'conv2', consumers: ['add3'], bytes: 3211264 },
      { id: 'y', producer: 'add3', consumers: [], bytes: 3211264 },
    ],
    boards: [
      { id: 'jetson', memoryBytes: 4000000000, latencyMs: { conv1: 1.2, relu1: 0.1, conv2: 1.1, add3: 0.1 }, energyMj: { conv1: 0.9, relu1: 0.05, conv2: 0.8, add3: 0.05 } },
      { id: 'rpi', memoryBytes: null, latencyMs: { conv1: 9, relu1: 0.5, conv2: 8, add3: 0.4 }, energyMj: { conv1: 3, relu1: 0.2, conv2: 2.9, add3: 0.1 } },
    ],
    links: [
      { from: 'jetson', to: 'rpi', bandwidthBytesPerSec: 125000000, latencyMs: 0.05, powerW: 0.6, framing: 'ethernet' },
      { from: 'rpi', to: 'jetson', bandwidthBytesPerSec: 125000000, latencyMs: 0.05, powerW: 0.6, framing: 'ethernet' },
    ],
    inputBoard: 'jetson',
    objective: 'throughput',
    boardOrder: 'free',
    constraints: { maxLatencyMs: 50, maxEnergyMj: 30, minThroughputFps: 20 },
  };
}

/** A deep copy as plain JSON, for mutation in bad-input tables. */
export function tinyJson(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(tinyProblem())) as Record<string, unknown>;
}
