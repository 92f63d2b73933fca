// solve and import through main(): real GLPK on a problem small enough to check by hand,
// a system file built from real descriptions, and the paper's data.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CNNPARTED_DATA_DIR } from '@dnnpart/cnnparted';
import { evaluatePlan, parseProblem } from '@dnnpart/solver';
import { run } from './_run.js';

const fixtures = fileURLToPath(new URL('./fixtures/cli/', import.meta.url));
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-solve-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const solveJson = async (...argv: string[]) => {
  const r = await run(['solve', ...argv, '--json'], { cwd: fixtures });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).not.toContain('dnnpart:');
  return JSON.parse(r.stdout);
};

describe('solve --problem', () => {
  // By hand: fast alone 3 ms (333 FPS); a,b on fast | 1 ms link | c on slow: max(2, 1, 2) = 2 ms → 500 FPS.
  it.each([
    // (Two plans reach 500 FPS; the solver does not promise which one it returns.)
    ['throughput', { throughputFps: 500 }],
    ['latency', { latencyMs: 3, boards: ['fast'] }],
    // slow alone: 1 ms input transfer at 1 W (1 mJ) + 3 x 0.1 mJ.
    ['energy', { energyMj: 1.3, boards: ['slow'] }],
  ])('%s optimum', async (objective, expected) => {
    const plan = await solveJson('--problem', 'tiny.problem.json', '--objective', objective);
    expect(plan).toMatchObject({ status: 'optimal', objective });
    for (const k of ['throughputFps', 'latencyMs', 'energyMj'] as const) if (k in expected) expect(plan[k]).toBeCloseTo((expected as Record<string, number>)[k]!, 6);
    if ('boards' in expected) expect(plan.stages.map((s: { board: string }) => s.board)).toEqual(expected.boards);
    expect(plan.solveMs).toBeGreaterThanOrEqual(0);
    expect(plan.baselines.map((b: { name: string }) => b.name)).toEqual(expect.arrayContaining(['single:fast', 'single:slow']));
    // The reported metrics are those of the stages, recomputed by the solver's evaluator.
    const problem = parseProblem(JSON.parse(readFileSync(path.join(fixtures, 'tiny.problem.json'), 'utf8')));
    const again = evaluatePlan(problem, plan.stages.map((s: { board: string; nodes: string[] }) => ({ board: s.board, nodes: s.nodes })));
    expect(again.throughputFps).toBeCloseTo(plan.throughputFps, 9);
    expect(again.energyMj).toBeCloseTo(plan.energyMj, 9);
  });

  it('prints the plan for people', async () => {
    const r = await run(['solve', '--problem', 'tiny.problem.json'], { cwd: fixtures });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^optimal throughput plan in \d+ ms\nthroughput 500\.00 FPS, latency \d\.00 ms, energy /);
    expect(r.stdout).toMatch(/^fast -> slow +1\.00 kB +1\.000 +1\.000$/m);
    expect(r.stdout).toMatch(/^single:fast +333\.33 +3\.00 +3\.00 +fast$/m);
    expect(r.stdout).toContain('baselines:');
    expect(r.stderr).toContain('solving tiny: 3 nodes, 2 boards, throughput');
  });

  it('--pareto gives every non-dominated plan', async () => {
    const front = await solveJson('--problem', 'tiny.problem.json', '--pareto', 'throughput,energy');
    expect(front.status).toBe('optimal');
    const points = front.front.map((p: { throughputFps: number; energyMj: number }) => [p.throughputFps, p.energyMj]);
    expect(Math.max(...points.map(([t]: number[]) => t!))).toBeCloseTo(500);
    expect(points.some(([, e]: number[]) => Math.abs(e! - 1.3) < 1e-6)).toBe(true);
    for (const [t, e] of points) for (const [t2, e2] of points) expect(t2 > t + 1e-9 && e2 < e - 1e-9).toBe(false);
  });

  it('an infeasible problem is an answer: exit 0, status and why', async () => {
    const plan = await solveJson('--problem', 'infeasible.problem.json');
    expect(plan.status).toBe('infeasible');
    expect(plan.reason).toMatch(/500(\.0+)? FPS|1000/);
  });

  it.each([
    ['missing file', 'nope.json', /^dnnpart: nope\.json: problem file not found\n$/],
    ['not JSON', 'not-json.problem.json', /^dnnpart: not-json\.problem\.json: not JSON/],
    ['missing field', 'no-nodes.problem.json', /^dnnpart: .*no-nodes\.problem\.json.*nodes/],
    ['unknown consumer', 'unknown-consumer.problem.json', /^dnnpart: .*unknown-consumer\.problem\.json.*zz/],
    ['negative cost', 'negative-cost.problem.json', /^dnnpart: .*negative-cost\.problem\.json.*latencyMs/],
    ['link to an unknown board', 'unknown-link-board.problem.json', /^dnnpart: .*unknown-link-board\.problem\.json.*ghost/],
    ['cyclic graph', 'cyclic.problem.json', /^dnnpart: .*cyclic\.problem\.json.*cycl/],
  ])('malformed problem (%s) → exit 2 naming the file and field', async (_what, file, message) => {
    const r = await run(['solve', '--problem', file], { cwd: fixtures });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('solve --system', () => {
  it('builds the problem from the system file and solves it', async () => {
    const plan = await solveJson('--system', 'analytic.system.yaml', '--objective', 'latency', '-q');
    expect(plan.status).toBe('optimal');
    expect(plan.stages.length).toBeGreaterThanOrEqual(1);
    expect(plan.stages.flatMap((s: { nodes: string[] }) => s.nodes)).toHaveLength(65);
    const single = plan.baselines.filter((b: { kind: string }) => b.kind === 'single-board');
    expect(plan.latencyMs).toBeLessThanOrEqual(Math.min(...single.map((b: { latencyMs: number }) => b.latencyMs)) + 1e-9);
  });

  it('a system error names file, line and field', async () => {
    const r = await run(['solve', '--system', 'tiny.problem.json'], { cwd: fixtures });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^dnnpart: tiny\.problem\.json:\d+: [\w.[\]]+: /);
  });
});

describe('import cnnparted', () => {
  it('writes a problem from the bundled data that reproduces the paper’s EfficientNet-B0 throughput', async () => {
    const r = await run(['import', 'cnnparted', '--net', 'efficientnet', '--platforms', 'eyeriss_like,simba_like', '--order', 'fixed', '-o', 'eff.json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote eff\.json: efficientnet, \d+ layers, boards eyeriss_like, simba_like \(fixed order, input on eyeriss_like\), 2 links\n$/);
    // A directory given explicitly (here the same data) gives the same problem.
    const again = await run(['import', 'cnnparted', CNNPARTED_DATA_DIR, '--net', 'efficientnet', '-o', 'eff2.json'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'eff2.json'), 'utf8')).toBe(readFileSync(path.join(dir, 'eff.json'), 'utf8'));
    const plan = await solveJson('--problem', path.join(dir, 'eff.json'), '--objective', 'throughput');
    expect(plan.throughputFps).toBeCloseTo(4.82, 2);
    const simba = plan.baselines.find((b: { name: string }) => b.name === 'single:simba_like');
    expect(simba.throughputFps).toBeCloseTo(3.26, 2);
  });

  it.each([
    [['--net', 'lenet'], /^dnnpart: --net: unknown network "lenet"; valid: alexnet, efficientnet, /],
    [['no-such-dir', '--net', 'alexnet'], /^dnnpart: .*no-such-dir\/alexnet_schedules\.csv not found; pass the cnn-parted results directory, or none for the bundled data\n$/],
  ])('%j → exit 2, one line', async (args, message) => {
    const r = await run(['import', 'cnnparted', ...args, '-o', 'x.json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
