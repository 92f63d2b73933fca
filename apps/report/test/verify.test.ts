// dnnpart split --plan and dnnpart verify: a real zoo model, real plans (a DAG plan that is no prefix
// cut among them), real onnxruntime sessions in this thread and in worker threads, and each refusal.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, randomFeeds, splitModel, verifySplit, type LoadedModel } from '@dnnpart/onnx-graph';
import { evaluatePlan, type Problem } from '@dnnpart/solver';
import {
  calibrateHost, calibrationSeconds, capacityEfficiency, capacitySizeFor, estimateSeconds, formatVerify, handoffBytes, hostPipelinePeriodMs, hostPrediction, pipelinePeriodMs, quietContext, splitByPlan, stageCores, stageParallelism, timeBackToBack, EXTRA_THREAD_CORES, verify, verifyPlan,
  DEFAULT_SPAN_MS, MAX_FRAMES, VERIFY_SCHEMA, framesFor, type HostCalibration, type VerifyResult,
} from '@dnnpart/report';
import { buildProblem, loadSystem, resolveSystem } from '@dnnpart/report';
import { run } from './_run.js';

let dir: string;
let model: LoadedModel;
let names: string[];
/** A DAG plan: fire2's 3x3 expand branch waits for stage 1 while its 1x1 branch runs in stage 0. */
let dagPlan: { board: string; nodes: string[] }[];
let problem: Problem;

const write = (name: string, data: unknown) => {
  const f = path.join(dir, name);
  writeFileSync(f, typeof data === 'string' ? data : JSON.stringify(data));
  return f;
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-verify-'));
  const r = await run(['zoo', 'export', 'squeezenet1_1', '--input', '1x3x64x64', '-o', 'sq.onnx'], { cwd: dir });
  expect(r.code).toBe(0);
  model = await loadModel(path.join(dir, 'sq.onnx'));
  names = model.graph.nodes.map((n) => n.name);
  const branch = names.findIndex((n) => n.includes('expand3x3'));
  expect(branch).toBeGreaterThan(0);
  // Stage 0: every node before the first 3x3 expand except that expand's branch (3x3 conv and its ReLU).
  const late = new Set([names[branch]!, names[branch + 1]!]);
  const first = names.slice(0, branch + 2).filter((n) => !late.has(n));
  dagPlan = [
    { board: 'a', nodes: first },
    { board: 'b', nodes: names.filter((n) => !first.includes(n)) },
  ];
  // A problem over this graph with known per-node times on two boards, for predictions.
  problem = {
    version: 1, name: 'sq', nodes: names.map((id) => ({ id, memoryBytes: 0 })),
    tensors: [
      { id: 'input', producer: null, consumers: model.graph.tensors.get('input')!.consumers.slice(), bytes: 3 * 64 * 64 * 4 },
      ...[...model.graph.tensors.values()].filter((t) => t.producer !== null && !t.isInitializer && (t.consumers.length > 0 || t.isGraphOutput))
        .map((t) => ({ id: t.name, producer: t.producer, consumers: [...new Set(t.consumers)], bytes: t.bytes, ...(t.isGraphOutput ? { modelOutput: true } : {}) })),
    ],
    boards: ['a', 'b'].map((id) => ({ id, memoryBytes: null, latencyMs: Object.fromEntries(names.map((n) => [n, 0.01])), boundary: { fixedMs: 0.05, inMsPerByte: 1e-7, outMsPerByte: 2e-7 } })),
    links: [{ from: 'a', to: 'b', bandwidthBytesPerSec: 1e9, latencyMs: 0, powerW: 0 }],
    inputBoard: 'a', objective: 'throughput', boardOrder: 'fixed',
  };
  write('sq.problem.json', problem);
  write('dag.plan.json', { status: 'optimal', stages: dagPlan });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('split --plan', () => {
  it('writes the stage models of a DAG plan, and they compute what the model computes', async () => {
    const out = await splitByPlan({ model: path.join(dir, 'sq.onnx'), plan: path.join(dir, 'dag.plan.json'), output: path.join(dir, 'dag') }, quietContext(dir));
    expect(out.data.stages.map((s) => s.nodes)).toEqual(dagPlan.map((s) => s.nodes));
    // The late branch reads a tensor of stage 0 that stage 0's own 1x1 branch also reads.
    expect(out.data.stages[1]!.inputs.length).toBeGreaterThanOrEqual(2);
    for (const s of out.data.stages) expect(existsSync(path.join(dir, 'dag', s.file))).toBe(true);
    const stageOf = Object.fromEntries(dagPlan.flatMap((s, i) => s.nodes.map((n) => [n, i] as const)));
    expect((await verifySplit(model, splitModel(model, { stages: stageOf }))).maxAbsDiff).toBeLessThanOrEqual(1e-4);
  });

  it('takes a plans.json row by its layer index ranges', async () => {
    const cut = Math.floor(names.length / 2);
    const f = write('plans.json', { schema: 'dnnpart/plans@1', rows: [
      { kind: 'baseline', name: 'single:a', stages: `a[0..${names.length - 1}]` },
      { kind: 'optimum', name: 'optimum:throughput', stages: `a[0..${cut - 1}] > b[${cut}..${names.length - 1}]` },
    ] });
    const opt = await splitByPlan({ model: path.join(dir, 'sq.onnx'), plan: f, output: path.join(dir, 'rows') }, quietContext(dir));
    expect(opt.data.stages.map((s) => s.nodes.length)).toEqual([cut, names.length - cut]);
    const one = await splitByPlan({ model: path.join(dir, 'sq.onnx'), plan: f, row: 'single:a', output: path.join(dir, 'rows1') }, quietContext(dir));
    expect(one.data.stages).toHaveLength(1);
  });

  it.each([
    { name: 'a plan of another model (sha256)', plan: () => ({ model: { name: 'other', sha256: 'ab'.repeat(32) }, stages: dagPlan }), message: /^dnnpart: --plan p\.json: a plan of model "other" \(sha256 abababababab…\), not of sq\.onnx \(sha256 [0-9a-f]{12}…\); plan this model file\n$/ },
    { name: 'a plan with a node the model lacks', plan: () => ({ stages: [{ board: 'a', nodes: [...names, 'conv99'] }] }), message: /^dnnpart: --plan p\.json: stages\[0\]\.nodes\[\d+\]: no node "conv99" in sq\.onnx; a plan of another model\?\n$/ },
    { name: 'stages that do not cover the model', plan: () => ({ stages: [{ board: 'a', nodes: names.slice(0, 10) }] }), message: new RegExp(`^dnnpart: --plan p\\.json: the stages cover 10 of the ${'\\d+'} nodes of sq\\.onnx; missing "[^"]+" and \\d+ more\\n$`) },
    { name: 'a node in two stages', plan: () => ({ stages: [{ board: 'a', nodes: names }, { board: 'b', nodes: [names[0]] }] }), message: /^dnnpart: --plan p\.json: stages\[1\]\.nodes\[0\]: node "[^"]+" is already in stage 0\n$/ },
    { name: 'an infeasible plan', plan: () => ({ status: 'infeasible', reason: 'no link', baselines: [] }), message: /^dnnpart: --plan p\.json: stages: missing \(status infeasible: no link\); give a plan that has stages \(dnnpart solve --json\)\n$/ },
    { name: 'a plans.json row past the model', plan: () => ({ schema: 'dnnpart/plans@1', rows: [{ kind: 'optimum', name: 'o', stages: 'a[0..900]' }] }), message: /^dnnpart: --plan p\.json: plans\.json row o: stage 0 has layer \d+, but sq\.onnx has \d+ nodes \(0\.\.\d+\); a plan of another model\?\n$/ },
    { name: 'a stage reading from a later one', plan: () => ({ stages: [{ board: 'a', nodes: names.slice(1) }, { board: 'b', nodes: [names[0]] }] }), message: /^dnnpart: tensor .+ flows from .+ \(stage 1\) back to .+ \(stage 0\); a stage may only read from earlier stages\n$/ },
    { name: 'not JSON', plan: () => '{ stages', message: /^dnnpart: --plan p\.json: not JSON \(.+\)\n$/ },
  ])('refuses $name with one line (exit 2)', async ({ plan, message }) => {
    write('p.json', plan());
    const r = await run(['split', 'sq.onnx', '--plan', 'p.json', '-o', 'bad'], { cwd: dir });
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });
});

describe('verify', () => {
  it('times each stage of a DAG plan back to back and as a pipeline, with the problem\'s predictions and a trace', async () => {
    const trace = path.join(dir, 'v.trace.json');
    const out = path.join(dir, 'v.json');
    const r = await verify({ model: path.join(dir, 'sq.onnx'), plan: path.join(dir, 'dag.plan.json'), problem: path.join(dir, 'sq.problem.json'), runs: 3, warmup: 1, frames: 4, trace, output: out }, quietContext(dir));
    const v: VerifyResult = r.data;
    expect(v.schema).toBe(VERIFY_SCHEMA);
    expect(v.model.sha256).toBe(model.sha256);
    expect(v.plan.stages).toEqual(dagPlan);
    const want = evaluatePlan(problem, dagPlan);
    expect(v.stages.map((s) => [s.board, s.nodes, s.predictedMs, s.kernelMs, s.boundaryMs])).toEqual(
      want.stages.map((s) => [s.board, s.nodes.length, s.computeMs, s.kernelMs, s.boundaryMs]));
    for (const s of v.stages) {
      expect(s.measuredMs).toBeGreaterThan(0);
      expect(s.p90Ms).toBeGreaterThanOrEqual(s.measuredMs);
      expect(s.cpuMs).toBeGreaterThan(0);
      expect(s.error).toBeCloseTo(s.predictedMs! / s.measuredMs - 1, 12);
    }
    const sum = want.stages.reduce((a, s) => a + s.computeMs, 0);
    expect(v.backToBack.predictedLatencyMs).toBeCloseTo(sum, 12);
    // A frame back to back takes at least its stages' medians' smallest sum... and its FPS is its inverse.
    expect(v.backToBack.measuredFps).toBeCloseTo(1000 / v.backToBack.measuredLatencyMs, 9);
    expect(v.pipeline!.frames).toBe(4);
    expect(v.pipeline!.measuredFps).toBeGreaterThan(0);
    expect(v.pipeline!.predictedFps).toBeCloseTo(1000 / pipelinePeriodMs(want.stages.map((s) => s.computeMs), 1, v.pipeline!.cores), 9);
    // The plan's own prediction: its slowest stage, each on its own board.
    expect(v.pipeline!.planFps).toBeCloseTo(1000 / Math.max(...want.stages.map((s) => s.computeMs)), 9);
    expect(v.pipeline!.handoff).toBe('transfer');
    // This host's prediction, calibrated just before the pipeline run, recomputed here by hand.
    const cal = v.hostCalibration!;
    expect(cal.threads).toBe(1);
    expect(cal.capacity.samples.map((x) => x.stages)).toEqual([2]);
    // At one thread the capacity model is sized for the plan's stages: their mean predicted time.
    expect(cal.capacity.targetMs).toBeCloseTo(want.stages.reduce((a, s) => a + s.computeMs, 0) / 2, 12);
    const h = v.pipeline!.host!;
    const bytes = h.stages.map((x) => x.handoffBytes);
    const handoff = bytes.map((b) => cal.handoff.fixedMs + cal.handoff.msPerByte * b);
    // One-thread stages keep one core busy each (and are not timed at one thread again).
    expect(h.stages.map((x) => x.parallelism)).toEqual([1, 1]);
    expect(h.stages.every((x) => x.speedup === undefined)).toBe(true);
    expect(v.stages.every((x) => x.singleThreadMs === undefined)).toBe(true);
    expect(h.efficiency).toBe(capacityEfficiency(cal, 2));
    const sim = hostPipelinePeriodMs(want.stages.map((s) => s.computeMs), handoff, [1, 1], cal.cores, h.efficiency);
    expect(h.concurrency).toBeCloseTo(sim.concurrency, 12);
    expect(h.slowdown).toBeCloseTo(sim.slowdown, 12);
    expect(h.periodMs).toBeCloseTo(sim.periodMs, 12);
    expect(h.effectiveCores).toBeCloseTo(sim.busyCores, 12);
    expect(h.predictedFps).toBeCloseTo(1000 / sim.periodMs, 9);
    expect(h.latencyMs).toBeCloseTo(sim.latencyMs, 12);
    expect(h.latencyError).toBeCloseTo(sim.latencyMs / v.pipeline!.measuredLatencyMs - 1, 9);
    // The same model on the measured stage times: the sharing model's own error.
    const fromMeasured = hostPipelinePeriodMs(v.stages.map((s) => s.measuredMs), handoff, [1, 1], cal.cores, h.efficiency);
    expect(h.fromMeasuredStages!.periodMs).toBeCloseTo(fromMeasured.periodMs, 12);
    expect(h.fromMeasuredStages!.fpsError).toBeCloseTo(1000 / fromMeasured.periodMs / v.pipeline!.measuredFps - 1, 12);
    // The stages of this 64x64 network are predicted under half a millisecond: a note says what that does to this host's prediction.
    const shortStages = want.stages.filter((s) => s.computeMs < 0.5).length;
    expect(v.notes.some((n) => n.startsWith(`${shortStages} stage(s) predicted under 0.5 ms:`))).toBe(shortStages > 0);
    // Two stages never run faster than the slower one alone.
    expect(h.periodMs).toBeGreaterThanOrEqual(Math.max(...want.stages.map((s, i) => s.computeMs + handoff[i]!)) - 1e-9);
    expect(h.fpsError).toBeCloseTo(h.predictedFps / v.pipeline!.measuredFps - 1, 12);
    expect(h.fpsErrorMedian).toBeCloseTo(h.predictedFps / v.pipeline!.measuredMedianFps! - 1, 12);
    expect(v.pipeline!.measuredMedianFps).toBeGreaterThan(0);
    // The printed line says what the prediction is made of, and its period.
    expect(r.text).toContain(`cores kept busy per stage 1.00, 1.00; ${h.concurrency.toFixed(2)} stages running at once`);
    expect(r.text).toContain(`(efficiency ${h.efficiency.toFixed(2)} as calibrated for 2 stages; slowdown ${h.slowdown.toFixed(2)}): period ${h.periodMs.toFixed(2)} ms`);
    expect(cal.cores).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(JSON.parse(JSON.stringify(v)));

    const events = JSON.parse(readFileSync(trace, 'utf8')).traceEvents as { ph: string; name: string; cat?: string; args?: { name?: string }; dur?: number }[];
    const tracks = events.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args!.name);
    expect(tracks).toEqual(expect.arrayContaining(['stage 0 (a)', 'stage 1 (b)', 'stage 0 (a): ONNX nodes', 'stage 1 (b): ONNX nodes']));
    const stageSpans = events.filter((e) => e.ph === 'X' && e.cat === 'stage');
    // 3 back-to-back frames and 4 pipeline frames, each through both stages.
    expect(stageSpans).toHaveLength(2 * 3 + 2 * 4);
    expect(events.filter((e) => e.ph === 'X' && e.cat === 'node').length).toBeGreaterThan(0);
  });

  it('relays a tensor through a middle stage in the pipeline (3 stages, a skip over stage 1)', async () => {
    const branch = names.findIndex((n) => n.includes('expand3x3'));
    // Stage 0 makes the 1x1 branch, stage 1 the 3x3 branch, stage 2 concatenates both.
    const s1 = [names[branch]!, names[branch + 1]!];
    const s0 = names.slice(0, branch + 2).filter((n) => !s1.includes(n));
    const plan = [{ board: 'a', nodes: s0 }, { board: 'b', nodes: s1 }, { board: 'c', nodes: names.filter((n) => !s0.includes(n) && !s1.includes(n)) }];
    write('skip.plan.json', { stages: plan });
    const r = await verify({ model: path.join(dir, 'sq.onnx'), plan: path.join(dir, 'skip.plan.json'), runs: 2, warmup: 1, frames: 5, queue: 2 }, quietContext(dir));
    const stage0Outputs = r.data.stages[0]!.outputs;
    // Stage 2 reads a tensor of stage 0 that stage 1 does not.
    expect(r.data.stages[2]!.inputs.some((x) => stage0Outputs.includes(x) && !r.data.stages[1]!.inputs.includes(x))).toBe(true);
    expect(r.data.pipeline!.frames).toBe(5);
    expect(r.data.pipeline!.measuredFps).toBeGreaterThan(0);
    expect(r.data.settings.queue).toBe(2);
    // No prediction in the plan file: measured figures only, and a note that says so.
    expect(r.data.stages.every((x) => x.predictedMs === null && x.error === null)).toBe(true);
    expect(r.data.pipeline!.predictedFps).toBeNull();
    expect(r.data.notes).toContain('the plan carries no prediction: measured figures only (give --system or --problem to predict)');
    // Three one-thread stages on fewer than three cores share them, and the result says what that checks.
    const shared = `3 stages of 1 thread(s) share this machine's ${r.data.pipeline!.cores} cores: the pipeline measured checks this host's prediction (shared cores), not the plan's (a board per stage)`;
    expect(r.data.notes.includes(shared)).toBe(r.data.pipeline!.cores < 3);
    // Without a prediction, no note about short stages (there is nothing predicted to warn about).
    expect(r.data.notes.some((n) => n.includes('predicted under 0.5 ms'))).toBe(false);
  });

  it('runs the pipeline --repeat times: the runs\' medians, their spread, and a bad count refused by its flag', async () => {
    const stageOf = Object.fromEntries(dagPlan.flatMap((s, i) => s.nodes.map((n) => [n, i] as const)));
    const predicted = evaluatePlan(problem, dagPlan).stages;
    const { result } = await verifyPlan(model, 'sq.onnx', stageOf, ['a', 'b'], predicted, { threads: 1, runs: 2, warmup: 1, pipelineFrames: 3, pipelineRepeats: 3, host: false });
    const p = result.pipeline!;
    expect(p.runs).toHaveLength(3);
    const fps = p.runs!.map((x) => x.fps).sort((a, b) => a - b);
    expect(p.measuredFps).toBe(fps[1]);
    expect(p.measuredMedianFps).toBe(p.runs!.map((x) => x.medianFps).sort((a, b) => a - b)[1]);
    expect(p.spread).toBeCloseTo((fps[2]! - fps[0]!) / fps[1]!, 12);
    expect(result.settings.pipelineRepeats).toBe(3);
    // Latency: every run's frames.
    expect(p.frames).toBe(3);
    expect(result.notes.some((n) => n.startsWith('the pipeline\'s throughput moved'))).toBe(p.spread! > 0.1);
    const once = (await verifyPlan(model, 'sq.onnx', stageOf, ['a', 'b'], predicted, { threads: 1, runs: 1, warmup: 0, pipelineFrames: 2, host: false })).result;
    expect(once.pipeline!.runs).toBeUndefined();
    expect(once.settings.pipelineRepeats).toBeUndefined();
    await expect(verifyPlan(model, 'sq.onnx', stageOf, ['a', 'b'], predicted, { threads: 1, runs: 1, warmup: 0, pipelineFrames: 2, pipelineRepeats: 0 }))
      .rejects.toThrow('pipelineRepeats must be an integer >= 1, got 0');
    // The time estimate counts every run of the pipeline.
    const ms = predicted.map((s) => s.computeMs);
    const o = { runs: 10, warmup: 5, pipelineFrames: 20, threads: 1, cores: 2 };
    expect(estimateSeconds(ms, { ...o, pipelineRepeats: 3 }) - estimateSeconds(ms, o)).toBeCloseTo(2 * (estimateSeconds(ms, o) - estimateSeconds(ms, { ...o, pipelineFrames: 0 })), 12);

    const bad = await run(['verify', 'sq.onnx', '--plan', 'dag.plan.json', '--problem', 'sq.problem.json', '--repeat', '0'], { cwd: dir });
    expect(bad.stderr).toBe('dnnpart: --repeat 0: give a whole number of at least 1\n');
    expect(bad.code).toBe(2);
    const two = await run(['verify', 'sq.onnx', '--plan', 'dag.plan.json', '--problem', 'sq.problem.json', '--runs', '2', '--warmup', '0', '--frames', '2', '--repeat', '2'], { cwd: dir });
    expect(two.code).toBe(0);
    expect(two.stdout).toMatch(/^pipeline runs: \d+\.\d\d, \d+\.\d\d FPS; measured is their median, spread \d+\.\d% of it$/m);
  });

  it('without --runs and --frames, times at least half a second of each; given, exactly that many', async () => {
    expect(framesFor(30, 0, 0.1)).toBe(30);
    expect(framesFor(30, 500, 0.1)).toBe(5000);
    expect(framesFor(30, 500, 50)).toBe(30);
    expect(framesFor(30, 500, 0)).toBe(MAX_FRAMES);
    const auto = (await verify({ model: path.join(dir, 'sq.onnx'), plan: path.join(dir, 'dag.plan.json'), problem: path.join(dir, 'sq.problem.json'), warmup: 2, memory: false }, quietContext(dir))).data;
    // Sized by the warm-up frames' median (stages of a few tenths of a millisecond at 64x64): far over 30.
    expect(auto.settings.runs).toBeGreaterThan(30);
    expect(auto.settings.runs * auto.backToBack.measuredLatencyMs).toBeGreaterThan(DEFAULT_SPAN_MS / 4);
    expect(auto.pipeline!.frames).toBe(auto.settings.pipelineFrames);
    expect(auto.settings.pipelineFrames).toBeGreaterThan(30);
    const exact = (await verify({ model: path.join(dir, 'sq.onnx'), plan: path.join(dir, 'dag.plan.json'), problem: path.join(dir, 'sq.problem.json'), runs: 3, warmup: 1, frames: 4, memory: false }, quietContext(dir))).data;
    expect([exact.settings.runs, exact.settings.pipelineFrames, exact.pipeline!.frames]).toEqual([3, 4, 4]);
    // timeBackToBack's own span: the warm-up covers a fifth of it, the measured frames all of it.
    const stageOf = Object.fromEntries(dagPlan.flatMap((s, i) => s.nodes.map((n) => [n, i] as const)));
    const stages = splitModel(model, { stages: stageOf }).stages.map((s, i) => ({ bytes: s.bytes, inputs: s.inputs, outputs: s.outputs, label: `stage ${i}` }));
    const t0 = performance.now();
    const b2b = await timeBackToBack(stages, randomFeeds(model.graph, 1), { threads: 1, runs: 2, warmup: 1, minSpanMs: 200 });
    expect(b2b.stageMs[0]!.length).toBe(b2b.totalMs.length);
    expect(b2b.totalMs.length).toBeGreaterThan(2);
    expect(performance.now() - t0).toBeGreaterThan(200 / 5);
  });

  it('prints the comparison and refuses a run over --max-seconds before starting', async () => {
    const ok = await run(['verify', 'sq.onnx', '--plan', 'dag.plan.json', '--problem', 'sq.problem.json', '--runs', '2', '--warmup', '0', '--frames', '0'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^stage +board +nodes +predicted ms +kernels +boundary +measured ms +p90 ms +error +alone ms +error$/m);
    expect(ok.stdout).toMatch(/^back to back: latency ms +\d+\.\d\d +\d+\.\d\d +[-+]\d+\.\d%$/m);
    const slow = await run(['verify', 'sq.onnx', '--plan', 'dag.plan.json', '--problem', 'sq.problem.json', '--runs', '1000000', '--max-seconds', '5'], { cwd: dir });
    // 20 warm-up frames and 30 pipeline frames by default, this host calibrated for the 2 stages, and two
    // seconds for each stage's memory (the optimiser's process, then the stage's).
    const cal = calibrationSeconds({ sessions: 2, stageMs: evaluatePlan(problem, dagPlan).stages.map((s) => s.computeMs), threads: 1 });
    // --frames not given: the pipeline's frames cover half a second at least (a run and its warm-up: 1.2 x that).
    const est = estimateSeconds(evaluatePlan(problem, dagPlan).stages.map((s) => s.computeMs), { runs: 1000000, warmup: 20, pipelineFrames: 30, threads: 1 }) + cal + 4 + (1.2 * DEFAULT_SPAN_MS) / 1000;
    expect(slow.stderr.split('\n').slice(-2).join('\n')).toBe(`dnnpart: verifying this plan would take about ${est.toFixed(0)} s by its prediction (1000020 frames of ${evaluatePlan(problem, dagPlan).stages.reduce((a, s) => a + s.computeMs, 0).toFixed(1)} ms back to back, each stage alone as many times, 50 through the pipeline, about ${cal.toFixed(0)} s calibrating this host, about 4 s measuring stage memory), over --max-seconds 5; lower --runs or --frames, or raise --max-seconds\n`);
    expect(slow.code).toBe(2);
  });

  it('verifies the optimal plan of a system file, predicted by its profiles', async () => {
    write('sys.yaml', ['version: 1', 'name: sq2', 'model: { file: sq.onnx }', 'boards:', '  - { id: a, describe: ci-x86-2core }', '  - { id: b, describe: raspberry-pi-5 }', 'network: ethernet-1000base-t', 'objective: latency'].join('\n'));
    const r = await run(['verify', '--system', 'sys.yaml', '--runs', '2', '--warmup', '0', '--frames', '2', '--json'], { cwd: dir });
    expect(r.stderr).not.toMatch(/dnnpart:/);
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout) as VerifyResult;
    expect(v.stages.reduce((a, s) => a + s.nodes, 0)).toBe(names.length);
    for (const s of v.stages) expect(s.predictedMs).toBeGreaterThan(0);
    expect(v.backToBack.predictedLatencyMs).toBeCloseTo(v.stages.reduce((a, s) => a + s.predictedMs!, 0), 9);
    // With an encoded transfer, verify still times the stages with float32 handoffs, predicts them so, and says it.
    write('verified.json', r.stdout);
    write('sys-int8.yaml', ['version: 1', 'name: sq2', 'model: { file: sq.onnx }', 'boards:', '  - { id: a, describe: ci-x86-2core }', '  - { id: b, describe: raspberry-pi-5 }', 'network: ethernet-1000base-t', 'objective: latency', 'transfer: int8'].join('\n'));
    const args = (sys: string) => ['verify', '--plan', 'verified.json', '--system', sys, '--runs', '1', '--warmup', '0', '--frames', '1', '--no-memory', '--json'];
    const [plain, coded] = [await run(args('sys.yaml'), { cwd: dir }), await run(args('sys-int8.yaml'), { cwd: dir })];
    expect([plain.code, coded.code]).toEqual([0, 0]);
    const predicted = (x: { stdout: string }) => (JSON.parse(x.stdout) as VerifyResult).stages.map((s) => s.predictedMs);
    expect(predicted(coded)).toEqual(predicted(plain));
    expect(coded.stderr).toContain("the system's transfer (int8) is left out here: verify times the stages with their tensors handed over as float32, and predicts them so");
    expect(plain.stderr).not.toContain('is left out here');
  });

  it('times the whole model in the same runs as the stages, and scales the predictions of its board by the speed it ran at', async () => {
    const stageOf = Object.fromEntries(dagPlan.flatMap((s, i) => s.nodes.map((n) => [n, i])));
    const predicted = evaluatePlan(problem, dagPlan).stages;
    // A whole-model prediction far below what any run takes: the ratio, and the note, say the machine is slower than profiled.
    const predictedMs = 1e-3;
    const { result: v } = await verifyPlan(model, 'sq.onnx', stageOf, ['a', 'b'], predicted, { threads: 1, runs: 3, warmup: 1, pipelineFrames: 3, reference: { boards: ['a'], predictedMs } });
    const ref = v.reference!;
    expect(ref.boards).toEqual(['a']);
    expect(ref.predictedMs).toBe(predictedMs);
    expect(ref.measuredMs).toBeGreaterThan(0);
    expect(ref.p90Ms).toBeGreaterThanOrEqual(ref.measuredMs);
    expect(ref.ratio).toBeCloseTo(ref.measuredMs / predictedMs, 9);
    // Only board a's stage is scaled: the speed is this machine's, and a stands for it.
    expect(v.stages[0]!.scaledError).toBeCloseTo((predicted[0]!.computeMs * ref.ratio) / v.stages[0]!.measuredMs - 1, 9);
    expect(v.stages[1]!.scaledError).toBeNull();
    expect(v.stages[0]!.error).toBeCloseTo(predicted[0]!.computeMs / v.stages[0]!.measuredMs - 1, 12);
    // Each stage alone too (as a board runs it), held against the same predictions; the whole model alone scales them.
    expect(ref.aloneMs).toBeGreaterThan(0);
    expect(ref.aloneRatio).toBeCloseTo(ref.aloneMs! / predictedMs, 9);
    for (const [i, s] of v.stages.entries()) {
      expect(s.alone!.measuredMs).toBeGreaterThan(0);
      expect(s.alone!.minMs).toBeLessThanOrEqual(s.alone!.measuredMs);
      expect(s.alone!.error).toBeCloseTo(predicted[i]!.computeMs / s.alone!.measuredMs - 1, 12);
    }
    expect(v.stages[0]!.alone!.scaledError).toBeCloseTo((predicted[0]!.computeMs * ref.aloneRatio!) / v.stages[0]!.alone!.measuredMs - 1, 9);
    expect(v.stages[1]!.alone!.scaledError).toBeNull();
    // For people: board b's stage was predicted for b, so its time here is no error of that prediction.
    const rows = formatVerify(v).split('\n').filter((l) => /^ +[01] +[ab] /.test(l));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain(`${v.stages[0]!.error! >= 0 ? '+' : ''}${(v.stages[0]!.error! * 100).toFixed(1)}%`);
    expect(rows[1]).toMatch(/ other board +— +\d+\.\d\d +other board +— *$/);
    // And in the report's stages table.
    write('ref.json', v);
    expect((await run(['report', '--problem', 'sq.problem.json', '--verify', 'ref.json', '-o', 'rep-ref', '--time-limit', '10'], { cwd: dir })).code).toBe(0);
    const md = readFileSync(path.join(dir, 'rep-ref', 'report.md'), 'utf8').split('\n').filter((l) => l.startsWith('| ref.json ('));
    expect(md).toHaveLength(2);
    expect(md[0]!.split('|')[8]!.trim()).toMatch(/^[-−+]?\d+\.\d %$/);
    expect(md[1]!.split('|').filter((c) => c.trim() === 'other board')).toHaveLength(2);
    expect(md[1]!.split('|')[8]!.trim()).toBe('other board');
    const h = v.pipeline!.host!;
    const handoff = h.stages.map((x) => x.handoffMs);
    const scaled = hostPipelinePeriodMs([predicted[0]!.computeMs * ref.ratio, predicted[1]!.computeMs], handoff, [1, 1], v.hostCalibration!.cores, h.efficiency);
    expect(h.scaled!.periodMs).toBeCloseTo(scaled.periodMs, 9);
    expect(h.scaled!.fpsError).toBeCloseTo(1000 / scaled.periodMs / v.pipeline!.measuredFps - 1, 9);
    expect(v.notes.find((n) => n.startsWith('the whole model, timed in the same runs as the stages, took'))).toMatch(/ms against 0\.00 ms predicted \(\d+ % slower\)/);
    // The whole model's runs are not part of a frame back to back: each frame is its stages, in turn.
    // Medians, not each run: one run slowed by another process must not fail the test.
    const b2b = await timeBackToBack(
      splitModel(model, { stages: stageOf }).stages.map((s, i) => ({ bytes: s.bytes, inputs: s.inputs, outputs: s.outputs, label: `s${i}` })),
      randomFeeds(model.graph, 1),
      { threads: 1, runs: 9, warmup: 1, reference: { ...splitModel(model, { stages: Object.fromEntries(names.map((n) => [n, 0])) }).stages[0]!, label: 'whole' }, alone: true },
    );
    expect(b2b.referenceMs).toHaveLength(9);
    // Alone: as many runs of each stage, and of the whole model, each on its own.
    expect(b2b.aloneMs!.map((x) => x.length)).toEqual([9, 9]);
    expect(b2b.referenceAloneMs).toHaveLength(9);
    expect([...b2b.aloneMs!.flat(), ...b2b.referenceAloneMs!].every((x) => x > 0)).toBe(true);
    const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    expect(median(b2b.totalMs)).toBeLessThan(median(b2b.stageMs[0]!) + median(b2b.stageMs[1]!) + median(b2b.referenceMs!));
  });

  it('on a machine without room for the whole model beside the stages, nor for a pipeline of them, times the stages alone and says so', async () => {
    const stageOf = Object.fromEntries(dagPlan.flatMap((s, i) => s.nodes.map((n) => [n, i])));
    const predicted = evaluatePlan(problem, dagPlan).stages;
    const { result: v } = await verifyPlan(model, 'sq.onnx', stageOf, ['a', 'b'], predicted, {
      threads: 1, runs: 3, warmup: 1, pipelineFrames: 3, reference: { boards: ['a'], predictedMs: 1 }, availableMemoryBytes: 1,
    });
    expect(v.reference).toBeUndefined();
    expect(v.pipeline).toBeUndefined();
    expect(v.settings.pipelineFrames).toBe(0);
    expect(v.notes).toContainEqual(expect.stringMatching(/^the pipeline was not run: the stages' sessions took \d+ MiB back to back and this machine had 0 MiB left/));
    expect(v.notes).toContainEqual(expect.stringMatching(/^the whole model was not timed beside the stages \(their sessions took \d+ MiB and this machine had 0 MiB left, too little for its session too\): no reference/));
    for (const s of v.stages) {
      expect(s.measuredMs).toBeGreaterThan(0);
      expect(s.scaledError).toBeUndefined();
    }
  });

  it.each([
    [{ boards: ['a', 'zzz'], predictedMs: 1 }, 'reference board "zzz" runs no stage of the plan (boards: a, b)'],
    [{ boards: [], predictedMs: 1 }, 'reference.boards is empty: name the boards of the plan that stand for this machine'],
    [{ boards: ['a'], predictedMs: 0 }, 'reference.predictedMs must be a positive number of ms, got 0'],
  ])('refuses a reference %o', async (reference, message) => {
    const stageOf = Object.fromEntries(dagPlan.flatMap((s, i) => s.nodes.map((n) => [n, i])));
    await expect(verifyPlan(model, 'sq.onnx', stageOf, ['a', 'b'], null, { threads: 1, runs: 1, warmup: 0, pipelineFrames: 0, reference })).rejects.toMatchObject({ code: 'VERIFY_BAD_OPTIONS', message });
  });

  it('runs at the threads this machine\'s board was profiled with, checks its speed, and says when the threads differ', async () => {
    write('here.yaml', ['version: 1', 'name: sq-here', 'model: { file: sq.onnx }', 'boards:', '  - { id: here, measure: { runs: 3, warmup: 1, threads: 1 } }'].join('\n'));
    const r = await run(['verify', '--system', 'here.yaml', '--runs', '2', '--warmup', '0', '--frames', '0', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout) as VerifyResult;
    expect(v.settings.threads).toBe(1);
    // One stage: it is the whole model, its own reference.
    expect(v.reference!.boards).toEqual(['here']);
    expect(v.reference!.predictedMs).toBeCloseTo(v.stages[0]!.predictedMs!, 9);
    expect(v.reference!.measuredMs).toBeCloseTo(v.stages[0]!.measuredMs, 9);
    expect(v.stages[0]!.scaledError).toBeCloseTo(0, 9);
    const two = await run(['verify', '--system', 'here.yaml', '--threads', '2', '--runs', '2', '--warmup', '0', '--frames', '0'], { cwd: dir });
    expect(two.code).toBe(0);
    expect(two.stdout).toContain('note: board here was profiled on this machine at 1 thread, and this run gives each stage 2 threads: its stages\' predictions are for 1 (give --threads 1 to check them)');
    expect(two.stdout).not.toContain('speed: the whole model');
    const none = await run(['verify', '--system', 'here.yaml', '--no-reference', '--runs', '2', '--warmup', '0', '--frames', '0', '--json'], { cwd: dir });
    expect(none.code).toBe(0);
    expect((JSON.parse(none.stdout) as VerifyResult).reference).toBeUndefined();
  });

  it('holds the stages the plan puts on a board not at hand against their prediction on the board profiled here', async () => {
    const prof = await run(['profile', 'sq.onnx', '--board', 'here', '--runs', '3', '--warmup', '1', '--threads', '1', '-o', 'here.profile.json', '-q'], { cwd: dir });
    expect(prof.code, prof.stderr).toBe(0);
    write('mix.yaml', ['version: 1', 'name: sq-mix', 'model: { file: sq.onnx }', 'boards:', '  - { id: here, profile: here.profile.json }', '  - { id: pi, describe: raspberry-pi-5 }', 'network: ethernet-1000base-t', 'objective: throughput'].join('\n'));
    // The DAG plan with its first stage on the Pi, described (no measurement here checks its time there).
    const mixPlan = [{ board: 'pi', nodes: dagPlan[0]!.nodes }, { board: 'here', nodes: dagPlan[1]!.nodes }];
    write('mix.plan.json', { stages: mixPlan });
    const r = await run(['verify', '--plan', 'mix.plan.json', '--system', 'mix.yaml', '--runs', '3', '--warmup', '1', '--frames', '3', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const v = JSON.parse(r.stdout) as VerifyResult;
    // Expected from the join's problem by hand: the stage's node times on here, plus here's boundary of the bytes entering and leaving it.
    const { problem: joined } = buildProblem(await resolveSystem(loadSystem(path.join(dir, 'mix.yaml')), { workDir: path.join(dir, 'mix-work') }));
    const here = joined.boards.find((b) => b.id === 'here')!;
    const planned = evaluatePlan(joined, mixPlan).stages;
    const b = here.boundary!;
    const onHere = mixPlan[0]!.nodes.reduce((a, n) => a + here.latencyMs[n]!, 0) + b.fixedMs + b.inMsPerByte * planned[0]!.inBytes! + b.outMsPerByte * planned[0]!.outBytes!;
    const [s0, s1] = v.stages;
    expect(s0!.predictedMs).toBeCloseTo(planned[0]!.computeMs, 9);
    expect(s0!.here!.board).toBe('here');
    expect(s0!.here!.predictedMs).toBeCloseTo(onHere, 9);
    // The two boards' predictions differ (so the match above is this board's), whatever this machine's speed.
    expect(Math.abs(onHere - planned[0]!.computeMs)).toBeGreaterThan(0.01 * planned[0]!.computeMs);
    expect(s0!.here!.error).toBeCloseTo(onHere / s0!.measuredMs - 1, 9);
    expect(s0!.here!.scaledError).toBeCloseTo((onHere * v.reference!.ratio) / s0!.measuredMs - 1, 9);
    // Alone, the same prediction on here, scaled by the whole model alone.
    expect(s0!.alone!.error).toBeCloseTo(onHere / s0!.alone!.measuredMs - 1, 9);
    expect(s0!.alone!.scaledError).toBeCloseTo((onHere * v.reference!.aloneRatio!) / s0!.alone!.measuredMs - 1, 9);
    expect(s1!.alone!.scaledError).toBeCloseTo((planned[1]!.computeMs * v.reference!.aloneRatio!) / s1!.alone!.measuredMs - 1, 9);
    // The stage on here is the plan's own prediction, checked as before.
    expect(s1!.here).toBeUndefined();
    expect(s1!.error).toBeCloseTo(planned[1]!.computeMs / s1!.measuredMs - 1, 9);
    expect(v.reference!.boards).toEqual(['here']);
    expect(v.here!.board).toBe('here');
    expect(v.here!.stages).toBe(1);
    expect(v.here!.backToBack.predictedLatencyMs).toBeCloseTo(onHere + planned[1]!.computeMs, 9);
    expect(v.here!.backToBack.measuredLatencyMs).toBe(v.backToBack.measuredLatencyMs);
    // This host's pipeline is predicted from the times the stages should take here.
    expect(v.pipeline!.host!.stages.map((x) => x.predictedMs)).toEqual([s0!.here!.predictedMs, s1!.predictedMs]);
    expect(v.notes.join('\n')).toContain('so the stages of other boards than here are held against their prediction on here');
    const rows = formatVerify(v).split('\n');
    expect(rows.find((l) => l.startsWith('stage '))).toContain('on here ms');
    expect(rows.find((l) => /^ +0 +pi /.test(l))).toContain(`${s0!.here!.error >= 0 ? '+' : ''}${(s0!.here!.error * 100).toFixed(1)}%`);
    expect(rows.find((l) => l.startsWith('back to back, every stage on here: latency ms'))).toBeDefined();
    // The report shows the prediction on here beside the Pi's.
    write('mix.problem.json', joined);
    write('mix.json', v);
    expect((await run(['report', '--problem', 'mix.problem.json', '--verify', 'mix.json', '-o', 'rep-mix', '--time-limit', '10'], { cwd: dir })).code).toBe(0);
    const md = readFileSync(path.join(dir, 'rep-mix', 'report.md'), 'utf8').split('\n');
    expect(md).toContain(md.find((l) => l.startsWith('| Run | Stage | Board | Nodes | Predicted | Predicted on the machine verified |')));
    const row = md.find((l) => l.startsWith('| mix.json (') && l.includes('| pi |'))!.split('|').map((c) => c.trim());
    expect(row[6]).toMatch(/^\d+(\.\d+)? ms \(here\)$/);
    expect(row[9]).toMatch(/^[-−+]?\d+\.\d %$/);
    expect(md).toContain(md.find((l) => l.startsWith('| mix.json: stages back to back, predicted on here |')));
    // A plan on the Pi alone: the board profiled here runs none of it, and still predicts it, at its threads.
    write('pi.plan.json', { stages: [{ board: 'pi', nodes: names }] });
    const pi = await run(['verify', '--plan', 'pi.plan.json', '--system', 'mix.yaml', '--runs', '2', '--warmup', '0', '--frames', '0', '--json'], { cwd: dir });
    expect(pi.code, pi.stderr).toBe(0);
    const vp = JSON.parse(pi.stdout) as VerifyResult;
    expect(vp.settings.threads).toBe(1);
    expect(vp.stages[0]!.here!.predictedMs).toBeCloseTo(vp.reference!.predictedMs, 9);
    expect(vp.reference!.boards).toEqual(['here']);
  });

  it('shows a verify result in the report', async () => {
    write('v2.json', (await verify({ model: path.join(dir, 'sq.onnx'), plan: path.join(dir, 'dag.plan.json'), problem: path.join(dir, 'sq.problem.json'), runs: 2, warmup: 0, frames: 2, repeat: 2 }, quietContext(dir))).data);
    const r = await run(['report', '--problem', 'sq.problem.json', '--verify', 'v2.json', '-o', 'rep', '--time-limit', '10'], { cwd: dir });
    expect(r.stderr).not.toMatch(/dnnpart:/);
    expect(r.code).toBe(0);
    const md = readFileSync(path.join(dir, 'rep', 'report.md'), 'utf8');
    expect(md).toMatch(/#### Stages, predicted vs measured \(dnnpart verify\)/);
    expect(md).toMatch(/v2\.json: stages back to back/);
    expect(md).toMatch(/v2\.json: pipeline on \d+ cores/);
    // The same pipeline against the plan's prediction and this host's, each with its own predicted FPS.
    const v2 = JSON.parse(readFileSync(path.join(dir, 'v2.json'), 'utf8')) as VerifyResult;
    const cells = (label: string) => {
      const row = md.split('\n').find((l) => l.startsWith(`| ${label} |`));
      expect(row, label).toBeDefined();
      return row!.split('|').slice(2, 4).map((c) => Number(c.replace(/[^\d.]/g, '')));
    };
    for (const [label, predicted] of [['v2.json: pipeline, plan\'s prediction (a board per stage)', v2.pipeline!.planFps!], ['v2.json: pipeline, predicted for this host (shared cores, handoffs)', v2.pipeline!.host!.predictedFps]] as const) {
      const [p, m] = cells(label);
      expect(Math.abs(p! - predicted)).toBeLessThanOrEqual(0.5);
      expect(Math.abs(m! - v2.pipeline!.measuredFps)).toBeLessThanOrEqual(0.5);
      // The pipeline ran twice (--repeat 2): the slowest and fastest run beside their median.
      const range = md.split('\n').find((l) => l.startsWith(`| ${label} |`))!.split('|')[4]!.trim().split('–').map((c) => Number(c.replace(/[^\d.]/g, '')));
      const fps = v2.pipeline!.runs!.map((x) => x.fps);
      expect(Math.abs(range[0]! - Math.min(...fps))).toBeLessThanOrEqual(0.5);
      expect(Math.abs(range[1]! - Math.max(...fps))).toBeLessThanOrEqual(0.5);
    }
    expect(md).toContain('| Runs (slowest–fastest) |');
    // What verify noted about its measurement stands under its stages, in both documents.
    expect(v2.notes).toContainEqual(expect.stringMatching(/^predicted times are for each stage's board \(a, b\)/));
    const html = readFileSync(path.join(dir, 'rep', 'report.html'), 'utf8');
    expect(md).toContain('v2.json (dnnpart verify) noted:');
    for (const n of v2.notes) {
      expect(md).toContain(`- ${n.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;')}`);
      expect(html).toContain(`<li>${n.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')}</li>`);
    }
    // Latency: the plan's is the stages' sum; this host's counts the waits in the full queues, as the measured one does.
    const latencyCell = (label: string) => Number(md.split('\n').find((l) => l.startsWith(`| ${label} |`))!.split('|')[6]!.replace(/[^\d.]/g, ''));
    expect(latencyCell('v2.json: pipeline, plan\'s prediction (a board per stage)') / v2.pipeline!.predictedLatencyMs! - 1).toBeCloseTo(0, 2);
    expect(latencyCell('v2.json: pipeline, predicted for this host (shared cores, handoffs)') / v2.pipeline!.host!.latencyMs - 1).toBeCloseTo(0, 2);
    // Back to back is not repeated: no range.
    expect(md.split('\n').find((l) => l.startsWith('| v2.json: stages back to back |'))!.split('|')[4]!.trim()).toBe('—');
    expect(md).not.toContain('Error at the measured speed');
    // verify measured each stage's memory (on by default): the plan's beside it, in the stages table.
    expect(md).toContain('| Memory: plan without frames in flight | Memory: measured | Memory error |');
    for (const st of v2.stages) expect(st.memory!.peakBytes).toBeGreaterThan(0);
    // A plan on one board of the problem: verify checks the machine's speed with the whole model, and the report shows both errors.
    write('one.plan.json', { stages: [{ board: 'a', nodes: names }] });
    const one = (await verify({ model: path.join(dir, 'sq.onnx'), plan: path.join(dir, 'one.plan.json'), problem: path.join(dir, 'sq.problem.json'), runs: 2, warmup: 0, frames: 0 }, quietContext(dir))).data;
    expect(one.reference!.boards).toEqual(['a']);
    write('one.json', one);
    expect((await run(['report', '--problem', 'sq.problem.json', '--verify', 'one.json', '-o', 'rep3', '--time-limit', '10'], { cwd: dir })).code).toBe(0);
    const md3 = readFileSync(path.join(dir, 'rep3', 'report.md'), 'utf8');
    expect(md3).toContain('| Error at the measured speed |');
    expect(md3).toContain(`one.json (1 thread, 2 runs; whole model x${one.reference!.ratio.toFixed(2)} its prediction)`);
    const bad = await run(['report', '--problem', 'sq.problem.json', '--verify', 'sq.problem.json', '-o', 'rep2'], { cwd: dir });
    expect(bad.stderr).toBe('dnnpart: --verify sq.problem.json: not a dnnpart verify result (schema dnnpart/verify@1); write one with dnnpart verify -o <file>\n');
    expect(bad.code).toBe(2);
  });

  it('shows a run on the agents (dnnpart run --json) beside its prediction', async () => {
    // The fields of @dnnpart/runtime's RunResult that the report reads.
    write('run.json', { frames: 40, throughputFps: 51.5, latencyMs: { p50: 30.25, p95: 41 }, predicted: { throughputFps: 50, latencyMs: 25 }, maxAbsDiff: 0, stages: [] });
    const r = await run(['report', '--problem', 'sq.problem.json', '--run', 'run.json', '-o', 'rep3', '--time-limit', '10'], { cwd: dir });
    expect(r.stderr).not.toMatch(/dnnpart:/);
    expect(r.code).toBe(0);
    const md = readFileSync(path.join(dir, 'rep3', 'report.md'), 'utf8');
    const row = md.split('\n').find((l) => l.includes('run.json: run on the agents (40 frames)'));
    expect(row).toBeDefined();
    expect(row).toBe('| run.json: run on the agents (40 frames) | 50.0 FPS | 51.5 FPS | +3.0 % | 25.0 ms | 30.3 ms | +21.0 % |');
    // No stages in it: no table of them.
    expect(md).not.toContain('Stages on the agents');
    // With its stages: each one's compute and memory on its agent beside the plan's (error: predicted / measured - 1).
    const stage = (k: number, agent: string, measured: number, predicted: number | null, memory: object | undefined) => ({
      stage: k, agent, nodes: 3, computeMs: { measured, p95: measured, predicted },
      transferIn: { from: 'coordinator', bytes: 4, measuredMs: 1, waitingMs: 0, predictedMs: null }, ...(memory ? { memory } : {}),
    });
    write('run2.json', {
      frames: 40, throughputFps: 51.5, latencyMs: { p50: 30.25, p95: 41 }, predicted: { throughputFps: 50, latencyMs: 25 }, maxAbsDiff: 0,
      sharedMachines: [{ host: 'loopback', agents: ['a', 'b'], cores: 2 }],
      stages: [
        stage(0, 'a', 10, 12, { loadedBytes: 1e6, peakBytes: 3e6, predictedBytes: 4e6, predictedFramesBytes: 1e6, preoptimised: true, alone: { loadedBytes: 3e6, peakBytes: 5e6 } }),
        stage(1, 'b', 8, null, undefined),
      ],
    });
    const r2 = await run(['report', '--problem', 'sq.problem.json', '--run', 'run2.json', '-o', 'rep5', '--time-limit', '10'], { cwd: dir });
    expect(r2.code, r2.stderr).toBe(0);
    const md2 = readFileSync(path.join(dir, 'rep5', 'report.md'), 'utf8');
    expect(md2).toContain('#### Stages on the agents, predicted vs measured (dnnpart run)');
    // Memory: the plan's (frames in flight included) against the agent's peak while frames streamed, and
    // without its frames against the stage alone on the board.
    expect(md2).toContain('| Run | Stage | Agent | Compute: predicted | Measured (median) | Error | Memory: plan | On the agent while streaming | Error | Plan without frames in flight | Alone on the board | Error |');
    expect(md2).toContain('| run2.json: run on the agents (40 frames) | 0 | a | 12.0 ms | 10.0 ms | +20.0 % | 4.00 MB | 3.00 MB | +33.3 % | 3.00 MB | 5.00 MB | −40.0 % |');
    expect(md2).toContain('| run2.json: run on the agents (40 frames) | 1 | b | — | 8.00 ms | — | — | — | — | — | — | — |');
    const html2 = readFileSync(path.join(dir, 'rep5', 'report.html'), 'utf8');
    expect(html2).toContain('Stages on the agents, predicted vs measured (dnnpart run)');
    // Agents on one machine: the report says their stages shared its cores.
    const shared = "run2.json: run on the agents (40 frames): agents a, b ran on one machine (the coordinator's, 2 cores) and shared its cores, which a plan of one board per stage does not price";
    expect(md2).toContain(`- ${shared}`);
    expect(html2).toContain(shared.replace("'", '&#39;'));
    expect(readFileSync(path.join(dir, 'rep3', 'report.md'), 'utf8')).not.toContain('ran on one machine');
    // An agent that could not measure the stage alone: its peak while streaming still stands beside the plan.
    write('run4.json', { frames: 40, throughputFps: 51.5, latencyMs: { p50: 30.25, p95: 41 }, predicted: { throughputFps: 50, latencyMs: 25 }, maxAbsDiff: 0, stages: [stage(0, 'a', 10, 12, { loadedBytes: 1e6, peakBytes: 3e6, predictedBytes: 4e6 })] });
    const r4 = await run(['report', '--problem', 'sq.problem.json', '--run', 'run4.json', '-o', 'rep7', '--time-limit', '10'], { cwd: dir });
    expect(r4.code, r4.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'rep7', 'report.md'), 'utf8')).toContain('| run4.json: run on the agents (40 frames) | 0 | a | 12.0 ms | 10.0 ms | +20.0 % | 4.00 MB | 3.00 MB | +33.3 % | 4.00 MB | — | — |');
    // A stage field that is not what run writes is named.
    write('run3.json', { frames: 40, throughputFps: 51.5, latencyMs: { p50: 30.25 }, stages: [stage(0, 'a', 10, 12, { predictedBytes: 4e6, alone: { peakBytes: 'x' } })] });
    const r3 = await run(['report', '--problem', 'sq.problem.json', '--run', 'run3.json', '-o', 'rep6', '--time-limit', '10'], { cwd: dir });
    expect(r3.stderr).toBe('dnnpart: --run run3.json: stages[0].memory.alone.peakBytes: must be a non-negative number; write the file with dnnpart run --json > run.json\n');
    expect(r3.code).toBe(2);
    write('run5.json', { frames: 40, throughputFps: 51.5, latencyMs: { p50: 30.25 }, sharedMachines: [{ host: 'loopback', agents: 'a,b', cores: 2 }] });
    const r5 = await run(['report', '--problem', 'sq.problem.json', '--run', 'run5.json', '-o', 'rep8', '--time-limit', '10'], { cwd: dir });
    expect([r5.code, r5.stderr]).toEqual([2, 'dnnpart: --run run5.json: sharedMachines: must be a list of { host, agents, cores }; write the file with dnnpart run --json > run.json\n']);
    const bad = await run(['report', '--problem', 'sq.problem.json', '--run', 'sq.problem.json', '-o', 'rep4'], { cwd: dir });
    expect(bad.stderr).toBe('dnnpart: --run sq.problem.json: not a dnnpart run result (frames, throughputFps, latencyMs.p50); write one with dnnpart run --json > run.json\n');
    expect(bad.code).toBe(2);
  });
});

describe('the pipeline predicted for this host', () => {
  // Periods worked out by hand: a fluid share of the cores among the running stages, queues of one frame.
  it.each([
    { name: 'two one-core stages on two cores run side by side', stage: [4, 4], handoff: [0.5, 0.5], par: [1, 1], cores: 2, eff: 1, period: 4.5, concurrency: 2, busy: 2 },
    { name: 'two one-core stages on one core add up', stage: [4, 4], handoff: [0.5, 0.5], par: [1, 1], cores: 1, eff: 1, period: 9, concurrency: 2, busy: 1 },
    { name: 'three stages on two cores share them', stage: [3, 3, 3], handoff: [0, 0, 0], par: [1, 1, 1], cores: 2, eff: 1, period: 4.5, concurrency: 3, busy: 2 },
    { name: 'three stages on two cores that lose a tenth to sharing', stage: [3, 3, 3], handoff: [0, 0, 0], par: [1, 1, 1], cores: 2, eff: 0.9, period: 5, concurrency: 3, busy: 1.8 },
    { name: 'one dominant stage keeps its own time', stage: [9, 1], handoff: [0, 0], par: [1, 1], cores: 2, eff: 1, period: 9, concurrency: 10 / 9, busy: 10 / 9 },
    { name: 'one dominant stage on one core shares it while the other runs', stage: [9, 1], handoff: [0, 0], par: [1, 1], cores: 1, eff: 1, period: 10, concurrency: 1.2, busy: 1 },
    { name: 'two two-core stages on two cores ask for four', stage: [4, 4], handoff: [0, 0], par: [2, 2], cores: 2, eff: 1, period: 8, concurrency: 2, busy: 2 },
    { name: 'two two-core stages given an efficiency over 1', stage: [4, 4], handoff: [0, 0], par: [2, 2], cores: 2, eff: 1.5, period: 16 / 3, concurrency: 2, busy: 3 },
    { name: 'a handoff makes a stage the slowest', stage: [5, 4], handoff: [0.2, 2], par: [1, 1], cores: 2, eff: 1, period: 6, concurrency: 11.2 / 6, busy: 11.2 / 6 },
  ])('$name', ({ stage, handoff, par, cores, eff, period, concurrency, busy }) => {
    const p = hostPipelinePeriodMs(stage, handoff, par, cores, eff);
    expect(p.stageMs).toEqual(stage.map((t, i) => t + handoff[i]!));
    expect(p.periodMs).toBeCloseTo(period, 9);
    expect(p.concurrency).toBeCloseTo(concurrency, 9);
    expect(p.busyCores).toBeCloseTo(busy, 9);
    expect(p.slowdown).toBeCloseTo(period / Math.max(...p.stageMs), 9);
  });

  it('lets a stage that finished early wait for room (queues of one frame), leaving its core idle', () => {
    // Stage 0 (1 ms) can run at most one frame ahead of stage 1 (5 ms): the period is stage 1's, and
    // stage 0 is busy 1 ms of every 5.
    const p = hostPipelinePeriodMs([1, 5], [0, 0], [1, 1], 2, 1);
    expect(p.periodMs).toBeCloseTo(5, 9);
    expect(p.concurrency).toBeCloseTo(6 / 5, 9);
    // A deeper queue does not change a period set by the slowest stage.
    expect(hostPipelinePeriodMs([1, 5], [0, 0], [1, 1], 2, 1, 3).periodMs).toBeCloseTo(5, 9);
  });

  it('predicts a saturated pipeline\'s latency with the waits in its full queues', () => {
    // Stage 1 (5 ms) sets the pace: a frame waits a period in the first queue, runs 1 ms and holds
    // its frame the rest of a period, waits a period in the second queue, and runs 5 ms: 4 periods.
    expect(hostPipelinePeriodMs([1, 5], [0, 0], [1, 1], 2, 1).latencyMs).toBeCloseTo(20, 9);
    // The slow stage first: a period in the first queue, then 5 + 1 ms.
    expect(hostPipelinePeriodMs([5, 1], [0, 0], [1, 1], 2, 1).latencyMs).toBeCloseTo(11, 9);
    // Queues of three: eight frames in the pipeline (three queued and one held or running per stage), one out every 5 ms.
    expect(hostPipelinePeriodMs([1, 5], [0, 0], [1, 1], 2, 1, 3).latencyMs).toBeCloseTo(40, 9);
  });

  it.each([
    { name: 'an efficiency of 0', call: () => hostPipelinePeriodMs([1, 2], [0, 0], [1, 1], 2, 0), message: 'host prediction: the efficiency must be > 0, got 0' },
    { name: 'stage and handoff counts that differ', call: () => hostPipelinePeriodMs([1, 2], [0.1], [1, 1], 2, 1), message: 'host prediction: 2 stage times but 1 handoff costs and 2 parallelisms' },
    { name: 'a negative stage time', call: () => hostPipelinePeriodMs([-1, 2], [0, 0], [1, 1], 2, 1), message: 'host prediction: stage times and handoffs must be >= 0, parallelism and cores > 0, the queue an integer >= 1' },
  ])('refuses $name', ({ call, message }) => {
    expect(call).toThrow(message);
  });

  it.each([
    { name: 'a pipeline that got four fifths of a fluid share', efficiency: 0.8, held: 0.8 },
    { name: 'an efficiency over 1 (work the calibration model wasted alone), held to 1', efficiency: 1.3, held: 1 },
  ])('prices handoffs and shared cores from $name', ({ efficiency, held }) => {
    const cal: HostCalibration = {
      schema: 'dnnpart/host-calibration@2', cpu: 'test', cores: 2, threads: 1, loadBefore: 0, loadAfter: 0,
      handoff: { mode: 'transfer', fixedMs: 0.05, msPerByte: 1e-7, fitR2: 1, samples: [] },
      capacity: { model: 'm', sessionThreads: 1, singleMs: 2, cpuMs: 2, parallelism: 1, samples: [{ stages: 2, periodMs: 2.5 / efficiency, fluidMs: 2.5, efficiency }] },
    };
    expect(capacityEfficiency(cal, 2)).toBe(held);
    // One stage, and more stages than calibrated: 1, and the longest pipeline calibrated.
    expect(capacityEfficiency(cal, 1)).toBe(1);
    expect(capacityEfficiency(cal, 5)).toBe(held);
    // Stage 0: 4 ms and 2 MB handed on (0.05 + 0.2 ms); stage 1: 3.75 ms and 1.5 MB received (0.05 + 0.15 ms).
    const h = hostPrediction([4, 3.75], [2e6, 1.5e6], cal, { fps: 200, medianFps: 250 });
    expect(h.stages).toEqual([{ predictedMs: 4, parallelism: 1, handoffBytes: 2e6, handoffMs: 0.25 }, { predictedMs: 3.75, parallelism: 1, handoffBytes: 1.5e6, handoffMs: 0.2 }]);
    const sim = hostPipelinePeriodMs([4, 3.75], [0.25, 0.2], [1, 1], 2, held);
    expect(h.periodMs).toBeCloseTo(sim.periodMs, 12);
    // Full efficiency: the slower stage alone; less: slower than that.
    if (held === 1) expect(h.periodMs).toBeCloseTo(4.25, 9);
    else expect(h.periodMs).toBeGreaterThan(4.25);
    expect(h.efficiency).toBe(held);
    expect(h.effectiveCores).toBeCloseTo(sim.busyCores, 12);
    expect(h.predictedFps).toBeCloseTo(1000 / h.periodMs, 9);
    expect(h.fpsError).toBeCloseTo(1000 / h.periodMs / 200 - 1, 12);
    expect(h.fpsErrorMedian).toBeCloseTo(1000 / h.periodMs / 250 - 1, 12);
  });

  it.each([
    { name: 'one thread', threads: 1, cores: 2, speedup: 1, want: 1 },
    { name: 'no speedup measured: every thread a core', threads: 2, cores: 2, speedup: undefined, want: 2 },
    { name: 'a second thread that buys 1.3x, and wastes half a core', threads: 2, cores: 2, speedup: 1.3, want: 1.3 + EXTRA_THREAD_CORES },
    { name: 'a second thread that buys 1.8x: at most its threads', threads: 2, cores: 2, speedup: 1.8, want: 2 },
    { name: 'a second thread that slows it down: at least a core', threads: 2, cores: 2, speedup: 0.4, want: 1 },
    { name: 'four threads on two cores: at most the cores', threads: 4, cores: 2, speedup: 1.2, want: 1.2 + EXTRA_THREAD_CORES },
  ])('a stage keeps busy what its threads buy it plus what they waste: $name', ({ threads, cores, speedup, want }) => {
    expect(stageCores(threads, cores, speedup)).toBeCloseTo(want, 12);
  });

  it('prices two-thread stages by what their threads buy them', () => {
    const cal: HostCalibration = {
      schema: 'dnnpart/host-calibration@2', cpu: 'test', cores: 2, threads: 2, loadBefore: 0, loadAfter: 0,
      handoff: { mode: 'transfer', fixedMs: 0, msPerByte: 0, fitR2: 1, samples: [] },
      capacity: { model: 'm', sessionThreads: 2, singleMs: 2, cpuMs: 3, parallelism: 2, samples: [{ stages: 2, periodMs: 2.8, fluidMs: 2.8, efficiency: 1 }] },
    };
    const h = hostPrediction([4, 4], [0, 0], cal, { fps: 100, speedups: [1.8, 0.9] });
    expect(h.stages.map((x) => [x.parallelism, x.speedup])).toEqual([[2, 1.8], [1.4, 0.9]]);
    // Both stages run all the time, asking for 2 + 1.4 cores of 2: each frame takes (4 x 2 + 4 x 1.4) / 2 ms.
    expect(h.periodMs).toBeCloseTo((4 * 2 + 4 * 1.4) / 2, 6);
    // Without speedups, both threads of each stage hold a core: 8 ms.
    expect(hostPrediction([4, 4], [0, 0], cal, { fps: 100 }).periodMs).toBeCloseTo(8, 6);
  });

  it.each([
    { threads: 1, cores: 2, want: 1 },
    { threads: 2, cores: 2, want: 2 },
    { threads: 4, cores: 2, want: 2 },
  ])('a stage of $threads thread(s) on $cores cores holds $want', ({ threads, cores, want }) => {
    expect(stageParallelism(threads, cores)).toBe(want);
  });

  it('counts the bytes each pipeline stage receives and sends on, relays included', () => {
    const branch = names.findIndex((n) => n.includes('expand3x3'));
    const s1 = [names[branch]!, names[branch + 1]!];
    const s0 = names.slice(0, branch + 2).filter((n) => !s1.includes(n));
    const stageOf = Object.fromEntries(names.map((n) => [n, s0.includes(n) ? 0 : s1.includes(n) ? 1 : 2]));
    const split = splitModel(model, { stages: stageOf });
    const size = (n: string) => model.graph.tensors.get(n)!.bytes;
    const [a, b, c] = split.stages.map((s) => s.inputs);
    // Stage 1 reads one tensor of stage 0; stage 2 reads another of stage 0 (relayed by stage 1) and stage 1's output.
    expect(a).toEqual(['input']);
    expect(b).toHaveLength(1);
    const relayed = c!.filter((x) => split.stages[0]!.outputs.includes(x));
    const fromStage1 = c!.filter((x) => split.stages[1]!.outputs.includes(x));
    expect(relayed).toHaveLength(1);
    expect(fromStage1).toHaveLength(1);
    const feeds = { input: { data: new Float32Array(3 * 64 * 64) } };
    const sent0 = size(b![0]!) + size(relayed[0]!);
    const sent1 = size(relayed[0]!) + size(fromStage1[0]!);
    expect(handoffBytes(model, split.stages, feeds)).toEqual([3 * 64 * 64 * 4 + sent0, sent0 + sent1, sent1]);
    expect(sent0).toBeGreaterThan(0);
  });

  let cal: HostCalibration;
  it('calibrates this host: handoff samples and side-by-side speedups, all positive', async () => {
    cal = await calibrateHost({ threads: 1, sessions: 2, sizes: [4, 65536, 1 << 20], frames: 8, capacityFrames: 8, rounds: 2 });
    expect(cal.handoff.mode).toBe('transfer');
    expect(cal.handoff.samples.map((x) => x.bytes)).toEqual([4, 65536, 1 << 20]);
    for (const x of cal.handoff.samples) {
      expect(x.periodMs).toBeGreaterThan(0);
      expect(x.runMs).toBeGreaterThan(0);
      expect(x.ms).toBeCloseTo(Math.max(0, x.periodMs - x.runMs), 12);
    }
    expect(cal.handoff.fixedMs + cal.handoff.msPerByte).toBeGreaterThan(0);
    expect(cal.handoff.msPerByte).toBeGreaterThanOrEqual(0);
    expect(cal.capacity.singleMs).toBeGreaterThan(0);
    expect(cal.capacity.cpuMs).toBeGreaterThan(0);
    expect(cal.capacity.sessionThreads).toBe(1);
    expect(cal.capacity.parallelism).toBe(1);
    // Pipelines of 2..sessions stages, each against the fluid share worked out from the model alone.
    expect(cal.capacity.samples.map((x) => x.stages)).toEqual([2]);
    const x = cal.capacity.samples[0]!;
    const inputBytes = 3 * 160 * 160 * 4;
    const h = [2 * inputBytes, inputBytes].map((b) => cal.handoff.fixedMs + cal.handoff.msPerByte * b);
    expect(x.fluidMs).toBeCloseTo(hostPipelinePeriodMs([cal.capacity.singleMs, cal.capacity.singleMs], h, [1, 1], cal.cores, 1).periodMs, 12);
    expect(x.periodMs).toBeGreaterThan(0);
    expect(x.efficiency).toBeCloseTo(x.fluidMs / x.periodMs, 12);
  });

  it('sizes the capacity model for a plan\'s stages: its side, its frames, its cores from its own speedup', async () => {
    // Time goes with the pixels: four times the time, twice the side; held to 32..512, rounded to 8.
    expect(capacitySizeFor(2, 2)).toBe(160);
    expect(capacitySizeFor(8, 2)).toBe(320);
    expect(capacitySizeFor(1, 2)).toBe(112);
    expect(capacitySizeFor(0.01, 2)).toBe(32);
    expect(capacitySizeFor(500, 2)).toBe(512);
    expect(capacitySizeFor(0, 2)).toBe(160);
    // Sized for a plan, only a pipeline of its stage count is timed; longer stages take longer.
    expect(calibrationSeconds({ stageMs: [2, 2, 2] })).toBeLessThan(calibrationSeconds({ sessions: 3 }) + 1);
    expect(calibrationSeconds({ stageMs: [20, 20] })).toBeGreaterThan(calibrationSeconds({ stageMs: [2, 2] }));
    await expect(calibrateHost({ threads: 1, stageMs: [] })).rejects.toThrow('host calibration option stageMs needs one time (ms, >= 0) per stage, got []');
    await expect(calibrateHost({ threads: 1, stageMs: [1, Number.NaN] })).rejects.toThrow('host calibration option stageMs needs one time (ms, >= 0) per stage, got [1, NaN]');

    const c = await calibrateHost({ threads: 2, sessions: 4, stageMs: [0.2, 0.4, 0.3], sizes: [4, 65536, 1 << 20], frames: 6, capacityFrames: 6, rounds: 1 });
    expect(c.capacity.targetMs).toBeCloseTo(0.3, 12);
    const side = Number(/^squeezenet1_1 1x3x(\d+)x\1$/.exec(c.capacity.model)![1]);
    expect(side % 8).toBe(0);
    expect(side).toBeGreaterThanOrEqual(32);
    expect(side).toBeLessThanOrEqual(512);
    // The plan has 3 stages: no pipeline of 2, none of 4 (sessions is the plan's stage count).
    expect(c.capacity.samples.map((x) => x.stages)).toEqual([3]);
    // Above one thread it keeps busy the cores its own speedup says, as the plan's stages are priced.
    expect(c.capacity.speedup!).toBeGreaterThan(0);
    expect(c.capacity.parallelism).toBe(stageCores(2, c.cores, c.capacity.speedup));
    const inputBytes = 3 * side * side * 4;
    const h = [2 * inputBytes, 2 * inputBytes, inputBytes].map((b) => c.handoff.fixedMs + c.handoff.msPerByte * b);
    const x = c.capacity.samples[0]!;
    expect(x.fluidMs).toBeCloseTo(hostPipelinePeriodMs(Array(3).fill(c.capacity.singleMs), h, Array(3).fill(c.capacity.parallelism), c.cores, 1).periodMs, 12);
    // Unsized (no stageMs): no target, no speedup, every thread a core.
    expect(cal.capacity.targetMs).toBeUndefined();
    expect(cal.capacity.speedup).toBeUndefined();
    expect(cal.capacity.model).toBe('squeezenet1_1 1x3x160x160');
  });

  it('predicts with a calibration given, and refuses one made for other settings', async () => {
    const stageOf = Object.fromEntries(dagPlan.flatMap((s, i) => s.nodes.map((n) => [n, i] as const)));
    const predicted = evaluatePlan(problem, dagPlan).stages;
    const { result } = await verifyPlan(model, 'sq.onnx', stageOf, ['a', 'b'], predicted, { threads: 1, runs: 2, warmup: 1, pipelineFrames: 3, host: cal });
    expect(result.hostCalibration).toEqual(cal);
    const h = result.pipeline!.host!;
    expect(h.handoffFixedMs).toBe(cal.handoff.fixedMs);
    expect(h.handoffMsPerByte).toBe(cal.handoff.msPerByte);
    expect(h.efficiency).toBe(capacityEfficiency(cal, 2));
    const split = splitModel(model, { stages: stageOf });
    const bytes = handoffBytes(model, split.stages, { input: { data: new Float32Array(3 * 64 * 64) } });
    expect(h.stages).toEqual(predicted.map((s, i) => ({ predictedMs: s.computeMs, parallelism: 1, handoffBytes: bytes[i], handoffMs: cal.handoff.fixedMs + cal.handoff.msPerByte * bytes[i]! })));
    expect(h.periodMs).toBeCloseTo(hostPipelinePeriodMs(predicted.map((s) => s.computeMs), h.stages.map((x) => x.handoffMs), [1, 1], cal.cores, h.efficiency).periodMs, 12);
    // No one-thread pass at one thread.
    expect(result.stages.every((s) => s.singleThreadMs === undefined)).toBe(true);

    // Two threads a stage: each stage is timed at one thread too, and what its threads buy it moves the cores it keeps busy.
    await expect(calibrateHost({ threads: 2, sizes: [4, 65536] })).rejects.toThrow('host calibration option sizes needs at least 3 sizes of >= 4 bytes');
    const cal2 = await calibrateHost({ threads: 2, sessions: 2, sizes: [4, 65536, 1 << 20], frames: 6, capacityFrames: 6, rounds: 1 });
    const two = (await verifyPlan(model, 'sq.onnx', stageOf, ['a', 'b'], predicted, { threads: 2, runs: 2, warmup: 1, pipelineFrames: 3, host: cal2 })).result;
    const speedups = two.stages.map((s) => s.singleThreadMs! / s.measuredMs);
    expect(two.stages.every((s) => s.singleThreadMs! > 0)).toBe(true);
    expect(two.pipeline!.host!.stages.map((x) => x.speedup)).toEqual(speedups);
    expect(two.pipeline!.host!.stages.map((x) => x.parallelism)).toEqual(speedups.map((s) => stageCores(2, cal2.cores, s)));
    // Stages their second thread slows down (under 0.9 of their one-thread speed) are named in a note.
    const slowed = speedups.flatMap((s, i) => (s < 0.9 ? [i] : []));
    const note = two.notes.find((n) => n.includes('ran slower at 2 threads than at 1'));
    expect(note === undefined ? [] : note.replace(/^stages? ([\d, ]+) ran.*$/, '$1').split(', ').map(Number)).toEqual(slowed);

    const none = await verifyPlan(model, 'sq.onnx', stageOf, ['a', 'b'], predicted, { threads: 1, runs: 1, warmup: 0, pipelineFrames: 2, host: false });
    expect(none.result.pipeline!.host).toBeUndefined();
    expect(none.result.hostCalibration).toBeUndefined();
    await expect(verifyPlan(model, 'sq.onnx', stageOf, ['a', 'b'], predicted, { threads: 2, runs: 1, warmup: 0, pipelineFrames: 2, host: cal }))
      .rejects.toThrow('the host calibration is for 1 thread(s) and handoff transfer, this run uses 2 and transfer; calibrate again');
  });
});
