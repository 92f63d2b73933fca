// One pipeline stage of `dnnpart verify` in a worker thread: its own onnxruntime session, frames in
// and out as plain typed arrays (copied by postMessage, as a network or a process boundary would).
// Plain JavaScript so it runs both from the sources (tests) and from dist (the CLI).
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';

const { modelBytes, threads, outputs } = workerData;
const now = () => performance.timeOrigin + performance.now();

const session = await ort.InferenceSession.create(modelBytes, {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  logSeverityLevel: 3,
  // Spinning threads would steal the cores the other stages run on.
  extra: { session: { intra_op: { allow_spinning: '0' } } },
});
// Output tensors made once and reused (as @dnnpart/profiler's preallocatedFetches does), when
// every output has a static shape and a plain numeric type; ORT still hands back a copy.
const ARRAYS = { float32: Float32Array, float64: Float64Array, float16: Uint16Array, int64: BigInt64Array, uint64: BigUint64Array, int32: Int32Array, uint32: Uint32Array, int16: Int16Array, uint16: Uint16Array, int8: Int8Array, uint8: Uint8Array, bool: Uint8Array };
let fetches = {};
for (const m of session.outputMetadata) {
  const Ctor = ARRAYS[m.type];
  if (!m.isTensor || !Ctor || m.shape.length === 0 || m.shape.some((d) => typeof d !== 'number' || d < 0)) { fetches = null; break; }
  fetches[m.name] = new ort.Tensor(m.type, new Ctor(m.shape.reduce((a, b) => a * b, 1)), m.shape);
}
parentPort.postMessage({ kind: 'ready' });

parentPort.on('message', async (msg) => {
  if (msg.kind === 'close') {
    await session.release().catch(() => {});
    parentPort.close();
    return;
  }
  try {
    const feeds = {};
    for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    const start = now();
    const result = fetches ? await session.run(feeds, fetches) : await session.run(feeds, outputs);
    const out = {};
    for (const name of outputs) {
      const t = result[name];
      out[name] = { type: t.type, dims: [...t.dims], data: t.data };
    }
    const end = now();
    parentPort.postMessage({ kind: 'done', frame: msg.frame, startMs: start, endMs: end, outputs: out });
  } catch (e) {
    parentPort.postMessage({ kind: 'error', frame: msg.frame, message: e instanceof Error ? e.message : String(e) });
  }
});
