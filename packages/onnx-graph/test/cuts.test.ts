import { describe, expect, it } from 'vitest';
import { toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { cutPoints, graphCosts, inspectModel, liveBytes, loadModel, nodeCost, scratchBytes } from '@dnnpart/onnx-graph';
import { ModelBuilder, chain, inception, residual, squeezeExcite } from './_models.js';

// Hand-computed crossing sets: [after, tensors (sorted), bytes]. Float32, so bytes = 4 * elements.
const A = 4 * 4 * 8 * 8; // a [1,4,8,8] tensor
const CASES: [string, ModelBuilder, [string, string[], number][]][] = [
  ['chain', chain(), [
    ['conv', ['conv'], A], ['relu', ['relu'], A], ['pool', ['pool'], 4 * 64], ['flat', ['flat'], 4 * 64], ['fc', [], 0],
  ]],
  ['residual', residual(), [
    ['c1', ['c1'], A], ['r1', ['r1'], A], ['c2', ['c2', 'r1'], 2 * A], ['r2', ['r1', 'r2'], 2 * A],
    ['c3', ['c3', 'r1'], 2 * A], ['add', ['add'], A], ['out', [], 0],
  ]],
  ['squeeze-excite', squeezeExcite(), [
    ['c', ['c'], 512], ['r', ['r'], 512], ['gap', ['gap', 'r'], 512 + 32], ['fc1', ['fc1', 'r'], 512 + 8],
    ['fr', ['fr', 'r'], 512 + 8], ['fc2', ['fc2', 'r'], 512 + 32], ['sig', ['r', 'sig'], 512 + 32], ['mul', [], 0],
  ]],
  ['inception', inception(), [
    ['b1', ['b1', 'x'], 512 + A], ['b2a', ['b1', 'b2a', 'x'], 512 + 512 + A], ['b2b', ['b1', 'b2b', 'x'], 512 + 768 + A],
    ['pool', ['b1', 'b2b', 'pool'], 512 + 768 + A], ['b3', ['b1', 'b2b', 'b3'], 512 + 768 + 512], ['cat', ['cat'], 4 * 7 * 64],
    ['out', [], 0],
  ]],
];

describe('cutPoints', () => {
  it.each(CASES)('%s: crossing tensors and bytes at every position', async (_, b, expected) => {
    const { graph } = await loadModel(b.bytes());
    const cuts = cutPoints(graph);
    expect(cuts.map((c) => [c.after, [...c.tensors].sort(), c.bytes])).toEqual(expected);
    expect(cuts.map((c) => c.single)).toEqual(expected.map(([, t]) => t.length === 1));
    expect(cuts.map((c) => c.index)).toEqual(expected.map((_, i) => i));
  });

  it('a graph output that a later node still reads crosses until that node', async () => {
    const b = new ModelBuilder().input('x', [1, 4]);
    b.node('Relu', ['x'], ['a'], {}, 'n0').node('Sigmoid', ['a'], ['b'], {}, 'n1').node('Add', ['a', 'b'], ['c'], {}, 'n2').output('a').output('c');
    const cuts = cutPoints((await loadModel(b.bytes())).graph);
    expect(cuts.map((c) => [...c.tensors].sort())).toEqual([['a'], ['a', 'b'], []]);
  });

  it('a graph input read late crosses every earlier position; initializers never cross', async () => {
    const b = new ModelBuilder().input('x', [1, 4]);
    const w = b.weight('w', [1, 4]);
    b.node('Mul', ['x', w], ['a'], {}, 'n0').node('Relu', ['a'], ['r'], {}, 'n1').node('Add', ['r', 'x'], ['y'], {}, 'n2').node('Mul', ['y', w], ['z'], {}, 'n3').output('z');
    const cuts = cutPoints((await loadModel(b.bytes())).graph);
    expect(cuts.map((c) => [...c.tensors].sort())).toEqual([['a', 'x'], ['r', 'x'], ['y'], []]);
  });
});

describe('liveBytes', () => {
  it('counts what is alive while each node runs: a late-read input, intermediates to their last reader, weights never', async () => {
    const b = new ModelBuilder().input('x', [1, 4]);
    const w = b.weight('w', [1, 4]);
    b.node('Mul', ['x', w], ['a'], {}, 'n0').node('Relu', ['a'], ['r'], {}, 'n1').node('Add', ['r', 'x'], ['y'], {}, 'n2').node('Mul', ['y', w], ['z'], {}, 'n3').output('z');
    const live = liveBytes((await loadModel(b.bytes())).graph);
    // 16 bytes a tensor: n0 holds x, a; n1 x, a, r; n2 x, r, y; n3 y, z.
    expect([...live]).toEqual([['n0', 32], ['n1', 48], ['n2', 48], ['n3', 32]]);
  });

  it('a graph output stays alive to the end of the run', async () => {
    const b = new ModelBuilder().input('x', [1, 4]);
    b.node('Relu', ['x'], ['a'], {}, 'n0').node('Sigmoid', ['a'], ['b'], {}, 'n1').node('Add', ['a', 'b'], ['c'], {}, 'n2').node('Neg', ['c'], ['d'], {}, 'n3').output('a').output('d');
    const live = liveBytes((await loadModel(b.bytes())).graph);
    expect([...live]).toEqual([['n0', 32], ['n1', 32], ['n2', 48], ['n3', 48]]);
  });

  it('the residual block: the skip tensor alive across the branch; the peak below the sum of all outputs', async () => {
    const { graph } = await loadModel(residual().bytes());
    const live = liveBytes(graph);
    const peak = Math.max(...live.values());
    const outputs = graph.nodes.reduce((a, n) => a + nodeCost(graph, n).outputBytes, 0);
    const skip = graph.tensors.get('r1')!.bytes;
    for (const n of ['c2', 'r2', 'c3']) expect(live.get(n)!).toBeGreaterThanOrEqual(skip + graph.tensors.get(n)!.bytes);
    expect(peak).toBeLessThan(outputs);
  });
});

describe('scratchBytes', () => {
  it("a ConvInteger's column buffer: input channels per group x kernel x output pixels, none for a pointwise one", async () => {
    const b = new ModelBuilder().input('x', [1, 8, 16, 16], 2);
    const w3 = b.uint8('w3', [4, 8, 3, 3]);
    const w1 = b.uint8('w1', [4, 8, 1, 1]);
    const wg = b.uint8('wg', [8, 4, 3, 3]);
    b.node('ConvInteger', ['x', w3], ['a'], { pads: [1, 1, 1, 1] }, 'k3')
      .node('ConvInteger', ['x', w1], ['b'], {}, 'k1')
      .node('ConvInteger', ['x', wg], ['c'], { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] }, 'grouped')
      .node('ConvInteger', ['x', w1], ['d'], { strides: [2, 2] }, 'k1s2')
      .node('Cast', ['x'], ['e'], { to: 1 }, 'other')
      .output('a').output('b').output('c').output('d').output('e');
    const scratch = scratchBytes((await loadModel(b.bytes())).graph);
    expect(Object.fromEntries(scratch)).toEqual({ k3: 8 * 9 * 16 * 16, k1: 0, grouped: 4 * 9 * 8 * 8, k1s2: 8 * 8 * 8, other: 0 });
  });
});

describe('costs', () => {
  it('chain: MACs, FLOPs and params per node', async () => {
    const { graph } = await loadModel(chain().bytes());
    const cost = (n: string) => nodeCost(graph, graph.nodes.find((x) => x.name === n)!);
    // conv: 4*8*8 outputs x 3*3*3 = 6912 MACs; params 108 + 4.
    expect(cost('conv')).toEqual({ params: 112, paramBytes: 448, outputBytes: 1024, macs: 6912, flops: 0, known: true });
    expect(cost('relu')).toMatchObject({ macs: 0, flops: 256, params: 0, known: true });
    expect(cost('pool')).toMatchObject({ flops: 64 * 4, outputBytes: 256 });
    expect(cost('flat')).toMatchObject({ flops: 0, macs: 0, known: true });
    expect(cost('fc')).toMatchObject({ macs: 640, params: 650, outputBytes: 40 });
    const all = graphCosts(graph);
    expect(all.macs).toBe(6912 + 640);
    expect(all.params).toBe(112 + 650);
    expect(all.paramBytes).toBe(4 * 762);
    expect(all.unknownOps).toEqual([]);
  });

  it.each([
    // [description, cin, cout, group, k, stride, H, expected MACs]
    ['dense 3x3', 8, 16, 1, 3, 1, 8, 16 * 8 * 8 * 8 * 9],
    ['grouped g=4', 8, 16, 4, 3, 1, 8, 16 * 8 * 8 * 2 * 9],
    ['depthwise', 8, 8, 8, 3, 2, 8, 8 * 4 * 4 * 1 * 9],
    ['pointwise', 8, 32, 1, 1, 1, 8, 32 * 8 * 8 * 8],
  ])('Conv %s', async (_, cin, cout, group, k, stride, h, macs) => {
    const b = new ModelBuilder().input('x', [1, cin, h, h]);
    b.conv('c', 'x', cin, cout, k, { group, strides: [stride, stride] }).output('c');
    const { graph } = await loadModel(b.bytes());
    expect(graphCosts(graph).macs).toBe(macs);
  });

  it('ConvTranspose, batched MatMul and transposed Gemm', async () => {
    const b = new ModelBuilder().input('x', [1, 4, 5, 5]);
    b.node('ConvTranspose', ['x', b.weight('wt', [4, 6, 3, 3])], ['up'], { strides: [2, 2] }, 'up')
      .node('Reshape', ['up', b.ints('s', [6, 11, 11])], ['r'], {}, 'r')
      .node('MatMul', ['r', b.weight('m', [6, 11, 7])], ['mm'], {}, 'mm')
      .node('Reshape', ['mm', b.ints('s2', [66, 7])], ['r2'], {}, 'r2')
      // transA: A is [66,7], so M=7, K=66.
      .node('Gemm', ['r2', b.weight('g', [66, 3])], ['y'], { transA: 1 }, 'gemm').output('y');
    const { graph } = await loadModel(b.bytes());
    const c = graphCosts(graph).nodes;
    expect(graph.tensors.get('up')!.shape).toEqual([1, 6, 11, 11]);
    expect(c.get('up')!.macs).toBe(4 * 5 * 5 * 6 * 9);
    expect(c.get('mm')!.macs).toBe(6 * 11 * 7 * 11);
    expect(graph.tensors.get('y')!.shape).toEqual([7, 3]);
    expect(c.get('gemm')!.macs).toBe(7 * 3 * 66);
  });

  it('an op the cost model does not know counts 0 and is listed', async () => {
    const b = new ModelBuilder().input('x', [1, 8, 4, 4]);
    // onnxruntime's Inverse (com.microsoft, inverses of the 4x4 matrices): an op onnxruntime runs and
    // the cost model has no rule for (every op of ONNX's own test models has one: onnx-testdata.test.ts).
    b.node('Inverse', ['x'], ['d'], {}, 'inv').node('Relu', ['d'], ['y'], {}, 'relu').output('y');
    b.nodes[0]!.domain = 'com.microsoft';
    const m = b.model(13);
    m.opsetImport.push({ $typeName: 'onnx.OperatorSetIdProto', domain: 'com.microsoft', version: 1n });
    const model = await loadModel(toBinary(ModelProtoSchema, m));
    const costs = graphCosts(model.graph);
    expect(costs.unknownOps).toEqual(['com.microsoft.Inverse']);
    expect(costs.nodes.get('inv')).toMatchObject({ macs: 0, flops: 0, known: false, outputBytes: 512 });
    expect(inspectModel(model).unknownOps).toEqual(['com.microsoft.Inverse']);
  });
});

describe('inspectModel', () => {
  it('reports counts, costs, inputs, outputs and cut points', async () => {
    const model = await loadModel(residual().bytes());
    const r = inspectModel(model);
    expect(r).toMatchObject({ nodes: 7, params: 3 * (144 + 4), macs: 3 * 4 * 64 * 36, unknownOps: [], opset: 13 });
    expect(r.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [1, 4, 8, 8], bytes: A }]);
    expect(r.outputs).toEqual([{ name: 'y', dtype: 'float32', shape: [1, 4, 8, 8], bytes: A }]);
    expect(r.cutPoints[2]).toEqual({ after: 'c2', index: 2, bytes: 2 * A, tensors: ['r1', 'c2'], single: false });
    expect(r.layers[0]).toEqual({ name: 'c1', op: 'Conv', macs: 4 * 64 * 36, flops: 0, params: 148, outputBytes: A, outputShape: [1, 4, 8, 8] });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});
