// The runtime commands of `dnnpart`, driven in-process through main() against agent processes:
// agents, link (and a system file using its links), solve -> run, profile --agents, agent itself.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '@dnnpart/report';
import { connectAgent } from '@dnnpart/runtime';
import { ensureBuilt, spawnAgent, type SpawnedAgent } from './_agents.js';
import { bfloat16Model, dynamicLengthModel, optimiserRefusedModel, quantizedEdgeModel, squeezenet } from './_models.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dnnpart-cli-runtime-'));
let agents: SpawnedAgent[] = [];

async function dnnpart(argv: readonly string[], signal = new AbortController().signal): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), isTTY: false, columns: 100 },
    cwd: dir,
    env: {},
    signal,
  });
  return { code, stdout, stderr };
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  ensureBuilt();
  agents = await Promise.all(['a', 'b'].map((id) => spawnAgent(id)));
  writeFileSync(path.join(dir, 'agents.yaml'), ['version: 1', 'agents:', ...agents.map((a) => `  - { id: ${a.id}, address: "${a.address}" }`), ''].join('\n'));
  const { bytes, model } = await squeezenet();
  writeFileSync(path.join(dir, 'squeezenet.onnx'), bytes);
  const names = model.graph.nodes.map((n) => n.name);
  writeFileSync(path.join(dir, 'two.json'), JSON.stringify({ status: 'optimal', stages: [{ board: 'a', nodes: names.slice(0, 30), computeMs: 2 }, { board: 'b', nodes: names.slice(30), computeMs: 3 }], transfers: [{ from: 'a', to: 'b', bytes: 1, ms: 0.5 }], throughputFps: 100, latencyMs: 9 }));
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill()));
});

describe('dnnpart agents', () => {
  it('lists every agent with its facts', async () => {
    const r = await dnnpart(['agents', 'agents.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^agent\s+address\s+answers/);
    for (const a of agents) expect(r.stdout).toMatch(new RegExp(`${a.id}\\s+${a.address.replace(/\./g, '\\.')}\\s+yes .*onnxruntime-cpu\\s+\\d+\\.\\d+\\.\\d+\\s+(fresh|reused|other)\\s`));
    // Both listen on this machine: said once, with what it means.
    expect(r.stdout).toMatch(/\nagents a, b run on one machine \(this one, \d+ cores\): profile them one at a time, and their links are that machine's, not a network's/);
  });

  it('exits 2 naming the agent that does not answer', async () => {
    const port = await deadPort();
    writeFileSync(path.join(dir, 'dead.yaml'), `version: 1\nagents:\n  - { id: a, address: "${agents[0]!.address}" }\n  - { id: gone, address: "127.0.0.1:${port}" }\n`);
    const r = await dnnpart(['agents', 'dead.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^dnnpart: dead\\.yaml: agent gone at 127\\.0\\.0\\.1:${port} does not answer`, 'm'));
  });

  it.each([
    ['version: 2\nagents: []\n', 'bad.yaml:1: version: must be 1'],
    ['version: 1\nagents:\n  - id: a\n', 'bad.yaml:3: agents[0].address: missing (required): host:port of the agent, e.g. 10.0.0.2:7070'],
    ['version: 1\nagents:\n  - { id: a, address: "x:1" }\n  - { id: a, address: "y:2" }\n', 'bad.yaml:4: agents[1].id: agent id "a" is used twice (also agents[0])'],
    ['version: 1\nagents:\n  - { id: A B, address: "x:1" }\n', 'bad.yaml:3: agents[0].id: must be a lower-case name of letters, digits, -, _ and . (no spaces or slashes)'],
    ['version: 1\nagents:\n  - id: a\n    address: "x:99999"\n', 'bad.yaml:4: agents[0].address: "x:99999" is not host:port with a port from 1 to 65535'],
    ['version: 1\nagents:\n  - id: a\n    address: "x:1"\n    tokenFile: nope.token\n', 'bad.yaml:5: agents[0].tokenFile: nope.token: cannot read token file'],
    ['version: 1\nagents:\n  - id: a\n    address: "x:1"\n    tls: { ca: ca.pem }\n', 'bad.yaml:5: agents[0].tls.cert: missing (required): a PEM file path'],
    ['version: 1\nagents:\n  - id: a\n    adress: "x:1"\n', 'bad.yaml:4: agents[0].adress: unknown field (allowed: id, address, tokenFile, tls)'],
    ['version: 1\nagents: [\n', 'bad.yaml:3: not valid YAML'],
    // A mistake in a top-level field that has no line (an empty file, a missing version) once hung the command.
    ['', 'bad.yaml: version: an agents file is a mapping with version: 1 and agents: [...]'],
    ['null\n', 'bad.yaml: version: an agents file is a mapping with version: 1 and agents: [...]'],
    ['agents:\n  - { id: a, address: "x:1" }\n', 'bad.yaml: version: missing (required): version: 1'],
    ['version: 1\n', 'bad.yaml: agents: must be a list of at least one agent { id, address }'],
  ])('an agents file with a mistake: %j', async (text, message) => {
    writeFileSync(path.join(dir, 'bad.yaml'), text);
    const r = await dnnpart(['agents', 'bad.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toContain(`dnnpart: ${message}`);
  });
});

describe('dnnpart link, solve and run', () => {
  it('measures the links into a file a system file uses, solves, and runs the plan', async () => {
    const l = await dnnpart(['link', '--agents', 'agents.yaml', '-o', 'links.yaml', '--max-bytes', '65536', '--repeats', '1']);
    expect(l.code).toBe(0);
    expect(l.stdout).toMatch(/a -> b .*\n.*b -> a/);
    expect(readFileSync(path.join(dir, 'links.yaml'), 'utf8')).toMatch(/^# Measured by dnnpart link[^]*links:\n {2}- from: a\n {4}to: b\n {4}bandwidthBytesPerSec: \d+\n {4}latencyMs: [\d.]+\n {4}powerW: 0\n {4}framing: none/m);
    writeFileSync(path.join(dir, 'system.yaml'), 'version: 1\nmodel: { file: squeezenet.onnx }\nboards:\n  - { id: a, describe: ci-x86-2core }\n  - { id: b, describe: ci-x86-2core }\nlinksFile: links.yaml\n');
    const s = await dnnpart(['solve', '--system', 'system.yaml', '--json', '--time-limit', '20']);
    expect(s.code).toBe(0);
    writeFileSync(path.join(dir, 'plan.json'), s.stdout);
    const plan = JSON.parse(s.stdout);
    const r = await dnnpart(['run', '--plan', 'plan.json', '--agents', 'agents.yaml', '--system', 'system.yaml', '--frames', '6', '--json', '--trace', 'trace.json']);
    expect(r.stderr).not.toMatch(/dnnpart: /);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ frames: 6, predicted: { throughputFps: plan.throughputFps, latencyMs: plan.latencyMs } });
    expect(out.maxAbsDiff).toBeLessThan(1e-4);
    expect(out.latencyMs.p95).toBeGreaterThanOrEqual(out.latencyMs.p50);
    expect(out.stages.map((x: { agent: string; computeMs: { predicted: number } }) => [x.agent, x.computeMs.predicted])).toEqual(plan.stages.map((x: { board: string; computeMs: number }) => [x.board, x.computeMs]));
    // Both agents listen on this machine: the run says their stages shared its cores.
    const used = [...new Set(plan.stages.map((x: { board: string }) => x.board))];
    if (used.length > 1) expect(out.sharedMachines).toEqual([{ host: 'loopback', agents: used, cores: expect.any(Number) }]);
    else expect(out.sharedMachines).toBeUndefined();
    const trace = JSON.parse(readFileSync(path.join(dir, 'trace.json'), 'utf8'));
    expect(trace.traceEvents.filter((e: { ph: string; name: string }) => e.ph === 'X' && e.name.startsWith('compute'))).toHaveLength(6 * plan.stages.length);
  });

  it('runs a model whose input and outputs are bfloat16 (fed and compared as float32); one onnxruntime cannot run is one line naming the node', async () => {
    // Before: "unexpected failure: Unsupported data type: 16" (exit 1) from the unsplit model's reference run.
    writeFileSync(path.join(dir, 'bf16.onnx'), bfloat16Model('Transpose'));
    writeFileSync(path.join(dir, 'bf16-relu.onnx'), bfloat16Model('Relu'));
    writeFileSync(path.join(dir, 'bf16.json'), JSON.stringify({ stages: [{ board: 'a', nodes: ['in', 'conv', 'tobf', 'mid'] }, { board: 'b', nodes: ['tof', 'conv2', 'skip', 'out'] }] }));
    const r = await dnnpart(['run', '--plan', 'bf16.json', '--agents', 'agents.yaml', '--model', 'bf16.onnx', '--frames', '4', '--json']);
    expect({ code: r.code, stderr: r.stderr.split('\n').filter((l) => l.startsWith('dnnpart:')) }).toEqual({ code: 0, stderr: [] });
    const out = JSON.parse(r.stdout);
    expect(out.frames).toBe(4);
    // The agents run the stages optimised, the reference unoptimised: float32 rounding apart.
    expect(out.maxAbsDiff).toBeLessThan(1e-5);
    const bad = await dnnpart(['run', '--plan', 'bf16.json', '--agents', 'agents.yaml', '--model', 'bf16-relu.onnx', '--frames', '2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^dnnpart: bf16 \(unsplit, for reference\): op Relu \(opset 14\) of node "mid" has no kernel on the cpu execution provider$/m);
  });

  it.each([['int4', 22], ['float8e4m3fn', 17]])('runs a model whose input, outputs and a crossing tensor are %s (carried as int8 or float32)', async (name, type) => {
    // Before: "initializer ... has ONNX element type 22, which dnnpart does not support"; and an int4
    // output handed to onnxruntime-node aborts the process.
    writeFileSync(path.join(dir, `${name}.onnx`), quantizedEdgeModel(type));
    writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ stages: [{ board: 'a', nodes: ['dqx', 'relu', 'q'] }, { board: 'b', nodes: ['dqy', 'add'] }] }));
    const r = await dnnpart(['run', '--plan', `${name}.json`, '--agents', 'agents.yaml', '--model', `${name}.onnx`, '--frames', '3', '--json']);
    expect({ code: r.code, stderr: r.stderr.split('\n').filter((l) => l.startsWith('dnnpart:')) }).toEqual({ code: 0, stderr: [] });
    const out = JSON.parse(r.stdout);
    expect(out.frames).toBe(3);
    expect(out.maxAbsDiff).toBe(0);
    // yq (9 bytes as int8, 36 as float32) crosses to stage 1 beside r (float32, 36 bytes).
    expect(out.stages[1].transferIn.bytes).toBe((type === 22 ? 1 : 4) * 9 + 36);
  });

  it('runs a stage whose graph onnxruntime refuses once optimised (a float8 QDQ Conv and Relu fused into a QLinearConv): at level "basic", said', async () => {
    // Before: "stage 0: onnxruntime cannot load the model (... operator (QLinearConv) in node (conv) is invalid)".
    writeFileSync(path.join(dir, 'refused.onnx'), optimiserRefusedModel());
    writeFileSync(path.join(dir, 'refused.json'), JSON.stringify({ stages: [{ board: 'a', nodes: ['qx', 'dqx', 'dqw', 'conv', 'relu', 'qy'] }, { board: 'b', nodes: ['dqy', 'gap'] }] }));
    const r = await dnnpart(['run', '--plan', 'refused.json', '--agents', 'agents.yaml', '--model', 'refused.onnx', '--frames', '3', '--json']);
    expect({ code: r.code, stderr: r.stderr.split('\n').filter((l) => l.startsWith('dnnpart:')) }).toEqual({ code: 0, stderr: [] });
    const out = JSON.parse(r.stdout);
    expect(out.frames).toBe(3);
    // The coordinator's reference run of the unsplit model falls back the same way, and agrees.
    expect(out.maxAbsDiff).toBe(0);
    const lowered = r.stderr.split('\n').filter((l) => l.includes('onnxruntime refuses the graph its optimiser makes'));
    expect(lowered).toHaveLength(1);
    expect(lowered[0]).toMatch(/agent a: stage 0 of run \S+: onnxruntime refuses the graph its optimiser makes at level "all" \(.*QLinearConv.*\); run at level "basic"/);
  });

  it("sends the tensors between stages as the system file's transfer says, and says when a plan expected them encoded", async () => {
    const plain = JSON.parse((await dnnpart(['run', '--plan', 'two.json', '--agents', 'agents.yaml', '--model', 'squeezenet.onnx', '--frames', '2', '--json'])).stdout);
    const fp32 = plain.stages[1].transferIn.bytes as number;
    expect(plain.stages[1].transferIn.encoding).toBeUndefined();
    // The plan as a system with transfer: int8 prices it: a byte an element, and a scale and zero point.
    const two = JSON.parse(readFileSync(path.join(dir, 'two.json'), 'utf8'));
    writeFileSync(path.join(dir, 'two-int8.json'), JSON.stringify({ ...two, transfers: [{ from: 'a', to: 'b', bytes: fp32 / 4 + 5, ms: 0.5 }] }));
    writeFileSync(path.join(dir, 'int8.yaml'), 'version: 1\nmodel: { file: squeezenet.onnx }\nboards:\n  - { id: a, describe: ci-x86-2core }\n  - { id: b, describe: ci-x86-2core }\nnetwork: ethernet-1000base-t\ntransfer: int8\n');
    const r = await dnnpart(['run', '--plan', 'two-int8.json', '--agents', 'agents.yaml', '--system', 'int8.yaml', '--frames', '3']);
    expect(r.code).toBe(0);
    // Each encoded stage's own coding time beside its session's: a encodes, b decodes.
    expect(r.stdout).toMatch(/\n\s+1\s+b\s+\d+\s+[\d.]+ \+ [\d.]+\s+3\.00\s+a \(int8\)\s+[\d.]+ kB/);
    expect(r.stdout).toMatch(/compute \+ coding ms/);
    expect(r.stdout).toMatch(/\nagents a, b run on one machine \(this one, \d+ cores\): stages 0, 1 shared its cores, which a plan of one board per stage does not price/);
    const j = JSON.parse((await dnnpart(['run', '--plan', 'two-int8.json', '--agents', 'agents.yaml', '--system', 'int8.yaml', '--frames', '2', '--json'])).stdout);
    expect([j.stages[1].transferIn.encoding, j.stages[1].transferIn.bytes]).toEqual(['int8', fp32 / 4]);
    expect(j.stages[1].transferIn.encodeMs).toBeGreaterThan(0);
    expect(j.stages[1].transferIn.encodeMs).toBeLessThanOrEqual(j.stages[1].transferIn.measuredMs);
    expect(j.stages[1].transferIn.decodeMs).toBeGreaterThan(0);
    expect(j.stages[0].computeMs.codingMs).toBeGreaterThan(0);
    expect(j.stages[1].computeMs.codingMs).toBeGreaterThan(0);
    // The fp32 run says neither.
    expect([plain.stages[1].transferIn.encodeMs, plain.stages[1].transferIn.decodeMs, plain.stages[0].computeMs.codingMs]).toEqual([undefined, undefined, undefined]);
    expect(r.stdout).toMatch(/tensors between stages sent as int8: their rounding is in it; dnnpart accuracy --transfer int8/);
    expect(r.stdout).toMatch(/\nint8 into stage 1: encoding [\d.]+ ms a frame on a \(in the hop's transfer time\), decoding [\d.]+ ms on b \(after it\); a plan solved with the system's transfer prices both in the two stages' predicted times/);
    expect(r.stdout).not.toMatch(/where the plan expected/);
    // --transfer says it for all hops, over the system's.
    const f = JSON.parse((await dnnpart(['run', '--plan', 'two-int8.json', '--agents', 'agents.yaml', '--system', 'int8.yaml', '--transfer', 'fp16', '--frames', '2', '--json'])).stdout);
    expect([f.stages[1].transferIn.encoding, f.stages[1].transferIn.bytes]).toEqual(['fp16', fp32 / 2]);
    // A plan priced for float32 run encoded: its transfer figures are not this run's, said.
    writeFileSync(path.join(dir, 'two-fp32.json'), JSON.stringify({ ...two, transfers: [{ from: 'a', to: 'b', bytes: fp32, ms: 0.5 }] }));
    const over = await dnnpart(['run', '--plan', 'two-fp32.json', '--agents', 'agents.yaml', '--model', 'squeezenet.onnx', '--transfer', 'int8', '--frames', '2']);
    expect(over.code).toBe(0);
    expect(over.stdout).toMatch(/\nstage 1 received [\d.]+ kB a frame as int8 where the plan priced [\d.]+ kB: the plan was solved for tensors as they are, so its transfer and throughput figures do not stand for this run; solve with transfer: int8 in the system file\n/);
    // The int8 plan run without its system file sends float32, four times the bytes it priced: said.
    const m = await dnnpart(['run', '--plan', 'two-int8.json', '--agents', 'agents.yaml', '--model', 'squeezenet.onnx', '--frames', '2']);
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/\nstage 1 received [\d.]+ kB a frame where the plan expected [\d.]+ kB: the plan was solved with tensors encoded \(a system file's transfer: fp16 or int8\); run with --system <that file>, or --transfer fp16\|int8, to send them so\n/);
    // solve --json from a system file with a transfer says it, and run takes it from the plan file.
    const solved = JSON.parse((await dnnpart(['solve', '--system', 'int8.yaml', '--json', '--time-limit', '20'])).stdout);
    expect(solved.transfer).toEqual({ encoding: 'int8' });
    writeFileSync(path.join(dir, 'two-int8-said.json'), JSON.stringify({ ...JSON.parse(readFileSync(path.join(dir, 'two-int8.json'), 'utf8')), transfer: { encoding: 'fp32', links: [{ from: 'a', to: 'b', encoding: 'int8' }] } }));
    const said = JSON.parse((await dnnpart(['run', '--plan', 'two-int8-said.json', '--agents', 'agents.yaml', '--model', 'squeezenet.onnx', '--frames', '2', '--json'])).stdout);
    expect([said.stages[1].transferIn.encoding, said.stages[1].transferIn.bytes]).toEqual(['int8', fp32 / 4]);
    // A plan whose first stage is off its input board ("cam") sends the model input over that link: encoded too.
    const input = plain.stages[0].transferIn.bytes as number;
    writeFileSync(path.join(dir, 'two-cam.json'), JSON.stringify({ ...two, transfers: [{ from: 'cam', to: 'a', bytes: input / 4 + 5, ms: 0.5 }, { from: 'a', to: 'b', bytes: fp32 / 4 + 5, ms: 0.5 }], transfer: { encoding: 'int8' } }));
    const cam = JSON.parse((await dnnpart(['run', '--plan', 'two-cam.json', '--agents', 'agents.yaml', '--model', 'squeezenet.onnx', '--frames', '2', '--json'])).stdout);
    expect([cam.stages[0].transferIn.encoding, cam.stages[0].transferIn.bytes, cam.stages[1].transferIn.encoding]).toEqual(['int8', input / 4, 'int8']);
    expect(cam.stages[0].transferIn.decodeMs).toBeGreaterThan(0);
    expect(cam.stages[0].computeMs.codingMs).toBeGreaterThan(0);
    const camText = await dnnpart(['run', '--plan', 'two-cam.json', '--agents', 'agents.yaml', '--model', 'squeezenet.onnx', '--frames', '2']);
    expect(camText.stdout).toMatch(/\nint8 into stage 0: the model inputs encoded by the coordinator before the frames were sent, decoding [\d.]+ ms on a \(after it\)/);
    // ... and not when the first stage is on the input board (the plans above: no transfer into a).
    expect(j.stages[0].transferIn.encoding).toBeUndefined();
    expect(j.stages[0].transferIn.bytes).toBe(input);
    writeFileSync(path.join(dir, 'two-bad-transfer.json'), JSON.stringify({ ...two, transfer: { encoding: 'int4' } }));
    const bad = await dnnpart(['run', '--plan', 'two-bad-transfer.json', '--agents', 'agents.yaml', '--model', 'squeezenet.onnx']);
    expect([bad.code, bad.stderr]).toEqual([2, 'dnnpart: --plan two-bad-transfer.json: transfer.encoding: must be one of fp32, fp16, int8; write the file with dnnpart solve --json\n']);
  });

  it('the text output puts each measured figure beside its prediction', async () => {
    const r = await dnnpart(['run', '--plan', 'two.json', '--agents', 'agents.yaml', '--model', 'squeezenet.onnx', '--frames', '4']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/throughput FPS\s+[\d.]+\s+100\.00\s+[-+][\d.]+%/);
    expect(r.stdout).toMatch(/latency p50 ms\s+[\d.]+\s+9\.00/);
    expect(r.stdout).toMatch(/\n\s+0\s+a\s+30\s+[\d.]+\s+2\.00\s+coordinator\s+602 kB/);
    expect(r.stdout).toMatch(/\n\s+1\s+b\s+\d+\s+[\d.]+\s+3\.00\s+a\s+[\d.]+ kB\s+[\d.]+\s+0\.50/);
  });

  it.each([
    [['run', '--plan', 'missing.json', '--agents', 'agents.yaml', '--model', 'squeezenet.onnx'], /^dnnpart: --plan missing\.json: plan file not found/],
    [['run', '--plan', 'infeasible.json', '--agents', 'agents.yaml', '--model', 'squeezenet.onnx'], /^dnnpart: --plan infeasible\.json: stages: missing \(status infeasible: too slow\)/],
    [['run', '--plan', 'two.json', '--agents', 'agents.yaml'], /^dnnpart: run needs the model: --model <m\.onnx>, or --system <system\.yaml>/],
    [['run', '--plan', 'two.json', '--agents', 'agents.yaml', '--system', 'orin.yaml'], /^dnnpart: two\.json: stage 0 on board a assumes engine onnxruntime-cuda, but agent a at 127\.0\.0\.1:\d+ has onnxruntime-cpu/m],
  ])('refuses %j', async (argv, message) => {
    writeFileSync(path.join(dir, 'infeasible.json'), JSON.stringify({ status: 'infeasible', reason: 'too slow' }));
    writeFileSync(path.join(dir, 'orin.yaml'), 'version: 1\nmodel: { file: squeezenet.onnx }\nboards:\n  - { id: a, describe: jetson-orin-nano }\n  - { id: b, describe: ci-x86-2core }\nnetwork: ethernet-1000base-t\n');
    const r = await dnnpart(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('dnnpart profile --agents and dnnpart agent', () => {
  it("profiles on every agent, one file per board, each with its board's own boundary and encoding costs", async () => {
    const r = await dnnpart(['profile', 'squeezenet.onnx', '--agents', 'agents.yaml', '-o', 'profiles', '--runs', '2', '--warmup', '1', '--threads', '1']);
    expect(r.code).toBe(0);
    for (const id of ['a', 'b']) {
      const file = path.join(dir, 'profiles', `${id}.profile.json`);
      expect(existsSync(file)).toBe(true);
      const p = JSON.parse(readFileSync(file, 'utf8'));
      expect(p.board.name).toBe(id);
      // Measured on the agent, as dnnpart profile measures them here: not the defaults a plan would warn about.
      expect(p.boundary.method).toBe('measured');
      expect(p.boundary.encodings.method).toBe('measured');
      expect(p.boundary.encodings.int8.encodeMsPerByte).toBeGreaterThan(0);
    }
    // --boundary default skips the calibration (a few seconds a board), and a wrong value is named.
    const d = await dnnpart(['profile', 'squeezenet.onnx', '--agents', 'agents.yaml', '-o', 'profiles-default', '--runs', '2', '--warmup', '1', '--threads', '1', '--boundary', 'default']);
    expect(d.code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(dir, 'profiles-default', 'a.profile.json'), 'utf8')).boundary.method).toBe('default');
    const bad = await dnnpart(['profile', 'squeezenet.onnx', '--agents', 'agents.yaml', '-o', 'profiles-default', '--boundary', 'fast']);
    expect([bad.code, bad.stderr.trim()]).toEqual([2, 'dnnpart: --boundary must be calibrate or default, got "fast"']);
  });

  it('profiles a model with a dynamic dim on the agents at the shape --input gives, and says to give it', async () => {
    writeFileSync(path.join(dir, 'dynamic.onnx'), dynamicLengthModel());
    const base = ['profile', 'dynamic.onnx', '--agents', 'agents.yaml', '-o', 'profiles-dynamic', '--runs', '2', '--warmup', '1', '--threads', '1', '--boundary', 'default'];
    const without = await dnnpart(base);
    expect(without.code).not.toBe(0);
    expect(without.stderr).toMatch(/: dynamic\.onnx: dim 1 \(len\) of input x is dynamic; pass --input x=<shape>/);
    expect(without.stderr).not.toMatch(/dnnpart-agent/);
    const r = await dnnpart([...base, '--input', 'x=1x4096']);
    expect(r.code).toBe(0);
    const p = JSON.parse(readFileSync(path.join(dir, 'profiles-dynamic', 'a.profile.json'), 'utf8'));
    expect(p.model.inputs).toEqual([expect.objectContaining({ name: 'x', shape: [1, 4096] })]);
  });

  it("refuses dnnpart-agent's bad flags the same way, naming the flag or the file", async () => {
    for (const [args, message] of [
      [['--tls-cert', 'cert.pem'], 'mutual TLS needs all of --tls-cert, --tls-key and --tls-ca'],
      [['--engines', 'onnxruntime-cpu,tpu'], '--engines: unknown engine "tpu" (known: onnxruntime-cpu, onnxruntime-cuda, onnxruntime-tensorrt, edgetpu, simulated)'],
      [['--token-file', 'no-token'], `--token-file: cannot read token file ${path.join(dir, 'no-token')} (ENOENT)`],
    ] as const) {
      const r = await dnnpart(['agent', '--listen', '127.0.0.1:0', ...args]);
      expect([r.code, r.stderr.trim()]).toEqual([2, `dnnpart: ${message}`]);
    }
  });

  it('serves until interrupted', async () => {
    const stop = new AbortController();
    let stderr = '';
    const tmpBefore = process.env.TMPDIR;
    const done = main(['agent', '--listen', '127.0.0.1:0', '--board', 'here', '--max-model-bytes', '1000000', '--queue-frames', '2', '--queue-bytes', '65536', '--engines', 'onnxruntime-cpu,simulated'], {
      stdout: { write: () => {} },
      stderr: { write: (s: string) => (stderr += s), isTTY: false, columns: 100 },
      cwd: dir, env: {}, signal: stop.signal,
    });
    for (let i = 0; i < 100 && !/listening on/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
    const address = /listening on (\S+?);/.exec(stderr)![1]!;
    // Its temporary files in a directory of its own while it serves (workdir.ts), put back after.
    const work = process.env.TMPDIR!;
    expect(path.basename(work)).toMatch(/^dnnpart-agent\.[A-Za-z0-9_-]+\.\d+$/);
    expect(existsSync(work)).toBe(true);
    expect(stderr).toContain(`temporary files in ${work}`);
    const c = connectAgent({ id: 'here', peer: { address } });
    const info = await c.info();
    expect(info.board.name).toBe('here');
    // The limits dnnpart-agent takes, taken here too.
    expect(info.limits).toMatchObject({ maxModelBytes: 1000000, queueFrames: 2, queueBytes: 65536 });
    expect(info.engines).toEqual(['onnxruntime-cpu', 'simulated']);
    c.close();
    stop.abort();
    expect(await done).toBe(0);
    expect(process.env.TMPDIR).toBe(tmpBefore);
    expect(existsSync(work)).toBe(false);
  });
});
