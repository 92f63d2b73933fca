import { toBinary } from '@bufbuild/protobuf';
import * as ort from 'onnxruntime-node';
import { ModelProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { buildZooModel, buildZooModelProto, type ZooInputShape, type ZooName } from '@dnnpart/zoo';

/** A seeded standard-ish input (uniform with unit variance; mulberry32). */
function seededInput(shape: ZooInputShape, seed: number): ort.Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let s = seed | 0;
  for (let i = 0; i < data.length; i++) {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    data[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5) * 2 * Math.sqrt(3);
  }
  return new ort.Tensor('float32', data, [...shape]);
}

function stats(data: Float32Array): { finite: boolean; std: number } {
  let sum = 0;
  let sq = 0;
  let finite = true;
  for (const v of data) {
    if (!Number.isFinite(v)) finite = false;
    sum += v;
    sq += v * v;
  }
  const mean = sum / data.length;
  return { finite, std: Math.sqrt(Math.max(0, sq / data.length - mean * mean)) };
}

// Small inputs where the architecture allows it keep the suite fast; vgg16 and alexnet need
// about 224 for their fixed-size adaptive pools (see errors.test.ts).
const EVERY_LAYER: readonly (readonly [ZooName, ZooInputShape])[] = [
  ['resnet18', [1, 3, 64, 64]],
  ['resnet50', [1, 3, 64, 64]],
  ['mobilenet_v2', [1, 3, 64, 64]],
  ['efficientnet_b0', [1, 3, 64, 64]],
  ['squeezenet1_1', [1, 3, 64, 64]],
  ['googlenet', [2, 3, 64, 64]],
  ['regnet_x_400mf', [1, 3, 64, 64]],
  ['alexnet', [1, 3, 224, 224]],
  // Odd sizes exercise ceil-mode pooling and odd strided convs.
  ['googlenet', [1, 3, 97, 83]],
  ['squeezenet1_1', [1, 3, 67, 67]],
  ['mobilenet_v2', [1, 3, 75, 75]],
];

describe('onnxruntime-node runs the networks', () => {
  it.each(EVERY_LAYER)('%s at %j: every tensor has its value_info shape, is finite with std in [1e-3, 1e3]; output depends on input', async (net, shape) => {
    // Expose every intermediate tensor as an output, to check activations layer by layer
    // (Constant outputs, the Clip bounds of ReLU6, are not activations).
    const proto = buildZooModelProto(net, { inputShape: shape });
    const graph = proto.graph!;
    const constants = new Set(graph.node.filter((n) => n.opType === 'Constant').flatMap((n) => n.output));
    graph.output.push(...graph.valueInfo.filter((v) => !constants.has(v.name)));
    const session = await ort.InferenceSession.create(toBinary(ModelProtoSchema, proto));
    try {
      const a = await session.run({ input: seededInput(shape, 1) });
      const declared = new Map(
        graph.output.map((v) => [
          v.name,
          v.type!.value.case === 'tensorType' ? v.type!.value.value.shape!.dim.map((d) => Number(d.value.value)) : [],
        ]),
      );
      const bad: string[] = [];
      for (const name of session.outputNames) {
        if (JSON.stringify(a[name]!.dims) !== JSON.stringify(declared.get(name))) {
          bad.push(`${name}: ran as [${a[name]!.dims.join(', ')}], declared [${declared.get(name)!.join(', ')}]`);
        }
        const { finite, std } = stats(a[name]!.data as Float32Array);
        if (!finite || !(std >= 1e-3 && std <= 1e3)) bad.push(`${name}: finite=${finite} std=${std}`);
      }
      expect(bad).toEqual([]);
      expect(a.output!.dims).toEqual([shape[0], 1000]);
      const b = await session.run({ input: seededInput(shape, 2) }, ['output']);
      const oa = a.output!.data as Float32Array;
      const ob = b.output!.data as Float32Array;
      let diff = 0;
      for (let i = 0; i < oa.length; i++) diff = Math.max(diff, Math.abs(oa[i]! - ob[i]!));
      expect(diff).toBeGreaterThan(1e-3 * stats(oa).std);
    } finally {
      await session.release();
    }
  });

  it('vgg16 at 1x3x224x224 (553 MB of weights): output finite, std in [1e-3, 1e3], depends on input', async () => {
    const shape: ZooInputShape = [1, 3, 224, 224];
    const session = await ort.InferenceSession.create(buildZooModel('vgg16', { inputShape: shape }));
    try {
      const a = (await session.run({ input: seededInput(shape, 1) })).output!;
      const b = (await session.run({ input: seededInput(shape, 2) })).output!;
      expect(a.dims).toEqual([1, 1000]);
      const sa = stats(a.data as Float32Array);
      expect(sa.finite).toBe(true);
      expect(sa.std).toBeGreaterThan(1e-3);
      expect(sa.std).toBeLessThan(1e3);
      const da = a.data as Float32Array;
      const db = b.data as Float32Array;
      let diff = 0;
      for (let i = 0; i < da.length; i++) diff = Math.max(diff, Math.abs(da[i]! - db[i]!));
      expect(diff).toBeGreaterThan(1e-3 * sa.std);
    } finally {
      await session.release();
    }
  });

  // Other input sizes: the output shape follows the batch; alexnet at 415 has a 12x12 last
  // feature map, so its AdaptiveAvgPool2d(6) is a 2x2 AveragePool.
  it.each([
    ['resnet18', [1, 3, 160, 160]],
    ['efficientnet_b0', [2, 3, 96, 128]],
    ['alexnet', [1, 3, 415, 415]],
  ] as const)('%s at %j runs and gives [batch, 1000]', async (net, shape) => {
    const session = await ort.InferenceSession.create(buildZooModel(net, { inputShape: shape }));
    try {
      const out = (await session.run({ input: seededInput(shape, 3) })).output!;
      expect(out.dims).toEqual([shape[0], 1000]);
      const s = stats(out.data as Float32Array);
      expect(s.finite).toBe(true);
      expect(s.std).toBeGreaterThan(1e-3);
      expect(s.std).toBeLessThan(1e3);
    } finally {
      await session.release();
    }
  });
});
