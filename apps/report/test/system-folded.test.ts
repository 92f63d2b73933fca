// A profile of the model file as written names nodes that loading folds away (Constant nodes and
// static shape arithmetic): the committed mobilenet_v2 profiles were measured before folding and
// time its 70 Constant nodes. They still join: folded nodes are left out, every other node keeps its time.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '@dnnpart/solver';
import { run } from './_run.js';

const profileFile = fileURLToPath(new URL('../../../profiles/measured/ci-x86-2core/mobilenet_v2.t1.profile.json', import.meta.url));
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-folded-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a profile made before folding', () => {
  it('joins: Constant nodes left out, the rest timed as profiled', async () => {
    const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as { nodes: { name: string; op: string; latencyMs: { median: number } }[] };
    const constants = profile.nodes.filter((n) => n.op === 'Constant');
    expect(constants.length).toBe(70);
    writeFileSync(path.join(dir, 's.yaml'), [
      'version: 1', 'model: { zoo: mobilenet_v2 }', 'boards:', `  - { id: here, profile: ${JSON.stringify(profileFile)} }`, 'objective: latency',
    ].join('\n'));
    const r = await run(['solve', '--system', 's.yaml', '--json'], { cwd: dir });
    expect(r.stderr).not.toMatch(/dnnpart:/);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as Plan & { problem?: unknown };
    expect(plan.status).toBe('optimal');
    const stage = plan.stages![0]!;
    const names = new Set(stage.nodes);
    for (const c of constants) expect(names.has(c.name)).toBe(false);
    // The stage's kernel time is the sum of the profile's medians over the nodes that remain.
    const expected = profile.nodes.filter((n) => names.has(n.name)).reduce((a, n) => a + n.latencyMs.median, 0);
    expect(stage.nodes.length).toBe(profile.nodes.filter((n) => names.has(n.name)).length);
    expect((stage as { kernelMs?: number }).kernelMs).toBeCloseTo(expected, 6);
  });
});
