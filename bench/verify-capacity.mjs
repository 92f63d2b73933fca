#!/usr/bin/env node
// How much of a fair share of this host's cores a pipeline of k copies of one model gets, by how long
// each copy runs (issue 10): squeezenet1_1 built at several input sides (about 0.2 to 9 ms a run here),
// timed alone back to back, then chained 2, 3 and 4 times through verify's worker pipeline, 3 rounds
// interleaved. The efficiency is the fluid period (the model's time alone x k x the cores each copy
// holds / the cores, at least its time alone; handoffs left out) over the measured one. Why verify
// sizes its capacity model for a plan's stages at one thread (calibrateHost's stageMs).
//
//   node bench/verify-capacity.mjs [--threads 1] [--sides 48,64,96,128,160,224,320]
// Needs the built packages. Prints one line per side.
import { parseArgs } from 'node:util';
import { availableParallelism, cpus, loadavg } from 'node:os';
import * as ort from 'onnxruntime-node';
import { runPipeline, timeBackToBack } from '@dnnpart/report';
import { buildZooModel } from '@dnnpart/zoo';

const { values } = parseArgs({ options: { threads: { type: 'string', default: '1' }, sides: { type: 'string', default: '48,64,96,128,160,224,320' } } });
const threads = Number(values.threads);
const sides = values.sides.split(',').map(Number);
const cores = availableParallelism();
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
console.log(`${cpus()[0]?.model.trim()}, ${cores} cores, ${threads} thread(s) a stage; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${new Date().toISOString()}`);
const res = new Map();
for (let round = 0; round < 3; round++) {
  for (const side of sides) {
    const shape = [1, 3, side, side];
    const bytes = buildZooModel('squeezenet1_1', { inputShape: shape });
    const input = new Float32Array(3 * side * side).map((_, i) => ((i * 7919) % 1000) / 1000);
    const feeds = { input: new ort.Tensor('float32', input, shape) };
    const stage = (i) => ({ bytes, inputs: ['input'], outputs: ['output'], label: `copy ${i}` });
    const alone = median((await timeBackToBack([stage(0)], feeds, { threads, runs: 40, warmup: 20 })).stageMs[0]);
    const frames = Math.max(60, Math.round(1500 / alone));
    const r = res.get(side) ?? { alone: [], k: { 2: [], 3: [], 4: [] } };
    res.set(side, r);
    r.alone.push(alone);
    for (const k of [2, 3, 4]) {
      const p = await runPipeline(Array.from({ length: k }, (_, i) => stage(i)), feeds, { threads, frames, warmup: 20, queue: 1 });
      r.k[k].push(1000 / p.medianFps);
    }
  }
}
for (const side of sides) {
  const r = res.get(side);
  const alone = median(r.alone);
  const cells = [2, 3, 4].map((k) => {
    const period = median(r.k[k]);
    const fluid = Math.max(alone, (k * alone * Math.min(threads, cores)) / cores);
    return `${k} copies: period ${period.toFixed(2)} ms (rounds ${r.k[k].map((x) => x.toFixed(2)).join(', ')}), efficiency ${(fluid / period).toFixed(2)}`;
  });
  console.log(`- side ${side}: alone ${alone.toFixed(2)} ms; ${cells.join('; ')}`);
}
console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
