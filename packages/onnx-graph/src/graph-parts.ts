// A graph as plain nodes and tensors: the shape of the partitioning problem's `nodes` and `tensors`
// (structurally equal to @dnnpart/solver's ProblemNode and ProblemTensor, which imports no graph).

import { graphCosts } from './costs.js';
import type { Graph } from './types.js';

/** One node: its weight bytes and MACs. */
export interface PartNode {
  readonly id: string;
  readonly memoryBytes: number;
  readonly macs?: number;
}

/** One activation tensor: its producer (null for a graph input), consumers and size. */
export interface PartTensor {
  readonly id: string;
  readonly producer: string | null;
  readonly consumers: readonly string[];
  readonly bytes: number;
}

export interface GraphPartsOptions {
  /** Bytes per activation element; default: the tensor's own dtype size (graph `bytes`). */
  readonly bytesPerElement?: number;
  /** Bytes per weight element for node memory; default: the initializers' own sizes. */
  readonly weightBytesPerElement?: number;
}

/** The nodes (memory = weight bytes, MACs) and tensors (activations only) of a graph. */
export function graphParts(graph: Graph, options: GraphPartsOptions = {}): { nodes: PartNode[]; tensors: PartTensor[] } {
  const costs = graphCosts(graph);
  const nodes: PartNode[] = graph.nodes.map((n) => {
    const c = costs.nodes.get(n.name)!;
    const memoryBytes = options.weightBytesPerElement === undefined ? c.paramBytes : c.params * options.weightBytesPerElement;
    return { id: n.name, memoryBytes, macs: c.macs };
  });
  const tensors: PartTensor[] = [];
  for (const t of graph.tensors.values()) {
    // Weights live on the board with their node; only activations travel.
    if (t.isInitializer) continue;
    if (t.producer === null && !t.isGraphInput) continue;
    const elements = t.shape.reduce((a, b) => a * b, 1);
    const bytes = options.bytesPerElement === undefined ? t.bytes : elements * options.bytesPerElement;
    tensors.push({ id: t.name, producer: t.producer, consumers: [...new Set(t.consumers)], bytes });
  }
  return { nodes, tensors };
}
