#!/usr/bin/env node
// Analytic profiles held against measurement on models that were not used to calibrate them, all on
// the machine the bench runs on (CI machines differ: some are Zen 4 with AVX2, some Zen 5 with
// AVX-512, 2.3x apart on ResNet-18 at one thread, so a description fitted on one cannot be checked
// on another):
//   1. this machine described: the copy bandwidth at 256 MiB (DRAM) and at 4 MiB (a layer's
//      tensors, from cache), the working set beyond which copies slow towards DRAM (cacheBytes), an fp32 peak that bounds it from above (cores x 4 GHz x the FMA width
//      /proc/cpuinfo shows), which the fitted compute efficiency scales down, and its stage
//      boundary (calibrateBoundary at one thread: what a run costs beyond its kernels), and what one
//      more small kernel costs (calibrateDispatch at one thread: the per-op overhead, measured);
//   2. the nine zoo CNNs profiled here at one thread, and the roofline fitted on them
//      (calibrateAnalyticPerOp), twice: with activations at the 4 MiB bandwidth
//      (activationBandwidthBytesPerSec) up to cacheBytes and with every byte at the DRAM bandwidth, as before; each
//      with the per-op overhead fitted (0 on these networks) and fixed at the measured dispatch cost;
//   3. the real exported models (packages/zoo/src/external.ts), never fitted, profiled here
//      at one thread and priced by both fits as the solver prices a stage: the node sum plus the
//      stage boundary (the fixed cost of a run and the model's input and output bytes).
// Prints the fits, the zoo networks each left out of a fit, and per real model both errors, the
// time-weighted node error and the op types mispriced most. Needs the packages and the CLI built.
// `--reuse` takes the profiles a previous run left in the directory instead of measuring again.
// Usage: node bench/analytic-real-models.mjs [--runs 20] [--only a,b] [--keep dir] [--reuse]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../packages/onnx-graph/dist/index.js';
import { analyticProfile, boundaryMs, calibrateAnalyticPerOp, calibrateBoundary, calibrateDispatch, compareProfiles, loadBoardDescription, readProfile, validateBoardDescription } from '../packages/profiler/dist/index.js';
import { buildZooModel, externalModels } from '../packages/zoo/dist/index.js';
import { cacheBytes, copyBandwidth } from './_copy-bandwidth.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const runs = Number(opt('--runs', 20));
const only = opt('--only', '').split(',').filter(Boolean);
const dir = opt('--keep', join(tmpdir(), 'dnnpart-analytic-real-models'));
const reuse = args.includes('--reuse');
const root = new URL('..', import.meta.url).pathname;
const CLI = join(root, 'apps/report/bin/dnnpart.js');
const ZOO = ['alexnet', 'efficientnet_b0', 'googlenet', 'mobilenet_v2', 'regnet_x_400mf', 'resnet18', 'resnet50', 'squeezenet1_1', 'vgg16'];
mkdirSync(dir, { recursive: true });
const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;

// 1. This machine.
const flags = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1]?.split(' ') ?? [] : [];
const flopsPerCycle = flags.includes('avx512f') ? 64 : flags.includes('avx2') ? 32 : 16;
const machineFile = join(dir, 'machine.json');
const machine = reuse && existsSync(machineFile) ? JSON.parse(readFileSync(machineFile, 'utf8')) : { dram: copyBandwidth(256), cache: copyBandwidth(4), flopsPerCycle };
// The last-level cache as copies see it: activations beyond it move at the DRAM bandwidth.
machine.cacheBytes ??= cacheBytes();
machine.boundary ??= (await calibrateBoundary({ threads: 1 })).boundary;
// What one more small kernel costs here (calibrateDispatch): the per-op overhead, measured, not fitted.
machine.dispatch ??= await calibrateDispatch({ threads: 1 });
writeFileSync(machineFile, JSON.stringify(machine));
const base = await loadBoardDescription(join(root, 'profiles/boards/ci-x86-2core.yaml'));
const describe = (activations) =>
  validateBoardDescription({
    name: 'this-machine',
    title: 'the machine the bench runs on',
    kind: 'cpu',
    peakGops: { fp32: cpus().length * 4 * machine.flopsPerCycle },
    memoryBandwidthBytesPerSec: machine.dram,
    ...(activations ? { activationBandwidthBytesPerSec: machine.cache, cacheBytes: machine.cacheBytes } : {}),
    memoryBytes: base.memoryBytes,
    power: base.power,
    boundary: { fixedMs: machine.boundary.fixedMs, inMsPerByte: machine.boundary.inMsPerByte, outMsPerByte: machine.boundary.outMsPerByte },
    sources: ['bench/analytic-real-models.mjs'],
  });

/** Profiles `file` here at one thread into `out` (or takes the one a previous run left with --reuse); { error } on failure. */
async function profileHere(file, out, inputs = []) {
  if (!(reuse && existsSync(out))) {
    const r = spawnSync(process.execPath, [CLI, 'profile', file, ...inputs, '--board', 'here', '--threads', '1', '--runs', String(runs), '--warmup', '3', '--boundary', 'default', '-o', out, '-q'], { encoding: 'utf8' });
    if (r.status !== 0) return { error: `profile exit ${r.status}: ${r.stderr.split('\n')[0]}` };
  }
  return { profile: await readProfile(out) };
}

/** The stage error of an analytic profile of `graph` against the measured end to end, and the analytic profile. */
function stageError(graph, description, params, measured) {
  const analytic = analyticProfile(graph, description, { sha256: measured.model.sha256, parameters: params });
  const sum = analytic.nodes.reduce((s, n) => s + n.latencyMs.median, 0);
  const bytes = (names) => names.reduce((s, t) => s + (graph.tensors.get(t)?.bytes ?? 0), 0);
  const edge = boundaryMs(analytic.boundary, bytes(graph.inputs), bytes(graph.outputs));
  return { error: (sum + edge) / measured.endToEnd.medianMs - 1, sum, edge, analytic };
}

console.log(`# analytic profiles against measurement here, 1 thread: ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length} (${flopsPerCycle} fp32 FLOP/cycle), node ${process.version}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; profile --runs ${runs}`);
console.log(`# copy bandwidth: 256 MiB ${(machine.dram / 1e9).toFixed(1)} GB/s, 4 MiB ${(machine.cache / 1e9).toFixed(1)} GB/s, cache ${(machine.cacheBytes / 1048576).toFixed(0)} MiB; fp32 peak bound ${cpus().length * 4 * machine.flopsPerCycle} GOPS; stage boundary ${machine.boundary.fixedMs.toFixed(4)} ms + ${(machine.boundary.inMsPerByte * 1e6).toFixed(3)} ms/MB in + ${(machine.boundary.outMsPerByte * 1e6).toFixed(3)} ms/MB out; dispatch ${(machine.dispatch.perOpOverheadMs * 1000).toFixed(3)} µs per kernel (rounds ${machine.dispatch.perRound.map((x) => (x * 1000).toFixed(3)).join(', ')})\n`);

// 2. The zoo, profiled here, and the two fits.
const zoo = [];
for (const net of ZOO) {
  const file = join(dir, `${net}.onnx`);
  if (!existsSync(file)) writeFileSync(file, buildZooModel(net));
  const r = await profileHere(file, join(dir, `${net}.t1.profile.json`));
  if (r.error) throw new Error(`${net}: ${r.error}`);
  zoo.push({ name: net, graph: (await loadModel(file, { name: net })).graph, measured: r.profile });
}
// The per-op overhead is fitted on the zoo (where it comes out 0: large kernels hide it) or fixed at
// what calibrateDispatch measured.
const measuredDispatch = { perOpOverheadMs: machine.dispatch.perOpOverheadMs };
const forms = [
  { label: 'one bandwidth', description: describe(false), fixed: {} },
  { label: 'activations from cache', description: describe(true), fixed: {} },
  { label: 'one bandwidth, measured dispatch', description: describe(false), fixed: measuredDispatch },
  { label: 'activations from cache, measured dispatch', description: describe(true), fixed: measuredDispatch },
];
for (const f of forms) {
  const fit = calibrateAnalyticPerOp(zoo, f.description, 'fp32', f.fixed);
  f.params = fit.parameters;
  const heldOut = zoo.map((z) => stageError(z.graph, f.description, calibrateAnalyticPerOp(zoo.filter((o) => o !== z), f.description, 'fp32', f.fixed).parameters, z.measured).error);
  console.log(`- ${f.label}: ${JSON.stringify(fit.parameters)}; zoo node error ${(fit.weightedAbsRelError * 100).toFixed(1)} % (time-weighted, mean over networks); each network left out: ${zoo.map((z, i) => `${z.name} ${pct(heldOut[i])}`).join(', ')}`);
}

// 3. The real models, held out.
console.log(`\n| model | nodes | measured e2e ms | ${forms.map((f) => `error, ${f.label}`).join(' | ')} | node error (${forms[forms.length - 1].label}) | most mispriced op types (analytic − measured, ms) |`);
console.log(`|---|---|---|${forms.map(() => '---').join('|')}|---|---|`);
const errors = forms.map(() => []);
for (const m of externalModels()) {
  if (!m.available || (only.length && !only.includes(m.name))) continue;
  const inputs = Object.entries(m.inputs).flatMap(([k, s]) => ['--input', `${k}=${s.join('x')}${m.values[k] ? `:${m.values[k].join(',')}` : ''}`]);
  const r = await profileHere(m.file, join(dir, `${m.name}.profile.json`), inputs);
  if (r.error) {
    console.log(`| ${m.name} | ${r.error} |`);
    continue;
  }
  const specs = Object.fromEntries(Object.entries(m.inputs).map(([k, s]) => [k, m.values[k] ? { shape: s, value: m.values[k] } : s]));
  const { graph } = await loadModel(m.file, { inputShapes: specs });
  const results = forms.map((f) => stageError(graph, f.description, f.params, r.profile));
  results.forEach((x, i) => errors[i].push(Math.abs(x.error)));
  const last = results[results.length - 1];
  const c = compareProfiles(last.analytic, r.profile);
  const byOp = new Map();
  const pred = new Map(last.analytic.nodes.map((n) => [n.name, n.latencyMs.median]));
  for (const n of r.profile.nodes) byOp.set(n.op, (byOp.get(n.op) ?? 0) + (pred.get(n.name) ?? 0) - n.latencyMs.median);
  const worst = [...byOp].sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).slice(0, 3).map(([op, d]) => `${op} ${d >= 0 ? '+' : ''}${d.toFixed(3)}`);
  console.log(`| ${m.name} | ${graph.nodes.length} | ${r.profile.endToEnd.medianMs.toFixed(3)} | ${results.map((x) => pct(x.error)).join(' | ')} | ${(c.weightedAbsRelError * 100).toFixed(1)} % | ${worst.join(', ')} |`);
}
console.log('');
forms.forEach((f, i) => {
  const e = [...errors[i]].sort((a, b) => a - b);
  if (e.length) console.log(`- ${f.label}: ${e.filter((x) => x <= 0.25).length} of ${e.length} real models within 25 % end to end; median |error| ${(e[e.length >> 1] * 100).toFixed(1)} %`);
});
