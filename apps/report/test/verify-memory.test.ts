// verify's memory check: each stage of a plan loaded and run in a Node process of its own, the
// resident memory it adds held beside the plan's memory of the stage. ResNet-18 cut after layer2:
// its first stage holds 2.7 MB of weights, its second 44 MB, so the measurement must tell them apart.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphCosts, loadModel, type LoadedModel } from '@dnnpart/onnx-graph';
import { ACTIVATION_FACTOR, verifyPlan } from '@dnnpart/report';
import { run } from './_run.js';

let dir: string;
let model: LoadedModel;
let stageOf: Record<string, number>;
let params: [number, number];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-verify-memory-'));
  const r = await run(['zoo', 'export', 'resnet18', '--input', '1x3x64x64', '-o', 'r18.onnx'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  model = await loadModel(path.join(dir, 'r18.onnx'));
  const names = model.graph.nodes.map((n) => n.name);
  const cut = names.findIndex((n) => n.startsWith('/layer3/'));
  expect(cut).toBeGreaterThan(0);
  stageOf = Object.fromEntries(names.map((n, i) => [n, i < cut ? 0 : 1]));
  const costs = graphCosts(model.graph).nodes;
  params = [0, 0];
  for (const n of names) params[stageOf[n]!]! += costs.get(n)?.paramBytes ?? 0;
  expect(params[1]).toBeGreaterThan(10 * params[0]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('verify: each stage\'s memory in a process of its own', () => {
  it('measures what each stage holds and sets it beside the plan\'s memory of it', async () => {
    const predicted = [{ computeMs: 1, memoryBytes: 2_000_000 }, { computeMs: 1, memoryBytes: 50_000_000 }];
    const { result } = await verifyPlan(model, 'r18.onnx', stageOf, ['a', 'b'], predicted, { threads: 1, runs: 2, warmup: 1, pipelineFrames: 0, memory: true });
    const [s0, s1] = result.stages;
    for (const s of [s0!, s1!]) {
      // A session's own bytes can be next to none (its weights mapped from the saved graph's data file
      // count only once read; the full suite ran it at 0 once): its runs make the peak.
      expect(s.memory!.sessionBytes).toBeGreaterThanOrEqual(0);
      expect(s.memory!.peakBytes).toBeGreaterThan(0);
      expect(s.memory!.peakBytes).toBeGreaterThanOrEqual(s.memory!.sessionBytes);
      expect(s.memoryError).toBeCloseTo(s.predictedMemoryBytes! / s.memory!.peakBytes - 1, 12);
      // Loaded as an agent loads it: from the graph onnxruntime's optimiser saved.
      expect(s.memory!.preoptimised).toBe(true);
    }
    expect(s0!.predictedMemoryBytes).toBe(2_000_000);
    // The weights are resident once the stage has run (mapped from the saved graph's data file, they
    // count as they are read): the second stage holds at least its own, and the difference between
    // the stages is at least most of the difference of their weights.
    expect(s1!.memory!.peakBytes).toBeGreaterThanOrEqual(params[1]);
    expect(s1!.memory!.peakBytes - s0!.memory!.peakBytes).toBeGreaterThan(0.8 * (params[1] - params[0]));
  });

  it('notes a stage whose plan counts several times what it took, and leaves small stages out of that note', async () => {
    // Stage 1 planned at 500 MB (it holds about 45 MB); stage 0 at 4 MB, under the note's floor whatever it took.
    const predicted = [{ computeMs: 1, memoryBytes: 4_000_000 }, { computeMs: 1, memoryBytes: 500_000_000 }];
    const { result } = await verifyPlan(model, 'r18.onnx', stageOf, ['a', 'b'], predicted, { threads: 1, runs: 1, warmup: 0, pipelineFrames: 0, memory: true });
    const s1 = result.stages[1]!;
    // (Stage 0 may get the other note, of a plan below what a stage took: not this one.)
    const notes = result.notes.filter((n) => n.startsWith("the plan's memory of stage") && n.includes(`${ACTIVATION_FACTOR} times over`));
    expect(notes).toEqual([`the plan's memory of stage 1 is ${(500_000_000 / s1.memory!.peakBytes).toFixed(1)}x what it took here: the plan counts every activation alive at the stage's peak in the model's order, ${ACTIVATION_FACTOR} times over (tensors relayed past its nodes included, which a board's agent holds and this measurement does not); boards' memoryBytes are checked against the plan's figure, so a plan that fits has room to spare, and a board the plan calls too small may still hold the stage`]);
  });

  it('holds a stage alone against the plan without its frames in flight', async () => {
    // The plan's 60 MB for stage 1 holds 40 MB of frames in flight, which a stage alone holds none of.
    const predicted = [{ computeMs: 1, memoryBytes: 30_000_000 }, { computeMs: 1, memoryBytes: 60_000_000, framesBytes: 40_000_000 }];
    const { result } = await verifyPlan(model, 'r18.onnx', stageOf, ['a', 'b'], predicted, { threads: 1, runs: 1, warmup: 0, pipelineFrames: 0, memory: true });
    const [s0, s1] = result.stages;
    expect(s0!.predictedMemoryBytes).toBe(30_000_000);
    expect(s0!.predictedFramesBytes).toBeUndefined();
    expect(s1!.predictedMemoryBytes).toBe(20_000_000);
    expect(s1!.predictedFramesBytes).toBe(40_000_000);
    expect(s1!.memoryError).toBeCloseTo(20_000_000 / s1!.memory!.peakBytes - 1, 12);
  });

  it('is left out unless asked for', async () => {
    const { result } = await verifyPlan(model, 'r18.onnx', stageOf, ['a', 'b'], null, { threads: 1, runs: 1, warmup: 0, pipelineFrames: 0 });
    expect(result.stages[0]!.memory).toBeUndefined();
    expect(result.stages[0]!.memoryError).toBeUndefined();
  });

  it('prints the memory table, and --no-memory leaves it out', async () => {
    const sys = path.join(dir, 'sys.yaml');
    writeFileSync(sys, ['version: 1', 'model: { file: r18.onnx, input: 1x3x64x64 }', 'boards:', '  - { id: a, describe: raspberry-pi-5 }', '  - { id: b, describe: raspberry-pi-5 }', 'network: ethernet-1000base-t'].join('\n'));
    const on = await run(['verify', '--system', sys, '--runs', '2', '--warmup', '1', '--frames', '0', '--json', '-q'], { cwd: dir });
    expect(on.code, on.stderr).toBe(0);
    const r = JSON.parse(on.stdout);
    // The system's plan predicts each stage's memory: its nodes' parameter and output bytes.
    for (const s of r.stages) {
      expect(s.predictedMemoryBytes).toBeGreaterThan(0);
      expect(s.memory.peakBytes).toBeGreaterThan(0);
      // The system's boards hold frames in flight: the plan counts them apart, and verify leaves them out of its comparison.
      expect(s.predictedFramesBytes).toBeGreaterThan(0);
    }
    const text = await run(['verify', '--system', sys, '--runs', '2', '--warmup', '1', '--frames', '0'], { cwd: dir });
    expect(text.stdout).toMatch(/^stage +board +memory MB: plan +measured: session +peak +error$/m);
    const off = await run(['verify', '--system', sys, '--runs', '2', '--warmup', '1', '--frames', '0', '--no-memory', '--json', '-q'], { cwd: dir });
    expect(off.code, off.stderr).toBe(0);
    expect(JSON.parse(off.stdout).stages[0].memory).toBeUndefined();
  });
});
