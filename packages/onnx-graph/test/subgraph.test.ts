// Ops with subgraphs (If): tensors the branches read from the outer graph are dependencies too.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { AttributeProto_AttributeType as AT, AttributeProtoSchema, GraphProtoSchema, NodeProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { cutPoints, graphCosts, loadModel, splitModel, verifySplit, writeSplit } from '@dnnpart/onnx-graph';
import { checkModels, checkerMissing } from './_checker.js';
import { ModelBuilder, vi } from './_models.js';

function ifModel(): ModelBuilder {
  const b = new ModelBuilder(5).input('x', [1, 4]).input('c', [], 9);
  const w = b.weight('w', [1, 4]);
  const branch = (name: string, op: string, inputs: string[]) => create(AttributeProtoSchema, {
    name, type: AT.GRAPH,
    g: create(GraphProtoSchema, {
      name, node: [create(NodeProtoSchema, { opType: op, input: inputs, output: [`${name}_out`], name: `${name}_node` })],
      output: [vi(`${name}_out`, [1, 4])],
    }),
  });
  b.node('Relu', ['x'], ['r'], {}, 'n0').node('Sigmoid', ['x'], ['s'], {}, 'n1');
  b.nodes.push(create(NodeProtoSchema, {
    opType: 'If', name: 'n2', input: ['c'], output: ['y0'],
    attribute: [branch('then_branch', 'Identity', ['r']), branch('else_branch', 'Mul', ['r', w])],
  }));
  return b.node('Add', ['y0', 's'], ['y'], {}, 'n3').output('y');
}

describe('subgraph ops', () => {
  it('outer tensors read by If branches cross cuts, and the split composes', async () => {
    // With the If first in the file it must still be ordered after n0, which it reads only through its branches.
    const early = ifModel();
    early.nodes.unshift(early.nodes.splice(2, 1)[0]!);
    expect((await loadModel(early.bytes())).graph.nodes.map((n) => n.name)).toEqual(['n0', 'n2', 'n1', 'n3']);

    const model = await loadModel(ifModel().bytes());
    const { graph } = model;
    const ifNode = graph.nodes.find((n) => n.op === 'If')!;
    expect(ifNode.implicitInputs).toEqual(['r', 'w']);
    expect(graph.tensors.get('r')!.consumers).toEqual(['n2']);
    expect(graph.tensors.get('y0')!.shape).toEqual([1, 4]); // both branches agree
    // Either branch may run: the If costs its larger one (Mul: 4 FLOPs, Identity: 0).
    expect(graphCosts(graph).unknownOps).toEqual([]);
    expect(ifNode.subgraphCost).toEqual({ macs: 0, flops: 4, unknownOps: [] });
    expect(graphCosts(graph).nodes.get('n2')).toMatchObject({ macs: 0, flops: 4, known: true });
    const cuts = cutPoints(graph);
    expect(cuts.map((c) => [c.after, [...c.tensors].sort()])).toEqual([
      ['n0', ['c', 'r', 'x']], ['n1', ['c', 'r', 's']], ['n2', ['s', 'y0']], ['n3', []],
    ]);
    const split = splitModel(model, { after: ['n1'] });
    expect(split.manifest.stages[1]).toMatchObject({ inputs: ['c', 'r', 's'], outputs: ['y'] });
    expect(split.stages[1]!.proto.graph!.initializer.map((t) => t.name)).toEqual(['w']);
    expect((await verifySplit(model, split)).maxAbsDiff).toBeLessThanOrEqual(1e-5);
    if (checkerMissing) return;
    const dir = mkdtempSync(join(tmpdir(), 'onnx-graph-if-'));
    writeSplit(split, dir);
    expect(checkModels(split.stages.map((s) => join(dir, s.file)))).toBe('');
  });
});
