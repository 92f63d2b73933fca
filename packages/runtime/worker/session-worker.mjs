// A deployed stage's onnxruntime session in a worker thread of the agent (src/stage-session.ts):
// onnxruntime-node runs a model on the thread that calls it, so a stage run on the agent's main
// thread would hold gRPC's reads, writes and keepalives still for the whole run, and a frame could
// neither arrive nor leave while the next one computes.
// workerData: { model (a path, or bytes), options (session options) }.
// Out first: { kind: 'booted' } once the thread and onnxruntime's module are up (the parent reads its
// resident memory then, so that what the session adds is told apart from what the thread costs).
// In: { kind: 'create' } (then out: { kind: 'ready' } or { kind: 'error', message }),
// { kind: 'run', id, feeds: { name: { type, dims, data } }, outputs: [names] }, { kind: 'release' }.
// Out per run: { kind: 'result', id, outputs } (output buffers moved, not copied) or { kind: 'failed',
// id, message }; { kind: 'released' } after release.
// Plain JavaScript so it runs both from the sources (tests) and from dist.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const messageOf = (e) => (e instanceof Error ? e.message : String(e));

let session;

parentPort.on('message', async (msg) => {
  if (msg.kind === 'create') {
    try {
      session = await ort.InferenceSession.create(workerData.model, workerData.options);
      parentPort.postMessage({ kind: 'ready' });
    } catch (e) {
      parentPort.postMessage({ kind: 'error', message: messageOf(e) });
    }
    return;
  }
  if (msg.kind === 'release') {
    await session?.release().catch(() => {});
    session = undefined;
    parentPort.postMessage({ kind: 'released' });
    parentPort.close();
    return;
  }
  if (msg.kind !== 'run') return;
  try {
    const feeds = {};
    for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    const result = await session.run(feeds, msg.outputs);
    const outputs = {};
    const moved = new Set();
    for (const name of msg.outputs) {
      const t = result[name];
      outputs[name] = { type: t.type, dims: [...t.dims], data: t.data };
      if (ArrayBuffer.isView(t.data)) moved.add(t.data.buffer);
    }
    try {
      parentPort.postMessage({ kind: 'result', id: msg.id, outputs }, [...moved]);
    } catch {
      // A buffer that cannot be moved (one onnxruntime still owns) is copied instead.
      parentPort.postMessage({ kind: 'result', id: msg.id, outputs });
    }
  } catch (e) {
    parentPort.postMessage({ kind: 'failed', id: msg.id, message: messageOf(e) });
  }
});

parentPort.postMessage({ kind: 'booted' });
