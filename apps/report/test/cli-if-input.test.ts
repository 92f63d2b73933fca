// An If whose condition is a model input given no value stays one layer: inspect, profile and a
// system file warn once, naming the node and how to give the value; a given value inlines the
// branch it takes and the warning goes.
// fixtures/cli/if-input.onnx: x [1,4] -> Relu `pre`; If `branch` on the bool input c (then Sigmoid,
// else Neg); Add `post` of both (python3-onnx, checked with full_check).
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from './_run.js';

const fixtures = fileURLToPath(new URL('./fixtures/cli/', import.meta.url));
const WHY = 'If node branch stays one layer (nothing inside it can be cut or priced apart): its condition is the model input c, given no value; give it one to plan the branch it takes (1: then_branch, 0: else_branch)';

describe('an If on a model input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dnnpart-if-input-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(join(fixtures, 'if-input.onnx'), join(dir, 'if-input.onnx'));

  it('inspect warns once and reports it in --json; a value inlines the branch and the warning goes', async () => {
    const r = await run(['inspect', 'if-input.onnx'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`warning: ${WHY} (--input c=:1)\n`);
    const j = JSON.parse((await run(['inspect', 'if-input.onnx', '--json'], { cwd: dir })).stdout) as { inputBranches: unknown[]; layers: { op: string }[] };
    expect(j.inputBranches).toEqual([{ node: 'branch', condition: 'c', shape: [], message: WHY }]);
    expect(j.layers.map((l) => l.op)).toEqual(['Relu', 'If', 'Add']);
    const given = await run(['inspect', 'if-input.onnx', '--input', 'c=:1', '--json'], { cwd: dir });
    expect(given.stderr).toBe('');
    const g = JSON.parse(given.stdout) as { inputBranches: unknown[]; layers: { op: string }[] };
    expect(g.inputBranches).toEqual([]);
    expect(g.layers.map((l) => l.op)).toEqual(['Relu', 'Sigmoid', 'Add']);
  });

  it('profile says it among the profile warnings', async () => {
    const r = await run(['profile', 'if-input.onnx', '--board', 'here', '--runs', '3', '--warmup', '1', '-o', 'p.json', '--json', '-q'], { cwd: dir });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { warnings: string[] }).warnings).toContain(`${WHY} (input spec c=:1)`);
  });

  it('a system file warns with the model.input syntax', async () => {
    writeFileSync(join(dir, 'if.yaml'), ['version: 1', 'model:', '  file: if-input.onnx', 'boards:', '  - id: pi', '    describe: raspberry-pi-5', 'objective: latency', ''].join('\n'));
    const r = await run(['solve', '--system', 'if.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`warning: ${WHY} (model.input: { c: ':1' })\n`);
  });
});
