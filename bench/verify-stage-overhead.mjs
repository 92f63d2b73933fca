#!/usr/bin/env node
// Where a small stage's time goes (issue 10): the model is profiled here, cut into k stages at equal
// shares of the profile's time (as bench/verify-stages.mjs does), and each stage model is timed
// (median session.run wall time, preallocated outputs, after warm-up) and run once more per frame in
// a profiled session, so that its wall time splits into: the profile's node medians for its nodes
// (what the plan predicts), the kernels ORT really ran for it (its own trace: fusions that a cut
// prevents and layout reorders it adds show here), ORT's time in model_run around the kernels, and
// what session.run adds outside model_run (the JavaScript call, feeds, outputs).
//
//   node bench/verify-stage-overhead.mjs [--model paddleocr-cls] [--stages 1,2,4] [--threads 1] [--runs 200]
// Needs the built packages. Prints Markdown.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadModel, randomFeeds, splitModel } from '@dnnpart/onnx-graph';
import { calibrateBoundary, preallocatedFetches, profileModel } from '@dnnpart/profiler';
import { evaluatePlan } from '@dnnpart/solver';
import { buildZooModel, externalModels } from '@dnnpart/zoo';
import { buildProblem, loadSystem, resolveSystem } from '@dnnpart/report';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'paddleocr-cls' },
    stages: { type: 'string', default: '1,2,4' },
    threads: { type: 'string', default: '1' },
    runs: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '50' },
  },
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const threads = Number(values.threads);
const tmp = await mkdtemp(join(tmpdir(), 'dnnpart-stage-overhead-'));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[(s.length - 1) >> 1] : NaN; };
const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : '—');

let file;
let input;
const ext = externalModels().find((x) => x.name === values.model);
if (ext) {
  if (!ext.available) throw new Error(`${values.model} is not installed`);
  file = ext.file;
  input = Object.entries(ext.inputs).map(([k, v]) => `${k}=${v.join('x')}`);
} else {
  file = join(tmp, `${values.model}.onnx`);
  await writeFile(file, buildZooModel(values.model, { inputShape: [1, 3, 224, 224] }));
  input = ['1x3x224x224'];
}
const single = input.length === 1 && !input[0].includes('=') ? input[0].split('x').map(Number) : undefined;
const inputShapes = single ?? Object.fromEntries(input.map((s) => [s.split('=')[0], s.split('=')[1].split('x').map(Number)]));
const opts = {
  executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1,
  executionMode: 'sequential', logSeverityLevel: 3, extra: { session: { intra_op: { allow_spinning: '0' } } },
};

console.log(`# Where a stage's time goes: ${values.model}, ${threads} thread${threads > 1 ? 's' : ''}\n`);
console.log(`Machine: ${cpus()[0]?.model.trim()}, ${availableParallelism()} cores; load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${new Date().toISOString()}`);
console.log(`Command: node bench/verify-stage-overhead.mjs --model ${values.model} --stages ${values.stages} --threads ${threads} --runs ${runs} (warm-up ${warmup} runs per stage session)\n`);

const cal = await calibrateBoundary({ threads, tempDir: tmp });
const profileFile = join(tmp, 'p.json');
const profile = await profileModel(file, { board: 'here', runs: 20, warmup: 3, threads, output: profileFile, sensor: null, boundary: cal.boundary, inputShapes });
const sysFile = join(tmp, 's.yaml');
const inputLine = single ? `  input: ${input[0]}` : `  input: { ${input.map((s) => s.replace('=', ': ')).join(', ')} }`;
await writeFile(sysFile, ['version: 1', 'name: x', 'model:', `  file: ${file}`, inputLine, 'boards:', `  - { id: here, profile: ${profileFile} }`].join('\n'));
const resolved = await resolveSystem(loadSystem(sysFile), { workDir: tmp });
const { problem } = buildProblem(resolved);
const loaded = await loadModel(file, { inputShapes: resolved.inputShapes });
const names = loaded.graph.nodes.map((n) => n.name);
const lat = names.map((n) => problem.boards[0].latencyMs[n] ?? 0);
console.log(`Profile: end-to-end median ${profile.endToEnd.medianMs.toFixed(3)} ms over ${names.length} nodes; boundary ${cal.boundary.fixedMs} ms + ${(cal.boundary.inMsPerByte * 1e6).toFixed(3)} ms/MB in + ${(cal.boundary.outMsPerByte * 1e6).toFixed(3)} ms/MB out\n`);
console.log('| stages | stage | nodes | in / out tensors | in kB | out kB | predicted ms (kernels + boundary) | wall ms (median) | model_run ms | kernels ms (own trace) | kernels ORT ran | reorder kernels (ms) | in model_run, not in kernels ms | outside model_run ms | wall − predicted ms |');
console.log('|---:|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|');
const feeds = randomFeeds(loaded.graph, 1);
for (const k of values.stages.split(',').map(Number)) {
  const total = lat.reduce((a, x) => a + x, 0);
  const stageOf = {};
  let acc = 0;
  let s = 0;
  names.forEach((n, i) => {
    if (s < k - 1 && acc + lat[i] / 2 > (total * (s + 1)) / k && i > 0 && Object.values(stageOf).filter((x) => x === s).length > 0) s++;
    stageOf[n] = s;
    acc += lat[i];
  });
  const count = Math.max(...Object.values(stageOf)) + 1;
  const split = splitModel(loaded, { stages: stageOf });
  const boards = Array.from({ length: count }, (_, i) => ({ ...problem.boards[0], id: `here${i}` }));
  const links = [];
  for (let a = 0; a + 1 < count; a++) links.push({ from: `here${a}`, to: `here${a + 1}`, bandwidthBytesPerSec: 1e15, latencyMs: 0, powerW: 0 });
  const metrics = evaluatePlan({ ...problem, boards, links, inputBoard: 'here0', boardOrder: 'fixed' }, boards.map((b, i) => ({ board: b.id, nodes: names.filter((n) => stageOf[n] === i) })));
  const pool = new Map(Object.entries(feeds));
  for (const [i, st] of split.stages.entries()) {
    const sess = await ort.InferenceSession.create(st.bytes, opts);
    const prefix = join(tmp, `k${k}-s${i}`);
    const prof = await ort.InferenceSession.create(st.bytes, { ...opts, enableProfiling: true, profileFilePrefix: prefix });
    const f = {};
    for (const n of st.inputs) f[n] = pool.get(n);
    const fetches = preallocatedFetches(sess);
    const pf = preallocatedFetches(prof);
    const wall = [];
    let out;
    for (let r = 0; r < warmup + runs; r++) {
      const a = performance.now();
      out = fetches ? await sess.run(f, fetches) : await sess.run(f);
      const b = performance.now();
      if (r >= warmup) wall.push(b - a);
      if (r >= warmup - 5) await (pf ? prof.run(f, pf) : prof.run(f));
    }
    prof.endProfiling();
    const tf = (await readdir(tmp)).find((x) => x.startsWith(`k${k}-s${i}`) && x.endsWith('.json'));
    const events = JSON.parse(await readFile(join(tmp, tf), 'utf8'));
    const runsEv = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
    const perRun = runsEv.slice(-runs).map((r) => {
      const ks = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= r.ts && e.ts + e.dur <= r.ts + r.dur);
      const reorder = ks.filter((e) => /Reorder/i.test(e.args?.op_name ?? ''));
      return { run: r.dur / 1000, kernels: ks.reduce((a, e) => a + e.dur, 0) / 1000, count: ks.length, reorders: reorder.length, reorderMs: reorder.reduce((a, e) => a + e.dur, 0) / 1000 };
    });
    const mr = median(perRun.map((x) => x.run));
    const kern = median(perRun.map((x) => x.kernels));
    const ps = metrics.stages[i];
    const w = median(wall);
    console.log(`| ${count} | ${i} | ${st.nodes.length} | ${st.inputs.length} / ${st.outputs.length} | ${(ps.inBytes / 1e3).toFixed(0)} | ${(ps.outBytes / 1e3).toFixed(0)} | ${f3(ps.computeMs)} (${f3(ps.kernelMs)} + ${f3(ps.boundaryMs)}) | ${f3(w)} | ${f3(mr)} | ${f3(kern)} | ${perRun[0]?.count ?? '—'} | ${perRun[0]?.reorders ?? 0} (${f3(median(perRun.map((x) => x.reorderMs)))}) | ${f3(mr - kern)} | ${f3(w - mr)} | ${f3(w - ps.computeMs)} |`);
    for (const n of st.outputs) pool.set(n, out[n]);
    await sess.release();
    await prof.release();
  }
}
console.log(`\nload average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
await rm(tmp, { recursive: true, force: true });
