// The main job end to end on a small network: export, profile here, analytic boards, solve
// every objective and both fronts, write the report; then check the files against the solver.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProblem, solve } from '@dnnpart/solver';
import { run, type RunResult } from './_run.js';

let dir: string;
let result: RunResult;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-start-'));
  result = await run(['start', '--net', 'resnet18', '--input', '1x3x64x64', '--runs', '3', '--warmup', '1', '-o', 'out', '--time-limit', '20'], { cwd: dir });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Row { kind: string; name: string; objective: string; status: string; throughputFps: number; latencyMs: number; energyMj: number; stages: string; gainOverBestSingleBoard: number | null }

describe('dnnpart start --net resnet18 --input 1x3x64x64', () => {
  it('exits 0 and prints the best plan per objective and the report path', () => {
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^resnet18-3-boards: 49 layers on this-machine, orin-nano, rpi5$/m);
    for (const o of ['throughput', 'latency', 'energy']) expect(result.stdout).toMatch(new RegExp(`^${o} +optimal +`, 'm'));
    expect(result.stdout).toMatch(/^report: out\/report\.html$/m);
  });

  it('shows progress on stderr throughout', () => {
    for (const phase of ['exporting resnet18 from the zoo', 'profiling', 'estimating orin-nano', 'solving', 'rendering the report']) {
      expect(result.stderr).toContain(phase);
    }
  });

  it('writes the report files, the model, the measured profile and the problem', () => {
    for (const f of ['report.html', 'report.md', 'plans.csv', 'plans.json', 'problem.json', 'this-machine.profile.json', 'resnet18-1x3x64x64.onnx']) {
      expect(existsSync(path.join(dir, 'out', f)), f).toBe(true);
    }
    const html = readFileSync(path.join(dir, 'out', 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('this-machine');
    // Files are named relative to where dnnpart ran.
    expect(html).toContain('out/this-machine.profile.json');
    expect(html).not.toContain(dir);
  });

  it('plans.json holds the solver’s optimum for each objective', async () => {
    const problem = parseProblem(JSON.parse(readFileSync(path.join(dir, 'out', 'problem.json'), 'utf8')), 'problem.json');
    expect(problem.nodes).toHaveLength(49);
    expect(problem.boards.map((b) => b.id)).toEqual(['this-machine', 'orin-nano', 'rpi5']);
    const plans = JSON.parse(readFileSync(path.join(dir, 'out', 'plans.json'), 'utf8')) as { rows: Row[] };
    for (const objective of ['throughput', 'latency', 'energy'] as const) {
      const row = plans.rows.find((r) => r.kind === 'optimum' && r.objective === objective)!;
      expect(row.status).toBe('optimal');
      const plan = await solve(problem, { objective, timeLimitS: 20 });
      const key = objective === 'throughput' ? 'throughputFps' : objective === 'latency' ? 'latencyMs' : 'energyMj';
      expect(row[key]).toBeCloseTo(plan[key]!, 6);
    }
    expect(plans.rows.some((r) => r.kind === 'pareto')).toBe(true);
    expect(plans.rows.filter((r) => r.kind === 'baseline').map((r) => r.name)).toEqual(expect.arrayContaining(['single:this-machine', 'single:orin-nano', 'single:rpi5']));
  });
});

describe('start --model', () => {
  it('plans your own ONNX file on the default boards', async () => {
    expect((await run(['zoo', 'export', 'squeezenet1_1', '--input', '1x3x32x32', '-o', 'mine.onnx', '-q'], { cwd: dir })).code).toBe(0);
    const r = await run(['start', '--model', 'mine.onnx', '--runs', '2', '--warmup', '0', '-o', 'mine-out', '--json', '-q'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const data = JSON.parse(r.stdout);
    expect(data.systems).toHaveLength(1);
    expect(data.systems[0]).toMatchObject({ nodes: 65, boards: ['this-machine', 'orin-nano', 'rpi5'] });
    expect(data.systems[0].objectives.map((o: { status: string }) => o.status)).toEqual(['optimal', 'optimal', 'optimal']);
    expect(existsSync(path.join(dir, 'mine-out', 'report.html'))).toBe(true);
    // Your file is used as it is: no zoo export in the output directory.
    expect(existsSync(path.join(dir, 'mine-out', 'squeezenet1_1-1x3x224x224.onnx'))).toBe(false);
  });

  it('says whose boards your model is planned on, and names the system after your model', async () => {
    if (!existsSync(path.join(dir, 'mine.onnx'))) expect((await run(['zoo', 'export', 'squeezenet1_1', '--input', '1x3x32x32', '-o', 'mine.onnx', '-q'], { cwd: dir })).code).toBe(0);
    const r = await run(['start', '--model', 'mine.onnx', '--runs', '2', '--warmup', '0', '-o', 'mine-out2'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split('\n')[0]).toMatch(/^mine\.onnx on the boards and links of system efficientnet_b0-3-boards \(\S*profiles\/systems\/default\.yaml\)$/);
    expect(r.stdout).toMatch(/^squeezenet1_1-3-boards: 65 layers on this-machine, orin-nano, rpi5$/m);
  });
});

describe('start: bad input', () => {
  it.each([
    [['start', '--net', 'resnet19', '-o', 'x'], /^dnnpart: .*resnet19/],
    [['start', '--model', 'missing.onnx', '-o', 'x'], /^dnnpart: .*missing\.onnx/],
    [['start', '--system', 'missing.yaml', '-o', 'x'], /^dnnpart: missing\.yaml: system file not found\n$/],
    // A bad --input is the command line's mistake, not a line of the system file.
    [['start', '--net', 'resnet18', '--input', '1x3xA', '-o', 'x'], /^dnnpart: --input 1x3xA: a shape is positive integers joined by x/],
  ])('%j → exit 2', async (argv, message) => {
    const r = await run(argv, { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('dnnpart:'))).toHaveLength(1);
    expect(r.stderr.split('\n').find((l) => l.startsWith('dnnpart:'))! + '\n').toMatch(message);
  });
});
