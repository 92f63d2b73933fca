// Models whose inputs are not float32: an int8-quantized network taking uint8 images (QLinearConv,
// as onnxruntime's quantizer writes it in QOperator form) and a float16 network. Their seeded test
// inputs, their split stages run in onnxruntime, and the one tensor builder behind every feed.
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema, type TensorProto } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { cutPoints, edgeBytes, encodeModel, inspectModel, fromHalfBits, isGraphError, loadModel, randomFeeds, runModel, runnableModel, seededInputs, splitModel, tensorOf, toHalfBits, verifySplit } from '@dnnpart/onnx-graph';
import { ModelBuilder, rng } from './_models.js';

const UINT8 = 2;
const INT8 = 3;
const FLOAT16 = 10;
const BFLOAT16 = 16;

function tensor(name: string, dataType: number, dims: number[], raw: ArrayBufferView): TensorProto {
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType, rawData: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength).slice() });
}

/** xq uint8 [1,3,16,16] -> QLinearConv x3 (int8 weights, uint8 activations) -> DequantizeLinear -> y float32. */
function quantized(): Uint8Array {
  const b = new ModelBuilder(3).input('xq', [1, 3, 16, 16], UINT8);
  const rand = rng(5);
  b.inits.push(tensor('s', 1, [], Float32Array.of(0.02)), tensor('z', UINT8, [], Uint8Array.of(128)), tensor('ws', 1, [], Float32Array.of(0.01)), tensor('wz', INT8, [], Int8Array.of(0)));
  let prev = 'xq';
  for (let i = 0; i < 3; i++) {
    const cin = i === 0 ? 3 : 8;
    b.inits.push(tensor(`w${i}`, INT8, [8, cin, 3, 3], Int8Array.from({ length: 8 * cin * 9 }, () => Math.floor(rand() * 41) - 20)));
    b.node('QLinearConv', [prev, 's', 'z', `w${i}`, 'ws', 'wz', 's', 'z'], [`q${i}`], { pads: [1, 1, 1, 1] }, `qconv${i}`);
    prev = `q${i}`;
  }
  b.node('DequantizeLinear', [prev, 's', 'z'], ['y'], {}, 'dequantize').output('y');
  return b.bytes(13);
}

/** x float16 [1,3,16,16] -> Conv -> Relu -> Conv -> Add (a skip) -> y float16; float16 weights. */
function half(): Uint8Array {
  const b = new ModelBuilder(4).input('x', [1, 3, 16, 16], FLOAT16);
  const rand = rng(6);
  const w = (name: string, dims: number[]) => b.inits.push(tensor(name, FLOAT16, dims, Uint16Array.from({ length: dims.reduce((a, c) => a * c, 1) }, () => toHalfBits((rand() * 2 - 1) * 0.2))));
  w('w1', [8, 3, 3, 3]);
  w('w2', [8, 8, 3, 3]);
  b.node('Conv', ['x', 'w1'], ['c1'], { pads: [1, 1, 1, 1] }, 'conv1').node('Relu', ['c1'], ['r1'], {}, 'relu1')
    .node('Conv', ['r1', 'w2'], ['c2'], { pads: [1, 1, 1, 1] }, 'conv2').node('Add', ['c2', 'r1'], ['y'], {}, 'add').output('y');
  return b.bytes(17);
}

describe('models with uint8 and float16 inputs', () => {
  it('a uint8 input gets seeded bytes over the whole range, the same for the same seed', async () => {
    const { graph } = await loadModel(quantized());
    expect(graph.tensors.get('xq')!.dtype).toBe('uint8');
    const a = randomFeeds(graph, 1)['xq']!;
    expect(a.type).toBe('uint8');
    expect(a.dims).toEqual([1, 3, 16, 16]);
    const v = [...(a.data as Uint8Array)];
    expect(Math.min(...v)).toBeLessThan(16);
    expect(Math.max(...v)).toBeGreaterThan(240);
    expect(new Set(v).size).toBeGreaterThan(200);
    expect([...(randomFeeds(graph, 1)['xq']!.data as Uint8Array)]).toEqual(v);
    expect([...(randomFeeds(graph, 2)['xq']!.data as Uint8Array)]).not.toEqual(v);
  });

  it('a float16 input gets seeded half-precision values in [-1, 1)', async () => {
    const { graph } = await loadModel(half());
    const x = randomFeeds(graph, 1)['x']!;
    expect(x.type).toBe('float16');
    const v = [...(x.data as Uint16Array)].map(fromHalfBits);
    expect(v.every((e) => e >= -1 && e <= 1)).toBe(true);
    expect(Math.min(...v)).toBeLessThan(-0.9);
    expect(Math.max(...v)).toBeGreaterThan(0.9);
  });

  // onnxruntime's CPU provider runs a float16 Conv in float32 between Casts and keeps the unsplit
  // model's relu1 in float32; the cut stores it in float16, which moves the output by a rounding
  // step of float16 (2^-10 at magnitudes in [1, 2)), compared as values, not as bit patterns.
  it.each([
    ['the quantized network', quantized, ['qconv0'], 0],
    ['the float16 network', half, ['relu1'], 2 ** -8],
  ])('%s splits into stages that compute what it computes in onnxruntime', async (_, bytes, after, tolerance) => {
    const model = await loadModel(bytes());
    const split = splitModel(model, { after });
    expect(split.stages.length).toBe(2);
    expect(split.stages[0]!.outputs).toEqual([after[0] === 'qconv0' ? 'q0' : 'r1']);
    const check = await verifySplit(model, split, 3);
    expect(check.maxAbsDiff).toBeLessThanOrEqual(tolerance);
  });
});

/**
 * x bfloat16 [1,3,16,16] -> Cast -> Conv -> Cast to bfloat16 -> `mid` (Transpose in bfloat16, or
 * Relu, which onnxruntime's CPU has no bfloat16 kernel for) -> Cast -> Conv -> Add (a skip) -> Cast
 * -> y bfloat16; the bfloat16 `t` is an output too.
 */
function bf16Edges(mid: 'Transpose' | 'Relu' = 'Transpose'): Uint8Array {
  const b = new ModelBuilder(8).input('x', [1, 3, 16, 16], BFLOAT16);
  b.weight('w1', [8, 3, 3, 3]);
  b.weight('w2', [8, 8, 3, 3]);
  b.node('Cast', ['x'], ['xf'], { to: 1 }, 'in').node('Conv', ['xf', 'w1'], ['c1'], { pads: [1, 1, 1, 1] }, 'conv1')
    .node('Cast', ['c1'], ['cb'], { to: BFLOAT16 }, 'tobf').node(mid, ['cb'], ['t'], mid === 'Transpose' ? { perm: [0, 1, 3, 2] } : {}, 'mid')
    .node('Cast', ['t'], ['tf'], { to: 1 }, 'tof').node('Conv', ['tf', 'w2'], ['c2'], { pads: [1, 1, 1, 1] }, 'conv2')
    .node('Add', ['c2', 'c1'], ['s'], {}, 'skip').node('Cast', ['s'], ['y'], { to: BFLOAT16 }, 'out').output('y').output('t');
  return b.bytes(17);
}

// onnxruntime-node can neither feed nor hand back a bfloat16 tensor ("Unsupported data type: 16").
describe('models with bfloat16 inputs and outputs', () => {
  it('run whole as float32 at their edges, cast inside; a model without bfloat16 edges runs as it is', async () => {
    const model = await loadModel(bf16Edges());
    expect(randomFeeds(model.graph, 1)['x']!.type).toBe('float32');
    const whole = runnableModel(model);
    const edges = (vs: readonly { name: string; type?: { value: { value?: unknown } } }[]) => vs.map((v) => [v.name, (v.type!.value.value as { elemType: number }).elemType]);
    expect(edges(whole.graph!.input)).toEqual([['x', 1]]);
    // As a stage's, in the order they are made.
    expect(edges(whole.graph!.output)).toEqual([['t', 1], ['y', 1]]);
    expect(whole.graph!.node.filter((n) => n.name.startsWith('dnnpart_cast:')).map((n) => [n.input[0], n.output[0]])).toEqual([['x', 'x/bfloat16'], ['t/bfloat16', 't'], ['y/bfloat16', 'y']]);
    const out = await runModel(encodeModel(whole), randomFeeds(model.graph, 1), ['y', 't']);
    expect([out['y']!.type, out['t']!.type]).toEqual(['float32', 'float32']);
    // Every value a float32 holds of a bfloat16: its low 16 bits are zero.
    const bits = new Uint32Array((out['y']!.data as Float32Array).slice().buffer);
    expect(bits.every((v) => (v & 0xffff) === 0)).toBe(true);
    const plain = await loadModel(half());
    expect(runnableModel(plain)).toBe(plain.proto);
  });

  it.each([['tobf'], ['mid'], ['tof', 'conv2']])('splits after %j into stages that compute exactly what the whole model computes', async (...after) => {
    const model = await loadModel(bf16Edges());
    const split = splitModel(model, { after });
    expect((await verifySplit(model, split, 2)).maxAbsDiff).toBe(0);
  });

  it('a model onnxruntime has no kernel for is one line naming the op and the node', async () => {
    const model = await loadModel(bf16Edges('Relu'));
    const err = await runModel(encodeModel(runnableModel(model)), randomFeeds(model.graph, 1), ['y'], { label: 'bf16 relu' }).catch((e: unknown) => e);
    expect(isGraphError(err, 'GRAPH_RUNTIME')).toBe(true);
    expect((err as Error).message).toBe('bf16 relu: op Relu (opset 14) of node "mid" has no kernel on the cpu execution provider');
  });

  it('an op of an opset before 7 (old PyTorch exports) says how to convert the model', async () => {
    const old = new ModelBuilder().input('x', [2, 3]).input('z', [2, 3]).node('Add', ['x', 'z'], ['y'], {}, 'add').output('y', [2, 3]).bytes(6, 3);
    const model = await loadModel(old);
    const err = await runModel(encodeModel(model.proto), randomFeeds(model.graph, 1), ['y'], { label: 'old add' }).catch((e: unknown) => e);
    expect(isGraphError(err, 'GRAPH_RUNTIME')).toBe(true);
    expect((err as Error).message).toBe('old add: op Add (opset 6) of node "add" has no kernel on the cpu execution provider: onnxruntime has few kernels for ops of opsets before 7; '
      + 'convert the model to a newer opset (python3 -c "import onnx, onnx.version_converter as v; onnx.save(v.convert_version(onnx.load(\'in.onnx\'), 13), \'out.onnx\')") or export it again');
  });
});

describe('seededInputs', () => {
  it('refuses a string input with what to do, and a bfloat16 one with why', () => {
    expect(() => seededInputs([{ name: 'text', dtype: 'string', shape: [2] }], 1)).toThrow(
      'input text: cannot make a test input of type string (dnnpart profiles and splits models of numeric inputs: move the text processing out of the model, before it)');
    expect(() => seededInputs([{ name: 'b', dtype: 'bfloat16', shape: [2] }], 1)).toThrow('input b: cannot make a test input of type bfloat16 (onnxruntime-node has no tensors of it)');
    expect(seededInputs([{ name: 'n', dtype: 'int64', shape: [2] }], 1)['n']!.data).toEqual(new BigInt64Array(2));
  });
});

describe('tensorOf', () => {
  it('stores numbers as each type holds them', () => {
    expect([...(tensorOf('int64', [3], (i) => i * 1.7)!.data as BigInt64Array)]).toEqual([0n, 1n, 3n]);
    expect([...(tensorOf('bool', [3], (i) => i)!.data as Uint8Array)]).toEqual([0, 1, 1]);
    expect([...(tensorOf('float16', [2], (i) => [0.5, -2][i]!)!.data as Uint16Array)]).toEqual([0x3800, 0xc000]);
    expect([...(tensorOf('int8', [2], (i) => [-128, 127][i]!)!.data as Int8Array)]).toEqual([-128, 127]);
    const z = tensorOf('uint64', [2, 2])!;
    expect(z.type).toBe('uint64');
    expect(z.dims).toEqual([2, 2]);
    expect([...(z.data as BigUint64Array)]).toEqual([0n, 0n, 0n, 0n]);
  });

  it('is null for a type onnxruntime-node cannot hold', () => {
    expect(tensorOf('string', [1])).toBeNull();
    expect(tensorOf('bfloat16', [1])).toBeNull();
  });
});

const UINT4 = 21;
const INT4 = 22;
const FLOAT8E4M3FN = 17;
const FLOAT8E5M2 = 19;

/**
 * What onnxruntime's 4-bit and float8 quantizers write (opset 21): xq of `type` [2,33] (an odd count:
 * 4-bit data packs two to a byte) -> DequantizeLinear -> MatMul with DequantizeLinear'd `type`
 * weights [33,5] -> Relu (`r`) -> QuantizeLinear (`yq`, of `type`, an output too) -> DequantizeLinear
 * -> Add r -> y float32. Nodes dqx, dqw, mm, relu, q, dqy, add.
 */
function quantizedEdges(type: number, weightsIn: 'raw' | 'int32' = 'raw'): Uint8Array {
  const b = new ModelBuilder(9).input('xq', [2, 33], type);
  const four = type === UINT4 || type === INT4;
  const n = 33 * 5;
  const bytes = Uint8Array.from({ length: four ? Math.ceil(n / 2) : n }, (_, i) => (i * 37 + 11) & (four ? 0x77 : 0x3b));
  b.inits.push(
    weightsIn === 'raw' ? tensor('wq', type, [33, 5], bytes) : create(TensorProtoSchema, { name: 'wq', dims: [33n, 5n], dataType: type, int32Data: [...bytes] }),
    tensor('sw', 1, [], Float32Array.of(0.05)), tensor('s', 1, [], Float32Array.of(0.25)), tensor('z', type, [], Uint8Array.of(0)),
  );
  b.node('DequantizeLinear', ['xq', 's', 'z'], ['x'], {}, 'dqx').node('DequantizeLinear', ['wq', 'sw'], ['w'], {}, 'dqw')
    .node('MatMul', ['x', 'w'], ['m'], {}, 'mm').node('Relu', ['m'], ['r'], {}, 'relu').node('QuantizeLinear', ['r', 's', 'z'], ['yq'], {}, 'q')
    .node('DequantizeLinear', ['yq', 's', 'z'], ['yd'], {}, 'dqy').node('Add', ['yd', 'r'], ['y'], {}, 'add').output('y').output('yq');
  return b.bytes(21, 10);
}

// onnxruntime runs these types, but onnxruntime-node feeds and hands back none of them: a float8
// output is "Unsupported data type: 17", and an int4 one aborts the process (out of memory).
describe('models with 4-bit and float8 tensors', () => {
  it.each([['int4', INT4, 'int8'], ['uint4', UINT4, 'uint8'], ['float8e4m3fn', FLOAT8E4M3FN, 'float32'], ['float8e5m2', FLOAT8E5M2, 'float32']])(
    '%s: weights packed as stored, inputs and outputs as %s at the edges, every cut exact', async (name, type, edge) => {
      const model = await loadModel(quantizedEdges(type));
      const four = type === UINT4 || type === INT4;
      expect(model.graph.tensors.get('wq')!.bytes).toBe(four ? 83 : 165);
      expect(model.graph.tensors.get('xq')!).toMatchObject({ dtype: name, bytes: four ? 33 : 66 });
      // What crosses a cut: 66 elements of int8, or of float32.
      expect(edgeBytes(model.graph.tensors.get('xq')!)).toBe(edge === 'float32' ? 264 : 66);
      // The cut table (inspect, the report's chart) counts the same bytes as plans: after dqx, xq
      // (still read by nothing later) is gone and x (float32 [2,33]) crosses; after q, r and yq do.
      const cuts = new Map(cutPoints(model.graph).map((c) => [c.after, c.bytes]));
      expect(cuts.get('q')).toBe(2 * 5 * 4 + (edge === 'float32' ? 40 : 10));
      expect(inspectModel(model).cutPoints.find((c) => c.after === 'q')!.bytes).toBe(cuts.get('q'));
      // The same weights in int32_data (two 4-bit values, or one float8, to an entry) load the same.
      expect((await loadModel(quantizedEdges(type, 'int32'))).graph.tensors.get('wq')!.bytes).toBe(four ? 83 : 165);
      const feeds = randomFeeds(model.graph, 1);
      expect(feeds['xq']!.type).toBe(edge);
      const out = await runModel(encodeModel(runnableModel(model)), feeds, ['y', 'yq']);
      expect([out['y']!.type, out['yq']!.type]).toEqual(['float32', edge]);
      for (const after of [['dqx'], ['mm'], ['relu'], ['q'], ['q', 'dqy']]) {
        const split = splitModel(model, { after });
        expect({ after, diff: (await verifySplit(model, split, 2)).maxAbsDiff }).toEqual({ after, diff: 0 });
      }
      // Cut after q: yq crosses as its edge type, cast back to the model's type inside the next stage.
      const [a, b] = splitModel(model, { after: ['q'] }).stages;
      expect(a!.proto.graph!.node.filter((n) => n.name.startsWith('dnnpart_cast:')).map((n) => [n.input[0], n.output[0]])).toEqual([['xq', `xq/${name}`], [`yq/${name}`, 'yq']]);
      expect(b!.proto.graph!.node.filter((n) => n.name.startsWith('dnnpart_cast:')).map((n) => [n.input[0], n.output[0]])).toEqual([['yq', `yq/${name}`]]);
    });

  it('4-bit data of the wrong length is one line naming the initializer', async () => {
    const b = new ModelBuilder(1).input('x', [2, 3]);
    b.inits.push(tensor('wq', INT4, [3, 3], Uint8Array.of(1, 2, 3)), tensor('s', 1, [], Float32Array.of(0.5)));
    b.node('DequantizeLinear', ['wq', 's'], ['w'], {}, 'dq').node('MatMul', ['x', 'w'], ['y'], {}, 'mm').output('y');
    const err = await loadModel(b.bytes(21, 10)).catch((e: unknown) => e);
    expect(isGraphError(err, 'GRAPH_CORRUPT')).toBe(true);
    expect((err as Error).message).toMatch(/initializer wq declares 9 elements of int4 \(dims \[3, 3\]\) but stores 6/);
  });
});
