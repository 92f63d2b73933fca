// Own shape inference against onnxruntime: a model exercising every rule, each tensor's inferred
// dtype and shape compared with what one ORT run actually produces.
import { describe, expect, it } from 'vitest';
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, OperatorSetIdProtoSchema, TensorProtoSchema } from 'onnx-buf';
import { loadModel } from '@dnnpart/onnx-graph';
import { analyseModel } from '../src/_build.js';
import { measureShapes } from '../src/_ort.js';
import { ModelBuilder, type Attr, chain, inception, residual, squeezeExcite } from './_models.js';

function opZoo(opset: number): ModelBuilder {
  const b = new ModelBuilder(11).input('x', [2, 4, 9, 7]).input('m', [2, 6]);
  const i64 = (name: string, v: number[], dims = [v.length]) => b.ints(name, v, dims);
  const scalarF = (name: string, v: number) => {
    b.inits.push(create(TensorProtoSchema, { name, dims: [], dataType: 1, floatData: [v] }));
    return name;
  };
  const axes = (name: string, v: number[]) => (opset >= 13 ? [i64(name, v)] : []);
  const axesAttr = (v: number[]): Record<string, Attr> => (opset >= 13 ? {} : { axes: v });
  b.conv('conv', 'x', 4, 6, 3, { strides: [2, 1] })
    .node('ConvTranspose', ['conv', b.weight('ct.w', [6, 2, 3, 3])], ['ct'], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 0] }, 'ct')
    .node('BatchNormalization', ['ct', b.weight('bn.s', [2]), b.weight('bn.b', [2]), b.weight('bn.m', [2]), b.weight('bn.v', [2], 0.5)], ['bnraw'], {}, 'bn')
    .node('Abs', ['bnraw'], ['bnabs'], {}, 'abs')
    .node('Add', ['bnabs', scalarF('one', 1)], ['bn'], {}, 'bnpos')
    .node(opset >= 14 ? 'HardSwish' : 'HardSigmoid', ['bn'], ['hs'], {}, 'hs')
    .node('Clip', ['hs', scalarF('lo', 0), scalarF('hi', 6)], ['clip'], {}, 'clip')
    .node('AveragePool', ['clip'], ['ap'], { kernel_shape: [3, 2], strides: [2, 2], ceil_mode: 1 }, 'ap')
    .node('MaxPool', ['clip'], ['mp', 'mpi'], { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 0, 0, 1], ceil_mode: 1 }, 'mp')
    .node('GlobalAveragePool', ['clip'], ['gap'], {}, 'gap')
    .node('Pad', ['ap', i64('pads', [0, 0, 1, 2, 0, 1, 0, 0])], ['pad'], { mode: 'constant' }, 'pad')
    .node('Transpose', ['pad'], ['tr'], { perm: [0, 2, 3, 1] }, 'tr')
    .node('Flatten', ['tr'], ['fl'], { axis: 2 }, 'fl')
    .node('Softmax', ['fl'], ['sm'], { axis: -1 }, 'sm')
    .node('ReduceMean', ['sm', ...(opset >= 18 ? [i64('rm.axes', [1])] : [])], ['rm'], { keepdims: 0, ...(opset >= 18 ? {} : { axes: [1] }) }, 'rm')
    .node('Unsqueeze', ['rm', ...axes('us.axes', [1, -1])], ['us'], axesAttr([1, -1]), 'us')
    .node('Squeeze', ['us', ...axes('sq.axes', [1])], ['sq'], axesAttr([1]), 'sq')
    .node('Split', ['m', ...(opset >= 13 ? [i64('split', [2, 4])] : [])], ['s1', 's2'], { axis: 1, ...(opset >= 13 ? {} : { split: [2, 4] }) }, 'split')
    .node('Slice', ['s2', i64('st', [3, 0]), i64('en', [-100, 9]), i64('ax', [1, 0]), i64('sp', [-2, 1])], ['sl'], {}, 'slice')
    .node('Concat', ['s1', 'sl', 's1'], ['cat'], { axis: -1 }, 'cat')
    .node('MatMul', ['us', b.weight('mm.w', [2, 1, 1, 3])], ['mm'], {}, 'matmul')
    .node('Gemm', ['cat', b.weight('g.w', [5, 6])], ['gemm'], { transB: 1 }, 'gemm')
    .node('Shape', ['gemm'], ['gshape'], {}, 'shape')
    .node('ConstantOfShape', ['gshape'], ['zeros'], {}, 'cos')
    .node('Expand', ['gap', i64('ex.shape', [2, 2, 3, 4])], ['ex'], {}, 'expand')
    .node('Tile', ['s1', i64('reps', [2, 3])], ['tile'], {}, 'tile')
    .node('Gather', ['x', i64('gi', [0, 2, 1], [3])], ['gat'], { axis: 1 }, 'gather')
    .node('Cast', ['gshape'], ['gshapef'], { to: 1 }, 'cast')
    .node('ArgMax', ['gemm'], ['am'], { axis: 1, keepdims: 0 }, 'argmax')
    .node('Greater', ['gemm', 'zeros'], ['gt'], {}, 'greater')
    .node('Where', ['gt', 'gemm', 'zeros'], ['where'], {}, 'where')
    .node('Range', [i64('r0', [0], []), i64('r1', [10], []), i64('r2', [3], [])], ['range'], {}, 'range')
    .node('Resize', ['clip', opset < 13 ? b.weight('roi', [0]) : '', b.weight('scales', [4], 0)], ['rs'], { mode: 'nearest' }, 'resize')
    .node('Dropout', ['mm'], ['dr'], {}, 'dropout')
    .node('Identity', ['dr'], ['id'], {}, 'identity');
  // Resize scales must be real factors.
  const sc = b.inits.find((t) => t.name === 'scales')!;
  sc.rawData = new Uint8Array(new Float32Array([1, 1, 0.5, 2]).buffer);
  for (const o of ['mp', 'mpi', 'rm', 'sq', 'cat', 'mm', 'id', 'where', 'am', 'gshapef', 'gat', 'tile', 'ex', 'range', 'rs', 'clip', 'fl']) b.output(o);
  return b;
}

/** onnxruntime's quantized forms: QDQ around a Conv, dynamic quantization before MatMulInteger, ConvInteger, QOperator. */
function quantZoo(): ModelBuilder {
  const b = new ModelBuilder(5).input('x', [1, 3, 8, 8]).input('h', [2, 5, 16]);
  const t = (name: string, dataType: number, dims: number[], bytes: Uint8Array<ArrayBuffer>) => {
    b.inits.push(create(TensorProtoSchema, { name, dataType, dims: dims.map(BigInt), rawData: bytes }));
    return name;
  };
  const f32 = (v: number) => new Uint8Array(Float32Array.of(v).buffer);
  t('s', 1, [], f32(0.05));
  t('z', 2, [], Uint8Array.of(128));
  t('wz', 3, [], Uint8Array.of(0));
  t('w8', 3, [4, 3, 3, 3], Uint8Array.from({ length: 108 }, (_, i) => (i * 7) % 256));
  t('m8', 3, [16, 6], Uint8Array.from({ length: 96 }, (_, i) => (i * 5) % 256));
  t('wu', 2, [4, 3, 3, 3], Uint8Array.from({ length: 108 }, (_, i) => (i * 3) % 256));
  t('mu', 2, [16, 6], Uint8Array.from({ length: 96 }, (_, i) => (i * 11) % 256));
  return b.node('QuantizeLinear', ['x', 's', 'z'], ['xq'], {}, 'q')
    .node('DequantizeLinear', ['xq', 's', 'z'], ['xd'], {}, 'dq')
    .node('DequantizeLinear', ['w8', 's', 'wz'], ['wd'], {}, 'dqw')
    .node('Conv', ['xd', 'wd'], ['c'], { pads: [1, 1, 1, 1] }, 'conv')
    .node('QuantizeLinear', ['c', 's'], ['cq'], {}, 'q_no_zero_point')
    .node('ConvInteger', ['xq', 'wu', 'z'], ['ci'], {}, 'conv_integer')
    .node('DynamicQuantizeLinear', ['h'], ['hq', 'hs', 'hz'], {}, 'dyn')
    .node('MatMulInteger', ['hq', 'm8', 'hz', 'wz'], ['mi'], {}, 'matmul_integer')
    .node('QLinearConv', ['xq', 's', 'z', 'wu', 's', 'z', 's', 'z'], ['qc'], { pads: [1, 1, 1, 1], strides: [2, 2] }, 'qlinear_conv')
    .node('QuantizeLinear', ['h', 's', 'z'], ['hq8'], {}, 'qh')
    .node('QLinearMatMul', ['hq8', 's', 'z', 'mu', 's', 'z', 's', 'z'], ['qm'], {}, 'qlinear_matmul')
    .output('cq').output('ci').output('mi').output('hs').output('qc').output('qm');
}

/** Opset 23's attention ops and Einsum (explicit, implicit, "..." broadcast, a diagonal), as newer exporters write them. */
function attentionZoo(): ModelBuilder {
  const b = new ModelBuilder(6).input('x', [2, 5, 24]).input('q4', [2, 4, 5, 6]).input('k4', [2, 2, 3, 6]).input('v4', [2, 2, 3, 8])
    .input('pk', [2, 2, 4, 6]).input('pv', [2, 2, 4, 8]).input('e', [3, 1, 4, 5]).input('f', [1, 2, 5, 6]).input('k3', [2, 5, 12]).input('v3', [2, 5, 18]);
  b.ints('pos', Array.from({ length: 10 }, (_, i) => i % 5), [2, 5]);
  return b.node('RMSNormalization', ['x', b.weight('g', [24])], ['n'], { axis: -1 }, 'rms')
    .node('RotaryEmbedding', ['n', b.weight('cos', [5, 2]), b.weight('sin', [5, 2]), 'pos'], ['r'], { num_heads: 6 }, 'rope')
    .node('Attention', ['r', 'k3', 'v3'], ['a3'], { q_num_heads: 6, kv_num_heads: 3, is_causal: 1 }, 'attention_3d')
    .node('Attention', ['q4', 'k4', 'v4', '', 'pk', 'pv'], ['a4', 'present_k', 'present_v', 'scores'], {}, 'attention_4d')
    .node('Einsum', ['x', b.weight('w', [24, 7])], ['ein'], { equation: 'bsd,de->bse' }, 'einsum')
    .node('Einsum', ['e', 'f'], ['ell'], { equation: '...ij,...jk->...ik' }, 'einsum_broadcast')
    .node('Einsum', ['x', 'x'], ['imp'], { equation: 'bsd,btd' }, 'einsum_implicit')
    .node('Einsum', ['k4'], ['tr'], { equation: 'bhsd->bdsh' }, 'einsum_transpose')
    .output('a3').output('a4').output('present_k').output('present_v').output('scores').output('ein').output('ell').output('imp').output('tr');
}

/** onnxruntime-genai's int4 decoder layer: SkipSimplifiedLayerNormalization, MatMulNBits, GroupQueryAttention (packed, with rotary; and separate Q, K, V over a cache). */
function genaiZoo(): ModelBuilder {
  const b = new ModelBuilder(8).input('x', [1, 3, 64]).input('pk', [1, 2, 5, 16]).input('pv', [1, 2, 5, 16]);
  const raw = (name: string, dataType: number, dims: number[], bytes: Uint8Array<ArrayBuffer>) => {
    b.inits.push(create(TensorProtoSchema, { name, dataType, dims: dims.map(BigInt), rawData: bytes }));
    return name;
  };
  const nbits = (name: string, k: number, n: number) => [
    raw(`${name}.q`, 2, [n, k / 32, 16], Uint8Array.from({ length: (n * k) / 2 }, (_, i) => (i * 37 + 11) % 256)),
    raw(`${name}.s`, 1, [(n * k) / 32], new Uint8Array(Float32Array.from({ length: (n * k) / 32 }, (_, i) => 0.01 + 0.001 * (i % 5)).buffer)),
  ];
  const i32 = (name: string, v: number[], dims: number[]) => raw(name, 6, dims, new Uint8Array(Int32Array.from(v).buffer));
  const ms = (op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr>, name: string) => {
    b.node(op, inputs, outputs, attrs, name);
    b.nodes.at(-1)!.domain = 'com.microsoft';
  };
  ms('SkipSimplifiedLayerNormalization', ['x', 'x', b.weight('g', [64])], ['n', '', '', 'sum'], { epsilon: { f: 1e-5 } }, 'norm');
  ms('MatMulNBits', ['n', ...nbits('qkv', 64, 128)], ['qkv'], { K: 64, N: 128, bits: 4, block_size: 32 }, 'qkv_proj');
  ms('GroupQueryAttention', ['qkv', '', '', '', '', i32('seqlens_k', [2], [1]), i32('total', [3], []), b.weight('cos', [32, 8]), b.weight('sin', [32, 8])],
    ['a', 'present_k', 'present_v'], { num_heads: 4, kv_num_heads: 2, do_rotary: 1 }, 'attention_packed');
  ms('MatMulNBits', ['a', ...nbits('o', 64, 32)], ['q2'], { K: 64, N: 32, bits: 4, block_size: 32 }, 'q_proj');
  ms('MatMulNBits', ['a', ...nbits('kv', 64, 32)], ['k2'], { K: 64, N: 32, bits: 4, block_size: 32 }, 'k_proj');
  ms('GroupQueryAttention', ['q2', 'k2', 'k2', 'pk', 'pv', i32('seqlens_k2', [7], [1]), i32('total2', [8], [])],
    ['a2', 'present_k2', 'present_v2'], { num_heads: 2, kv_num_heads: 2 }, 'attention_cached');
  ms('RotaryEmbedding', ['a2', b.ints('pos', [0, 1, 2], [1, 3]), b.weight('cos2', [8, 4]), b.weight('sin2', [8, 4])], ['r'], {}, 'rope');
  return b.output('sum').output('present_k').output('present_v').output('present_k2').output('r');
}

/** onnxruntime's dynamic quantizer's recurrent layer: com.microsoft DynamicQuantizeLSTM, forward and bidirectional. */
function quantizedLstmZoo(): ModelBuilder {
  const b = new ModelBuilder(9).input('x', [5, 2, 6]);
  const raw = (name: string, dataType: number, dims: number[], bytes: Uint8Array<ArrayBuffer>) => {
    b.inits.push(create(TensorProtoSchema, { name, dataType, dims: dims.map(BigInt), rawData: bytes }));
    return name;
  };
  const int8 = (name: string, dims: number[]) => raw(name, 3, dims, Uint8Array.from({ length: dims.reduce((a, c) => a * c, 1) }, (_, i) => (i * 29 + 3) % 256));
  const scale = (name: string, dirs: number) => raw(name, 1, [dirs], new Uint8Array(Float32Array.from({ length: dirs }, () => 0.01).buffer));
  const zero = (name: string, dirs: number) => raw(name, 3, [dirs], new Uint8Array(dirs));
  const lstm = (name: string, x: string, inSize: number, hidden: number, dirs: number, outputs: string[]) => {
    const args = [x, int8(`${name}.w`, [dirs, inSize, 4 * hidden]), int8(`${name}.r`, [dirs, hidden, 4 * hidden]), b.weight(`${name}.b`, [dirs, 8 * hidden]), '', '', '', '',
      scale(`${name}.ws`, dirs), zero(`${name}.wz`, dirs), scale(`${name}.rs`, dirs), zero(`${name}.rz`, dirs)];
    b.node('DynamicQuantizeLSTM', args, outputs, { hidden_size: hidden, ...(dirs === 2 ? { direction: 'bidirectional' } : {}) }, name);
    b.nodes.at(-1)!.domain = 'com.microsoft';
  };
  lstm('forward', 'x', 6, 3, 1, ['y1', 'h1', 'c1']);
  b.node('Reshape', ['y1', b.ints('flat', [5, 2, 3])], ['y1f'], {}, 'flatten');
  lstm('bidirectional', 'y1f', 3, 4, 2, ['y2', 'h2', 'c2']);
  return b.output('h1').output('c1').output('y2').output('h2').output('c2');
}

describe('own shape inference agrees with onnxruntime', () => {
  it.each([
    ['op coverage, opset 13', opZoo(13), 13],
    ['op coverage, opset 11', opZoo(11), 11],
    ['op coverage, opset 18', opZoo(18), 18],
    ['chain', chain(), 13], ['residual', residual(), 13], ['squeeze-excite', squeezeExcite(), 13], ['inception', inception(), 13],
    ['quantized forms (QDQ, ConvInteger, dynamic MatMulInteger, QLinearConv, QLinearMatMul)', quantZoo(), 14],
    ['opset 23 attention (RMSNormalization, RotaryEmbedding, Attention 3-D and 4-D with a cache) and Einsum', attentionZoo(), 23],
    ["onnxruntime-genai's int4 layer (com.microsoft SkipSimplifiedLayerNormalization, MatMulNBits, GroupQueryAttention, RotaryEmbedding)", genaiZoo(), 17],
    ["onnxruntime's dynamically quantized LSTM (com.microsoft DynamicQuantizeLSTM)", quantizedLstmZoo(), 14],
  ] as const)('%s', async (_, b, opset) => {
    const proto = b.model(opset, opset >= 21 ? 11 : 8);
    if (b.nodes.some((n) => n.domain === 'com.microsoft')) proto.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'com.microsoft', version: 1n }));
    const model = await loadModel(toBinary(ModelProtoSchema, proto));
    const { graph } = model;
    // Every shape came from the package's own rules, not from the onnxruntime fallback.
    expect(analyseModel(model.proto, { name: 't', label: 't' }).missing).toBeUndefined();
    const names = graph.nodes.flatMap((n) => n.outputs.filter((o) => o !== ''));
    const feeds = new Map(graph.inputs.map((i) => [i, { dtype: graph.tensors.get(i)!.dtype, shape: [...graph.tensors.get(i)!.shape] }]));
    const measured = await measureShapes(model.proto, feeds, names, 'test');
    const mine = Object.fromEntries(names.map((n) => [n, `${graph.tensors.get(n)!.dtype}[${graph.tensors.get(n)!.shape.join(',')}]`]));
    const ort = Object.fromEntries(names.map((n) => [n, `${measured.get(n)!.dtype}[${measured.get(n)!.shape.join(',')}]`]));
    expect(mine).toEqual(ort);
  });
});
