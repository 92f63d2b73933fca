// zoo, inspect, split and profile through main(): real ONNX files from the zoo, real onnxruntime.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '@dnnpart/onnx-graph';
import { ACTIVATION_FACTOR } from '@dnnpart/report';
import { listZoo, zooNames } from '@dnnpart/zoo';
import { run } from './_run.js';

const fixtures = fileURLToPath(new URL('./fixtures/cli/', import.meta.url));
let dir: string;
let model: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-cli-'));
  const r = await run(['zoo', 'export', 'squeezenet1_1', '--input', '1x3x64x64', '-o', 'sq.onnx'], { cwd: dir });
  expect(r).toEqual({ code: 0, stdout: expect.stringMatching(/^wrote sq\.onnx \(squeezenet1_1, input 1x3x64x64, 4\.\d+ MB\)\n$/), stderr: '' });
  model = path.join(dir, 'sq.onnx');
  const bytes = readFileSync(model);
  writeFileSync(path.join(dir, 'half.onnx'), bytes.subarray(0, bytes.length >> 1));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('zoo', () => {
  it('list --json gives name, params and MACs of every network', async () => {
    const r = await run(['zoo', 'list', '--json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as { name: string; params: number; macs: number }[];
    expect(list.map((z) => z.name)).toEqual([...zooNames]);
    expect(list).toEqual(listZoo().map(({ name, params, macs }) => ({ name, params, macs })));
    expect(list.find((z) => z.name === 'resnet18')).toEqual({ name: 'resnet18', params: 11689512, macs: expect.any(Number) });
  });

  it('list prints a table', async () => {
    const r = await run(['zoo', 'list']);
    expect(r.stdout).toMatch(/^network +params +MACs +description$/m);
    expect(r.stdout).toMatch(/^efficientnet_b0 +5\.29 M +386 M +EfficientNet-B0/m);
  });

  it('export --json reports the file', async () => {
    const r = await run(['zoo', 'export', 'squeezenet1_1', '--input', '1x3x32x32', '-o', 'a/sq32.onnx', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toEqual({ file: path.join(dir, 'a', 'sq32.onnx'), bytes: readFileSync(path.join(dir, 'a', 'sq32.onnx')).byteLength, name: 'squeezenet1_1', input: [1, 3, 32, 32] });
    rmSync(path.join(dir, 'a'), { recursive: true });
  });

  it('exports a text encoder at its own default shape (batch x sequence), or the one given', async () => {
    for (const [args, input] of [[[], [1, 128]], [['--input', '2x16'], [2, 16]]] as const) {
      const r = await run(['zoo', 'export', 'minilm_l6', ...args, '-o', 'a/m.onnx', '--json'], { cwd: dir });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ name: 'minilm_l6', input });
    }
    rmSync(path.join(dir, 'a'), { recursive: true });
  });
});

describe('inspect', () => {
  it('--json has nodes, params, MACs and every cut point', async () => {
    const r = await run(['inspect', model, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.nodes).toBe(65);
    expect(j.params).toBe(1235496);
    expect(j.macs).toBeGreaterThan(0);
    expect(j.cutPoints).toHaveLength(j.nodes);
    expect(j.cutPoints[0]).toEqual({ after: '/features/features.0/Conv', index: 0, bytes: 64 * 31 * 31 * 4, tensors: ['/features/features.0/Conv_output_0'], single: true });
    for (const c of j.cutPoints) expect(c).toEqual({ after: expect.any(String), index: expect.any(Number), bytes: expect.any(Number), tensors: expect.any(Array), single: expect.any(Boolean) });
  });

  it('estimates the memory a one-stage plan counts: weights, plus ACTIVATION_FACTOR x the most activation bytes alive at once, plus 2 MB', async () => {
    const r = await run(['inspect', model, '--json']);
    const j = JSON.parse(r.stdout);
    // Brute force over every position: the tensors made at or before it and read at or after it (outputs to the end).
    const { graph } = await loadModel(model);
    const at = new Map(graph.nodes.map((n, i) => [n.name, i]));
    let best = { bytes: -1, node: '' };
    graph.nodes.forEach((n, i) => {
      let sum = 0;
      for (const t of graph.tensors.values()) {
        if (t.isInitializer) continue;
        const made = t.producer === null ? 0 : at.get(t.producer)!;
        const last = t.isGraphOutput ? graph.nodes.length - 1 : Math.max(made, ...t.consumers.map((c) => at.get(c)!));
        if (made <= i && i <= last) sum += t.bytes;
      }
      if (sum > best.bytes) best = { bytes: sum, node: n.name };
    });
    // (The factor is 2 since onnxruntime's memory pattern went off: bench/results/verify-memory.md.)
    expect(ACTIVATION_FACTOR).toBe(2);
    expect(j.memoryEstimate).toEqual({ weightBytes: 1235496 * 4, activationBytes: ACTIVATION_FACTOR * best.bytes + 2_000_000, bytes: 1235496 * 4 + ACTIVATION_FACTOR * best.bytes + 2_000_000, peakNode: best.node });
    const text = await run(['inspect', model]);
    expect(text.stdout).toMatch(new RegExp(`^memory on one board \\(onnxruntime\\), as plans count it: [0-9.]+ MB \\(weights 4\\.94 MB; activations and runtime [0-9.]+ MB, at their peak at ${best.node.replace(/[/.]/g, '\\$&')}\\)$`, 'm'));
  });

  it('fixes dynamic dimensions with --input, per input name too', async () => {
    const one = JSON.parse((await run(['inspect', 'dynamic.onnx', '--input', '1x3x8x8', '--json'], { cwd: fixtures })).stdout);
    expect(one.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [1, 3, 8, 8], bytes: 768 }]);
    const named = JSON.parse((await run(['inspect', 'dynamic.onnx', '--input=x=2x3x4x4', '--json'], { cwd: fixtures })).stdout);
    expect(named.outputs).toEqual([{ name: 'y', dtype: 'float32', shape: [2, 3, 4, 4], bytes: 384 }]);
    expect(named.flops).toBe(96);
  });

  it('counts an op the cost model does not know as 0 MACs and says so', async () => {
    const r = await run(['inspect', 'unknown-op.onnx'], { cwd: fixtures });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('unknown-op.onnx: 3 nodes, 0 parameters, 0 MACs, inputs x[1x4]\nops the cost model does not know (counted as 0 MACs): com.example.FancyOp\n');
    expect(JSON.parse((await run(['inspect', 'unknown-op.onnx', '--json'], { cwd: fixtures })).stdout).unknownOps).toEqual(['com.example.FancyOp']);
  });

  it('prints a compact table of single-tensor cut points', async () => {
    const r = await run(['inspect', 'sq.onnx'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sq\.onnx: 65 nodes, 1\.24 M parameters, \d+(\.\d+)? M MACs, inputs input\[1x3x64x64\]$/m);
    expect(r.stdout).toMatch(/^\/features\/features\.0\/Conv +246 kB +1$/m);
    // Inside a Fire module two tensors cross: the squeeze output (for expand3x3) and expand1x1's.
    const all = await run(['inspect', 'sq.onnx', '--all'], { cwd: dir });
    expect(all.stdout).toContain('cut points (65 of 65):');
    expect(all.stdout).toMatch(/^\/features\/features\.3\/expand1x1\/Conv +\S+ kB +2$/m);
  });
});

describe('split', () => {
  it('writes stage models and a manifest', async () => {
    const cuts = '/features/features.2/MaxPool,/features/features.7/Concat';
    const r = await run(['split', model, '--after', cuts, '-o', 'stages', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'stages', 'manifest.json'), 'utf8'));
    expect(manifest.stages.map((s: { file: string }) => s.file)).toEqual(['stage-0.onnx', 'stage-1.onnx', 'stage-2.onnx']);
    expect(manifest.stages[1].inputs).toEqual(['/features/features.2/MaxPool_output_0']);
    for (const s of manifest.stages) expect(existsSync(path.join(dir, 'stages', s.file))).toBe(true);
    expect(JSON.parse(r.stdout).stages).toHaveLength(3);
  });
});

describe('profile', () => {
  it('writes a profile and summarises it', async () => {
    const r = await run(['profile', model, '--board', 'test-box', '--runs', '3', '--warmup', '1', '--describe', 'ci-x86-2core', '-o', 'p/sq.profile.json'], { cwd: dir });
    expect(r.code).toBe(0);
    const p = JSON.parse(readFileSync(path.join(dir, 'p', 'sq.profile.json'), 'utf8'));
    expect(p.schema).toBe('dnnpart/profile@2');
    expect(p.board.name).toBe('test-box');
    expect(p.nodes).toHaveLength(65);
    expect(p.settings.runs).toBe(3);
    expect(p.power.source).toBe('estimated');
    expect(r.stdout).toContain(`sq on test-box: end-to-end median ${p.endToEnd.medianMs.toFixed(2)} ms`);
    expect(r.stdout).toContain('top layers by time:');
    expect(r.stdout).toContain('profile written to p/sq.profile.json');
    // Non-TTY progress: a few plain lines per phase, no carriage returns.
    expect(r.stderr).toContain('timed runs: 3/3\n');
    expect(r.stderr).not.toContain('\r');
  });

  it('on a terminal the bar is redrawn in place', async () => {
    const r = await run(['profile', model, '--board', 'tty', '--runs', '2', '--warmup', '0', '-o', 'tty.json'], { cwd: dir, tty: true });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('\r\x1b[2Ktimed runs [###############...............] 1/2');
    expect(r.stderr).not.toMatch(/timed runs: \d/);
  });

  it('--json gives the summary; --quiet prints nothing', async () => {
    const r = await run(['profile', model, '--board', 'b2', '--runs', '2', '--warmup', '0', '--json', '-o', 'b2.json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ file: path.join(dir, 'b2.json'), board: 'b2', powerSource: 'unavailable' });
    const q = await run(['profile', model, '--board', 'b3', '--runs', '2', '--warmup', '0', '-q', '-o', 'b3.json'], { cwd: dir });
    expect(q).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('Ctrl-C: exit 130 and no profile left behind', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const r = await run(['profile', model, '--board', 'b4', '--runs', '200', '-o', 'b4.json'], { cwd: dir, signal: ac.signal });
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('dnnpart: interrupted; no partial profile was written');
    expect(existsSync(path.join(dir, 'b4.json'))).toBe(false);
  });
});

describe('bad input → exit 2 and one line naming the file, node or flag', () => {
  it.each([
    ['missing model', ['inspect', 'nope.onnx'], /^dnnpart: model file nope\.onnx not found.*\n$/],
    ['not ONNX', ['inspect', path.join(fixtures, 'not-onnx.onnx')], /^dnnpart: .*not-onnx\.onnx.*\n$/],
    ['truncated protobuf', ['inspect', 'half.onnx'], /^dnnpart: half\.onnx is truncated or corrupt.*\n$/],
    ['dynamic dimension without --input', ['inspect', path.join(fixtures, 'dynamic.onnx')], /^dnnpart: .*dynamic\.onnx: dims 2 \(H\) and 3 \(W\) of input x are dynamic; pass --input x=<shape> with the sizes your application feeds, e\.g\. --input x=1x3x224x224\n$/],
    ['--input for an input the model lacks', ['inspect', path.join(fixtures, 'dynamic.onnx'), '--input', 'z=1x3x8x8'], /^dnnpart: .*\bz\b.*\n$/],
    ['unknown zoo name', ['zoo', 'export', 'resnet19', '-o', 'x.onnx'], /^dnnpart: .*resnet19.*\n$/],
    ['input too small for the network', ['zoo', 'export', 'alexnet', '--input', '1x3x64x64', '-o', 'x.onnx'], /^dnnpart: alexnet: input 1x3x64x64 does not fit the network.*\n$/],
    ['bad shape', ['zoo', 'export', 'resnet18', '--input', '1x3', '-o', 'x.onnx'], /^dnnpart: resnet18: inputShape must be \[batch, 3, height, width\], got \[1,3\]\n$/],
    ['image shape for a text encoder', ['zoo', 'export', 'minilm_l6', '--input', '1x3x4x4', '-o', 'x.onnx'], /^dnnpart: minilm_l6: inputShape must be \[batch, sequence\].*got 1x3x4x4\n$/],
    ['unknown cut node', ['split', 'sq.onnx', '--after', 'no-such-node', '-o', 'out'], /^dnnpart: .*no-such-node.*\n$/],
    ['cuts out of order', ['split', 'sq.onnx', '--after', '/features/features.7/Concat,/features/features.2/MaxPool', '-o', 'out'], /^dnnpart: .*(order|before).*\n$/],
    ['bad board name', ['profile', 'sq.onnx', '--board', '../etc', '-o', 'x.json'], /^dnnpart: board name "\.\.\/etc" is not allowed.*\n$/],
    ['missing description', ['profile', 'sq.onnx', '--board', 'x', '--describe', 'no-board'], /^dnnpart: --describe: board description not found: no-board\n$/],
    ['unwritable profile path', ['profile', 'sq.onnx', '--board', 'x', '-o', 'sq.onnx/p.json'], /^dnnpart: .*sq\.onnx\/p\.json: cannot write profile.*\n$/],
  ])('%s', async (_what, argv, stderr) => {
    const r = await run(argv, { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(stderr);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('DNNPART_DEBUG=1 adds the code and stack', async () => {
    const r = await run(['inspect', 'nope.onnx'], { cwd: dir, env: { DNNPART_DEBUG: '1' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\(GRAPH_FILE_NOT_FOUND\) GraphError/);
  });
});
