// A plan's fidelity measured by running its stages: transfer bytes per encoding, stage precisions,
// and agreement with the float32 model on seeded inputs.
import { beforeAll, describe, expect, it } from 'vitest';
import { cutPoints, loadModel, type CutPoint, type LoadedModel } from '@dnnpart/onnx-graph';
import { buildZooModel } from '@dnnpart/zoo';
import * as ort from 'onnxruntime-node';
import { evaluatePlan, generatedInputs, isAccuracyError, MIN_STABLE_SAMPLES } from '@dnnpart/accuracy';

let model: LoadedModel;
let multi: CutPoint;
let single: CutPoint;

beforeAll(async () => {
  model = await loadModel(buildZooModel('squeezenet1_1', { inputShape: [1, 3, 64, 64] }));
  const cuts = cutPoints(model.graph).slice(0, -1);
  multi = cuts.find((c) => c.tensors.length === 2)!;
  single = cuts.filter((c) => c.single)[Math.floor(cuts.filter((c) => c.single).length / 2)]!;
});

describe('transfer encodings of a cut', () => {
  it.each([
    ['fp32', (b: number, _n: number) => b],
    ['fp16', (b: number, _n: number) => b / 2],
    ['int8', (b: number, n: number) => b / 4 + 5 * n],
  ] as const)('%s: bytes follow the encoding on a two-tensor cut', async (enc, want) => {
    const r = await evaluatePlan(model, { split: { after: [multi.after] }, transfer: enc, samples: 4 });
    expect(r.fp32TransferBytes).toBe(multi.bytes);
    expect(r.transferBytes).toBe(want(multi.bytes, multi.tensors.length));
    expect(r.stages[0]!.sendBytes).toBe(r.transferBytes);
    expect(r.stages[1]!.sendBytes).toBe(0);
    if (enc === 'fp32') {
      expect(r.cosine).toBe(1);
      expect(r.sqnrDb).toBe(Infinity);
      expect(r.top1Agreement).toBe(1);
    } else {
      // fp16 keeps 11 significant bits (~70 dB), int8 8 bits over the tensor's range (~45-50 dB).
      expect(r.sqnrDb).toBeGreaterThan(enc === 'fp16' ? 60 : 35);
      expect(r.sqnrDb).toBeLessThan(Infinity);
    }
  });
});

describe('model inputs sent over a link', () => {
  it('with inputTransfer, the plan runs on the inputs as they arrive decoded', async () => {
    const split = { after: [single.after] };
    // Generated inputs lose to int8's rounding: the plan drifts from the float32 model on them.
    const inputs = generatedInputs(model.graph, 3, 11);
    const sent = await evaluatePlan(model, { split, inputTransfer: 'int8', inputs });
    expect(sent.cosine).toBeLessThan(1);
    expect(sent.sqnrDb).toBeLessThan(Infinity);
    expect((await evaluatePlan(model, { split, inputs })).cosine).toBe(1);
    // Inputs on int8's grid (k / 256 for k in 0..255: its scale 2^-8, 8-bit pixels) travel exactly: nothing lost.
    const onGrid = inputs.map((f) => Object.fromEntries(Object.entries(f).map(([k, t]) => {
      const v = (t.data as Float32Array).map((_, i) => ((i * 37) % 256) / 256);
      return [k, new ort.Tensor('float32', v, t.dims)];
    })));
    const exact = await evaluatePlan(model, { split, inputTransfer: 'int8', inputs: onGrid });
    expect([exact.cosine, exact.sqnrDb]).toEqual([1, Infinity]);
    await expect(evaluatePlan(model, { split, inputTransfer: 'int4' as never, samples: 1 })).rejects.toMatchObject({ code: 'ACCURACY_BAD_OPTION', message: 'input transfer encoding "int4" is not one of fp32, fp16, int8' });
  });
});

describe('stage precision', () => {
  it('int8 first stage, fp16 second: each stage measured alone, the plan end to end', async () => {
    const r = await evaluatePlan(model, { split: { after: [single.after] }, precision: ['int8', 'fp16'], transfer: 'int8', samples: 8 });
    const [s0, s1] = r.stages;
    expect(s0!.precision).toBe('int8');
    expect(s1!.precision).toBe('fp16');
    expect(s0!.fidelity!.samples).toBe(8);
    // An int8 stage loses more than an fp16 one (8 vs 11 significant bits).
    expect(s0!.fidelity!.sqnrDb).toBeLessThan(s1!.fidelity!.sqnrDb);
    expect(s1!.fidelity!.sqnrDb).toBeGreaterThan(50);
    expect(r.cosine).toBeGreaterThan(0.999);
    // The int8 stage's noise dominates the plan's: far below the fp16 stage's own SQNR.
    expect(r.sqnrDb).toBeLessThan(s1!.fidelity!.sqnrDb - 10);
    expect(r.transferBytes).toBe(single.bytes / 4 + 5);
    expect(r.warnings[0]).toBe(`top-1 agreement ${r.top1Agreement!.toFixed(3)} over only 8 sample(s): 95% interval [${r.top1Interval![0].toFixed(3)}, ${r.top1Interval![1].toFixed(3)}]; use ${MIN_STABLE_SAMPLES} or more samples for a stable estimate`);
  });

  it('fp32 stages are not re-run alone (identical to the reference)', async () => {
    const r = await evaluatePlan(model, { split: { after: [single.after] }, samples: 2 });
    expect(r.stages.map((s) => s.fidelity)).toEqual([null, null]);
  });

  it('given inputs and labels: true top-1 of reference and plan', async () => {
    const inputs = generatedInputs(model.graph, 4, 50);
    const probe = await evaluatePlan(model, { split: { after: [single.after] }, inputs, samples: 4 });
    expect(probe.inputs).toBe('given');
    const labels = [0, 1, 2, 3];
    const r = await evaluatePlan(model, { split: { after: [single.after] }, inputs, labels });
    expect(r.referenceTop1).toBe(r.top1); // fp32 plan: same predictions as the reference
    expect(typeof r.referenceTop1).toBe('number');
  });

  it.each([
    [{ precision: ['int8'] as const }, 'stage precision: 1 values for 2 stages; give one, or one per stage'],
    [{ labels: [1, 2] }, '2 labels for 3 samples'],
  ])('rejects %j', async (opts, message) => {
    let err: unknown;
    try {
      await evaluatePlan(model, { split: { after: [single.after] }, samples: 3, ...opts });
    } catch (e) {
      err = e;
    }
    expect(isAccuracyError(err)).toBe(true);
    expect((err as Error).message).toBe(message);
  });
});
