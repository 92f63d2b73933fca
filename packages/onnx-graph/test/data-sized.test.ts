// Which tensors' sizes the data decides (data-sized.ts), on small graphs: the ops that size their
// outputs by values, a shape computed from an input, everything downstream; and not a shape that
// folds at load (the common case: none in the 15 real exported models, bench/results/real-models.md).
import { create } from '@bufbuild/protobuf';
import { AttributeProto_AttributeType as AT, AttributeProtoSchema, GraphProtoSchema, NodeProtoSchema, TensorProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { dataSizedTensors, encodeModel, loadModel, maxAbsDiff, randomFeeds, runModel, runStages, splitModel, valueTimedNodes } from '@dnnpart/onnx-graph';
import { floatTensor, int64Tensor, ModelBuilder, vi } from './_models.js';

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

describe('shapes the data decides stay computed at load', () => {
  // A detector's post-processing as torchvision exports it: the boxes over a threshold (NonZero), their
  // scores gathered, and TopK of min(count, 10) with the count read by Shape. On the sample input (30
  // of its 64 scores positive) the count is 30; folding Shape to that froze k at 10, and the loaded model
  // (and every stage written from it) failed on a frame with 3 boxes, where the file returns 3 scores.
  const build = () => {
    const b = new ModelBuilder().input('x', [1, 64]);
    b.weight('zero', [1], 0);
    b.ints('row', [1], []);
    b.ints('col', [1]);
    b.ints('cap', [10]);
    return b.node('Greater', ['x', 'zero'], ['mask'], {}, 'threshold').node('NonZero', ['mask'], ['nz'], {}, 'select')
      .node('Gather', ['nz', 'row'], ['cols'], { axis: 0 }, 'columns').node('Gather', ['x', 'cols'], ['sel'], { axis: 1 }, 'scores')
      .node('Shape', ['sel'], ['s'], {}, 'count_shape').node('Gather', ['s', 'col'], ['count'], { axis: 0 }, 'count')
      .node('Min', ['count', 'cap'], ['k'], {}, 'k').node('TopK', ['sel', 'k'], ['top', 'at'], { axis: 1 }, 'topk')
      .node('Relu', ['top'], ['y'], {}, 'relu').output('y');
  };

  it("a TopK whose k is read from the selected boxes' count: k stays computed, and the model and its stages agree with the file on other counts", async () => {
    const bytes = build().bytes(13);
    const m = await loadModel(bytes);
    // Measured on the sample input: 30 of 64 positive, k = 10.
    expect(m.graph.tensors.get('sel')!.shape).toEqual([1, 30]);
    expect(m.graph.tensors.get('top')!.shape).toEqual([1, 10]);
    // The count chain is still there; k is not an initializer.
    expect(m.graph.nodes.map((n) => n.op)).toEqual(['Greater', 'NonZero', 'Gather', 'Gather', 'Shape', 'Gather', 'Min', 'TopK', 'Relu']);
    expect(m.graph.tensors.get('k')!.isInitializer).toBe(false);
    expect([...dataSizedTensors(m.graph).keys()]).toEqual(expect.arrayContaining(['sel', 'k', 'top', 'y']));
    const split = splitModel(m, { after: ['scores', 'k'] });
    for (const positives of [30, 3, 0]) {
      const x = Float32Array.from({ length: 64 }, (_, i) => (i < positives ? 1 + i : -1 - i));
      const feeds = { x: new ort.Tensor('float32', x, [1, 64]) };
      const want = await runModel(bytes, feeds, ['y']);
      expect(want['y']!.dims).toEqual([1, Math.min(positives, 10)]);
      const whole = await runModel(encodeModel(m.proto), feeds, ['y']);
      expect(maxAbsDiff(want, whole, ['y'])).toBe(0);
      expect(maxAbsDiff(want, await runStages(split, feeds), ['y'])).toBe(0);
    }
    // And on the sample input itself.
    const sample = randomFeeds(m.graph);
    expect(maxAbsDiff(await runModel(bytes, sample, ['y']), await runStages(split, sample), ['y'])).toBe(0);
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

  it('an If on whether any score is over the threshold, with the NonMaxSuppression in a branch (torchvision batched NMS)', async () => {
    const b = new ModelBuilder().input('boxes', [1, 64, 4]).input('scores', [1, 2, 64]);
    b.inits.push(floatTensor('iou', [1], Float32Array.of(0.5)), floatTensor('thr', [1], Float32Array.of(0.5)), int64Tensor('maxb', [1], [10]));
    b.node('ReduceMax', ['scores'], ['best'], { keepdims: 0 }, 'best').node('Greater', ['best', 'thr'], ['any'], {}, 'any');
    const branch = (name: string, node: ReturnType<typeof create<typeof NodeProtoSchema>>) => create(AttributeProtoSchema, {
      name, type: AT.GRAPH, g: create(GraphProtoSchema, { name, node: [node], output: [vi(node.output[0]!, [null, 3], 7)] }),
    });
    b.nodes.push(create(NodeProtoSchema, {
      opType: 'If', name: 'batched_nms', input: ['any'], output: ['keep'],
      attribute: [
        branch('then_branch', create(NodeProtoSchema, { opType: 'NonMaxSuppression', name: 'nms', input: ['boxes', 'scores', 'maxb', 'iou', 'thr'], output: ['kept'] })),
        branch('else_branch', create(NodeProtoSchema, { opType: 'Constant', name: 'none', output: ['nothing'], attribute: [create(AttributeProtoSchema, { name: 'value', type: AT.TENSOR, t: int64Tensor('', [0, 3], []) })] })),
      ],
    }));
    const m = await loadModel(b.output('keep').bytes(17));
    expect(m.graph.nodes.map((n) => n.op)).toEqual(['ReduceMax', 'Greater', 'If']);
    expect(valueTimedNodes(m.graph)).toEqual([{ node: 'batched_nms', op: 'If', why: 'the boxes over the score threshold of the NonMaxSuppression in a branch' }]);
  });
});
