// How an agent loads a stage: from a file, the graph onnxruntime's optimiser saves of it, made in a
// process of its own (lean-load.ts). Real models through the real onnxruntime: the saved graph must
// give the outputs the model gives; a graph the optimiser grows, bytes it cannot read, and an
// optimiser past its limit leave the model as sent.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { buildZooModel, externalModels } from '@dnnpart/zoo';
import { LEAN_MAX_GROWTH, SAVED_DATA_SUFFIX, stageModelFile } from '@dnnpart/runtime';

const OPTS = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 1, logSeverityLevel: 3 } as const;

async function outputsOf(file: string, feeds: Record<string, ort.Tensor>): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(file, OPTS);
  try {
    const out = await s.run(feeds);
    return s.outputNames.map((n) => out[n]!.data as Float32Array);
  } finally {
    await s.release();
  }
}

describe('stageModelFile', () => {
  it('gives a convolutional network as the optimiser saved it, with the same outputs, and removes its files', async () => {
    const bytes = buildZooModel('squeezenet1_1');
    const file = await stageModelFile(bytes);
    try {
      expect(file.preoptimised).toBe(true);
      expect(file.note).toMatch(/^onnxruntime's optimised graph, saved by a process of its own \(\d+\.\d MB, its weights in a file beside it that onnxruntime maps; one copy of the weights kept\)$/);
      expect(Buffer.from(readFileSync(file.sentPath)).equals(Buffer.from(bytes))).toBe(true);
      const saved = readFileSync(file.path);
      // The weights (SqueezeNet's 4.9 MB) in the file beside the graph, which keeps only its structure.
      const data = readFileSync(file.path + SAVED_DATA_SUFFIX);
      expect(data.length).toBeGreaterThan(4_000_000);
      expect(saved.length).toBeLessThan(200_000);
      expect(file.bytes).toBe(saved.length + data.length);
      expect(file.bytes).toBeLessThanOrEqual(bytes.length * LEAN_MAX_GROWTH + 65536);
      expect(readdirSync(path.dirname(file.path)).sort()).toEqual(['model.onnx', 'optimised.onnx', `optimised.onnx${SAVED_DATA_SUFFIX}`]);
      // A different graph (the optimiser's fused and reordered nodes), not the bytes it was given.
      expect(saved.equals(Buffer.from(bytes))).toBe(false);
      const x = new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i * 0.37));
      const feeds = { input: new ort.Tensor('float32', x, [1, 3, 224, 224]) };
      const [a, b] = [await outputsOf(file.sentPath, feeds), await outputsOf(file.path, feeds)];
      expect(b.map((t) => t.length)).toEqual(a.map((t) => t.length));
      let diff = 0;
      a.forEach((t, i) => t.forEach((v, j) => (diff = Math.max(diff, Math.abs(v - b[i]![j]!)))));
      expect(diff).toBeLessThan(1e-5);
    } finally {
      await file.dispose();
    }
    expect(existsSync(path.dirname(file.path))).toBe(false);
  });

  it('with preoptimise off, gives the model as sent without running the optimiser', async () => {
    const bytes = buildZooModel('squeezenet1_1');
    const file = await stageModelFile(bytes, { preoptimise: false });
    expect([file.preoptimised, file.path, file.note, file.bytes]).toEqual([false, file.sentPath, 'loaded as sent (preoptimise off)', bytes.length]);
    expect(readdirSync(path.dirname(file.path))).toEqual(['model.onnx']);
    await file.dispose();
  });

  it('gives bytes the optimiser cannot read as sent, saying why in one line', async () => {
    const bytes = new Uint8Array([8, 1, 18, 3, 1, 2, 3]);
    const file = await stageModelFile(bytes);
    expect([file.preoptimised, file.path]).toEqual([false, file.sentPath]);
    expect(file.note).toBe('loaded as sent: onnxruntime could not save its optimised graph (ModelProto does not have a graph.)');
    await file.dispose();
  });

  it('gives a model as sent when the optimiser copies its weights into both branches of an If', async () => {
    // Moonshine's decoder: its quantized MatMuls, fused inside the If's branches, take copies of the
    // outer weights (20 MB saved as 39 MB), and onnxruntime 1.30 cannot load that graph again either
    // (its branch initializers written twice): the first reason found is the one given.
    const m = externalModels().find((x) => x.name === 'moonshine-decoder')!;
    if (!m.available) {
      if (process.env.CI === 'true') throw new Error(`${m.source.package}@${m.source.version} is not installed; npm ci installs it`);
      return;
    }
    const file = await stageModelFile(new Uint8Array(readFileSync(m.file)));
    expect([file.preoptimised, file.path]).toEqual([false, file.sentPath]);
    expect(file.note).toMatch(/^loaded as sent: onnxruntime could not save its optimised graph \(it saved a graph it cannot load again: This is an invalid model\. In Node, \("optimum::if", If, .*\)$/);
    await file.dispose();
  });

  it("gives a model as sent when onnxruntime saves a graph it cannot load again (an If's branch initializers written twice)", async () => {
    // torchvision's batched NMS sits in an If whose branches Squeeze with constant axes; onnxruntime
    // 1.30, saving with its weights beside the graph, writes each branch initializer twice and then
    // refuses the file ("initializer name is not unique"): Faster R-CNN's verify failed on it.
    const dims = (d: number[]) => ({ dim: d.map((v) => ({ value: { case: 'dimValue' as const, value: BigInt(v) } })) });
    const vi = (name: string, d: number[], elemType = 1) => ({ name, type: { value: { case: 'tensorType' as const, value: { elemType, shape: dims(d) } } } });
    const branch = (name: string, axes: bigint) => ({
      name, type: 5, g: {
        name,
        node: [
          { opType: 'Constant', name: `${name}_axes`, output: [`${name}_a`], attribute: [{ name: 'value', type: 4, t: { name: '', dims: [1n], dataType: 7, int64Data: [axes] } }] },
          { opType: 'Squeeze', name: `${name}_squeeze`, input: ['x', `${name}_a`], output: [`${name}_y`] },
        ],
        output: [vi(`${name}_y`, [4])],
      },
    });
    const proto = create(ModelProtoSchema, {
      irVersion: 8n, opsetImport: [{ domain: '', version: 17n }],
      graph: {
        name: 'branches',
        input: [vi('x', [1, 4]), vi('c', [1], 9)],
        output: [vi('y', [4])],
        node: [{ opType: 'If', name: 'pick', input: ['c'], output: ['y'], attribute: [branch('then_branch', 0n), branch('else_branch', 0n)] }],
      },
    });
    const file = await stageModelFile(toBinary(ModelProtoSchema, proto));
    try {
      expect([file.preoptimised, file.path]).toEqual([false, file.sentPath]);
      expect(file.note).toMatch(/^loaded as sent: onnxruntime could not save its optimised graph \(it saved a graph it cannot load again: .*initializer name is not unique\)$/);
      const out = await outputsOf(file.path, { x: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [1, 4]), c: new ort.Tensor('bool', Uint8Array.of(1), [1]) });
      expect(Array.from(out[0]!)).toEqual([1, 2, 3, 4]);
    } finally {
      await file.dispose();
    }
  });

  it('stops an optimiser that takes longer than its limit, or when asked, and gives the model as sent', async () => {
    const bytes = buildZooModel('squeezenet1_1');
    const slow = await stageModelFile(bytes, { timeoutMs: 1 });
    expect([slow.preoptimised, slow.note]).toEqual([false, 'loaded as sent: onnxruntime could not save its optimised graph (the optimiser took over 0.001 s)']);
    await slow.dispose();
    const ac = new AbortController();
    ac.abort();
    const stopped = await stageModelFile(bytes, { signal: ac.signal });
    expect([stopped.preoptimised, stopped.note]).toEqual([false, 'loaded as sent: onnxruntime could not save its optimised graph (interrupted)']);
    await stopped.dispose();
  });
});
