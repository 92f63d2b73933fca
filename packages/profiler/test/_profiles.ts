// A small valid profile for the file and schema tests.
import type { Profile } from '@dnnpart/profiler';

export const SHA = 'a'.repeat(64);

export function sampleProfile(): Profile {
  return {
    schema: 'dnnpart/profile@1',
    source: 'measured',
    board: { name: 'ci-x86-2core', cpu: 'AMD EPYC', cores: 2, memoryBytes: 25276514304, os: 'Debian GNU/Linux 12', arch: 'x64' },
    model: { name: 'tiny', sha256: SHA, inputs: [{ name: 'x', shape: [1, 3, 16, 16], dtype: 'float32' }] },
    settings: { runs: 3, warmup: 1, threads: 1, executionProvider: 'CPUExecutionProvider', graphOptimizationLevel: 'all', ortVersion: '1.30.0' },
    endToEnd: { medianMs: 1.5, p90Ms: 1.9, runs: 3 },
    nodes: [
      { name: '/conv1/Conv', op: 'Conv', latencyMs: { median: 1, p90: 1.2, mean: 1.05, stddev: 0.1 }, paramBytes: 896, outputBytes: 8192, energyMj: null, macs: 110592, runs: 3 },
      { name: '/relu/Relu', op: 'Relu', latencyMs: { median: 0, p90: 0, mean: 0, stddev: 0 }, paramBytes: 0, outputBytes: 8192, energyMj: null, kernel: '/conv1/Conv' },
    ],
    power: { source: 'unavailable' },
    createdAt: '2026-11-28T11:00:00.000Z',
    tool: { name: 'dnnpart', version: '0.1.0' },
    fusedNodes: [{ kernel: '/conv1/Conv', op: 'FusedConv', nodes: ['/conv1/Conv', '/relu/Relu'] }],
    warnings: [],
  };
}
