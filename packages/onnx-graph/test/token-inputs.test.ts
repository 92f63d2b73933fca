// Token ids in the sample input (token-inputs.ts): an integer input read only as the rows of embedding
// tables (and by the padding mask's comparisons, Shape or Size) is drawn over its table's rows but the
// first. With zeros, the input every run stands on (the profile's, verify's, the agents' frames and
// their check against the whole model) was all padding for a text model: its masked attention gave
// NaN, and `dnnpart run` compared NaN with NaN (max abs diff Infinity).
import { create } from '@bufbuild/protobuf';
import { AttributeProto_AttributeType as AT, AttributeProtoSchema, GraphProtoSchema, NodeProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeModel, loadModel, maxAbsDiff, randomFeeds, runModel, runnableModel, runStages, sampleInputs, splitModel, verifySplit, zeroInputsAdvice } from '@dnnpart/onnx-graph';
import { floatTensor, ModelBuilder, vi } from './_models.js';

/**
 * ids[1,8] int64 -> Gather(table[50,4]) -> emb; pad = ids == 0; weights = Softmax over the tokens of
 * ReduceSum(emb), padding set to -inf; y = (weights x emb) / Size(ids): attention pooling as a
 * sentence encoder's. All padding: every weight -inf, Softmax NaN.
 */
function pooled(extra: (b: ModelBuilder) => void = () => {}): ModelBuilder {
  const b = new ModelBuilder(3).input('ids', [1, 8], 7);
  b.weight('table', [50, 4], 1);
  b.ints('zero', [0], []);
  b.ints('axis2', [2]);
  b.ints('axis1', [1]);
  b.inits.push(floatTensor('ninf', [], Float32Array.of(-Infinity)));
  b.node('Gather', ['table', 'ids'], ['emb'], {}, 'embed')
    .node('Equal', ['ids', 'zero'], ['pad'], {}, 'pad')
    .node('ReduceSum', ['emb', 'axis2'], ['score'], { keepdims: 0 }, 'score')
    .node('Where', ['pad', 'ninf', 'score'], ['masked'], {}, 'mask')
    .node('Softmax', ['masked'], ['w'], { axis: 1 }, 'weights')
    .node('Unsqueeze', ['w', 'axis1'], ['w3'], {}, 'w3')
    .node('MatMul', ['w3', 'emb'], ['pooled'], {}, 'pool')
    .node('Flatten', ['pooled'], ['flat'], { axis: 1 }, 'flatten')
    .node('Size', ['ids'], ['n'], {}, 'length')
    .node('Cast', ['n'], ['nf'], { to: 1 }, 'length_f')
    .node('Div', ['flat', 'nf'], ['y'], {}, 'mean');
  extra(b);
  return b.output('y');
}

const ids = (feeds: Record<string, { data: unknown }>) => Array.from(feeds['ids']!.data as BigInt64Array, Number);

describe('token inputs in the sample input', () => {
  it('an input read only by an embedding Gather, the padding mask and Size is drawn in [1, rows): the model and its stages give finite outputs and agree', async () => {
    const m = await loadModel(pooled().bytes(13));
    expect(m.graph.tokenInputs).toEqual({ ids: 50 });
    const feeds = randomFeeds(m.graph);
    expect(ids(feeds).every((v) => v >= 1 && v < 50)).toBe(true);
    expect(new Set(ids(feeds)).size).toBeGreaterThan(1);
    // Seeded: the same input again, another with another seed.
    expect(ids(randomFeeds(m.graph))).toEqual(ids(feeds));
    expect(ids(randomFeeds(m.graph, 2))).not.toEqual(ids(feeds));
    const { y } = await runModel(encodeModel(runnableModel(m)), feeds, ['y']);
    expect(Array.from(y!.data as Float32Array).every(Number.isFinite)).toBe(true);
    // With zeros it was NaN, and the check of a split said Infinity.
    const check = await verifySplit(m, splitModel(m, { after: ['score'] }));
    expect(check.maxAbsDiff).toBeLessThan(1e-5);
    // Drawn, not zero-fed: no advice to give it a value.
    expect(zeroInputsAdvice(sampleInputs(m.graph))).toBe('');
  });

  it('not a token input: ids also used in arithmetic, a table that is no initializer, a read inside a subgraph, a value the user fixed', async () => {
    const arithmetic = pooled((b) => {
      b.ints('one', [1], []);
      b.node('Add', ['ids', 'one'], ['next'], {}, 'shift').node('Gather', ['table', 'next'], ['emb2'], {}, 'embed2').output('emb2');
    });
    const tableInput = pooled((b) => {
      b.input('table2', [50, 4]).node('Gather', ['table2', 'ids'], ['emb2'], {}, 'embed2').output('emb2');
    });
    const inBranch = pooled((b) => {
      b.input('x', [1]);
      b.inits.push(floatTensor('half', [], Float32Array.of(0.5)));
      const branch = (name: string) => create(AttributeProtoSchema, {
        name, type: AT.GRAPH,
        g: create(GraphProtoSchema, {
          name, node: [create(NodeProtoSchema, { opType: 'Identity', input: ['ids'], output: [`${name}_out`], name: `${name}_id` })],
          output: [vi(`${name}_out`, [1, 8], 7)],
        }),
      });
      b.node('Greater', ['x', 'half'], ['c'], {}, 'cond');
      b.nodes.push(create(NodeProtoSchema, { opType: 'If', name: 'pick', input: ['c'], output: ['picked'], attribute: [branch('then_branch'), branch('else_branch')] }));
      b.output('picked');
    });
    for (const [what, bytes] of [['arithmetic', arithmetic.bytes(13)], ['table input', tableInput.bytes(13)], ['subgraph', inBranch.bytes(13)]] as const) {
      const m = await loadModel(bytes);
      expect(m.graph.tokenInputs, what).toBeUndefined();
      expect(ids(randomFeeds(m.graph)).every((v) => v === 0), what).toBe(true);
    }
    const fixed = await loadModel(pooled().bytes(13), { inputShapes: { ids: { shape: [1, 8], value: [3, 1, 4, 1, 5, 9, 2, 6] } } });
    expect(fixed.graph.tokenInputs).toBeUndefined();
    expect(ids(randomFeeds(fixed.graph))).toEqual([3, 1, 4, 1, 5, 9, 2, 6]);
  });

  it('outputs that are NaN or Inf in the same places in the model and its stages do not differ; where only one is, they differ without bound', async () => {
    const m = await loadModel(pooled().bytes(13));
    // All padding: the model's output is NaN, and so are its stages'.
    const zeros = { ids: new ort.Tensor('int64', new BigInt64Array(8), [1, 8]) };
    const whole = await runModel(encodeModel(runnableModel(m)), zeros, ['y']);
    expect(Array.from(whole['y']!.data as Float32Array).every(Number.isNaN)).toBe(true);
    expect(maxAbsDiff(whole, await runStages(splitModel(m, { after: ['score'] }), zeros), ['y'])).toBe(0);
    const t = (...v: number[]) => ({ y: new ort.Tensor('float32', Float32Array.from(v), [v.length]) });
    expect(maxAbsDiff(t(NaN, Infinity, 1), t(NaN, Infinity, 1.5), ['y'])).toBe(0.5);
    expect(maxAbsDiff(t(NaN, 1), t(1, 1), ['y'])).toBe(Infinity);
    expect(maxAbsDiff(t(1, 1), t(1, NaN), ['y'])).toBe(Infinity);
    expect(maxAbsDiff(t(Infinity), t(-Infinity), ['y'])).toBe(Infinity);
    expect(maxAbsDiff(t(1, 2), t(1), ['y'])).toBe(Infinity);
  });
});
