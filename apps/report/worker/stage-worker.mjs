// One pipeline stage of `dnnpart verify` in a worker thread: its own onnxruntime session; frames come
// from the stage before it (or the main thread) and go straight to the stage after it (or back to the
// main thread) over MessagePorts. Tensors cross either copied (structured clone: a copy on each side)
// or transferred (handoff "transfer": the ArrayBuffers move, nothing is copied; ORT hands back a fresh
// output buffer each run, so the preallocated outputs stay here). Queues are bounded by credits: a
// stage sends a frame on only while the next one has room for it, and hands a credit back upstream
// each time it takes a frame from its own queue.
// A synthetic stage (no model: `synthetic` lists its outputs) makes fresh outputs of known sizes
// instead of running a session, so the host's handoff cost can be timed through this same mechanism.
// Plain JavaScript so it runs both from the sources (tests) and from dist (the CLI).
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { stageSessionOptions } from './session-options.mjs';

const { modelBytes, synthetic, threads, level, inputs, outputs, index, last, lastUse, queue, handoff } = workerData;
const now = () => performance.timeOrigin + performance.now();
const ARRAYS = { float32: Float32Array, float64: Float64Array, float16: Uint16Array, int64: BigInt64Array, uint64: BigUint64Array, int32: Int32Array, uint32: Uint32Array, int16: Int16Array, uint16: Uint16Array, int8: Int8Array, uint8: Uint8Array, bool: Uint8Array };

/** run(feeds) -> { name: { type, dims, data } } for every output. */
let run;
if (modelBytes) {
  const session = await ort.InferenceSession.create(modelBytes, stageSessionOptions(threads, level));
  // Output tensors made once and reused (as @dnnpart/profiler's preallocatedFetches does), when
  // every output has a static shape and a plain numeric type; ORT still hands back a copy.
  let fetches = {};
  for (const m of session.outputMetadata) {
    const Ctor = ARRAYS[m.type];
    if (!m.isTensor || !Ctor || m.shape.length === 0 || m.shape.some((d) => typeof d !== 'number' || d < 0)) { fetches = null; break; }
    fetches[m.name] = new ort.Tensor(m.type, new Ctor(m.shape.reduce((a, b) => a * b, 1)), m.shape);
  }
  run = async (pool) => {
    const feeds = {};
    for (const name of inputs) {
      const t = pool[name];
      feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    }
    let result;
    try {
      result = fetches ? await session.run(feeds, fetches) : await session.run(feeds, outputs);
    } catch (e) {
      // An output whose size depends on the data does not fit tensors made from its shape once: let
      // onnxruntime allocate from now on (a failure of the stage itself fails again and is reported).
      if (!fetches) throw e;
      fetches = null;
      result = await session.run(feeds, outputs);
    }
    const out = {};
    for (const name of outputs) {
      const t = result[name];
      out[name] = { type: t.type, dims: [...t.dims], data: t.data };
    }
    return out;
  };
} else {
  // Fresh buffers each frame, written once, as ORT returns a fresh copy of every output.
  run = async () => Object.fromEntries(synthetic.map((o) => [o.name, { type: o.type, dims: o.dims, data: new ARRAYS[o.type](o.dims.reduce((a, b) => a * b, 1)).fill(1) }]));
}

let upstream = parentPort; // where frames come from and credits go back to
let downstream = null; // where frames go (null: the last stage reports to the main thread)
let credits = queue;
const waiting = [];
let busy = false;
let blocked = null;

/** The ArrayBuffers of a frame's tensors, to move instead of copy. */
function buffers(pool) {
  if (handoff !== 'transfer') return [];
  const set = new Set();
  for (const t of Object.values(pool)) if (ArrayBuffer.isView(t.data)) set.add(t.data.buffer);
  return [...set];
}

function send(frame) {
  if (last) parentPort.postMessage({ kind: 'done', frame: frame.id, spans: frame.spans, at: now() });
  else downstream.postMessage({ kind: 'frame', frame }, buffers(frame.pool));
}

async function next() {
  if (busy || blocked !== null || waiting.length === 0) return;
  busy = true;
  const frame = waiting.shift();
  upstream.postMessage({ kind: 'credit' });
  try {
    const start = now();
    const out = await run(frame.pool);
    Object.assign(frame.pool, out);
    const end = now();
    // Tensors no later stage reads stay here.
    for (const name of Object.keys(frame.pool)) if ((lastUse[name] ?? -1) <= index) delete frame.pool[name];
    frame.spans.push({ stage: index, startMs: start, endMs: end });
    if (last || credits > 0) {
      if (!last) credits--;
      send(frame);
    } else blocked = frame;
  } catch (e) {
    parentPort.postMessage({ kind: 'error', message: e instanceof Error ? e.message : String(e) });
  }
  busy = false;
  next();
}

function onMessage(msg) {
  if (msg.kind === 'frame') {
    waiting.push(msg.frame);
    next();
  }
}

parentPort.on('message', (msg) => {
  if (msg.kind === 'ports') {
    if (msg.in) {
      upstream = msg.in;
      upstream.on('message', onMessage);
    }
    if (msg.out) {
      downstream = msg.out;
      downstream.on('message', (m) => {
        if (m.kind !== 'credit') return;
        credits++;
        if (blocked !== null) {
          const f = blocked;
          blocked = null;
          credits--;
          send(f);
        }
        next();
      });
    }
    parentPort.postMessage({ kind: 'ready' });
  } else onMessage(msg);
});
parentPort.postMessage({ kind: 'loaded' });
