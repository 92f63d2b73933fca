// The memory one stage of `dnnpart verify` takes, measured in a process of its own (as a board's
// agent runs its one stage): the resident set size its session and its runs add to a process that
// already runs onnxruntime. A first tiny session, released, sets up onnxruntime's environment
// (thread pools, allocators, kernel registries) so that what is counted is the stage's alone: its
// weights as onnxruntime keeps them (prepacked copies included), its activation arena, and the
// outputs each run hands back to JavaScript.
// Input on stdin (JSON): { model, warm, threads, level, runs, inputs: [{ name, type, dims, file }] }, each
// input's bytes in its file.
// Output on stdout (JSON): { baseBytes, loadedBytes, peakBytes } (resident set sizes, each read after a
// garbage collection when the process runs with --expose-gc).
// Plain JavaScript so it runs both from the sources (tests) and from dist (the CLI).
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { stageSessionOptions } from './session-options.mjs';

const ARRAYS = { float32: Float32Array, float64: Float64Array, float16: Uint16Array, int64: BigInt64Array, uint64: BigUint64Array, int32: Int32Array, uint32: Uint32Array, int16: Int16Array, uint16: Uint16Array, int8: Int8Array, uint8: Uint8Array, bool: Uint8Array };

try {
  const job = JSON.parse(readFileSync(0, 'utf8'));
  const options = stageSessionOptions(job.threads, job.level);
  const warm = await ort.InferenceSession.create(job.warm, stageSessionOptions(job.threads));
  await warm.release();
  // The inputs are decoded before the baseline: they are the previous stage's, not this one's.
  const feeds = {};
  for (const t of job.inputs) {
    const Ctor = ARRAYS[t.type];
    if (!Ctor) throw new Error(`input ${t.name} is of type ${t.type}, which this measurement cannot make`);
    const raw = readFileSync(t.file);
    const aligned = raw.byteOffset % Ctor.BYTES_PER_ELEMENT === 0 ? raw : Buffer.from(raw);
    const data = new Ctor(aligned.buffer, aligned.byteOffset, aligned.byteLength / Ctor.BYTES_PER_ELEMENT);
    feeds[t.name] = new ort.Tensor(t.type, data, t.dims);
  }
  // Sampled after a garbage collection (the parent starts this process with --expose-gc): what the
  // stage holds, not garbage that V8 has yet to collect, which comes and goes with its timing.
  const collect = globalThis.gc ?? (() => {});
  const rss = () => {
    collect();
    return process.memoryUsage().rss;
  };
  const baseBytes = rss();
  const session = await ort.InferenceSession.create(job.model, options);
  const loadedBytes = rss();
  let peakBytes = loadedBytes;
  for (let r = 0; r < job.runs; r++) {
    // Each run's outputs are held while the memory is read, as a stage holds the frame it sends on.
    const outputs = await session.run(feeds);
    peakBytes = Math.max(peakBytes, rss());
    if (Object.keys(outputs).length === 0) throw new Error('the stage returned no outputs');
  }
  process.stdout.write(JSON.stringify({ baseBytes, loadedBytes, peakBytes }));
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
