// `dnnpart inspect --loop-trips`: a Loop whose trip count is computed at run time costs one
// iteration with a warning naming the node, the number the user gives, or its constant count.
// fixtures/cli/loop.onnx: inputs x [1,6] and n (int64 scalar); Loop `steps` runs n times
// v = v @ w (w 6x6, 36 MACs per iteration), then Relu.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from './_run.js';

const fixtures = fileURLToPath(new URL('./fixtures/cli/', import.meta.url));

describe('inspect --loop-trips', () => {
  it.each([
    ['nothing given: 1 iteration, with a warning', [], 36, 'steps 1 iteration (assumed)',
      'warning: Loop node steps has a trip count computed at run time; costed as 1 iteration (give --loop-trips steps=<n>)\n'],
    ['--loop-trips steps=8', ['--loop-trips', 'steps=8'], 8 * 36, 'steps 8 iterations (given)', ''],
    ['n fixed with --input n=:5: the constant count', ['--input', 'x=1x6', '--input', 'n=:5'], 5 * 36, 'steps 5 iterations (constant)', ''],
  ])('%s', async (_, args, macs, line, stderr) => {
    const r = await run(['inspect', 'loop.onnx', ...args], { cwd: fixtures });
    expect(r.stderr).toBe(stderr);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`loop.onnx: 2 nodes, 37 parameters, ${macs} MACs`);
    expect(r.stdout).toContain(`Loop nodes costed at: ${line}\n`);
    const j = JSON.parse((await run(['inspect', 'loop.onnx', ...args, '--json'], { cwd: fixtures })).stdout) as { macs: number; loops: unknown[] };
    expect(j.macs).toBe(macs);
    expect(j.loops).toEqual([{ node: 'steps', iterations: macs / 36, trips: line.split('(')[1]!.slice(0, -1) }]);
  });

  it.each([
    [['--loop-trips', 'relu=8'], 'dnnpart: --loop-trips relu=8: loop.onnx has no Loop node relu; its Loop nodes are steps\n'],
    [['--loop-trips', 'steps=two'], 'dnnpart: --loop-trips steps=two: give <Loop node>=<iterations>, a whole number >= 0, e.g. --loop-trips steps=12\n'],
    [['--input', 'x=1x6', '--input', 'n=:5', '--loop-trips', 'steps=3'], 'dnnpart: --loop-trips steps=3: loop.onnx: node steps (Loop) has the constant trip count 5; leave steps out of --loop-trips\n'],
  ])('%j is exit 2 with one line naming the node', async (args, stderr) => {
    const r = await run(['inspect', 'loop.onnx', ...args], { cwd: fixtures });
    expect(r).toEqual({ code: 2, stdout: '', stderr });
  });
});

describe('system files: model.loopTrips', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dnnpart-loop-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(join(fixtures, 'loop.onnx'), join(dir, 'loop.onnx'));
  const system = (extra: string) => {
    writeFileSync(join(dir, 'loop.yaml'), [
      'version: 1', 'model:', '  file: loop.onnx', "  input: { x: 1x6, n: '' }", ...(extra ? [extra] : []),
      'boards:', '  - id: pi', '    describe: raspberry-pi-5', 'objective: latency', '',
    ].join('\n'));
    return run(['solve', '--system', 'loop.yaml'], { cwd: dir });
  };

  it('warns, naming the node, when a run-time trip count is costed as one iteration', async () => {
    const r = await system('');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: Loop node steps has a trip count computed at run time; costed as 1 iteration (give model.loopTrips: { steps: <n> })\n');
  });

  it('takes a scalar input as "" and a fixed one as ":<value>" (then the constant count)', async () => {
    writeFileSync(join(dir, 'fixed.yaml'), ['version: 1', 'model:', '  file: loop.onnx', "  input: { x: 1x6, n: ':5' }", 'boards:', '  - id: pi', '    describe: raspberry-pi-5', ''].join('\n'));
    const r = await run(['solve', '--system', 'fixed.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('warning: Loop node');
  });

  it('takes the count from the file, and then says nothing', async () => {
    const r = await system('  loopTrips: { steps: 8 }');
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('warning: Loop node');
  });

  it('names the field and the node for a Loop the model does not have', async () => {
    const r = await system('  loopTrips: { relu: 8 }');
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('dnnpart:'))).toEqual([expect.stringMatching(/^dnnpart: loop\.yaml:\d+: model\.loopTrips: .*no Loop node relu; its Loop nodes are steps$/)]);
  });
});
