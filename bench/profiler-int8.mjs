#!/usr/bin/env node
// Profiles of int8 models here: each zoo network quantized by @dnnpart/accuracy's quantizer (QDQ,
// per-channel weights, min-max ranges from 8 seeded inputs), written as an ONNX file and profiled
// like any user's model, beside the float32 network. Reports the node sum against the end-to-end
// median (issue 10's 5 % target, on models whose Q/DQ pairs onnxruntime fuses into int8 kernels),
// the share of kernel time the attribution could not place, and the int8 / fp32 end-to-end ratio.
//   node bench/profiler-int8.mjs [--nets resnet18,...] [--runs 20] [--threads 1]
// Needs the built packages (npm run build). Prints Markdown.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { calibrate, generatedInputs, quantizeInt8 } from '@dnnpart/accuracy';
import { encodeModel, loadModel } from '@dnnpart/onnx-graph';
import { profileModel } from '@dnnpart/profiler';
import { buildZooModel } from '@dnnpart/zoo';

const { values } = parseArgs({ options: { nets: { type: 'string', default: 'resnet18,mobilenet_v2,squeezenet1_1,efficientnet_b0' }, runs: { type: 'string', default: '20' }, threads: { type: 'string', default: '1' } } });
const runs = Number(values.runs);
const threads = Number(values.threads);
const dir = await mkdtemp(join(tmpdir(), 'dnnpart-int8-profile-'));
const f = (x, d = 3) => (typeof x === 'number' ? x.toFixed(d) : '-');
console.log(`# int8 profiles here: ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, ${threads} thread(s), ${runs} runs, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('| network | precision | nodes | end-to-end ms | node sum / end to end | unattributed | int8 / fp32 |');
console.log('|---|---|---|---|---|---|---|');
for (const net of values.nets.split(',')) {
  const bytes = buildZooModel(net, { inputShape: [1, 3, 224, 224] });
  const model = await loadModel(bytes, { name: net });
  const q = quantizeInt8(model.proto, model.graph, await calibrate(model, generatedInputs(model.graph, 8, 7)));
  const files = { fp32: join(dir, `${net}.onnx`), int8: join(dir, `${net}-int8.onnx`) };
  await writeFile(files.fp32, bytes);
  await writeFile(files.int8, encodeModel(q.proto));
  const profiles = {};
  for (const [precision, file] of Object.entries(files)) {
    profiles[precision] = await profileModel(file, { board: 'here', runs, warmup: 3, threads, sensor: null });
  }
  for (const [precision, p] of Object.entries(profiles)) {
    const ratio = precision === 'int8' ? f(p.endToEnd.medianMs / profiles.fp32.endToEnd.medianMs, 2) : '';
    console.log(`| ${net} | ${precision} | ${p.nodes.length} | ${f(p.endToEnd.medianMs)} | ${f(p.nodeSumToEndToEnd)} | ${f(p.unattributedShare, 2)} | ${ratio} |`);
  }
}
console.log(`# load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
await rm(dir, { recursive: true, force: true });
