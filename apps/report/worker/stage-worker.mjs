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
    const result = await session.run(feeds, outputs);
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
