// Every zoo network split at three or more positions (inside residual, squeeze-and-excitation and
// inception blocks where several tensors cross), composed in onnxruntime against the unsplit model,
// every stage file checked by the independent ONNX checker.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cutPoints, graphCosts, loadModel, maxAbsDiff, randomFeeds, runModel, runStages, splitModel, writeSplit,
  type CutPoint, type Graph,
} from '@dnnpart/onnx-graph';
import { buildZooModel, zooModelInfo, zooNames, type ZooInputShape } from '@dnnpart/zoo';
import { checkModels, checkerMissing } from './_checker.js';

const tmp = mkdtempSync(join(tmpdir(), 'onnx-graph-zoo-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Small inputs keep CI fast; vgg16 and alexnet need 224 (223) for their adaptive pools to export.
const INPUT: Record<string, ZooInputShape> = {
  vgg16: [1, 3, 224, 224],
  alexnet: [1, 3, 224, 224],
};
const SMALL: ZooInputShape = [1, 3, 64, 64];
const BRANCHY = new Set(['resnet18', 'resnet50', 'mobilenet_v2', 'efficientnet_b0', 'squeezenet1_1', 'googlenet', 'regnet_x_400mf']);

/** True when a cut lies inside a squeeze-and-excitation block: a [N,C,1,1] gate crosses beside a feature map. */
function insideSE(graph: Graph, c: CutPoint): boolean {
  const shapes = c.tensors.map((t) => graph.tensors.get(t)!.shape);
  return shapes.some((s) => s.length === 4 && s[2] === 1 && s[3] === 1) && shapes.some((s) => s.length === 4 && s[2]! > 1);
}

/** Three or four cut positions: an SE-internal one if any, two multi-tensor ones, and a late single-tensor one. */
function pickCuts(graph: Graph): CutPoint[] {
  const cuts = cutPoints(graph).slice(0, -1);
  const multi = cuts.filter((c) => c.tensors.length >= 2);
  const picks = new Map<number, CutPoint>();
  const se = cuts.find((c) => insideSE(graph, c));
  if (se) picks.set(se.index, se);
  for (const f of [1 / 3, 2 / 3]) {
    const c = multi[Math.floor(multi.length * f)];
    if (c) picks.set(c.index, c);
  }
  const singles = cuts.filter((c) => c.single);
  for (const f of multi.length ? [0.9] : [0.25, 0.5, 0.75]) {
    const c = singles[Math.floor(singles.length * f)];
    if (c) picks.set(c.index, c);
  }
  return [...picks.values()].sort((a, b) => a.index - b.index);
}

// Larger siblings with the same blocks as a network tested here: only their widths and depths
// differ, and their weights (up to 110 M parameters) would make this file take minutes on CI.
const SIBLING_OF: Record<string, string> = {
  bert_base: 'minilm_l6', vit_b_16: 'vit_ti_16', vit_b_32: 'vit_ti_16', yolo11s: 'yolo11n',
  yolox_s: 'yolox_tiny', yolox_m: 'yolox_tiny', yolox_l: 'yolox_tiny', yolox_x: 'yolox_tiny',
};

describe('zoo networks split and compose', () => {
  it('covers every zoo network itself or through a sibling of the same blocks', () => {
    for (const [big, small] of Object.entries(SIBLING_OF)) {
      expect(zooNames as readonly string[]).toContain(big);
      expect(zooNames as readonly string[]).toContain(small);
      expect(SIBLING_OF[small]).toBeUndefined();
    }
  });

  it.each(zooNames.filter((n) => SIBLING_OF[n] === undefined).map((n) => [n]))('%s', async (name) => {
    // Text models take [batch, sequence]: their default; image models the small shape.
    const dflt = zooModelInfo(name).inputShape;
    const inputShape = INPUT[name] ?? (dflt.length === 4 ? SMALL : dflt);
    const bytes = buildZooModel(name, { inputShape });
    const model = await loadModel(bytes);
    const { graph } = model;

    // The graph's analysis of the file agrees with the zoo's own figures; the load-time passes
    // (Constant nodes to initializers, shape arithmetic folded) change no MAC.
    const info = zooModelInfo(name, { inputShape });
    const plain = (await loadModel(bytes, { simplify: false })).graph;
    expect(graphCosts(plain).params).toBe(info.initializerElements);
    expect(graphCosts(plain).macs).toBe(info.macs);
    expect(graphCosts(graph).macs).toBe(info.macs);
    expect(graph.nodes.some((n) => n.op === 'Constant' || n.op === 'Shape')).toBe(false);
    // Every static shape chain folded (Mod, Where, Expand, float scale arithmetic included): each
    // layer left reads at least one tensor computed at run time.
    const inits = new Set(graph.initializers);
    expect(graph.nodes.filter((n) => [...n.inputs, ...(n.implicitInputs ?? [])].every((x) => x === '' || inits.has(x))).map((n) => n.name)).toEqual([]);
    expect(graphCosts(graph).unknownOps).toEqual([]);
    expect(graph.tensors.get(graph.outputs[0]!)!.shape).toEqual(info.outputShape);

    const cuts = pickCuts(graph);
    expect(cuts.length).toBeGreaterThanOrEqual(3);
    if (BRANCHY.has(name)) expect(cuts.filter((c) => c.tensors.length >= 2).length).toBeGreaterThanOrEqual(2);
    if (name === 'efficientnet_b0') expect(cuts.some((c) => insideSE(graph, c))).toBe(true);

    const split = splitModel(model, { after: cuts.map((c) => c.after) });
    expect(split.stages).toHaveLength(cuts.length + 1);
    // What crosses each cut is exactly what the next stage receives from earlier stages.
    cuts.forEach((c, k) => {
      const later = split.stages.slice(k + 1).flatMap((s) => s.inputs);
      for (const t of c.tensors) expect(later).toContain(t);
    });

    const feeds = randomFeeds(graph, 7);
    const expected = await runModel(bytes, feeds, graph.outputs);
    const actual = await runStages(split, feeds);
    const diff = maxAbsDiff(expected, actual, graph.outputs);
    expect(diff).toBeLessThanOrEqual(1e-5);
    // Outputs are non-degenerate, so a zero difference means something.
    const out = expected[graph.outputs[0]!]!.data as Float32Array;
    expect(Math.max(...out) - Math.min(...out)).toBeGreaterThan(0);

    if (checkerMissing) {
      console.warn(`skipping the ONNX checker: ${checkerMissing}`);
      return;
    }
    const dir = join(tmp, name);
    writeSplit(split, dir);
    expect(checkModels(split.stages.map((s) => join(dir, s.file)))).toBe('');
    rmSync(dir, { recursive: true, force: true });
  });
});
