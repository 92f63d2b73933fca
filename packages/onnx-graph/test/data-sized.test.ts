// Which tensors' sizes the data decides (data-sized.ts), on small graphs: the ops that size their
// outputs by values, a shape computed from an input, everything downstream; and not a shape that
// folds at load (the common case: none in the 15 real exported models, bench/results/real-models.md).
import { describe, expect, it } from 'vitest';
import { dataSizedTensors, loadModel } from '@dnnpart/onnx-graph';
import { ModelBuilder } from './_models.js';

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
});
