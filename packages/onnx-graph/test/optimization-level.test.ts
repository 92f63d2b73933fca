// The optimisation level a session is made at: "all", or the highest level below it that
// onnxruntime accepts when its optimiser makes a graph it then refuses (a float8 QDQ Conv and Relu
// fused into a QLinearConv, which has no float8 type). The choice's logic on plain functions, then
// the real case in onnxruntime.
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { atUsableLevel, levelChoice, levelNote, loadModel, optimiserMayHaveFailed, randomFeeds, runModel, splitModel, verifySplit, type OptimizationLevel } from '@dnnpart/onnx-graph';
import { ModelBuilder } from './_models.js';

/** A create that fails at the levels in `refuse` (with `message`) and records every level tried. */
function creator(refuse: readonly OptimizationLevel[], message = 'This is an invalid model. Type Error: bad fused op') {
  const tried: OptimizationLevel[] = [];
  const create = async (level: OptimizationLevel) => {
    tried.push(level);
    if (refuse.includes(level)) throw new Error(`${message} (at ${level})`);
    return `session at ${level}`;
  };
  return { tried, create };
}

describe('atUsableLevel', () => {
  it('makes the session at the level asked for when onnxruntime takes it, and says nothing', async () => {
    const choice = levelChoice();
    const { tried, create } = creator([]);
    expect(await atUsableLevel(choice, create)).toBe('session at all');
    expect(tried).toEqual(['all']);
    expect(choice).toEqual({ level: 'all' });
    expect(levelNote('stage 0', choice)).toBeUndefined();
  });

  it('tries each lower level in turn, keeps the first that works for every later session, and words why', async () => {
    const choice = levelChoice('all');
    const first = creator(['all', 'extended']);
    expect(await atUsableLevel(choice, first.create)).toBe('session at basic');
    expect(first.tried).toEqual(['all', 'extended', 'basic']);
    expect(choice.level).toBe('basic');
    // A later session of the same model starts at "basic": the refused levels are not tried again.
    const later = creator(['all', 'extended']);
    expect(await atUsableLevel(choice, later.create)).toBe('session at basic');
    expect(later.tried).toEqual(['basic']);
    expect(levelNote('stage 1 (pi5)', choice)).toBe(
      'stage 1 (pi5): onnxruntime refuses the graph its optimiser makes at level "all" (This is an invalid model. Type Error: bad fused op (at all)); run at level "basic", whose times are not those of level "all"',
    );
  });

  it('throws the first failure, worded at the level asked for, when no level works', async () => {
    const choice = levelChoice('extended');
    const { tried, create } = creator(['extended', 'basic', 'disabled']);
    await expect(atUsableLevel(choice, create)).rejects.toThrow('bad fused op (at extended)');
    expect(tried).toEqual(['extended', 'basic', 'disabled']);
    expect(choice).toEqual({ level: 'extended' });
  });

  it.each([
    ['Load model from m.onnx failed:Protobuf parsing failed.'],
    ['std::bad_alloc'],
    ['Failed to allocate memory for requested buffer of size 4294967296'],
    ['ENOENT: no such file or directory'],
    ['Unsupported model IR version: 12, max supported IR version: 11'],
  ])('does not try lower levels for a failure no level cures: %s', async (message) => {
    expect(optimiserMayHaveFailed(new Error(message))).toBe(false);
    const { tried, create } = creator(['all', 'extended', 'basic', 'disabled'], message);
    await expect(atUsableLevel(levelChoice(), create)).rejects.toThrow(message);
    expect(tried).toEqual(['all']);
  });

  it('at level "disabled" there is nothing lower to try', async () => {
    const { tried, create } = creator(['disabled']);
    await expect(atUsableLevel(levelChoice('disabled'), create)).rejects.toThrow('at disabled');
    expect(tried).toEqual(['disabled']);
  });
});

/** The float8 QDQ Conv -> Relu -> QuantizeLinear that onnxruntime 1.30's optimiser fuses into a QLinearConv it then refuses. */
function refusedOnceOptimised(): Uint8Array {
  const F8 = 17;
  const b = new ModelBuilder(3).input('x', [1, 3, 8, 8]);
  const f8 = (name: string, dims: number[], bytes: Uint8Array) => b.inits.push(create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: F8, rawData: bytes }));
  b.inits.push(create(TensorProtoSchema, { name: 'sx', dims: [], dataType: 1, floatData: [0.05] }), create(TensorProtoSchema, { name: 'sw', dims: [], dataType: 1, floatData: [0.01] }));
  b.inits.push(create(TensorProtoSchema, { name: 'sy', dims: [], dataType: 1, floatData: [0.02] }));
  f8('zx', [], new Uint8Array(1));
  f8('wq', [8, 3, 3, 3], Uint8Array.from({ length: 216 }, (_, i) => ((i * 37) % 0x38) | (i % 3 === 0 ? 0x80 : 0)));
  b.node('QuantizeLinear', ['x', 'sx', 'zx'], ['xq'], {}, 'qx').node('DequantizeLinear', ['xq', 'sx', 'zx'], ['xd'], {}, 'dqx')
    .node('DequantizeLinear', ['wq', 'sw'], ['w'], {}, 'dqw').node('Conv', ['xd', 'w'], ['c'], { pads: [1, 1, 1, 1] }, 'conv')
    .node('Relu', ['c'], ['rc'], {}, 'relu').node('QuantizeLinear', ['rc', 'sy', 'zx'], ['yq'], {}, 'qy')
    .node('DequantizeLinear', ['yq', 'sy', 'zx'], ['yd'], {}, 'dqy').node('GlobalAveragePool', ['yd'], ['y'], {}, 'gap').output('y', [1, 8, 1, 1]);
  return b.bytes(21, 10);
}

describe('a model onnxruntime refuses once it has optimised it', () => {
  it('runs optimised at the highest level onnxruntime takes, with the outputs of the unoptimised model', async () => {
    const bytes = refusedOnceOptimised();
    const { graph } = await loadModel(bytes);
    const feeds = randomFeeds(graph, 1);
    const plain = await runModel(bytes, feeds, ['y']);
    // Before: "onnxruntime cannot load the model (... operator (QLinearConv) in node (conv) is invalid)".
    const optimised = await runModel(bytes, feeds, ['y'], { optimised: true });
    expect([...(optimised['y']!.data as Float32Array)]).toEqual([...(plain['y']!.data as Float32Array)]);
    expect((plain['y']!.data as Float32Array).some((v) => v !== 0)).toBe(true);
    // onnxruntime 1.30 refuses it at "all" and "extended" and runs it at "basic": what the fallback is for.
    const choice = levelChoice();
    const ort = await import('onnxruntime-node');
    const s = await atUsableLevel(choice, (level) => ort.InferenceSession.create(bytes, { graphOptimizationLevel: level, logSeverityLevel: 4 }));
    await s.release();
    expect(choice.level).toBe('basic');
    expect(choice.refused?.message).toMatch(/QLinearConv/);
  });

  it('a stage holding the fused nodes runs optimised too, and its split stages give the unsplit outputs', async () => {
    const model = await loadModel(refusedOnceOptimised());
    const split = splitModel(model, { after: ['qy'] });
    expect((await verifySplit(model, split)).maxAbsDiff).toBe(0);
    const feeds = randomFeeds(model.graph, 2);
    const stage0 = split.stages[0]!;
    const plain = await runModel(stage0.bytes, feeds, [...stage0.outputs]);
    const optimised = await runModel(stage0.bytes, feeds, [...stage0.outputs], { optimised: true });
    for (const name of stage0.outputs) expect([...(optimised[name]!.data as Float32Array)]).toEqual([...(plain[name]!.data as Float32Array)]);
  });
});
