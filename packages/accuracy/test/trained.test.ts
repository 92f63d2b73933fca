// A trained model from npm (PaddleOCR's text-direction classifier, opset 9, exported by paddle2onnx):
// its int8 form runs through onnxruntime's com.microsoft Q/DQ ops with BatchNormalization folded,
// its fp16 form runs too, and both stay close to float32.
import { describe, expect, it } from 'vitest';
import { cutPoints, loadModel } from '@dnnpart/onnx-graph';
import { findExternalModel } from '@dnnpart/zoo';
import { evaluatePlan } from '@dnnpart/accuracy';

const cls = findExternalModel('paddleocr-cls');

describe.skipIf(!cls?.available)('paddleocr-cls (trained)', () => {
  it('int8 and fp16 stages run and stay close to float32', async () => {
    const model = await loadModel(cls!.file, { inputShapes: { x: [1, 3, 48, 192] } });
    const cuts = cutPoints(model.graph).filter((c) => c.single && c.index < model.graph.nodes.length - 1);
    const split = { after: [cuts[Math.floor(cuts.length / 2)]!.after] };
    const int8 = await evaluatePlan(model, { split, precision: 'int8', transfer: 'int8', samples: 8 });
    expect(int8.warnings.some((w) => w.includes("opset 9 has no QuantizeLinear/DequantizeLinear; the int8 model uses onnxruntime's com.microsoft ones"))).toBe(true);
    // No BatchNormalization is left in float32: all are folded into their convolutions.
    expect(int8.stages.flatMap((s) => s.float32Nodes.map((n) => n.op)).filter((op) => op === 'BatchNormalization')).toEqual([]);
    // Two-class softmax on seeded noise: measured cosine 0.998, 23 dB (bench/results/accuracy.md has it on
    // rendered text lines); 0.95 fails on any wrong scale or fold.
    expect(int8.cosine).toBeGreaterThan(0.95);
    const fp16 = await evaluatePlan(model, { split, precision: 'fp16', samples: 8 });
    expect(fp16.sqnrDb).toBeGreaterThan(40);
    expect(fp16.transferBytes).toBe(fp16.fp32TransferBytes);
  });
});
