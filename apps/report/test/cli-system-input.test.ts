// `--input` beside `--system` (verify, run): the system's profiles and plans are for the shapes its
// model.input gives; a run at other shapes would be held against predictions for those. ddddocr's
// recognizer has a dynamic width, so the same file can be planned at one width and run at another.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findExternalModel, type ExternalModel } from '@dnnpart/zoo';
import { run } from './_run.js';

function present(m: ExternalModel): boolean {
  if (m.available) return true;
  if (process.env.CI === 'true') throw new Error(`${m.name}: ${m.source.package}@${m.source.version} is not installed; npm ci installs it`);
  console.warn(`skipped ${m.name}: ${m.source.package}@${m.source.version} is not installed`);
  return false;
}

describe('--input beside --system', () => {
  const m = findExternalModel('ddddocr-rec')!;
  const dir = mkdtempSync(join(tmpdir(), 'system-input-'));
  const system = join(dir, 'sys.yaml');
  writeFileSync(system, ['version: 1', 'name: rec', `model: { file: "${m.file}", input: { input1: '1x1x64x256' } }`, 'boards:', '  - { id: a, describe: raspberry-pi-5 }', '  - { id: b, describe: raspberry-pi-4 }', 'network: ethernet-1000base-t'].join('\n'));
  const message = (width: number) => `dnnpart: --input input1=1x1x64x${width}: the system ${system} plans input input1 as 1x1x64x256, and its profiles and predictions are for that; change model.input in ${system}, or leave --input out\n`;

  it('verify refuses other shapes than the system plans, in one line naming the input and both shapes', async () => {
    if (!present(m)) return;
    const r = await run(['verify', '--system', system, '--input', 'input1=1x1x64x320', '--runs', '1', '--warmup', '0', '--frames', '0', '-q']);
    expect(r).toEqual({ code: 2, stdout: '', stderr: message(320) });
  });

  it('run refuses them too, before any agent is asked; the same shapes pass that check', async () => {
    if (!present(m)) return;
    const plan = join(dir, 'plan.json');
    const solved = await run(['solve', '--system', system, '--json', '-q']);
    expect(solved.code).toBe(0);
    writeFileSync(plan, solved.stdout);
    const agents = join(dir, 'agents.yaml');
    // Nobody listens there: a run that got past the check fails on the agents instead.
    writeFileSync(agents, ['version: 1', 'agents:', '  - { id: a, address: 127.0.0.1:9 }', '  - { id: b, address: 127.0.0.1:9 }'].join('\n'));
    const refused = await run(['run', '--plan', plan, '--agents', agents, '--system', system, '--input', 'input1=1x1x64x320', '--frames', '2', '-q']);
    expect(refused).toEqual({ code: 2, stdout: '', stderr: message(320) });
    const same = await run(['run', '--plan', plan, '--agents', agents, '--system', system, '--input', 'input1=1x1x64x256', '--frames', '2', '-q']);
    expect(same.code).not.toBe(0);
    expect(same.stderr).not.toContain('plans input input1');
  });

  it('a plan from solve --json names its model file and input shapes, and split, verify and run check them', async () => {
    if (!present(m)) return;
    const plan = join(dir, 'plan-model.json');
    const solved = await run(['solve', '--system', system, '--json', '-q']);
    writeFileSync(plan, solved.stdout);
    const j = JSON.parse(solved.stdout) as { model: { name: string; sha256: string; inputs: Record<string, number[]> } };
    expect(j.model).toEqual({ name: 'common', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), inputs: { input1: [1, 1, 64, 256] } });
    const wrongWidth = new RegExp(`^dnnpart: --plan ${plan}: a plan for input input1 1x1x64x256, not 1x1x64x320 as \\S*common\\.onnx is loaded here; give --input input1=1x1x64x256, or solve again for 1x1x64x320\n$`);
    const split = await run(['split', m.file, '--plan', plan, '--input', 'input1=1x1x64x320', '-o', join(dir, 'st'), '-q']);
    expect(split.code).toBe(2);
    expect(split.stderr).toMatch(wrongWidth);
    const verify = await run(['verify', m.file, '--plan', plan, '--input', 'input1=1x1x64x320', '--runs', '1', '--warmup', '0', '--frames', '0', '-q']);
    expect(verify.code).toBe(2);
    expect(verify.stderr).toMatch(wrongWidth);
    const agents = join(dir, 'agents.yaml');
    const runs = await run(['run', '--plan', plan, '--agents', agents, '--model', m.file, '--input', 'input1=1x1x64x320', '--frames', '2', '-q']);
    expect(runs.code).toBe(2);
    expect(runs.stderr).toContain('a plan for input input1 1x1x64x256, not 1x1x64x320');
    // The same plan on another model file: refused by its sha256.
    const other = findExternalModel('ddddocr-rec-int8')!;
    const foreign = await run(['split', other.file, '--plan', plan, '--input', 'input1=1x1x64x256', '-o', join(dir, 'st2'), '-q']);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toMatch(/^dnnpart: --plan \S+: a plan of model "common" \(sha256 [0-9a-f]{12}…\), not of \S+common_old\.onnx \(sha256 [0-9a-f]{12}…\); plan this model file\n$/);
    // At its own shapes the plan splits.
    expect((await run(['split', m.file, '--plan', plan, '--input', 'input1=1x1x64x256', '-o', join(dir, 'st3'), '-q'])).code).toBe(0);
  });

  it('without --input, a model of dynamic dims takes the shapes its plan was solved for, and says so', async () => {
    if (!present(m)) return;
    const plan = join(dir, 'plan-shapes.json');
    const solved = await run(['solve', '--system', system, '--json', '-q']);
    writeFileSync(plan, solved.stdout);
    const note = 'input shapes from the plan: input1=1x1x64x256 (give --input for others)\n';
    const split = await run(['split', m.file, '--plan', plan, '-o', join(dir, 'st4'), '--json']);
    expect(split.code).toBe(0);
    expect(split.stderr).toBe(note);
    const stages = (JSON.parse(split.stdout) as { stages: { inputs: string[] }[] }).stages;
    expect(stages.length).toBe((JSON.parse(solved.stdout) as { stages: unknown[] }).stages.length);
    expect(stages[0]!.inputs).toEqual(['input1']);
    const verify = await run(['verify', m.file, '--plan', plan, '--runs', '1', '--warmup', '0', '--frames', '0', '--json']);
    expect(verify.code).toBe(0);
    expect(verify.stderr.split('\n')).toContain(note.trim());
    const accuracy = await run(['accuracy', '--model', m.file, '--plan', plan, '--samples', '2', '--json', '-q']);
    expect(accuracy.code).toBe(0);
    // run gets past loading and the plan's checks, then fails on the agents nobody runs.
    const agents = join(dir, 'agents-none.yaml');
    writeFileSync(agents, ['version: 1', 'agents:', '  - { id: a, address: 127.0.0.1:9 }', '  - { id: b, address: 127.0.0.1:9 }'].join('\n'));
    const runs = await run(['run', '--plan', plan, '--agents', agents, '--model', m.file, '--frames', '2']);
    expect(runs.code).not.toBe(0);
    expect(runs.stderr.split('\n')).toContain(note.trim());
    expect(runs.stderr).not.toContain('dynamic');
    // Without a plan's shapes, the model still asks for --input.
    const bare = await run(['split', m.file, '--after', stages[0]!.inputs[0]!, '-o', join(dir, 'st5'), '-q']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('is dynamic; pass --input input1=<shape>');
  });
});
