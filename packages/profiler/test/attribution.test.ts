// Kernel-name patterns of onnxruntime's optimisers, mapped back to the original nodes.
import { describe, expect, it } from 'vitest';
import { graphCosts, loadModel, type Graph } from '@dnnpart/onnx-graph';
import { attributeKernels } from '../src/_attribution.js';
import { Builder, tinyCnn } from './_model.js';

async function graphOf(bytes: Uint8Array): Promise<Graph> {
  return (await loadModel(bytes)).graph;
}

function weights(g: Graph) {
  const c = graphCosts(g).nodes;
  return new Map(g.nodes.map((n) => [n.name, { macs: c.get(n.name)!.macs, outputBytes: c.get(n.name)!.outputBytes }]));
}

/** x -> /conv/Conv -> /act/Sigmoid and /act/Mul (SiLU) -> y. */
function siluModel(): Uint8Array {
  const b = new Builder().input('x', [1, 3, 8, 8]).output('y', [1, 4, 8, 8]);
  b.node('Conv', '/conv/Conv', ['x', b.weight('w', [4, 3, 3, 3])], ['c'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  b.node('Sigmoid', '/act/Sigmoid', ['c'], ['s']);
  b.node('Mul', '/act/Mul', ['c', 's'], ['y']);
  return b.bytes();
}

const groups = (a: ReturnType<typeof attributeKernels>) => a.fused.map((f) => [f.kernel, [...f.nodes]]);

describe('attributeKernels', () => {
  it.each([
    [
      'level "extended": FusedConv named after the head',
      [['/conv1/Conv', 'FusedConv'], ['/conv2/Conv', 'Conv'], ['/Add', 'Add'], ['/relu2/Relu', 'Relu'], ['/pool/GlobalAveragePool', 'GlobalAveragePool'], ['/Flatten', 'Flatten'], ['/fc/Gemm', 'Gemm']],
      [['/conv1/Conv', ['/conv1/Conv', '/bn1/BatchNormalization', '/relu/Relu']]],
      [],
    ],
    [
      'level "all": NCHWc kernels named after a tail or the head, a reorder going with the kernel before it, a fused Gemm',
      [['r1_nchwc', 'Conv'], ['c2_nchwc', 'Conv'], ['p_nchwc', 'GlobalAveragePool'], ['ReorderOutput', 'ReorderOutput'], ['/Flatten', 'Flatten'], ['fused /fc/Gemm', 'FusedGemm']],
      [
        ['r1_nchwc', ['/conv1/Conv', '/bn1/BatchNormalization', '/relu/Relu']],
        ['c2_nchwc', ['/conv2/Conv', '/Add', '/relu2/Relu']],
        ['p_nchwc+ReorderOutput', ['/pool/GlobalAveragePool']],
        ['fused /fc/Gemm', ['/fc/Gemm']],
      ],
      [],
    ],
    [
      'a float16 model run in float32: tensors renamed "InsertedPrecisionFreeCast_<tensor>", casts of an input and of an output',
      [['InsertedPrecisionFreeCast_x', 'Cast'], ['InsertedPrecisionFreeCast_r1_nchwc', 'Conv'], ['InsertedPrecisionFreeCast_r2_nchwc', 'Conv'], ['InsertedPrecisionFreeCast_p_nchwc', 'GlobalAveragePool'], ['ReorderOutput', 'ReorderOutput'], ['InsertedPrecisionFreeCast_p', 'Cast'], ['/Flatten', 'Flatten'], ['fused /fc/Gemm', 'FusedGemm']],
      [
        ['InsertedPrecisionFreeCast_r1_nchwc', ['/conv1/Conv', '/bn1/BatchNormalization', '/relu/Relu']],
        ['InsertedPrecisionFreeCast_r2_nchwc', ['/conv2/Conv', '/Add', '/relu2/Relu']],
        ['InsertedPrecisionFreeCast_p_nchwc+InsertedPrecisionFreeCast_p+ReorderOutput', ['/pool/GlobalAveragePool']],
        ['fused /fc/Gemm', ['/fc/Gemm']],
      ],
      ['InsertedPrecisionFreeCast_x'],
    ],
    [
      'a "_token_<n>" suffix from a name clash',
      [['/conv1/Conv_token_3', 'FusedConv'], ['/conv2/Conv', 'Conv'], ['/Add', 'Add'], ['/relu2/Relu', 'Relu'], ['/pool/GlobalAveragePool', 'GlobalAveragePool'], ['/Flatten', 'Flatten'], ['/fc/Gemm', 'Gemm']],
      [['/conv1/Conv_token_3', ['/conv1/Conv', '/bn1/BatchNormalization', '/relu/Relu']]],
      [],
    ],
  ])('%s', async (_label, kernels, fused, unattributed) => {
    const g = await graphOf(tinyCnn());
    const a = attributeKernels(g, kernels.map(([name, op]) => ({ name: name!, op: op! })), weights(g));
    expect(groups(a)).toEqual(fused);
    expect(a.unattributedKernels).toEqual(unattributed);
    expect(a.eliminated).toEqual([]);
    // Every kernel's time is split exactly once over its nodes.
    const shares = new Map<string, number>();
    for (const v of a.nodes.values()) for (const k of v.kernels) shares.set(k, (shares.get(k) ?? 0) + v.share);
    for (const s of shares.values()) expect(s).toBeCloseTo(1, 12);
    // MAC shares: the Conv carries its fused BatchNorm and Relu.
    expect(a.nodes.get('/conv1/Conv')!.share).toBe(1);
    expect(a.nodes.get('/relu/Relu')!.share).toBe(0);
  });

  it('a SiLU pattern fusion ("<Mul>/QuickGeluFusion/") claims the Sigmoid, not the Conv it forks from', async () => {
    const g = await graphOf(siluModel());
    const a = attributeKernels(g, [{ name: 'c_nchwc', op: 'Conv' }, { name: '/act/Mul/QuickGeluFusion/', op: 'QuickGelu' }], weights(g));
    expect(groups(a)).toEqual([
      ['c_nchwc', ['/conv/Conv']],
      ['/act/Mul/QuickGeluFusion/', ['/act/Sigmoid', '/act/Mul']],
    ]);
    // No MACs in the group: split by output bytes (equal here).
    expect(a.nodes.get('/act/Sigmoid')!.share).toBeCloseTo(0.5, 12);
  });

  it('ReorderInput goes with the kernel after it; an unknown kernel stays unattributed', async () => {
    const g = await graphOf(siluModel());
    const a = attributeKernels(
      g,
      [{ name: 'ReorderInput', op: 'ReorderInput' }, { name: 'c_nchwc', op: 'Conv' }, { name: 'Mystery', op: 'Mystery' }, { name: '/act/Mul/QuickGeluFusion/', op: 'QuickGelu' }],
      weights(g),
    );
    expect(a.nodes.get('/conv/Conv')!.kernels).toEqual(['c_nchwc', 'ReorderInput']);
    expect(a.reorders).toEqual(['ReorderInput']);
    expect(a.unattributedKernels).toEqual(['Mystery']);
  });

  it('nodes with no kernel and no neighbour with one are eliminated', async () => {
    const g = await graphOf(siluModel());
    const a = attributeKernels(g, [{ name: 'ReorderInput', op: 'ReorderInput' }], weights(g));
    expect(a.eliminated).toEqual(['/conv/Conv', '/act/Sigmoid', '/act/Mul']);
    expect(a.unattributedKernels).toEqual(['ReorderInput']);
  });
});
