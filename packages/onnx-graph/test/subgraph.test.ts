// Ops with subgraphs (If, Loop): tensors the branches read from the outer graph are dependencies too;
// a Loop's trip count: constant, given by the user, or assumed (one iteration), always named.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { AttributeProto_AttributeType as AT, AttributeProtoSchema, GraphProtoSchema, NodeProtoSchema, TensorProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  cutPoints, encodeModel, graphCosts, inspectModel, loadModel, maxAbsDiff, parseLoopTrips, randomFeeds, runModel, splitModel, valueTimedNodes, verifySplit, writeSplit,
  type InputShapes,
} from '@dnnpart/onnx-graph';
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

/**
 * v = x; repeat n times: v = v @ w (6x6). `trip` is the trip count tensor: the int64 input `n`
 * (computed at run time unless its value is fixed), or a constant initializer.
 */
function loopModel(trip: 'input' | number): ModelBuilder {
  const b = new ModelBuilder(4).input('x', [1, 6]);
  if (trip === 'input') b.input('n', [], 7);
  else b.inits.push(create(TensorProtoSchema, { name: 'n', dims: [], dataType: 7, int64Data: [BigInt(trip)] }));
  const w = b.weight('w', [6, 6]);
  const body = create(GraphProtoSchema, {
    name: 'body',
    node: [
      // A while loop goes on while i < 2 (three iterations); a counted loop keeps its condition.
      trip === 'input' || trip < 2 ** 31
        ? create(NodeProtoSchema, { opType: 'Identity', input: ['cond_in'], output: ['cond_out'], name: 'keep' })
        : create(NodeProtoSchema, { opType: 'Less', input: ['i', 'two'], output: ['cond_out'], name: 'while' }),
      create(NodeProtoSchema, { opType: 'MatMul', input: ['v_in', w], output: ['v_out'], name: 'mm' }),
    ],
    input: [vi('i', [], 7), vi('cond_in', [], 9), vi('v_in', [1, 6])],
    output: [vi('cond_out', [], 9), vi('v_out', [1, 6])],
  });
  b.inits.push(create(TensorProtoSchema, { name: 'go', dims: [], dataType: 9, int32Data: [1] }));
  b.inits.push(create(TensorProtoSchema, { name: 'two', dims: [], dataType: 7, int64Data: [2n] }));
  b.nodes.push(create(NodeProtoSchema, { opType: 'Loop', name: 'loop', input: ['n', 'go', 'x'], output: ['v'], attribute: [create(AttributeProtoSchema, { name: 'body', type: AT.GRAPH, g: body })] }));
  return b.node('Relu', ['v'], ['y'], {}, 'relu').output('y');
}

const BODY_MACS = 6 * 6;

describe('Loop trip counts', () => {
  it.each([
    ['computed at run time, nothing given: one iteration, assumed', 'input', {}, undefined, 1, 'assumed'],
    ['computed at run time, --loop-trips loop=5', 'input', { loop: 5 }, undefined, 5, 'given'],
    ['an input fixed with --input n=:4 makes it constant', 'input', {}, { n: { shape: [], value: [4] } }, 4, 'constant'],
    ['a constant initializer', 3, {}, undefined, 3, 'constant'],
    ['the same constant given again is accepted', 3, { loop: 3 }, undefined, 3, 'constant'],
    // torch writes a while loop as Loop(INT64_MAX-like limit, cond): a limit, not a count.
    ['a while loop\'s huge limit is not a count', 2 ** 62, {}, undefined, 1, 'assumed'],
  ] as const)('%s', async (_, trip, loopTrips, inputShapes, iterations, trips) => {
    const bytes = loopModel(trip).bytes(13);
    const model = await loadModel(bytes, { loopTrips, ...(inputShapes ? { inputShapes: inputShapes as InputShapes } : {}) });
    expect(inspectModel(model).loops).toEqual([{ node: 'loop', iterations, trips }]);
    expect(graphCosts(model.graph).nodes.get('loop')!.macs).toBe(iterations * BODY_MACS);
    // Only a trip count nothing tells makes the Loop's time a matter of the data.
    expect(valueTimedNodes(model.graph)).toEqual(trips === 'assumed' ? [{ node: 'loop', op: 'Loop', why: 'its trip count, computed at run time' }] : []);
    // The model still computes what the file computes (n = 2 when it is an input).
    const feeds = randomFeeds(model.graph, 3);
    if (trip === 'input' && !inputShapes) feeds['n'] = new ort.Tensor('int64', BigInt64Array.from([2n]), []);
    const expected = await runModel(bytes, feeds, ['y']);
    expect(maxAbsDiff(expected, await runModel(encodeModel(model.proto), feeds, ['y']), ['y'])).toBeLessThanOrEqual(1e-6);
  });

  it.each([
    ['a node that is no Loop', 'input', { relu: 2 }, undefined, '--loop-trips relu=2: model bytes has no Loop node relu; its Loop nodes are loop'],
    ['a model without Loops', 'none', { loop: 2 }, undefined, '--loop-trips loop=2: model bytes has no Loop node loop; it has no Loop node'],
    ['another count for a constant trip count', 3, { loop: 7 }, undefined, '--loop-trips loop=7: model bytes: node loop (Loop) has the constant trip count 3; leave loop out of --loop-trips'],
    ['a negative count', 'input', { loop: -1 }, undefined, '--loop-trips loop=-1: the iterations must be a whole number >= 0'],
  ] as const)('GRAPH_LOOP_TRIPS for %s, naming the node', async (_, trip, loopTrips, inputShapes, message) => {
    const bytes = trip === 'none' ? new ModelBuilder().input('x', [2]).node('Relu', ['x'], ['y'], {}, 'relu').output('y').bytes() : loopModel(trip).bytes(13);
    await expect(loadModel(bytes, { loopTrips, ...(inputShapes ? { inputShapes } : {}) })).rejects.toMatchObject({ code: 'GRAPH_LOOP_TRIPS', message });
  });

  it.each([
    [['loop=12'], { loop: 12 }],
    [['a=1', 'scope/b=0'], { a: 1, 'scope/b': 0 }],
    [['x=y=3'], { 'x=y': 3 }],
  ])('parseLoopTrips(%j)', (specs, want) => {
    expect(parseLoopTrips(specs)).toEqual(want);
  });

  it.each([
    [['loop'], '--loop-trips loop: give <Loop node>=<iterations>, a whole number >= 0, e.g. --loop-trips loop=12'],
    [['=3'], '--loop-trips =3: give <Loop node>=<iterations>, a whole number >= 0, e.g. --loop-trips loop=12'],
    [['loop=1.5'], '--loop-trips loop=1.5: give <Loop node>=<iterations>, a whole number >= 0, e.g. --loop-trips loop=12'],
    [['loop=2', 'loop=3'], '--loop-trips loop given twice'],
  ])('parseLoopTrips(%j) is GRAPH_LOOP_TRIPS', (specs, message) => {
    expect(() => parseLoopTrips(specs)).toThrow(expect.objectContaining({ code: 'GRAPH_LOOP_TRIPS', message }));
  });
});
