// Which tensors' sizes the data decides (data-sized.ts), on small graphs: the ops that size their
// outputs by values, a shape computed from an input, everything downstream; and not a shape that
// folds at load (the common case: none in the 15 real exported models, bench/results/real-models.md).
import { create } from '@bufbuild/protobuf';
import { AttributeProto_AttributeType as AT, AttributeProtoSchema, GraphProtoSchema, NodeProtoSchema, TensorProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { dataSizedTensors, loadModel, splitModel, valueTimedNodes } from '@dnnpart/onnx-graph';
import { floatTensor, ModelBuilder, vi } from './_models.js';

describe('dataSizedTensors', () => {
  it('NonZero and Unique outputs and what is computed from them; not the branch beside them', async () => {
    const b = new ModelBuilder()
      .input('x', [1, 3, 8, 8])
      .conv('conv', 'x', 3, 4, 3)
      .node('ArgMax', ['conv'], ['lab'], { axis: 1, keepdims: 0 }, 'argmax')
      .node('Unique', ['lab'], ['uniq', '', '', 'counts'], { sorted: 1 }, 'unique')
      .node('Cast', ['counts'], ['cf'], { to: 1 }, 'cast')
      .node('ReduceMax', ['cf'], ['top'], { keepdims: 1 }, 'top')
      .node('Greater', ['conv', 'zero'], ['mask'], {}, 'gt')
      .node('NonZero', ['mask'], ['nz'], {}, 'nonzero')
      .node('Relu', ['conv'], ['r'], {}, 'relu')
      .node('GlobalAveragePool', ['r'], ['g'], {}, 'gap')
      .output('top').output('uniq').output('nz').output('g');
    b.weight('zero', [1], 0);
    const m = await loadModel(b.bytes(17));
    const sized = dataSizedTensors(m.graph);
    expect([...sized.keys()].sort()).toEqual(['cf', 'counts', 'nz', 'top', 'uniq']);
    // NonZero's [rank, N]: only N; Unique's [N]; what follows: every dim.
    expect(sized.get('nz')).toEqual([false, true]);
    expect(sized.get('counts')).toEqual([true]);
    expect(sized.get('top')).toEqual([true]);
  });

  it('a Reshape whose shape is a graph input is data-sized with what follows; one whose shape folds at load is not', async () => {
    const fed = new ModelBuilder()
      .input('x', [2, 8]).input('shape', [2], 7)
      .node('Reshape', ['x', 'shape'], ['y'], {}, 'reshape')
      .node('Relu', ['y'], ['out'], {}, 'relu')
      .output('out');
    const m1 = await loadModel(fed.bytes(13), { inputShapes: { shape: { shape: [2], values: [4, 4] } } });
    expect([...dataSizedTensors(m1.graph).keys()].sort()).toEqual(['out', 'y']);

    // torch's Reshape(x, Concat(Shape(x)[0], -1)): shape arithmetic the load folds for the fixed shapes.
    const folded = new ModelBuilder().input('x', [2, 4, 2]);
    folded.ints('i0', [0]);
    folded.ints('m1', [-1]);
    folded.node('Shape', ['x'], ['s'], {}, 'shape').node('Gather', ['s', 'i0'], ['n'], { axis: 0 }, 'batch')
      .node('Concat', ['n', 'm1'], ['target'], { axis: 0 }, 'target')
      .node('Reshape', ['x', 'target'], ['flat'], {}, 'flatten').node('Relu', ['flat'], ['out'], {}, 'relu').output('out');
    const m2 = await loadModel(folded.bytes(13));
    expect(m2.graph.nodes.map((n) => n.op)).toEqual(['Reshape', 'Relu']);
    expect(dataSizedTensors(m2.graph).size).toBe(0);
  });

  it("an If on a condition the data decides, whose branches give different shapes: its outputs are data-sized, and the next stage takes either branch's", async () => {
    // An early exit: when x is confident (its max over 0.5) the pooled [1,4], else the flattened [1,32].
    const b = new ModelBuilder().input('x', [1, 4, 8]);
    b.inits.push(floatTensor('gate', [], Float32Array.of(0.5)));
    const branch = (name: string, op: string, attrs: Record<string, number | number[]>, dims: number[]) => create(AttributeProtoSchema, {
      name, type: AT.GRAPH,
      g: create(GraphProtoSchema, {
        name,
        node: [create(NodeProtoSchema, { opType: op, input: ['x'], output: [`${name}_out`], name: `${name}_node`, attribute: Object.entries(attrs).map(([k, v]) => create(AttributeProtoSchema, Array.isArray(v) ? { name: k, type: AT.INTS, ints: v.map(BigInt) } : { name: k, type: AT.INT, i: BigInt(v) })) })],
        output: [vi(`${name}_out`, dims)],
      }),
    });
    b.node('ReduceMax', ['x'], ['mx'], { keepdims: 0 }, 'confidence').node('Greater', ['mx', 'gate'], ['sure'], {}, 'sure');
    b.nodes.push(create(NodeProtoSchema, {
      opType: 'If', name: 'exit', input: ['sure'], output: ['y0'],
      attribute: [branch('then_branch', 'ReduceMean', { axes: [2], keepdims: 0 }, [1, 4]), branch('else_branch', 'Flatten', { axis: 1 }, [1, 32])],
    }));
    b.node('Relu', ['y0'], ['y'], {}, 'relu').output('y');
    const m = await loadModel(b.bytes(13));
    // Shapes were measured on the sample input (uniform in [-1, 1): its max is over 0.5): the then branch's. Data may take the other.
    expect(m.graph.tensors.get('y0')!.shape).toEqual([1, 4]);
    const sized = dataSizedTensors(m.graph);
    expect([...sized.keys()].sort()).toEqual(['y', 'y0']);
    expect(sized.get('y0')).toEqual([true, true]);

    const split = splitModel(m, { after: ['exit'] });
    expect(split.manifest.stages[1]).toMatchObject({ inputs: ['y0'], outputs: ['y'] });
    const s0 = await ort.InferenceSession.create(split.stages[0]!.bytes);
    const s1 = await ort.InferenceSession.create(split.stages[1]!.bytes);
    try {
      const x = new Float32Array(32).map((_, i) => (0.4 * i) / 31); // max 0.4, not over 0.5: the else branch, [1,32]
      const { y0 } = await s0.run({ x: new ort.Tensor('float32', x, [1, 4, 8]) });
      expect(y0!.dims).toEqual([1, 32]);
      const { y } = await s1.run({ y0: y0! });
      expect(y!.dims).toEqual([1, 32]);
      Array.from(y!.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(x[i]!, 6));
    } finally {
      await s0.release();
      await s1.release();
    }
  });
});

describe('valueTimedNodes', () => {
  it('a NonMaxSuppression (its time follows the boxes over its threshold); not the ops that only size their outputs by the data', async () => {
    const b = new ModelBuilder()
      .input('boxes', [1, 64, 4]).input('scores', [1, 2, 64])
      .node('NonMaxSuppression', ['boxes', 'scores', 'maxb', 'iou', 'thr'], ['sel'], {}, 'nms')
      .node('Greater', ['scores', 'thr'], ['mask'], {}, 'gt')
      .node('NonZero', ['mask'], ['nz'], {}, 'nonzero')
      .node('TopK', ['scores', 'k'], ['top', 'topi'], { axis: 2 }, 'topk')
      .output('sel').output('nz').output('top');
    b.inits.push(floatTensor('iou', [1], Float32Array.of(0.5)), floatTensor('thr', [1], Float32Array.of(0.5)));
    b.inits.push(create(TensorProtoSchema, { name: 'maxb', dims: [1], dataType: 7, int64Data: [10n] }));
    b.inits.push(create(TensorProtoSchema, { name: 'k', dims: [1], dataType: 7, int64Data: [5n] }));
    const m = await loadModel(b.bytes(17));
    expect(valueTimedNodes(m.graph)).toEqual([{ node: 'nms', op: 'NonMaxSuppression', why: 'the boxes over its score threshold' }]);
  });
});
