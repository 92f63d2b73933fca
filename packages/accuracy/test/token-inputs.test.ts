// Text models: integer inputs that index embedding tables. Zeros (a valid index) are what a text model
// with a padding mask reads as all padding: its masked attention then gives NaN, and every cosine
// against it said 0. Scored samples draw ids over the table (the sample input's kind, onnx-graph's
// token-inputs.ts), and a reference that is itself Inf or NaN is left out of the scores, said in one warning.
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadModel } from '@dnnpart/onnx-graph';
import { evaluatePlan, generatedInputs, tokenInputs } from '@dnnpart/accuracy';
import { lcg } from './_models.js';

/**
 * ids[1,8] int64 -> Gather(table[50,4]) -> emb; pad = ids == 0; weights = Softmax over the tokens of
 * ReduceSum(emb) with padding set to -inf; y[1,4] = weights x emb (attention pooling, as a sentence
 * encoder's). All padding: every weight -inf, Softmax NaN.
 */
function pooledEncoder(): Uint8Array {
  const r = lcg(3);
  const table = Float32Array.from({ length: 200 }, () => r());
  const vi = (name: string, dims: number[], elemType: number) => ({
    name, type: { value: { case: 'tensorType' as const, value: { elemType, shape: { dim: dims.map((d) => ({ value: { case: 'dimValue' as const, value: BigInt(d) } })) } } } },
  });
  const node = (opType: string, input: string[], output: string[], name: string, attribute: object[] = []) => ({ opType, input, output, name, attribute });
  const proto = create(ModelProtoSchema, {
    irVersion: 8n, opsetImport: [{ domain: '', version: 17n }],
    graph: {
      name: 'pooled',
      input: [vi('ids', [1, 8], 7)],
      output: [vi('y', [1, 4], 1)],
      initializer: [
        { name: 'table', dataType: 1, dims: [50n, 4n], rawData: new Uint8Array(table.buffer) },
        { name: 'zero', dataType: 7, dims: [], int64Data: [0n] },
        { name: 'ninf', dataType: 1, dims: [], rawData: new Uint8Array(Float32Array.of(-Infinity).buffer) },
        { name: 'axis2', dataType: 7, dims: [1], int64Data: [2n] },
        { name: 'axis1', dataType: 7, dims: [1], int64Data: [1n] },
      ],
      node: [
        node('Gather', ['table', 'ids'], ['emb'], 'embed'),
        node('Equal', ['ids', 'zero'], ['pad'], 'pad'),
        node('ReduceSum', ['emb', 'axis2'], ['score'], 'score', [{ name: 'keepdims', type: 2, i: 0n }]),
        node('Where', ['pad', 'ninf', 'score'], ['masked'], 'mask'),
        node('Softmax', ['masked'], ['w'], 'weights', [{ name: 'axis', type: 2, i: 1n }]),
        node('Unsqueeze', ['w', 'axis1'], ['w3'], 'w3'),
        node('MatMul', ['w3', 'emb'], ['pooled'], 'pool'),
        node('Flatten', ['pooled'], ['y'], 'flatten', [{ name: 'axis', type: 2, i: 1n }]),
      ],
    },
  });
  return toBinary(ModelProtoSchema, proto);
}

describe('token ids', () => {
  it('an input read only by an embedding Gather and a padding mask is a token input, with its table\'s rows; drawn over them, never the padding id', async () => {
    const model = await loadModel(pooledEncoder());
    expect([...tokenInputs(model.graph)]).toEqual([['ids', 50]]);
    const samples = generatedInputs(model.graph, 4);
    for (const s of samples) {
      const ids = Array.from(s['ids']!.data as BigInt64Array, Number);
      expect(ids.every((v) => v >= 1 && v < 50)).toBe(true);
    }
    // Seeded: the same samples again, and another sample each.
    expect(Array.from(generatedInputs(model.graph, 4)[2]!['ids']!.data as BigInt64Array)).toEqual(Array.from(samples[2]!['ids']!.data as BigInt64Array));
    expect(Array.from(samples[0]!['ids']!.data as BigInt64Array)).not.toEqual(Array.from(samples[1]!['ids']!.data as BigInt64Array));
  });

  it('generated samples score the plan; all-padding inputs give a NaN reference, left out and said', async () => {
    const model = await loadModel(pooledEncoder());
    const split = { after: ['score'] };
    const scored = await evaluatePlan(model, { split, precision: 'fp16', samples: 4 });
    expect(scored.samples).toBe(4);
    expect(scored.cosine).toBeGreaterThan(0.99);
    expect(scored.warnings.filter((w) => /Inf or NaN/.test(w))).toEqual([]);

    const zeros = [{ ids: new ort.Tensor('int64', new BigInt64Array(8), [1, 8]) }];
    const padded = await evaluatePlan(model, { split, precision: 'fp16', inputs: zeros });
    expect(padded.samples).toBe(0);
    expect(padded.warnings).toContainEqual(expect.stringMatching(/^the full-precision model itself gives Inf or NaN in y on 1 of 1 sample\(s\) \(first: sample 0\); they are left out of the plan's cosine, SQNR and agreement$/));
    expect(padded.warnings.filter((w) => /no sample could be compared/.test(w))).toEqual([]);
    // Nor is a stage scored against the NaN it was handed.
    expect(padded.stages[1]!.fidelity!.samples).toBe(0);
  });
});
