// Float16 stage models of the ops ONNX's backend test models (Debian's libonnx-testdata) showed
// convertFp16 getting wrong: each model must load and run in onnxruntime in its float16 form, and
// compute what the float32 model computes within float16's precision; ops without a float16 form
// stay float32 (and are listed); a model too old for Cast is refused with what to do.
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, type ModelProto } from 'onnx-buf';
import type * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeModel, fromHalfBits, loadModel, randomFeeds, runModel } from '@dnnpart/onnx-graph';
import { convertFp16 } from '@dnnpart/accuracy';

type In = readonly [name: string, dims: readonly number[], elemType?: number];
interface Op { readonly op: string; readonly inputs: readonly string[]; readonly output: string; readonly attrs?: Readonly<Record<string, number | string>> }

/** A model of `ops` at `opset`; initializers as float32 scalars or int64 tensors. */
function model(opset: number, inputs: readonly In[], ops: readonly Op[], outputs: readonly string[], inits: Readonly<Record<string, number | readonly bigint[][]>> = {}): Uint8Array {
  const vi = (name: string, dims: readonly number[], elemType = 1) => ({
    name, type: { value: { case: 'tensorType' as const, value: { elemType, shape: { dim: dims.map((d) => ({ value: { case: 'dimValue' as const, value: BigInt(d) } })) } } } },
  });
  const m: ModelProto = create(ModelProtoSchema, {
    irVersion: opset < 7 ? 3n : 8n,
    opsetImport: [{ domain: '', version: BigInt(opset) }],
    graph: {
      name: 'ops',
      node: ops.map((o, i) => ({
        opType: o.op, name: `${o.op.toLowerCase()}${i}`, input: [...o.inputs], output: [o.output],
        attribute: Object.entries(o.attrs ?? {}).map(([name, v]) => (typeof v === 'number' ? { name, type: 2, i: BigInt(v) } : { name, type: 3, s: new TextEncoder().encode(v) })),
      })),
      initializer: Object.entries(inits).map(([name, v]) => (typeof v === 'number'
        ? { name, dataType: 1, dims: [], rawData: new Uint8Array(Float32Array.of(v).buffer) }
        : { name, dataType: 7, dims: [BigInt(v.length), BigInt(v[0]!.length)], rawData: new Uint8Array(BigInt64Array.from(v.flat()).buffer) })),
      input: inputs.map(([n, d, t]) => vi(n, d, t)),
      output: outputs.map((o) => ({ name: o })),
    },
  });
  return toBinary(ModelProtoSchema, m);
}

const values = (t: ort.Tensor): number[] => Array.from(t.data as ArrayLike<number>, (v) => (t.type === 'float16' ? fromHalfBits(v) : Number(v)));

/** The float16 form: its report, and that it runs and agrees with the float32 model (within 1e-2 relative). */
async function half(bytes: Uint8Array) {
  const m = await loadModel(bytes, { simplify: false });
  const { proto, report } = convertFp16(m.proto, m.graph);
  const feeds = randomFeeds(m.graph, 3);
  const want = await runModel(bytes, feeds, m.graph.outputs);
  const got = await runModel(encodeModel(proto), feeds, m.graph.outputs);
  for (const o of m.graph.outputs) {
    const a = values(want[o]!);
    const b = values(got[o]!);
    expect(b.length).toBe(a.length);
    a.forEach((x, i) => expect(Math.abs(x - b[i]!), `${o}[${i}]`).toBeLessThanOrEqual(1e-2 * Math.max(1, Math.abs(x))));
  }
  return report.keptFp32.map((k) => k.op);
}

describe('float16 stages of the ops ONNX tests', () => {
  it('a Cast from float32 to float32 (an expanded LayerNormalization\'s stash cast) becomes an Identity, and the model loads', async () => {
    // Before: the Cast became float16 -> float16, which onnxruntime's cast insertion mistyped at load.
    const bytes = model(17, [['x', [2, 4]]], [
      { op: 'ReduceMean', inputs: ['x'], output: 'm', attrs: { keepdims: 1 } },
      { op: 'Sub', inputs: ['x', 'm'], output: 'd' },
      { op: 'Cast', inputs: ['d'], output: 'dt', attrs: { to: 1 } },
      { op: 'Reciprocal', inputs: ['w'], output: 'r' },
      { op: 'Mul', inputs: ['dt', 'r'], output: 'y' },
    ], ['y'], { w: 4 });
    expect(await half(bytes)).toEqual([]);
  });

  it.each([
    ['Celu (float32 only in its schema)', 12, [{ op: 'Celu', inputs: ['x'], output: 'c' }, { op: 'Relu', inputs: ['c'], output: 'y' }], {}, ['Celu']],
    ['IsInf before opset 20', 10, [{ op: 'Mul', inputs: ['x', 'k'], output: 'a' }, { op: 'IsInf', inputs: ['a'], output: 'y' }], { k: 2 }, ['IsInf']],
    ['MeanVarianceNormalization (onnxruntime expands it with float32 constants)', 13, [{ op: 'MeanVarianceNormalization', inputs: ['x'], output: 'y' }], {}, ['MeanVarianceNormalization']],
    ['ScatterND adding into its data (no float16 kernel)', 16, [{ op: 'ScatterND', inputs: ['x', 'idx', 'x'], output: 'y', attrs: { reduction: 'add' } }], { idx: [[0n], [1n]] }, ['ScatterND']],
    ['ScatterND replacing (float16 kernel)', 16, [{ op: 'ScatterND', inputs: ['x', 'idx', 'x'], output: 'y' }], { idx: [[0n], [1n]] }, []],
  ] as const)('%s', async (_, opset, ops, inits, kept) => {
    // ScatterND's indices [[0], [1]] pick whole rows of x [2, 4] and add x's rows into them.
    expect(await half(model(opset, [['x', [2, 4]]], ops, ['y'], inits))).toEqual(kept);
  });

  it('a model of opset 1 with float tensors is refused with what to do; one without floats converts', async () => {
    const pool = await loadModel(model(1, [['x', [1, 2, 3, 3]]], [{ op: 'GlobalAveragePool', inputs: ['x'], output: 'y' }], ['y']));
    expect(() => convertFp16(pool.proto, pool.graph)).toThrow(expect.objectContaining({
      code: 'ACCURACY_BAD_OPTION',
      message: 'ops: a float16 stage needs Cast of opset 6 or later, and the model has opset 1: convert it to a newer opset (onnx.version_converter) or keep the stage fp32',
    }));
    const not = await loadModel(model(1, [['b', [2, 3], 9]], [{ op: 'Not', inputs: ['b'], output: 'y' }], ['y']));
    expect(convertFp16(not.proto, not.graph).report.keptFp32).toEqual([]);
  });
});
