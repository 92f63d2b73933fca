#!/usr/bin/env python3
# Single-op models for bench/modern-ops.mjs: Einsum in three layouts, the matrix products they equal,
# ONNX Attention (opset 23) and the same attention written as MatMul, Softmax, MatMul.
# Needs python3-onnx (Debian). Usage: python3 bench/exported-forms/ops.py <out dir>
import os, sys
from onnx import helper as h, TensorProto as T, save as save_model
OUT = sys.argv[1] if len(sys.argv) > 1 else '/tmp/dnnpart-modern-ops'
os.makedirs(OUT, exist_ok=True)
V = h.make_tensor_value_info
B, H, S, D = 1, 8, 128, 64
def save(name, nodes, ins, opset=17, ir=8):
    g = h.make_graph(nodes, name, [V(n, T.FLOAT, s) for n, s in ins], [V('y', T.FLOAT, None)])
    m = h.make_model(g, opset_imports=[h.make_opsetid('', opset)], producer_name='dnnpart-bench'); m.ir_version = ir
    save_model(m, os.path.join(OUT, f'{name}.onnx'))
save('einsum_bmm', [h.make_node('Einsum', ['a', 'b'], ['y'], name='einsum', equation='bij,bjk->bik')], [('a', [H, S, D]), ('b', [H, D, S])])
save('matmul_bmm', [h.make_node('MatMul', ['a', 'b'], ['y'], name='matmul')], [('a', [H, S, D]), ('b', [H, D, S])])
save('einsum_scores', [h.make_node('Einsum', ['q', 'k'], ['y'], name='einsum', equation='bqhd,bkhd->bhqk')], [('q', [B, S, H, D]), ('k', [B, S, H, D])])
save('matmul_scores', [h.make_node('MatMul', ['q', 'k'], ['y'], name='matmul')], [('q', [B, H, S, D]), ('k', [B, H, D, S])])
save('einsum_context', [h.make_node('Einsum', ['p', 'v'], ['y'], name='einsum', equation='bhqk,bkhd->bqhd')], [('p', [B, H, S, S]), ('v', [B, S, H, D])])
save('matmul_context', [h.make_node('MatMul', ['p', 'v'], ['y'], name='matmul')], [('p', [B, H, S, S]), ('v', [B, H, S, D])])
save('attention23', [h.make_node('Attention', ['q', 'k', 'v'], ['y'], name='attention')], [('q', [B, H, S, D]), ('k', [B, H, S, D]), ('v', [B, H, S, D])], opset=23, ir=11)
save('attention_matmuls', [h.make_node('Transpose', ['k'], ['kt'], name='kt', perm=[0, 1, 3, 2]), h.make_node('MatMul', ['q', 'kt'], ['s'], name='scores'),
                           h.make_node('Softmax', ['s'], ['p'], name='softmax', axis=-1), h.make_node('MatMul', ['p', 'v'], ['y'], name='context')],
     [('q', [B, H, S, D]), ('k', [B, H, S, D]), ('v', [B, H, S, D])])
print(f'written to {OUT}')
