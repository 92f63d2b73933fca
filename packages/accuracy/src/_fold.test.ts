import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { encodeModel, loadModel, maxAbsDiff, randomFeeds, runModel } from '@dnnpart/onnx-graph';
import { foldBatchNorms } from './_fold.js';
import { quantizeInt8 } from './quantize.js';
import { calibrate } from './calibrate.js';
import { generatedInputs } from './inputs.js';
import { cosine } from './metrics.js';
import { bnModel, encode } from '../test/_models.js';

describe('BatchNormalization folding', () => {
  it('folds Conv -> BN when the Conv output feeds only the BN, and computes the same', async () => {
    const proto = bnModel();
    const g = proto.graph!;
    const { nodes, initializers, folded } = foldBatchNorms(g);
    // bn2's Conv output is also read by Add: not foldable.
    expect(folded).toEqual(['bn1']);
    expect(nodes.map((n) => n.name)).toEqual(['conv1', 'relu1', 'conv2', 'bn2', 'add']);
    expect(nodes[0]!.output).toEqual(['n1']);
    const out = create(ModelProtoSchema, { ...proto, graph: { ...g, node: nodes, initializer: initializers } });
    const feeds = randomFeeds((await loadModel(encode(proto))).graph, 3);
    const a = await runModel(encodeModel(proto), feeds, ['y']);
    const b = await runModel(encodeModel(out), feeds, ['y']);
    // Float32 rounding of (w * k) and ((b - m) * k + h) only.
    expect(maxAbsDiff(a, b, ['y'])).toBeLessThan(1e-5);
  });

  it('int8 quantization folds first: no BN left from bn1, reported, and still close to float32', async () => {
    const model = await loadModel(encode(bnModel()));
    const ranges = await calibrate(model, generatedInputs(model.graph, 8, 40));
    const q = quantizeInt8(model.proto, model.graph, ranges);
    expect(q.report.foldedBatchNorms).toEqual(['bn1']);
    expect(q.report.unquantized).toEqual([{ node: 'bn2', op: 'BatchNormalization' }]);
    expect(q.proto.graph!.node.filter((n) => n.opType === 'BatchNormalization').map((n) => n.name)).toEqual(['bn2']);
    const f = generatedInputs(model.graph, 1, 9)[0]!;
    const a = (await runModel(encodeModel(model.proto), f, ['y'])).y!.data as Float32Array;
    const b = (await runModel(encodeModel(q.proto), f, ['y'])).y!.data as Float32Array;
    expect(cosine(a, b)).toBeGreaterThan(0.999);
    const unfolded = quantizeInt8(model.proto, model.graph, ranges, { foldBatchNorm: false });
    expect(unfolded.report.foldedBatchNorms).toEqual([]);
  });
});
