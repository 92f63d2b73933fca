#!/usr/bin/env node
// A model over protobuf's 2 GB (bench/large-model/make.py: 2.42 GB of float32 weights in an external
// data file) through the CLI as a user runs it: inspect, profile here, solve with a described
// Raspberry Pi 5 (8 GB) on Gigabit Ethernet, split by the plan, verify the plan's stages here, and the
// plan's fidelity with fp16 stages. Prints each step's exit code, wall time and peak resident memory
// (GNU time), and the first line of any refusal. Needs the CLI built, python3-onnx, and about 16 GB of
// memory (accuracy holds the model, its reference session and the stages' sessions).
// Usage: node bench/large-model.mjs [--out dir] [--keep]
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : join(tmpdir(), 'dnnpart-large-model');
const CLI = new URL('../apps/report/bin/dnnpart.js', import.meta.url).pathname;
if (!existsSync(join(out, 'big.onnx.data'))) {
  const make = spawnSync('/usr/bin/python3', [new URL('./large-model/make.py', import.meta.url).pathname, out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (make.status !== 0) throw new Error('make.py failed');
}
const gnuTime = existsSync('/usr/bin/time');

function step(name, argv) {
  const timed = gnuTime ? ['/usr/bin/time', ['-f', '\n%e %M', process.execPath, CLI, ...argv]] : [process.execPath, [CLI, ...argv]];
  const t0 = Date.now();
  const r = spawnSync(timed[0], timed[1], { cwd: out, encoding: 'utf8', maxBuffer: 1 << 28 });
  const lines = r.stderr.trim().split('\n');
  const [s, kb] = gnuTime ? lines.pop().split(' ').map(Number) : [(Date.now() - t0) / 1000, NaN];
  const refusal = lines.find((l) => l.startsWith('dnnpart:')) ?? '';
  return { name, code: r.status, s, gib: kb / 2 ** 20, refusal, stdout: r.stdout };
}

console.log(`# a model over 2 GB through the CLI: ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`# big.onnx ${statSync(join(out, 'big.onnx')).size} B + big.onnx.data ${(statSync(join(out, 'big.onnx.data')).size / 2 ** 30).toFixed(2)} GiB; files in ${out}`);
writeFileSync(join(out, 'system.yaml'), ['version: 1', 'name: big', 'model: { file: big.onnx }', 'boards:', '  - { id: here, profile: here.json }', '  - { id: rpi5, describe: raspberry-pi-5 }', 'network: ethernet-1000base-t', 'objective: throughput', ''].join('\n'));
const rows = [];
rows.push(step('inspect', ['inspect', 'big.onnx', '-q']));
rows.push(step('profile', ['profile', 'big.onnx', '--board', 'here', '--runs', '5', '-o', 'here.json', '-q']));
const solve = step('solve', ['solve', '--system', 'system.yaml', '--json', '-q']);
rows.push(solve);
let plan = null;
if (solve.code === 0) {
  writeFileSync(join(out, 'plan.json'), solve.stdout);
  plan = JSON.parse(solve.stdout);
}
rmSync(join(out, 'stages'), { recursive: true, force: true });
rows.push(step('split', ['split', 'big.onnx', '--plan', 'plan.json', '-o', 'stages', '-q']));
const verify = step('verify', ['verify', '--plan', 'plan.json', '--system', 'system.yaml', '--runs', '5', '--frames', '5', '--json', '-q']);
rows.push(verify);
const acc = step('accuracy fp16', ['accuracy', '--model', 'big.onnx', '--plan', 'plan.json', '--stage-precision', 'fp16', '--samples', '2', '--json', '-q']);
rows.push(acc);
console.log('| step | exit | s | peak RSS GiB | refusal |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.name} | ${r.code} | ${r.s.toFixed(1)} | ${r.gib.toFixed(2)} | ${r.refusal.replace(/\|/g, '\\|')} |`);
if (plan) console.log(`# plan: ${plan.status}, ${plan.throughputFps.toFixed(2)} FPS, ${plan.stages.map((s) => `${s.board} ${s.nodes.length} nodes ${(s.memoryBytes / 2 ** 30).toFixed(2)} GiB`).join(' > ')}`);
if (existsSync(join(out, 'stages'))) console.log(`# stage files: ${spawnSync('ls', ['-l', join(out, 'stages')], { encoding: 'utf8' }).stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/).slice(4).filter((_, i) => i === 0 || i === 4).join(' ')).join(', ')}`);
if (verify.code === 0) {
  const v = JSON.parse(verify.stdout);
  console.log(`# verify: ${v.stages.map((s) => `${s.board} predicted ${s.predictedMs.toFixed(1)} ms / measured ${s.measuredMs.toFixed(1)} ms`).join('; ')}; whole model ${v.reference ? `${v.reference.predictedMs.toFixed(1)} / ${v.reference.measuredMs.toFixed(1)} ms` : 'not timed'}`);
}
if (acc.code === 0) console.log(`# accuracy fp16: cosine ${JSON.parse(acc.stdout).cosine.toFixed(6)}`);
console.log(`# temporary model files left: ${spawnSync('sh', ['-c', `ls -d ${tmpdir()}/dnnpart-models-* 2>/dev/null | wc -l`], { encoding: 'utf8' }).stdout.trim()}`);
console.log(`# load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
if (!args.includes('--keep')) rmSync(join(out, 'stages'), { recursive: true, force: true });
