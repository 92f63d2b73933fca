// The cost model on the ops quantized and onnxruntime-optimised exports are made of: QOperator and
// integer convolutions and products, QDQ pairs, and the com.microsoft fused ops (FusedConv,
// FusedMatMul, Attention, MultiHeadAttention). MACs worked by hand from each op's definition;
// shapes the graph's own inference cannot tell come from onnxruntime running the model.
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProtoSchema, type TensorProto } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { convWeight, graphCosts, loadModel } from '@dnnpart/onnx-graph';
import { ModelBuilder } from './_models.js';

const FLOAT = 1;
const UINT8 = 2;
const INT8 = 3;

function tensor(name: string, dataType: number, dims: number[], raw: ArrayBufferView): TensorProto {
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType, rawData: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength).slice() });
}
const n = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
const int8 = (name: string, dims: number[]) => tensor(name, INT8, dims, Int8Array.from({ length: n(dims) }, (_, i) => (i % 7) - 3));
const uint8 = (name: string, dims: number[], v = 128) => tensor(name, UINT8, dims, Uint8Array.from({ length: n(dims) }, () => v));
const float = (name: string, dims: number[], v = 0.05) => tensor(name, FLOAT, dims, Float32Array.from({ length: n(dims) }, (_, i) => v * ((i % 5) - 2)));
/** Scales and zero points a QOperator node reads. */
const quant = (b: ModelBuilder) => b.inits.push(float('s', [], 0.02), uint8('z', [], 128), float('ws', [], 0.01), tensor('wz', INT8, [], Int8Array.of(0)));

/** The model's bytes; `contrib` nodes are in onnxruntime's com.microsoft domain. */
function bytes(b: ModelBuilder, contrib: string[] = []): Uint8Array {
  for (const node of b.nodes) if (contrib.includes(node.name)) node.domain = 'com.microsoft';
  const m = b.model(13);
  if (contrib.length) m.opsetImport.push({ $typeName: 'onnx.OperatorSetIdProto', domain: 'com.microsoft', version: 1n } as never);
  return toBinary(ModelProtoSchema, m);
}

const cases: [string, () => Uint8Array, string, number][] = [
  ['QLinearConv: 4x8x8 outputs x 3x3x3 window', () => {
    const b = new ModelBuilder().input('x', [1, 3, 8, 8], UINT8);
    quant(b);
    b.inits.push(int8('w', [4, 3, 3, 3]));
    return bytes(b.node('QLinearConv', ['x', 's', 'z', 'w', 'ws', 'wz', 's', 'z'], ['y'], { pads: [1, 1, 1, 1] }, 'qconv').output('y'));
  }, 'qconv', 256 * 27],
  ['ConvInteger', () => {
    const b = new ModelBuilder().input('x', [1, 3, 8, 8], UINT8);
    b.inits.push(int8('w', [4, 3, 3, 3]));
    return bytes(b.node('ConvInteger', ['x', 'w'], ['y'], { pads: [1, 1, 1, 1] }, 'iconv').output('y'));
  }, 'iconv', 256 * 27],
  ['MatMulInteger: [1,5,6] x [6,7]', () => {
    const b = new ModelBuilder().input('a', [1, 5, 6], UINT8);
    b.inits.push(int8('w', [6, 7]));
    return bytes(b.node('MatMulInteger', ['a', 'w'], ['y'], {}, 'imm').output('y'));
  }, 'imm', 35 * 6],
  ['QLinearMatMul: [5,6] x [6,7]', () => {
    const b = new ModelBuilder().input('a', [5, 6], UINT8);
    quant(b);
    b.inits.push(uint8('w', [6, 7], 130), uint8('wzu', [], 128));
    return bytes(b.node('QLinearMatMul', ['a', 's', 'z', 'w', 'ws', 'wzu', 's', 'z'], ['y'], {}, 'qmm').output('y'));
  }, 'qmm', 35 * 6],
  ['FusedMatMul with transA: [6,5]^T x [6,7]', () => {
    const b = new ModelBuilder().input('a', [6, 5]);
    b.inits.push(float('w', [6, 7]));
    return bytes(b.node('FusedMatMul', ['a', 'w'], ['y'], { transA: 1 }, 'fmm').output('y'), ['fmm']);
  }, 'fmm', 35 * 6],
  ['FusedConv (Conv + Relu)', () => {
    const b = new ModelBuilder().input('x', [1, 3, 8, 8]);
    b.inits.push(float('w', [4, 3, 3, 3]));
    return bytes(b.node('FusedConv', ['x', 'w'], ['y'], { pads: [1, 1, 1, 1], kernel_shape: [3, 3], activation: 'Relu' }, 'fconv').output('y'), ['fconv']);
  }, 'fconv', 256 * 27],
  // Q, K, V projections 1*4*8*24, then Q K^T and the sum over V: 1*4*4*8 each.
  ['Attention: [1,4,8], packed weights [8,24], 2 heads', () => {
    const b = new ModelBuilder().input('x', [1, 4, 8]);
    b.inits.push(float('w', [8, 24]), float('bias', [24]));
    return bytes(b.node('Attention', ['x', 'w', 'bias'], ['y'], { num_heads: 2 }, 'attn').output('y'), ['attn']);
  }, 'attn', 4 * 8 * 24 + 2 * 4 * 4 * 8],
  ['MultiHeadAttention: Q [1,4,8] against K, V [1,6,8]', () => {
    const b = new ModelBuilder().input('q', [1, 4, 8]).input('k', [1, 6, 8]).input('v', [1, 6, 8]);
    return bytes(b.node('MultiHeadAttention', ['q', 'k', 'v'], ['y'], { num_heads: 2 }, 'mha').output('y'), ['mha']);
  }, 'mha', 2 * 4 * 6 * 8],
  ['QuantizeLinear then DequantizeLinear (QDQ): known, element-wise', () => {
    const b = new ModelBuilder().input('x', [1, 3, 8, 8]);
    quant(b);
    return bytes(b.node('QuantizeLinear', ['x', 's', 'z'], ['q'], {}, 'quant').node('DequantizeLinear', ['q', 's', 'z'], ['y'], {}, 'dequant').output('y'));
  }, 'dequant', 0],
];

describe('costs of quantized and fused ops', () => {
  it.each(cases)('%s', async (_, build, node, macs) => {
    const { graph } = await loadModel(build());
    const costs = graphCosts(graph);
    expect(costs.unknownOps).toEqual([]);
    const c = costs.nodes.get(node)!;
    expect(c.known).toBe(true);
    expect(c.macs).toBe(macs);
    if (macs === 0) expect(c.flops).toBe(3 * 64);
  });

  it('finds the weight of every kind of convolution', async () => {
    for (const [name, build, node] of cases.slice(0, 2).concat([cases[5]!])) {
      const { graph } = await loadModel(build());
      const conv = graph.nodes.find((x) => x.name === node)!;
      expect(convWeight(conv), name).toBe('w');
    }
  });
});
