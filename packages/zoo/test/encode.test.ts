import { equals, fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { buildZooModel, buildZooModelProto, zooModelInfo, type ZooInputShape } from '@dnnpart/zoo';
import { cnnNames } from './_nets.js';

const SMALL: ZooInputShape = [1, 3, 64, 64];
const small = cnnNames.filter((n) => n !== 'vgg16' && n !== 'alexnet');

describe('ONNX encoding', () => {
  it.each(small)('%s: the streamed bytes decode to exactly buildZooModelProto()', (net) => {
    const bytes = buildZooModel(net, { inputShape: SMALL });
    const decoded = fromBinary(ModelProtoSchema, bytes);
    expect(equals(ModelProtoSchema, decoded, buildZooModelProto(net, { inputShape: SMALL }))).toBe(true);
  });

  it.each(small)('%s: IR 8, opset 17, producer, input/output, value_info for every intermediate tensor', (net) => {
    const model = fromBinary(ModelProtoSchema, buildZooModel(net, { inputShape: SMALL }));
    expect(model.irVersion).toBe(8n);
    expect(model.producerName).toBe('dnnpart-zoo');
    expect(model.opsetImport.map((o) => [o.domain, o.version])).toEqual([['', 17n]]);
    const g = model.graph!;
    expect(g.name).toBe(net);
    const dims = (v: (typeof g.input)[number]) =>
      v.type!.value.case === 'tensorType' ? v.type!.value.value.shape!.dim.map((d) => Number(d.value.value)) : [];
    expect(g.input.map((v) => [v.name, dims(v)])).toEqual([['input', [...SMALL]]]);
    expect(g.output.map((v) => [v.name, dims(v)])).toEqual([['output', [1, 1000]]]);
    const intermediate = g.node.flatMap((n) => n.output).filter((o) => o !== 'output');
    expect(g.valueInfo.map((v) => v.name)).toEqual(intermediate);
    for (const v of g.valueInfo) expect(dims(v).every((d) => Number.isInteger(d) && d >= 1)).toBe(true);
    // Every initializer is float32 raw data of the declared size.
    const info = zooModelInfo(net, { inputShape: SMALL });
    let elements = 0;
    for (const t of g.initializer) {
      expect(t.dataType).toBe(1);
      const n = t.dims.reduce((a, b) => a * Number(b), 1);
      expect(t.rawData.byteLength).toBe(4 * n);
      elements += n;
    }
    expect(elements).toBe(info.initializerElements);
    // torchvision counts a BatchNorm over C channels as 2C parameters; folded into the Conv it
    // becomes that Conv's C bias values (named onnx::Conv_*).
    const byName = new Map(g.initializer.map((t) => [t.name, t]));
    let foldedBias = 0;
    for (const n of g.node) {
      if (n.opType === 'Conv' && n.input[1]!.startsWith('onnx::Conv_')) foldedBias += Number(byName.get(n.input[2]!)!.dims[0]);
    }
    expect(info.params).toBe(elements + foldedBias);
  });

  it.each([
    ['squeezenet1_1', ['features.0.weight', 'features.0.bias', 'features.3.squeeze.weight', 'features.12.expand3x3.bias', 'classifier.1.weight']],
    ['efficientnet_b0', ['features.1.0.block.1.fc1.weight', 'features.7.0.block.2.fc2.bias', 'classifier.1.weight']],
    ['regnet_x_400mf', ['fc.weight', 'fc.bias']],
    ['vgg16', ['features.28.weight', 'classifier.6.bias']],
  ] as const)('%s keeps torch parameter names for unfolded layers', (net, expected) => {
    const names = new Set(zooModelInfo(net).nodes.flatMap((n) => n.inputs));
    for (const name of expected) expect(names).toContain(name);
  });

  it('weights are deterministic per seed', () => {
    const a = buildZooModel('squeezenet1_1', { inputShape: SMALL });
    const b = buildZooModel('squeezenet1_1', { inputShape: SMALL });
    const c = buildZooModel('squeezenet1_1', { inputShape: SMALL, seed: 2 });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(a.length).toBe(c.length);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
    // The seed default is explicit and stable.
    expect(Buffer.from(buildZooModel('squeezenet1_1', { inputShape: SMALL, seed: 1 })).equals(Buffer.from(a))).toBe(true);
  });

  it('weights do not depend on the input shape (only on seed and tensor name)', () => {
    const w = (shape: ZooInputShape) =>
      fromBinary(ModelProtoSchema, buildZooModel('resnet18', { inputShape: shape })).graph!.initializer.map((t) =>
        Buffer.from(t.rawData).toString('base64'),
      );
    expect(w([1, 3, 64, 64])).toEqual(w([2, 3, 96, 128]));
  });
});
