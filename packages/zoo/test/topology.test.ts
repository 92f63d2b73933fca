import { describe, expect, it } from 'vitest';
import { zooModelInfo, zooNames, type ZooInputShape, type ZooName } from '@dnnpart/zoo';
import { detectorNames, textNames } from './_nets.js';

describe('graph structure', () => {
  it.each(zooNames)('%s: nodes are in topological order, tensors named <node>_output_0, ends at "output"', (net) => {
    const info = zooModelInfo(net);
    const known = new Set<string>(info.inputs.map((t) => t.name));
    const consumed = new Set<string>();
    for (const n of info.nodes) {
      for (const i of n.inputs) {
        // Initializers are the only inputs not produced upstream.
        // (transformers: folded MatMul weights, and their own parameters)
        // '' is an omitted optional input (the detectors' Resize roi).
        if (!known.has(i) && i !== '') expect(i, `${n.name} input`).toMatch(/^(onnx::(Conv|MatMul)_\d+|[a-zA-Z_0-9.]+\.(weight|bias|in_proj_bias|pos_embedding)|class_token)$/);
        consumed.add(i);
      }
      // Split is the one op with several outputs (the detectors' C2f blocks and head).
      expect(n.outputs).toHaveLength(n.op === 'Split' ? n.outputs.length : 1);
      n.outputs.forEach((out, i) => {
        expect(out === info.output.name || out === `${n.name}_output_${i}`).toBe(true);
        known.add(out);
      });
    }
    expect(info.nodes[info.nodes.length - 1]!.outputs).toEqual([info.output.name]);
    expect(info.output.name).toBe(textNames.includes(net) ? 'last_hidden_state' : detectorNames.includes(net) ? 'output0' : 'output');
    // Every node output feeds another node, except the graph output.
    for (const n of info.nodes) for (const o of n.outputs) if (o !== info.output.name) expect(consumed.has(o)).toBe(true);
  });
});

// resnet18's feature maps are exact multiples of 1/32 of the input, so its conv MACs scale by
// (160 / 224)^2 = 25 / 49 while the fc layer's 512 * 1000 stay; a batch of 2 doubles everything.
const RESNET18_FC = 512 * 1000;
const RESNET18_CONV_224 = 1_814_073_344 - RESNET18_FC;
const SHAPES: readonly (readonly [ZooName, ZooInputShape, number])[] = [
  ['resnet18', [1, 3, 160, 160], (RESNET18_CONV_224 * 25) / 49 + RESNET18_FC],
  ['resnet18', [2, 3, 224, 224], 2 * 1_814_073_344],
  ['resnet50', [1, 3, 112, 112], 0],
  ['mobilenet_v2', [4, 3, 96, 96], 0],
  ['efficientnet_b0', [1, 3, 240, 240], 0],
  ['vgg16', [1, 3, 448, 448], 0],
  ['squeezenet1_1', [1, 3, 128, 128], 0],
  ['googlenet', [1, 3, 96, 96], 0],
  ['alexnet', [1, 3, 227, 227], 0],
  ['regnet_x_400mf', [1, 3, 64, 64], 0],
];

describe('configurable input size', () => {
  it.each(SHAPES)('%s at %j gives [batch, 1000]', (net, shape, macs) => {
    const info = zooModelInfo(net, { inputShape: shape });
    expect(info.inputShape).toEqual(shape);
    expect(info.outputShape).toEqual([shape[0], 1000]);
    expect(info.params).toBe(zooModelInfo(net).params);
    if (macs > 0) expect(info.macs).toBe(macs);
  });
});
