// Values float16 cannot hold. A weight past 65504 (Silero VAD v4's spectrogram gain of 2^20,
// PaddleOCR det's BatchNorm variances of 1e5) used to become Inf in the float16 model, and the plan's
// fidelity collapsed (Silero v4: cosine 0.22; PaddleOCR det: 0.000); the node reading it now stays
// float32 and says so. A value past 65504 that still reaches float16 (a Constant node's, in a model
// loaded without the passes that make it a weight) turns Inf, and warnings say where.
import { clone, create } from '@bufbuild/protobuf';
import { ModelProtoSchema, ValueInfoProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeModel, fromHalfBits, loadModel, runModel } from '@dnnpart/onnx-graph';
import { findExternalModel } from '@dnnpart/zoo';
import { convertFp16, evaluatePlan, type Precision } from '@dnnpart/accuracy';
import { bnModel, encode, normModel } from './_models.js';

const m = findExternalModel('silero-vad-v4')!;
const specs = { input: { shape: [1, 512] }, sr: { shape: [], value: [16000] }, h: { shape: [2, 1, 64] }, c: { shape: [2, 1, 64] } };

describe('silero-vad-v4: a weight float16 cannot hold', () => {
  if (!m.available && process.env.CI === 'true') throw new Error(`${m.name}: ${m.source.package}@${m.source.version} is not installed; npm ci installs it`);

  it.each<[string, Precision[]]>([
    ['fp16 spectrogram stage', ['fp16', 'fp16']],
    ['fp32 spectrogram stage, fp16 rest', ['fp32', 'fp16']],
  ])('%s', async (_, precision) => {
    if (!m.available) {
      console.warn(`skipped ${m.name}: ${m.source.package} is not installed`);
      return;
    }
    const model = await loadModel(m.file, { inputShapes: specs });
    const spect = model.graph.tensors.get('spect0.1')!;
    // Generated inputs are uniform in [-1, 1]: the range of audio samples.
    const r = await evaluatePlan(model, { split: { after: [spect.producer!] }, precision, samples: 4 });
    expect(r.warnings.filter((w) => w.includes('has Inf or NaN values'))).toEqual([]);
    expect(r.cosine).toBeGreaterThan(0.999);
    // The gain (2^20, initializer 196) keeps its value: the Mul reading it runs in float32.
    const kept = "stage 0: silero_vad: 1 node(s) read weights past float16's 65504 and stay float32 (first Mul_93, reading 196)";
    if (precision[0] === 'fp16') expect(r.warnings).toContain(kept);
    else expect(r.warnings).not.toContain(kept);
  });
});

describe('BatchNorm statistics float16 cannot hold (as PaddleOCR det has them)', () => {
  it('keeps the BatchNormalization in float32 and the float16 model faithful', async () => {
    const proto = bnModel();
    // bn1's running mean about 70,000 and variance about 5e8: (x - mean) / sqrt(var) is still about -3.
    for (const t of proto.graph!.initializer) {
      if (t.name !== 'm1' && t.name !== 'v1') continue;
      const v = new Float32Array(t.rawData.slice().buffer).map((x, i) => (t.name === 'm1' ? 70000 + 1000 * i : 5e8 * (1 + Math.abs(x))));
      t.rawData = new Uint8Array(v.buffer);
    }
    const model = await loadModel(encode(proto), { simplify: false });
    const r = await evaluatePlan(model, { split: { after: ['relu1'] }, precision: ['fp16', 'fp16'], samples: 8 });
    expect(r.warnings).toContain("stage 0: bn: 1 node(s) read weights past float16's 65504 and stay float32 (first bn1, reading m1)");
    // Before: the mean and variance became Inf in float16, (x - Inf) x 0 = NaN, and cosine 0.
    expect(r.cosine).toBeGreaterThan(0.999);
  });
});

describe('a Constant node float16 cannot hold', () => {
  it('turns Inf in the float16 stage, and warnings name the constant, the stage and the tensor', async () => {
    // x in [-1, 1] times a Constant node of 70,000. (onnxruntime's CPU kernels compute float16 ops
    // in float32 and drop the casts between them, so an activation alone does not overflow here.)
    const value = { name: 'value', type: 4, t: { dataType: 1, dims: [1n], rawData: new Uint8Array(Float32Array.of(70000).buffer) } };
    const vi = (name: string) => ({ name, type: { value: { case: 'tensorType' as const, value: { elemType: 1, shape: { dim: [{ value: { case: 'dimValue' as const, value: 1n } }, { value: { case: 'dimValue' as const, value: 64n } }] } } } } });
    const proto = create(ModelProtoSchema, {
      irVersion: 8n,
      opsetImport: [{ domain: '', version: 17n }],
      graph: {
        name: 'gain',
        node: [
          { opType: 'Constant', name: 'gain', input: [], output: ['a'], attribute: [value] },
          { opType: 'Mul', name: 'scale', input: ['x', 'a'], output: ['g'] },
          { opType: 'Relu', name: 'relu', input: ['g'], output: ['r'] },
          { opType: 'Sigmoid', name: 'squash', input: ['r'], output: ['y'] },
        ],
        input: [vi('x')],
        output: [vi('y')],
      },
    });
    const model = await loadModel(encode(proto), { simplify: false });
    const r = await evaluatePlan(model, { split: { after: ['relu'] }, precision: ['fp16', 'fp32'], samples: 8 });
    expect(r.warnings).toContain("stage 0: gain: 1 constant value(s) past float16's 65504 become +-Inf in float16 (first in gain)");
    expect(r.warnings.filter((x) => x.includes('has Inf or NaN values'))).toEqual([
      'stage 0 (fp16): r has Inf or NaN values where float32 has none (float16 overflows past 65504); its fidelity is meaningless: keep stage 0 in fp32',
    ]);
    expect(r.warnings.some((x) => x.includes('read weights past'))).toBe(false);
  });
});

describe("a decomposed norm's variance", () => {
  it('stays float32 from the square to the root; an exponent of another type is read as no square', async () => {
    const model = await loadModel(encode(normModel()), { simplify: false });
    const { proto, report } = convertFp16(model.proto, model.graph);
    expect(report.keptFp32.map((k) => k.node)).toEqual(['square', 'mean', 'eps', 'root']);
    // x in [-1, 1] times 400: squares up to 160,000, past float16's 65504. Every tensor an output,
    // so onnxruntime materialises each float16 one: none is Inf, and y is x / rms(x) as in float32.
    const exposed = clone(ModelProtoSchema, proto);
    const have = new Set(exposed.graph!.output.map((o) => o.name));
    for (const n of exposed.graph!.node) for (const y of n.output) if (y && !have.has(y)) exposed.graph!.output.push(create(ValueInfoProtoSchema, { name: y }));
    const x = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i + 1));
    const out = await runModel(encodeModel(exposed), { x: new ort.Tensor('float32', x, [1, 16]) }, exposed.graph!.output.map((o) => o.name));
    for (const [name, t] of Object.entries(out)) {
      const v = Array.from(t.data as ArrayLike<number>, (b) => (t.type === 'float16' ? fromHalfBits(b) : b));
      expect(v.every(Number.isFinite), name).toBe(true);
    }
    const rms = Math.sqrt(x.reduce((s, v) => s + v * v, 0) / 16);
    expect(Math.abs((out['y']!.data as Float32Array)[3]! - x[3]! / rms)).toBeLessThan(2e-3);
  });
});

describe("an integer product's accumulator (onnxruntime's dynamic quantization, Moonshine's encoder)", () => {
  const enc = findExternalModel('moonshine-encoder')!;
  it('stays float32 with the Mul that scales it: every float16 tensor finite on audio', async () => {
    if (!enc.available) {
      if (process.env.CI === 'true') throw new Error(`${enc.name}: ${enc.source.package}@${enc.source.version} is not installed; npm ci installs it`);
      console.warn(`skipped ${enc.name}: ${enc.source.package} is not installed`);
      return;
    }
    const model = await loadModel(enc.file, { inputShapes: { input_values: { shape: [1, 16000] } } });
    const { proto, report } = convertFp16(model.proto, model.graph);
    // MatMulInteger -> Cast(int32 -> float) -> Mul(scales): the Cast stays float32 and no float16 copy of it is made.
    const casts = proto.graph!.node.filter((n) => n.opType === 'Cast' && model.graph.tensors.get(n.input[0] ?? '')?.dtype === 'int32');
    expect(casts.length).toBe(36);
    for (const c of casts) expect(Number(c.attribute.find((a) => a.name === 'to')!.i)).toBe(1);
    expect(proto.graph!.node.some((n) => casts.some((c) => n.input.includes(c.output[0]!) && n.opType === 'Cast'))).toBe(false);
    expect(report.keptFp32.filter((k) => k.op === 'Mul').length).toBe(36);
    // Every float tensor an output, so onnxruntime materialises each float16 one, as a board that
    // computes in float16 does (this host's kernels otherwise compute them in float32). A chirp of
    // amplitude 0.3 drives layer 0's accumulators to 1e5: as float16 they were Inf, and the output NaN.
    const exposed = clone(ModelProtoSchema, proto);
    const have = new Set(exposed.graph!.output.map((o) => o.name));
    for (const n of exposed.graph!.node) for (const y of n.output) if (y && !have.has(y)) exposed.graph!.output.push(create(ValueInfoProtoSchema, { name: y }));
    const i = Array.from({ length: 16000 }, (_, k) => k);
    const x = Float32Array.from(i, (k) => 0.3 * Math.sin(k * 0.01 + 1e-6 * k * k));
    const out = await runModel(encodeModel(exposed), { input_values: new ort.Tensor('float32', x, [1, 16000]) }, exposed.graph!.output.map((o) => o.name));
    const bad = Object.entries(out).filter(([, t]) => (t.type === 'float32' || t.type === 'float16') && Array.from(t.data as ArrayLike<number>, (v) => (t.type === 'float16' ? fromHalfBits(v) : v)).some((v) => !Number.isFinite(v)));
    expect(bad.map(([name]) => name)).toEqual([]);
  });
});
