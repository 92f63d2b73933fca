// What a real exported model is called once loaded: exporters write a fixed graph name whatever the
// model (tf2onnx "tf2onnx", torch.onnx "torch_jit"/"main_graph", paddle2onnx "Model from
// PaddlePaddle."), which used to name the model in reports, progress lines and stage files.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadModel, splitModel } from '@dnnpart/onnx-graph';
import { buildZooModel, externalModels, type ExternalModel } from '@dnnpart/zoo';

function present(m: ExternalModel): boolean {
  if (m.available) return true;
  if (process.env.CI === 'true') throw new Error(`${m.name}: ${m.source.package}@${m.source.version} is not installed; npm ci installs it`);
  console.warn(`skipped ${m.name}: ${m.source.package}@${m.source.version} is not installed`);
  return false;
}

// The graph name each file has, and the name loading gives the model from its path.
const NAMES: Record<string, { graph: string; loaded: string }> = {
  'paddleocr-det': { graph: 'Model from PaddlePaddle.', loaded: 'ch_PP-OCRv4_det_infer' },
  'paddleocr-rec': { graph: 'Model from PaddlePaddle.', loaded: 'ch_PP-OCRv4_rec_infer' },
  'paddleocr-cls': { graph: 'Model from PaddlePaddle.', loaded: 'ch_ppocr_mobile_v2.0_cls_infer' },
  'silero-vad': { graph: 'spox_graph', loaded: 'silero_vad' },
  'silero-vad-op15': { graph: 'main_graph', loaded: 'silero_vad_16k_op15' },
  'silero-vad-op18': { graph: 'main_graph', loaded: 'silero_vad_op18_ifless' },
  'oww-embedding': { graph: 'tf2onnx', loaded: 'embedding_model' },
  'oww-melspectrogram': { graph: 'torch-jit-export', loaded: 'melspectrogram' },
  'oww-hey-jarvis': { graph: 'torch_jit', loaded: 'hey_jarvis_v0.1' },
  'silero-vad-v4': { graph: 'torch_jit', loaded: 'silero_vad' },
  'moonshine-encoder': { graph: 'main_graph', loaded: 'encoder_model' },
  'moonshine-decoder': { graph: 'merged', loaded: 'decoder_model_merged' },
  'ddddocr-det': { graph: 'torch-jit-export', loaded: 'common_det' },
  'ddddocr-rec': { graph: 'torch-jit-export', loaded: 'common' },
  'ddddocr-rec-int8': { graph: 'torch-jit-export', loaded: 'common_old' },
};

describe('names of real exported models', () => {
  it('covers every real model', () => {
    expect(Object.keys(NAMES).sort()).toEqual(externalModels().map((m) => m.name).sort());
  });

  it.each(externalModels().map((m) => [m.name, m] as const))('%s: named by its file, not by its exporter', async (name, m) => {
    if (!present(m)) return;
    const want = NAMES[name]!;
    // simplify: false keeps the test fast; the name does not depend on the passes.
    const fromFile = await loadModel(m.file, { inputShapes: m.inputs, simplify: false });
    expect(fromFile.proto.graph!.name).toBe(want.graph);
    expect(fromFile.graph.name).toBe(want.loaded);
    // Bytes have no file name: the exporter's name is all there is.
    const fromBytes = await loadModel(readFileSync(m.file), { inputShapes: m.inputs, simplify: false });
    expect(fromBytes.graph.name).toBe(want.graph);
    expect((await loadModel(m.file, { inputShapes: m.inputs, simplify: false, name: 'mine' })).graph.name).toBe('mine');
  });

  it('stage files of a real model carry its file name', async () => {
    const m = externalModels().find((x) => x.name === 'oww-embedding')!;
    if (!present(m)) return;
    const model = await loadModel(m.file, { inputShapes: m.inputs });
    const split = splitModel(model, { after: [model.graph.nodes[20]!.name] });
    expect(split.stages.map((s) => s.proto.graph!.name)).toEqual(['embedding_model_stage0', 'embedding_model_stage1']);
  });

  it('a graph name of the model\'s own is kept (zoo files)', async () => {
    const model = await loadModel(buildZooModel('squeezenet1_1', { inputShape: [1, 3, 32, 32] }));
    expect(model.graph.name).toBe('squeezenet1_1');
  });
});
