// Int8 (QDQ) and float16 models built from real models, run in onnxruntime against float32.
import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { encodeModel, loadModel, runModel } from '@dnnpart/onnx-graph';
import { buildZooModel } from '@dnnpart/zoo';
import {
  activationParams, calibrate, convertFp16, cosine, generatedInputs, quantizeInt8, quantizeWeight, sqnrDb,
} from '@dnnpart/accuracy';
import { encode, tinyModel } from './_models.js';

async function tiny(opset = 17) {
  return loadModel(encode(tinyModel(opset)));
}

describe('quantizeWeight', () => {
  it('per channel: one scale per output channel, max |w| maps to 127', () => {
    const w = Float32Array.of(1, -2, 0.5, 0.25, 4, -4);
    const { q, scales } = quantizeWeight(w, [3, 2], 0);
    expect([...scales]).toEqual([Math.fround(2 / 127), Math.fround(0.5 / 127), Math.fround(4 / 127)]);
    expect([...q]).toEqual([64, -127, 127, 64, 127, -127]);
  });

  it('per tensor: one scale for all', () => {
    const { q, scales } = quantizeWeight(Float32Array.of(1, -2, 0.5, 0.25), [2, 2], null);
    expect(scales.length).toBe(1);
    expect([...q]).toEqual([64, -127, 32, 16]);
  });

  it.each([
    [{ min: 0, max: 2.55 }, 0.01, 0],
    [{ min: -1, max: 1.55 }, 0.01, 100],
    [{ min: 0.5, max: 2.55 }, 0.01, 0], // widened to hold 0
    [{ min: 0, max: 0 }, 1, 0],
  ])('activation range %j -> scale %d, zero point %d', (r, scale, zp) => {
    const p = activationParams(r);
    expect(p.scale).toBeCloseTo(scale, 7);
    expect(p.zeroPoint).toBe(zp);
  });
});

describe('int8 QDQ model', () => {
  it('has DequantizeLinear weights with per-channel scales of the right length, Q/DQ activations, lists Erf, and runs close to float32', async () => {
    const model = await tiny();
    const calib = generatedInputs(model.graph, 8, 100);
    const ranges = await calibrate(model, calib);
    const { proto, report } = quantizeInt8(model.proto, model.graph, ranges);
    const byInit = Object.fromEntries(report.weights.map((w) => [w.initializer, w]));
    // Conv [4,3,3,3] axis 0; Gemm transB [10,4] axis 0; MatMul [10,6] axis 1 (output columns).
    expect(byInit).toEqual({
      w_conv: { initializer: 'w_conv', node: 'conv', axis: 0, scales: 4 },
      w_gemm: { initializer: 'w_gemm', node: 'gemm', axis: 0, scales: 10 },
      w_mm: { initializer: 'w_mm', node: 'matmul', axis: 1, scales: 6 },
    });
    const inits = new Map(proto.graph!.initializer.map((t) => [t.name, t]));
    expect(inits.get('w_conv__int8')!.dataType).toBe(3);
    expect(inits.get('w_conv__scale')!.dims).toEqual([4n]);
    expect(inits.get('w_mm__scale')!.dims).toEqual([6n]);
    expect(inits.has('w_conv')).toBe(false); // the float weight is gone
    const ops = proto.graph!.node.map((n) => n.opType);
    expect(ops.filter((o) => o === 'DequantizeLinear').length).toBe(3 + report.activations.length);
    expect(ops.filter((o) => o === 'QuantizeLinear').length).toBe(report.activations.length);
    // Activations int8 ops read: x (Conv), c (Relu), r (GAP), f (Gemm), e (MatMul); g only feeds Erf.
    expect([...report.activations].sort()).toEqual(['c', 'e', 'f', 'r', 'x']);
    expect(report.unquantized).toEqual([{ node: 'erf', op: 'Erf' }]);
    expect(report.warnings.join('\n')).toContain('1 node(s) have no int8 form here and stay float32 (Erf; first erf)');
    // The source proto is untouched.
    expect(model.proto.graph!.node.length).toBe(7);

    const feeds = generatedInputs(model.graph, 20, 1);
    const a: number[] = [];
    const b: number[] = [];
    for (const f of feeds) {
      a.push(...((await runModel(encodeModel(model.proto), f, ['y'])).y!.data as Float32Array));
      b.push(...((await runModel(encodeModel(proto), f, ['y'])).y!.data as Float32Array));
    }
    // Measured 0.9989 (26 dB) over the 20 samples pooled; single samples reach 0.989, because the Gemm
    // sums 4 nearly equal pooled values with random signs and cancellation amplifies their 8-bit
    // rounding. A wrong scale, axis or zero point gives a cosine far below 0.99.
    expect(cosine(a, b)).toBeGreaterThan(0.99);
    expect(sqnrDb(a, b)).toBeGreaterThan(20);
  });

  it.each([12, 9])('opset %d: onnxruntime\'s com.microsoft Q/DQ (per channel), with a warning, still close to float32', async (opset) => {
    const model = await tiny(opset);
    const ranges = await calibrate(model, generatedInputs(model.graph, 8, 100));
    const { proto, report } = quantizeInt8(model.proto, model.graph, ranges);
    expect(report.weights.map((w) => w.scales)).toEqual([4, 10, 6]);
    const qdq = proto.graph!.node.filter((n) => n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear');
    expect(qdq.length).toBe(3 + 2 * report.activations.length);
    expect(new Set(qdq.map((n) => n.domain))).toEqual(new Set(['com.microsoft']));
    expect(proto.opsetImport.map((o) => `${o.domain}:${o.version}`)).toEqual([`:${opset}`, 'com.microsoft:1']);
    expect(report.warnings[0]).toBe(`tiny: opset ${opset} has no ${opset < 10 ? '' : 'per-channel '}QuantizeLinear/DequantizeLinear; the int8 model uses onnxruntime's com.microsoft ones (other runtimes need opset 13)`);
    const f = generatedInputs(model.graph, 1, 5)[0]!;
    const a = (await runModel(encodeModel(model.proto), f, ['y'])).y!.data as Float32Array;
    const b = (await runModel(encodeModel(proto), f, ['y'])).y!.data as Float32Array;
    expect(sqnrDb(a, b)).toBeGreaterThan(15);
  });

  it('percentile calibration gives a range inside min-max', async () => {
    const model = await tiny();
    const calib = generatedInputs(model.graph, 4, 100);
    const mm = await calibrate(model, calib);
    const pc = await calibrate(model, calib, { method: 'percentile', percentile: 99 });
    for (const [name, r] of mm) {
      const p = pc.get(name)!;
      expect(p.min).toBeGreaterThanOrEqual(r.min);
      expect(p.max).toBeLessThanOrEqual(r.max);
    }
    // x is uniform in [-1, 1): its 1st and 99th percentiles are near -0.98 and 0.98.
    expect(pc.get('x')!.max).toBeGreaterThan(0.95);
    expect(pc.get('x')!.max).toBeLessThan(0.995);
  });
});

describe('float16 model', () => {
  it('stores weights as float16, casts at the float32 boundary, and runs within float16 rounding', async () => {
    const model = await tiny();
    const { proto, report } = convertFp16(model.proto, model.graph);
    expect(report.convertedInitializers).toBe(5);
    expect(proto.graph!.initializer.every((t) => t.dataType === 10)).toBe(true);
    expect(proto.graph!.input[0]!.name).toBe('x');
    const casts = proto.graph!.node.filter((n) => n.opType === 'Cast');
    expect(casts.map((c) => `${c.input[0]}->${c.output[0]}`)).toEqual(['x->x__fp16', 'y__fp16->y']);
    const f = generatedInputs(model.graph, 1, 3)[0]!;
    const a = (await runModel(encodeModel(model.proto), f, ['y'])).y!;
    const b = (await runModel(encodeModel(proto), f, ['y'])).y!;
    expect(b.type).toBe('float32');
    // float16 keeps 11 significant bits: about 60 dB through a few layers.
    expect(sqnrDb(a.data as Float32Array, b.data as Float32Array)).toBeGreaterThan(45);
  });
});

describe('float16 model of an exported transformer', () => {
  const f32 = (name: string, values: number[]) => ({ name, dataType: 1, dims: [1n, BigInt(values.length)], rawData: new Uint8Array(Float32Array.from(values).buffer) });
  const io = (name: string, elemType = 1) => ({ name, type: { value: { case: 'tensorType' as const, value: { elemType, shape: { dim: [1, 4].map((d) => ({ value: { case: 'dimValue' as const, value: BigInt(d) } })) } } } } });
  const build = (opset: number, nodes: { opType: string; name: string; input: string[]; output: string[] }[], initializer: ReturnType<typeof f32>[], inputs = ['x']) =>
    create(ModelProtoSchema, { irVersion: 8n, opsetImport: [{ domain: '', version: BigInt(opset) }], graph: { name: 'm', node: nodes, initializer, input: inputs.map((i) => io(i)), output: [io('y')] } });
  const x = new ort.Tensor('float32', Float32Array.of(0.5, -0.25, 2, 1), [1, 4]);

  it("an attention mask of float32's minimum times a 0/1 keep mask: stored as -65504, so the masked softmax stays finite (not -Inf x 0 = NaN)", async () => {
    // Optimum's causal mask: ConstantOfShape(finfo(float32).min) * (1 - keep), added to the scores;
    // `masked` (1 - keep) is computed from the model's inputs at run time.
    const proto = build(14, [
      { opType: 'Mul', name: 'mask', input: ['min', 'masked'], output: ['m'] },
      { opType: 'Add', name: 'add_mask', input: ['x', 'm'], output: ['s'] },
      { opType: 'Softmax', name: 'softmax', input: ['s'], output: ['y'] },
    ], [f32('min', [-3.4028234663852886e38, -3.4028234663852886e38, -3.4028234663852886e38, -3.4028234663852886e38])], ['x', 'masked']);
    const feeds = { x, masked: new ort.Tensor('float32', Float32Array.of(0, 0, 1, 1), [1, 4]) };
    const model = await loadModel(encode(proto));
    const { proto: half, report } = convertFp16(model.proto, model.graph);
    expect(report.clampedValues).toBe(4);
    expect(report.overflowValues).toBe(0);
    expect(report.warnings).toEqual(['m: 4 constant value(s) of magnitude 1e9 or more (mask values) stored as +-65504 in float16 (first in min)']);
    const a = (await runModel(encodeModel(model.proto), feeds, ['y'])).y!.data as Float32Array;
    const b = (await runModel(encodeModel(half), feeds, ['y'])).y!.data as Float32Array;
    // Only the first two scores count: softmax(0.5, -0.25) = 0.679, 0.321.
    expect([...a].map((v) => +v.toFixed(3))).toEqual([0.679, 0.321, 0, 0]);
    expect([...b].every(Number.isFinite)).toBe(true);
    expect(cosine(a, b)).toBeGreaterThan(0.99999);
  });

  it.each([
    [14, ['DequantizeLinear']],
    [19, []],
  ])('opset %d: a DequantizeLinear weight stays float32 where its output cannot be float16 (before opset 19)', async (opset, kept) => {
    const proto = build(opset, [
      { opType: 'DequantizeLinear', name: 'w_dequant', input: ['wq', 'ws'], output: ['w'] },
      { opType: 'Mul', name: 'mul', input: ['x', 'w'], output: ['y'] },
    ], []);
    proto.graph!.initializer.push(create(TensorProtoSchema, { name: 'wq', dataType: 3, dims: [1n, 4n], rawData: Uint8Array.from([10, 256 - 20, 30, 127]) }));
    proto.graph!.initializer.push(create(TensorProtoSchema, { name: 'ws', dataType: 1, dims: [], rawData: new Uint8Array(Float32Array.of(0.05).buffer) }));
    const model = await loadModel(encode(proto));
    const { proto: half, report } = convertFp16(model.proto, model.graph);
    expect(report.keptFp32.map((k) => k.op)).toEqual(kept);
    const a = (await runModel(encodeModel(model.proto), { x }, ['y'])).y!.data as Float32Array;
    const b = (await runModel(encodeModel(half), { x }, ['y'])).y!.data as Float32Array;
    // (10, -20, 30, 127) x 0.05 x (0.5, -0.25, 2, 1), within float16 rounding.
    expect([...a]).toEqual([0.25, 0.25, 3, 6.35].map(Math.fround));
    for (let i = 0; i < 4; i++) expect(Math.abs(b[i]! - a[i]!)).toBeLessThan(2e-3 * Math.abs(a[i]!));
  });
});

describe('zoo network', () => {
  it('squeezenet1_1 in int8 runs in onnxruntime with cosine > 0.999 against float32 on seeded inputs', async () => {
    const model = await loadModel(buildZooModel('squeezenet1_1', { inputShape: [1, 3, 64, 64] }));
    const ranges = await calibrate(model, generatedInputs(model.graph, 8, 1000));
    const q = quantizeInt8(model.proto, model.graph, ranges);
    const convs = model.graph.nodes.filter((n) => n.op === 'Conv').length;
    expect(q.report.weights.length).toBe(convs);
    // Per-channel scales: one per output channel of each Conv's weight.
    for (const w of q.report.weights) expect(w.scales).toBe(model.graph.tensors.get(w.initializer)!.shape[0]);
    expect(q.report.unquantized).toEqual([]);
    const out = model.graph.outputs[0]!;
    const s1 = await ort.InferenceSession.create(encodeModel(model.proto));
    const s2 = await ort.InferenceSession.create(encodeModel(q.proto));
    let worst = 1;
    for (const f of generatedInputs(model.graph, 8, 1)) {
      const a = (await s1.run(f))[out]!.data as Float32Array;
      const b = (await s2.run(f))[out]!.data as Float32Array;
      worst = Math.min(worst, cosine(a, b));
    }
    await s1.release();
    await s2.release();
    // Measured 0.9998 (about 34 dB): 26 quantized convolutions in sequence, each adding ~-45 dB of
    // noise. 0.999 (30 dB) leaves room for another CPU's float rounding, and still fails on any
    // wrong axis, scale or zero point (those give cosines far below 0.99).
    expect(worst).toBeGreaterThan(0.999);
  });
});
