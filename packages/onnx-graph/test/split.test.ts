import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  GraphError, loadModel, splitModel, verifySplit, writeSplit, type GraphErrorCode, type InputShapes, type SplitSpec,
} from '@dnnpart/onnx-graph';
import { checkModels, checkerMissing } from './_checker.js';
import { ModelBuilder, chain, inception, residual, squeezeExcite } from './_models.js';

const tmp = mkdtempSync(join(tmpdir(), 'onnx-graph-split-'));

function d2s(): ModelBuilder {
  const b = new ModelBuilder(9).input('x', [1, 8, 4, 4]);
  return b.node('DepthToSpace', ['x'], ['d'], { blocksize: 2 }, 'd2s').conv('c', 'd', 2, 3, 3).node('Relu', ['c'], ['y'], {}, 'relu').output('y');
}
// A detector's anchors: a weight the file lists as an output, computed by no node; and the input passed through.
function constantOutputs(): ModelBuilder {
  const b = chain();
  b.weight('anchors', [4, 2]);
  return b.output('anchors').output('x');
}
function reversedChain(): ModelBuilder {
  const b = chain();
  b.nodes.reverse();
  return b;
}

// [model, builder, --input, splits]: every position of every model, plus multi-cut and stage-map splits.
const MODELS: [string, () => ModelBuilder, InputShapes | undefined, SplitSpec[]][] = [
  ['chain', chain, undefined, [{ after: ['conv', 'pool'] }, { after: ['relu', 'flat'] }]],
  ['chain, dynamic batch 3', () => chain('N'), [3, 3, 8, 8], [{ after: ['pool'] }]],
  ['chain, dynamic spatial 16', () => chain(1, 'S', 16), { x: [1, 3, 16, 16] }, []],
  ['chain in reversed file order', reversedChain, undefined, [{ after: ['relu'] }]],
  ['residual', residual, undefined, [{ after: ['c2', 'c3'] }, { stages: { c1: 0, r1: 0, c2: 1, r2: 1, c3: 2, add: 2, out: 2 } }]],
  ['squeeze-excite', squeezeExcite, undefined, [{ after: ['gap', 'fr', 'sig'] }]],
  ['inception', inception, undefined, [{ after: ['b1', 'b2b', 'b3'] }, { stages: { b1: 0, b2a: 1, pool: 1, b2b: 2, b3: 2, cat: 3, out: 3 } }]],
  ['unknown op (ORT-measured shapes)', d2s, undefined, [{ after: ['d2s'] }]],
  ['a constant output and a pass-through output', constantOutputs, undefined, []],
];

describe('splitModel: stages compose to the original model', () => {
  it.each(MODELS)('%s', async (name, build, inputShapes, extra) => {
    const model = await loadModel(build().bytes(), { inputShapes });
    const nodes = model.graph.nodes.map((n) => n.name);
    const specs: SplitSpec[] = [...nodes.slice(0, -1).map((n) => ({ after: [n] })), { after: nodes.slice(0, -1) }, { after: [] }, ...extra];
    const files: string[] = [];
    for (const [i, spec] of specs.entries()) {
      const split = splitModel(model, spec);
      const check = await verifySplit(model, split, i + 1);
      expect(check.maxAbsDiff, JSON.stringify(spec)).toBeLessThanOrEqual(1e-5);
      const dir = join(tmp, `${name.replace(/\W+/g, '-')}-${i}`);
      writeSplit(split, dir);
      files.push(...split.stages.map((s) => join(dir, s.file)));
      expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))).toEqual(split.manifest);
      // Every node in exactly one stage (a stage map may order nodes differently from the topological order).
      expect(split.stages.flatMap((s) => s.nodes).sort()).toEqual([...nodes].sort());
    }
    if (checkerMissing) {
      console.warn(`skipping the ONNX checker: ${checkerMissing}`);
      return;
    }
    expect(checkModels(files)).toBe('');
  });
});

describe('splitModel: stage contents', () => {
  it('a constant output is reported by the last stage, which carries its weight; a pass-through output by the first', async () => {
    const model = await loadModel(constantOutputs().bytes());
    const split = splitModel(model, { after: ['conv', 'flat'] });
    expect(split.stages.map((s) => s.outputs)).toEqual([['conv', 'x'], ['flat'], ['y', 'anchors']]);
    expect(split.stages.at(-1)!.proto.graph!.initializer.map((t) => t.name)).toContain('anchors');
    expect(split.stages.slice(0, -1).flatMap((s) => s.proto.graph!.initializer.map((t) => t.name))).not.toContain('anchors');
  });

  it('residual cut inside the block: two tensors cross, each stage keeps only its initializers', async () => {
    const model = await loadModel(residual().bytes());
    const split = splitModel(model, { after: ['c2'] });
    expect(split.manifest).toEqual({
      stages: [
        { file: 'stage-0.onnx', inputs: ['x'], outputs: ['r1', 'c2'], nodes: ['c1', 'r1', 'c2'] },
        { file: 'stage-1.onnx', inputs: ['r1', 'c2'], outputs: ['y'], nodes: ['r2', 'c3', 'add', 'out'] },
      ],
    });
    const s0 = split.stages[0]!.proto;
    expect(s0.graph!.initializer.map((t) => t.name)).toEqual(['c1.weight', 'c1.bias', 'c2.weight', 'c2.bias']);
    expect(s0.graph!.valueInfo.map((v) => v.name)).toEqual(['c1']);
    expect(s0.irVersion).toBe(model.proto.irVersion);
    expect(s0.opsetImport.map((o) => [o.domain, o.version])).toEqual([['', 13n]]);
    const out = s0.graph!.output[1]!.type!.value;
    expect(out.case === 'tensorType' && out.value.shape!.dim.map((d) => d.value.value)).toEqual([1n, 4n, 8n, 8n]);
  });

  it('a tensor skipping a stage is an output of its producer and an input of its reader', async () => {
    const model = await loadModel(inception().bytes());
    const split = splitModel(model, { after: ['b1', 'b2b'] });
    expect(split.manifest.stages.map((s) => [s.inputs, s.outputs])).toEqual([
      [['x'], ['b1']],
      [['x'], ['b2b']],
      [['x', 'b1', 'b2b'], ['y']],
    ]);
  });

  it.skipIf(checkerMissing)('the checker used above rejects a stage with a wrong declared shape', async () => {
    const split = splitModel(await loadModel(chain().bytes()), { after: ['relu'] });
    const t = split.stages[0]!.proto.graph!.output[0]!.type!.value;
    if (t.case === 'tensorType') t.value.shape!.dim[2]!.value = { case: 'dimValue', value: 5n };
    const { saveModel } = await import('@dnnpart/onnx-graph');
    const file = join(tmp, 'wrong-shape.onnx');
    saveModel(split.stages[0]!.proto, file);
    expect(checkModels([file])).toMatch(/wrong-shape\.onnx/);
  });

  it('verifySplit notices a wrong stage', async () => {
    const model = await loadModel(chain().bytes());
    const split = splitModel(model, { after: ['relu'] });
    // Stage initializers are shared with the source model, so replace the tensor instead of editing it.
    const inits = split.stages[1]!.proto.graph!.initializer;
    const k = inits.findIndex((t) => t.name === 'fc.weight');
    inits[k] = { ...inits[k]!, rawData: new Uint8Array(inits[k]!.rawData.length) };
    const { encodeModel } = await import('@dnnpart/onnx-graph');
    const tampered = { ...split, stages: split.stages.map((s, i) => (i === 1 ? { ...s, bytes: encodeModel(s.proto) } : s)) };
    expect((await verifySplit(model, tampered)).maxAbsDiff).toBeGreaterThan(1e-3);
  });
});

describe('splitModel: bad specs', () => {
  const CASES: [string, GraphErrorCode, () => ModelBuilder, SplitSpec, RegExp][] = [
    ['a cut name not in the graph', 'GRAPH_UNKNOWN_NODE', residual, { after: ['c9'] }, /--after c9/],
    ['cuts out of order', 'GRAPH_CUTS_OUT_OF_ORDER', residual, { after: ['c3', 'c2'] }, /c2.*after c3/],
    ['the same cut twice', 'GRAPH_CUTS_OUT_OF_ORDER', residual, { after: ['c2', 'c2'] }, /c2/],
    ['a cut after the last node', 'GRAPH_EMPTY_STAGE', residual, { after: ['out'] }, /out/],
    ['an unknown node in a stage map', 'GRAPH_UNKNOWN_NODE', residual, { stages: { c1: 0, nope: 1 } }, /nope/],
    ['a node without a stage', 'GRAPH_BAD_ASSIGNMENT', residual, { stages: { c1: 0, r1: 0 } }, /node c2 is not assigned/],
    ['an edge going back a stage', 'GRAPH_BAD_ASSIGNMENT', residual, { stages: { c1: 0, r1: 1, c2: 1, r2: 1, c3: 1, add: 0, out: 1 } }, /tensor c3 flows from c3 \(stage 1\) back to add \(stage 0\)/],
    ['a stage with no nodes', 'GRAPH_EMPTY_STAGE', residual, { stages: { c1: 0, r1: 0, c2: 0, r2: 2, c3: 2, add: 2, out: 2 } }, /stage 1/],
    ['a negative stage', 'GRAPH_BAD_ASSIGNMENT', residual, { stages: { c1: -1, r1: 0, c2: 0, r2: 0, c3: 0, add: 0, out: 0 } }, /stage -1/],
  ];
  it.each(CASES)('%s -> %s', async (_, code, build, spec, message) => {
    const model = await loadModel(build().bytes());
    let err: unknown;
    try {
      splitModel(model, spec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GraphError);
    expect((err as GraphError).code).toBe(code);
    expect((err as GraphError).message).toMatch(message);
  });

  it('writeSplit reports an unwritable directory', async () => {
    const split = splitModel(await loadModel(chain().bytes()), { after: ['relu'] });
    const file = join(tmp, 'a-file');
    (await import('node:fs')).writeFileSync(file, 'x');
    expect(() => writeSplit(split, join(file, 'sub'))).toThrowError(expect.objectContaining({ code: 'GRAPH_WRITE_FAILED' }));
    expect(readdirSync(tmp)).toContain('a-file');
  });
});
