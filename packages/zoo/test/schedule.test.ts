import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { zooModelInfo, type ZooName } from '@dnnpart/zoo';

// The paper's data lists every node of a torchvision export (torch.onnx.export, TorchScript) in
// a topological order; our graphs must have exactly those node names.
// (The data ships in packages/cnnparted, which depends on this package: read its files, not its API.)
const REFERENCE = new URL('../../cnnparted/data/cnnparted-2024-02', import.meta.url).pathname;
const SCHEDULES: readonly (readonly [ZooName, string])[] = [
  ['alexnet', 'alexnet'],
  ['efficientnet_b0', 'efficientnet'],
  ['googlenet', 'googlenet'],
  ['regnet_x_400mf', 'regnet_x_400mf'],
  ['resnet50', 'resnet50'],
  ['squeezenet1_1', 'squeezenet1_1'],
  ['vgg16', 'vgg16'],
];

function scheduleNames(file: string): string[] {
  const fields = readFileSync(`${REFERENCE}/${file}_schedules.csv`, 'utf8').trim().split(',');
  // Field 0 is the schedule id; "input" and "output" are the graph's ends, not nodes.
  return fields.slice(1).filter((f) => f !== 'input' && f !== 'output');
}

describe('node names equal the torchvision export in the reference schedules', () => {
  it.each(SCHEDULES)('%s matches %s_schedules.csv', (net, file) => {
    const expected = scheduleNames(file);
    const info = zooModelInfo(net);
    const names = info.nodes.map((n) => n.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual([...expected].sort());
  });

  it.each(SCHEDULES)('%s: the schedule order is a valid topological order of our graph', (net, file) => {
    const info = zooModelInfo(net);
    const producer = new Map<string, string>();
    for (const n of info.nodes) for (const o of n.outputs) producer.set(o, n.name);
    const done = new Set<string>();
    for (const name of scheduleNames(file)) {
      const node = info.nodes.find((n) => n.name === name)!;
      for (const i of node.inputs) {
        const p = producer.get(i);
        if (p !== undefined) expect(done.has(p), `${name} reads ${i} before ${p} ran`).toBe(true);
      }
      done.add(name);
    }
  });
});

// resnet18 and mobilenet_v2 have no reference schedule: spot-check them against what
// torch.onnx.export writes for torchvision's modules (the order is the forward order).
describe('exporter names of the networks without a reference schedule', () => {
  it('mobilenet_v2: ReLU6 as Constant, Constant_1, Clip; inverted residual scopes; top-level pool', () => {
    const names = zooModelInfo('mobilenet_v2').nodes.map((n) => n.name);
    expect(names.slice(0, 9)).toEqual([
      '/features/features.0/features.0.0/Conv',
      '/features/features.0/features.0.2/Constant',
      '/features/features.0/features.0.2/Constant_1',
      '/features/features.0/features.0.2/Clip',
      '/features/features.1/conv/conv.0/conv.0.0/Conv',
      '/features/features.1/conv/conv.0/conv.0.2/Constant',
      '/features/features.1/conv/conv.0/conv.0.2/Constant_1',
      '/features/features.1/conv/conv.0/conv.0.2/Clip',
      '/features/features.1/conv/conv.1/Conv',
    ]);
    expect(names).toContain('/features/features.2/conv/conv.2/Conv');
    expect(names).toContain('/features/features.3/Add');
    expect(names).not.toContain('/features/features.2/Add');
    expect(names.filter((n) => n.endsWith('/Add'))).toHaveLength(10);
    expect(names.slice(-6)).toEqual([
      '/features/features.18/features.18.2/Constant',
      '/features/features.18/features.18.2/Constant_1',
      '/features/features.18/features.18.2/Clip',
      '/GlobalAveragePool',
      '/Flatten',
      '/classifier/classifier.1/Gemm',
    ]);
  });

  it('resnet18: basic blocks with relu and relu_1, downsample from layer2 on', () => {
    const names = zooModelInfo('resnet18').nodes.map((n) => n.name);
    expect(names.slice(0, 11)).toEqual([
      '/conv1/Conv',
      '/relu/Relu',
      '/maxpool/MaxPool',
      '/layer1/layer1.0/conv1/Conv',
      '/layer1/layer1.0/relu/Relu',
      '/layer1/layer1.0/conv2/Conv',
      '/layer1/layer1.0/Add',
      '/layer1/layer1.0/relu_1/Relu',
      '/layer1/layer1.1/conv1/Conv',
      '/layer1/layer1.1/relu/Relu',
      '/layer1/layer1.1/conv2/Conv',
    ]);
    expect(names.filter((n) => n.includes('downsample'))).toEqual([
      '/layer2/layer2.0/downsample/downsample.0/Conv',
      '/layer3/layer3.0/downsample/downsample.0/Conv',
      '/layer4/layer4.0/downsample/downsample.0/Conv',
    ]);
    expect(names.slice(-3)).toEqual(['/avgpool/GlobalAveragePool', '/Flatten', '/fc/Gemm']);
    expect(names).toHaveLength(49);
  });
});
