// Problems for the solver benchmarks: zoo networks on synthetic but plausible boards.
// Latency = MACs / speed + per-op overhead; energy = latency x board power; 1000BASE-T links between all.

import { graphParts, loadModel } from '@dnnpart/onnx-graph';
import { buildZooModel } from '@dnnpart/zoo';

/** Eight heterogeneous boards: speed in GMAC/s, overhead per op in ms, power in W. */
export const BOARDS = [
  { id: 'pi4', gmacs: 2, overheadMs: 0.02, powerW: 4 },
  { id: 'jetson-nano', gmacs: 10, overheadMs: 0.05, powerW: 8 },
  { id: 'mcu-accel', gmacs: 0.8, overheadMs: 0.005, powerW: 1 },
  { id: 'jetson-orin', gmacs: 40, overheadMs: 0.03, powerW: 25 },
  { id: 'coral', gmacs: 6, overheadMs: 0.01, powerW: 3 },
  { id: 'nuc', gmacs: 15, overheadMs: 0.02, powerW: 20 },
  { id: 'pi-zero', gmacs: 0.4, overheadMs: 0.04, powerW: 1.5 },
  { id: 'rk3588', gmacs: 5, overheadMs: 0.02, powerW: 6 },
];

export const ETHERNET = { bandwidthBytesPerSec: 125e6, latencyMs: 0.05, powerW: 0.6, framing: 'ethernet' };

/** Graph parts of a zoo network (float32 tensors, weights as stored), with each node's op. */
export async function zooParts(name) {
  const { graph } = await loadModel(buildZooModel(name));
  return { ...graphParts(graph), ops: new Map(graph.nodes.map((n) => [n.name, n.op])) };
}

/** A problem over the first `count` boards. */
export function syntheticProblem(name, parts, count, objective, boardOrder) {
  const boards = BOARDS.slice(0, count).map((b) => {
    const latencyMs = {};
    const energyMj = {};
    for (const n of parts.nodes) {
      // Constant nodes are folded by every runtime: they cost nothing.
      const ms = parts.ops.get(n.id) === 'Constant' ? 0 : ((n.macs ?? 0) / (b.gmacs * 1e9)) * 1000 + b.overheadMs;
      latencyMs[n.id] = ms;
      energyMj[n.id] = ms * b.powerW;
    }
    return { id: b.id, memoryBytes: null, latencyMs, energyMj };
  });
  const links = [];
  for (const a of boards) for (const b of boards) if (a !== b) links.push({ from: a.id, to: b.id, ...ETHERNET });
  return { version: 1, name: `${name} x${count}`, nodes: parts.nodes, tensors: parts.tensors, boards, links, inputBoard: boards[0].id, objective, boardOrder };
}
