// One of N concurrent onnxruntime sessions of `dnnpart verify`'s host calibration: it loads the model
// with a stage's session options, warms it up, and on each "go" runs it back to back until the
// deadline, then reports how long each run took. N of these side by side against one
// alone say how much work the host's cores really do in parallel.
// Plain JavaScript so it runs both from the sources (tests) and from dist (the CLI).
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { stageSessionOptions } from './session-options.mjs';

const { modelBytes, threads, warmup, dims } = workerData;
const now = () => performance.timeOrigin + performance.now();
const session = await ort.InferenceSession.create(modelBytes, stageSessionOptions(threads));
const n = dims.reduce((a, b) => a * b, 1);
const data = new Float32Array(n);
for (let i = 0; i < n; i++) data[i] = ((i * 7919) % 1000) / 1000;
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
const m = session.outputMetadata[0];
const fetches = m.shape.every((d) => typeof d === 'number' && d >= 0)
  ? { [m.name]: new ort.Tensor('float32', new Float32Array(m.shape.reduce((a, b) => a * b, 1)), m.shape) }
  : null;
const once = () => (fetches ? session.run(feeds, fetches) : session.run(feeds));
for (let i = 0; i < warmup; i++) await once();

// One "go" at a time: the main thread waits for "done" before the next.
parentPort.on('message', async (msg) => {
  if (msg.kind !== 'go') return;
  // Everyone starts at the same instant.
  while (now() < msg.startAt) await new Promise((r) => setTimeout(r, 0));
  const start = now();
  const times = [];
  let end = start;
  while (end < msg.until) {
    const a = now();
    await once();
    end = now();
    times.push(end - a);
  }
  parentPort.postMessage({ kind: 'done', runs: times.length, ms: end - start, times });
});
parentPort.postMessage({ kind: 'ready' });
