// One model loaded and run in a process of its own, for bench/lean-load.mjs: the resident memory its
// session and runs add to a process that already runs onnxruntime (each reading after a garbage
// collection), the median run time, and every output written to a file for the parent to compare.
// argv[2]: JSON { model, warm, inputs: { name: dims }, values: { name: [..] }, runs, out }.
import { writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

const job = JSON.parse(process.argv[2]);
const options = {
  executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1,
  executionMode: 'sequential', logSeverityLevel: 3, extra: { session: { intra_op: { allow_spinning: '0' } } },
};
const warm = await ort.InferenceSession.create(job.warm, options);
await warm.release();
const rss = () => {
  globalThis.gc?.();
  return process.memoryUsage().rss;
};
const TYPES = { float: ['float32', Float32Array], int64: ['int64', BigInt64Array], int32: ['int32', Int32Array], bool: ['bool', Uint8Array], double: ['float64', Float64Array] };
const base = rss();
const session = await ort.InferenceSession.create(job.model, options);
const loaded = rss();
const feeds = {};
for (const md of session.inputMetadata) {
  const dims = job.inputs[md.name];
  const n = dims.reduce((a, c) => a * c, 1);
  const [type, Ctor] = TYPES[md.type] ?? TYPES.float;
  const data = new Ctor(n);
  if (job.values[md.name]) job.values[md.name].forEach((v, i) => (data[i] = Ctor === BigInt64Array ? BigInt(v) : v));
  else if (Ctor === Float32Array) for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.37) * 0.5;
  feeds[md.name] = new ort.Tensor(type, data, dims);
}
let peak = loaded;
const ms = [];
let outputs;
for (let r = 0; r < job.runs; r++) {
  const t0 = performance.now();
  outputs = await session.run(feeds);
  ms.push(performance.now() - t0);
  peak = Math.max(peak, rss());
}
ms.sort((a, b) => a - b);
const parts = session.outputNames.map((n) => {
  const d = outputs[n].data;
  return { name: n, type: outputs[n].type, bytes: Buffer.from(d.buffer, d.byteOffset, d.byteLength) };
});
writeFileSync(job.out, Buffer.concat(parts.map((p) => p.bytes)));
process.stdout.write(JSON.stringify({ sessionBytes: loaded - base, peakBytes: peak - base, medianMs: ms[Math.floor(ms.length / 2)], outputs: parts.map((p) => ({ name: p.name, type: p.type, length: p.bytes.length })) }));
