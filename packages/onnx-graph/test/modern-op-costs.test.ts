// Costs of the ops newer exporters write: Einsum (TF, JAX, torch.einsum), ONNX Attention and
// RotaryEmbedding (opset 23, torch's dynamo exporter), onnxruntime's GroupQueryAttention
// (onnxruntime-genai's model builder). Each count is worked out by hand from the shapes, and each
// model is run by onnxruntime, so the shapes the counts use are the ones it produces.
import { create, toBinary } from '@bufbuild/protobuf';
import { AttributeProto_AttributeType, AttributeProtoSchema, ModelProtoSchema, TensorProtoSchema, type ModelProto } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { graphCosts, loadModel, randomFeeds, runModel, type LoadOptions } from '@dnnpart/onnx-graph';
import { ModelBuilder, type Attr } from './_models.js';

interface Case {
  readonly name: string;
  readonly build: () => Uint8Array;
  readonly node: string;
  readonly macs: number;
  readonly flops?: number;
  readonly options?: LoadOptions;
}

function oneNode(op: string, inputs: [string, number[], number?][], attrs: Record<string, Attr>, outputs: string[], opset: number, domain = ''): Uint8Array {
  const b = new ModelBuilder(3);
  for (const [name, dims, type] of inputs) if (name) b.input(name, dims, type); // '' is an optional input left out
  b.node(op, inputs.map(([n]) => n), outputs, attrs, 'n');
  b.nodes.at(-1)!.domain = domain;
  for (const o of outputs) b.output(o);
  const m = b.model(opset, opset >= 21 ? 10 : 8);
  if (domain) m.opsetImport.push({ $typeName: 'onnx.OperatorSetIdProto', domain, version: 1n });
  return new Uint8Array(toBytes(m));
}

// A model edited after building (a node's domain, an opset import) is serialised here.
const toBytes = (m: ModelProto) => toBinary(ModelProtoSchema, m);

const INT32 = 6;

/** onnxruntime's int8 LSTM (com.microsoft DynamicQuantizeLSTM): W [dirs, I, 4H] and R [dirs, H, 4H] in int8, per-direction scales. */
function quantizedLstm(seq: number, batch: number, inSize: number, hidden: number, dirs: number): Uint8Array {
  const b = new ModelBuilder(5).input('x', [seq, batch, inSize]);
  const raw = (name: string, dataType: number, dims: number[], data: ArrayLike<number>, Arr: typeof Int8Array | typeof Float32Array) => {
    b.inits.push(create(TensorProtoSchema, { name, dataType, dims: dims.map(BigInt), rawData: new Uint8Array(Arr.from(data).buffer) }));
    return name;
  };
  const int8 = (name: string, dims: number[]) => raw(name, 3, dims, Array.from({ length: dims.reduce((a, c) => a * c, 1) }, (_, i) => ((i * 29) % 255) - 127), Int8Array);
  const perDir = (name: string, dataType: number, v: number, Arr: typeof Int8Array | typeof Float32Array) => raw(name, dataType, [dirs], Array(dirs).fill(v), Arr);
  b.node('DynamicQuantizeLSTM', [
    'x', int8('w', [dirs, inSize, 4 * hidden]), int8('r', [dirs, hidden, 4 * hidden]), b.weight('bias', [dirs, 8 * hidden]), '', '', '', '',
    perDir('ws', 1, 0.01, Float32Array), perDir('wz', 3, 0, Int8Array), perDir('rs', 1, 0.01, Float32Array), perDir('rz', 3, 0, Int8Array),
  ], ['y', 'y_h', 'y_c'], { hidden_size: hidden, direction: dirs === 2 ? 'bidirectional' : 'forward' }, 'n');
  b.nodes.at(-1)!.domain = 'com.microsoft';
  const m = b.output('y').output('y_h').output('y_c').model(14);
  m.opsetImport.push({ $typeName: 'onnx.OperatorSetIdProto', domain: 'com.microsoft', version: 1n });
  return new Uint8Array(toBytes(m));
}
const CASES: Case[] = [
  // b q h d x b k h d -> b h q k: every index once, 2*5*3*4*7.
  { name: 'Einsum, attention scores', build: () => oneNode('Einsum', [['q', [2, 5, 3, 4]], ['k', [2, 7, 3, 4]]], { equation: 'bqhd,bkhd->bhqk' }, ['y'], 17), node: 'n', macs: 840 },
  // Implicit output (ik): a matrix product 3x4 by 4x5.
  { name: 'Einsum, implicit output', build: () => oneNode('Einsum', [['a', [3, 4]], ['b', [4, 5]]], { equation: 'ij,jk' }, ['y'], 17), node: 'n', macs: 60 },
  // "..." broadcast: [2, 1] against [1, 5] gives 10 batches of 3x4 by 4x6.
  { name: 'Einsum, broadcast ellipsis', build: () => oneNode('Einsum', [['a', [2, 1, 3, 4]], ['b', [1, 5, 4, 6]]], { equation: '...ij,...jk->...ik' }, ['y'], 17), node: 'n', macs: 720 },
  // Three operands: two passes over i j k l.
  { name: 'Einsum, three operands', build: () => oneNode('Einsum', [['a', [2, 3]], ['b', [3, 4]], ['c', [4, 5]]], { equation: 'ij,jk,kl->il' }, ['y'], 17), node: 'n', macs: 240 },
  // One operand: a transpose, 12 elements moved.
  { name: 'Einsum, one operand', build: () => oneNode('Einsum', [['a', [3, 4]]], { equation: 'ij->ji' }, ['y'], 17), node: 'n', macs: 0, flops: 12 },
  // 3-D, grouped heads: 4 query heads of 8 over 2 key/value heads, 6 queries over 6 keys: 4*6*6*(8+8).
  {
    name: 'Attention (opset 23), 3-D with grouped heads',
    build: () => oneNode('Attention', [['q', [1, 6, 32]], ['k', [1, 6, 16]], ['v', [1, 6, 16]]], { q_num_heads: 4, kv_num_heads: 2 }, ['y'], 23),
    node: 'n', macs: 2304, flops: 3 * 4 * 6 * 6,
  },
  // 4-D with a cache: 3 new keys after 5 cached ones, so each of 2 heads x 3 queries sees 8 keys.
  {
    name: 'Attention (opset 23), 4-D with past keys and values',
    build: () => oneNode('Attention', [['q', [1, 2, 3, 8]], ['k', [1, 2, 3, 8]], ['v', [1, 2, 3, 8]], ['', []], ['pk', [1, 2, 5, 8]], ['pv', [1, 2, 5, 8]]], {}, ['y', 'present_key', 'present_value'], 23),
    node: 'n', macs: 2 * 3 * 8 * 16, flops: 3 * 2 * 3 * 8,
  },
  // 3 elements of work per element of the rotated [1, 16, 64].
  {
    name: 'RotaryEmbedding (opset 23)',
    build: () => {
      const b = new ModelBuilder(3).input('x', [1, 16, 64]).input('pos', [1, 16], 7);
      b.node('RotaryEmbedding', ['x', b.weight('cos', [16, 8]), b.weight('sin', [16, 8]), 'pos'], ['y'], { num_heads: 4 }, 'n').output('y');
      return b.bytes(23, 10);
    },
    node: 'n', macs: 0, flops: 3 * 1024,
    options: { inputShapes: { pos: { shape: [1, 16], value: Array.from({ length: 16 }, (_, i) => i) } } },
  },
  // 4 query heads of 8 over 2 cached heads: 3 new tokens, present length 8 (5 + 3): 2*3*8*32.
  {
    name: 'GroupQueryAttention (com.microsoft) over a KV cache',
    build: () => oneNode('GroupQueryAttention', [
      ['q', [1, 3, 32]], ['k', [1, 3, 16]], ['v', [1, 3, 16]], ['past_key', [1, 2, 5, 8]], ['past_value', [1, 2, 5, 8]],
      ['seqlens_k', [1], INT32], ['total_sequence_length', [], INT32],
    ], { num_heads: 4, kv_num_heads: 2 }, ['y', 'present_key', 'present_value'], 17, 'com.microsoft'),
    node: 'n', macs: 2 * 3 * 8 * 32, flops: 3 * 4 * 3 * 8,
    options: { inputShapes: { seqlens_k: { shape: [1], value: [7] }, total_sequence_length: { shape: [], value: [8] } } },
  },
  // Per step, direction and gate, the input (6) and the hidden state (3): 5 steps x 2 batches x 2
  // directions x 12 gate rows x (6 + 3); 12 FLOPs per element of Y [5, 2, 2, 3].
  { name: 'DynamicQuantizeLSTM (com.microsoft), bidirectional', build: () => quantizedLstm(5, 2, 6, 3, 2), node: 'n', macs: 2160, flops: 12 * 60 },
  // Ops ONNX's backend test models hold that the cost model counted as 0 (libonnx-testdata):
  // Det, an LU of each 3x3 matrix, 2/3 n^3 = 18 FLOPs, twice; the losses, a weighted pick per target
  // (2 x 3), after a log-softmax of 3 per score (3 x 15) for the cross-entropy.
  { name: 'Det of 2 matrices 3x3', build: () => oneNode('Det', [['x', [2, 3, 3]]], {}, ['y'], 13), node: 'n', macs: 0, flops: 36 },
  { name: 'NegativeLogLikelihoodLoss', build: () => oneNode('NegativeLogLikelihoodLoss', [['x', [3, 5]], ['t', [3], 7]], {}, ['y'], 13), node: 'n', macs: 0, flops: 6 },
  // DeformConv (opset 19) as a Conv: 8 outputs [1, 2, 2, 2] x 2 channels x 3 x 3 taps; Swish (opset
  // 24), a FLOP per element.
  {
    name: 'DeformConv', node: 'n', macs: 144,
    build: () => {
      const b = new ModelBuilder(3).input('x', [1, 2, 4, 4]);
      b.weight('w', [2, 2, 3, 3]);
      b.weight('off', [1, 18, 2, 2], 0.5);
      return b.node('DeformConv', ['x', 'w', 'off'], ['y'], {}, 'n').output('y').bytes(19, 9);
    },
  },
  { name: 'Swish', build: () => oneNode('Swish', [['x', [1, 2, 4, 4]]], {}, ['y'], 24), node: 'n', macs: 0, flops: 32 },
  { name: 'SoftmaxCrossEntropyLoss', build: () => oneNode('SoftmaxCrossEntropyLoss', [['x', [3, 5]], ['t', [3], 7]], {}, ['y'], 13), node: 'n', macs: 0, flops: 51 },
];

describe('costs of the ops newer exporters write', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const bytes = c.build();
    const { graph } = await loadModel(bytes, c.options ?? {});
    const costs = graphCosts(graph);
    expect(costs.unknownOps).toEqual([]);
    const cost = costs.nodes.get(c.node)!;
    expect(cost.known).toBe(true);
    expect(cost.macs).toBe(c.macs);
    if (c.flops !== undefined) expect(cost.flops).toBe(c.flops);
    // onnxruntime runs the model and produces the shapes the counts were taken from.
    const out = await runModel(bytes, randomFeeds(graph), graph.outputs);
    for (const name of graph.outputs) expect([...out[name]!.dims]).toEqual([...graph.tensors.get(name)!.shape]);
  });

  it('prices scikit-learn\'s ai.onnx.ml models, whose weights sit in attributes', async () => {
    // LinearRegressor: 2 rows of 4 features times 3 targets' coefficients (12): 24 MACs; 12 + 3 weights.
    const linear = oneNode('LinearRegressor', [['x', [2, 4]]], { coefficients: { floats: Array.from({ length: 12 }, (_, i) => i / 10) }, intercepts: { floats: [0.1, 0.2, 0.3] }, targets: 3 }, ['y'], 17, 'ai.onnx.ml');
    // TreeEnsembleRegressor: two trees of three nodes (a split and two leaves) on 5 rows: each row
    // walks two levels of both trees, 5 x 2 x 2 comparisons.
    const b = new ModelBuilder(3).input('x', [5, 3]);
    b.node('TreeEnsembleRegressor', ['x'], ['y'], {
      n_targets: 1, nodes_treeids: [0, 0, 0, 1, 1, 1], nodes_nodeids: [0, 1, 2, 0, 1, 2], nodes_featureids: [0, 0, 0, 1, 0, 0],
      nodes_values: { floats: [0.5, 0, 0, 0.2, 0, 0] }, nodes_truenodeids: [1, 0, 0, 1, 0, 0], nodes_falsenodeids: [2, 0, 0, 2, 0, 0],
      target_treeids: [0, 0, 1, 1], target_nodeids: [1, 2, 1, 2], target_ids: [0, 0, 0, 0], target_weights: { floats: [1, 2, 3, 4] },
    }, 'n').output('y');
    const tree = b.nodes.at(-1)!;
    tree.domain = 'ai.onnx.ml';
    tree.attribute.push(create(AttributeProtoSchema, { name: 'nodes_modes', type: AttributeProto_AttributeType.STRINGS, strings: ['BRANCH_LEQ', 'LEAF', 'LEAF', 'BRANCH_LEQ', 'LEAF', 'LEAF'].map((s) => new TextEncoder().encode(s)) }));
    const m = b.model(17);
    m.opsetImport.push({ $typeName: 'onnx.OperatorSetIdProto', domain: 'ai.onnx.ml', version: 1n });
    for (const [bytes, macs, flops, params] of [[linear, 24, 0, 15], [new Uint8Array(toBytes(m)), 0, 20, 6 * 6 + 4 * 4]] as const) {
      const { graph } = await loadModel(bytes);
      const costs = graphCosts(graph);
      expect(costs.unknownOps).toEqual([]);
      expect(costs.nodes.get('n')).toMatchObject({ macs, flops, params, paramBytes: 4 * params, known: true });
      expect(costs.params).toBe(params);
      const out = await runModel(bytes, randomFeeds(graph), graph.outputs);
      expect([...out['y']!.dims]).toEqual([...graph.tensors.get('y')!.shape]);
    }
  });

  it('prices onnxruntime\'s com.microsoft Attention by its own formula, not the ONNX one', async () => {
    // Packed Q, K, V weights [16, 48] on input [1, 4, 16]: the projection 4*16*48 plus 4*4*(16+16).
    const b = new ModelBuilder(3).input('x', [1, 4, 16]);
    b.node('Attention', ['x', b.weight('w', [16, 48]), b.weight('bias', [48])], ['y'], { num_heads: 2 }, 'n').output('y');
    b.nodes.at(-1)!.domain = 'com.microsoft';
    const m = b.model(17);
    m.opsetImport.push({ $typeName: 'onnx.OperatorSetIdProto', domain: 'com.microsoft', version: 1n });
    const { graph } = await loadModel(new Uint8Array(toBytes(m)));
    expect(graphCosts(graph).nodes.get('n')!.macs).toBe(4 * 16 * 48 + 4 * 4 * 32);
  });
});
