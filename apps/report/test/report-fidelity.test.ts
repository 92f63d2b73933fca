// Fidelity in the report: a system with int8 transfers and a minimum cosine; plans measured by
// running them, the fallback to a higher-precision encoding, and the report's Fidelity column.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '@dnnpart/solver';
import { loadSystem, measurePlans, resolveSystem, solveWithFidelity, wantsFidelity, type ReportSystem, type ResolvedSystem } from '@dnnpart/report';
import { run } from './_run.js';

let dir: string;
let resolved: (lines: string[]) => Promise<ResolvedSystem>;
const cut = '/features/features.5/MaxPool'; // squeezenet1_1 at 64x64: one [1,128,7,7] tensor crosses

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-fidelity-'));
  expect((await run(['zoo', 'export', 'squeezenet1_1', '--input', '1x3x64x64', '-o', 'sq.onnx'], { cwd: dir })).code).toBe(0);
  resolved = async (lines) => {
    const file = path.join(dir, `s${lines.join('').length}.yaml`);
    writeFileSync(file, ['version: 1', 'model: { file: sq.onnx }', 'boards:', '  - { id: pi, describe: raspberry-pi-5 }', '  - { id: orin, describe: jetson-orin-nano }', 'network: ethernet-1000base-t', ...lines].join('\n'));
    return resolveSystem(loadSystem(file, path.basename(file)), { workDir: path.join(dir, 'work') });
  };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A system whose three plans cut squeezenet after `cut` (pi, then orin). */
function splitSystem(system: ResolvedSystem): ReportSystem {
  const names = system.graph.nodes.map((n) => n.name);
  const k = names.indexOf(cut) + 1;
  const plan = (objective: Plan['objective']): Plan => ({
    status: 'optimal', objective, solveMs: 0, baselines: [],
    stages: [{ board: 'pi', nodes: names.slice(0, k), computeMs: 1, energyMj: 1, memoryBytes: 1 }, { board: 'orin', nodes: names.slice(k), computeMs: 1, energyMj: 1, memoryBytes: 1 }],
  } as unknown as Plan);
  return { name: 'sq', objective: 'throughput', plans: { throughput: plan('throughput'), latency: plan('latency'), energy: plan('energy') } } as unknown as ReportSystem;
}

describe('fidelity of a system\'s plans', () => {
  it('refuses a minimum top-1 agreement for a model without class scores (a one-channel map), naming the field', async () => {
    // x[1,3,8,8] -> Conv (one output channel) -> Sigmoid -> y[1,1,8,8]: a saliency map.
    const w = Float32Array.from({ length: 27 }, (_, i) => Math.sin(i));
    writeFileSync(path.join(dir, 'map.onnx'), toBinary(ModelProtoSchema, create(ModelProtoSchema, {
      irVersion: 8n, opsetImport: [{ domain: '', version: 17n }],
      graph: {
        name: 'map',
        node: [{ opType: 'Conv', name: 'conv', input: ['x', 'w'], output: ['c'], attribute: [{ name: 'pads', type: 7, ints: [1n, 1n, 1n, 1n] }] }, { opType: 'Sigmoid', name: 'sig', input: ['c'], output: ['y'] }],
        initializer: [{ name: 'w', dataType: 1, dims: [1n, 3n, 3n, 3n], rawData: new Uint8Array(w.buffer) }],
        input: [{ name: 'x', type: { value: { case: 'tensorType', value: { elemType: 1, shape: { dim: [1, 3, 8, 8].map((d) => ({ value: { case: 'dimValue', value: BigInt(d) } })) } } } } }],
        output: [{ name: 'y' }],
      },
    })));
    writeFileSync(path.join(dir, 'map.yaml'), ['version: 1', 'model: { file: map.onnx }', 'boards:', '  - { id: pi, describe: raspberry-pi-5 }', '  - { id: orin, describe: jetson-orin-nano }', 'network: ethernet-1000base-t', 'constraints:', '  minTop1Agreement: 0.9', ''].join('\n'));
    const r = await run(['report', '--system', 'map.yaml', '-o', 'map-report', '-q'], { cwd: dir });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: 'dnnpart: map.yaml:8: constraints.minTop1Agreement: map.onnx gives no class scores to agree on (its first output y is float32 [1, 1, 8, 8]; top-1 reads a classifier\'s last axis or a segmentation\'s channels), so no plan can be held to it; use minCosine\n' });
  });

  it('is wanted for a lossy transfer or a fidelity constraint only', async () => {
    expect(wantsFidelity(await resolved([]))).toBe(false);
    expect(wantsFidelity(await resolved(['transfer: fp16']))).toBe(true);
    expect(wantsFidelity(await resolved(['constraints: { minTop1Agreement: 0.9 }']))).toBe(true);
  });

  it('measures each plan with the transfer encoding: bytes a quarter plus 5, cosine below 1', async () => {
    const s = await resolved(['transfer: int8']);
    const m = await measurePlans(s, splitSystem(s).plans, 'int8', 4);
    expect(m.throughput!.transferBytes).toBe(128 * 7 * 7 + 5);
    expect(m.throughput!.fp32TransferBytes).toBe(128 * 7 * 7 * 4);
    expect(m.throughput!.cosine).toBeLessThan(1);
    expect(m.throughput!.cosine).toBeGreaterThan(0.999);
    expect(m.throughput!.meets).toBeNull();
  });

  it('measures each stage at its board\'s precision: the Pi in fp32, the Orin in fp16 (its description\'s default)', async () => {
    const s = await resolved(['transfer: fp16']);
    const m = await measurePlans(s, splitSystem(s).plans, 'fp16', 2);
    expect(m.throughput!.precisions).toEqual(['fp32', 'fp16']);
  });

  it('falls back int8 -> fp16 when the chosen plan misses minCosine, and says so', async () => {
    // A threshold between what int8 and fp16 transfers of this cut measure splits them.
    const probe = await resolved(['transfer: int8']);
    const int8 = (await measurePlans(probe, splitSystem(probe).plans, 'int8')).throughput!.cosine;
    const fp16 = (await measurePlans(probe, splitSystem(probe).plans, 'fp16')).throughput!.cosine;
    expect(fp16).toBeGreaterThan(int8);
    const min = Number(((int8 + fp16) / 2).toPrecision(12));
    const s = await resolved(['transfer: int8', `constraints: { minCosine: ${min} }`]);
    const asked: string[] = [];
    const notes: string[] = [];
    const out = await solveWithFidelity(s, splitSystem(s), async (t) => {
      asked.push(t);
      return splitSystem(s);
    }, (n) => notes.push(n));
    expect(asked).toEqual(['fp16']);
    expect(out.fidelity!.requested).toBe('int8');
    expect(out.fidelity!.transfer).toBe('fp16');
    expect(out.fidelity!.byObjective.throughput!.meets).toBe(true);
    expect(out.fidelity!.byObjective.throughput!.cosine).toBe(fp16);
    expect(out.fidelity!.notes).toEqual([`int8 transfers: the throughput plan misses the fidelity constraint (cosine ${int8.toFixed(9)} (min ${min})); solved again with fp16 transfers`]);
    expect(notes.some((n) => n.startsWith('measuring the fidelity of sq\'s plans with int8 transfers'))).toBe(true);
  });

  it('report: the summary table gets a Fidelity column', async () => {
    // A Pi 4 (datasheet defaults): the calibrated Pi 5 runs this small squeezenet fast enough alone, and the plan must split.
    writeFileSync(path.join(dir, 'r.yaml'), ['version: 1', 'model: { file: sq.onnx }', 'boards:', '  - { id: pi, describe: raspberry-pi-4 }', '  - { id: orin, describe: jetson-orin-nano }',
      'links:', '  - { from: pi, to: orin, bandwidthBytesPerSec: 1000000, latencyMs: 1, powerW: 1, bidirectional: true }', 'transfer: fp16'].join('\n'));
    const r = await run(['report', '--system', 'r.yaml', '-o', 'rep', '--time-limit', '10'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('measuring the fidelity of r\'s plans with fp16 transfers (32 samples)');
    const md = readFileSync(path.join(dir, 'rep', 'report.md'), 'utf8');
    expect(md).toMatch(/\| Objective \| Optimum \| Boards \| Status \| Best single board \| Change \| Solved in \| Fidelity \|/);
    // The throughput plan splits pi -> orin, the Orin computing in fp16 (its description's precision).
    expect(md).toMatch(/^\| throughput \(chosen\) \| [\d.]+ FPS \| pi → orin \| optimal \|.*\| cosine (1\.000000|0\.99\d{4}), top-1 100\.0 %, fp16 transfers, stages fp32 > fp16 \|$/m);
    // Single-board plans send nothing: exact.
    expect(md).toMatch(/^\| latency \| [\d.]+ ms \| pi \| optimal \|.*\| cosine 1\.000000, top-1 100\.0 %, fp16 transfers \|$/m);
  });
});
