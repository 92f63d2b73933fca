// Real profiling runs: real ONNX files, real onnxruntime-node.
import { createHash } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphCosts, loadModel } from '@dnnpart/onnx-graph';
import { DEFAULT_MIN_END_TO_END_MS, MAX_END_TO_END_RUNS, endToEndRuns, hwmonSensor, loadBoardDescription, profileModel, readProfile, validateProfile, type Profile } from '@dnnpart/profiler';
import { TensorProto_DataType as DT } from 'onnx-buf';
import { Builder, noKernelModel, runtimeErrorModel, tinyCnn, typeErrorModel, unknownOpModel } from './_model.js';

const BOARD = new URL('../../../profiles/boards/ci-x86-2core.yaml', import.meta.url).pathname;
const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const NODES = ['/conv1/Conv', '/bn1/BatchNormalization', '/relu/Relu', '/conv2/Conv', '/Add', '/relu2/Relu', '/pool/GlobalAveragePool', '/Flatten', '/fc/Gemm'];
const quick = { board: 'ci-x86-2core', runs: 3, warmup: 1, threads: 1, sensor: null } as const;

let dir: string;
let model: string;
let sha: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dnnpart-measure-'));
  model = join(dir, 'tiny.onnx');
  const bytes = tinyCnn();
  await writeFile(model, bytes);
  sha = createHash('sha256').update(bytes).digest('hex');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('profileModel on a small CNN', () => {
  let profile: Profile;
  const phases = new Set<string>();
  beforeAll(async () => {
    profile = await profileModel(model, { ...quick, boardDescription: await loadBoardDescription(BOARD), onProgress: (e) => phases.add(e.phase) });
  });

  it('is a valid profile of this model file', () => {
    expect(validateProfile(profile)).toBe(profile);
    expect(profile.model).toEqual({ name: 'tiny', sha256: sha, inputs: [{ name: 'x', shape: [1, 3, 16, 16], dtype: 'float32' }] });
    expect(profile.settings).toMatchObject({ runs: 3, warmup: 1, threads: 1, executionProvider: 'CPUExecutionProvider', graphOptimizationLevel: 'all', ortVersion: ort.env.versions.common });
    expect(profile.endToEnd.runs).toBe(3);
    expect(profile.board).toMatchObject({ name: 'ci-x86-2core', description: 'ci-x86-2core' });
    expect(profile.board.cores).toBeGreaterThan(0);
    expect([...phases]).toEqual(['load', 'warmup', 'runs']);
  });

  it('has one entry per original node, in graph order, with the graph costs', async () => {
    const { graph } = await loadModel(model);
    const costs = graphCosts(graph).nodes;
    expect(profile.nodes.map((n) => n.name)).toEqual(NODES);
    for (const n of profile.nodes) {
      const c = costs.get(n.name)!;
      expect(n).toMatchObject({ paramBytes: c.paramBytes, outputBytes: c.outputBytes, macs: c.macs, runs: 3 });
      expect(n.op).toBe(graph.nodes.find((g) => g.name === n.name)!.op);
    }
  });

  it('attributes fused kernels to the original nodes and records the fusion', () => {
    // Kernel names and layouts depend on the CPU (NCHWc with or without reorders on x86, FusedConv
    // or NHWC kernels on ARM; fixtures/traces has each): check only what holds on all of them.
    // Conv+BN+Relu always run as one kernel; the convolution carries its time (it has all the
    // MACs), BN and Relu carry none.
    const node = (name: string) => profile.nodes.find((n) => n.name === name)!;
    const conv1 = node('/conv1/Conv');
    expect(conv1.latencyMs.median).toBeGreaterThan(0);
    expect(node('/bn1/BatchNormalization').latencyMs.median).toBe(0);
    expect(node('/relu/Relu').latencyMs.median).toBe(0);
    const fused = profile.fusedNodes!.find((f) => f.nodes.includes('/conv1/Conv'))!;
    expect(fused.nodes).toEqual(['/conv1/Conv', '/bn1/BatchNormalization', '/relu/Relu']);
    for (const n of fused.nodes) expect(node(n).kernel, n).toBe(fused.kernel);
    // Every fused group is recorded with one op per kernel, and no group holds two convolutions.
    for (const f of profile.fusedNodes!) {
      expect(f.op.split('+').length, f.kernel).toBe(f.kernel.split('+').length);
      expect(f.nodes.filter((n) => (node(n).macs ?? 0) > 0).length, f.kernel).toBeLessThanOrEqual(1);
    }
    // Each node belongs to at most one group, and the MAC nodes carry all the attributed time.
    const grouped = profile.fusedNodes!.flatMap((f) => f.nodes);
    expect(new Set(grouped).size).toBe(grouped.length);
    for (const n of profile.nodes.filter((x) => grouped.includes(x.name) && (x.macs ?? 0) === 0)) {
      if (profile.fusedNodes!.find((f) => f.nodes.includes(n.name))!.nodes.some((m) => (node(m).macs ?? 0) > 0)) expect(n.latencyMs.median, n.name).toBe(0);
    }
    expect(profile.eliminatedNodes).toEqual([]);
    expect(profile.unattributedShare).toBeGreaterThanOrEqual(0);
    expect(profile.unattributedShare).toBeLessThan(1);
    expect(profile.warnings.join(' ')).not.toMatch(/map to no original node/);
  });

  it('estimates power from the board description and splits energy by latency share', () => {
    expect(profile.power).toMatchObject({ source: 'estimated', activeW: 11.25, idleW: 3.4 });
    expect(profile.power.origin).toMatch(/not measured/);
    expect(profile.power.energyPerInferenceMj).toBeCloseTo(11.25 * profile.endToEnd.medianMs, 5);
    const sum = profile.nodes.reduce((s, n) => s + (n.energyMj ?? 0), 0);
    expect(sum).toBeCloseTo(profile.power.energyPerInferenceMj!, 4);
  });

  it('records the profiler overhead, node-sum ratio and peak RSS', () => {
    const sum = profile.nodes.reduce((s, n) => s + n.latencyMs.median, 0);
    expect(profile.nodeSumToEndToEnd).toBeCloseTo(sum / profile.endToEnd.medianMs, 3);
    expect(profile.overhead!.ratio).toBeCloseTo(profile.overhead!.profiledMedianMs / profile.endToEnd.medianMs, 3);
    expect(profile.peakRssBytes).toBeGreaterThan(10 * 2 ** 20);
    expect(profile.peakRssBytes).toBeGreaterThanOrEqual(profile.rssBeforeSessionsBytes!);
  });
});

describe('profileModel options', () => {
  it('level "disabled": every node is its own kernel, nothing fused; no description -> power unavailable', async () => {
    const p = await profileModel(model, { ...quick, graphOptimizationLevel: 'disabled' });
    expect(p.fusedNodes).toEqual([]);
    expect(p.nodes.every((n) => n.kernel === undefined && n.energyMj === null)).toBe(true);
    expect(p.nodes.find((n) => n.name === '/conv2/Conv')!.latencyMs.median).toBeGreaterThan(0);
    expect(p.power).toEqual({ source: 'unavailable' });
    // Timing-dependent warnings aside (load; a default boundary as large as this 0.05 ms model's run).
    expect(p.warnings.filter((w) => !w.startsWith('machine load') && !w.startsWith('the boundary cost of the model'))).toEqual([]);
  });

  it('level "extended": the fused convolution carries BN and Relu', async () => {
    const p = await profileModel(model, { ...quick, graphOptimizationLevel: 'extended' });
    const f = p.fusedNodes!.find((x) => x.nodes.includes('/conv1/Conv'))!;
    expect(f.nodes).toEqual(['/conv1/Conv', '/bn1/BatchNormalization', '/relu/Relu']);
    expect(p.nodes.find((n) => n.name === '/relu/Relu')!.kernel).toBe(f.kernel);
    expect(p.eliminatedNodes).toEqual([]);
  });

  it('measures power with a sensor (a recorded hwmon tree at a constant 2.35 W)', async () => {
    const root = join(dir, 'hwmon');
    await cp(join(FIXTURES, 'sysfs', 'hwmon-power'), root, { recursive: true });
    const sensor = await hwmonSensor({ root, intervalMs: 5 });
    const p = await profileModel(model, { ...quick, sensor, idleSeconds: 0.05 });
    expect(p.power).toMatchObject({ source: 'measured', idleW: 2.35, activeW: 2.35 });
    expect(p.power.origin).toContain('ina226');
    expect(p.power.energyPerInferenceMj).toBeCloseTo(2.35 * p.endToEnd.medianMs, 5);
    expect(p.power.dynamicEnergyPerInferenceMj).toBeCloseTo(0, 6);
  });

  it('a sensor that fails mid-run: profile still made, power unavailable, a warning', async () => {
    const root = join(dir, 'hwmon-vanishing');
    await cp(join(FIXTURES, 'sysfs', 'hwmon-power'), root, { recursive: true });
    const sensor = await hwmonSensor({ root, intervalMs: 2 });
    const out = join(dir, 'vanishing.profile.json');
    const p = await profileModel(model, {
      ...quick,
      runs: 5,
      sensor,
      idleSeconds: 0.02,
      output: out,
      boardDescription: await loadBoardDescription(BOARD),
      onProgress: (e) => {
        if (e.phase === 'runs' && e.done === 1) rmSync(join(root, 'sys/class/hwmon/hwmon1'), { recursive: true, force: true });
      },
    });
    expect(p.power).toEqual({ source: 'unavailable' });
    expect(p.warnings.join('\n')).toMatch(/power sensor hwmon failed during the runs: .*power1_input.*; power marked unavailable/);
    expect(p.nodes.every((n) => n.energyMj === null)).toBe(true);
    expect((await readProfile(out)).power.source).toBe('unavailable');
  });

  it('profiles a dynamic batch at the given input shape', async () => {
    const dyn = join(dir, 'dynamic.onnx');
    await writeFile(dyn, tinyCnn(8, 16, 'N'));
    const p = await profileModel(dyn, { ...quick, runs: 1, warmup: 0, inputShapes: [2, 3, 16, 16] });
    expect(p.model.inputs).toEqual([{ name: 'x', shape: [2, 3, 16, 16], dtype: 'float32' }]);
    expect(p.nodes.find((n) => n.name === '/fc/Gemm')!.outputBytes).toBe(2 * 10 * 4);
  });

  it('writes the profile atomically to `output`', async () => {
    const out = join(dir, 'out', 'tiny.t1.profile.json');
    const p = await profileModel(model, { ...quick, runs: 1, warmup: 0, output: out });
    expect(await readProfile(out)).toEqual(p);
    expect(await readdir(join(dir, 'out'))).toEqual(['tiny.t1.profile.json']);
  });

  it('abort mid-run: PROFILE_INTERRUPTED, no profile file, no temp files', async () => {
    const outDir = join(dir, 'aborted');
    const out = join(outDir, 'tiny.profile.json');
    const tempDir = join(dir, 'aborted-tmp');
    await mkdir(tempDir);
    const ac = new AbortController();
    let sawTrace = false;
    const e = await profileModel(model, {
      ...quick,
      runs: 5,
      output: out,
      tempDir,
      signal: ac.signal,
      onProgress: (ev) => {
        if (ev.phase === 'runs' && ev.done === 2) {
          sawTrace = readdirSync(tempDir).length === 1;
          ac.abort();
        }
      },
    }).catch((x: unknown) => x as { code?: string });
    expect(e).toMatchObject({ code: 'PROFILE_INTERRUPTED' });
    expect(sawTrace).toBe(true);
    expect(await readdir(outDir)).toEqual([]);
    expect(await readdir(tempDir)).toEqual([]);
  });
});

describe('profileModel with too little memory for two sessions of the model', () => {
  it('makes the profiled runs alone and the timed session after them, says so, and the profile is whole', async () => {
    // A board with this little memory left (a large model on a small board: IS-Net took 2 GB a session here).
    const tight = await profileModel(model, { ...quick, availableMemoryBytes: 1 });
    const roomy = await profileModel(model, quick);
    expect(tight.warnings).toContainEqual(expect.stringMatching(
      /^one session of tiny took \d+ MiB and this machine had 0 MiB left, too little for a second beside it: the profiled runs were made alone instead of alternating with timed ones/,
    ));
    expect(roomy.warnings.filter((w) => w.startsWith('one session of'))).toEqual([]);
    // The same profile otherwise: every node timed by ORT's profiler, the end-to-end runs of the timed
    // session made again after them.
    expect(validateProfile(tight)).toBe(tight);
    expect(tight.nodes.map((n) => n.name)).toEqual(roomy.nodes.map((n) => n.name));
    expect(tight.nodes.reduce((s, n) => s + n.latencyMs.median, 0)).toBeGreaterThan(0);
    expect(tight.nodes.map((n) => n.runs)).toEqual(roomy.nodes.map((n) => n.runs));
    expect(tight.endToEnd.runs).toBe(3);
    expect(tight.endToEnd.medianMs).toBeGreaterThan(0);
    expect(tight.peakRssBytes).toBeGreaterThanOrEqual(tight.rssBeforeSessionsBytes!);
  });

  it('a memory figure that is not a byte count is one line', async () => {
    await expect(profileModel(model, { ...quick, availableMemoryBytes: -1 })).rejects.toThrow('option availableMemoryBytes must be a number of bytes >= 0, got -1');
  });
});

describe('the end-to-end runs of a small model', () => {
  it('endToEndRuns raises the count to cover the span, within MAX_END_TO_END_RUNS, and leaves it without one', () => {
    expect(endToEndRuns(20, 0, 0.05)).toBe(20);
    expect(endToEndRuns(20, 500, 0.05)).toBe(10_000);
    expect(endToEndRuns(20, 500, 100)).toBe(20);
    expect(endToEndRuns(20, 500, 0)).toBe(MAX_END_TO_END_RUNS);
  });

  it('without runs given, covers half a second of end-to-end runs; with runs given, takes exactly those', async () => {
    const auto = await profileModel(model, { board: 'ci-x86-2core', warmup: 1, threads: 1, sensor: null });
    expect(auto.settings.runs).toBe(20);
    // Sized by the plain session's median over the 20 profiled runs; the end-to-end runs that
    // follow may run faster or slower, so their span is held loosely.
    expect(auto.endToEnd.runs).toBeGreaterThan(20);
    expect(auto.endToEnd.runs * auto.endToEnd.medianMs).toBeGreaterThan(DEFAULT_MIN_END_TO_END_MS / 4);
    const exact = await profileModel(model, quick);
    expect(exact.endToEnd.runs).toBe(quick.runs);
    const raised = await profileModel(model, { ...quick, minEndToEndMs: 200 });
    expect(raised.endToEnd.runs).toBeGreaterThan(quick.runs);
    expect(raised.settings.runs).toBe(quick.runs);
  });
});

describe('profileModel: an input the user fixed', () => {
  // x[1,4] -> Reshape(x, target) -> y: the target is a graph input, [2,2,1] as given. Fed zeros, it
  // would ask for a third dimension copied from x, which has two: onnxruntime refuses the run.
  it('is fed the value given, where the graph still reads it', async () => {
    const b = new Builder().input('x', [1, 4]).input('target', [3], DT.INT64).output('y', [2, 2, 1]);
    b.node('Reshape', '/Reshape', ['x', 'target'], ['y']);
    const file = join(dir, 'reshape-target.onnx');
    await writeFile(file, b.bytes());
    const p = await profileModel(file, { ...quick, inputShapes: { x: [1, 4], target: { shape: [3], value: [2, 2, 1] } } });
    expect(p.nodes.map((n) => n.name)).toEqual(['/Reshape']);
    expect(p.endToEnd.medianMs).toBeGreaterThan(0);
  });
});

describe('profileModel: bad input', () => {
  it.each([
    ['a board name with path characters', () => ({ path: model, options: { ...quick, board: '../etc' } }), 'PROFILE_BAD_BOARD_NAME', /board name "\.\.\/etc"/],
    ['zero runs', () => ({ path: model, options: { ...quick, runs: 0 } }), 'PROFILE_BAD_OPTIONS', /option runs must be an integer >= 1/],
    ['a negative end-to-end span', () => ({ path: model, options: { ...quick, minEndToEndMs: -1 } }), 'PROFILE_BAD_OPTIONS', /option minEndToEndMs must be a number >= 0, got -1/],
    ['an unwritable output', () => ({ path: model, options: { ...quick, output: join(model, 'x.json') } }), 'PROFILE_OUTPUT_UNWRITABLE', /cannot write profile/],
    ['an op without a cpu kernel', () => ({ path: join(dir, 'nokernel.onnx'), options: quick }), 'PROFILE_NO_KERNEL', /op Max \(opset 13\) of node "\/the\/Max" has no kernel on the cpu execution provider/],
    ['an op onnxruntime does not know', () => ({ path: join(dir, 'unknown.onnx'), options: quick }), 'PROFILE_NO_KERNEL', /op FooBar \(domain "com\.example"\) is unknown/],
    ['a model onnxruntime rejects', () => ({ path: join(dir, 'typeerror.onnx'), options: quick }), 'PROFILE_MODEL_LOAD', /onnxruntime cannot load the model/],
    // onnxruntime's own sentence, without its source path, C++ function and failed condition.
    ['a model that fails when run', () => ({ path: join(dir, 'runtime.onnx'), options: quick }), 'PROFILE_MODEL_RUN',
      /^\S+runtime\.onnx: onnxruntime failed running the model \(Non-zero status code returned while running Gather node\. Name:'\/the\/Gather' Status Message: indices element out of data bounds, idx=5 must be within the inclusive range \[-2,1\]\)$/],
    // Files that are not models at all stop in @dnnpart/onnx-graph's loader, with its codes.
    ['a file that is not ONNX', () => ({ path: join(dir, 'garbage.onnx'), options: quick }), 'GRAPH_NOT_ONNX', /garbage\.onnx/],
    ['a missing model file', () => ({ path: join(dir, 'missing.onnx'), options: quick }), 'GRAPH_FILE_NOT_FOUND', /missing\.onnx/],
  ])('%s -> %s', async (_label, make, code, message) => {
    await writeFile(join(dir, 'nokernel.onnx'), noKernelModel());
    await writeFile(join(dir, 'unknown.onnx'), unknownOpModel());
    await writeFile(join(dir, 'typeerror.onnx'), typeErrorModel());
    await writeFile(join(dir, 'runtime.onnx'), runtimeErrorModel());
    await writeFile(join(dir, 'garbage.onnx'), 'this is not a protobuf');
    const { path, options } = make();
    await expect(profileModel(path, options)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  });
});
