// Int8 (QDQ) and float16 models built from real models, run in onnxruntime against float32.
import { describe, expect, it } from 'vitest';
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
