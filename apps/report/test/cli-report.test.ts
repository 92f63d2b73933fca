// dnnpart report on a system file and a problem file together: every objective, both fronts,
// the four files, and a summary that matches plans.json.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type RunResult } from './_run.js';

const fixtures = fileURLToPath(new URL('./fixtures/cli/', import.meta.url));
let dir: string;
let result: RunResult;

interface Row { system: string; kind: string; objective: string; name: string; status: string; throughputFps: number | null; latencyMs: number | null; energyMj: number | null; gainOverBestSingleBoard: number | null }

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-report-'));
  result = await run(['report', '--system', path.join(fixtures, 'analytic.system.yaml'), '--problem', path.join(fixtures, 'tiny.problem.json'), '-o', 'rep', '--title', 'two systems'], { cwd: dir });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dnnpart report --system … --problem …', () => {
  it('writes the four files and a work directory per system', () => {
    expect(result.code, result.stderr).toBe(0);
    for (const f of ['report.html', 'report.md', 'plans.csv', 'plans.json', 'sq-analytic/problem.json', 'sq-analytic/squeezenet1_1-1x3x64x64.onnx']) {
      expect(existsSync(path.join(dir, 'rep', f)), f).toBe(true);
    }
    expect(readFileSync(path.join(dir, 'rep', 'report.html'), 'utf8')).toContain('two systems');
  });

  it("puts the warnings the system's figures rest on into the report, under that system only", () => {
    const warning = 'board orin: board description jetson-orin-nano has no analytic block; default efficiencies used (uncalibrated)';
    expect(result.stderr).toContain(`warning: ${warning}`);
    const md = readFileSync(path.join(dir, 'rep', 'report.md'), 'utf8');
    const sections = md.split(/^## /m);
    const analytic = sections.find((s) => s.startsWith('1. sq-analytic'))!;
    const tiny = sections.find((s) => s.startsWith('2. tiny'))!;
    expect(analytic).toContain(`### Caveats\n\nWhat these figures rest on, as the command warned while loading the model and joining the boards' profiles:\n\n- ${warning}\n`);
    expect(tiny).not.toContain('Caveats');
    const html = readFileSync(path.join(dir, 'rep', 'report.html'), 'utf8');
    expect(html).toContain(`<ul class="caveats"><li>${warning}</li></ul>`);
    expect(html.match(/<h3>Caveats<\/h3>/g)).toHaveLength(1);
  });

  it('solves every objective and both fronts for each system', () => {
    const { rows } = JSON.parse(readFileSync(path.join(dir, 'rep', 'plans.json'), 'utf8')) as { rows: Row[] };
    for (const system of ['sq-analytic', 'tiny']) {
      const optima = rows.filter((r) => r.system === system && r.kind === 'optimum');
      expect(optima.map((r) => r.objective).sort()).toEqual(['energy', 'latency', 'throughput']);
      expect(rows.some((r) => r.system === system && r.kind === 'pareto')).toBe(true);
    }
    const tiny = rows.find((r) => r.system === 'tiny' && r.kind === 'optimum' && r.objective === 'throughput')!;
    expect(tiny.throughputFps).toBeCloseTo(500, 6);
    // fast alone is the best single board on throughput (333.3 FPS): +50 %.
    expect(tiny.gainOverBestSingleBoard).toBeCloseTo(0.5, 6);
  });

  it('prints the best plan per objective with its gain, and the paths', () => {
    expect(result.stdout).toMatch(/^tiny: 3 layers on fast, slow$/m);
    expect(result.stdout).toMatch(/^throughput +optimal +500\.00 .* \+50\.0% FPS vs fast$/m);
    expect(result.stdout).toMatch(/^energy +optimal +166\.67 +7\.00 +1\.30 +slow +\+0\.0% mJ vs slow$/m);
    expect(result.stdout).toMatch(/^report: rep\/report\.html$/m);
    // By hand: (500 FPS, 3.1 mJ), (333, 3.0), (250, 2.2), (167, 1.3); and (3 ms, 3.0 mJ), (6, 2.2), (7, 1.3).
    expect(result.stdout).toMatch(/^tiny: 3 layers on fast, slow\n(.*\n){5}Pareto fronts: throughput vs energy 4 plans, latency vs energy 3 plans$/m);
    expect(result.stderr).toContain('solved tiny: throughput optimal, latency optimal, energy optimal');
  });

  it('--json gives the summary as data', async () => {
    const r = await run(['report', '--problem', path.join(fixtures, 'tiny.problem.json'), '-o', 'rep2', '--json', '-q'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const data = JSON.parse(r.stdout);
    expect(data.report).toBe(path.join(dir, 'rep2', 'report.html'));
    expect(data.systems[0].pareto).toEqual({ 'throughput,energy': { status: 'optimal', plans: 4 }, 'latency,energy': { status: 'optimal', plans: 3 } });
    expect(data.systems[0].objectives.find((o: { objective: string }) => o.objective === 'latency')).toMatchObject({ status: 'optimal', latencyMs: 3, stages: ['fast'], bestSingleBoard: 'single:fast', gainOverBestSingleBoard: 0 });
  });

  it('an unwritable output directory → exit 2 naming it', async () => {
    writeFileSync(path.join(dir, 'a-file'), 'x');
    const r = await run(['report', '--problem', path.join(fixtures, 'tiny.problem.json'), '-o', 'a-file/sub', '-q'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^dnnpart: .*a-file/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a malformed system → exit 2 with file:line: field', async () => {
    writeFileSync(path.join(dir, 'bad.yaml'), 'version: 1\nmodel: { zoo: resnet18 }\nboards:\n  - id: a\n    describe: raspberry-pi-5\n    memoryBytes: lots\n');
    const r = await run(['report', '--system', 'bad.yaml', '-o', 'x'], { cwd: dir });
    expect(r).toEqual({ code: 2, stdout: '', stderr: 'dnnpart: bad.yaml:6: boards[0].memoryBytes: must be a non-negative number, or null for no cap\n' });
  });
});
