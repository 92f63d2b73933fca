// Attribution on traces recorded on four CPUs (fixtures/traces/README.md): onnxruntime picks
// kernels and layouts by CPU features, so the same model gives NCHWc kernels and reorders on x86
// (block 8 with AVX2, 16 with AVX-512), plain FusedConv kernels on a Cortex-A76, and NHWC kernels
// with layout Transposes on an ARMv9-class core. Whatever the names, every node must be
// attributed, every kernel's time split exactly once, and no kernel may hold two MAC nodes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { graphCosts, loadModel, type Graph } from '@dnnpart/onnx-graph';
import { buildZooModel } from '@dnnpart/zoo';
import { attributeKernels } from '../src/_attribution.js';
import { parseTrace } from '../src/_trace.js';
import { tinyCnn } from './_model.js';

const CPUS = ['x86-avx2', 'x86-avx512', 'arm64-cortex-a76', 'arm64-max'] as const;
const NETS = ['tiny', 'squeezenet1_1', 'efficientnet_b0'] as const;

const graphs = new Map<string, Promise<Graph>>();
function graphOf(net: (typeof NETS)[number]): Promise<Graph> {
  let g = graphs.get(net);
  if (!g) graphs.set(net, (g = loadModel(net === 'tiny' ? tinyCnn() : buildZooModel(net)).then((m) => m.graph)));
  return g;
}

async function attribute(net: (typeof NETS)[number], cpu: (typeof CPUS)[number]) {
  const file = new URL(`./fixtures/traces/${net}.${cpu}.json`, import.meta.url);
  const trace = parseTrace(JSON.parse(readFileSync(file, 'utf8')), `${net}.${cpu}.json`);
  const graph = await graphOf(net);
  const costs = graphCosts(graph).nodes;
  const weights = new Map(graph.nodes.map((n) => [n.name, { macs: costs.get(n.name)!.macs, outputBytes: costs.get(n.name)!.outputBytes }]));
  const a = attributeKernels(graph, [...trace.kernelInfo].map(([name, k]) => ({ name, op: k.op })), weights);
  return { graph, weights, trace, a };
}

/** The fused groups as sets of node names, whatever the kernels are called. */
const groupsOf = (a: ReturnType<typeof attributeKernels>) => a.fused.map((f) => [...f.nodes]);

describe.each(NETS.flatMap((net) => CPUS.map((cpu) => [net, cpu] as const)))('attribution of %s traced on %s', (net, cpu) => {
  it('attributes every node and every kernel', async () => {
    const { graph, a } = await attribute(net, cpu);
    expect(a.eliminated).toEqual([]);
    expect(a.unattributedKernels).toEqual([]);
    expect([...a.nodes.keys()].sort()).toEqual(graph.nodes.map((n) => n.name).sort());
  });

  it("splits each kernel's time exactly once: node times add up to the trace's kernel time", async () => {
    const { a, trace } = await attribute(net, cpu);
    const run = trace.runs[0]!;
    const shares = new Map<string, number>();
    let nodeMs = 0;
    for (const v of a.nodes.values()) {
      for (const k of v.kernels) {
        shares.set(k, (shares.get(k) ?? 0) + v.share);
        nodeMs += v.share * (run.kernels.get(k) ?? 0);
      }
    }
    expect([...shares.keys()].sort()).toEqual([...run.kernels.keys()].sort());
    for (const [k, s] of shares) expect(s, k).toBeCloseTo(1, 12);
    const kernelMs = [...run.kernels.values()].reduce((s, x) => s + x, 0);
    expect(nodeMs).toBeCloseTo(kernelMs, 9);
  });

  it('never puts two MAC nodes into one kernel; each MAC node carries its whole group', async () => {
    const { a, weights } = await attribute(net, cpu);
    for (const f of a.fused) expect(f.nodes.filter((n) => weights.get(n)!.macs > 0).length, f.kernel).toBeLessThanOrEqual(1);
    for (const [n, w] of weights) if (w.macs > 0) expect(a.nodes.get(n)!.share, n).toBe(1);
  });

  it('keeps each SiLU (Sigmoid and Mul of one tensor) together and apart from the convolution', async () => {
    const { graph, a } = await attribute(net, cpu);
    const byOutput = new Map(graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
    const silus = graph.nodes.filter((n) => n.op === 'Mul' && n.inputs.some((t) => byOutput.get(t)?.op === 'Sigmoid' && byOutput.get(t)!.inputs[0] !== undefined && n.inputs.includes(byOutput.get(t)!.inputs[0]!)));
    expect(silus.length).toBe(net === 'efficientnet_b0' ? 49 : 0);
    for (const mul of silus) {
      const sigmoid = byOutput.get(mul.inputs.find((t) => byOutput.get(t)?.op === 'Sigmoid')!)!;
      const group = a.fused.find((f) => f.nodes.includes(mul.name));
      expect(group?.nodes, mul.name).toEqual([sigmoid.name, mul.name]);
    }
  });
});

describe('the tiny CNN: the same node groups on every CPU, however the kernels are named', () => {
  // Conv+BN+Relu is always one kernel; the NCHWc Conv on x86 also takes the residual Add and its
  // Relu, while the ARM builds run the Add (and on a Cortex-A76 the Relu) as kernels of their own.
  // Layout conversions go with the kernel they convert for: a ReorderOutput or a Transpose back to
  // NCHW with the kernel before it, the Transpose into NHWC with the kernel after it.
  it.each([
    ['x86-avx2', [['/conv1/Conv', '/bn1/BatchNormalization', '/relu/Relu'], ['/conv2/Conv', '/Add', '/relu2/Relu'], ['/pool/GlobalAveragePool']], ['r1_nchwc'], ['p_nchwc', 'ReorderOutput']],
    ['x86-avx512', [['/conv1/Conv', '/bn1/BatchNormalization', '/relu/Relu'], ['/conv2/Conv', '/Add', '/relu2/Relu']], ['r1_nchwc', 'ReorderOutput'], ['/pool/GlobalAveragePool']],
    ['arm64-cortex-a76', [['/conv1/Conv', '/bn1/BatchNormalization', '/relu/Relu']], ['/conv1/Conv'], ['/pool/GlobalAveragePool']],
    ['arm64-max', [['/conv1/Conv', '/bn1/BatchNormalization', '/relu/Relu'], ['/conv2/Conv'], ['/Add']], ['/conv1/Conv_token_1', 'Transpose'], ['/pool/GlobalAveragePool']],
  ] as const)('%s', async (cpu, groups, conv1Kernels, poolKernels) => {
    const { a } = await attribute('tiny', cpu);
    expect(groupsOf(a)).toEqual(groups);
    expect(a.nodes.get('/conv1/Conv')!.kernels).toEqual(conv1Kernels);
    expect(a.nodes.get('/relu/Relu')!.kernels).toEqual(conv1Kernels);
    expect(a.nodes.get('/pool/GlobalAveragePool')!.kernels).toEqual(poolKernels);
  });

  it('arm64-max: the Transpose back to NCHW after the NHWC Add goes with the Add', async () => {
    const { a } = await attribute('tiny', 'arm64-max');
    expect(a.nodes.get('/Add')!.kernels).toEqual(['/Add', 'Transpose_token_6']);
    expect(a.reorders).toEqual(['Transpose', 'Transpose_token_6']);
  });
});
