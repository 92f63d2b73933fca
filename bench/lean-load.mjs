// What an agent's way of loading a stage saves: each model loaded as given, and as the graph
// onnxruntime's optimiser saves in a process of its own (@dnnpart/runtime's stageModelFile, what
// `dnnpart agent` loads by default), each in a fresh Node process: the resident memory its session and
// its runs add, its median run time, and whether the two give the same outputs.
//
//   node bench/lean-load.mjs [--nets a,b] [--external a,b] [--runs 15]
// Built packages needed (npx turbo run build).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stageModelFile } from '@dnnpart/runtime';
import { glueChainModel } from '@dnnpart/profiler';
import { buildZooModel } from '@dnnpart/zoo';
import { installedExternal } from './_external.mjs';

const { values } = parseArgs({
  options: {
    nets: { type: 'string', default: 'resnet18,efficientnet_b0,googlenet,squeezenet1_1,mobilenet_v2,vgg16' },
    external: { type: 'string', default: 'paddleocr-det,paddleocr-rec,paddleocr-cls,moonshine-encoder,moonshine-decoder,ddddocr-det,ddddocr-rec,ddddocr-rec-int8,silero-vad,oww-embedding' },
    runs: { type: 'string', default: '15' },
  },
});
const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
const MB = (b) => (b / 1048576).toFixed(1);
const tmp = mkdtempSync(join(tmpdir(), 'bench-lean-'));
const CHILD = fileURLToPath(new URL('./_lean-child.mjs', import.meta.url));
const warm = join(tmp, 'warm.onnx');
writeFileSync(warm, glueChainModel(6).bytes);

const models = [];
for (const net of list(values.nets)) models.push({ name: net, bytes: buildZooModel(net, { inputShape: [1, 3, 224, 224] }), inputs: { input: [1, 3, 224, 224] }, values: {} });
for (const m of installedExternal(list(values.external))) models.push({ name: m.name, bytes: new Uint8Array(readFileSync(m.file)), inputs: m.inputs, values: m.values });

function measure(m, model, tag) {
  const out = join(tmp, `${m.name}.${tag}.out`);
  const r = JSON.parse(execFileSync(process.execPath, ['--expose-gc', CHILD, JSON.stringify({ model, warm, inputs: m.inputs, values: m.values, runs: Number(values.runs), out })], { maxBuffer: 1 << 26 }).toString());
  return { ...r, data: readFileSync(out) };
}

/** Largest difference of two runs' outputs: as float32 where every output is, else 0 when the bytes are equal. */
function maxDiff(a, b) {
  if (!a.data.equals(b.data) && a.outputs.every((o) => o.type === 'float32')) {
    const x = new Float32Array(a.data.buffer, a.data.byteOffset, a.data.length / 4);
    const y = new Float32Array(b.data.buffer, b.data.byteOffset, b.data.length / 4);
    let d = 0;
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
    return d.toExponential(2);
  }
  return a.data.equals(b.data) ? '0 (same bytes)' : 'differ';
}

console.log('# Loading a stage from onnxruntime\'s saved optimised graph\n');
console.log(`Machine: ${cpus()[0]?.model.trim()}, ${cpus().length} cores; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${new Date().toISOString()}; 1 thread, ${values.runs} runs a model\n`);
console.log('| model | model MB | saved graph MB | loaded as | as given: session MB | peak MB | ms | as the agent loads it: session MB | peak MB | ms | peak saved | outputs: max abs diff |');
console.log('|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|');
const rows = [];
for (const m of models) {
  const t0 = performance.now();
  const lean = await stageModelFile(m.bytes);
  const leanMs = performance.now() - t0;
  // The saved graph and its weights' file beside it, as the agent loads them.
  const leanBytes = lean.bytes;
  const plain = measure(m, lean.sentPath, 'plain');
  const agent = lean.preoptimised ? measure(m, lean.path, 'lean') : plain;
  await lean.dispose();
  const saved = 1 - agent.peakBytes / plain.peakBytes;
  rows.push({ name: m.name, saved, preoptimised: lean.preoptimised, plainMs: plain.medianMs, leanMs: agent.medianMs, optimiseMs: leanMs });
  const as = lean.preoptimised ? 'saved graph' : `as sent (${lean.note.replace(/^loaded as sent: /, '')})`;
  console.log(`| ${m.name} | ${MB(m.bytes.length)} | ${lean.preoptimised ? MB(leanBytes) : '—'} | ${as} | ${MB(plain.sessionBytes)} | ${MB(plain.peakBytes)} | ${plain.medianMs.toFixed(2)} | ${MB(agent.sessionBytes)} | ${MB(agent.peakBytes)} | ${agent.medianMs.toFixed(2)} | ${(100 * saved).toFixed(0)} % | ${lean.preoptimised ? maxDiff(plain, agent) : '—'} |`);
}
const pre = rows.filter((r) => r.preoptimised);
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const med = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
console.log(`\n- loaded from the saved graph: ${pre.length} of ${rows.length} models; peak memory saved: median ${(100 * med(pre.map((r) => r.saved))).toFixed(0)} %, from ${(100 * Math.min(...pre.map((r) => r.saved))).toFixed(0)} % to ${(100 * Math.max(...pre.map((r) => r.saved))).toFixed(0)} %`);
console.log(`- run time, saved graph / as given: median ${med(pre.map((r) => r.leanMs / r.plainMs)).toFixed(3)}, from ${Math.min(...pre.map((r) => r.leanMs / r.plainMs)).toFixed(3)} to ${Math.max(...pre.map((r) => r.leanMs / r.plainMs)).toFixed(3)}`);
console.log(`- the optimiser's process: median ${med(rows.map((r) => r.optimiseMs)).toFixed(0)} ms, at most ${Math.max(...rows.map((r) => r.optimiseMs)).toFixed(0)} ms (${rows.reduce((a, r) => (r.optimiseMs > a.ms ? { ms: r.optimiseMs, name: r.name } : a), { ms: 0, name: '' }).name}), once per stage deployed`);
rmSync(tmp, { recursive: true, force: true });
