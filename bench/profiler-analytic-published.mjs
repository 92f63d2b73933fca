#!/usr/bin/env node
// The analytic (roofline) profiles against measurements they were not fitted on.
//
// 1. This machine (ci-x86-2core), the one board with many measured models: the committed
//    1-thread profiles (profiles/measured/ci-x86-2core) split into models the roofline is fitted
//    on and held-out models. Fitted once with one compute efficiency (calibrateAnalytic) and once
//    with per-op-class efficiencies (calibrateAnalyticPerOp: conv, depthwise conv, matmul/gemm,
//    elementwise); end-to-end error (Σ analytic node times + the estimated boundary vs the measured
//    end-to-end median) per held-out model.
// 2. Boards not at hand: every entry of profiles/published/*.yaml whose model the zoo builds,
//    against the analytic profile from the board's description as committed.
// Deterministic given the committed files; no ORT runs.
//
//   node bench/profiler-analytic-published.mjs [--train resnet18,mobilenet_v2,googlenet,vgg16]
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { loadModel } from '@dnnpart/onnx-graph';
import { analyticProfile, assertProfileMatchesModel, boundaryMs, calibrateAnalytic, calibrateAnalyticPerOp, loadBoardDescription, readProfile } from '@dnnpart/profiler';
import { buildZooModel } from '@dnnpart/zoo';

const root = new URL('../', import.meta.url).pathname;
const { values } = parseArgs({ options: { train: { type: 'string', default: 'resnet18,mobilenet_v2,googlenet,vgg16' }, threads: { type: 'string', default: '1' } } });
const train = new Set(values.train.split(','));
const pct = (x) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} %`;
const out = (s = '') => console.log(s);

out(`Date: ${new Date().toISOString()}`);
out(`Command: node bench/profiler-analytic-published.mjs ${process.argv.slice(2).join(' ')}`.trim());
out();

// 1. This machine.
const board = 'ci-x86-2core';
const description = await loadBoardDescription(join(root, 'profiles/boards', `${board}.yaml`));
const dir = join(root, 'profiles/measured', board);
const suffix = `.t${values.threads}.profile.json`;
const pairs = [];
for (const file of (await readdir(dir)).filter((f) => f.endsWith(suffix)).sort()) {
  const net = file.slice(0, -suffix.length);
  const measured = await readProfile(join(dir, file));
  const { graph, sha256 } = await loadModel(buildZooModel(net), { name: net });
  assertProfileMatchesModel(measured, sha256, net);
  pairs.push({ net, graph, sha256, measured });
}
const fitOn = pairs.filter((p) => train.has(p.net));
const single = calibrateAnalytic(fitOn, description, 'fp32');
const perOp = calibrateAnalyticPerOp(fitOn, description, 'fp32');
out(`## ${board}, ${values.threads} thread(s): fitted on ${[...train].join(', ')}; the others held out`);
out();
out(`One efficiency: ${JSON.stringify(single.parameters)} (training node error ${pct(single.weightedAbsRelError)})`);
out();
out(`Per-op efficiencies: ${JSON.stringify(perOp.parameters)} (training node error ${pct(perOp.weightedAbsRelError)})`);
out();
out('| model | set | measured end-to-end ms | analytic, one efficiency | error | analytic, per-op | error |');
out('|---|---|---:|---:|---:|---:|---:|');
const heldErrors = { single: [], perOp: [] };
for (const p of pairs) {
  const e2e = (params) => {
    const a = analyticProfile(p.graph, description, { sha256: p.sha256, precision: 'fp32', parameters: params });
    const inB = p.graph.inputs.reduce((s, t) => s + p.graph.tensors.get(t).bytes, 0);
    const outB = p.graph.outputs.reduce((s, t) => s + p.graph.tensors.get(t).bytes, 0);
    return a.endToEnd.medianMs + boundaryMs(a.boundary, inB, outB);
  };
  const m = p.measured.endToEnd.medianMs;
  // Without the description's own per-op multipliers: one efficiency only.
  const a1 = e2e({ ...single.parameters, opEfficiency: undefined });
  const a2 = e2e(perOp.parameters);
  const held = !train.has(p.net);
  if (held) {
    heldErrors.single.push(Math.abs(a1 / m - 1));
    heldErrors.perOp.push(Math.abs(a2 / m - 1));
  }
  out(`| ${p.net} | ${held ? 'held out' : 'fitted'} | ${m.toFixed(2)} | ${a1.toFixed(2)} | ${pct(a1 / m - 1)} | ${a2.toFixed(2)} | ${pct(a2 / m - 1)} |`);
}
const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
const max = (xs) => Math.max(...xs);
out();
out(`Held out (${heldErrors.single.length} models), |end-to-end error|: one efficiency mean ${pct(mean(heldErrors.single))}, max ${pct(max(heldErrors.single))}; per-op mean ${pct(mean(heldErrors.perOp))}, max ${pct(max(heldErrors.perOp))}.`);
out();

// 2. Published figures of boards not at hand.
out('## Boards not at hand: profiles/published/*.yaml');
out();
out('| board | model | input | threads | runtime | precision | published ms | analytic ms (description as committed) | analytic / published | source |');
out('|---|---|---|---:|---|---|---:|---:|---:|---|');
const pubDir = join(root, 'profiles/published');
let usable = 0;
let listed = 0;
for (const file of (await readdir(pubDir)).filter((f) => f.endsWith('.yaml')).sort()) {
  const doc = parseYaml(await readFile(join(pubDir, file), 'utf8'));
  const d = await loadBoardDescription(join(root, 'profiles/boards', `${doc.board}.yaml`));
  for (const e of doc.entries) {
    listed++;
    const ms = e.latencyMs ?? (e.fps ? 1000 / e.fps : NaN);
    if (!e.zoo) continue;
    usable++;
    const shape = e.input ?? [1, 3, 224, 224];
    const { graph, sha256 } = await loadModel(buildZooModel(e.zoo, { inputShape: shape }), { name: e.zoo });
    const precision = d.peakGops[e.precision] !== undefined ? e.precision : 'fp32';
    const a = analyticProfile(graph, d, { sha256, precision });
    const inB = graph.inputs.reduce((s, t) => s + graph.tensors.get(t).bytes, 0);
    const outB = graph.outputs.reduce((s, t) => s + graph.tensors.get(t).bytes, 0);
    const am = a.endToEnd.medianMs + boundaryMs(a.boundary, inB, outB);
    out(`| ${doc.board} | ${e.model} | ${shape.join('x')} | ${e.threads ?? '?'} | ${e.runtime} | ${e.precision}${precision !== e.precision ? ` (analytic ${precision})` : ''} | ${ms.toFixed(1)} | ${am.toFixed(1)} | ${(am / ms).toFixed(2)} | ${e.source} |`);
  }
}
out();
out(`${listed} published figures collected, ${usable} of models the zoo builds; the rest (detection models, TFLite) are kept in the files as a record.`);
