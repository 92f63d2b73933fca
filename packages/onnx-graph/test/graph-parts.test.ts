// graphParts on a real ONNX model from the zoo: every node, every activation, nothing else.

import { describe, expect, it } from 'vitest';
import { buildZooModel } from '@dnnpart/zoo';
import { graphCosts, graphParts, loadModel } from '../src/index.js';

describe('graphParts', () => {
  it('resnet18: nodes with MACs and weight bytes, activation tensors with producers and consumers', async () => {
    const { graph } = await loadModel(buildZooModel('resnet18'));
    const { nodes, tensors } = graphParts(graph);
    expect(nodes.map((n) => n.id)).toEqual(graph.nodes.map((n) => n.name));
    expect(nodes.reduce((s, n) => s + (n.macs ?? 0), 0)).toBe(graphCosts(graph).macs);
    expect(graphCosts(graph).macs).toBe(1814073344);
    const input = tensors.find((t) => t.producer === null)!;
    expect(input).toMatchObject({ id: 'input', bytes: 3 * 224 * 224 * 4 });
    // No weights travel; every activation but the output has a consumer.
    expect(tensors.every((t) => !graph.tensors.get(t.id)!.isInitializer)).toBe(true);
    expect(tensors.filter((t) => t.consumers.length === 0).map((t) => t.id)).toEqual(graph.outputs);
    const half = graphParts(graph, { bytesPerElement: 2, weightBytesPerElement: 2 });
    expect(half.tensors.find((t) => t.producer === null)!.bytes).toBe(3 * 224 * 224 * 2);
    expect(half.nodes[0]!.memoryBytes * 2).toBe(nodes[0]!.memoryBytes);
    expect(nodes).toHaveLength(49);
    // Every consumer and producer is a node; tensors are listed once.
    const ids = new Set(nodes.map((n) => n.id));
    for (const t of tensors) for (const c of [...t.consumers, ...(t.producer === null ? [] : [t.producer])]) expect(ids.has(c), `${t.id} -> ${c}`).toBe(true);
    expect(new Set(tensors.map((t) => t.id)).size).toBe(tensors.length);
  });
});
