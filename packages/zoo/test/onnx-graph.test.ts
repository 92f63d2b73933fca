import { describe, expect, it } from 'vitest';
import { graphCosts, loadModel } from '@dnnpart/onnx-graph';
import { buildZooModel, zooModelInfo, type ZooInputShape } from '@dnnpart/zoo';
import { cnnNames } from './_nets.js';

// A cross-check with the project's own ONNX reader: it decodes our bytes, agrees on every
// tensor shape we wrote, and its cost model counts the same MACs as the builder.
const SMALL: ZooInputShape = [1, 3, 64, 64];

describe('@dnnpart/onnx-graph reads the zoo models', () => {
  it.each(cnnNames.filter((n) => n !== 'vgg16' && n !== 'alexnet'))('%s at 1x3x64x64: same nodes, shapes and MACs', async (net) => {
    const { graph } = await loadModel(buildZooModel(net, { inputShape: SMALL }));
    const info = zooModelInfo(net, { inputShape: SMALL });
    // Loading may turn Constant nodes (ReLU6's Clip bounds, one element each) into initializers.
    const layers = (nodes: readonly { name: string; op: string }[]) => nodes.filter((n) => n.op !== 'Constant').map((n) => n.name);
    expect(layers(graph.nodes)).toEqual(layers(info.nodes));
    expect(graph.tensors.get('output')!.shape).toEqual([1, 1000]);
    const costs = graphCosts(graph);
    expect(costs.unknownOps).toEqual([]);
    expect(costs.macs).toBe(info.macs);
    const folded = info.nodes.filter((n) => n.op === 'Constant').length - graph.nodes.filter((n) => n.op === 'Constant').length;
    expect(costs.params).toBe(info.initializerElements + folded);
  });
});
