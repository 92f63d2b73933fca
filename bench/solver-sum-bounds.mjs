// Latency and energy solves on graphs too wide for the exact method, two builds of the solver side by
// side: what the reported gap and the proven lower bound become with the labelling bound
// (packages/solver/src/_labelling.ts). Each solve runs in a child process of its own, one at a time.
//
// Problems: the files `bench/solver-wide.mjs --problems-dir D` writes (--problems-from D), and/or
// built here from the PyTorch exports of bench/torch-exports (--manifest M.json, on the boards of the
// `start` job's default system, profiles/systems/default.yaml, with this machine described by its
// committed description instead of measured, so that nothing is timed here).
// Usage: node bench/solver-sum-bounds.mjs [--problems-from D] [--manifest M.json] [--only a,b]
//        [--old <module path of the older build>] [--time-limit 20] [--objectives latency,energy]
// Build first: npx turbo run build.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};

if (process.argv[2] === '--child') {
  const [, , , file, objective, limit, module] = process.argv;
  const { solve, objectiveValue } = await import(module);
  const problem = JSON.parse(readFileSync(file, 'utf8'));
  const t0 = performance.now();
  const plan = await solve(problem, { objective, timeLimitS: Number(limit) });
  process.stdout.write(JSON.stringify({
    s: (performance.now() - t0) / 1000, status: plan.status, method: plan.method, gap: plan.gap, lowerBound: plan.lowerBound,
    value: plan.stages === undefined ? undefined : objectiveValue(plan, objective), proof: plan.reduction?.proof,
    boards: plan.stages?.map((s) => s.board).join(' > '),
  }));
  process.exit(0);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const timeLimitS = arg('time-limit', '20');
const objectives = arg('objectives', 'latency,energy').split(',');
const only = arg('only', undefined)?.split(',');
const builds = [['before', arg('old', undefined)], ['after', '@dnnpart/solver']].filter(([, m]) => m !== undefined);
const problems = [];
const from = arg('problems-from', undefined);
if (from !== undefined) {
  for (const f of readdirSync(from).sort()) if (f.endsWith('.problem.json')) problems.push({ name: f.replace(/\.problem\.json$/, ''), file: path.join(from, f) });
}
const manifest = arg('manifest', undefined);
if (manifest !== undefined) {
  const { parseSystem, resolveSystem, buildProblem } = await import('@dnnpart/report');
  const work = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-sum-bounds-'));
  for (const m of JSON.parse(readFileSync(manifest, 'utf8'))) {
    if (only !== undefined && !only.includes(m.name)) continue;
    const yaml = [
      'version: 1', `name: ${m.name}-default-boards`, 'model:', `  file: ${m.file}`,
      `  input: { ${Object.entries(m.inputs).map(([k, d]) => `'${k}': '${d.join('x')}'`).join(', ')} }`,
      'boards:', '  - id: this-machine', '    describe: ci-x86-2core', '  - id: orin-nano', '    describe: jetson-orin-nano', '  - id: rpi5', '    describe: raspberry-pi-5',
      'network: ethernet-1000base-t', 'inputBoard: this-machine', 'objective: throughput', 'boardOrder: free', '',
    ].join('\n');
    const sys = path.join(work, `${m.name}.yaml`);
    writeFileSync(sys, yaml);
    const resolved = await resolveSystem(parseSystem(yaml, sys), { workDir: path.join(work, 'w') });
    const file = path.join(work, `${m.name}-default-boards.problem.json`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(buildProblem(resolved).problem));
    problems.push({ name: `${m.name}-default-boards`, file });
  }
}

const run = (file, objective, module) => new Promise((resolve) => {
  const child = spawn(process.execPath, [self, '--child', file, objective, timeLimitS, module], { cwd: root });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  child.on('close', (code) => resolve(code === 0 ? JSON.parse(out) : { error: err.trim().split('\n').slice(-1)[0] }));
});

const pct = (g) => (g === undefined ? '0' : `${(g * 100).toFixed(g < 0.001 ? 4 : 2)} %`);
const rows = [];
console.log(`Date: ${new Date().toISOString()}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; time limit ${timeLimitS} s per solve\n`);
console.log(`| problem | objective | ${builds.map(([b]) => `${b}: status, gap, lower bound, value, s`).join(' | ')} | plan after |`);
console.log(`|---|---|${builds.map(() => '---|').join('')}---|`);
for (const p of problems) {
  if (only !== undefined && !only.some((o) => p.name.startsWith(o))) continue;
  for (const objective of objectives) {
    const cells = [];
    let last;
    for (const [, module] of builds) {
      const r = await run(p.file, objective, module);
      last = r;
      cells.push(r.error !== undefined ? `error: ${r.error}` : `${r.status}${r.proof ? ` (${r.proof})` : ''}, ${pct(r.gap)}, ${r.lowerBound?.toFixed(4) ?? ''}, ${r.value?.toFixed(4) ?? ''}, ${r.s.toFixed(1)}`);
      rows.push({ problem: p.name, objective, module, ...r });
    }
    console.log(`| ${p.name} | ${objective} | ${cells.join(' | ')} | ${last?.boards ?? ''} |`);
  }
}
const json = arg('json', undefined);
if (json !== undefined) writeFileSync(json, `${JSON.stringify(rows, null, 1)}\n`);
console.log(`\nload average at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
