// Every real exported model through the commands a user runs on boards: `dnnpart solve --system`
// (two described Raspberry Pi 5 over Gigabit Ethernet, throughput) and `dnnpart run` on two local
// agents (separate processes, loopback), as agents load stages by default. Per model: whether the
// run ends well, its outputs against the unsplit model's, how each stage was loaded, and the memory
// each stage added to its agent beside the plan's memory of it.
//
//   node bench/runtime-real-models.mjs [--external a,b] [--frames 20] [--manifest file [--manifest-only]]
// --manifest: also the models a manifest lists ([{ name, file, inputs }], as bench/torch-exports/export.py
// writes one); --manifest-only: only those.
// Built packages needed (npx turbo run build).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { installedExternal, manifestModels, systemInput } from './_external.mjs';

const { values } = parseArgs({ options: { external: { type: 'string', default: '' }, frames: { type: 'string', default: '20' }, 'no-preoptimise': { type: 'boolean', default: false }, manifest: { type: 'string' }, 'manifest-only': { type: 'boolean', default: false } } });
const CLI = fileURLToPath(new URL('../apps/report/bin/dnnpart.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'bench-run-real-'));
const MB = (b) => (typeof b === 'number' ? (b / 1048576).toFixed(1) : '—');
// --json writes an infinite difference (an output finite in one and NaN in the other) as null.
const diff = (x) => (typeof x === 'number' ? x.toExponential(2) : 'unbounded (NaN or Inf on one side)');
const wanted = values.external.split(',').filter(Boolean);
const listed = values.manifest ? manifestModels(values.manifest) : [];
const models = [...(values['manifest-only'] ? [] : installedExternal(wanted)), ...listed];

function startAgent(port) {
  const p = spawn(process.execPath, [CLI, 'agent', '--listen', `127.0.0.1:${port}`, '--board', `local${port}`, ...(values['no-preoptimise'] ? ['--no-preoptimise'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  p.stdout.on('data', (d) => (log += d));
  p.stderr.on('data', (d) => (log += d));
  return { proc: p, log: () => log };
}
const agents = [startAgent(7411), startAgent(7412)];
await new Promise((r) => setTimeout(r, 3000));
writeFileSync(join(tmp, 'agents.yaml'), 'version: 1\nagents:\n  - { id: a, address: 127.0.0.1:7411 }\n  - { id: b, address: 127.0.0.1:7412 }\n');

console.log('# Real models through `dnnpart solve --system` and `dnnpart run` on two local agents\n');
console.log(`Machine: ${cpus()[0]?.model.trim()}, ${cpus().length} cores; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${new Date().toISOString()}; ${values.frames} frames a run\n`);
console.log('| model | stages (nodes) | run | max abs diff: unoptimised (optimised as the stages run) | loaded as | each stage alone on its agent: loaded / peak MB (plan) | the agent\'s growth: loaded / most after a frame MB |');
console.log('|---|---|---|---|---|---|---|');
let ok = 0;
const ratios = [];
for (const m of models) {
  const sys = join(tmp, `${m.name}.yaml`);
  writeFileSync(sys, ['version: 1', `name: ${m.name}`, 'model:', `  file: ${m.file}`, `  input: ${systemInput(m)}`, 'boards:', '  - { id: a, describe: raspberry-pi-5 }', '  - { id: b, describe: raspberry-pi-5 }', 'network: ethernet-1000base-t', 'objective: throughput'].join('\n'));
  const plan = join(tmp, `${m.name}.plan.json`);
  let r;
  try {
    writeFileSync(plan, execFileSync(process.execPath, [CLI, 'solve', '--system', sys, '--json', '-q'], { maxBuffer: 1 << 28 }));
    r = JSON.parse(execFileSync(process.execPath, [CLI, 'run', '--plan', plan, '--agents', join(tmp, 'agents.yaml'), '--system', sys, '--frames', values.frames, '--json', '-q'], { maxBuffer: 1 << 28 }).toString());
  } catch (e) {
    console.log(`| ${m.name} | — | exit ${e.status}: ${String(e.stderr ?? e.message).trim().split('\n').pop()} | — | — | — | — |`);
    continue;
  }
  ok++;
  const stages = r.stages.map((s) => `${s.agent} (${s.nodes})`).join(', ');
  const loaded = r.stages.map((s) => (s.memory?.preoptimised === undefined ? '—' : s.memory.preoptimised ? 'saved graph' : 'as sent')).join(', ');
  const alone = r.stages.map((s) => (s.memory?.alone ? `${MB(s.memory.alone.loadedBytes)} / ${MB(s.memory.alone.peakBytes)} (${MB(s.memory.predictedBytes)})` : '—')).join('; ');
  const mem = r.stages.map((s) => (s.memory ? `${MB(s.memory.loadedBytes)} / ${MB(s.memory.peakBytes)}` : '—')).join('; ');
  // Stages of 5 MB or more alone: below that, onnxruntime's own per-session state and the allocator's rounding are most of it.
  for (const s of r.stages) if (s.memory?.alone && s.memory.alone.peakBytes >= 5 * 1048576 && typeof s.memory.predictedBytes === 'number') ratios.push(s.memory.predictedBytes / s.memory.alone.peakBytes);
  console.log(`| ${m.name} | ${stages} | ${r.throughputFps.toFixed(1)} FPS | ${diff(r.maxAbsDiff)}${r.maxAbsDiffOptimised !== undefined ? ` (${diff(r.maxAbsDiffOptimised)})` : ''} | ${loaded} | ${alone} | ${mem} |`);
}
console.log(`\n- ${ok} of ${models.length} models ran to the end`);
ratios.sort((a, b) => a - b);
if (ratios.length) console.log(`- the plan's memory of a stage / the stage alone at its peak, stages of 5 MB or more alone: ${ratios.filter((x) => x >= 0.75 && x <= 1.25).length} of ${ratios.length} within 25 %, ${ratios.filter((x) => x < 0.75).length} more than 25 % below; median ${ratios[Math.floor(ratios.length / 2)].toFixed(2)}, from ${ratios[0].toFixed(2)} to ${ratios.at(-1).toFixed(2)}`);
// Wait for the agents to leave: the next bench run listens on the same ports.
await Promise.all(agents.map((a) => new Promise((r) => { if (a.proc.exitCode !== null) r(); else { a.proc.once('exit', r); a.proc.kill('SIGINT'); } })));
const notes = agents.flatMap((a) => a.log().split('\n').filter((l) => /loaded as sent|could not|cannot/.test(l)));
if (notes.length) console.log(`- agents' notes:\n${[...new Set(notes.map((l) => l.replace(/run \w+/, 'run …')))].map((l) => `  - ${l}`).join('\n')}`);
rmSync(tmp, { recursive: true, force: true });
