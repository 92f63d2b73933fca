// One model in one session, memory pattern on or off (bench/mem-pattern.mjs): median run time and resident memory.
// argv: <model file> <json {inputs, values}> <on|off> <minMs>
import * as ort from 'onnxruntime-node';

const [file, spec, pattern, minMs] = [process.argv[2], JSON.parse(process.argv[3]), process.argv[4], Number(process.argv[5])];
const T = { float32: Float32Array, float16: Uint16Array, int64: BigInt64Array, int32: Int32Array, uint8: Uint8Array, int8: Int8Array, bool: Uint8Array };
let peak = 0;
const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
const timer = setInterval(sample, 10);
const rss0 = process.memoryUsage().rss;
const session = await ort.InferenceSession.create(file, {
  executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
  logSeverityLevel: 4, enableMemPattern: pattern === 'on', extra: { session: { intra_op: { allow_spinning: '0' } } },
});
const loaded = process.memoryUsage().rss - rss0;
const feeds = {};
for (const m of session.inputMetadata) {
  const shape = spec.inputs[m.name] ?? m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const n = shape.reduce((a, b) => a * b, 1);
  const C = T[m.type];
  const data = new C(n);
  const v = spec.values?.[m.name];
  for (let i = 0; i < n; i++) {
    const x = v ? v[i % v.length] : m.type === 'float32' ? Math.sin(i) : m.type === 'float16' ? 0x3c00 : 1;
    data[i] = C === BigInt64Array ? BigInt(x) : x;
  }
  feeds[m.name] = new ort.Tensor(m.type, data, shape);
}
const times = [];
const t0 = performance.now();
for (let i = 0; times.length < 5 || performance.now() - t0 < minMs; i++) {
  const a = performance.now();
  await session.run(feeds);
  if (i >= 2) times.push(performance.now() - a);
  sample();
}
clearInterval(timer);
times.sort((a, b) => a - b);
console.log(JSON.stringify({ ms: times[times.length >> 1], runs: times.length, loaded, steady: process.memoryUsage().rss - rss0, peak: peak - rss0 }));
