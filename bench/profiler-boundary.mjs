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
// 3. Preallocated vs allocated outputs, interleaved run by run in one loop (so machine load hits
//    both alike): median and p90 session.run time and V8 garbage collections, per output size.
//
//   node bench/profiler-boundary.mjs [--nets resnet18,...] [--external paddleocr-cls,...] [--threads 1,2] [--runs 20]
//        [--sections calibration,models,prealloc,stages]
// 4. (--sections stages) Each zoo model cut where the profile puts a third and two thirds of the
//    time (onnx-graph splitModel): every stage timed on its own the way a stage runs; predicted
//    = Σ its node medians (node sum) + the boundary of the tensors entering and leaving it.
// Needs the built packages (npx tsc -p packages/X/tsconfig.json for onnx-graph, zoo, profiler). Prints Markdown.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProto_DataType as DT } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { loadModel, randomFeeds, splitModel } from '@dnnpart/onnx-graph';
import { boundaryMs, calibrateBoundary, fetchesFor, profileModel } from '@dnnpart/profiler';
import { buildZooModel, findExternalModel } from '@dnnpart/zoo';

const { values } = parseArgs({
  options: {
    nets: { type: 'string', default: 'resnet18,efficientnet_b0,googlenet,squeezenet1_1' },
    external: { type: 'string', default: 'paddleocr-cls,paddleocr-rec' },
    threads: { type: 'string', default: '1,2' },
    runs: { type: 'string', default: '20' },
    check: { type: 'string', default: '30' },
    sections: { type: 'string', default: 'calibration,models,prealloc,stages' },
    'stage-warmup': { type: 'string', default: '20' },
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

const sections = new Set(values.sections.split(','));
const calibration = new Map();

/** The calibration's Expand model (4-byte input, output of `bytes`), built here since the package's builder is internal. */
function calibrationModelBytes(bytes) {
  const vi = (name, n) => ({ name, type: { value: { case: 'tensorType', value: { elemType: DT.FLOAT, shape: { dim: [{ value: { case: 'dimValue', value: BigInt(n) } }] } } } } });
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [{ domain: '', version: 13n }],
    graph: { name: 'out', node: [{ opType: 'Expand', name: 'expand', input: ['x', 'shape'], output: ['y'] }], initializer: [{ name: 'shape', dims: [1n], dataType: DT.INT64, int64Data: [BigInt(bytes / 4)] }], input: [vi('x', 1)], output: [vi('y', bytes / 4)] },
  }));
}
// 1. Calibrations.
if (sections.has('calibration') || sections.has('models')) {
out('## Boundary calibration (one-kernel Slice/Expand/Add models, 4 kB .. 16 MB, 15 runs each; then chains of two 1x1 convolutions cut between them)');
out();
out('| threads | outputs | fixed ms | in ms/MB | out ms/MB | one-kernel models alone: fixed ms, in ms/MB | fit R² | boundary 4 kB in+out ms | 1 MB ms | 4 MB ms | 16 MB ms | load |');
out('|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|');
const cutRows = [];

for (const threads of threadList) {
  for (const outputs of ['allocated', 'preallocated']) {
    const c = await calibrateBoundary({ threads, outputs });
    if (outputs === 'preallocated') calibration.set(threads, c.boundary);
    const both = (bytes) => c.samples.find((s) => s.kind === 'both' && s.inBytes === bytes)?.ms;
    const b = c.boundary;
    for (const x of c.cuts ?? []) cutRows.push(`| ${threads} | ${outputs} | ${x.channels}x${x.size}x${x.size} | ${f(x.cutBytes / 1e6, 3)} | ${f(x.wholeMs)} | ${f(x.firstMs)} | ${f(x.secondMs)} | ${f(x.cutMs)} | ${f(boundaryMs(b, x.cutBytes, 0) + b.outMsPerByte * x.cutBytes)} |`);
    out(`| ${threads} | ${outputs} | ${f(b.fixedMs, 4)} | ${f(b.inMsPerByte * 1e6, 4)} | ${f(b.outMsPerByte * 1e6, 4)} | ${c.oneKernel ? `${f(c.oneKernel.fixedMs, 4)}, ${f(c.oneKernel.inMsPerByte * 1e6, 4)}` : '—'} | ${f(b.fitR2, 2)} | ${f(both(4096))} | ${f(both(1 << 20))} | ${f(both(4 << 20))} | ${f(both(16 << 20))} | ${loadavg()[0].toFixed(1)} |`);
  }
}
out();
out('Boundary columns: measured session.run wall time minus ORT\'s kernel time of the Add model (input and output of that size), medians.');
out();
out('The convolution cuts behind the fixed and input costs (medians, each run timing the whole chain, then its first stage, then its second):');
out();
out('| threads | outputs | chain | cut MB | whole ms | first ms | second ms | cut ms (first + second - whole) | the fitted boundary prices it ms |');
out('|---:|---|---|---:|---:|---:|---:|---:|---:|');
for (const r of cutRows) out(r);
out();
}

// 2. Models.
const models = [];
if (sections.has('models')) {
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
}

// 3. Preallocated vs allocated outputs, interleaved.
if (sections.has('prealloc')) {
  let gcs = 0;
  const obs = new PerformanceObserver((l) => (gcs += l.getEntries().length));
  obs.observe({ entryTypes: ['gc'] });
  const n = 60;
  out(`## Outputs preallocated vs allocated by ORT, interleaved (${n} runs each, one Expand kernel: 4-byte input, output of the size)`);
  out();
  out('| threads | output | allocated median ms | p90 | GCs | preallocated median ms | p90 | GCs | load |');
  out('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const threads of threadList) {
    for (const bytes of [65536, 262144, 1 << 20, 4 << 20, 16 << 20]) {
      const session = await ort.InferenceSession.create(calibrationModelBytes(bytes), { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', logSeverityLevel: 3, extra: { session: { intra_op: { allow_spinning: '0' } } } });
      const feeds = { x: new ort.Tensor('float32', new Float32Array(1).fill(0.5), [1]) };
      const fetches = fetchesFor([{ name: 'y', dtype: 'float32', shape: [bytes / 4] }]);
      const t = { alloc: [], pre: [] };
      const g = { alloc: 0, pre: 0 };
      for (let i = 0; i < n + 3; i++) {
        for (const mode of i % 2 ? ['alloc', 'pre'] : ['pre', 'alloc']) {
          const g0 = gcs;
          const t0 = performance.now();
          const r = mode === 'pre' ? await session.run(feeds, fetches) : await session.run(feeds);
          void r.y.data[0];
          const ms = performance.now() - t0;
          // GC entries arrive asynchronously: let the observer run before counting.
          await new Promise((res) => setImmediate(res));
          if (i >= 3) {
            t[mode].push(ms);
            g[mode] += gcs - g0;
          }
        }
      }
      await session.release();
      const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];
      const label = bytes >= 1 << 20 ? `${bytes / (1 << 20)} MB` : `${bytes / 1024} kB`;
      out(`| ${threads} | ${label} | ${f(med(t.alloc))} | ${f(p90(t.alloc))} | ${g.alloc} | ${f(med(t.pre))} | ${f(p90(t.pre))} | ${g.pre} | ${loadavg()[0].toFixed(1)} |`);
    }
  }
  obs.disconnect();
  out();
}
// 4. Stages.
if (sections.has('stages')) {
  const sessionOpts = (threads) => ({ executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', logSeverityLevel: 3, extra: { session: { intra_op: { allow_spinning: '0' } } } });
  const timeIt = async (bytes, threads, n) => {
    const { graph } = await loadModel(bytes);
    const session = await ort.InferenceSession.create(bytes, sessionOpts(threads));
    const feeds = randomFeeds(graph, 1);
    const fetches = fetchesFor(graph.outputs.map((name) => ({ name, dtype: graph.tensors.get(name).dtype, shape: graph.tensors.get(name).shape })));
    const times = [];
    // 20 warm-up runs: a fresh stage session ran its first ~15 runs 2x slower (SqueezeNet stage 0:
    // 3.4 ms, then 1.5 ms), which 3 warm-up runs left in the medians.
    const warm = Number(values['stage-warmup']);
    for (let i = 0; i < n + warm; i++) {
      const t0 = performance.now();
      const r = fetches ? await session.run(feeds, fetches) : await session.run(feeds);
      for (const k in r) void r[k].data;
      if (i >= warm) times.push(performance.now() - t0);
    }
    await session.release();
    return med(times);
  };
  out('## Stages of a 3-way split: predicted (node sum + boundary) vs measured alone');
  out();
  out('| model | threads | stage | nodes | bytes in | bytes out | node sum ms | + boundary ms | measured median ms | node sum / measured | predicted / measured | load |');
  out('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const net of values.nets.split(',').filter(Boolean)) {
    for (const threads of threadList) {
      const file = join(tmp, `${net}.onnx`);
      await writeFile(file, buildZooModel(net));
      const boundary = calibration.get(threads) ?? (await calibrateBoundary({ threads })).boundary;
      calibration.set(threads, boundary);
      const p = await profileModel(file, { board: 'bench', runs, warmup: 3, threads, sensor: null, boundary });
      const loaded = await loadModel(file);
      const ms = new Map(p.nodes.map((n) => [n.name, n.latencyMs.median]));
      const total = p.nodes.reduce((s, n) => s + n.latencyMs.median, 0);
      const after = [];
      let acc = 0;
      for (const n of loaded.graph.nodes) {
        acc += ms.get(n.name) ?? 0;
        if (after.length < 2 && acc >= ((after.length + 1) * total) / 3 && n !== loaded.graph.nodes.at(-1)) after.push(n.name);
      }
      const split = splitModel(loaded, { after });
      for (const st of split.stages) {
        const nodeSum = st.nodes.reduce((s, n) => s + (ms.get(n) ?? 0), 0);
        const bytesOf = (names) => names.reduce((s, t) => s + (loaded.graph.tensors.get(t)?.bytes ?? 0), 0);
        const inB = bytesOf(st.inputs);
        const outB = bytesOf(st.outputs);
        const predicted = nodeSum + boundaryMs(boundary, inB, outB);
        const measured = await timeIt(st.bytes, threads, checkRuns);
        out(`| ${net} | ${threads} | ${st.index} | ${st.nodes.length} | ${inB} | ${outB} | ${f(nodeSum)} | ${f(predicted)} | ${f(measured)} | ${f(nodeSum / measured, 2)} | ${f(predicted / measured, 2)} | ${loadavg()[0].toFixed(1)} |`);
      }
    }
  }
  out();
}
out(`Finished ${new Date().toISOString()}; load average at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`);
await rm(tmp, { recursive: true, force: true });
