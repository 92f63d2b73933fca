// The join of a graph with known profiles, field by field (issue 10): every node's latency and
// energy on every board, nodes a profile leaves out, the boundary costs, the model's outputs, and the
// single-stage time they predict. Profiles are plain data here so every figure is known in advance.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Graph } from '@dnnpart/onnx-graph';
import type { Profile } from '@dnnpart/profiler';
import { evaluatePlan, parseProblem } from '@dnnpart/solver';
import { buildZooModel } from '@dnnpart/zoo';
import { buildProblem, type ResolvedSystem } from '@dnnpart/report';

let dir: string;
let graph: Graph;
let sha: string;
let file: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-join-'));
  file = path.join(dir, 'sq.onnx');
  writeFileSync(file, buildZooModel('squeezenet1_1', { inputShape: [1, 3, 32, 32] }));
  const m = await loadModel(file);
  graph = m.graph;
  sha = m.sha256;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface NodeFigures { readonly name: string; readonly ms: number; readonly mj: number | null }

function profile(nodes: readonly NodeFigures[], extra: Record<string, unknown> = {}): Profile {
  return {
    schema: 'dnnpart/profile@1', source: 'measured',
    board: { name: 'b', cpu: 'test cpu', cores: 2, memoryBytes: 123456789 },
    model: { name: 'squeezenet1_1', sha256: sha, inputs: [] },
    settings: { runs: 1, warmup: 0, threads: 1, executionProvider: 'cpu' },
    endToEnd: { medianMs: 1, p90Ms: 1, runs: 1 },
    nodes: nodes.map((n) => ({ name: n.name, op: 'X', latencyMs: { median: n.ms, p90: n.ms, mean: n.ms, stddev: 0 }, paramBytes: 0, outputBytes: 0, energyMj: n.mj, macs: 0, runs: 1 })),
    power: { source: 'estimated' },
    createdAt: '2026-12-04T00:00:00Z', tool: { name: 'dnnpart', version: 'test' }, warnings: [],
    ...extra,
  } as unknown as Profile;
}

function system(boards: { id: string; profile: Profile; source: 'measured' | 'analytic'; frameBuffers?: { perInByte: number; perOutByte: number } }[]): ResolvedSystem {
  const spec = {
    file: path.join(dir, 'join.yaml'), displayFile: 'join.yaml', name: 'join', model: { file: 'sq.onnx' },
    boards: boards.map((b) => ({ id: b.id })), links: [], inputBoard: boards[0]!.id, objective: 'throughput', boardOrder: 'free',
    constraints: {}, lines: { 'boards[0].profile': 5, 'boards[1].profile': 6 },
  };
  return {
    spec, name: 'join', graph, modelFile: file, modelSha256: sha,
    boards: boards.map((b) => ({ spec: { id: b.id, ...(b.source === 'measured' ? { profile: `${b.id}.json` } : { describe: 'x' }), ...(b.frameBuffers ? { frameBuffers: b.frameBuffers } : {}) }, profile: b.profile, source: b.source, ...(b.source === 'measured' ? { profileFile: path.join(dir, `${b.id}.json`) } : {}) })),
    links: boards.length > 1 ? [{ from: boards[0]!.id, to: boards[1]!.id, bandwidthBytesPerSec: 1e8, latencyMs: 0.1, powerW: 1, framing: 'ethernet' }] : [],
  } as unknown as ResolvedSystem;
}

describe('buildProblem: known profiles in, the same figures out', () => {
  it('copies every latency and energy, zero for eliminated nodes, nothing for nodes an analytic profile leaves out, and the boundaries', () => {
    const names = graph.nodes.map((n) => n.name);
    // Measured: node i takes (i+1) µs and 2(i+1) µJ, every fifth node has no energy, two nodes ORT eliminated.
    const eliminated = [names[3]!, names[10]!];
    const measured = names.filter((n) => !eliminated.includes(n)).map((name) => {
      const i = names.indexOf(name);
      return { name, ms: (i + 1) / 1000, mj: i % 5 === 0 ? null : (2 * (i + 1)) / 1000 };
    });
    const boundary = { fixedMs: 0.2, inMsPerByte: 1e-7, outMsPerByte: 3e-7, method: 'measured', runs: 10 };
    // Analytic: 3 nodes it cannot run are left out.
    const leftOut = [names[0]!, names[7]!, names[names.length - 1]!];
    const analytic = names.filter((n) => !leftOut.includes(n)).map((name, k) => ({ name, ms: 0.5 + k / 100, mj: 0.25 + k / 1000 }));

    const built = buildProblem(system([
      { id: 'here', profile: profile(measured, { eliminatedNodes: eliminated, boundary }), source: 'measured' },
      { id: 'pi', profile: profile(analytic, { source: 'analytic' }), source: 'analytic' },
    ]));
    const p = parseProblem(JSON.parse(JSON.stringify(built.problem)));
    const [here, pi] = p.boards;

    const wantHereMs: Record<string, number> = {};
    const wantHereMj: Record<string, number> = {};
    for (const n of measured) {
      wantHereMs[n.name] = n.ms;
      if (n.mj !== null) wantHereMj[n.name] = n.mj;
    }
    for (const n of eliminated) wantHereMs[n] = 0;
    expect(here!.latencyMs).toEqual(wantHereMs);
    expect(here!.energyMj).toEqual(wantHereMj);
    expect(here!.memoryBytes).toBe(123456789);
    expect(here!.boundary).toEqual({ fixedMs: 0.2, inMsPerByte: 1e-7, outMsPerByte: 3e-7 });

    expect(pi!.latencyMs).toEqual(Object.fromEntries(analytic.map((n) => [n.name, n.ms])));
    expect(pi!.energyMj).toEqual(Object.fromEntries(analytic.map((n) => [n.name, n.mj])));
    for (const n of leftOut) expect(pi!.latencyMs[n]).toBeUndefined();
    // No calibration: the documented default, and one warning naming the board.
    expect(pi!.boundary).toEqual({ fixedMs: 0.05, inMsPerByte: 0, outMsPerByte: 2e-7 });
    expect(built.warnings).toHaveLength(1);
    expect(built.warnings[0]).toMatch(/^board pi: profile of squeezenet1_1 on board b has no boundary calibration \(dnnpart\/profile@1\); stage boundaries cost the default 0\.05 ms/);

    // The model's input enters and its output leaves: both are tensors of the problem.
    const input = p.tensors.filter((t) => t.producer === null);
    const output = p.tensors.filter((t) => t.modelOutput === true);
    expect(input.map((t) => [t.id, t.bytes])).toEqual([['input', 3 * 32 * 32 * 4]]);
    expect(output.map((t) => [t.id, t.consumers, t.bytes])).toEqual([['output', [], 1000 * 4]]);

    // One stage of the whole model on "here": the sum of the node figures plus its boundary.
    const m = evaluatePlan(p, [{ board: 'here', nodes: names }]);
    const kernel = measured.reduce((a, n) => a + n.ms, 0);
    const bnd = 0.2 + 1e-7 * 3 * 32 * 32 * 4 + 3e-7 * 4000;
    expect(m.stages[0]!.kernelMs).toBeCloseTo(kernel, 12);
    expect(m.stages[0]!.boundaryMs).toBeCloseTo(bnd, 12);
    expect(m.stages[0]!.computeMs).toBeCloseTo(kernel + bnd, 12);
    expect(m.energyMj).toBeCloseTo(Object.values(wantHereMj).reduce((a, x) => a + x, 0), 12);
    // Every board holds frames in flight as the agents do: 1.5 B a byte in, 7 a byte out.
    for (const b of p.boards) expect(b.frameBuffers).toEqual({ perInByte: 1.5, perOutByte: 7 });
    expect(m.stages[0]!.framesBytes).toBe(1.5 * 3 * 32 * 32 * 4 + 7 * 4000);
    const weights = p.nodes.reduce((a, n) => a + n.memoryBytes, 0);
    const peak = p.nodes.reduce((a, n) => Math.max(a, n.activationBytes ?? 0), 0);
    expect(m.stages[0]!.memoryBytes).toBe(weights + peak + m.stages[0]!.framesBytes!);
  });

  it("takes a board's frameBuffers from the system file instead of the default", () => {
    const nodes = graph.nodes.map((n) => ({ name: n.name, ms: 1, mj: 1 }));
    const p = buildProblem(system([
      { id: 'here', profile: profile(nodes), source: 'measured', frameBuffers: { perInByte: 0, perOutByte: 2 } },
      { id: 'there', profile: profile(nodes), source: 'measured' },
    ])).problem;
    expect(p.boards.map((b) => b.frameBuffers)).toEqual([{ perInByte: 0, perOutByte: 2 }, { perInByte: 1.5, perOutByte: 7 }]);
    const m = evaluatePlan(p, [{ board: 'here', nodes: graph.nodes.map((n) => n.name) }]);
    expect(m.stages[0]!.framesBytes).toBe(2 * 1000 * 4);
  });

  it('prices frames in flight by the float32 an agent holds when tensors travel encoded', () => {
    const nodes = graph.nodes.map((n) => ({ name: n.name, ms: 1, mj: 1 }));
    const s = system([{ id: 'here', profile: profile(nodes), source: 'measured' }]);
    const p = buildProblem({ ...s, spec: { ...s.spec, transfer: 'int8' } } as ResolvedSystem).problem;
    // The problem's bytes are the encoded ones (a byte an element and a scale and zero point) ...
    expect(p.tensors.find((t) => t.producer === null)!.bytes).toBe(3 * 32 * 32 + 5);
    // ... and the rates four times the float32 ones, so that a stage's frames come to what it holds.
    expect(p.boards[0]!.frameBuffers).toEqual({ perInByte: 6, perOutByte: 28 });
    const f = buildProblem({ ...s, spec: { ...s.spec, transfer: 'fp16' } } as ResolvedSystem).problem;
    expect(f.boards[0]!.frameBuffers).toEqual({ perInByte: 3, perOutByte: 14 });
  });

  it("prices a stage's encoding and decoding from its board's profile when tensors travel encoded, and the model outputs without them", () => {
    const names = graph.nodes.map((n) => n.name);
    const nodes = names.map((name) => ({ name, ms: 0.01, mj: 1 }));
    const encodings = { fp16: { encodeMsPerByte: 1e-6, decodeMsPerByte: 5e-7 }, int8: { encodeMsPerByte: 2e-6, decodeMsPerByte: 7e-7 }, method: 'measured' };
    const boundary = { fixedMs: 0.2, inMsPerByte: 1e-7, outMsPerByte: 3e-7, method: 'measured', runs: 10, encodings };
    const s = system([
      { id: 'here', profile: profile(nodes, { boundary }), source: 'measured' },
      { id: 'there', profile: profile(nodes, { boundary }), source: 'measured' },
      { id: 'old', profile: profile(nodes, { boundary: { ...boundary, encodings: undefined } }), source: 'measured' },
    ]);
    const at = (transfer: string) => buildProblem({ ...s, spec: { ...s.spec, transfer } } as ResolvedSystem);
    // fp32: the boundary as profiled, no encoding, no warning about it.
    const plain = at('fp32');
    expect(plain.problem.boards[0]!.boundary).toEqual({ fixedMs: 0.2, inMsPerByte: 1e-7, outMsPerByte: 3e-7 });
    expect(plain.warnings.filter((w) => /encoding/.test(w))).toEqual([]);
    // int8: a problem byte stands for 4 float32 bytes copied, encoded or decoded; a model output is copied only.
    const int8 = at('int8');
    const b = int8.problem.boards[0]!.boundary!;
    expect(b.fixedMs).toBe(0.2);
    expect(b.inMsPerByte).toBeCloseTo((1e-7 + 7e-7) * 4, 18);
    expect(b.outMsPerByte).toBeCloseTo((3e-7 + 2e-6) * 4, 18);
    expect(b.outputMsPerByte).toBeCloseTo(3e-7 * 4, 18);
    // The model inputs where they are (the first stage on the input board): copied, not decoded.
    expect(b.inputMsPerByte).toBeCloseTo(1e-7 * 4, 18);
    const half = at('fp16').problem.boards[0]!.boundary!;
    expect([half.inMsPerByte, half.outMsPerByte, half.outputMsPerByte, half.inputMsPerByte].map((x) => Number(x!.toPrecision(12)))).toEqual([1.2e-6, 2.6e-6, 6e-7, 2e-7]);
    // A profile without the calibration: the default, said once, naming the board.
    const old = int8.problem.boards[2]!.boundary!;
    expect(old.outMsPerByte).toBeCloseTo((3e-7 + 1e-6) * 4, 18);
    expect(int8.warnings.filter((w) => /encoding/.test(w))).toEqual([expect.stringMatching(/^board old: profile of squeezenet1_1 on board b has no calibration of encoding and decoding tensors for a link; they cost the default [\d.]+ \/ [\d.]+ ms\/MB \(int8\)/)]);
    // Two stages: the first, on the input board, pays its input's copy (the frames are there, not decoded)
    // and the cut's copy and encoding, the second the cut's decoding and its output's copy (what the
    // runtime's agents do).
    const cut = names.indexOf(names.find((n) => /fire5/.test(n))!);
    const plan = [{ board: 'here', nodes: names.slice(0, cut) }, { board: 'there', nodes: names.slice(cut) }];
    const problem = parseProblem(JSON.parse(JSON.stringify(int8.problem)));
    expect(problem.inputBoard).toBe('here');
    const m = evaluatePlan(problem, plan);
    const [s0, s1] = m.stages;
    expect(s0!.boundaryMs).toBeCloseTo(0.2 + 1e-7 * 4 * s0!.inBytes! + (3e-7 + 2e-6) * 4 * s0!.outBytes!, 9);
    expect(s1!.boundaryMs).toBeCloseTo(0.2 + (1e-7 + 7e-7) * 4 * s1!.inBytes! + 3e-7 * 4 * s1!.outBytes!, 9);
    // The whole model on the input board, and on another: there the input arrives over the link, encoded, and is decoded.
    const [home] = evaluatePlan(problem, [{ board: 'here', nodes: names }]).stages;
    const [away] = evaluatePlan(problem, [{ board: 'there', nodes: names }]).stages;
    expect(home!.inBytes).toBe(s0!.inBytes);
    expect(home!.boundaryMs).toBeCloseTo(0.2 + 1e-7 * 4 * home!.inBytes! + 3e-7 * 4 * home!.outBytes!, 9);
    expect(away!.boundaryMs).toBeCloseTo(0.2 + (1e-7 + 7e-7) * 4 * home!.inBytes! + 3e-7 * 4 * home!.outBytes!, 9);
    expect(s0!.outBytes).toBeGreaterThan(0);
    // The output, 1000 float32 values, is 1000 + 5 problem bytes at int8: priced as 4 bytes each copied.
    expect(s1!.outBytes).toBe(1005);
  });

  it("names the system file's own frameBuffers when they are what is too large", () => {
    const nodes = graph.nodes.map((n) => ({ name: n.name, ms: 1, mj: 1 }));
    expect(() => buildProblem(system([{ id: 'here', profile: profile(nodes), source: 'measured', frameBuffers: { perInByte: 1e300, perOutByte: 0 } }])))
      .toThrowError(expect.objectContaining({ code: 'SYSTEM_VALUE_TOO_LARGE', message: expect.stringMatching(/^join\.yaml(:\d+)?: boards\[0\]\.frameBuffers\.perInByte: the frame buffers over the model's \d+ bytes of tensors comes to/) }));
  });

  it.each([
    { name: 'a measured profile without a node', drop: 5, extra: undefined, code: 'SYSTEM_PROFILE_NODE_MISSING', message: /join\.yaml:5: boards\[0\]\.profile: here\.json has no entry for node "/ },
    { name: 'a profile with a node the graph lacks', drop: -1, extra: 'not-a-node', code: 'SYSTEM_PROFILE_NODE_UNKNOWN', message: /join\.yaml:5: boards\[0\]\.profile: here\.json has node "not-a-node", which is not in sq\.onnx/ },
  ])('refuses $name', ({ drop, extra, code, message }) => {
    const names = graph.nodes.map((n) => n.name);
    const nodes = names.filter((_, i) => i !== drop).map((name) => ({ name, ms: 1, mj: 1 }));
    if (extra) nodes.push({ name: extra, ms: 1, mj: 1 });
    expect(() => buildProblem(system([{ id: 'here', profile: profile(nodes), source: 'measured' }]))).toThrowError(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });
});
