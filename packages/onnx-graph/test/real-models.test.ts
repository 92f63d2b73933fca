// Real models exported by other people's tools (paddle2onnx, torch.onnx, spox), from npm packages:
// loaded with the passes, split into stages, and every stage composition run in onnxruntime
// against the original file.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { cutPoints, graphCosts, loadModel, maxAbsDiff, randomFeeds, runModel, runStages, saveModel, splitModel, writeSplit, type Graph, type InputSpec } from '@dnnpart/onnx-graph';
import { externalModels, type ExternalModel } from '@dnnpart/zoo';
import { checkModels, checkerMissing } from './_checker.js';
import { tensorsAgainstOrt } from './_shapes.js';

// A missing package skips with its reason; under CI it fails (npm ci installs the devDependencies).
function present(m: ExternalModel): boolean {
  if (m.available) return true;
  if (process.env.CI === 'true') throw new Error(`${m.name}: ${m.source.package}@${m.source.version} is not installed; npm ci installs it`);
  console.warn(`skipped ${m.name}: ${m.source.package}@${m.source.version} is not installed`);
  return false;
}

// The fixed values (the sample rate) are part of the graph: randomFeeds feeds them.
function feedsFor(m: ExternalModel, graph: Graph): Record<string, ort.Tensor> {
  const feeds = randomFeeds(graph, 11);
  for (const [name, v] of Object.entries(m.values)) expect(Array.from(feeds[name]!.data as BigInt64Array, Number)).toEqual(v);
  return feeds;
}

/** The table's shapes, with the fixed values (a sample rate) as `--input sr=:16000` gives them. */
function specs(m: ExternalModel): Record<string, InputSpec> {
  return Object.fromEntries(Object.entries(m.inputs).map(([k, shape]) => [k, m.values[k] ? { shape, value: m.values[k] } : { shape }]));
}

// What the passes achieve on each model (Constant nodes in the file, nodes left) and its MACs.
// The three Silero exports are one network: the same MACs whether the If is inlined or costed.
const EXPECT: Record<string, { constants: number; nodes: number; macs: number }> = {
  'paddleocr-det': { constants: 342, nodes: 330, macs: 2_301_935_744 },
  'paddleocr-rec': { constants: 325, nodes: 403, macs: 702_469_440 },
  'paddleocr-cls': { constants: 250, nodes: 215, macs: 16_315_376 },
  'silero-vad': { constants: 107, nodes: 44, macs: 679_552 },
  'silero-vad-op15': { constants: 96, nodes: 43, macs: 679_552 },
  'silero-vad-op18': { constants: 0, nodes: 43, macs: 679_552 },
  // openWakeWord, MACs checked against python3-onnx's shape inference (Conv, Gemm, MatMul by hand):
  // hey-jarvis is its 1536-128-128-1 head (213,120) plus the If's 1536-64-64-1 verifier (102,464).
  'oww-embedding': { constants: 0, nodes: 65, macs: 41_955_840 },
  'oww-melspectrogram': { constants: 9, nodes: 20, macs: 2_171_136 },
  'oww-hey-jarvis': { constants: 5, nodes: 28, macs: 315_584 },
  'silero-vad-v4': { constants: 0, nodes: 75, macs: 689_640 },
  // Moonshine tiny, by hand from the weights' shapes (python3-onnx's shape inference leaves
  // conv1's output and the decoder's reshaped attention unknown). Encoder, 1 s of audio: conv1
  // 288x249x127, conv2 576x81x(288x7), conv3 288x40x(576x3) = 123,072,480; 36 MatMulInteger
  // projections over 40 frames (238,878,720) and attention's float MatMuls (5,530,240, as
  // python3-onnx infers them). Decoder, one token after 8: 48 MatMulInteger projections of one
  // row (8,957,952), self-attention over 9 and cross-attention over 40 positions (6 x 28,224),
  // the rotary frequencies (16 of one position) and the 288 x 32,768 logits (9,437,184).
  'moonshine-encoder': { constants: 0, nodes: 605, macs: 367_481_440 },
  'moonshine-decoder': { constants: 12, nodes: 797, macs: 18_564_496 },
  // ddddocr. The detector's Conv MACs as python3-onnx's shape inference gives them. The recognizer
  // at 64x256: its 21 Conv (507,346,944, python3-onnx), a bidirectional LSTM of 512 over 32 steps
  // (32 x 2 x 2048 x (512 + 512) = 134,217,728) and the 1024 x 8210 classifier of each step
  // (269,025,280): python3-onnx loses the shapes after the LSTM's input Reshape, so these are by
  // hand. The int8 release prices its ConvInteger, DynamicQuantizeLSTM and MatMulInteger the same.
  'ddddocr-det': { constants: 0, nodes: 279, macs: 3_179_352_384 },
  'ddddocr-rec': { constants: 9, nodes: 59, macs: 910_589_952 },
  'ddddocr-rec-int8': { constants: 0, nodes: 274, macs: 910_589_952 },
};

// Layers that read only initializers and stay, by model. Dequantisation of 8-bit weights (a Cast
// or DequantizeLinear) stays, so the stage files keep the 8-bit bytes (onnxruntime folds it when it
// loads them). Float values are evaluated on load only up to 16 elements, and float MatMul not at
// all: Moonshine's rotary positions (40) and frequencies stay computed. An Identity that gives a graph
// output an initializer's value stays (an output keeps its producing node): the merged decoder's
// empty cross-attention cache outputs in its cached branch.
const CONSTANT_WORK: Record<string, string[]> = {
  'moonshine-encoder': ['conv1.weight_cast_node', 'conv2.weight_cast_node', 'conv3.weight_cast_node', '/rotary_emb/MatMul'],
  'moonshine-decoder': [
    'model.decoder.embed_tokens.weight_transposed_DequantizeLinear', '/model/decoder/rotary_emb/MatMul',
    ...[0, 1, 2, 3, 4, 5].flatMap((l) => [`optimum::if/present.${l}.encoder.key`, `optimum::if/present.${l}.encoder.value`]),
  ],
};

describe('real exported models', () => {
  it.each(externalModels().map((m) => [m.name, m] as const))('%s: fold, split in three, same outputs as the file', async (name, m) => {
    if (!present(m)) return;
    const model = await loadModel(m.file, { inputShapes: specs(m) });
    const { graph, simplified } = model;
    const want = EXPECT[name]!;
    expect(simplified.constants).toBe(want.constants);
    expect(simplified.nodesAfter).toBe(graph.nodes.length);
    expect(graph.nodes.length).toBe(want.nodes);
    expect(graphCosts(graph).macs).toBe(want.macs);
    expect(graphCosts(graph).unknownOps).toEqual([]);
    expect(graph.nodes.filter((n) => n.op === 'Constant' || n.op === 'Shape')).toEqual([]);
    // Every static shape chain folded (Mod, Where, Expand, float scale arithmetic included): each
    // layer left reads at least one tensor computed at run time, but for the constant work listed.
    const inits = new Set(graph.initializers);
    expect(graph.nodes.filter((n) => [...n.inputs, ...(n.implicitInputs ?? [])].every((x) => x === '' || inits.has(x))).map((n) => n.name)).toEqual(CONSTANT_WORK[name] ?? []);
    for (const x of graph.inputs) expect(graph.tensors.get(x)!.shape).toEqual(m.inputs[x]);

    const feeds = feedsFor(m, graph);
    const expected = await runModel(readFileSync(m.file), feeds, graph.outputs);
    // The simplified model alone (every tensor's type and shape as the run's), then its stages in sequence, against the file.
    const { results: whole, differ } = await tensorsAgainstOrt(model, feeds);
    expect(differ).toEqual([]);
    expect(maxAbsDiff(expected, whole, graph.outputs)).toBeLessThanOrEqual(1e-4);
    const n = graph.nodes.length;
    if (n >= 2) {
      const at = [...new Set([Math.floor(n / 3), Math.floor((2 * n) / 3)].map((i) => Math.min(i, n - 2)))];
      const after = at.map((i) => graph.nodes[i]!.name);
      const split = splitModel(model, { after });
      const actual = await runStages(split, feeds);
      expect(maxAbsDiff(expected, actual, graph.outputs)).toBeLessThanOrEqual(1e-4);
      // The independent checker (Debian's onnx 1.12) knows IR <= 8 and opset <= 17 only.
      const opset = Number(model.proto.opsetImport.find((o) => o.domain === '')?.version ?? 0);
      if (checkerMissing) console.warn(`skipping the ONNX checker: ${checkerMissing}`);
      else if (model.proto.irVersion <= 8n && opset <= 17) {
        const dir = mkdtempSync(join(tmpdir(), `real-${name}-`));
        writeSplit(split, dir);
        saveModel(model.proto, join(dir, 'simplified.onnx'));
        expect(checkModels([join(dir, 'simplified.onnx'), ...split.stages.map((s) => join(dir, s.file))])).toBe('');
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const out = expected[graph.outputs[0]!]!.data as Float32Array;
    expect(out.length).toBeGreaterThan(0);
    expect(cutPoints(graph)).toHaveLength(n);
  });

  it('silero-vad without the sample rate: the If stays one node, costed by its larger branch', async () => {
    const m = externalModels().find((x) => x.name === 'silero-vad-op18')!;
    if (!present(m)) return;
    const { graph } = await loadModel(m.file, { inputShapes: m.inputs });
    expect(graph.nodes.map((n) => n.op)).toEqual(['Reshape', 'Gather', 'Equal', 'If']);
    expect(graphCosts(graph).macs).toBe(679_552);
    expect(graph.tensors.get('output')!.shape).toEqual([1, 1]);
  });
});
