#!/usr/bin/env node
// Analytic profiles held against measurement on models that were not used to calibrate them: every
// real exported model (packages/zoo/src/external.ts) profiled here at one thread (`dnnpart profile
// --threads 1`), and the analytic profile of this machine's description (profiles/boards/
// ci-x86-2core.yaml, fitted on the zoo's CNNs at one thread) of the same graph. Prints per model the
// measured end to end; the analytic prediction of the whole model as one stage (its node sum plus
// the description's stage boundary: the fixed cost of a run and the model's input and output
// bytes, what the solver charges a stage) and its error; the time-weighted node error; and the op
// types the analytic profile misprices most. Needs the packages and the CLI built. `--reuse` takes
// the profiles a previous run left in the directory instead of measuring again.
// Usage: node bench/analytic-real-models.mjs [--runs 20] [--board ci-x86-2core] [--only a,b] [--keep dir] [--reuse]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../packages/onnx-graph/dist/index.js';
import { analyticProfile, boundaryMs, compareProfiles, loadBoardDescription, readProfile } from '../packages/profiler/dist/index.js';
import { externalModels } from '../packages/zoo/dist/index.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const runs = Number(opt('--runs', 20));
const boardName = opt('--board', 'ci-x86-2core');
const only = opt('--only', '').split(',').filter(Boolean);
const dir = opt('--keep', join(tmpdir(), 'dnnpart-analytic-real-models'));
const reuse = args.includes('--reuse');
const root = new URL('..', import.meta.url).pathname;
const CLI = join(root, 'apps/report/bin/dnnpart.js');
mkdirSync(dir, { recursive: true });
const description = await loadBoardDescription(join(root, 'profiles/boards', `${boardName}.yaml`));

const spec = (m, k, shape) => `${k}=${shape.join('x')}${m.values[k] ? `:${m.values[k].join(',')}` : ''}`;
const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;

console.log(`# analytic (${boardName}) against measured here, 1 thread: ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, node ${process.version}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; profile --runs ${runs}`);
console.log('| model | nodes | measured e2e ms | analytic node sum ms | + boundary ms | error of the stage | node error (time-weighted) | most mispriced op types (analytic − measured, ms) |');
console.log('|---|---|---|---|---|---|---|---|');
const errors = [];
for (const m of externalModels()) {
  if (!m.available || (only.length && !only.includes(m.name))) continue;
  const out = join(dir, `${m.name}.profile.json`);
  const inputs = Object.entries(m.inputs).flatMap(([k, s]) => ['--input', spec(m, k, s)]);
  const r = reuse && existsSync(out) ? { status: 0 } : spawnSync(process.execPath, [CLI, 'profile', m.file, ...inputs, '--board', 'here', '--threads', '1', '--runs', String(runs), '--warmup', '3', '--boundary', 'default', '-o', out, '-q'], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`| ${m.name} | profile exit ${r.status}: ${r.stderr.split('\n')[0]} |`);
    continue;
  }
  const measured = await readProfile(out);
  const specs = Object.fromEntries(Object.entries(m.inputs).map(([k, s]) => [k, m.values[k] ? { shape: s, value: m.values[k] } : s]));
  const { graph } = await loadModel(m.file, { inputShapes: specs });
  const analytic = analyticProfile(graph, description, { sha256: measured.model.sha256 });
  const c = compareProfiles(analytic, measured);
  const sum = analytic.nodes.reduce((s, n) => s + n.latencyMs.median, 0);
  const bytes = (names) => names.reduce((s, t) => s + (graph.tensors.get(t)?.bytes ?? 0), 0);
  const edge = boundaryMs(analytic.boundary, bytes(graph.inputs), bytes(graph.outputs));
  const err = (sum + edge) / measured.endToEnd.medianMs - 1;
  const byOp = new Map();
  const pred = new Map(analytic.nodes.map((n) => [n.name, n.latencyMs.median]));
  for (const n of measured.nodes) byOp.set(n.op, (byOp.get(n.op) ?? 0) + (pred.get(n.name) ?? 0) - n.latencyMs.median);
  const worst = [...byOp].sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).slice(0, 3).map(([op, d]) => `${op} ${d >= 0 ? '+' : ''}${d.toFixed(3)}`);
  errors.push(Math.abs(err));
  console.log(`| ${m.name} | ${graph.nodes.length} | ${measured.endToEnd.medianMs.toFixed(3)} | ${sum.toFixed(3)} | ${edge.toFixed(3)} | ${pct(err)} | ${(c.weightedAbsRelError * 100).toFixed(1)} % | ${worst.join(', ')} |`);
}
errors.sort((a, b) => a - b);
if (errors.length) console.log(`\n${errors.filter((e) => e <= 0.25).length} of ${errors.length} within 25 % end to end; median |error| ${(errors[errors.length >> 1] * 100).toFixed(1)} %`);
