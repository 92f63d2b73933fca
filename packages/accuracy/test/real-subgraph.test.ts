// A real model with an If whose branch reads outer tensors and initializers by name: openWakeWord's
// "hey jarvis" head runs a verifier network (its own weights, the flattened input) when its first
// score reaches 0.5. int8 stages used to drop the verifier's weights (no node of the stage read
// them directly) and fp16 stages fed the branch float16 tensors it reads as float32: onnxruntime
// refused both stage models.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadModel } from '@dnnpart/onnx-graph';
import { findExternalModel } from '@dnnpart/zoo';
import { evaluatePlan, type Precision } from '@dnnpart/accuracy';

const m = findExternalModel('oww-hey-jarvis')!;
const feeds = (k: number) => ({ 'x.1': new ort.Tensor('float32', Float32Array.from({ length: 16 * 96 }, (_, i) => Math.sin(i * k) * 0.5), [1, 16, 96]) });

describe('oww-hey-jarvis: stages holding a data-dependent If', () => {
  if (!m.available && process.env.CI === 'true') throw new Error(`${m.name}: ${m.source.package}@${m.source.version} is not installed; npm ci installs it`);

  it.each<[string, Precision, number]>([
    // after node 3: the solver's plan (4 nodes, then 24 with the If, whose branch reads stage 0's Flatten)
    ['int8, 24 nodes with the If', 'int8', 3],
    ['fp16, 24 nodes with the If', 'fp16', 3],
    // after node 26: the If alone, every tensor it and its branches read comes from stage 0 or the
    // input; stage 0's output p1.1 (the first score) is also read inside stage 0, which in fp16 used
    // to define p1.1__fp16 twice
    ['int8, the If alone', 'int8', 26],
    ['fp16, the If alone', 'fp16', 26],
  ])('%s: the stage models load and stay close to float32', async (_, precision, cut) => {
    if (!m.available) {
      console.warn(`skipped ${m.name}: ${m.source.package} is not installed`);
      return;
    }
    const model = await loadModel(m.file, { inputShapes: m.inputs });
    expect(model.graph.nodes.at(-1)!.op).toBe('If');
    const after = model.graph.nodes[cut]!.name;
    // 0.37 gives a first score of 0.995 (the verifier branch runs), 0.011 one of 0.03 (it does not).
    const r = await evaluatePlan(model, { split: { after: [after] }, precision, inputs: [feeds(0.37), feeds(0.011)] });
    expect(r.stages).toHaveLength(2);
    const withIf = r.stages[1]!;
    expect(withIf.nodes).toBe(model.graph.nodes.length - cut - 1);
    // The branch runs as the file has it, in float32.
    if (precision === 'fp16') expect(withIf.float32Nodes.map((n) => n.op)).toContain('If');
    expect(r.cosine).toBeGreaterThan(0.99);
  });
});
