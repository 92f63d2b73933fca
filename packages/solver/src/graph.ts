// Nodes and tensors of a problem from an ONNX graph (@dnnpart/onnx-graph's model).

import { graphCosts, type Graph } from '@dnnpart/onnx-graph';
import type { ProblemNode, ProblemTensor } from './types.js';

export interface GraphPartsOptions {
  /** Bytes per activation element; default: the tensor's own dtype size (graph `bytes`). */
  readonly bytesPerElement?: number;
  /** Bytes per weight element for node memory; default: the initializers' own sizes. */
  readonly weightBytesPerElement?: number;
}

/** The problem's `nodes` (memory = weight bytes, MACs) and `tensors` (activations only) of a graph. */
export function graphParts(graph: Graph, options: GraphPartsOptions = {}): { nodes: ProblemNode[]; tensors: ProblemTensor[] } {
  const costs = graphCosts(graph);
  const nodes: ProblemNode[] = graph.nodes.map((n) => {
    const c = costs.nodes.get(n.name)!;
    const memoryBytes = options.weightBytesPerElement === undefined ? c.paramBytes : c.params * options.weightBytesPerElement;
    return { id: n.name, memoryBytes, macs: c.macs };
  });
  const tensors: ProblemTensor[] = [];
  for (const t of graph.tensors.values()) {
    // Weights live on the board with their node; only activations travel.
    if (t.isInitializer) continue;
    if (t.producer === null && !t.isGraphInput) continue;
    const elements = t.shape.reduce((a, b) => a * b, 1);
    const bytes = options.bytesPerElement === undefined ? t.bytes : elements * options.bytesPerElement;
    tensors.push({ id: t.name, producer: t.producer, consumers: [...new Set(t.consumers)], bytes, ...(t.isGraphOutput ? { modelOutput: true } : {}) });
  }
  return { nodes, tensors };
}
