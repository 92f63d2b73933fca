#!/usr/bin/env node
// Boundary costs and corrected node times on this machine.
//
// 1. The boundary calibration (calibrateBoundary) at each thread count, with outputs fetched into
//    preallocated tensors (what the profiler and a stage runner do) and allocated by ORT each run
//    (before): the fitted terms and the per-size boundary times.
// 2. Per model and thread count: a profile (boundary as calibrated), node sum / end-to-end as
//    profiled (before the correction) and corrected (after), and the whole-model single-stage
//    prediction (Σ node medians + boundary of the model's inputs and outputs) against a fresh
//    end-to-end median measured afterwards in a new session (an independent check).
//
//   node bench/profiler-boundary.mjs [--nets resnet18,...] [--external paddleocr-cls,...] [--threads 1,2] [--runs 20]
// Needs the built packages (npx tsc -p packages/X/tsconfig.json for onnx-graph, zoo, profiler). Prints Markdown.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadModel, randomFeeds } from '@dnnpart/onnx-graph';
import { boundaryMs, calibrateBoundary, fetchesFor, profileModel } from '@dnnpart/profiler';
import { buildZooModel, findExternalModel } from '@dnnpart/zoo';

const { values } = parseArgs({
  options: {
    nets: { type: 'string', default: 'resnet18,efficientnet_b0,googlenet,squeezenet1_1' },
    external: { type: 'string', default: 'paddleocr-cls,paddleocr-rec' },
    threads: { type: 'string', default: '1,2' },
    runs: { type: 'string', default: '20' },
    check: { type: 'string', default: '30' },
  },
});
const threadList = values.threads.split(',').map(Number);
const runs = Number(values.runs);
const checkRuns = Number(values.check);
const tmp = await mkdtemp(join(tmpdir(), 'dnnpart-bench-boundary-'));
const f = (x, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const lines = [];
const out = (s = '') => {
  lines.push(s);
  console.log(s);
};
const started = new Date();
out(`Machine: ${cpus()[0]?.model} x ${cpus().length}, Node ${process.version}, onnxruntime-node ${ort.env.versions.node ?? ort.env.versions.common}`);
out(`Date: ${started.toISOString()}; load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
out(`Command: node bench/profiler-boundary.mjs ${process.argv.slice(2).join(' ')}`.trim());
out();

// 1. Calibrations.
out('## Boundary calibration (one-kernel Slice/Expand/Add models, 4 kB .. 16 MB, 15 runs each)');
out();
out('| threads | outputs | fixed ms | in ms/MB | out ms/MB | fit R² | boundary 4 kB in+out ms | 1 MB ms | 4 MB ms | 16 MB ms | load |');
out('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const calibration = new Map();
for (const threads of threadList) {
  for (const outputs of ['allocated', 'preallocated']) {
    const c = await calibrateBoundary({ threads, outputs });
    if (outputs === 'preallocated') calibration.set(threads, c.boundary);
    const both = (bytes) => c.samples.find((s) => s.kind === 'both' && s.inBytes === bytes)?.ms;
    const b = c.boundary;
    out(`| ${threads} | ${outputs} | ${f(b.fixedMs, 4)} | ${f(b.inMsPerByte * 1e6, 4)} | ${f(b.outMsPerByte * 1e6, 4)} | ${f(b.fitR2, 2)} | ${f(both(4096))} | ${f(both(1 << 20))} | ${f(both(4 << 20))} | ${f(both(16 << 20))} | ${loadavg()[0].toFixed(1)} |`);
  }
}
out();
out('Boundary columns: measured session.run wall time minus ORT\'s kernel time of the Add model (input and output of that size), medians.');
out();

// 2. Models.
const models = [];
for (const net of values.nets.split(',').filter(Boolean)) {
  const file = join(tmp, `${net}.onnx`);
  await writeFile(file, buildZooModel(net));
  models.push({ name: net, file, inputShapes: undefined });
}
for (const name of values.external.split(',').filter(Boolean)) {
  const m = findExternalModel(name);
  if (!m?.available) {
    out(`(external model ${name} not installed: skipped)`);
    continue;
  }
  models.push({ name, file: m.file, inputShapes: m.inputs });
}

out('## Node sum / end-to-end, before and after the correction');
out();
out('| model | threads | end-to-end median ms | ORT model_run (profiled) ms | node sum / e2e as profiled | corrected | scale | boundary of model in/out ms | unattributed kernels | single stage predicted ms | fresh e2e median ms | predicted / fresh | load |');
out('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const m of models) {
  for (const threads of threadList) {
    const p = await profileModel(m.file, { board: 'bench', runs, warmup: 3, threads, sensor: null, boundary: calibration.get(threads), ...(m.inputShapes ? { inputShapes: m.inputShapes } : {}) });
    const predicted = p.nodes.reduce((s, n) => s + n.latencyMs.median, 0) + p.correction.boundaryMs;
    // A fresh session, timed the way a stage runner runs it: the independent end-to-end check.
    const { graph } = await loadModel(m.file, m.inputShapes ? { inputShapes: m.inputShapes } : {});
    const session = await ort.InferenceSession.create(m.file, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', logSeverityLevel: 3, extra: { session: { intra_op: { allow_spinning: '0' } } } });
    const feeds = randomFeeds(graph, 1);
    const fetches = fetchesFor(graph.outputs.map((name) => ({ name, dtype: graph.tensors.get(name).dtype, shape: graph.tensors.get(name).shape })));
    const times = [];
    for (let i = 0; i < checkRuns + 3; i++) {
      const t0 = performance.now();
      const r = fetches ? await session.run(feeds, fetches) : await session.run(feeds);
      for (const k in r) void r[k].data;
      if (i >= 3) times.push(performance.now() - t0);
    }
    await session.release();
    const fresh = med(times);
    const unattributed = p.warnings.find((w) => /map to no original node/.test(w));
    out(`| ${m.name} | ${threads} | ${f(p.endToEnd.medianMs)} | ${f(p.overhead.profiledMedianMs)} | ${f(p.correction.rawNodeSumToEndToEnd)} | ${f(p.nodeSumToEndToEnd)} | ${f(p.correction.scale)} | ${f(p.correction.boundaryMs, 4)} | ${unattributed ? unattributed.split(' ')[0] : 0} | ${f(predicted)} | ${f(fresh)} | ${f(predicted / fresh)} | ${loadavg()[0].toFixed(1)} |`);
  }
}
out();
out(`Finished ${new Date().toISOString()}; load average at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`);
await rm(tmp, { recursive: true, force: true });
