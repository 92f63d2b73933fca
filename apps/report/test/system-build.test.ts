// From a system file to a solver problem: real zoo model, a real measured profile, analytic
// profiles from the committed board descriptions, link descriptions; and each refusal.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertFp16 } from '@dnnpart/accuracy';
import { encodeModel, graphCosts, liveBytes, loadModel } from '@dnnpart/onnx-graph';
import { buildZooModel } from '@dnnpart/zoo';
import { parseProblem } from '@dnnpart/solver';
import { ACTIVATION_FACTOR, buildProblem, problemNodes, STAGE_RUNTIME_BYTES, loadSystem, profilesDir, resolveSystem, SystemError, type ResolveEvent } from '@dnnpart/report';
import { run } from './_run.js';

let dir: string;
const sys = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-sys-'));
  for (const [file, shape] of [['sq.onnx', '1x3x32x32'], ['sq64.onnx', '1x3x64x64']]) {
    expect((await run(['zoo', 'export', 'squeezenet1_1', '--input', shape!, '-o', file!], { cwd: dir })).code).toBe(0);
  }
  expect((await run(['profile', 'sq.onnx', '--board', 'box', '--runs', '2', '--warmup', '0', '-o', 'sq.box.profile.json'], { cwd: dir })).code).toBe(0);
  expect((await run(['profile', 'sq64.onnx', '--board', 'box', '--runs', '2', '--warmup', '0', '-o', 'sq64.box.profile.json'], { cwd: dir })).code).toBe(0);
  // The same machine with its power estimated from a description (no sensor here).
  expect((await run(['profile', 'sq.onnx', '--board', 'box', '--runs', '2', '--warmup', '0', '--describe', 'ci-x86-2core', '-o', 'sq.box-powered.profile.json'], { cwd: dir })).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('buildProblem', () => {
  it('warns of a measured profile without power figures, whose board an energy objective would take for free', async () => {
    const file = sys('power.yaml', [
      'version: 1',
      'model: { file: sq.onnx }',
      'boards:',
      '  - { id: box, profile: sq.box.profile.json }',
      '  - { id: powered, profile: sq.box-powered.profile.json }',
      '  - { id: pi, describe: raspberry-pi-5 }',
      'network: ethernet-1000base-t',
      'objective: energy',
    ].join('\n'));
    const { problem, warnings } = buildProblem(await resolveSystem(loadSystem(file, 'power.yaml'), { workDir: path.join(dir, 'work') }));
    expect(warnings.filter((w) => w.includes('power'))).toEqual([
      'board box: its profile has no power figures (no power sensor, and profiled without --describe): its layers count 0 mJ, so energy figures and objectives leave this board out; profile again with --describe <board.yaml> to estimate them',
    ]);
    expect(Object.keys(problem.boards.find((b) => b.id === 'box')!.energyMj ?? {})).toEqual([]);
    // Estimated: the description's active power over each node's time (a node ORT removed takes none).
    const powered = problem.boards.find((b) => b.id === 'powered')!;
    expect(Object.keys(powered.energyMj ?? {}).length).toBeGreaterThan(0);
    for (const [node, mj] of Object.entries(powered.energyMj ?? {})) expect(mj > 0 || powered.latencyMs[node] === 0, node).toBe(true);
  });

  it('joins the graph, a measured profile, analytic profiles and links', async () => {
    const file = sys('ok.yaml', [
      'version: 1',
      'name: sq-three',
      'model: { file: sq.onnx }',
      'boards:',
      '  - { id: box, profile: sq.box.profile.json, memoryBytes: 1000000000 }',
      '  - { id: pi, describe: raspberry-pi-5 }',
      '  - { id: orin, describe: jetson-orin-nano }',
      'network: ethernet-1000base-t',
      'links:',
      '  - { from: box, to: pi, link: ethernet-100base-t }',
      'objective: energy',
      'constraints: { maxLatencyMs: 1000 }',
    ].join('\n'));
    const events: ResolveEvent[] = [];
    const resolved = await resolveSystem(loadSystem(file, 'ok.yaml'), { workDir: path.join(dir, 'work'), onProgress: (e) => events.push(e) });
    const { problem, parts } = buildProblem(resolved);
    const model = await loadModel(path.join(dir, 'sq.onnx'));
    const costs = graphCosts(model.graph);
    const live = liveBytes(model.graph);

    expect(problem.nodes).toHaveLength(model.graph.nodes.length);
    for (const n of problem.nodes) {
      const c = costs.nodes.get(n.id)!;
      // Weights stay with the node; the activations alive while it runs, scaled for the runtime's arena and state.
      expect(n).toEqual({ id: n.id, memoryBytes: c.paramBytes, activationBytes: Math.round(ACTIVATION_FACTOR * live.get(n.id)! + STAGE_RUNTIME_BYTES), macs: c.macs });
    }
    // The first convolution holds the input and its own output at least.
    const conv0 = problem.nodes[0]!;
    expect(conv0.activationBytes!).toBeGreaterThanOrEqual(ACTIVATION_FACTOR * (3 * 32 * 32 * 4 + costs.nodes.get(conv0.id)!.outputBytes) + STAGE_RUNTIME_BYTES);
    const inputs = problem.tensors.filter((t) => t.producer === null);
    expect(inputs).toEqual([{ id: 'input', producer: null, consumers: ['/features/features.0/Conv'], bytes: 3 * 32 * 32 * 4 }]);
    expect(problem.tensors.some((t) => model.graph.initializers.includes(t.id))).toBe(false);

    const profile = JSON.parse(readFileSync(path.join(dir, 'sq.box.profile.json'), 'utf8'));
    const box = problem.boards.find((b) => b.id === 'box')!;
    expect(box.memoryBytes).toBe(1000000000);
    for (const n of profile.nodes) expect(box.latencyMs[n.name]).toBe(n.latencyMs.median);
    for (const b of problem.boards) expect(Object.keys(b.latencyMs).sort()).toEqual(model.graph.nodes.map((n) => n.name).sort());
    expect(problem.boards.find((b) => b.id === 'pi')!.memoryBytes).toBeGreaterThan(1e9);

    // 6 ordered pairs: box->pi over 100BASE-T as listed, the rest from `network`.
    expect(problem.links).toHaveLength(6);
    expect(problem.links.find((l) => l.from === 'box' && l.to === 'pi')!.bandwidthBytesPerSec).toBe(12.5e6);
    expect(problem.links.find((l) => l.from === 'pi' && l.to === 'box')).toMatchObject({ bandwidthBytesPerSec: 125e6, powerW: 0.6, framing: 'ethernet' });
    expect([problem.inputBoard, problem.objective, problem.boardOrder, problem.constraints]).toEqual(['box', 'energy', 'free', { maxLatencyMs: 1000 }]);

    // The solver accepts it as is.
    expect(parseProblem(JSON.parse(JSON.stringify(problem)), 'built')).toEqual(JSON.parse(JSON.stringify(problem)));

    expect(parts.boards.map((b) => [b.id, b.source])).toEqual([['box', 'measured'], ['pi', 'analytic'], ['orin', 'analytic']]);
    // Only a measured profile has a time worth showing; an analytic one is made on the spot.
    expect(parts.boards.map((b) => b.createdAt === undefined)).toEqual([false, true, true]);
    expect(parts.model).toMatchObject({ layers: 65, params: costs.params, macs: costs.macs, file: 'sq.onnx' });
    expect(parts.cuts).toHaveLength(65);
    expect(parts.layers[0]).toMatchObject({ name: '/features/features.0/Conv', op: 'Conv', latencyMs: { box: box.latencyMs['/features/features.0/Conv'] } });
    expect(events.filter((e) => e.kind === 'phase').map((e) => (e as { message: string }).message)).toContain('reading the profile of box');
  });

  it('joins a committed measured profile with the zoo export of the same network (same sha256)', async () => {
    const resolved = await resolveSystem(loadSystem(path.join(profilesDir, 'systems', 'effnet-ci-orin-rpi5.yaml')), { workDir: path.join(dir, 'work-effnet') });
    const { problem, parts } = buildProblem(resolved);
    expect(problem.nodes).toHaveLength(239);
    const profile = JSON.parse(readFileSync(path.join(profilesDir, 'measured', 'ci-x86-2core', 'efficientnet_b0.t2.profile.json'), 'utf8'));
    expect(resolved.modelSha256).toBe(profile.model.sha256);
    const ci = problem.boards.find((b) => b.id === 'ci-x86')!;
    expect(ci.latencyMs['/features/features.0/features.0.0/Conv']).toBe(profile.nodes.find((n: { name: string }) => n.name === '/features/features.0/features.0.0/Conv').latencyMs.median);
    expect(parts.boards[0]).toMatchObject({ id: 'ci-x86', source: 'measured', createdAt: profile.createdAt, powerSource: profile.power.source });
  });

  it('measures `measure: true` boards and writes their profile into the work directory', async () => {
    const file = sys('m.yaml', 'version: 1\nmodel: { zoo: squeezenet1_1, input: 1x3x32x32 }\nboards:\n  - { id: here, measure: { runs: 2, warmup: 0 } }\n');
    const events: ResolveEvent[] = [];
    const work = path.join(dir, 'work-m');
    const resolved = await resolveSystem(loadSystem(file), { workDir: work, onProgress: (e) => events.push(e) });
    expect(resolved.boards[0]!.profileFile).toBe(path.join(work, 'here.profile.json'));
    expect(resolved.boards[0]!.profile.settings.runs).toBe(2);
    expect(resolved.modelFile).toBe(path.join(work, 'squeezenet1_1-1x3x32x32.onnx'));
    expect(events.some((e) => e.kind === 'profile' && e.done === e.total && e.total === 2)).toBe(true);
    expect(buildProblem(resolved).problem.boards[0]!.memoryBytes).toBeGreaterThan(0);
  });

  it('warns when a board has no link at all', async () => {
    const file = sys('nolinks.yaml', 'version: 1\nmodel: { file: sq.onnx }\nboards:\n  - { id: pi, describe: raspberry-pi-5 }\n  - { id: orin, describe: jetson-orin-nano }\nlinks:\n  - { from: pi, to: orin, link: ethernet-1000base-t }\n  - { from: orin, to: pi, link: ethernet-1000base-t }\n');
    const events: ResolveEvent[] = [];
    await resolveSystem(loadSystem(file, 'nolinks.yaml'), { workDir: path.join(dir, 'work-nl'), onProgress: (e) => events.push(e) });
    expect(events.some((e) => e.kind === 'phase' && e.message.startsWith('warning'))).toBe(false);
    const lonely = sys('lonely.yaml', 'version: 1\nmodel: { file: sq.onnx }\nboards:\n  - { id: pi, describe: raspberry-pi-5 }\n  - { id: orin, describe: jetson-orin-nano }\n');
    const events2: ResolveEvent[] = [];
    await resolveSystem(loadSystem(lonely, 'lonely.yaml'), { workDir: path.join(dir, 'work-nl'), onProgress: (e) => events2.push(e) });
    expect(events2.filter((e) => e.kind === 'phase' && e.message.startsWith('warning')).map((e) => (e as { message: string }).message)).toEqual([
      'warning: no link joins pi to another board, so no plan can combine it with one (add `network:` or `links:` to lonely.yaml)',
      'warning: no link joins orin to another board, so no plan can combine it with one (add `network:` or `links:` to lonely.yaml)',
    ]);
  });

  const bad = (profile: string) => `version: 1\nmodel: { file: sq.onnx }\nboards:\n  - id: pi\n    describe: raspberry-pi-5\n  - id: box\n    profile: ${profile}\n`;
  it.each([
    ['a profile of another model', () => 'sq64.box.profile.json', 'SYSTEM_PROFILE_MODEL_MISMATCH',
      /^bad\.yaml:7: boards\[1\]\.profile: sq64\.box\.profile\.json is a profile of model "sq64" \(sha256 [0-9a-f]{12}…\), not of sq\.onnx "[^"]+" \(sha256 [0-9a-f]{12}…\); profile this model file$/],
    ['a graph node missing from the profile', () => edit((p) => { p.nodes = p.nodes.filter((n: { name: string }) => n.name !== '/features/features.3/squeeze/Conv'); }), 'SYSTEM_PROFILE_NODE_MISSING',
      /^bad\.yaml:7: boards\[1\]\.profile: edited\.profile\.json has no entry for node "\/features\/features\.3\/squeeze\/Conv" of sq\.onnx; profile the model again with this dnnpart$/],
    ['a profile node not in the graph', () => edit((p) => { p.nodes[3].name = 'ghost'; }), 'SYSTEM_PROFILE_NODE_UNKNOWN',
      /^bad\.yaml:7: boards\[1\]\.profile: edited\.profile\.json has node "ghost", which is not in sq\.onnx$/],
  ])('refuses %s', async (_what, make, code, message) => {
    const file = sys('bad.yaml', bad(make()));
    const resolved = await resolveSystem(loadSystem(file, 'bad.yaml'), { workDir: path.join(dir, 'work-bad') });
    let err: unknown;
    try {
      buildProblem(resolved);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SystemError);
    expect(err).toMatchObject({ code, message: expect.stringMatching(message) });
  });

  it('prefixes a package error with the file, line and field', async () => {
    writeFileSync(path.join(dir, 'broken.profile.json'), '{ not json');
    const file = sys('bad2.yaml', bad('broken.profile.json'));
    await expect(resolveSystem(loadSystem(file, 'bad2.yaml'), { workDir: path.join(dir, 'work-bad') })).rejects.toMatchObject({
      code: 'PROFILE_NOT_JSON',
      message: expect.stringMatching(/^bad2\.yaml:7: boards\[1\]\.profile: .*broken\.profile\.json: not JSON/),
    });
  });
});

function edit(change: (p: any) => void): string {
  const p = JSON.parse(readFileSync(path.join(dir, 'sq.box.profile.json'), 'utf8'));
  change(p);
  writeFileSync(path.join(dir, 'edited.profile.json'), JSON.stringify(p));
  return 'edited.profile.json';
}

describe('problemNodes', () => {
  it("a float16 model's nodes are planned at its float32 twin's memory: onnxruntime's CPU provider computes them in float32", async () => {
    const fp32 = await loadModel(buildZooModel('squeezenet1_1', { inputShape: [1, 3, 64, 64] }));
    const half = convertFp16(fp32.proto, fp32.graph);
    expect(half.report.convertedInitializers).toBeGreaterThan(0);
    const fp16 = await loadModel(encodeModel(half.proto));
    const a = problemNodes(fp32.graph);
    const b = new Map(problemNodes(fp16.graph).map((n) => [n.id, n]));
    // The file's weights are half the size; the plan's are the same as the float32 model's, node by node.
    expect(graphCosts(fp16.graph).paramBytes).toBeLessThan(0.51 * graphCosts(fp32.graph).paramBytes);
    for (const n of a) {
      const h = b.get(n.id)!;
      expect(h.memoryBytes).toBe(n.memoryBytes);
      // At least the float32 activations (the float16 model adds its input and output casts).
      expect(h.activationBytes!).toBeGreaterThanOrEqual(n.activationBytes!);
    }
    const peak = (nodes: Iterable<{ activationBytes?: number }>) => Math.max(...[...nodes].map((n) => n.activationBytes ?? 0));
    expect(peak(b.values())).toBeLessThan(1.5 * peak(a));
  });
});
