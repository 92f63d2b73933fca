#!/usr/bin/env node
// How much one model's speed moves from one onnxruntime session to the next on this machine: fresh
// sessions one after another in this process (1 thread, all optimisations, no spinning, as verify
// and the profiler run them), each timed over its own runs, and a pure-JavaScript loop timed between
// them (its time moves with the CPU's clock, not with the caches or memory).
//
//   node bench/session-levels.mjs [--models paddleocr-cls,squeezenet1_1] [--sessions 8] [--runs 300]
//   node bench/session-levels.mjs --alive 3 [--models oww-hey-jarvis] [--sessions 6] [--runs 600]
// Zoo networks at 1x3x224x224; real models from the zoo's external list at their listed input shapes.
// Needs the built packages. Prints one line per model: each session's median ms / the loop's median ms.
// With --alive R: the sessions are all created first and stay open, and are timed in turn R times
// (a line per round, with its time of day): a level that belongs to a session keeps to its column,
// a level of the machine's moment sweeps across a round.
// With --blocks S: one session, timed in blocks of 100 ms for S seconds from its creation, a median
// per block (run it under `taskset -c 0` to hold it to one vCPU): when a level changes, and how often.
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { encodeModel, loadModel } from '@dnnpart/onnx-graph';
import { buildZooModel, externalModels } from '@dnnpart/zoo';
import { installedExternal } from './_external.mjs';

const { values } = parseArgs({ options: {
  models: { type: 'string', default: 'paddleocr-cls,squeezenet1_1,resnet18' },
  sessions: { type: 'string', default: '8' },
  runs: { type: 'string', default: '300' },
  alive: { type: 'string', default: '0' },
  blocks: { type: 'string', default: '0' },
} });
const blocks = Number(values.blocks);
const alive = Number(values.alive);
const sessions = Number(values.sessions);
const runs = Number(values.runs);
const median = (a) => { const s = [...a].sort((p, q) => p - q); const h = s.length >> 1; return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };
const options = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', extra: { session: { intra_op: { allow_spinning: '0' } } } };

function jsLoop() {
  const t = [];
  for (let i = 0; i < 30; i++) {
    const a = performance.now();
    let acc = 0;
    for (let q = 0; q < 200000; q++) acc += Math.sqrt(q * 1.0001);
    t.push(performance.now() - a);
    if (acc < 0) throw new Error('unreachable');
  }
  return median(t);
}

const external = new Set(externalModels().map((m) => m.name));
for (const name of values.models.split(',').filter(Boolean)) {
  let source;
  let inputShapes = [1, 3, 224, 224];
  if (external.has(name)) {
    const [m] = installedExternal([name]);
    if (!m) continue;
    source = m.file;
    inputShapes = m.inputs;
  } else {
    source = buildZooModel(name, { inputShape: [1, 3, 224, 224] });
  }
  // The graph as loaded (shapes fixed, Constants folded) is what every session runs.
  const loaded = await loadModel(source, { inputShapes });
  const bytes = encodeModel(loaded.proto);
  const { graph } = loaded;
  const feeds = Object.fromEntries(graph.inputs.map((n) => {
    const t = graph.tensors.get(n);
    const size = t.shape.reduce((a, b) => a * b, 1);
    return [n, new ort.Tensor(t.dtype, t.dtype === 'int64' ? new BigInt64Array(size).fill(1n) : new Float32Array(size).fill(0.3), t.shape)];
  }));
  const timed = async (s) => {
    for (let i = 0; i < Math.min(30, runs); i++) await s.run(feeds);
    const t = [];
    for (let i = 0; i < runs; i++) {
      const a = performance.now();
      await s.run(feeds);
      t.push(performance.now() - a);
    }
    return median(t);
  };
  if (blocks > 0) {
    const s = await ort.InferenceSession.create(bytes, options);
    const t0 = performance.now();
    const cells = [];
    while (performance.now() - t0 < blocks * 1000) {
      const t = [];
      const b0 = performance.now();
      while (performance.now() - b0 < 100) {
        const a = performance.now();
        await s.run(feeds);
        t.push(performance.now() - a);
      }
      cells.push(median(t).toFixed(3));
    }
    await s.release();
    console.log(`${name} ${new Date().toISOString().slice(11, 19)} 100 ms blocks: ${cells.join(' ')}`);
    continue;
  }
  if (alive > 0) {
    const open = [];
    for (let k = 0; k < sessions; k++) open.push(await ort.InferenceSession.create(bytes, options));
    for (let r = 0; r < alive; r++) {
      const row = [];
      for (const s of open) row.push((await timed(s)).toFixed(3));
      console.log(`${name} ${new Date().toISOString().slice(11, 19)} round ${r}: ${row.join(' ')} (loop ${jsLoop().toFixed(3)})`);
    }
    for (const s of open) await s.release();
    continue;
  }
  const cells = [];
  for (let k = 0; k < sessions; k++) {
    const s = await ort.InferenceSession.create(bytes, options);
    const ms = await timed(s);
    await s.release();
    cells.push(`${ms.toFixed(3)}/${jsLoop().toFixed(3)}`);
  }
  console.log(`${name}: ${cells.join(' ')}`);
}
