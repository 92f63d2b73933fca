// A model exported in float16 (inputs, weights and outputs float16): int8 calibration has no float32
// activation to take ranges of, an int8 stage has nothing to quantize and says so, fidelity is
// measured on the values float16 bit patterns hold, and an int8 transfer encodes a float16 tensor.
import { describe, expect, it } from 'vitest';
import { loadModel } from '@dnnpart/onnx-graph';
import { calibrate, evaluatePlan, generatedInputs } from '@dnnpart/accuracy';
import { encode, halfModel } from './_models.js';

const split = { after: ['relu'] };

describe('a float16 model', () => {
  it('has nothing to calibrate: an empty range map, no onnxruntime run', async () => {
    const model = await loadModel(encode(halfModel()));
    expect(model.graph.tensors.get('r')!.dtype).toBe('float16');
    expect((await calibrate(model, generatedInputs(model.graph, 2, 1))).size).toBe(0);
  });

  it('int8 stages run unchanged, with a warning for each', async () => {
    const model = await loadModel(encode(halfModel()));
    const r = await evaluatePlan(model, { split, precision: 'int8', samples: 8 });
    expect(r.warnings.filter((w) => w.includes('the stage runs unchanged')).map((w) => w.split(':')[0])).toEqual(['stage 0', 'stage 1']);
    // Unchanged stages give the split float16 model: the same outputs as fp32 stages.
    const same = await evaluatePlan(model, { split, precision: 'fp32', samples: 8 });
    expect(r.sqnrDb).toBe(same.sqnrDb);
  });

  it('fp16 and int8 transfers of the float16 tensor: its bytes and its values', async () => {
    const model = await loadModel(encode(halfModel()));
    const fp16 = await evaluatePlan(model, { split, transfer: 'fp16', samples: 8 });
    const int8 = await evaluatePlan(model, { split, transfer: 'int8', samples: 8 });
    const elements = 8 * 8 * 8;
    // relu's output is read by conv2 and add, both in stage 1: sent once as 2 bytes an element.
    expect(fp16.stages[0]!.sendBytes).toBe(elements * 2);
    expect(fp16.stages[0]!.fp32SendBytes).toBe(elements * 2);
    expect(int8.stages[0]!.sendBytes).toBeLessThan(elements + 16);
    expect(int8.stages[0]!.sendBytes).toBeGreaterThan(elements);
    // The cut rounds to float16 what onnxruntime kept in float32 inside the unsplit model: 69.6 dB
    // here; int8 gives 49.1 dB. Taken on the bit patterns instead of their values, these were
    // 63.3 dB and 3.9 dB (cosine 0.909).
    expect(fp16.sqnrDb).toBeGreaterThan(66);
    expect(int8.sqnrDb).toBeGreaterThan(40);
    expect(int8.sqnrDb).toBeLessThan(55);
    expect(int8.cosine).toBeGreaterThan(0.9999);
  });
});
