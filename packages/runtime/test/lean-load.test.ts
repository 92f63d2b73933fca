// How an agent loads a stage: the graph onnxruntime's optimiser saves, made in a process of its own
// (lean-load.ts). Real models through the real onnxruntime: the saved graph must give the outputs the
// model gives; a graph the optimiser grows, and bytes it cannot read, are loaded as sent.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { buildZooModel, externalModels } from '@dnnpart/zoo';
import { LEAN_MAX_GROWTH, leanModel } from '@dnnpart/runtime';

const OPTS = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 1, logSeverityLevel: 3 } as const;

async function outputsOf(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(bytes, OPTS);
  try {
    const out = await s.run(feeds);
    return s.outputNames.map((n) => out[n]!.data as Float32Array);
  } finally {
    await s.release();
  }
}

describe('leanModel', () => {
  it('gives a convolutional network as the optimiser saved it, with the same outputs', async () => {
    const bytes = buildZooModel('squeezenet1_1');
    const lean = await leanModel(bytes);
    expect(lean.preoptimised).toBe(true);
    expect(lean.note).toMatch(/^onnxruntime's optimised graph, saved by a process of its own \(\d+\.\d MB; one copy of the weights kept\)$/);
    expect(lean.bytes.length).toBeLessThanOrEqual(bytes.length * LEAN_MAX_GROWTH + 65536);
    // A different graph (the optimiser's fused and reordered nodes), not the bytes it was given.
    expect(Buffer.from(lean.bytes).equals(Buffer.from(bytes))).toBe(false);
    const x = new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i * 0.37));
    const feeds = { input: new ort.Tensor('float32', x, [1, 3, 224, 224]) };
    const [a, b] = [await outputsOf(bytes, feeds), await outputsOf(lean.bytes, feeds)];
    expect(b.map((t) => t.length)).toEqual(a.map((t) => t.length));
    let diff = 0;
    a.forEach((t, i) => t.forEach((v, j) => (diff = Math.max(diff, Math.abs(v - b[i]![j]!)))));
    expect(diff).toBeLessThan(1e-5);
  });

  it('gives bytes the optimiser cannot read back as sent, saying why in one line', async () => {
    const bytes = new Uint8Array([8, 1, 18, 3, 1, 2, 3]);
    const lean = await leanModel(bytes);
    expect(lean.preoptimised).toBe(false);
    expect(lean.bytes).toBe(bytes);
    expect(lean.note).toMatch(/^loaded as sent: onnxruntime could not save its optimised graph \(.+\)$/);
    expect(lean.note).not.toContain('\n');
  });

  it('gives a model as sent when the optimiser copies its weights into both branches of an If', async () => {
    // Moonshine's decoder: its quantized MatMuls, fused inside the If's branches, take copies of the
    // outer weights (20 MB saved as 39 MB).
    const m = externalModels().find((x) => x.name === 'moonshine-decoder')!;
    if (!m.available) {
      if (process.env.CI === 'true') throw new Error(`${m.source.package}@${m.source.version} is not installed; npm ci installs it`);
      return;
    }
    const bytes = new Uint8Array(readFileSync(m.file));
    const lean = await leanModel(bytes);
    expect(lean.preoptimised).toBe(false);
    expect(lean.bytes).toBe(bytes);
    expect(lean.note).toMatch(/^loaded as sent: onnxruntime's optimised graph is \d+\.\d MB against \d+\.\d MB \(weights copied into subgraphs\)$/);
  });

  it('stops an optimiser that takes longer than its limit, and gives the model back as sent', async () => {
    const bytes = buildZooModel('squeezenet1_1');
    const lean = await leanModel(bytes, { timeoutMs: 1 });
    expect(lean.preoptimised).toBe(false);
    expect(lean.bytes).toBe(bytes);
    expect(lean.note).toBe('loaded as sent: onnxruntime could not save its optimised graph (the optimiser took over 0.001 s)');
  });

  it('stops the optimiser when asked, and gives the model back as sent', async () => {
    const bytes = buildZooModel('squeezenet1_1');
    const ac = new AbortController();
    ac.abort();
    const lean = await leanModel(bytes, { signal: ac.signal });
    expect(lean.preoptimised).toBe(false);
    expect(lean.note).toBe('loaded as sent: onnxruntime could not save its optimised graph (interrupted)');
  });
});
