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
//    against the analytic profile from the board's datasheet defaults and from its description as
//    committed; the comparable entries (ONNX Runtime, fp32) calibrate the description (see below).
// Deterministic given the committed files; no ORT runs.
//
//   node bench/profiler-analytic-published.mjs [--train resnet18,mobilenet_v2,googlenet,vgg16] [--fit all | yolo11n,yolo11s]
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { loadModel } from '@dnnpart/onnx-graph';
import { analyticProfile, assertProfileMatchesModel, boundaryMs, calibrateAnalytic, calibrateAnalyticPerOp, loadBoardDescription, readProfile } from '@dnnpart/profiler';
import { buildZooModel } from '@dnnpart/zoo';

const root = new URL('../', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    train: { type: 'string', default: 'resnet18,mobilenet_v2,googlenet,vgg16' },
    threads: { type: 'string', default: '1' },
    // Boards not at hand: the networks whose comparable published figures calibrate the description
    // (all: every comparable figure; leaving one network out then gives the held-out errors).
    fit: { type: 'string', default: 'all' },
  },
});
const fitAll = values.fit === 'all';
const fitModels = new Set(fitAll ? [] : values.fit.split(','));
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
// Comparable entries (comparable: true: ONNX Runtime, fp32, a model the zoo builds at the stated
// input) calibrate the board's description: the per-op shape of this machine's fit (depthwise
// convolutions at their fraction of the dense efficiency, matmul and elementwise multipliers) is
// kept, and the compute and memory efficiencies are fitted (least squares of log(analytic /
// published)) on the figures of the networks named by --fit; every other comparable figure is held
// out. With three or more networks, each is also left out of a fit on all the others.
out('## Boards not at hand: profiles/published/*.yaml');
out();
const pubDir = join(root, 'profiles/published');
const x86 = description.analytic;
const perOpShape = { perOpOverheadMs: 0, opEfficiency: x86.opEfficiency };
const graphs = new Map();
async function zooGraph(net, shape) {
  const key = `${net}@${shape.join('x')}`;
  if (!graphs.has(key)) graphs.set(key, await loadModel(buildZooModel(net, { inputShape: shape }), { name: net }));
  return graphs.get(key);
}
function e2eMs(m, d, precision, parameters) {
  const a = analyticProfile(m.graph, d, { sha256: m.sha256, precision, ...(parameters ? { parameters } : {}) });
  const inB = m.graph.inputs.reduce((s, t) => s + m.graph.tensors.get(t).bytes, 0);
  const outB = m.graph.outputs.reduce((s, t) => s + m.graph.tensors.get(t).bytes, 0);
  return a.endToEnd.medianMs + boundaryMs(a.boundary, inB, outB);
}
/** Least squares of log errors over a grid, then a finer grid around the best point. */
function fit(entries, d, paramsOf, ranges) {
  const cost = (x) => entries.reduce((s, e) => s + Math.log(e2eMs(e.m, d, 'fp32', paramsOf(x)) / e.ms) ** 2, 0);
  let best = null;
  const walk = (rs, step) => {
    const axes = rs.map(([lo, hi]) => { const v = []; for (let x = lo; x <= hi + 1e-9; x += step) v.push(Math.min(1, +x.toFixed(4))); return v; });
    const grid = axes.reduce((acc, vs) => acc.flatMap((a) => vs.map((v) => [...a, v])), [[]]);
    for (const x of grid) { const c = cost(x); if (!best || c < best.c) best = { x, c }; }
  };
  walk(ranges, 0.05);
  walk(best.x.map((v, i) => [Math.max(ranges[i][0], v - 0.05), Math.min(ranges[i][1], v + 0.05)]), 0.005);
  return best.x;
}
const pct0 = (x) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(0)} %`;
let listed = 0;
const summary = [];
for (const file of (await readdir(pubDir)).filter((f) => f.endsWith('.yaml')).sort()) {
  const doc = parseYaml(await readFile(join(pubDir, file), 'utf8'));
  const boardFile = join(root, 'profiles/boards', `${doc.board}.yaml`);
  const committed = await loadBoardDescription(boardFile);
  const datasheet = { ...committed, analytic: undefined };
  const rows = [];
  for (const e of doc.entries) {
    listed++;
    if (typeof e.comparable !== 'boolean' || !e.source || !(e.latencyMs > 0 || e.fps > 0)) throw new Error(`${file}: entry ${e.model}: needs comparable (true/false), source and latencyMs or fps`);
    const ms = e.latencyMs ?? 1000 / e.fps;
    const row = { e, ms };
    if (e.zoo) {
      row.shape = e.input ?? [1, 3, 224, 224];
      row.m = await zooGraph(e.zoo, row.shape);
      row.precision = committed.peakGops[e.precision] !== undefined ? e.precision : 'fp32';
      row.datasheetMs = e2eMs(row.m, datasheet, row.precision);
      row.committedMs = e2eMs(row.m, committed, row.precision);
    }
    rows.push(row);
  }
  const comparable = rows.filter((r) => r.e.comparable && r.m);
  out(`### ${doc.board}`);
  out();
  out(`${rows.length} published figures, ${rows.filter((r) => r.m).length} of models the zoo builds, ${comparable.length} comparable (ONNX Runtime, fp32, the zoo's model at the stated input).`);
  out();
  out('| model | input | threads | runtime | precision | published ms | comparable | analytic ms, datasheet defaults | / published | analytic ms, description as committed | / published | source |');
  out('|---|---|---:|---|---|---:|---|---:|---:|---:|---:|---|');
  for (const r of rows.filter((x) => x.m)) {
    out(`| ${r.e.model} | ${r.shape.join('x')} | ${r.e.threads ?? '?'} | ${r.e.runtime} | ${r.e.precision}${r.precision !== r.e.precision ? ` (analytic ${r.precision})` : ''} | ${r.ms.toFixed(1)} | ${r.e.comparable ? 'yes' : `no: ${r.e.why}`} | ${r.datasheetMs.toFixed(1)} | ${(r.datasheetMs / r.ms).toFixed(2)} | ${r.committedMs.toFixed(1)} | ${(r.committedMs / r.ms).toFixed(2)} | ${r.e.source} |`);
  }
  out();
  const models = [...new Set(comparable.map((r) => r.e.zoo))];
  if (fitAll) for (const m of models) fitModels.add(m);
  if (comparable.length === 0) {
    out('No comparable figure: the description stays uncalibrated (datasheet defaults).');
    out();
    summary.push(`${doc.board}: no comparable figure`);
    continue;
  }
  const entries = comparable.map((r) => ({ m: r.m, ms: r.ms, zoo: r.e.zoo, source: r.e.source }));
  const two = (x) => ({ ...perOpShape, computeEfficiency: x[0], memoryEfficiency: x[1] });
  const fitSet = entries.filter((en) => fitModels.has(en.zoo));
  const held = entries.filter((en) => !fitModels.has(en.zoo));
  if (fitSet.length === 0) {
    out(`None of the comparable figures is of a network named by --fit (${[...fitModels].join(', ')}): no fit.`);
    out();
    continue;
  }
  const [ce, me] = fit(fitSet, committed, two, [[0.05, 1], [0.05, 1]]);
  out(`Fitted on the ${fitSet.length} comparable figures of ${[...new Set(fitSet.map((x) => x.zoo))].join(', ')} (--fit), this machine's per-op shape ${JSON.stringify(perOpShape.opEfficiency)}: computeEfficiency ${ce}, memoryEfficiency ${me}. The other ${held.length} comparable figures are held out.`);
  out();
  out('| model | set | published ms | fitted analytic ms | error |');
  out('|---|---|---:|---:|---:|');
  const heldErr = [];
  for (const en of [...fitSet, ...held]) {
    const a = e2eMs(en.m, committed, 'fp32', two([ce, me]));
    const isHeld = !fitModels.has(en.zoo);
    if (isHeld) heldErr.push(Math.abs(a / en.ms - 1));
    out(`| ${en.zoo} | ${isHeld ? 'held out' : 'fitted'} | ${en.ms.toFixed(1)} | ${a.toFixed(1)} | ${pct(a / en.ms - 1)} |`);
  }
  out();
  if (heldErr.length) out(`Held out (${heldErr.length} figures), |end-to-end error|: mean ${pct(mean(heldErr))}, max ${pct(max(heldErr))}; ${heldErr.filter((e) => e <= 0.25).length} of ${heldErr.length} within 25 %.`);
  else out('No comparable figure is held out.');
  out();
  if (models.length >= 3) {
    out('Leave one network out (the same two-parameter fit on every other network\'s comparable figures):');
    out();
    out('| held-out network | computeEfficiency | memoryEfficiency | published ms | analytic ms | error |');
    out('|---|---:|---:|---:|---:|---:|');
    const looErr = [];
    for (const m of models) {
      const [c2, m2] = fit(entries.filter((x) => x.zoo !== m), committed, two, [[0.05, 1], [0.05, 1]]);
      for (const en of entries.filter((x) => x.zoo === m)) {
        const a = e2eMs(en.m, committed, 'fp32', two([c2, m2]));
        looErr.push(Math.abs(a / en.ms - 1));
        out(`| ${m} | ${c2} | ${m2} | ${en.ms.toFixed(1)} | ${a.toFixed(1)} | ${pct(a / en.ms - 1)} |`);
      }
    }
    out();
    out(`Leave one out (${looErr.length} figures): mean |error| ${pct(mean(looErr))}, max ${pct(max(looErr))}; ${looErr.filter((e) => e <= 0.25).length} of ${looErr.length} within 25 %.`);
    out();
  }
  summary.push(`${doc.board}: ${comparable.length} comparable figures of ${models.length} networks; fitted on ${fitAll ? 'all of them' : [...fitModels].join(', ')}: computeEfficiency ${ce}, memoryEfficiency ${me}`);
}
out(`${listed} published figures collected. ${summary.join('; ')}.`);
