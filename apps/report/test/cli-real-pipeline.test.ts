// Real exported models through the CLI as a user runs them: profile on this machine, solve a
// system that joins that profile with two described boards, split by the plan, and the stages
// composed give the file's outputs. The tf2onnx speech embedding (NHWC, Max, LeakyReLU) and
// Silero VAD v4 (four inputs, a scalar fixed by the system file, its network inside an If).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, maxAbsDiff, randomFeeds, runModel, runStages, splitModel } from '@dnnpart/onnx-graph';
import { findExternalModel, type ExternalModel } from '@dnnpart/zoo';
import { run } from './_run.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-real-pipeline-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function present(m: ExternalModel): boolean {
  if (m.available) return true;
  if (process.env.CI === 'true') throw new Error(`${m.name}: ${m.source.package}@${m.source.version} is not installed; npm ci installs it`);
  console.warn(`skipped ${m.name}: ${m.source.package}@${m.source.version} is not installed`);
  return false;
}

const spec = (m: ExternalModel, k: string) => `${m.inputs[k]!.join('x')}${m.values[k] ? `:${m.values[k]!.join(',')}` : ''}`;

describe.each([
  // name, the name the model gets (its file's, not the exporter's graph name), layers after loading
  ['oww-embedding', 'embedding_model', 65],
  ['silero-vad-v4', 'silero_vad', 75],
])('%s through profile, solve, split --plan', (name, modelName, layers) => {
  const m = findExternalModel(name)!;
  const inputArgs = () => Object.keys(m.inputs).flatMap((k) => ['--input', `${k}=${spec(m, k)}`]);

  it('each step exits 0 and the stages compose to the file', async () => {
    if (!present(m)) return;
    const profile = path.join(dir, `${name}.here.profile.json`);
    const p = await run(['profile', m.file, ...inputArgs(), '--board', 'here', '--runs', '3', '--warmup', '1', '--threads', '1', '--boundary', 'default', '-o', profile, '--json', '-q']);
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    const prof = JSON.parse(readFileSync(profile, 'utf8')) as { model: { name: string }; nodes: { name: string }[]; warnings?: string[] };
    expect(prof.model.name).toBe(modelName);
    expect(prof.nodes).toHaveLength(layers);
    expect((prof.warnings ?? []).filter((w) => w.includes('map to no original node'))).toEqual([]);

    const system = path.join(dir, `${name}.system.yaml`);
    const input = Object.keys(m.inputs).map((k) => `'${k}': '${spec(m, k)}'`).join(', ');
    writeFileSync(system, [
      'version: 1',
      'model:',
      `  file: ${JSON.stringify(m.file)}`,
      `  input: { ${input} }`,
      'boards:',
      '  - id: here',
      `    profile: ${JSON.stringify(profile)}`,
      '  - id: rpi5',
      '    describe: raspberry-pi-5',
      '  - id: rpi4',
      '    describe: raspberry-pi-4',
      'network: ethernet-1000base-t',
      'objective: throughput',
      '',
    ].join('\n'));
    const s = await run(['solve', '--system', system, '--json', '-q'], { cwd: dir });
    expect(s.stderr).toBe('');
    expect(s.code).toBe(0);
    const plan = JSON.parse(s.stdout) as { status: string; stages: { board: string; nodes: string[] }[] };
    expect(plan.status).toBe('optimal');
    expect(plan.stages.flatMap((st) => st.nodes)).toHaveLength(layers);
    const planFile = path.join(dir, `${name}.plan.json`);
    writeFileSync(planFile, s.stdout);

    const out = path.join(dir, `${name}-stages`);
    const sp = await run(['split', m.file, '--plan', planFile, ...inputArgs(), '-o', out, '--json', '-q']);
    expect(sp.stderr).toBe('');
    expect(sp.code).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { stages: { file: string; nodes: string[] }[] };
    expect(manifest.stages.map((st) => st.nodes)).toEqual(plan.stages.map((st) => st.nodes));

    // The stage files, run in sequence, against the original file (fixed values fed as given).
    const specs = Object.fromEntries(Object.entries(m.inputs).map(([k, shape]) => [k, m.values[k] ? { shape, value: m.values[k] } : { shape }]));
    const model = await loadModel(m.file, { inputShapes: specs });
    const feeds = randomFeeds(model.graph, 5);
    const expected = await runModel(readFileSync(m.file), feeds, model.graph.outputs);
    const split = splitModel(model, { stages: Object.fromEntries(plan.stages.flatMap((st, k) => st.nodes.map((n) => [n, k]))) });
    for (const [k, st] of split.stages.entries()) expect(readFileSync(path.join(out, manifest.stages[k]!.file))).toEqual(Buffer.from(st.bytes));
    expect(maxAbsDiff(expected, await runStages(split, feeds), model.graph.outputs)).toBeLessThanOrEqual(1e-4);
  });
});
