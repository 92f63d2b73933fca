#!/usr/bin/env python3
# A decoder-like stack of 36 MatMul + Relu layers of 4096x4096 float32 weights: 2.42 GB, over
# protobuf's 2 GB, so onnx.save_model keeps the weights in big.onnx.data beside big.onnx (as torch.onnx
# and onnx write every model over 2 GB). Needs python3-onnx and numpy; about 5 GB of memory and 2.5 GB
# of disk. Usage: python3 bench/large-model/make.py <out dir>
import os, sys
import numpy as np, onnx
from onnx import helper as h, TensorProto as T, numpy_helper as nh
out = sys.argv[1] if len(sys.argv) > 1 else '/tmp/dnnpart-large-model'
os.makedirs(out, exist_ok=True)
D, L = 4096, 36
rng = np.random.default_rng(0)
nodes, inits, prev = [], [], 'x'
for i in range(L):
    inits.append(nh.from_array((rng.standard_normal((D, D), dtype=np.float32) / np.sqrt(D)).astype(np.float32), f'w{i}'))
    nodes += [h.make_node('MatMul', [prev, f'w{i}'], [f'm{i}'], name=f'mm{i}'), h.make_node('Relu', [f'm{i}'], [f'r{i}'], name=f'relu{i}')]
    prev = f'r{i}'
g = h.make_graph(nodes, 'bigmlp', [h.make_tensor_value_info('x', T.FLOAT, [1, 8, D])], [h.make_tensor_value_info(prev, T.FLOAT, None)], inits)
m = h.make_model(g, opset_imports=[h.make_opsetid('', 17)], producer_name='dnnpart-bench'); m.ir_version = 8
onnx.save_model(m, os.path.join(out, 'big.onnx'), save_as_external_data=True, all_tensors_to_one_file=True, location='big.onnx.data', size_threshold=1024)
print(os.path.join(out, 'big.onnx'))
