// Node names a user takes from a model viewer, which shows every node of the file: a node inside an
// If's branch, or a Constant the load-time passes folded, is no layer of the loaded model. Cutting
// after one said only "no node of that name"; now it says why and where to cut instead.
import { describe, expect, it } from 'vitest';
import { loadModel, splitModel, type InputShapes } from '@dnnpart/onnx-graph';
import { findExternalModel } from '@dnnpart/zoo';

const free = { input: { shape: [1, 512] }, sr: { shape: [] }, h: { shape: [2, 1, 64] }, c: { shape: [2, 1, 64] } };

describe('cutting after a node that is no layer of a real model', () => {
  it.each<[string, string, InputShapes | undefined, string, string]>([
    ['oww-hey-jarvis', 'a node of the If\'s verifier branch', undefined, 'Gemm_47', 'GRAPH_UNKNOWN_NODE: --after Gemm_47: no node of that name in hey_jarvis_v0.1 (it runs inside the If node If_32, in a subgraph; cuts fall between top-level nodes, so cut before or after If_32)'],
    ['oww-hey-jarvis', 'a Constant folded on load', undefined, 'Constant_29', 'GRAPH_UNKNOWN_NODE: --after Constant_29: no node of that name in hey_jarvis_v0.1 (it was folded away on load, as dnnpart inspect reports; cut after a node that remains)'],
    ['oww-hey-jarvis', 'a misspelt layer', undefined, 'Gemm', 'GRAPH_UNKNOWN_NODE: --after Gemm: no node of that name in hey_jarvis_v0.1 (did you mean Gemm_1, Gemm_14, Gemm_27?)'],
    // sr left free: the network stays inside the If on sr (with more Ifs inside it).
    ['silero-vad-v4', 'a Conv of the If on sr', free, 'Conv_73', 'GRAPH_UNKNOWN_NODE: --after Conv_73: no node of that name in silero_vad (it runs inside the If node If_25, in a subgraph; cuts fall between top-level nodes, so cut before or after If_25)'],
  ])('%s, %s', async (name, _, inputShapes, after, message) => {
    const m = findExternalModel(name)!;
    if (!m.available) {
      if (process.env.CI === 'true') throw new Error(`${m.name}: ${m.source.package}@${m.source.version} is not installed; npm ci installs it`);
      console.warn(`skipped ${m.name}: ${m.source.package} is not installed`);
      return;
    }
    const model = await loadModel(m.file, { inputShapes: inputShapes ?? m.inputs });
    let err: { code?: string; message?: string } = {};
    try {
      splitModel(model, { after: [after] });
    } catch (e) {
      err = e as typeof err;
    }
    expect(`${err.code}: ${err.message}`).toBe(message);
  });
});
