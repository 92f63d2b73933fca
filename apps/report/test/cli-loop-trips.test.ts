// `dnnpart inspect --loop-trips`: a Loop whose trip count is computed at run time costs one
// iteration with a warning naming the node, the number the user gives, or its constant count.
// fixtures/cli/loop.onnx: inputs x [1,6] and n (int64 scalar); Loop `steps` runs n times
// v = v @ w (w 6x6, 36 MACs per iteration), then Relu.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
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
