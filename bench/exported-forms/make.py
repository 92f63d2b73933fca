#!/usr/bin/env python3
# The forms exporters and onnxruntime's tools write, as small ONNX files for bench/exported-forms.mjs:
# QDQ and QOperator int8, com.microsoft fused ops, dynamic dims, IR 3 with initializers as inputs,
# repeated node names, float16, model-local functions, sequences, integer and bool inputs, a custom op, constant outputs,
# a shape given as an input, a scalar input, dead outputs, opset 7, GRU/LSTM, Resize/Where/Tile; opset 23
# attention, Einsum, GroupQueryAttention, onnxruntime-genai's int4 layer, external data, Loop, Scan, a batch of 4.
# Needs python3-onnx (Debian) and numpy. Usage: python3 bench/exported-forms/make.py <out dir>
import os, sys
OUT = sys.argv[1] if len(sys.argv) > 1 else '/tmp/dnnpart-exported-forms'
os.makedirs(OUT, exist_ok=True)
import numpy as np, onnx
from onnx import helper as h, TensorProto as T, numpy_helper as nh
def save(name, nodes, inputs, outputs, inits=(), opset=17, domains=(), ir=8, vi=()):
    g = h.make_graph(nodes, name, inputs, outputs, list(inits), value_info=list(vi))
    ops = [h.make_opsetid('', opset)] + [h.make_opsetid(d, v) for d, v in domains]
    m = h.make_model(g, opset_imports=ops, producer_name='adv')
    m.ir_version = ir
    onnx.save(m, os.path.join(OUT, f'{name}.onnx'))
r = np.random.default_rng(0)
W = lambda n, *s: nh.from_array(r.standard_normal(s).astype(np.float32) * 0.1, n)
x = h.make_tensor_value_info('x', T.FLOAT, [1, 3, 32, 32])
# 1. QDQ quantized conv chain (what ORT's static quantizer writes)
nodes = []; inits = []
inits += [nh.from_array(np.array(0.02, np.float32), 's'), nh.from_array(np.array(0, np.uint8), 'z'),
          nh.from_array(np.array(0.01, np.float32), 'ws'), nh.from_array(np.array(0, np.int8), 'wz')]
prev = 'x'
for i in range(3):
    cin = 3 if i == 0 else 8
    wq = nh.from_array((r.integers(-20, 20, (8, cin, 3, 3))).astype(np.int8), f'w{i}_q')
    inits.append(wq)
    nodes += [h.make_node('QuantizeLinear', [prev, 's', 'z'], [f'q{i}'], name=f'q{i}'),
              h.make_node('DequantizeLinear', [f'q{i}', 's', 'z'], [f'dq{i}'], name=f'dq{i}'),
              h.make_node('DequantizeLinear', [f'w{i}_q', 'ws', 'wz'], [f'w{i}'], name=f'dqw{i}'),
              h.make_node('Conv', [f'dq{i}', f'w{i}'], [f'c{i}'], name=f'conv{i}', pads=[1,1,1,1]),
              h.make_node('Relu', [f'c{i}'], [f'r{i}'], name=f'relu{i}')]
    prev = f'r{i}'
save('qdq', nodes, [x], [h.make_tensor_value_info(prev, T.FLOAT, None)], inits, opset=13)
# 2. QOperator: QLinearConv chain with uint8 in/out
xq = h.make_tensor_value_info('xq', T.UINT8, [1, 3, 32, 32])
inits = [nh.from_array(np.array(0.02, np.float32), 's'), nh.from_array(np.array(128, np.uint8), 'z'),
         nh.from_array(np.array(0.01, np.float32), 'ws'), nh.from_array(np.array(0, np.int8), 'wz')]
nodes = []; prev = 'xq'
for i in range(3):
    cin = 3 if i == 0 else 8
    inits.append(nh.from_array((r.integers(-20, 20, (8, cin, 3, 3))).astype(np.int8), f'w{i}'))
    nodes.append(h.make_node('QLinearConv', [prev, 's', 'z', f'w{i}', 'ws', 'wz', 's', 'z'], [f'y{i}'], name=f'qconv{i}', pads=[1,1,1,1]))
    prev = f'y{i}'
nodes.append(h.make_node('DequantizeLinear', [prev, 's', 'z'], ['out'], name='deq'))
save('qlinear', nodes, [xq], [h.make_tensor_value_info('out', T.FLOAT, None)], inits, opset=13)
# 3. com.microsoft fused ops (ORT transformer optimizer output)
xs = h.make_tensor_value_info('x', T.FLOAT, [1, 16, 64])
inits = [W('w1', 64, 64), W('b1', 64), W('g', 64), W('beta', 64), W('w2', 64, 64)]
nodes = [h.make_node('MatMul', ['x', 'w1'], ['m1'], name='mm1'),
         h.make_node('BiasGelu', ['m1', 'b1'], ['ge'], name='biasgelu', domain='com.microsoft'),
         h.make_node('SkipLayerNormalization', ['ge', 'x', 'g', 'beta'], ['ln'], name='skipln', domain='com.microsoft'),
         h.make_node('FusedMatMul', ['ln', 'w2'], ['out'], name='fmm', domain='com.microsoft', alpha=1.0)]
save('msft', nodes, [xs], [h.make_tensor_value_info('out', T.FLOAT, None)], inits, opset=17, domains=[('com.microsoft', 1)])
# 4. dynamic input, no shape given
xd = h.make_tensor_value_info('x', T.FLOAT, ['N', 3, 'H', 'W'])
inits = [W('w', 4, 3, 3, 3)]
nodes = [h.make_node('Conv', ['x', 'w'], ['c'], name='conv', pads=[1,1,1,1]), h.make_node('Relu', ['c'], ['out'], name='relu')]
save('dynamic', nodes, [xd], [h.make_tensor_value_info('out', T.FLOAT, None)], inits)
# 5. initializers listed as graph inputs (IR 3 style), unnamed nodes, output = input passthrough too
inits = [W('w', 4, 3, 3, 3), W('b', 4)]
nodes = [h.make_node('Conv', ['x', 'w', 'b'], ['c'], pads=[1,1,1,1]), h.make_node('Relu', ['c'], ['out'])]
save('ir3', nodes, [x, h.make_tensor_value_info('w', T.FLOAT, [4,3,3,3]), h.make_tensor_value_info('b', T.FLOAT, [4])],
     [h.make_tensor_value_info('out', T.FLOAT, None), h.make_tensor_value_info('x', T.FLOAT, None)], inits, opset=9, ir=3)
# 6. duplicate node names, empty optional input, two disconnected branches
y = h.make_tensor_value_info('y', T.FLOAT, [1, 8])
inits = [W('w', 4, 3, 3, 3), W('lw', 8, 8)]
nodes = [h.make_node('Conv', ['x', 'w', ''], ['c'], name='n', pads=[1,1,1,1]), h.make_node('Relu', ['c'], ['o1'], name='n'),
         h.make_node('MatMul', ['y', 'lw'], ['m'], name='n'), h.make_node('Sigmoid', ['m'], ['o2'], name='n')]
save('dupnames', nodes, [x, y], [h.make_tensor_value_info('o1', T.FLOAT, None), h.make_tensor_value_info('o2', T.FLOAT, None)], inits)
# 7. float16 model
x16 = h.make_tensor_value_info('x', T.FLOAT16, [1, 3, 32, 32])
inits = [nh.from_array((r.standard_normal((8, 3, 3, 3)) * 0.1).astype(np.float16), 'w'), nh.from_array((r.standard_normal((8, 8, 3, 3)) * 0.1).astype(np.float16), 'w2')]
nodes = [h.make_node('Conv', ['x', 'w'], ['c'], name='conv', pads=[1,1,1,1]), h.make_node('Relu', ['c'], ['r'], name='relu'),
         h.make_node('Conv', ['r', 'w2'], ['c2'], name='conv2', pads=[1,1,1,1]), h.make_node('Add', ['c2', 'r'], ['out'], name='add')]
save('fp16', nodes, [x16], [h.make_tensor_value_info('out', T.FLOAT16, None)], inits)
# 8. sequence ops between convolutions (a scripted torch list: split, one part read by index, the
# list joined again), and one made by SequenceConstruct
xs = h.make_tensor_value_info('x', T.FLOAT, [1, 3, 16, 16])
inits = [nh.from_array((r.standard_normal((6, 3, 3, 3)) * 0.2).astype(np.float32), 'sw1'),
         nh.from_array((r.standard_normal((4, 6, 3, 3)) * 0.2).astype(np.float32), 'sw2'),
         nh.from_array(np.array(1, np.int64), 'one')]
nodes = [h.make_node('Conv', ['x', 'sw1'], ['c1'], name='conv1', pads=[1,1,1,1]),
         h.make_node('SplitToSequence', ['c1'], ['seq'], name='split', axis=1),
         h.make_node('SequenceAt', ['seq', 'one'], ['part'], name='at'),
         h.make_node('Relu', ['part'], ['rp'], name='relu_part'),
         h.make_node('SequenceInsert', ['seq', 'rp'], ['seq2'], name='insert'),
         h.make_node('ConcatFromSequence', ['seq2'], ['cat'], name='cat', axis=1),
         h.make_node('Slice', ['cat', 'st', 'en', 'ax'], ['cs'], name='keep6'),
         h.make_node('Conv', ['cs', 'sw2'], ['c2'], name='conv2', pads=[1,1,1,1]),
         h.make_node('SequenceConstruct', ['c2', 'c2'], ['pair'], name='pair'),
         h.make_node('ConcatFromSequence', ['pair'], ['out'], name='join', axis=1)]
inits += [nh.from_array(np.array([0], np.int64), 'st'), nh.from_array(np.array([6], np.int64), 'en'), nh.from_array(np.array([1], np.int64), 'ax')]
save('sequence', nodes, [xs], [h.make_tensor_value_info('out', T.FLOAT, None)], inits, opset=17)
# 9. integer/bool/scalar inputs: Gather embedding + where mask
ids = h.make_tensor_value_info('ids', T.INT64, [1, 10]); mask = h.make_tensor_value_info('mask', T.BOOL, [1, 10, 1])
inits = [W('emb', 100, 16), nh.from_array(np.array(0, np.float32), 'zero'), W('w', 16, 16)]
nodes = [h.make_node('Gather', ['emb', 'ids'], ['e'], name='embed'), h.make_node('Where', ['mask', 'e', 'zero'], ['m'], name='where'),
         h.make_node('MatMul', ['m', 'w'], ['mm'], name='mm'), h.make_node('ReduceMean', ['mm'], ['out'], name='mean', axes=[1], keepdims=0)]
save('tokens', nodes, [ids, mask], [h.make_tensor_value_info('out', T.FLOAT, None)], inits, opset=13)
# 10. an op ORT lacks / an unknown custom domain
nodes = [h.make_node('Relu', ['x'], ['r'], name='relu'), h.make_node('MyOp', ['r'], ['out'], name='custom', domain='ai.custom')]
save('customop', nodes, [x], [h.make_tensor_value_info('out', T.FLOAT, None)], [], domains=[('ai.custom', 1)])
# 11. output produced by an initializer-only subgraph (constant output) plus a real path
inits = [W('c', 1, 4), W('w', 4, 3, 3, 3)]
nodes = [h.make_node('Conv', ['x', 'w'], ['conv'], name='conv', pads=[1,1,1,1]), h.make_node('Relu', ['c'], ['const_out'], name='constrelu')]
save('constout', nodes, [x], [h.make_tensor_value_info('conv', T.FLOAT, None), h.make_tensor_value_info('const_out', T.FLOAT, None)], inits)

# Second set.
def save2(name, nodes, inputs, outputs, inits=(), opset=17, ir=8):
    g = h.make_graph(nodes, name, inputs, outputs, list(inits))
    m = h.make_model(g, opset_imports=[h.make_opsetid('', opset)], producer_name='adv'); m.ir_version = ir
    onnx.save(m, os.path.join(OUT, f'{name}.onnx'))
r = np.random.default_rng(1)
W = lambda n, *s: nh.from_array(r.standard_normal(s).astype(np.float32) * 0.1, n)
x = h.make_tensor_value_info('x', T.FLOAT, [1, 3, 16, 16])
# shape given as an int64 graph input
shp = h.make_tensor_value_info('shape', T.INT64, [2])
save2('shapeinput', [h.make_node('Conv', ['x', 'w'], ['c'], name='conv', pads=[1,1,1,1]), h.make_node('Reshape', ['c', 'shape'], ['out'], name='reshape')],
     [x, shp], [h.make_tensor_value_info('out', T.FLOAT, None)], [W('w', 4, 3, 3, 3)])
# scalar float input + unused input
t = h.make_tensor_value_info('temp', T.FLOAT, []); unused = h.make_tensor_value_info('unused', T.FLOAT, [1, 4])
save2('scalar', [h.make_node('Conv', ['x', 'w'], ['c'], name='conv', pads=[1,1,1,1]), h.make_node('Div', ['c', 'temp'], ['d'], name='div'), h.make_node('Softmax', ['d'], ['out'], name='softmax', axis=1)],
     [x, t, unused], [h.make_tensor_value_info('out', T.FLOAT, None)], [W('w', 4, 3, 3, 3)])
# dead outputs: Dropout mask, MaxPool indices, Split output unused
save2('deadouts', [h.make_node('Conv', ['x', 'w'], ['c'], name='conv', pads=[1,1,1,1]),
                  h.make_node('MaxPool', ['c'], ['p', 'idx'], name='pool', kernel_shape=[2,2], strides=[2,2]),
                  h.make_node('Dropout', ['p'], ['dr', 'mask'], name='drop'),
                  h.make_node('Split', ['dr'], ['s0', 's1'], name='split', axis=1, num_outputs=2) if False else h.make_node('Split', ['dr', 'splits'], ['s0', 's1'], name='split', axis=1),
                  h.make_node('Relu', ['s0'], ['out'], name='relu')],
     [x], [h.make_tensor_value_info('out', T.FLOAT, None)], [W('w', 4, 3, 3, 3), nh.from_array(np.array([2, 2], np.int64), 'splits')])
# old opset 7: BatchNormalization, Upsample
save2('opset7', [h.make_node('Conv', ['x', 'w'], ['c'], name='conv', pads=[1,1,1,1]),
                h.make_node('BatchNormalization', ['c', 'g', 'b', 'm', 'v'], ['bn'], name='bn'),
                h.make_node('Upsample', ['bn'], ['up'], name='up', scales=[1.0, 1.0, 2.0, 2.0], mode='nearest'),
                h.make_node('Relu', ['up'], ['out'], name='relu')],
     [x], [h.make_tensor_value_info('out', T.FLOAT, None)], [W('w', 4, 3, 3, 3), W('g', 4), W('b', 4), W('m', 4), nh.from_array(np.ones(4, np.float32), 'v')], opset=7, ir=3)
# GRU over a sequence + LSTM
xs = h.make_tensor_value_info('x', T.FLOAT, [10, 1, 8])
save2('rnn', [h.make_node('GRU', ['x', 'Wg', 'Rg'], ['y', 'yh'], name='gru', hidden_size=16),
             h.make_node('Squeeze', ['y', 'ax'], ['ys'], name='sq'),
             h.make_node('LSTM', ['ys', 'Wl', 'Rl'], ['y2', 'h2', 'c2'], name='lstm', hidden_size=8),
             h.make_node('Relu', ['h2'], ['out'], name='relu')],
     [xs], [h.make_tensor_value_info('out', T.FLOAT, None)], [W('Wg', 1, 48, 8), W('Rg', 1, 48, 16), W('Wl', 1, 32, 16), W('Rl', 1, 32, 8), nh.from_array(np.array([1], np.int64), 'ax')])
# Resize with scales from Constant, plus Expand/Tile and a Where diamond
save2('resize', [h.make_node('Constant', [], ['scales'], name='cst', value=nh.from_array(np.array([1, 1, 2, 2], np.float32))),
                h.make_node('Resize', ['x', '', 'scales'], ['rz'], name='resize', mode='linear'),
                h.make_node('Conv', ['rz', 'w'], ['c'], name='conv', pads=[1,1,1,1]),
                h.make_node('Greater', ['c', 'zero'], ['gt'], name='gt'),
                h.make_node('Where', ['gt', 'c', 'zero'], ['wh'], name='where'),
                h.make_node('Tile', ['wh', 'reps'], ['out'], name='tile')],
     [x], [h.make_tensor_value_info('out', T.FLOAT, None)], [W('w', 4, 3, 3, 3), nh.from_array(np.array(0, np.float32), 'zero'), nh.from_array(np.array([1, 2, 1, 1], np.int64), 'reps')], opset=13)
# Model-local functions (a submodule exported as a FunctionProto, called twice).
fn = h.make_function('pkg.local', 'Block', ['x', 'w'], ['y'],
    [h.make_node('Conv', ['x', 'w'], ['c'], pads=[1,1,1,1]), h.make_node('Relu', ['c'], ['y'])],
    [h.make_opsetid('', 17)])
inits = [W('w1', 8, 3, 3, 3), W('w2', 8, 8, 3, 3)]
nodes = [h.make_node('Block', ['x', 'w1'], ['b1'], name='block1', domain='pkg.local'),
         h.make_node('Block', ['b1', 'w2'], ['b2'], name='block2', domain='pkg.local'),
         h.make_node('GlobalAveragePool', ['b2'], ['y'], name='gap')]
g = h.make_graph(nodes, 'localfn', [x], [h.make_tensor_value_info('y', T.FLOAT, [1, 8, 1, 1])], inits)
m = h.make_model(g, opset_imports=[h.make_opsetid('', 17), h.make_opsetid('pkg.local', 1)], functions=[fn]); m.ir_version = 8
onnx.save(m, os.path.join(OUT, 'localfn.onnx'))

# Third set: what newer exporters and tools write. torch's dynamo exporter at opset 23 (RMSNormalization,
# RotaryEmbedding, Attention), Einsum attention (TF, JAX), onnxruntime-genai's GroupQueryAttention with a KV
# cache, weights in an external data file, a Loop reading an outer tensor, Scan, a fixed batch of 4.
r = np.random.default_rng(2)
W = lambda n, *s: nh.from_array(r.standard_normal(s).astype(np.float32) * 0.1, n)
V = h.make_tensor_value_info
def model(name, nodes, inputs, outputs, inits=(), opset=17, ir=8, domains=()):
    g = h.make_graph(nodes, name, inputs, outputs, list(inits))
    m = h.make_model(g, opset_imports=[h.make_opsetid('', opset)] + [h.make_opsetid(d, v) for d, v in domains], producer_name='adv'); m.ir_version = ir
    return m
# opset 23 attention block (torch dynamo at opset 23): RMSNormalization, RotaryEmbedding, Attention
S, D, Hh = 16, 64, 4
x = V('x', T.FLOAT, [1, S, D])
inits = [W('wq', D, D), W('wk', D, D), W('wv', D, D), W('wo', D, D), nh.from_array(np.ones(D, np.float32), 'g'),
         nh.from_array(np.cos(np.outer(np.arange(S), np.arange(8))).astype(np.float32), 'cos'),
         nh.from_array(np.sin(np.outer(np.arange(S), np.arange(8))).astype(np.float32), 'sin'),
         nh.from_array(np.arange(S, dtype=np.int64).reshape(1, S), 'pos')]
nodes = [h.make_node('RMSNormalization', ['x', 'g'], ['n'], name='rms', axis=-1),
         h.make_node('MatMul', ['n', 'wq'], ['q'], name='q'), h.make_node('MatMul', ['n', 'wk'], ['k'], name='k'), h.make_node('MatMul', ['n', 'wv'], ['v'], name='v'),
         h.make_node('RotaryEmbedding', ['q', 'cos', 'sin', 'pos'], ['qr'], name='ropeq', num_heads=Hh),
         h.make_node('RotaryEmbedding', ['k', 'cos', 'sin', 'pos'], ['kr'], name='ropek', num_heads=Hh),
         h.make_node('Attention', ['qr', 'kr', 'v'], ['a'], name='attn', q_num_heads=Hh, kv_num_heads=Hh, is_causal=1),
         h.make_node('MatMul', ['a', 'wo'], ['o'], name='o'), h.make_node('Add', ['x', 'o'], ['out'], name='res')]
onnx.save(model('opset23', nodes, [x], [V('out', T.FLOAT, None)], inits, opset=23, ir=11), os.path.join(OUT, 'opset23.onnx'))
# Einsum attention (TF/JAX exports)
nodes = [h.make_node('MatMul', ['x', 'wq'], ['q'], name='q'), h.make_node('MatMul', ['x', 'wk'], ['k'], name='k'), h.make_node('MatMul', ['x', 'wv'], ['v'], name='v'),
         h.make_node('Reshape', ['q', 'hs'], ['q4'], name='rq'), h.make_node('Reshape', ['k', 'hs'], ['k4'], name='rk'), h.make_node('Reshape', ['v', 'hs'], ['v4'], name='rv'),
         h.make_node('Einsum', ['q4', 'k4'], ['s'], name='qk', equation='bqhd,bkhd->bhqk'),
         h.make_node('Softmax', ['s'], ['p'], name='softmax', axis=-1),
         h.make_node('Einsum', ['p', 'v4'], ['c'], name='pv', equation='bhqk,bkhd->bqhd'),
         h.make_node('Reshape', ['c', 'flat'], ['c3'], name='rc'), h.make_node('MatMul', ['c3', 'wo'], ['o'], name='o'), h.make_node('Add', ['x', 'o'], ['out'], name='res')]
inits2 = inits[:4] + [nh.from_array(np.array([1, S, Hh, D // Hh], np.int64), 'hs'), nh.from_array(np.array([1, S, D], np.int64), 'flat')]
onnx.save(model('einsum', nodes, [x], [V('out', T.FLOAT, None)], inits2, opset=17), os.path.join(OUT, 'einsum.onnx'))
# weights in an external data file
xi = V('x', T.FLOAT, [1, 3, 32, 32])
m = model('extdata', [h.make_node('Conv', ['x', 'w1'], ['c1'], name='conv1', pads=[1,1,1,1]), h.make_node('Relu', ['c1'], ['r1'], name='relu1'),
                      h.make_node('Conv', ['r1', 'w2'], ['c2'], name='conv2', pads=[1,1,1,1]), h.make_node('Relu', ['c2'], ['out'], name='relu2')],
          [xi], [V('out', T.FLOAT, None)], [W('w1', 16, 3, 3, 3), W('w2', 16, 16, 3, 3)])
# onnx appends to an existing data file (offsets move, the model's hash with them): start afresh.
if os.path.exists(os.path.join(OUT, 'extdata.onnx.data')): os.remove(os.path.join(OUT, 'extdata.onnx.data'))
onnx.save_model(m, os.path.join(OUT, 'extdata.onnx'), save_as_external_data=True, all_tensors_to_one_file=True, location='extdata.onnx.data', size_threshold=0)
# Loop whose body reads an outer tensor (tf2onnx while loop with a fixed trip count)
body = h.make_graph([h.make_node('MatMul', ['s_in', 'wl'], ['mm'], name='body_mm'), h.make_node('Tanh', ['mm'], ['s_out'], name='body_tanh'),
                     h.make_node('Identity', ['cond_in'], ['cond_out'], name='body_cond')], 'body',
                    [V('i', T.INT64, []), V('cond_in', T.BOOL, []), V('s_in', T.FLOAT, [1, 32])], [V('cond_out', T.BOOL, []), V('s_out', T.FLOAT, [1, 32])])
xl = V('x', T.FLOAT, [1, 32])
nodes = [h.make_node('MatMul', ['x', 'w0'], ['h0'], name='pre'), h.make_node('Relu', ['h0'], ['s0'], name='relu'),
         h.make_node('Loop', ['trip', 'cond', 's0'], ['sN'], name='loop', body=body), h.make_node('MatMul', ['sN', 'w1'], ['out'], name='post')]
onnx.save(model('loop', nodes, [xl], [V('out', T.FLOAT, None)], [W('w0', 32, 32), W('wl', 32, 32), W('w1', 32, 8), nh.from_array(np.array(4, np.int64), 'trip'), nh.from_array(np.array(True), 'cond')], opset=13), os.path.join(OUT, 'loop.onnx'))
# Scan over the sequence axis (a cumulative sum, as old RNN exports write)
sb = h.make_graph([h.make_node('Add', ['acc_in', 'xt'], ['acc_out'], name='scan_add'), h.make_node('Identity', ['acc_out'], ['yt'], name='scan_id')], 'sbody',
                  [V('acc_in', T.FLOAT, [4]), V('xt', T.FLOAT, [4])], [V('acc_out', T.FLOAT, [4]), V('yt', T.FLOAT, [4])])
xs = V('x', T.FLOAT, [10, 4])
nodes = [h.make_node('Relu', ['x'], ['rx'], name='relu'), h.make_node('Scan', ['zero4', 'rx'], ['acc', 'ys'], name='scan', body=sb, num_scan_inputs=1),
         h.make_node('ReduceSum', ['ys'], ['out'], name='sum', keepdims=0)]
onnx.save(model('scan', nodes, [xs], [V('out', T.FLOAT, None), V('acc', T.FLOAT, None)], [nh.from_array(np.zeros(4, np.float32), 'zero4')], opset=13), os.path.join(OUT, 'scan.onnx'))
# a batch of 4, fixed
xb = V('x', T.FLOAT, [4, 3, 16, 16])
onnx.save(model('batch4', [h.make_node('Conv', ['x', 'w'], ['c'], name='conv', pads=[1,1,1,1]), h.make_node('GlobalAveragePool', ['c'], ['g'], name='gap'),
                           h.make_node('Flatten', ['g'], ['f'], name='flat'), h.make_node('Gemm', ['f', 'fc'], ['out'], name='fc', transB=1)],
                [xb], [V('out', T.FLOAT, None)], [W('w', 8, 3, 3, 3), W('fc', 10, 8)]), os.path.join(OUT, 'batch4.onnx'))
# GroupQueryAttention (com.microsoft) over a KV cache, as onnxruntime-genai's model builder writes it
D, Hq, Hkv, Dh, S = 32, 4, 2, 8, 3
nodes = [h.make_node('MatMul', ['x', 'wq'], ['q'], name='q'), h.make_node('MatMul', ['x', 'wk'], ['k'], name='k'), h.make_node('MatMul', ['x', 'wv'], ['v'], name='v'),
         h.make_node('GroupQueryAttention', ['q', 'k', 'v', 'past_key', 'past_value', 'seqlens_k', 'total_sequence_length'], ['a', 'present_key', 'present_value'], name='gqa', domain='com.microsoft', num_heads=Hq, kv_num_heads=Hkv),
         h.make_node('MatMul', ['a', 'wo'], ['out'], name='o')]
g = h.make_graph(nodes, 'gqa', [V('x', T.FLOAT, [1, S, D]), V('past_key', T.FLOAT, [1, Hkv, 'past', Dh]), V('past_value', T.FLOAT, [1, Hkv, 'past', Dh]), V('seqlens_k', T.INT32, [1]), V('total_sequence_length', T.INT32, [])],
                 [V('out', T.FLOAT, None), V('present_key', T.FLOAT, None), V('present_value', T.FLOAT, None)], [W('wq', D, Hq*Dh), W('wk', D, Hkv*Dh), W('wv', D, Hkv*Dh), W('wo', Hq*Dh, D)])
m = model('gqa', [], [], [], domains=[('com.microsoft', 1)]); m.graph.CopyFrom(g)
onnx.save(m, os.path.join(OUT, 'gqa.onnx'))
r = np.random.default_rng(4)
# onnxruntime-genai's int4 decoder layer: SkipSimplifiedLayerNormalization, MatMulNBits (4-bit weights in
# blocks of 32), GroupQueryAttention on packed QKV with its own rotary embedding, over a KV cache.
D, Hq, Hkv, Dh, S, MAXS = 64, 4, 2, 16, 3, 32
def nbits(name, K, N, block=32):
    kb = K // block
    return [nh.from_array(r.integers(0, 255, (N, kb, block // 2)).astype(np.uint8), f'{name}.q'), nh.from_array((r.random(N * kb).astype(np.float32) * 0.02 + 0.01), f'{name}.s')]
inits = nbits('qkv', D, (Hq + 2 * Hkv) * Dh) + nbits('o', Hq * Dh, D) + [nh.from_array(np.ones(D, np.float32), 'gamma'),
    nh.from_array(np.cos(np.outer(np.arange(MAXS), np.arange(Dh // 2))).astype(np.float32), 'cos_cache'),
    nh.from_array(np.sin(np.outer(np.arange(MAXS), np.arange(Dh // 2))).astype(np.float32), 'sin_cache')]
ms = 'com.microsoft'
nodes = [h.make_node('SkipSimplifiedLayerNormalization', ['x', 'res', 'gamma'], ['n', '', '', 'sum'], name='norm', domain=ms, epsilon=1e-5),
         h.make_node('MatMulNBits', ['n', 'qkv.q', 'qkv.s'], ['qkv'], name='qkv_proj', domain=ms, K=D, N=(Hq + 2 * Hkv) * Dh, bits=4, block_size=32),
         h.make_node('GroupQueryAttention', ['qkv', '', '', 'past_key', 'past_value', 'seqlens_k', 'total_sequence_length', 'cos_cache', 'sin_cache'], ['a', 'present_key', 'present_value'],
                     name='attn', domain=ms, num_heads=Hq, kv_num_heads=Hkv, do_rotary=1),
         h.make_node('MatMulNBits', ['a', 'o.q', 'o.s'], ['o'], name='o_proj', domain=ms, K=Hq * Dh, N=D, bits=4, block_size=32),
         h.make_node('Add', ['o', 'sum'], ['out'], name='residual')]
g = h.make_graph(nodes, 'genai', [V('x', T.FLOAT, [1, S, D]), V('res', T.FLOAT, [1, S, D]), V('past_key', T.FLOAT, [1, Hkv, 'past', Dh]), V('past_value', T.FLOAT, [1, Hkv, 'past', Dh]),
                  V('seqlens_k', T.INT32, [1]), V('total_sequence_length', T.INT32, [])],
                 [V('out', T.FLOAT, None), V('present_key', T.FLOAT, None), V('present_value', T.FLOAT, None)], inits)
m = h.make_model(g, opset_imports=[h.make_opsetid('', 17), h.make_opsetid(ms, 1)], producer_name='adv'); m.ir_version = 8
onnx.save(m, os.path.join(OUT, 'genai.onnx'))
# A detector that ends in NonMaxSuppression (torchvision's and YOLO exports with NMS inside): the
# selection's size depends on the data, and comes out empty on zero inputs.
I = lambda name, v: nh.from_array(np.array(v, np.int64), name)
inits = [nh.from_array(r.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.5, 'w1'), nh.from_array(r.standard_normal((5, 8, 1, 1)).astype(np.float32) * 0.5, 'w2'),
         I('shp', [1, 5, 4096]), I('s0', [0]), I('s4', [4]), I('s5', [5]), I('ax2', [2]), I('maxb', [100]), I('col', [2]), I('one', [1]), I('zero', [0]),
         nh.from_array(np.array([0.5], np.float32), 'iou'), nh.from_array(np.array([0.5], np.float32), 'thr')]
nodes = [h.make_node('Conv', ['x', 'w1'], ['c1'], name='conv1', pads=[1, 1, 1, 1]), h.make_node('Relu', ['c1'], ['r1'], name='relu1'),
         h.make_node('Conv', ['r1', 'w2'], ['c2'], name='head'), h.make_node('Reshape', ['c2', 'shp'], ['flat'], name='flat'),
         h.make_node('Transpose', ['flat'], ['pred'], name='tr', perm=[0, 2, 1]),
         h.make_node('Slice', ['pred', 's0', 's4', 'ax2'], ['boxes'], name='boxes'), h.make_node('Slice', ['pred', 's4', 's5', 'ax2'], ['logit'], name='logit'),
         h.make_node('Sigmoid', ['logit'], ['score_t'], name='sig'), h.make_node('Transpose', ['score_t'], ['scores'], name='tr2', perm=[0, 2, 1]),
         h.make_node('NonMaxSuppression', ['boxes', 'scores', 'maxb', 'iou', 'thr'], ['sel'], name='nms'),
         h.make_node('Gather', ['sel', 'col'], ['idx2'], name='pick', axis=1), h.make_node('Squeeze', ['idx2', 'one'], ['idx'], name='sq'),
         h.make_node('Squeeze', ['boxes', 'zero'], ['boxes0'], name='sq0'), h.make_node('Gather', ['boxes0', 'idx'], ['dets'], name='gather', axis=0)]
g = h.make_graph(nodes, 'nms', [V('x', T.FLOAT, [1, 3, 64, 64])], [V('dets', T.FLOAT, ['n', 4])], inits)
m = h.make_model(g, opset_imports=[h.make_opsetid('', 17)], producer_name='adv'); m.ir_version = 8
onnx.save(m, os.path.join(OUT, 'nms.onnx'))
# Fourth set: what broke at some cut before (bfloat16 between stages, AffineGrid in float16) and newer
# ops: GridSample, RoiAlign, Trilu masks with Gelu (opset 20), GroupNormalization with Mish and
# DepthToSpace (opset 21), TopK/CumSum/Range/Mod, a string output (LabelEncoder), skl2onnx's ZipMap.
r = np.random.default_rng(3)
def save4(name, nodes, inputs, outputs, inits=(), opset=17, ir=8, domains=()):
    m = model(name, nodes, inputs, outputs, inits, opset=opset, ir=ir, domains=domains)
    onnx.save(m, os.path.join(OUT, f'{name}.onnx'))
save = save4
x = V('x', T.FLOAT, [1, 3, 16, 16])
save('bf16', [h.make_node('Conv', ['x', 'w'], ['c'], name='conv', pads=[1,1,1,1]), h.make_node('Cast', ['c'], ['cb'], name='tobf', to=T.BFLOAT16),
              h.make_node('Cast', ['cb'], ['cf'], name='tof', to=T.FLOAT), h.make_node('Relu', ['cf'], ['out'], name='relu')], [x], [V('out', T.FLOAT, None)], [W('w', 8, 3, 3, 3)])
save('gridsample', [h.make_node('AffineGrid', ['theta', 'size'], ['grid'], name='affine', align_corners=0), h.make_node('GridSample', ['x', 'grid'], ['g'], name='gs', mode='linear'),
                    h.make_node('Conv', ['g', 'w'], ['out'], name='conv', pads=[1,1,1,1])], [x], [V('out', T.FLOAT, None)],
     [nh.from_array(np.array([[[1, 0.1, 0], [0, 1, 0.1]]], np.float32), 'theta'), nh.from_array(np.array([1, 3, 16, 16], np.int64), 'size'), W('w', 8, 3, 3, 3)], opset=20, ir=9)
save('roialign', [h.make_node('Conv', ['x', 'w'], ['f'], name='conv', pads=[1,1,1,1]), h.make_node('RoiAlign', ['f', 'rois', 'bi'], ['r'], name='roi', output_height=4, output_width=4, sampling_ratio=2, spatial_scale=1.0),
                  h.make_node('Flatten', ['r'], ['fl'], name='flat'), h.make_node('Gemm', ['fl', 'fc'], ['out'], name='fc', transB=1)], [x], [V('out', T.FLOAT, None)],
     [W('w', 8, 3, 3, 3), nh.from_array(np.array([[0, 0, 8, 8], [4, 4, 15, 15], [2, 2, 10, 12]], np.float32), 'rois'), nh.from_array(np.array([0, 0, 0], np.int64), 'bi'), W('fc', 5, 128)], opset=16)
S, D = 8, 16
xs = V('x', T.FLOAT, [1, S, D])
save('trilu', [h.make_node('LayerNormalization', ['x', 'g', 'b'], ['n'], name='ln', axis=-1), h.make_node('MatMul', ['n', 'wq'], ['q'], name='q'), h.make_node('MatMul', ['n', 'wk'], ['k'], name='k'),
               h.make_node('Transpose', ['k'], ['kt'], name='kt', perm=[0, 2, 1]), h.make_node('MatMul', ['q', 'kt'], ['s'], name='qk'),
               h.make_node('Trilu', ['ones'], ['mask'], name='tril', upper=0), h.make_node('Cast', ['mask'], ['mb'], name='mb', to=T.BOOL),
               h.make_node('Where', ['mb', 's', 'neg'], ['sm'], name='where'), h.make_node('Softmax', ['sm'], ['p'], name='softmax', axis=-1),
               h.make_node('MatMul', ['p', 'n'], ['c'], name='pv'), h.make_node('Gelu', ['c'], ['out'], name='gelu', approximate='tanh')],
     [xs], [V('out', T.FLOAT, None)], [nh.from_array(np.ones(D, np.float32), 'g'), nh.from_array(np.zeros(D, np.float32), 'b'), W('wq', D, D), W('wk', D, D),
                                       nh.from_array(np.ones((S, S), np.float32), 'ones'), nh.from_array(np.array(-1e9, np.float32), 'neg')], opset=20, ir=9)
save('groupnorm', [h.make_node('Conv', ['x', 'w'], ['c'], name='conv', pads=[1,1,1,1]), h.make_node('GroupNormalization', ['c', 'gs', 'gb'], ['gn'], name='gn', num_groups=4),
                   h.make_node('Mish', ['gn'], ['m'], name='mish'), h.make_node('Pad', ['m', 'pads'], ['pm'], name='pad', mode='reflect'),
                   h.make_node('Conv', ['pm', 'w2'], ['c2'], name='conv2'), h.make_node('DepthToSpace', ['c2'], ['out'], name='d2s', blocksize=2, mode='CRD')],
     [x], [V('out', T.FLOAT, None)], [W('w', 8, 3, 3, 3), nh.from_array(np.ones(8, np.float32), 'gs'), nh.from_array(np.zeros(8, np.float32), 'gb'),
                                      nh.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), 'pads'), W('w2', 12, 8, 3, 3)], opset=21, ir=10)
save('topk', [h.make_node('Conv', ['x', 'w'], ['c'], name='conv', pads=[1,1,1,1]), h.make_node('ReduceMean', ['c', 'ax'], ['m'], name='mean', keepdims=0),
              h.make_node('TopK', ['m', 'k'], ['vals', 'idx'], name='topk', axis=-1), h.make_node('CumSum', ['vals', 'a1'], ['cs'], name='cumsum'),
              h.make_node('Range', ['r0', 'r1', 'r2'], ['rg'], name='range'), h.make_node('Cast', ['rg'], ['rgf'], name='rgf', to=T.FLOAT),
              h.make_node('Mul', ['cs', 'rgf'], ['out'], name='mul'), h.make_node('Mod', ['idx', 'three'], ['out2'], name='mod')],
     [x], [V('out', T.FLOAT, None), V('out2', T.INT64, None)], [W('w', 8, 3, 3, 3), nh.from_array(np.array([2, 3], np.int64), 'ax'), nh.from_array(np.array([4], np.int64), 'k'),
                                      nh.from_array(np.array(1, np.int64), 'a1'), nh.from_array(np.array(0, np.int64), 'r0'), nh.from_array(np.array(4, np.int64), 'r1'), nh.from_array(np.array(1, np.int64), 'r2'),
                                      nh.from_array(np.array(3, np.int64), 'three')], opset=18, ir=8)
save('strlabel', [h.make_node('Conv', ['x', 'w'], ['c'], name='conv', pads=[1,1,1,1]), h.make_node('GlobalAveragePool', ['c'], ['g'], name='gap'), h.make_node('Flatten', ['g'], ['f'], name='flat'),
                  h.make_node('ArgMax', ['f'], ['i'], name='argmax', axis=1, keepdims=0),
                  h.make_node('LabelEncoder', ['i'], ['name'], name='labels', domain='ai.onnx.ml', keys_int64s=list(range(8)), values_strings=[f'class{j}' for j in range(8)], default_string='?')],
     [x], [V('name', T.STRING, None), V('f', T.FLOAT, None)], [W('w', 8, 3, 3, 3)], opset=17, domains=[('ai.onnx.ml', 2)])

def map_type(k, v):
    t = onnx.TypeProto(); t.map_type.key_type = k; t.map_type.value_type.CopyFrom(v); return t
zm = onnx.ValueInfoProto(); zm.name = 'output_probability'
zm.type.CopyFrom(h.make_sequence_type_proto(map_type(T.INT64, h.make_tensor_type_proto(T.FLOAT, []))))
save('zipmap', [h.make_node('Scaler', ['x'], ['xs'], name='scaler', domain='ai.onnx.ml', offset=[0.5] * 4, scale=[2.0] * 4),
                h.make_node('LinearClassifier', ['xs'], ['label', 'probs'], name='linear', domain='ai.onnx.ml', classlabels_ints=[0, 1, 2],
                            coefficients=[float(v) for v in r.standard_normal(12)], intercepts=[0.1, 0.2, 0.3], post_transform='SOFTMAX'),
                h.make_node('Normalizer', ['probs'], ['probs_n'], name='normalizer', domain='ai.onnx.ml', norm='L1'),
                h.make_node('ZipMap', ['probs_n'], ['output_probability'], name='zipmap', domain='ai.onnx.ml', classlabels_int64s=[0, 1, 2])],
     [V('x', T.FLOAT, [1, 4])], [V('label', T.INT64, [1]), zm], [], opset=17, domains=[('ai.onnx.ml', 1)])
# A model whose input and outputs are bfloat16 (a model exported in bfloat16 with its casts at the
# edges), one output computed in bfloat16 (a Transpose: onnxruntime's CPU has few bfloat16 kernels) and a skip connection read across any cut.
xb = V('x', T.BFLOAT16, [1, 3, 16, 16])
save('bf16io', [h.make_node('Cast', ['x'], ['xf'], name='in', to=T.FLOAT), h.make_node('Conv', ['xf', 'w'], ['c'], name='conv', pads=[1,1,1,1]),
                h.make_node('Cast', ['c'], ['cb'], name='tobf', to=T.BFLOAT16), h.make_node('Transpose', ['cb'], ['rb'], name='transpose', perm=[0, 1, 3, 2]),
                h.make_node('Cast', ['rb'], ['rf'], name='tof', to=T.FLOAT), h.make_node('Conv', ['rf', 'w2'], ['c2'], name='conv2', pads=[1,1,1,1]),
                h.make_node('Add', ['c2', 'c'], ['s'], name='skip'), h.make_node('Cast', ['s'], ['out'], name='out', to=T.BFLOAT16)],
     [xb], [V('out', T.BFLOAT16, None), V('rb', T.BFLOAT16, None)], [W('w', 8, 3, 3, 3), W('w2', 8, 8, 3, 3)], opset=17)
# Fifth set: onnxruntime's 4-bit quantizer in QDQ form (int4 weights packed two to a byte, dequantized
# in blocks of 32 along K, opset 21) and a float8 QDQ network (float8e4m3fn activations and weights
# around a Conv, opset 19+): types onnxruntime runs and onnxruntime-node can neither feed nor hand back.
# (A Q right after the Conv and Relu would have onnxruntime fuse them into a QLinearConv, which it
# cannot run in float8: it refuses the model.)
# python3-onnx 1.12 predates them: their tensors are written by hand (data_type is a plain int32).
def packed(name, dtype, dims, data):
    t = onnx.TensorProto(); t.name = name; t.data_type = dtype; t.dims.extend(dims); t.raw_data = bytes(data); return t
INT4, FLOAT8 = 22, 17
K, N = 64, 32
w4 = lambda name, k, n: packed(name, INT4, [k, n], (r.integers(0, 256, (k * n + 1) // 2) & 0x77).astype(np.uint8))
sc = lambda name, k, n: nh.from_array((r.random((k // 32, n)) * 0.02 + 0.01).astype(np.float32), name)
save('int4w', [h.make_node('LayerNormalization', ['x', 'g', 'b'], ['n'], name='ln', axis=-1),
               h.make_node('DequantizeLinear', ['w1q', 's1'], ['w1'], name='dq1', axis=0, block_size=32), h.make_node('MatMul', ['n', 'w1'], ['m1'], name='mm1'),
               h.make_node('Gelu', ['m1'], ['a'], name='gelu'),
               h.make_node('DequantizeLinear', ['w2q', 's2'], ['w2'], name='dq2', axis=0, block_size=32), h.make_node('MatMul', ['a', 'w2'], ['m2'], name='mm2'),
               h.make_node('Add', ['m2', 'x'], ['out'], name='skip')],
     [V('x', T.FLOAT, [1, 8, K])], [V('out', T.FLOAT, None)],
     [nh.from_array(np.ones(K, np.float32), 'g'), nh.from_array(np.zeros(K, np.float32), 'b'), w4('w1q', K, N), sc('s1', K, N), w4('w2q', N, K), sc('s2', N, K)], opset=21, ir=10)
f8 = lambda name, dims: packed(name, FLOAT8, dims, (r.integers(0, 256, int(np.prod(dims))) & 0x3b).astype(np.uint8))
save('fp8qdq', [h.make_node('QuantizeLinear', ['x', 'sx', 'zx'], ['xq'], name='qx'), h.make_node('DequantizeLinear', ['xq', 'sx', 'zx'], ['xd'], name='dqx'),
                h.make_node('DequantizeLinear', ['wq', 'sw'], ['w'], name='dqw'), h.make_node('Conv', ['xd', 'w'], ['c'], name='conv', pads=[1,1,1,1]),
                h.make_node('Relu', ['c'], ['rc'], name='relu'), h.make_node('Mul', ['rc', 'sy'], ['rm'], name='scale'), h.make_node('QuantizeLinear', ['rm', 'sy', 'zx'], ['yq'], name='qy'),
                h.make_node('DequantizeLinear', ['yq', 'sy', 'zx'], ['yd'], name='dqy'), h.make_node('GlobalAveragePool', ['yd'], ['out'], name='gap')],
     [x], [V('out', T.FLOAT, None), V('yq', FLOAT8, None)],
     [nh.from_array(np.array(0.05, np.float32), 'sx'), packed('zx', FLOAT8, [], [0]), f8('wq', [8, 3, 3, 3]), nh.from_array(np.array(0.01, np.float32), 'sw'),
      nh.from_array(np.array(0.02, np.float32), 'sy')], opset=21, ir=10)
# The same float8 QDQ Conv with its Relu straight into QuantizeLinear: onnxruntime's optimiser (level
# "extended" and up) fuses the three into a QLinearConv, which has no float8 type, and then refuses
# its own graph; dnnpart makes such sessions at level "basic" and says so.
save('fp8relu', [h.make_node('QuantizeLinear', ['x', 'sx', 'zx'], ['xq'], name='qx'), h.make_node('DequantizeLinear', ['xq', 'sx', 'zx'], ['xd'], name='dqx'),
                 h.make_node('DequantizeLinear', ['wq', 'sw'], ['w'], name='dqw'), h.make_node('Conv', ['xd', 'w'], ['c'], name='conv', pads=[1,1,1,1]),
                 h.make_node('Relu', ['c'], ['rc'], name='relu'), h.make_node('QuantizeLinear', ['rc', 'sy', 'zx'], ['yq'], name='qy'),
                 h.make_node('DequantizeLinear', ['yq', 'sy', 'zx'], ['yd'], name='dqy'), h.make_node('GlobalAveragePool', ['yd'], ['out'], name='gap')],
     [x], [V('out', T.FLOAT, None)],
     [nh.from_array(np.array(0.05, np.float32), 'sx'), packed('zx', FLOAT8, [], [0]), f8('wq', [8, 3, 3, 3]), nh.from_array(np.array(0.01, np.float32), 'sw'),
      nh.from_array(np.array(0.02, np.float32), 'sy')], opset=21, ir=10)
# Sixth set: what audio front-ends, static KV caches, masks, optionals, trees and early exits export to.
# torch.stft at opset 17 (STFT with a HannWindow, a magnitude, a mel filterbank, a log, a Conv1d); a
# static KV cache updated in place with ScatterND at a position fed as an input (HF's StaticCache);
# boolean masking (NonZero + GatherND: a tensor whose size depends on the data) and Unique; torch's
# optional tensors (Optional, OptionalHasElement, OptionalGetElement); sklearn's gradient boosting
# (TreeEnsembleRegressor); an early exit (If on a condition computed from the data, a branch each way).
r = np.random.default_rng(6)
W = lambda n, *s: nh.from_array(r.standard_normal(s).astype(np.float32) * 0.1, n)
NF, HOP, BINS, MEL = 128, 64, 65, 16
save('stft', [h.make_node('Unsqueeze', ['wave', 'ax2'], ['sig'], name='unsq'),
              h.make_node('HannWindow', ['flen'], ['win'], name='hann', periodic=1),
              h.make_node('STFT', ['sig', 'hop', 'win', 'flen'], ['spec'], name='stft', onesided=1),
              h.make_node('Pow', ['spec', 'two'], ['sq'], name='pow'), h.make_node('ReduceSum', ['sq', 'axm1'], ['power'], name='power', keepdims=0),
              h.make_node('MatMul', ['power', 'melfb'], ['mel'], name='melfb'), h.make_node('Add', ['mel', 'eps'], ['mele'], name='eps'),
              h.make_node('Log', ['mele'], ['logmel'], name='log'), h.make_node('Transpose', ['logmel'], ['feat'], name='tr', perm=[0, 2, 1]),
              h.make_node('Conv', ['feat', 'wc'], ['c'], name='conv1d', pads=[1, 1]), h.make_node('Relu', ['c'], ['rc'], name='relu'),
              h.make_node('ReduceMean', ['rc'], ['out'], name='pool', axes=[-1], keepdims=0)],
     [V('wave', T.FLOAT, [1, 4096])], [V('out', T.FLOAT, None)],
     [nh.from_array(np.array([2], np.int64), 'ax2'), nh.from_array(np.array(NF, np.int64), 'flen'), nh.from_array(np.array(HOP, np.int64), 'hop'),
      nh.from_array(np.array(2.0, np.float32), 'two'), nh.from_array(np.array([-1], np.int64), 'axm1'),
      nh.from_array(np.abs(r.standard_normal((BINS, MEL))).astype(np.float32) * 0.1, 'melfb'), nh.from_array(np.array(1e-6, np.float32), 'eps'), W('wc', 32, MEL, 3)], opset=17)
Dk, L = 32, 16
save('kvscatter', [h.make_node('MatMul', ['x', 'wk'], ['k'], name='k'), h.make_node('MatMul', ['x', 'wv'], ['v'], name='v'), h.make_node('MatMul', ['x', 'wq'], ['q'], name='q'),
                   h.make_node('Squeeze', ['k', 'ax0'], ['k2'], name='sqk'), h.make_node('Squeeze', ['v', 'ax0'], ['v2'], name='sqv'),
                   h.make_node('Unsqueeze', ['pos', 'axm1'], ['idx'], name='idx'),
                   h.make_node('ScatterND', ['kcache', 'idx', 'k2'], ['kc'], name='kupd'), h.make_node('ScatterND', ['vcache', 'idx', 'v2'], ['vc'], name='vupd'),
                   h.make_node('Transpose', ['kc'], ['kt'], name='kt', perm=[1, 0]), h.make_node('MatMul', ['q', 'kt'], ['att'], name='qk'),
                   h.make_node('Mul', ['att', 'scale'], ['atts'], name='scale'), h.make_node('Softmax', ['atts'], ['p'], name='softmax', axis=-1),
                   h.make_node('MatMul', ['p', 'vc'], ['ctx'], name='pv'), h.make_node('MatMul', ['ctx', 'wo'], ['o'], name='o'), h.make_node('Add', ['o', 'x'], ['out'], name='skip')],
     [V('x', T.FLOAT, [1, 1, Dk]), V('pos', T.INT64, [1]), V('kcache', T.FLOAT, [L, Dk]), V('vcache', T.FLOAT, [L, Dk])], [V('out', T.FLOAT, None), V('kc', T.FLOAT, None), V('vc', T.FLOAT, None)],
     [W('wk', Dk, Dk), W('wv', Dk, Dk), W('wq', Dk, Dk), W('wo', Dk, Dk), nh.from_array(np.array([0], np.int64), 'ax0'), nh.from_array(np.array([-1], np.int64), 'axm1'),
      nh.from_array(np.array(Dk ** -0.5, np.float32), 'scale')], opset=17)
save('nonzero', [h.make_node('Conv', ['x', 'w'], ['c'], name='conv', pads=[1, 1, 1, 1]), h.make_node('ReduceMean', ['c'], ['m'], name='mean', axes=[1], keepdims=0),
                 h.make_node('Greater', ['m', 'thr'], ['mask'], name='mask'), h.make_node('NonZero', ['mask'], ['nz'], name='nonzero'),
                 h.make_node('Transpose', ['nz'], ['nzt'], name='nzt', perm=[1, 0]), h.make_node('GatherND', ['m', 'nzt'], ['sel'], name='select'),
                 h.make_node('ReduceSum', ['sel'], ['total'], name='total', keepdims=1),
                 h.make_node('ArgMax', ['c'], ['lab'], name='argmax', axis=1, keepdims=0), h.make_node('Unique', ['lab'], ['uniq', 'uidx', 'inv', 'counts'], name='unique', sorted=1),
                 h.make_node('Cast', ['counts'], ['cf'], name='cast', to=T.FLOAT), h.make_node('ReduceMax', ['cf'], ['top'], name='top', keepdims=1)],
     [x := V('x', T.FLOAT, [1, 3, 32, 32])], [V('total', T.FLOAT, None), V('top', T.FLOAT, None), V('sel', T.FLOAT, None)],
     [W('w', 8, 3, 3, 3), nh.from_array(np.array([1], np.int64), 'ax1'), nh.from_array(np.array(0.0, np.float32), 'thr')], opset=17)
save('optional', [h.make_node('Conv', ['x', 'w'], ['c'], name='conv', pads=[1, 1, 1, 1]), h.make_node('Optional', ['c'], ['oc'], name='wrap'),
                  h.make_node('OptionalHasElement', ['oc'], ['has'], name='has'), h.make_node('OptionalGetElement', ['oc'], ['c2'], name='get'),
                  h.make_node('Relu', ['c2'], ['r'], name='relu'), h.make_node('Cast', ['has'], ['hf'], name='hasf', to=T.FLOAT),
                  h.make_node('Mul', ['r', 'hf'], ['out'], name='gate')],
     [x], [V('out', T.FLOAT, None)], [W('w', 8, 3, 3, 3)], opset=18)
NT, DEPTH, NFEAT = 20, 3, 8
nodes_per = 2 ** (DEPTH + 1) - 1
tid, nid, feat, thr, modes, tw, tnid, leaf_w = [], [], [], [], [], [], [], []
for t in range(NT):
    for n in range(nodes_per):
        tid.append(t); nid.append(n)
        if n < 2 ** DEPTH - 1:
            feat.append(int(r.integers(0, NFEAT))); thr.append(float(r.standard_normal())); modes.append('BRANCH_LEQ')
        else:
            feat.append(0); thr.append(0.0); modes.append('LEAF')
            tw.append(t); tnid.append(n); leaf_w.append(float(r.standard_normal() * 0.1))
true_ids = [2 * n + 1 if m == 'BRANCH_LEQ' else 0 for n, m in zip(nid, modes)]
false_ids = [2 * n + 2 if m == 'BRANCH_LEQ' else 0 for n, m in zip(nid, modes)]
save('trees', [h.make_node('Scaler', ['x'], ['xs'], name='scaler', domain='ai.onnx.ml', offset=[0.1] * NFEAT, scale=[1.5] * NFEAT),
               h.make_node('TreeEnsembleRegressor', ['xs'], ['y'], name='gbm', domain='ai.onnx.ml', n_targets=1, aggregate_function='SUM', base_values=[0.5],
                           nodes_treeids=tid, nodes_nodeids=nid, nodes_featureids=feat, nodes_values=thr, nodes_modes=modes,
                           nodes_truenodeids=true_ids, nodes_falsenodeids=false_ids, nodes_missing_value_tracks_true=[0] * len(tid),
                           target_treeids=tw, target_nodeids=tnid, target_ids=[0] * len(tw), target_weights=leaf_w, post_transform='NONE')],
     [V('x', T.FLOAT, [64, NFEAT])], [V('y', T.FLOAT, None)], [], opset=17, domains=[('ai.onnx.ml', 3)])
exit_then = h.make_graph([h.make_node('GlobalAveragePool', ['r1'], ['g_then'], name='exit_pool'), h.make_node('Flatten', ['g_then'], ['o_then'], name='exit_flat')],
                         'early', [], [V('o_then', T.FLOAT, None)])
exit_else = h.make_graph([h.make_node('Conv', ['r1', 'w2'], ['c2'], name='deep_conv', pads=[1, 1, 1, 1]), h.make_node('Relu', ['c2'], ['r2'], name='deep_relu'),
                          h.make_node('GlobalAveragePool', ['r2'], ['g_else'], name='deep_pool'), h.make_node('Flatten', ['g_else'], ['f_else'], name='deep_flat'),
                          h.make_node('MatMul', ['f_else', 'wfc'], ['o_else'], name='deep_fc')],
                         'deep', [], [V('o_else', T.FLOAT, None)])
save('earlyexit', [h.make_node('Conv', ['x', 'w1'], ['c1'], name='conv1', pads=[1, 1, 1, 1]), h.make_node('Relu', ['c1'], ['r1'], name='relu1'),
                   h.make_node('ReduceMax', ['r1'], ['mx'], name='confidence', keepdims=0), h.make_node('Greater', ['mx', 'gate'], ['sure'], name='sure'),
                   h.make_node('If', ['sure'], ['out'], name='exit', then_branch=exit_then, else_branch=exit_else)],
     [x], [V('out', T.FLOAT, None)], [W('w1', 8, 3, 3, 3), W('w2', 8, 8, 3, 3), W('wfc', 8, 8), nh.from_array(np.array(1e9, np.float32), 'gate')], opset=17)
print(f'written to {OUT}')
