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
//    committed; the comparable entries (ONNX Runtime with the description's engine, fp32) fit the
//    description in several forms, each held against the networks it was not fitted on (below).
// Deterministic given the committed files; no ORT runs. About 90 s on 2 cores.
//
//   node bench/profiler-analytic-published.mjs [--train resnet18,mobilenet_v2,googlenet,vgg16] [--fit all | yolo11n,yolo11s]
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { loadModel } from '@dnnpart/onnx-graph';
import { analyticProfile, assertProfileMatchesModel, boundaryMs, calibrateAnalytic, calibrateAnalyticPerOp, estimatedBoundary, loadBoardDescription, readProfile } from '@dnnpart/profiler';
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
// Comparable entries (comparable: true: ONNX Runtime with the description's engine, fp32, a model
// the zoo builds at the stated input) calibrate the board's description. Fits are least squares of
// log(analytic / published) over the figures of the networks named by --fit (default: all), in
// more than one form (which efficiencies are free):
//   A  compute and memory efficiency; per-op multipliers as fitted on this machine (ci-x86-2core);
//   B  A plus the board's own depthwise-convolution multiplier (ORT's depthwise kernels differ by ISA);
//   C  A plus a per-op overhead (ORT's per-node dispatch and thread-pool hand-off; kernel launches on
//      a GPU), which weighs on small networks of many nodes.
//   P  (boards in SHAPE_FROM) A with a sibling board's committed per-op multipliers instead of this
//      machine's: the Raspberry Pis both run ORT's ARM64 kernels, and the Pi 4 has too few figures
//      to fit its own shape;
//   Q  (same boards) P with the sibling's memory efficiency too: compute efficiency alone is fitted.
// (B and C together, four parameters, held out no better than B on the Raspberry Pi 5 and took four
// times as long: left out.)
// Each form is held against figures it was not fitted on: every network left out in turn, and each
// family (classifiers / detectors) fitted on the other. The form with the smaller leave-one-out
// error is the one to commit to the description.
out('## Boards not at hand: profiles/published/*.yaml');
out();
const pubDir = join(root, 'profiles/published');
const ONE = { conv: 1, depthwiseConv: 1, matmul: 1, elementwise: 1 };
const x86Shape = { ...ONE, ...description.analytic.opEfficiency };
const graphs = new Map();
async function zooGraph(net, shape) {
  const key = `${net}@${shape.join('x')}`;
  if (!graphs.has(key)) graphs.set(key, await loadModel(buildZooModel(net, { inputShape: shape }), { name: net }));
  return graphs.get(key);
}
const ioBytes = (m) => [m.graph.inputs, m.graph.outputs].map((ts) => ts.reduce((s, t) => s + m.graph.tensors.get(t).bytes, 0));
function e2eMs(m, d, precision, parameters) {
  const a = analyticProfile(m.graph, d, { sha256: m.sha256, precision, ...(parameters ? { parameters } : {}) });
  const [inB, outB] = ioBytes(m);
  return a.endToEnd.medianMs + boundaryMs(a.boundary, inB, outB);
}

// Fitting calls the roofline some 10^5 times per board, too slow through analyticProfile (1-4 ms a
// call on the YOLO graphs). So each model's per-node terms are read from analyticProfile once, by
// probes that make one term dominate (efficiency 1e-9 on the other), and the op class of every node
// by halving one class's multiplier; the fast sum below then mirrors nodeMs, and every fitted point
// is checked against analyticProfile itself (checkFast) before it is printed.
const BIG = 1e9;
function nodeTerms(m, d) {
  const run = (ce, me, k = {}) => analyticProfile(m.graph, d, { sha256: m.sha256, precision: 'fp32', parameters: { computeEfficiency: ce, memoryEfficiency: me, perOpOverheadMs: 0, opEfficiency: { ...ONE, ...k } } }).nodes.map((n) => n.latencyMs.median);
  const comp = run(1 / BIG, 1);
  const mem = run(1, 1 / BIG);
  const doubled = (base, probe) => probe.map((t, i) => t > 1.5 * base[i]);
  const cls = {};
  for (const c of ['conv', 'depthwiseConv', 'matmul']) cls[c] = doubled(comp, run(1 / BIG, 1, { [c]: 0.5 }));
  const elementwise = doubled(mem, run(1, 1 / BIG, { elementwise: 0.5 }));
  const [inB, outB] = ioBytes(m);
  return {
    d, inB, outB,
    c: Float64Array.from(comp, (t) => t / BIG),
    mem: Float64Array.from(mem, (t) => t / BIG),
    cls: comp.map((_, i) => (cls.conv[i] ? 'conv' : cls.depthwiseConv[i] ? 'depthwiseConv' : cls.matmul[i] ? 'matmul' : null)),
    elementwise,
  };
}
const boundaries = new Map();
function fastE2eMs(t, p) {
  const k = { ...ONE, ...p.opEfficiency };
  let s = 0;
  for (let i = 0; i < t.c.length; i++) {
    const ce = Math.min(1, p.computeEfficiency * (t.cls[i] ? k[t.cls[i]] : 1));
    const me = Math.min(1, p.memoryEfficiency * (t.elementwise[i] ? k.elementwise : 1));
    s += Math.max(t.c[i] / ce, t.mem[i] / me) + p.perOpOverheadMs;
  }
  const key = `${t.d.name}@${p.memoryEfficiency}`;
  if (!boundaries.has(key)) boundaries.set(key, estimatedBoundary(t.d, p.memoryEfficiency));
  return s + boundaryMs(boundaries.get(key), t.inB, t.outB);
}
function checkFast(entries, p) {
  for (const en of entries) {
    const fast = fastE2eMs(en.t, p);
    const exact = e2eMs(en.m, en.t.d, 'fp32', p);
    if (Math.abs(fast / exact - 1) > 1e-4) throw new Error(`${en.zoo}: the fast roofline sum ${fast} ms differs from analyticProfile's ${exact} ms at ${JSON.stringify(p)}`);
  }
}
/** Least squares of log errors: a grid over the ranges, then two finer grids around the best point. */
function fit(entries, form) {
  const cost = (x) => { const p = form.params(x); return entries.reduce((s, e) => s + Math.log(fastE2eMs(e.t, p) / e.ms) ** 2, 0); };
  const n = 20;
  let ranges = form.ranges;
  let best = null;
  for (let level = 0; level < 3; level++) {
    const axes = ranges.map(([lo, hi]) => Array.from({ length: n + 1 }, (_, i) => +(lo + ((hi - lo) * i) / n).toFixed(6)));
    for (const x of axes.reduce((acc, vs) => acc.flatMap((a) => vs.map((v) => [...a, v])), [[]])) {
      const c = cost(x);
      if (!best || c < best.c - 1e-12) best = { x, c };
    }
    ranges = best.x.map((v, i) => { const step = (ranges[i][1] - ranges[i][0]) / n; return [Math.max(form.ranges[i][0], v - step), Math.min(form.ranges[i][1], v + step)]; });
  }
  const x = best.x.map((v, i) => +v.toFixed(form.digits[i]));
  const p = form.params(x);
  checkFast(entries, p);
  return { x, p };
}
const FORMS = [
  { id: 'A', what: "compute + memory efficiency, this machine's per-op multipliers", names: ['computeEfficiency', 'memoryEfficiency'], ranges: [[0.02, 1], [0.02, 1]], digits: [3, 3],
    params: (x) => ({ computeEfficiency: x[0], memoryEfficiency: x[1], perOpOverheadMs: 0, opEfficiency: x86Shape }) },
  { id: 'B', what: "A + the board's own depthwise multiplier", names: ['computeEfficiency', 'memoryEfficiency', 'depthwiseConv'], ranges: [[0.02, 1], [0.02, 1], [0.01, 1]], digits: [3, 3, 3],
    params: (x) => ({ computeEfficiency: x[0], memoryEfficiency: x[1], perOpOverheadMs: 0, opEfficiency: { ...x86Shape, depthwiseConv: x[2] } }) },
  { id: 'C', what: 'A + a per-op overhead', names: ['computeEfficiency', 'memoryEfficiency', 'perOpOverheadMs'], ranges: [[0.02, 1], [0.02, 1], [0, 0.2]], digits: [3, 3, 4],
    params: (x) => ({ computeEfficiency: x[0], memoryEfficiency: x[1], perOpOverheadMs: x[2], opEfficiency: x86Shape }) },
];
const SHAPE_FROM = { 'raspberry-pi-4': 'raspberry-pi-5' };
const showParams = (form, x) => form.names.map((n, i) => `${n} ${x[i]}`).join(', ');
const family = (zoo) => (/^yolo/.test(zoo) ? 'detectors' : 'classifiers');
const origin = (url) => (url.includes('/docs/en/guides/raspberry-pi.md') ? 'Ultralytics' : url.includes('ispcojp/') ? 'ISP' : new URL(url).hostname.replace(/^www\./, ''));
const pct0 = (x) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(0)} %`;
const within = (errs) => `${errs.filter((e) => Math.abs(e) <= 0.25).length} of ${errs.length} within 25 %`;
const stats = (errs) => `mean |error| ${pct(mean(errs.map(Math.abs)))}, max ${pct(max(errs.map(Math.abs)))}; ${within(errs)}`;

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
  out(`${rows.length} published figures, ${rows.filter((r) => r.m).length} of models the zoo builds, ${comparable.length} comparable (ONNX Runtime with the description's engine, fp32, the zoo's model at the stated input).`);
  out();
  out('| model | input | threads | runtime | precision | published ms | comparable | analytic ms, datasheet defaults | / published | analytic ms, description as committed | / published | source |');
  out('|---|---|---:|---|---|---:|---|---:|---:|---:|---:|---|');
  for (const r of rows.filter((x) => x.m)) {
    out(`| ${r.e.model} | ${r.shape.join('x')} | ${r.e.threads ?? '?'} | ${r.e.runtime} | ${r.e.precision}${r.precision !== r.e.precision ? ` (analytic ${r.precision})` : ''} | ${r.ms.toFixed(1)} | ${r.e.comparable ? 'yes' : `no: ${r.e.why}`} | ${r.datasheetMs.toFixed(1)} | ${(r.datasheetMs / r.ms).toFixed(2)} | ${r.committedMs.toFixed(1)} | ${(r.committedMs / r.ms).toFixed(2)} | ${r.e.source} |`);
  }
  out();
  if (comparable.length === 0) {
    out('No comparable figure: the description stays uncalibrated (datasheet defaults).');
    out();
    summary.push(`${doc.board}: no comparable figure`);
    continue;
  }
  const entries = comparable.map((r) => ({ m: r.m, t: nodeTerms(r.m, committed), ms: r.ms, zoo: r.e.zoo, origin: origin(r.e.source) }));
  const models = [...new Set(entries.map((x) => x.zoo))];
  const fitSet = fitAll ? entries : entries.filter((en) => fitModels.has(en.zoo));
  if (fitSet.length === 0) {
    out(`None of the comparable figures is of a network named by --fit (${[...fitModels].join(', ')}): no fit.`);
    out();
    continue;
  }
  const forms = [...FORMS];
  if (SHAPE_FROM[doc.board]) {
    const sib = await loadBoardDescription(join(root, 'profiles/boards', `${SHAPE_FROM[doc.board]}.yaml`));
    const shape = { ...ONE, ...sib.analytic?.opEfficiency };
    forms.push({ id: 'P', what: `compute + memory efficiency, ${sib.name}'s per-op multipliers ${JSON.stringify(shape)}`, names: ['computeEfficiency', 'memoryEfficiency'], ranges: [[0.02, 1], [0.02, 1]], digits: [3, 3],
      params: (x) => ({ computeEfficiency: x[0], memoryEfficiency: x[1], perOpOverheadMs: 0, opEfficiency: shape }) });
    // Q: P with the sibling's memory efficiency too (for when no figure of this board is memory-bound).
    const me = sib.analytic?.memoryEfficiency ?? 0.5;
    forms.push({ id: 'Q', what: `compute efficiency only, ${sib.name}'s per-op multipliers and memory efficiency ${me}`, names: ['computeEfficiency'], ranges: [[0.02, 1]], digits: [3],
      params: (x) => ({ computeEfficiency: x[0], memoryEfficiency: me, perOpOverheadMs: 0, opEfficiency: shape }) });
  }
  const res = forms.map((form) => {
    const all = fit(fitSet, form);
    // Leave one network out: fitted on every other network's figures.
    const loo = new Map();
    if (models.length >= 3) for (const net of models) loo.set(net, fit(entries.filter((x) => x.zoo !== net), form));
    // Each family held out: fitted on the other family's figures only.
    const fam = new Map();
    const fams = [...new Set(entries.map((x) => family(x.zoo)))];
    if (fams.length === 2) for (const f of fams) fam.set(f, fit(entries.filter((x) => family(x.zoo) !== f), form));
    return { form, all, loo, fam };
  });
  out(`Fitted on ${fitAll ? 'all' : 'the'} ${fitSet.length} comparable figures${fitAll ? '' : ` of ${[...fitModels].join(', ')} (--fit)`}, ${models.length} networks. Forms: ${res.map((r) => `${r.form.id} (${r.form.what}): ${showParams(r.form, r.all.x)}`).join('; ')}.`);
  out();
  const heads = res.map((r) => `${r.form.id}, fitted | error | ${r.form.id}, network left out | error`).join(' | ');
  out(`| model | source | published ms | ${heads} |`);
  out(`|---|---|---:|${res.map(() => '---:|---:|---:|---:|').join('')}`);
  const errs = new Map(res.map((r) => [r.form.id, { fitted: [], held: [], loo: [], fam: [] }]));
  for (const en of entries) {
    const cells = res.map((r) => {
      const e = errs.get(r.form.id);
      const a = fastE2eMs(en.t, r.all.p);
      const isFitted = fitAll || fitModels.has(en.zoo);
      (isFitted ? e.fitted : e.held).push(a / en.ms - 1);
      const l = r.loo.get(en.zoo);
      const b = l ? fastE2eMs(en.t, l.p) : NaN;
      if (l) e.loo.push(b / en.ms - 1);
      const f = r.fam.get(family(en.zoo));
      if (f) e.fam.push({ fam: family(en.zoo), err: fastE2eMs(en.t, f.p) / en.ms - 1 });
      return `${a.toFixed(1)} | ${isFitted ? '' : '(held out) '}${pct(a / en.ms - 1)} | ${l ? b.toFixed(1) : '-'} | ${l ? pct(b / en.ms - 1) : '-'}`;
    });
    out(`| ${en.zoo} | ${en.origin} | ${en.ms.toFixed(1)} | ${cells.join(' | ')} |`);
  }
  out();
  let bestForm = null;
  for (const r of res) {
    const e = errs.get(r.form.id);
    out(`- Form ${r.form.id} (${r.form.what}): fitted ${stats(e.fitted)}${e.held.length ? `; held out by --fit ${stats(e.held)}` : ''}.`);
    if (e.loo.length) {
      const m = mean(e.loo.map(Math.abs));
      out(`  Each network left out (${e.loo.length} figures): ${stats(e.loo)}; the left-out fits range ${r.form.names.map((n, i) => `${n} ${Math.min(...[...r.loo.values()].map((v) => v.x[i]))}-${Math.max(...[...r.loo.values()].map((v) => v.x[i]))}`).join(', ')}.`);
      if (!bestForm || m < bestForm.m - 1e-9) bestForm = { r, m };
    }
    for (const [f, v] of r.fam) {
      const fe = e.fam.filter((x) => x.fam === f).map((x) => x.err);
      out(`  ${f} held out (fitted on the ${f === 'detectors' ? 'classifiers' : 'detectors'} only: ${showParams(r.form, v.x)}): ${fe.map(pct0).join(', ')}; ${stats(fe)}.`);
    }
  }
  out();
  if (bestForm) {
    out(`Smallest leave-one-network-out error: form ${bestForm.r.form.id}; fitted on ${fitAll ? `all ${entries.length}` : `the ${fitSet.length} --fit`} figures: ${showParams(bestForm.r.form, bestForm.r.all.x)}.`);
    out();
    summary.push(`${doc.board}: ${comparable.length} comparable figures of ${models.length} networks; form ${bestForm.r.form.id} fitted on ${fitAll ? 'all' : 'the --fit networks'}: ${showParams(bestForm.r.form, bestForm.r.all.x)} (each network left out: mean |error| ${pct(bestForm.m)})`);
  } else {
    out(`Fewer than three networks: no leave-one-out; fitted: ${res.map((r) => `${r.form.id} ${showParams(r.form, r.all.x)}`).join('; ')}.`);
    out();
    summary.push(`${doc.board}: ${comparable.length} comparable figures of ${models.length} networks (too few to hold any out)`);
  }
}
out(`${listed} published figures collected. ${summary.join('; ')}.`);
