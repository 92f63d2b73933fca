// Three agents as separate processes on loopback: facts, link tests, profiles, and pipelined runs
// of SqueezeNet 1.1 (prefix cuts and DAG plans) whose outputs must equal the unsplit model's.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { THREAD_PROBE_SKIP_MS } from '@dnnpart/profiler';
import { parseSystem } from '@dnnpart/report';
import * as ort from 'onnxruntime-node';
import { decodeInt8, decodeModel, encodeInt8, encodeModel, graphCosts, halfRound, loadModel, maxAbsDiff, randomFeeds, runModel, splitModel, writeModelFile } from '@dnnpart/onnx-graph';
import { externalModels } from '@dnnpart/zoo';
import { OPTIMISED_REFERENCE_ABOVE, checkAgents, connectAgent, forwardSets, linksYaml, measureLinks, profileOnAgents, runPlan, stageMapFromPlan, type AgentClient, type AgentEndpoint, type RunPlan } from '@dnnpart/runtime';
import { ensureBuilt, spawnAgent, type SpawnedAgent } from './_agents.js';
import { branchPlan, earlyOutputModel, isPrefixCut, prefixPlan, squeezenet } from './_models.js';

let agents: SpawnedAgent[] = [];
const dir = mkdtempSync(path.join(tmpdir(), 'dnnpart-runtime-'));

beforeAll(async () => {
  ensureBuilt();
  // a and b load onnxruntime's saved optimised graph (the default), c each stage as sent. a runs every
  // stage's session in a thread of its own, c on its main thread, b where its run time says (the
  // default: SqueezeNet's stages are short, so mostly on its main thread).
  const place: Record<string, string | undefined> = { a: 'worker', b: undefined, c: 'main' };
  agents = await Promise.all(['a', 'b', 'c'].map((id) => spawnAgent(id, id === 'c' ? ['--no-preoptimise'] : [], {
    env: { ...process.env, DNNPART_MALLOC: 'as-is', ...(place[id] ? { DNNPART_STAGE_SESSION: place[id] } : {}) },
  })));
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill()));
});
const endpoints = () => agents.map((a) => a.endpoint);

describe('agents on loopback', () => {
  it('each answers Info with its board name, onnxruntime version and the CPU engine', async () => {
    const status = await checkAgents(endpoints());
    expect(status.map((s) => [s.id, s.ok, s.info?.board.name, s.info?.engines.includes('onnxruntime-cpu'), s.info?.stages])).toEqual([
      ['a', true, 'a', true, 0],
      ['b', true, 'b', true, 0],
      ['c', true, 'c', true, 0],
    ]);
    expect(status[0]!.info!.onnxruntime).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('measures both directed links, and its links file is a system file\'s linksFile', async () => {
    const links = await measureLinks(endpoints().slice(0, 2), { sizes: [1024, 65536, 1 << 20], repeats: 2 });
    expect(links.map((l) => `${l.from}->${l.to}`)).toEqual(['a->b', 'b->a']);
    for (const l of links) {
      expect(l.samples.map((s) => s.bytes)).toEqual([1024, 65536, 1 << 20]);
      expect(l.bandwidthBytesPerSec).toBeGreaterThan(0);
      expect(l.latencyMs).toBeCloseTo(l.rttMs / 2, 10);
    }
    const linksFile = path.join(dir, 'links.yaml');
    writeFileSync(linksFile, linksYaml(links));
    const sys = parseSystem(
      ['version: 1', 'model: { zoo: squeezenet1_1 }', 'boards:', '  - { id: a, describe: ci-x86-2core }', '  - { id: b, describe: ci-x86-2core }', 'linksFile: links.yaml', 'links:', '  - { from: b, to: a, bandwidthBytesPerSec: 5, latencyMs: 1, powerW: 0 }', ''].join('\n'),
      path.join(dir, 'system.yaml'),
    );
    // The file's links come first; the system's own `links` override the same pair.
    expect(sys.links.map((l) => [l.from, l.to, l.bandwidthBytesPerSec, l.framing])).toEqual([
      ['a', 'b', Math.round(links[0]!.bandwidthBytesPerSec), 'none'],
      ['b', 'a', Math.round(links[1]!.bandwidthBytesPerSec), 'none'],
      ['b', 'a', 5, undefined],
    ]);
  });

  it('profiles a model on two agents at once, each profile of that very model', async () => {
    const { bytes, model } = await squeezenet();
    const file = path.join(dir, 'squeezenet1_1.onnx');
    writeFileSync(file, bytes);
    const profiles = await profileOnAgents(endpoints().slice(0, 2), file, { runs: 2, warmup: 1, threads: 1 });
    expect(profiles.map((p) => [p.id, p.profile.board.name, p.profile.model.sha256])).toEqual([
      ['a', 'a', model.sha256],
      ['b', 'b', model.sha256],
    ]);
    for (const p of profiles) expect(p.profile.endToEnd.medianMs).toBeGreaterThan(0);
  });

  it('profiles a model that keeps its weights in files beside it: the files follow the model to the agent', async () => {
    // As exporters write a model over 2 GB: SqueezeNet's weights in a data file, half of them moved to
    // a second file in a folder of its own (as a model written one file a tensor names them).
    const { bytes, model } = await squeezenet();
    const sub = mkdtempSync(path.join(dir, 'external-'));
    const [file, dataFile] = writeModelFile(decodeModel(bytes), path.join(sub, 'squeezenet_ext.onnx'), 0) as [string, string];
    const proto = decodeModel(readFileSync(file));
    const data = readFileSync(dataFile);
    const moved: Buffer[] = [];
    let offset = 0;
    for (const t of proto.graph!.initializer.filter((x) => x.externalData.length > 0).filter((_, i) => i % 2 === 1)) {
      const kv = new Map(t.externalData.map((e) => [e.key, Number(e.value)]));
      moved.push(data.subarray(kv.get('offset')!, kv.get('offset')! + kv.get('length')!));
      for (const e of t.externalData) e.value = e.key === 'location' ? 'w/odd.bin' : e.key === 'offset' ? String(offset) : e.value;
      offset += kv.get('length')!;
    }
    expect(moved.length).toBeGreaterThan(10);
    mkdirSync(path.join(sub, 'w'));
    writeFileSync(path.join(sub, 'w', 'odd.bin'), Buffer.concat(moved));
    writeFileSync(file, encodeModel(proto));

    const [p] = await profileOnAgents([endpoints()[0]!], file, { runs: 2, warmup: 1, threads: 1 });
    expect(p!.profile.model.name).toBe('squeezenet_ext');
    expect(p!.profile.model.sha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    expect(new Set(p!.profile.nodes.map((n) => n.name))).toEqual(new Set(model.graph.nodes.map((n) => n.name)));
    expect(p!.profile.endToEnd.medianMs).toBeGreaterThan(0);

    // A data file missing beside the model: said before anything is sent.
    const alone = path.join(mkdtempSync(path.join(dir, 'alone-')), 'squeezenet_ext.onnx');
    copyFileSync(file, alone);
    await expect(profileOnAgents([endpoints()[0]!], alone, { runs: 1 })).rejects.toMatchObject({
      code: 'RUNTIME_BAD_OPTIONS', message: `${alone}: its weights file squeezenet_ext.onnx.data is not beside it (${alone}.data not found); keep the model's external data files in its directory`,
    });
    // An agent from before Profile took data files: refused in one line instead of misreading the bytes.
    const older = (e: AgentEndpoint): AgentClient => {
      const c = connectAgent(e);
      return { ...c, info: async (t) => ({ ...(await c.info(t)), profileDataFiles: undefined }) };
    };
    await expect(profileOnAgents([endpoints()[0]!], file, { runs: 1, connect: older })).rejects.toMatchObject({
      message: expect.stringMatching(/^squeezenet_ext\.onnx keeps its weights in 2 files beside it, which agent a at 127\.0\.0\.1:\d+ \(version [\d.]+\) cannot take with the model; update its dnnpart-agent$/),
    });
    // Damaged on the way, or named outside the model's directory: refused, the agent still serving.
    const modelBytes = readFileSync(file);
    const odd = path.join(sub, 'w', 'odd.bin');
    const send = (d: { name: string; sha256: string }) => connectAgent(agents[0]!.endpoint).profile(modelBytes, { name: 'm', runs: 1, data: [{ ...d, size: statSync(odd).size, path: odd }] });
    await expect(send({ name: 'w/odd.bin', sha256: 'f'.repeat(64) })).rejects.toMatchObject({ message: expect.stringMatching(/Profile: the weights' sha256 is [0-9a-f]{12}…, not ffffffffffff… as announced; they were damaged on the way, send them again/) });
    await expect(send({ name: '../odd.bin', sha256: 'f'.repeat(64) })).rejects.toMatchObject({ message: expect.stringMatching(/Profile: the model header's weights files \(data\) name "\.\.\/odd\.bin", not a relative path inside the model's directory/) });
    expect((await connectAgent(agents[0]!.endpoint).info()).board.name).toBe('a');
  });
});

describe('pipelined runs', () => {
  const cases: [string, (m: Awaited<ReturnType<typeof squeezenet>>['model']) => RunPlan, boolean][] = [
    ['2 stages, prefix cut', (m) => prefixPlan(m, ['a', 'b']), true],
    ['3 stages, prefix cut', (m) => prefixPlan(m, ['a', 'b', 'c']), true],
    ['2 stages, DAG plan (branches of a Fire module apart)', (m) => branchPlan(m, ['b', 'a']), false],
    ['3 stages, DAG plan (a tensor skips a stage)', (m) => branchPlan(m, ['c', 'a', 'b']), false],
  ];
  it.each(cases)('%s: outputs equal the unsplit model\'s', async (_name, makePlan, prefix) => {
    const { model } = await squeezenet();
    const costs = graphCosts(model.graph).nodes;
    const made = makePlan(model);
    // The plan's memory of each stage, to be set beside what each agent measured.
    const plan = { ...made, stages: made.stages.map((s, k) => ({ ...s, memoryBytes: 1e6 * (k + 1), ...(k === 0 ? { framesBytes: 4e5 } : {}) })), throughputFps: 50, latencyMs: 20 };
    expect(isPrefixCut(model, plan)).toBe(prefix);
    const r = await runPlan({ model, plan, agents: endpoints(), frames: 8, compareFrames: 2, threads: 1 });
    expect(r.frames).toBe(8);
    expect(r.compared).toBe(2);
    expect(r.maxAbsDiff).toBeLessThan(1e-4);
    expect(r.stages.map((s) => [s.stage, s.agent, s.nodes])).toEqual(plan.stages.map((s, k) => [k, s.board, s.nodes.length]));
    expect(r.predicted).toEqual({ throughputFps: 50, latencyMs: 20 });
    // The coordinator sends the 1x3x224x224 float input; each later hop carries what later stages read.
    expect(r.stages[0]!.transferIn).toMatchObject({ from: 'coordinator', bytes: 3 * 224 * 224 * 4 });
    expect(r.transferOut.bytes).toBe(1000 * 4);
    expect(r.throughputFps).toBeGreaterThan(0);
    expect(r.latencyMs.p95).toBeGreaterThanOrEqual(r.latencyMs.p50);
    // The period: one frame every 1000 / FPS ms, split into the slowest timed step and the rest.
    expect(r.period.frameMs).toBeCloseTo(1000 / r.throughputFps, 9);
    // A hop counts its own time: what of it its receiver did not spend computing other frames on its
    // main thread (c's); an agent whose sessions run in threads of their own (a, b) waits for none.
    for (const s of r.stages) expect(s.transferIn.waitingMs).toBeGreaterThanOrEqual(0);
    for (const s of r.stages) expect(s.transferIn.waitingMs).toBeLessThanOrEqual(s.transferIn.measuredMs + 1e-9);
    for (const s of r.stages) if (s.agent === 'a') expect(s.transferIn.waitingMs).toBe(0);
    if (plan.stages.some((s) => s.board === 'c')) expect(agents[2]!.log()).toMatch(/deployed \(.*\) -> \S+; its session runs on the agent's main thread \(DNNPART_STAGE_SESSION=main\)/);
    // Each agent reports what the stage added to its resident memory, loaded and after its frames.
    for (const [k, s] of r.stages.entries()) {
      expect(s.memory!.predictedBytes).toBe(1e6 * (k + 1));
      // The plan's frames in flight, said apart where the plan gives them.
      expect(s.memory!.predictedFramesBytes).toBe(k === 0 ? 4e5 : undefined);
      expect(s.memory!.loadedBytes).toBeGreaterThanOrEqual(0);
      expect(s.memory!.peakBytes).toBeGreaterThanOrEqual(s.memory!.loadedBytes);
      expect([s.agent, s.memory!.preoptimised]).toEqual([s.agent, s.agent !== 'c']);
      // A session in a thread of its own: what the thread itself added is said apart; none on c's main thread.
      if (s.agent === 'a') expect(s.memory!.threadBytes).toBeGreaterThanOrEqual(0);
      if (s.agent === 'c') expect(s.memory!.threadBytes).toBeUndefined();
      // And the stage alone, in a fresh process on its agent's board: at least most of its weights
      // once it has run (mapped from the saved graph's data file, they count as they are read; a stage
      // of under 1 MB of them may fit in what the process's allocator already holds).
      const alone = s.memory!.alone!;
      expect(alone.peakBytes).toBeGreaterThanOrEqual(alone.loadedBytes);
      expect(alone.loadedBytes).toBeGreaterThanOrEqual(0);
      const params = plan.stages[k]!.nodes.reduce((a, n) => a + (costs.get(n)?.paramBytes ?? 0), 0);
      if (params > 1 << 20) expect(alone.peakBytes).toBeGreaterThanOrEqual(0.5 * params);
    }
    const timed = [...r.stages.flatMap((s) => [s.computeMs.measured, Math.max(0, s.transferIn.measuredMs - s.transferIn.waitingMs!)]), r.transferOut.measuredMs];
    expect(r.period.slowest.ms).toBe(Math.max(...timed));
    expect(r.period.unaccountedMs).toBeCloseTo(Math.max(0, r.period.frameMs - r.period.slowest.ms), 9);
    // A trace track per agent, with receive, compute and send for every frame on every stage.
    const spans = r.trace.traceEvents.filter((e) => e.ph === 'X');
    for (const s of plan.stages) {
      const names = spans.filter((e) => e.pid === r.trace.traceEvents.find((m) => m.name === 'process_name' && m.args?.name === s.board)!.pid).map((e) => e.name.split(' ')[0]);
      expect(names.filter((n) => n === 'compute')).toHaveLength(8);
      expect(names.filter((n) => n === 'receive')).toHaveLength(8);
      expect(names.filter((n) => n === 'send')).toHaveLength(8);
    }
    // Nothing stays deployed after a run.
    const after = await checkAgents(endpoints());
    expect(after.map((s) => s.info?.stages)).toEqual([0, 0, 0]);
  });

  it('a dynamically quantized model: outputs differ from the unoptimised model, and equal the optimised one', async () => {
    // Moonshine's encoder (int8 MatMuls quantized at run time): onnxruntime's fused kernels, which the
    // stages run, round differently from the unfused graph, by far more than float noise. The run
    // compares the same frames with the unsplit model optimised as the stages are: the split is exact.
    const m = externalModels().find((x) => x.name === 'moonshine-encoder')!;
    if (!m.available) {
      if (process.env.CI === 'true') throw new Error(`${m.source.package}@${m.source.version} is not installed; npm ci installs it`);
      return;
    }
    const model = await loadModel(m.file, { inputShapes: { input_values: [1, 16000] } });
    const r = await runPlan({ model, plan: prefixPlan(model, ['a', 'b']), agents: endpoints(), frames: 2, compareFrames: 2, threads: 1 });
    expect(r.compared).toBe(2);
    expect(r.maxAbsDiff).toBeGreaterThan(OPTIMISED_REFERENCE_ABOVE);
    expect(r.maxAbsDiffOptimised).toBeDefined();
    expect(r.maxAbsDiffOptimised!).toBeLessThan(1e-4);
  });

  it('stages whose weights pass the threshold go to their agents with the weights in a file of their own, and run exactly', async () => {
    // As a stage of a model over 2 GB goes (onnxruntime loads no larger model from one buffer):
    // SqueezeNet's stages taken down that path with a threshold of 100 kB.
    const { model } = await squeezenet();
    process.env['DNNPART_EXTERNAL_DATA_ABOVE'] = '100000';
    try {
      const r = await runPlan({ model, plan: prefixPlan(model, ['a', 'c']), agents: endpoints(), frames: 3, compareFrames: 2, threads: 1 });
      expect(r.compared).toBe(2);
      expect(r.maxAbsDiff).toBeLessThanOrEqual(1e-5);
      // An agent from before weights files (its Info does not say it takes them): refused before deploying.
      const older = (e: AgentEndpoint): AgentClient => {
        const c = connectAgent(e);
        return { ...c, info: async (t) => ({ ...(await c.info(t)), stageWeightsFile: undefined }) };
      };
      await expect(runPlan({ model, plan: prefixPlan(model, ['a', 'c']), planName: 'plan.json', agents: endpoints(), frames: 1, connect: older })).rejects.toMatchObject({
        code: 'RUNTIME_TOO_LARGE', message: expect.stringMatching(/^plan\.json: stage 0's weights \(\d+ bytes\) pass what one model message carries and go in a file of their own, which agent a at 127\.0\.0\.1:\d+ \(version [\d.]+\) cannot take; update its dnnpart-agent$/),
      });
    } finally {
      delete process.env['DNNPART_EXTERNAL_DATA_ABOVE'];
    }
    for (const a of [agents[0]!, agents[2]!]) expect(a.log()).toMatch(/stage \d: loaded as sent, with its weights from the file beside it \(\d+ bytes\)/);

    // Weights damaged on the way, or named as a path: refused, the agent still serving.
    const stage = splitModel(model, { after: [model.graph.nodes[3]!.name] }).stages[1]!;
    const files = path.join(dir, 'external');
    const written = writeModelFile(stage.proto, path.join(mkdtempSync(files), 'stage.onnx'), 0);
    const data = { name: path.basename(written[1]!), sha256: '0'.repeat(64), size: statSync(written[1]!).size };
    const bytes = readFileSync(written[0]!);
    const deploy = (d: typeof data) => connectAgent(agents[0]!.endpoint).deployStage(
      { run: 'damaged', stage: 1, stages: 2, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, data: d, inputs: stage.inputs, outputs: stage.outputs, forward: stage.outputs },
      bytes, { onEvent: () => {}, onOutput: () => {}, onError: () => {} }, { timeoutMs: 20_000, maxTensorBytes: 1 << 26, dataFile: written[1]! },
    );
    await expect(deploy(data)).rejects.toMatchObject({ message: expect.stringMatching(/stage 1: the weights' sha256 is [0-9a-f]{12}…, not 000000000000… as announced; they were damaged on the way, send them again/) });
    await expect(deploy({ ...data, name: '../elsewhere.data' })).rejects.toMatchObject({ message: expect.stringMatching(/Stage: the deploy header has a weights file \(data\) whose name is not a plain file name/) });
    expect((await connectAgent(agents[0]!.endpoint).info()).board.name).toBe('a');
  });

  it('an agent whose queue holds a frame at most by its bytes still runs every frame, exactly', async () => {
    // --queue-bytes 1: every frame fills the queue, so the agent stops reading after each one.
    const q = await spawnAgent('q', ['--queue-bytes', '1']);
    try {
      const info = await connectAgent(q.endpoint).info();
      expect(info.limits).toMatchObject({ queueFrames: 4, queueBytes: 1 });
      const { model } = await squeezenet();
      const r = await runPlan({ model, plan: prefixPlan(model, ['q', 'a']), agents: [...endpoints(), q.endpoint], frames: 6, compareFrames: 2, threads: 1 });
      expect([r.frames, r.compared]).toEqual([6, 2]);
      expect(r.maxAbsDiff).toBeLessThan(1e-4);
    } finally {
      await q.kill();
    }
    expect((await connectAgent(agents[0]!.endpoint).info()).limits.queueBytes).toBe(256 * 2 ** 20);
  });

  it('sends the tensors between stages as int8 and fp16 when told, and the outputs are what those encodings give', async () => {
    const { model } = await squeezenet();
    const plan = prefixPlan(model, ['a', 'b', 'c']);
    const compare = 2;
    const r = await runPlan({ model, plan, agents: endpoints(), frames: 4, compareFrames: compare, transfer: ['int8', 'fp16'] });
    const g = model.graph;
    const split = splitModel(model, { stages: stageMapFromPlan(plan, model) });
    const forward = forwardSets(split, g.inputs, g.outputs);
    const elements = (k: number) => forward[k]!.reduce((a, t) => a + g.tensors.get(t)!.bytes / 4, 0);
    // One byte an element on the int8 hop, two on the fp16 one; the coordinator's hops as they are.
    expect(r.stages.map((s) => [s.transferIn.encoding, s.transferIn.bytes])).toEqual([
      [undefined, 3 * 224 * 224 * 4], ['int8', elements(1)], ['fp16', 2 * elements(2)],
    ]);
    expect(r.transferOut.bytes).toBe(1000 * 4);
    // The same stages run here, each hop's tensors rounded as the encoding does (onnx-graph's
    // encodeInt8 and halfRound, which dnnpart accuracy scores with): the run's outputs differ from the
    // unsplit model's by what these differ by.
    const hop = [
      (x: Float32Array) => decodeInt8(encodeInt8(x)),
      (x: Float32Array) => Float32Array.from(x, halfRound),
    ];
    let emulated = 0;
    for (let j = 0; j < compare; j++) {
      const feeds = randomFeeds(g, j + 1);
      const bag: Record<string, ort.Tensor> = { ...feeds };
      for (const [k, s] of split.stages.entries()) {
        Object.assign(bag, await runModel(s.bytes, Object.fromEntries(s.inputs.map((n) => [n, bag[n]!])), s.outputs));
        if (k < hop.length) for (const t of forward[k + 1]!) bag[t] = new ort.Tensor('float32', hop[k]!(bag[t]!.data as Float32Array), bag[t]!.dims as number[]);
      }
      const whole = await runModel(encodeModel(model.proto), feeds, g.outputs);
      emulated = Math.max(emulated, maxAbsDiff(whole, bag, g.outputs));
    }
    expect(emulated).toBeGreaterThan(1e-3);
    expect(Math.abs(r.maxAbsDiff - emulated)).toBeLessThanOrEqual(1e-3 * emulated + 1e-5);
    // That difference is the encodings': no second reference, optimised, is run for it.
    expect(r.maxAbsDiffOptimised).toBeUndefined();
    await expect(runPlan({ model, plan, agents: endpoints(), frames: 1, transfer: ['int8'] })).rejects.toMatchObject({ code: 'RUNTIME_BAD_OPTIONS', message: expect.stringContaining('1 transfer encodings for 2 hops') });
  });

  it('a model output made by the first stage goes back from it, not through the stages after it', async () => {
    const file = path.join(dir, 'early.onnx');
    writeFileSync(file, earlyOutputModel());
    const model = await loadModel(file);
    const plan: RunPlan = { stages: [{ board: 'a', nodes: ['relu', 'tanh'], computeMs: 1 }, { board: 'b', nodes: ['sig'], computeMs: 1 }, { board: 'c', nodes: ['neg'], computeMs: 1 }] };
    const r = await runPlan({ model, plan, agents: endpoints(), frames: 4, compareFrames: 2 });
    // Each hop carries only what the next stages read (a, then b), as the plan prices it; both outputs
    // arrive, equal to the unsplit model's.
    expect(r.stages.map((s) => [s.transferIn.from, s.transferIn.bytes])).toEqual([['coordinator', 256], ['a', 256], ['b', 256]]);
    expect(r.transferOut).toMatchObject({ from: 'c', bytes: 256 });
    expect(r.compared).toBe(2);
    expect(r.maxAbsDiff).toBe(0);
  });

  it('the DAG plan forwards the skipped tensor through the middle stage', async () => {
    const { model } = await squeezenet();
    const plan = branchPlan(model, ['c', 'a', 'b']);
    const r = await runPlan({ model, plan, agents: endpoints(), frames: 2, compareFrames: 0 });
    // Stage 2 reads the early branch's input (from stage 0) and the late branch's output (stage 1).
    const g = model.graph;
    const concat = g.nodes.find((n) => n.op === 'Concat' && n.index > g.nodes.length / 3)!;
    const earlyConv = g.nodes.find((n) => n.op === 'Conv' && n.index < concat.index && plan.stages[2]!.nodes.includes(n.name))!;
    const squeezeOut = earlyConv.inputs[0]!;
    const lateOut = concat.inputs.find((t) => plan.stages[1]!.nodes.includes(g.tensors.get(t)!.producer!))!;
    expect(r.stages[2]!.transferIn.bytes).toBe(g.tensors.get(squeezeOut)!.bytes + g.tensors.get(lateOut)!.bytes);
  });

  it('deploys a stage without a thread count at the count a profile here would take, and one with a count at that count', async () => {
    const { model } = await squeezenet();
    const plan = prefixPlan(model, ['a', 'b']);
    const deployed = (agent: SpawnedAgent) => agent.log().split('\n').filter((l) => /stage \d of run \w+ deployed/.test(l)).at(-1)!;
    await runPlan({ model, plan, agents: endpoints(), frames: 2, compareFrames: 0 });
    const cores = availableParallelism();
    for (const agent of agents.slice(0, 2)) {
      const line = deployed(agent);
      // a's session off the agent's event loop (stage-session.ts); b's on it: a SqueezeNet half hands
      // over far less than 8 MiB a frame.
      if (agent === agents[0]) expect(line).toMatch(/; its session runs in a thread of its own \(DNNPART_STAGE_SESSION=worker\)$/);
      else expect(line).toMatch(/; its session runs on the agent's main thread \(\d+\.\d MiB of tensors a frame, under 8\.0 MiB\)$/);
      // Chosen in a process of its own (only the session kept stays in the agent's).
      expect(agent.log()).not.toContain('could not try thread counts');
      if (cores < 2) {
        expect(line).toContain('1 thread(s))');
        continue;
      }
      // All cores and 1 thread tried (a SqueezeNet half runs in well under 20 ms), the faster taken;
      // on a machine so loaded that its first run took over THREAD_PROBE_SKIP_MS, all cores alone.
      const skipped = new RegExp(`${cores} thread\\(s\\): ([\\d.]+) ms at ${cores}\\)`).exec(line);
      if (skipped) {
        expect(Number(skipped[1])).toBeGreaterThan(THREAD_PROBE_SKIP_MS);
        continue;
      }
      const m = new RegExp(`(\\d+) thread\\(s\\): ([\\d.]+) ms at ${cores}, ([\\d.]+) ms at 1\\)`).exec(line);
      expect(m, line).not.toBeNull();
      // The log prints 3 significant digits, the choice was made on the exact medians: within that
      // rounding of the 10 % line either count is right (CI once printed 1 taken where the rounded
      // figures said the cores).
      const [one, many] = [Number(m![3]), Number(m![2])];
      const margin = 0.006 * (one + 0.9 * many);
      if (one < 0.9 * many - margin) expect(Number(m![1])).toBe(1);
      else if (one > 0.9 * many + margin) expect(Number(m![1])).toBe(cores);
      else expect([1, cores]).toContain(Number(m![1]));
    }
    await runPlan({ model, plan, agents: endpoints(), frames: 2, compareFrames: 0, threads: 1 });
    for (const agent of agents.slice(0, 2)) expect(deployed(agent)).toContain('1 thread(s), as asked');
  });

  it('refuses, before deploying anything, a plan whose board assumes an engine its agent lacks', async () => {
    const { model } = await squeezenet();
    const plan = prefixPlan(model, ['a', 'b']);
    await expect(runPlan({ model, plan, agents: endpoints(), frames: 2, engines: { b: 'onnxruntime-cuda' } })).rejects.toMatchObject({
      code: 'RUNTIME_ENGINE',
      message: expect.stringMatching(/stage 1 on board b assumes engine onnxruntime-cuda, but agent b at 127\.0\.0\.1:\d+ has onnxruntime-cpu/),
    });
    const c = connectAgent(endpoints()[0]!);
    expect((await c.info()).stages).toBe(0);
    c.close();
  });

  it.each([
    ['a board no agent serves', (p: RunPlan): RunPlan => ({ stages: [{ ...p.stages[0]!, board: 'orin' }, p.stages[1]!] }), /stage 0 runs on board "orin", which the agents file does not name \(agents: a, b, c\)/],
    ['a node the model lacks', (p: RunPlan): RunPlan => ({ stages: [{ ...p.stages[0]!, nodes: [...p.stages[0]!.nodes, 'no_such_node'] }, p.stages[1]!] }), /node "no_such_node" is not in model/],
    ['a node in no stage', (p: RunPlan): RunPlan => ({ stages: [{ ...p.stages[0]!, nodes: p.stages[0]!.nodes.slice(1) }, p.stages[1]!] }), /is in no stage/],
    ['no stages', (): RunPlan => ({ stages: [] }), /no stages/],
  ])('refuses a plan with %s', async (_n, edit, message) => {
    const { model } = await squeezenet();
    await expect(runPlan({ model, plan: edit(prefixPlan(model, ['a', 'b'])), planName: 'plan.json', agents: endpoints(), frames: 1 })).rejects.toMatchObject({ code: 'RUNTIME_PLAN', message });
  });
});
