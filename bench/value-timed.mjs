#!/usr/bin/env node
// What a detector's NonMaxSuppression costs a plan (value-timed nodes: packages/profiler/README.md,
// "Nodes no description can price"). For each model with such a node: profile it here (or take
// --profile-dir D/<name>.profile.json), build the system here (measured) + Raspberry Pi 5 + Raspberry
// Pi 4 (described), 1000BASE-T, throughput, and solve it twice with the same solver: with the described
// boards' estimates of those nodes from their shapes (as before) and priced from here's measurement
// (as `dnnpart solve` does now). Prints each node's figures and both plans; the second plan's stage
// that holds the node is then worth a `dnnpart verify` (the command is printed).
// Usage: node bench/value-timed.mjs --manifest /tmp/tx/manifest.json [--only a,b] [--time-limit 60]
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { loadModel, valueTimedNodes } from '@dnnpart/onnx-graph';
import { externalModels } from '@dnnpart/zoo';
import { solve } from '@dnnpart/solver';
import { buildProblem, loadSystem, resolveSystem } from '@dnnpart/report';
import { analyticProfile } from '@dnnpart/profiler';
import { manifestModels, inputArgs, systemInput } from './_external.mjs';

const opt = (k, d) => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1] : d);
const manifest = opt('--manifest');
const only = opt('--only', '').split(',').filter(Boolean);
const timeLimitS = Number(opt('--time-limit', '60'));
const out = opt('--out', join(tmpdir(), 'dnnpart-value-timed'));
const cli = new URL('../apps/report/bin/dnnpart.js', import.meta.url).pathname;
mkdirSync(out, { recursive: true });

const models = [...externalModels(), ...(manifest ? manifestModels(manifest) : [])].filter((m) => m.available && (only.length === 0 || only.includes(m.name)));
const ms = (x) => (x >= 10 ? x.toFixed(1) : x >= 0.1 ? x.toFixed(2) : x.toPrecision(2));
const stagesOf = (plan) => plan.stages.map((s) => `${s.board} ${s.nodes.length} nodes ${ms(s.computeMs)} ms`).join(' > ');
console.log(`# value-timed nodes: here (measured) + rpi5 + rpi4 (described), throughput, ${timeLimitS} s per solve; ${new Date().toISOString()}`);
for (const m of models) {
  const specs = Object.fromEntries(Object.entries(m.inputs).map(([k, s]) => [k, m.values[k] ? { shape: s, value: m.values[k] } : s]));
  const loaded = await loadModel(m.file, { inputShapes: specs });
  const timed = valueTimedNodes(loaded.graph);
  if (timed.length === 0) continue;
  const dir = join(out, m.name);
  mkdirSync(dir, { recursive: true });
  const profile = join(dir, 'here.profile.json');
  if (!existsSync(profile)) execFileSync('node', [cli, 'profile', m.file, ...inputArgs(m), '--board', 'here', '--runs', '10', '--warmup', '2', '--describe', 'ci-x86-2core', '-o', profile, '-q'], { stdio: 'inherit' });
  const system = join(dir, 'system.yaml');
  writeFileSync(system, ['version: 1', `name: ${m.name}-3-boards`, 'model:', `  file: ${JSON.stringify(m.file)}`, `  input: ${systemInput(m)}`, 'boards:', '  - id: here', `    profile: ${JSON.stringify(profile)}`, '  - id: rpi5', '    describe: raspberry-pi-5', '  - id: rpi4', '    describe: raspberry-pi-4', 'network: ethernet-1000base-t', 'objective: throughput', ''].join('\n'));
  const warnings = [];
  const resolved = await resolveSystem(loadSystem(system, 'system.yaml'), { workDir: join(dir, 'work'), onProgress: (e) => { if (e.kind === 'warning') warnings.push(e.message); } });
  // The same system with the described boards' own estimates (what solve used before).
  const shapesOnly = { ...resolved, boards: resolved.boards.map((b) => (b.source === 'analytic' ? { ...b, profile: analyticProfile(resolved.graph, b.description, { sha256: resolved.modelSha256 }) } : b)) };
  const before = await solve(buildProblem(shapesOnly).problem, { timeLimitS });
  const after = await solve(buildProblem(resolved).problem, { timeLimitS });
  writeFileSync(join(dir, 'plan-after.json'), JSON.stringify(after));
  console.log(`\n## ${m.name} (${loaded.graph.nodes.length} nodes)\n`);
  for (const t of timed) {
    const at = (b) => b.profile.nodes.find((n) => n.name === t.node)?.latencyMs.median;
    console.log(`- ${t.node} (${t.op}): ${resolved.boards.map((b, i) => `${b.spec.id} ${b.source === 'measured' ? `measured ${ms(at(b))}` : `${ms(at(shapesOnly.boards[i]))} from shapes, ${ms(at(b))} carried`} ms`).join('; ')}`);
  }
  for (const w of warnings.filter((x) => x.includes('as long as the data'))) console.log(`- warning: ${w}`);
  console.log(`- before: ${before.status}, ${ms(before.throughputFps)} FPS, gap ${before.gap !== undefined ? (100 * before.gap).toFixed(2) + ' %' : '-'}: ${stagesOf(before)}`);
  console.log(`- now: ${after.status}, ${ms(after.throughputFps)} FPS, gap ${after.gap !== undefined ? (100 * after.gap).toFixed(2) + ' %' : '-'}: ${stagesOf(after)}`);
  console.log(`- check: node ${cli} verify --plan ${join(dir, 'plan-after.json')} --system ${system} --runs 10 --warmup 3 --frames 10`);
}
