#!/usr/bin/env node
// Every form of bench/exported-forms/make.py through the whole CLI, as a user would run it: inspect,
// profile here, solve with a described Raspberry Pi 5 (Gigabit Ethernet), split by the plan, verify
// the plan's stages (a pipeline run included), the plan's fidelity with int8 stages, and the report.
// Prints a Markdown row per form: each step's exit code (0 done, 2 a one-line refusal; a stack trace
// is marked !STACK) and the first line of any refusal. Needs the CLI built and python3-onnx.
// Usage: node bench/exported-forms.mjs [--out dir] [--only form,form]
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : join(tmpdir(), 'dnnpart-exported-forms');
const CLI = new URL('../apps/report/bin/dnnpart.js', import.meta.url).pathname;
const make = spawnSync('/usr/bin/python3', [new URL('./exported-forms/make.py', import.meta.url).pathname, out], { encoding: 'utf8' });
if (make.status !== 0) throw new Error(`make.py failed: ${make.stderr}`);

// Inputs a form needs given (a dynamic dim, a shape fed as an input).
const FORMS = {
  qdq: {}, qlinear: {}, msft: {}, dynamic: { x: '1x3x16x16' }, ir3: {}, dupnames: {}, fp16: {}, sequence: {}, tokens: {},
  customop: {}, constout: {}, shapeinput: { shape: '2:1,-1' }, scalar: {}, deadouts: {}, opset7: {}, rnn: {}, resize: {}, localfn: {},
  opset23: {}, einsum: {}, gqa: { past_key: '1x2x5x8', past_value: '1x2x5x8', seqlens_k: '1:7', total_sequence_length: ':8' },
  genai: { past_key: '1x2x5x16', past_value: '1x2x5x16', seqlens_k: '1:7', total_sequence_length: ':8' },
  extdata: {}, loop: {}, scan: {}, batch4: {}, nms: {},
  bf16: {}, gridsample: {}, roialign: {}, trilu: {}, groupnorm: {}, topk: {}, strlabel: {}, zipmap: {}, bf16io: {},
  int4w: {}, fp8qdq: {}, fp8relu: {},
  stft: {}, kvscatter: { pos: '1:3' }, nonzero: {}, optional: {}, trees: {}, earlyexit: {},
};

function dnnpart(argv) {
  const r = spawnSync(process.execPath, [CLI, ...argv, '-q'], { encoding: 'utf8', cwd: out });
  return { code: r.status ?? -1, stack: /\n\s+at /.test(r.stderr), err: r.stderr.trim().split('\n')[0] ?? '', stdout: r.stdout };
}

console.log(`# exported forms through the CLI: ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
// --cuts: besides the solver's plan, every two-stage cut of the node order through verify and the
// int8 and fp16 accuracy runs (what a plan may cut, whichever the solver picks for this board pair).
const cuts = args.includes('--cuts');
console.log(`| form | inspect | profile | solve | split | verify | accuracy int8 | report | refusal |${cuts ? ' cuts: positions, failed (verify/int8/fp16) | first failure |' : ''}`);
console.log(`|---|---|---|---|---|---|---|---|---|${cuts ? '---|---|' : ''}`);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;
for (const [name, inputs] of Object.entries(FORMS)) {
  if (only && !only.includes(name)) continue;
  const dir = join(out, name);
  mkdirSync(dir, { recursive: true });
  const ia = Object.entries(inputs).flatMap(([k, v]) => ['--input', `${k}=${v}`]);
  const iy = `{ ${Object.entries(inputs).map(([k, v]) => `'${k}': '${v}'`).join(', ')} }`;
  const file = `${name}.onnx`;
  const steps = [];
  steps.push(dnnpart(['inspect', file, ...ia]));
  steps.push(dnnpart(['profile', file, ...ia, '--board', 'here', '--runs', '5', '--warmup', '1', '--describe', 'ci-x86-2core', '-o', `${name}/here.profile.json`]));
  writeFileSync(join(dir, 'system.yaml'), ['version: 1', `name: ${name}`, 'model:', `  file: ../${file}`, ...(ia.length ? [`  input: ${iy}`] : []), 'boards:', '  - id: here', '    profile: here.profile.json', '  - id: rpi5', '    describe: raspberry-pi-5', 'network: ethernet-1000base-t', 'objective: throughput', ''].join('\n'));
  const solve = dnnpart(['solve', '--system', `${name}/system.yaml`, '--json']);
  steps.push(solve);
  if (solve.code === 0) writeFileSync(join(dir, 'plan.json'), solve.stdout);
  steps.push(dnnpart(['split', file, '--plan', `${name}/plan.json`, ...ia, '-o', `${name}/stages`]));
  steps.push(dnnpart(['verify', '--plan', `${name}/plan.json`, '--system', `${name}/system.yaml`, '--runs', '5', '--warmup', '1', '--frames', '5']));
  steps.push(dnnpart(['accuracy', '--model', file, '--plan', `${name}/plan.json`, ...ia, '--stage-precision', 'int8', '--samples', '8']));
  steps.push(dnnpart(['report', '--system', `${name}/system.yaml`, '-o', `${name}/report`]));
  const refusal = steps.find((s) => s.code !== 0)?.err.replace(/\|/g, '\\|') ?? '';
  const extra = [];
  if (cuts && steps[0].code === 0) {
    const layers = JSON.parse(dnnpart(['inspect', file, ...ia, '--json']).stdout).layers.map((l) => l.name);
    const failed = [0, 0, 0];
    let first = '';
    for (let k = 1; k < layers.length; k++) {
      writeFileSync(join(dir, `cut${k}.json`), JSON.stringify({ stages: [{ board: 'here', nodes: layers.slice(0, k) }, { board: 'rpi5', nodes: layers.slice(k) }] }));
      const runs = [
        dnnpart(['verify', '--plan', `${name}/cut${k}.json`, '--system', `${name}/system.yaml`, '--runs', '1', '--warmup', '0', '--frames', '1', '--no-memory']),
        ...['int8', 'fp16'].map((p) => dnnpart(['accuracy', '--model', file, '--plan', `${name}/cut${k}.json`, ...ia, '--stage-precision', p, '--samples', '2'])),
      ];
      runs.forEach((r, i) => {
        if (r.code === 0) return;
        failed[i]++;
        if (!first) first = `cut ${k} ${['verify', 'int8', 'fp16'][i]}: ${r.code}${r.stack ? ' !STACK' : ''} ${r.err.replace(/\|/g, '\\|').slice(0, 160)}`;
      });
    }
    extra.push(`${layers.length - 1}, ${failed.join('/')}`, first);
  } else if (cuts) extra.push('-', '');
  console.log(`| ${name} | ${steps.map((s) => `${s.code}${s.stack ? ' !STACK' : ''}`).join(' | ')} | ${refusal} |${extra.map((x) => ` ${x} |`).join('')}`);
}
console.log(`# load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
