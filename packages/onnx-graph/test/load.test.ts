import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProto_DataLocation, ValueInfoProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { GraphError, encodeModel, loadModel, parseInputSpecs, saveModel, parseShape, type GraphErrorCode, type InputShapes } from '@dnnpart/onnx-graph';
import { analyseModel } from '../src/_build.js';
import { ModelBuilder, chain, inception, int64Tensor, residual, squeezeExcite, vi } from './_models.js';

const tmp = mkdtempSync(join(tmpdir(), 'onnx-graph-load-'));

function shapes(g: { tensors: ReadonlyMap<string, { shape: readonly number[] }> }, names: string[]): Record<string, number[]> {
  return Object.fromEntries(names.map((n) => [n, [...g.tensors.get(n)!.shape]]));
}

async function codeOf(p: Promise<unknown>): Promise<GraphErrorCode | string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    if (e instanceof GraphError) return e.code;
    throw e;
  }
}

describe('loadModel: shapes', () => {
  it.each([
    ['chain', chain(), { conv: [1, 4, 8, 8], relu: [1, 4, 8, 8], pool: [1, 4, 4, 4], flat: [1, 64], y: [1, 10] }],
    ['residual', residual(), { c1: [1, 4, 8, 8], r1: [1, 4, 8, 8], add: [1, 4, 8, 8], y: [1, 4, 8, 8] }],
    ['squeeze-excite', squeezeExcite(), { gap: [1, 8, 1, 1], fc1: [1, 2, 1, 1], sig: [1, 8, 1, 1], y: [1, 8, 4, 4] }],
    ['inception', inception(), { b1: [1, 2, 8, 8], b2b: [1, 3, 8, 8], pool: [1, 4, 8, 8], cat: [1, 7, 8, 8] }],
  ] as const)('%s: every tensor shape from own inference (no value_info in the file)', async (_, b, expected) => {
    const { graph } = await loadModel(b.bytes());
    expect(shapes(graph, Object.keys(expected))).toEqual(expected);
    for (const t of graph.tensors.values()) expect(t.bytes).toBe(t.shape.reduce((a, d) => a * d, 1) * 4);
  });

  it.each([
    ['dynamic batch defaults to 1', chain('N'), undefined, [1, 10]],
    ['dynamic batch from --input', chain('N'), [4, 3, 8, 8], [4, 10]],
    ['dynamic batch from --input name=shape', chain('N'), { x: [2, 3, 8, 8] }, [2, 10]],
  ] as [string, ModelBuilder, InputShapes | undefined, number[]][])('%s', async (_, b, inputShapes, y) => {
    const { graph } = await loadModel(b.bytes(), { inputShapes });
    expect(graph.tensors.get('y')!.shape).toEqual(y);
    expect(graph.tensors.get('x')!.shape[0]).toBe(y[0]);
  });

  it('a dynamic spatial dim takes the --input shape', async () => {
    const b = new ModelBuilder().input('x', ['N', 3, 'H', 'W']);
    b.conv('c', 'x', 3, 4, 3, { strides: [2, 2] }).node('GlobalAveragePool', ['c'], ['y'], {}, 'gap').output('y');
    const { graph } = await loadModel(b.bytes(), { inputShapes: [1, 3, 17, 33] });
    expect(graph.tensors.get('c')!.shape).toEqual([1, 4, 9, 17]);
    expect(graph.tensors.get('y')!.shape).toEqual([1, 4, 1, 1]);
  });

  it('follows a torch-style Shape -> Gather -> Unsqueeze -> Concat -> Reshape chain', async () => {
    const b = new ModelBuilder().input('x', [2, 4, 3, 3]);
    b.node('Shape', ['x'], ['shape'], {}, 'shape')
      .node('Gather', ['shape', b.ints('zero', [0], [])], ['n'], { axis: 0 }, 'gather')
      .node('Unsqueeze', ['n', b.ints('axes0', [0])], ['n1'], {}, 'unsq')
      .node('Concat', ['n1', b.ints('minus1', [-1])], ['target'], { axis: 0 }, 'cat')
      .node('Reshape', ['x', 'target'], ['flat'], {}, 'reshape')
      .node('Slice', ['flat', b.ints('s', [1]), b.ints('e', [1000]), b.ints('a', [1])], ['sl'], {}, 'slice')
      .node('Transpose', ['sl'], ['y'], { perm: [1, 0] }, 'tr').output('y');
    const { graph } = await loadModel(b.bytes(), { simplify: false });
    expect(shapes(graph, ['shape', 'n', 'target', 'flat', 'sl', 'y'])).toEqual({
      shape: [4], n: [], target: [2], flat: [2, 36], sl: [2, 35], y: [35, 2],
    });
    expect(graph.tensors.get('target')!.dtype).toBe('int64');
    // With the passes the chain folds to one constant: the Reshape reads it as a weight.
    const folded = await loadModel(b.bytes());
    expect(folded.graph.nodes.map((n) => n.name)).toEqual(['reshape', 'slice', 'tr']);
    expect(folded.graph.tensors.get('target')!.isInitializer).toBe(true);
    expect(shapes(folded.graph, ['flat', 'sl', 'y'])).toEqual({ flat: [2, 36], sl: [2, 35], y: [35, 2] });
  });

  it('an op without an inference rule gets its shape from one onnxruntime run', async () => {
    const b = new ModelBuilder().input('x', [1, 8, 4, 4]);
    b.node('DepthToSpace', ['x'], ['d'], { blocksize: 2 }, 'd2s').node('Relu', ['d'], ['y'], {}, 'relu').output('y');
    const { graph } = await loadModel(b.bytes());
    expect(graph.tensors.get('d')!.shape).toEqual([1, 2, 8, 8]);
    expect(graph.tensors.get('y')!.shape).toEqual([1, 2, 8, 8]);
  });

  it('uses value_info for an unknown op when the file has it (no onnxruntime run needed)', async () => {
    const b = new ModelBuilder().input('x', [1, 8, 4, 4]);
    b.node('DepthToSpace', ['x'], ['d'], { blocksize: 2 }, 'd2s').node('Relu', ['d'], ['y'], {}, 'relu').output('y');
    b.valueInfo.push(vi('d', [1, 2, 8, 8]));
    const { graph } = await loadModel(b.bytes());
    expect(graph.tensors.get('y')!.shape).toEqual([1, 2, 8, 8]);
  });

  it('a shape the file declares wrongly (as exporters write them) is what onnxruntime computes, and is reported', async () => {
    // ddddocr's recognizer declares its [32, 1, 8210] output as [1, seqlen]; onnxruntime warns and runs it.
    const b = new ModelBuilder().input('x', [1, 6, 4]);
    b.node('Transpose', ['x'], ['t'], { perm: [2, 0, 1] }, 'transpose').node('Relu', ['t'], ['y'], {}, 'relu').output('y', [1, 24]);
    b.valueInfo.push(vi('t', [4, 1, 7]));
    const model = await loadModel(b.bytes());
    expect(model.graph.tensors.get('t')!.shape).toEqual([4, 1, 6]);
    expect(model.graph.tensors.get('y')!.shape).toEqual([4, 1, 6]);
    expect(model.shapeMismatches).toEqual([
      { tensor: 't', node: 'transpose', declared: 'float32[4,1,7]', computed: 'float32[4,1,6]', inferenceAgreed: true, message: expect.any(String) },
      {
        tensor: 'y', node: 'relu', declared: 'float32[1,24]', computed: 'float32[4,1,6]', inferenceAgreed: true,
        message: 'tensor y (node relu) is declared float32[1,24] in the file but onnxruntime computes float32[4,1,6]; using float32[4,1,6]',
      },
    ]);
    // With a dynamic input, the user's shapes may change dims: only what they cannot change
    // contradicts (the rank, the element type, a graph output's fixed dims).
    const dynamic = new ModelBuilder().input('x', ['n', 6, 4]);
    dynamic.node('Transpose', ['x'], ['t'], { perm: [2, 0, 1] }, 'transpose').node('Relu', ['t'], ['y'], {}, 'relu').output('y', [4, 'seq']);
    dynamic.valueInfo.push(vi('t', [4, 1, 6]));
    const dyn = await loadModel(dynamic.bytes(), { inputShapes: { x: { shape: [2, 6, 4] } } });
    expect(dyn.graph.tensors.get('y')!.shape).toEqual([4, 2, 6]);
    expect(dyn.shapeMismatches.map((m) => [m.tensor, m.declared, m.computed])).toEqual([['y', 'float32[4,seq]', 'float32[4,2,6]']]);
    // The model as loaded declares what it computes, so it loads back without a mismatch.
    const again = await loadModel(encodeModel(model.proto));
    expect(again.graph.tensors.get('y')!.shape).toEqual([4, 1, 6]);
    expect(again.shapeMismatches).toEqual([]);
    expect(model.proto.graph!.valueInfo.map((v) => v.name)).not.toContain('t');
    // A file that declares what it computes has nothing to report.
    const right = new ModelBuilder().input('x', [1, 6, 4]);
    right.node('Relu', ['x'], ['y'], {}, 'relu').output('y', [1, 6, 4]);
    expect((await loadModel(right.bytes())).shapeMismatches).toEqual([]);
  });

  it('grouped, depthwise, strided and ceil-mode windows', async () => {
    const b = new ModelBuilder().input('x', [1, 8, 15, 15]);
    b.conv('g', 'x', 8, 4, 3, { group: 2, strides: [2, 2] })
      .conv('dw', 'g', 4, 4, 3, { group: 4, dilations: [2, 2], pads: [2, 2, 2, 2] })
      .node('MaxPool', ['dw'], ['mp'], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }, 'mp')
      .node('AveragePool', ['mp'], ['ap'], { kernel_shape: [2, 2], strides: [1, 1] }, 'ap')
      .node('ReduceMean', ['ap'], ['y'], { axes: [2, 3], keepdims: 0 }, 'mean').output('y');
    const { graph } = await loadModel(b.bytes());
    expect(shapes(graph, ['g', 'dw', 'mp', 'ap', 'y'])).toEqual({ g: [1, 4, 8, 8], dw: [1, 4, 8, 8], mp: [1, 4, 4, 4], ap: [1, 4, 3, 3], y: [1, 4] });
  });

  it('keeps a valid file order, sorts an invalid one, and names nodes uniquely', async () => {
    const b = chain();
    b.nodes.reverse();
    b.nodes[0]!.name = '';
    b.nodes[1]!.name = 'relu';
    b.nodes[2]!.name = 'relu';
    const { graph } = await loadModel(b.bytes());
    expect(graph.nodes.map((n) => n.op)).toEqual(['Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm']);
    // file order: [Gemm'' , Flatten 'relu', MaxPool 'relu', Relu 'relu', Conv 'conv']
    expect(graph.nodes.map((n) => n.name)).toEqual(['conv', 'relu_2', 'relu_1', 'relu', 'Gemm_0']);
    expect(graph.nodes.map((n) => n.index)).toEqual([0, 1, 2, 3, 4]);
    expect(graph.tensors.get('relu')!.consumers).toEqual(['relu_1']);
  });

  it('loads initializers from an external data file', async () => {
    const b = chain();
    const dir = mkdtempSync(join(tmp, 'ext-'));
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const t of b.inits) {
      chunks.push(t.rawData);
      t.externalData = [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(t.rawData.length) }].map((e) => ({ ...e, $typeName: 'onnx.StringStringEntryProto' as const }));
      t.dataLocation = TensorProto_DataLocation.EXTERNAL;
      offset += t.rawData.length;
      t.rawData = new Uint8Array(0);
    }
    writeFileSync(join(dir, 'weights.bin'), Buffer.concat(chunks));
    writeFileSync(join(dir, 'model.onnx'), b.bytes());
    const ext = await loadModel(join(dir, 'model.onnx'));
    const inline = await loadModel(chain().bytes());
    expect(ext.graph.tensors.get('y')!.shape).toEqual([1, 10]);
    expect(ext.proto.graph!.initializer.map((t) => t.rawData)).toEqual(inline.proto.graph!.initializer.map((t) => t.rawData));
    expect(ext.path).toBe(join(dir, 'model.onnx'));
    expect(ext.graph.name).toBe('test');
    expect(await codeOf(loadModel(b.bytes()))).toBe('GRAPH_EXTERNAL_DATA');
    writeFileSync(join(dir, 'weights.bin'), Buffer.concat(chunks).subarray(0, 100));
    expect(await codeOf(loadModel(join(dir, 'model.onnx')))).toBe('GRAPH_EXTERNAL_DATA');
  });

  it('a saved model loads back to the same graph', async () => {
    const first = await loadModel(inception().bytes());
    const file = join(tmp, 'roundtrip.onnx');
    saveModel(first.proto, file);
    const again = await loadModel(file);
    expect(again.graph.nodes).toEqual(first.graph.nodes);
    expect([...again.graph.tensors]).toEqual([...first.graph.tensors]);
    expect(encodeModel(again.proto)).toEqual(encodeModel(first.proto));
  });

  it('hashes the file bytes', async () => {
    const bytes = chain().bytes();
    const { sha256 } = await loadModel(bytes);
    const { createHash } = await import('node:crypto');
    expect(sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});

describe('parseShape / parseInputSpecs', () => {
  it.each([
    [['1x3x224x224'], [1, 3, 224, 224]],
    [['7'], [7]],
    [['x=1x3x8x8'], { x: [1, 3, 8, 8] }],
    [['a=1x2', 'b=3X4'], { a: [1, 2], b: [3, 4] }],
    [[], {}],
    // Scalars: an empty shape, and a fixed value after ':'.
    [['sr='], { sr: [] }],
    [['x=1x4', 'sr=:16000'], { x: [1, 4], sr: { shape: [], value: [16000] } }],
    [['k=2:3,-4'], { k: { shape: [2], value: [3, -4] } }],
  ])('%j -> %j', (specs, expected) => {
    expect(parseInputSpecs(specs)).toEqual(expected);
  });

  it('parseShape("") is a scalar', () => {
    expect(parseShape('')).toEqual([]);
  });

  it.each(['1x', 'x3', '1x0x3', '1x-3', 'axb', '1.5x2', '1x3x99999999999'])('parseShape(%j) is GRAPH_BAD_SHAPE_SPEC', (text) => {
    expect(() => parseShape(text)).toThrowError(expect.objectContaining({ code: 'GRAPH_BAD_SHAPE_SPEC' }));
  });

  it('an empty dimension (a cache before the first token) names the input and says what to give', () => {
    expect(() => parseInputSpecs(['past.key=1x8x0x36'])).toThrowError(
      '--input past.key=1x8x0x36: an empty dimension (0) is not supported, a plan\'s stages cost and carry real tensors; give the length the steady state has (a key/value cache of the tokens so far, e.g. 8)');
    expect(() => parseInputSpecs(['x=1xAx3'])).toThrowError('--input x=1xAx3: a shape is positive integers joined by x, e.g. 1x3x224x224');
  });

  it.each([[['1x2', '3x4']], [['a=1x2', '3x4']], [['=1x2']], [['a=1x2', 'a=1x2']], [['sr=:']], [['sr=:1,2']], [['k=2:1']], [['sr=:abc']]])('parseInputSpecs(%j) is GRAPH_BAD_SHAPE_SPEC', (specs) => {
    expect(() => parseInputSpecs(specs)).toThrowError(expect.objectContaining({ code: 'GRAPH_BAD_SHAPE_SPEC' }));
  });
});

describe('loadModel: bad input', () => {
  const notOnnx = join(tmp, 'readme.txt');
  writeFileSync(notOnnx, 'hello, this is not a model\n');
  const jsonFile = join(tmp, 'model.json');
  writeFileSync(jsonFile, '{"graph": {}}');
  const good = chain().bytes();
  const truncated = join(tmp, 'truncated.onnx');
  writeFileSync(truncated, good.subarray(0, Math.floor(good.length / 2)));

  const cycle = new ModelBuilder().input('x', [1, 4]);
  cycle.node('Add', ['x', 't2'], ['t1'], {}, 'a').node('Relu', ['t1'], ['t2'], {}, 'b').node('Relu', ['t2'], ['y'], {}, 'c').output('y');
  const dangling = new ModelBuilder().input('x', [1, 4]);
  dangling.node('Add', ['x', 'ghost'], ['y'], {}, 'a').output('y');
  const noNodes = new ModelBuilder().input('x', [1, 4]).output('x');
  const noInputs = new ModelBuilder();
  noInputs.node('Constant', [], ['y'], { value_ints: [1, 2] }, 'k').output('y');
  const absurd = chain();
  absurd.inits[0]!.dims = [1000000000n, 1000000000n];
  const shortData = chain();
  shortData.inits[0]!.rawData = shortData.inits[0]!.rawData.subarray(0, 8);
  const badDtype = chain();
  badDtype.inits[0]!.dataType = 99;
  const spatial = new ModelBuilder().input('x', ['N', 3, 'H', 8]);
  spatial.node('Relu', ['x'], ['y'], {}, 'r').output('y');
  const twoInputs = new ModelBuilder().input('a', [1, 4]).input('b', [1, 4]);
  twoInputs.node('Add', ['a', 'b'], ['y'], {}, 'add').output('y');
  const hugeInput = new ModelBuilder().input('x', [1, 2 ** 31 - 1, 2 ** 31 - 1, 3]);
  hugeInput.node('Relu', ['x'], ['y'], {}, 'r').output('y');
  const hugeUnknown = new ModelBuilder().input('x', [1, 8, 30000, 30000]);
  hugeUnknown.node('DepthToSpace', ['x'], ['y'], { blocksize: 2 }, 'd2s').output('y');
  const mismatch = chain();
  mismatch.nodes[4]!.input[0] = 'relu';

  const cases: [string, string | Uint8Array, InputShapes | undefined, GraphErrorCode][] = [
    ['missing file', join(tmp, 'nope.onnx'), undefined, 'GRAPH_FILE_NOT_FOUND'],
    ['a directory', tmp, undefined, 'GRAPH_NOT_ONNX'],
    ['a text file', notOnnx, undefined, 'GRAPH_NOT_ONNX'],
    ['a JSON file', jsonFile, undefined, 'GRAPH_NOT_ONNX'],
    ['empty bytes', new Uint8Array(0), undefined, 'GRAPH_NOT_ONNX'],
    ['a ModelProto with no graph', toBinary(ModelProtoSchema, create(ModelProtoSchema, { irVersion: 8n })), undefined, 'GRAPH_NOT_ONNX'],
    ['a truncated file', truncated, undefined, 'GRAPH_CORRUPT'],
    ['a graph with no nodes', noNodes.bytes(), undefined, 'GRAPH_CORRUPT'],
    ['a graph with no inputs', noInputs.bytes(), undefined, 'GRAPH_CORRUPT'],
    ['a tensor nothing produces', dangling.bytes(), undefined, 'GRAPH_CORRUPT'],
    ['absurd initializer dims', absurd.bytes(), undefined, 'GRAPH_CORRUPT'],
    ['initializer data shorter than its dims', shortData.bytes(), undefined, 'GRAPH_CORRUPT'],
    ['an invalid element type', badDtype.bytes(), undefined, 'GRAPH_CORRUPT'],
    ['no opset', toBinary(ModelProtoSchema, { ...chain().model(), opsetImport: [] }), undefined, 'GRAPH_CORRUPT'],
    ['a cycle', cycle.bytes(), undefined, 'GRAPH_CYCLE'],
    ['a dynamic spatial dim without --input', spatial.bytes(), undefined, 'GRAPH_DYNAMIC_DIM'],
    ['--input for an input the model lacks', chain('N').bytes(), { image: [1, 3, 8, 8] }, 'GRAPH_UNKNOWN_INPUT'],
    ['--input of the wrong rank', chain('N').bytes(), [1, 3, 8], 'GRAPH_INPUT_SHAPE_MISMATCH'],
    ['--input contradicting a fixed dim', chain('N').bytes(), [1, 4, 8, 8], 'GRAPH_INPUT_SHAPE_MISMATCH'],
    ['a bare --input for a two-input model', twoInputs.bytes(), [1, 4], 'GRAPH_BAD_SHAPE_SPEC'],
    ['absurd input dims', hugeInput.bytes(), undefined, 'GRAPH_CORRUPT'],
    ['an onnxruntime shape run that would need a huge input', hugeUnknown.bytes(), undefined, 'GRAPH_SHAPE_INFERENCE'],
    ['inconsistent shapes (Gemm on an unflattened tensor)', mismatch.bytes(), undefined, 'GRAPH_SHAPE_INFERENCE'],
  ];
  it.each(cases)('%s -> %s', async (_, source, inputShapes, code) => {
    const err = await loadModel(source, { inputShapes }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect((err as GraphError).code).toBe(code);
    expect((err as GraphError).message).not.toContain('\n');
  });

  // torch 1.13 exports torchaudio's Emformer with a Concat of [T, B, D] tensors and an empty 1-D one
  // (torch.cat skips empty tensors; ONNX and onnxruntime do not).
  const emptyConcat = () => {
    const b = new ModelBuilder().input('x', [1, 2, 3]);
    b.weight('e', [0]);
    return b.node('Concat', ['x', 'e'], ['c'], { axis: 0 }, 'cat').node('Relu', ['c'], ['y'], {}, 'relu').output('y');
  };

  it('a node its shape rule refuses and onnxruntime cannot run either: both say why, the node named', async () => {
    const err = await loadModel(emptyConcat().bytes(17)).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect((err as GraphError).code).toBe('GRAPH_SHAPE_INFERENCE');
    expect((err as GraphError).message).toMatch(/^model bytes: node cat \(Concat\): inputs of different rank; onnxruntime fails on it too: .*Concat.*rank/);
    expect((err as GraphError).message).not.toContain('\n');
  });

  it("a node its shape rule refuses is left to onnxruntime's run, whose shapes are then used with a warning", () => {
    const proto = fromBinary(ModelProtoSchema, emptyConcat().bytes(17));
    const first = analyseModel(proto, { name: 'm', label: 'model bytes' });
    // Unmeasured: the node's outputs and what follows wait for a run, the rule's message kept for its failure.
    expect(first.missing).toEqual(['c', 'y']);
    expect(first.graph === undefined && first.refused?.message).toBe('model bytes: node cat (Concat): inputs of different rank');
    // Measured (the shapes a run would give, had onnxruntime run the file): used, and reported.
    const extra = new Map([['c', { dtype: 'float32' as const, shape: [1, 2, 3] }], ['y', { dtype: 'float32' as const, shape: [1, 2, 3] }]]);
    const r = analyseModel(proto, { name: 'm', label: 'model bytes', extra });
    if (r.missing) throw new Error(`still missing: ${r.missing.join(', ')}`);
    expect(r.graph.tensors.get('y')!.shape).toEqual([1, 2, 3]);
    expect(r.mismatches).toHaveLength(1);
    expect(r.mismatches[0]).toMatchObject({ tensor: 'c', node: 'cat', computed: 'float32[1,2,3]', inferenceAgreed: false });
    expect(r.mismatches[0]!.message).toBe("node cat (Concat): dnnpart's shape rule for the op refused it (inputs of different rank) but onnxruntime runs it, computing float32[1,2,3] for c; using onnxruntime's shapes (please report it)");
  });

  it('a run that sides with the file against a shape rule says the rule is wrong, not the file', () => {
    // As a wrong rule would: Relu's output declared [1,5] where the rule computes [1,4], and a run
    // (the measured shapes given here as the loader's run would give them) agreeing with the file.
    const b = new ModelBuilder().input('x', [1, 4]);
    b.node('Relu', ['x'], ['y'], {}, 'relu').output('y', [1, 5]);
    const proto = fromBinary(ModelProtoSchema, b.bytes(17));
    expect(analyseModel(proto, { name: 'm', label: 'model bytes' }).missing).toEqual(['y']);
    const r = analyseModel(proto, { name: 'm', label: 'model bytes', extra: new Map([['y', { dtype: 'float32' as const, shape: [1, 5] }]]) });
    if (r.missing) throw new Error(`still missing: ${r.missing.join(', ')}`);
    expect(r.mismatches).toEqual([{
      tensor: 'y', node: 'relu', declared: 'float32[1,5]', computed: 'float32[1,5]', inferenceAgreed: false,
      message: "tensor y (node relu): dnnpart's shape rule for the op computed float32[1,4], but onnxruntime computes float32[1,5], as the file declares; using float32[1,5] (please report it)",
    }]);
  });

  it('names a graph input that is an ONNX sequence: onnxruntime-node feeds tensors only', async () => {
    const b = new ModelBuilder();
    b.node('ConcatFromSequence', ['xs'], ['c'], { axis: 0 }, 'cat').node('Relu', ['c'], ['y'], {}, 'relu').output('y');
    const m = fromBinary(ModelProtoSchema, b.bytes(17));
    m.graph!.input.push(create(ValueInfoProtoSchema, { name: 'xs', type: { value: { case: 'sequenceType', value: { elemType: { value: { case: 'tensorType', value: { elemType: 1 } } } } } } }));
    const err = await loadModel(toBinary(ModelProtoSchema, m)).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({
      code: 'GRAPH_UNSUPPORTED_DTYPE',
      message: 'model bytes: graph input xs is an ONNX sequence (a list of tensors); dnnpart feeds models tensors only: export the model with tensor inputs',
    });
  });

  it('names the output and node when the model gives an ONNX sequence, which no stage can hand on', async () => {
    const seq = new ModelBuilder().input('x', [1, 6, 8]);
    seq.node('Relu', ['x'], ['r'], {}, 'relu').node('SplitToSequence', ['r'], ['parts'], { axis: 1 }, 'split').output('parts');
    const err = await loadModel(seq.bytes(17)).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({
      code: 'GRAPH_UNSUPPORTED_DTYPE',
      message: 'model bytes: graph output parts (made by node split) is an ONNX sequence, which dnnpart cannot partition; export the model without sequence ops (e.g. torch.split or torch.unbind with static sizes exports as Split)',
    });
  });

  it('names the input, dim and flag for a dynamic dim', async () => {
    await expect(loadModel(spatial.bytes())).rejects.toThrow(/dim 2 \(H\) of input x is dynamic; pass --input x=/);
  });

  it.each([
    // An image's dynamic side: its fixed other side when that is an image's (a 48-high text line), else 224.
    ['one side of a text line', ['N', 3, 48, 'W'], 'dim 3 (W) of input x is dynamic; pass --input x=<shape> with the size your application feeds, e.g. --input x=1x3x48x48'],
    ['both sides', ['N', 3, 'H', 'W'], 'dims 2 (H) and 3 (W) of input x are dynamic; pass --input x=<shape> with the sizes your application feeds, e.g. --input x=1x3x224x224'],
    ['a narrow fixed side', ['N', 3, 'H', 8], 'dim 2 (H) of input x is dynamic; pass --input x=<shape> with the size your application feeds, e.g. --input x=1x3x224x8'],
    // A float [batch, time] input is a waveform's samples most often (Moonshine's encoder): a second at 16 kHz.
    ['a sequence of floats', ['B', 'T'], 'dim 1 (T) of input x is dynamic; pass --input x=<shape> with the size your application feeds, e.g. --input x=1x16000'],
    ['a dim named for audio samples', [1, 1, 'num_samples'], 'dim 2 (num_samples) of input x is dynamic; pass --input x=<shape> with the size your application feeds, e.g. --input x=1x1x16000'],
    ['audio frames', [1, 'frames', 80], 'dim 1 (frames) of input x is dynamic; pass --input x=<shape> with the size your application feeds, e.g. --input x=1x1x80'],
  ] as const)('names every dynamic dim of %s and shows a shape that fills them', async (_, dims, message) => {
    const m = new ModelBuilder().input('x', [...dims]);
    m.node('Relu', ['x'], ['y'], {}, 'relu').output('y');
    await expect(loadModel(m.bytes())).rejects.toMatchObject({ code: 'GRAPH_DYNAMIC_DIM', message: `model bytes: ${message}` });
  });

  it('names every input that needs a shape in one line, with an --input for each that loads', async () => {
    // ids are token ids (int64): a sequence of 1.
    const m = new ModelBuilder().input('img', ['N', 3, 'H', 'W']).input('ids', ['B', 'T'], 7).input('fixed', [1, 4]);
    m.node('Relu', ['img'], ['y'], {}, 'relu').node('Neg', ['ids'], ['z'], {}, 'neg').node('Abs', ['fixed'], ['w'], {}, 'abs').output('y').output('z').output('w');
    const message = 'model bytes: 2 inputs have dynamic dims (img dims 2 (H), 3 (W); ids dim 1 (T)); pass --input <name>=<shape> for each with the sizes your application feeds (or model.input in a system file), e.g. --input img=1x3x224x224 --input ids=1x1';
    await expect(loadModel(m.bytes())).rejects.toMatchObject({ code: 'GRAPH_DYNAMIC_DIM', message });
    // The shapes it suggests load.
    const loaded = await loadModel(m.bytes(), { inputShapes: { img: [1, 3, 224, 224], ids: [1, 1] } });
    expect(loaded.graph.tensors.get('ids')!.shape).toEqual([1, 1]);
    // One input given: the other is still asked for.
    await expect(loadModel(m.bytes(), { inputShapes: { ids: [1, 5] } })).rejects.toThrow(/^model bytes: dims 2 \(H\) and 3 \(W\) of input img are dynamic; pass --input img=<shape>/);
  });

  it('suggests a waveform chunk the model loads at when a second does not (Silero VAD reads 512 samples)', async () => {
    // A fixed Reshape: only 512 samples make 4 frames of 128.
    const m = new ModelBuilder().input('x', ['B', 'T']).input('state', [2, 'B', 8]);
    const shape = m.ints('frames', [1, 4, 128]);
    m.node('Reshape', ['x', shape], ['r'], {}, 'frame').node('Relu', ['r'], ['y'], {}, 'relu').node('Neg', ['state'], ['s'], {}, 'neg').output('y').output('s');
    const message = 'model bytes: 2 inputs have dynamic dims (x dim 1 (T); state dim 1 (B)); pass --input <name>=<shape> for each with the sizes your application feeds (or model.input in a system file), e.g. --input x=1x512 --input state=2x1x8';
    await expect(loadModel(m.bytes())).rejects.toMatchObject({ code: 'GRAPH_DYNAMIC_DIM', message });
    const loaded = await loadModel(m.bytes(), { inputShapes: { x: [1, 512], state: [2, 1, 8] } });
    expect(loaded.graph.tensors.get('r')!.shape).toEqual([1, 4, 128]);
  });

  it('names the file when it is missing', async () => {
    await expect(loadModel('no/such/model.onnx')).rejects.toThrow('model file no/such/model.onnx not found');
  });
});

describe('loadModel: a classifier ending in ZipMap (skl2onnx)', () => {
  /** x[1,4] -> linear -> softmax -> probs; label = argmax; zm = ZipMap(probs); the graph gives `outputs`. */
  function zipmapModel(outputs: string[]): Uint8Array {
    const b = new ModelBuilder(5).input('x', [1, 4]);
    b.node('MatMul', ['x', b.weight('w', [4, 3])], ['scores'], {}, 'linear').node('Softmax', ['scores'], ['probs'], { axis: 1 }, 'softmax')
      .node('ArgMax', ['probs'], ['label'], { axis: 1, keepdims: 0 }, 'argmax').node('ZipMap', ['probs'], ['zm'], { classlabels_int64s: [0, 1, 2] }, 'zip');
    b.nodes.at(-1)!.domain = 'ai.onnx.ml';
    for (const o of outputs) b.output(o);
    const m = b.model(17);
    m.opsetImport.push({ $typeName: 'onnx.OperatorSetIdProto', domain: 'ai.onnx.ml', version: 1n });
    return toBinary(ModelProtoSchema, m);
  }

  it.each([
    [['label', 'zm'], ['label', 'probs']],
    // skl2onnx can give the probabilities too: then once.
    [['probs', 'zm', 'label'], ['probs', 'label']],
  ])('gives %j as %j, the ZipMap left out and said', async (given, outputs) => {
    const m = await loadModel(zipmapModel(given));
    expect(m.graph.outputs).toEqual(outputs);
    expect(m.graph.nodes.map((n) => n.op)).toEqual(['MatMul', 'Softmax', 'ArgMax']);
    expect(m.proto.graph!.node.map((n) => n.opType)).not.toContain('ZipMap');
    expect(m.replacedOutputs).toEqual([expect.objectContaining({ output: 'zm', node: 'zip', op: 'ZipMap', tensor: 'probs' })]);
    expect(m.simplified.nodesBefore).toBe(4);
    expect(m.simplified.removedNodes).toContain('zip');
  });

  it('leaves a model without ZipMap as it is', async () => {
    expect((await loadModel(chain().bytes())).replacedOutputs).toEqual([]);
  });
});
