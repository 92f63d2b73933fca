// The models this package writes pass the independent ONNX checker (Debian's python3-onnx, full
// check with shape and type inference): int8 QDQ and float16 stage models of a split zoo network.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cutPoints, loadModel, saveModel, splitModel } from '@dnnpart/onnx-graph';
import { buildZooModel } from '@dnnpart/zoo';
import { calibrate, convertFp16, generatedInputs, quantizeInt8 } from '@dnnpart/accuracy';
import { checkerMissing, checkModels } from './_checker.js';
import { bnModel, encode, tinyModel } from './_models.js';

const tmp = mkdtempSync(join(tmpdir(), 'accuracy-checker-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(checkerMissing !== null)('onnx.checker', () => {
  it.each([
    ['squeezenet1_1', async () => loadModel(buildZooModel('squeezenet1_1', { inputShape: [1, 3, 64, 64] }))],
    ['mobilenet_v2', async () => loadModel(buildZooModel('mobilenet_v2', { inputShape: [1, 3, 64, 64] }))],
    ['tiny (Gemm, MatMul, Erf)', async () => loadModel(encode(tinyModel()))],
    ['Conv + BatchNormalization', async () => loadModel(encode(bnModel()))],
  ])('%s: int8 and fp16 forms of each stage', async (name, load) => {
    const model = await load();
    const cuts = cutPoints(model.graph).filter((c) => c.single && c.index < model.graph.nodes.length - 1);
    const split = splitModel(model, { after: [cuts[Math.floor(cuts.length / 2)]!.after] });
    const ranges = await calibrate(model, generatedInputs(model.graph, 2, 7));
    const files: string[] = [];
    for (const s of split.stages) {
      const base = join(tmp, `${name.replace(/\W+/g, '_')}-${s.index}`);
      saveModel(quantizeInt8(s.proto, model.graph, ranges).proto, `${base}-int8.onnx`);
      saveModel(convertFp16(s.proto, model.graph).proto, `${base}-fp16.onnx`);
      files.push(`${base}-int8.onnx`, `${base}-fp16.onnx`);
    }
    expect(checkModels(files)).toBe('');
  });
});
