import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { zooModelInfo, type ZooName } from '@dnnpart/zoo';

// The paper's data lists every node of a torchvision export (torch.onnx.export, TorchScript) in
// a topological order; our graphs must have exactly those node names.
const REFERENCE = '/work/shared/reference/cnnparted-2024-02';
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
