#!/usr/bin/env node
// What the cost model's MACs for Einsum and ONNX Attention (opset 23) are worth in time: each op
// timed by onnxruntime-node (1 thread, no spinning, optimised) beside the matrix products it equals
// (same MACs by graphCosts), at attention sizes (8 heads, 128 tokens, 64 per head). The cost model
// prices Einsum and Attention as matrix products; this shows how far onnxruntime's kernels are from that.
// Needs the packages built and python3-onnx. Usage: node bench/modern-ops.mjs [--runs 200] [--rounds 3]
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { graphCosts, loadModel } from '../packages/onnx-graph/dist/index.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const runs = opt('--runs', 200);
const rounds = opt('--rounds', 3);
const out = join(tmpdir(), 'dnnpart-modern-ops');
const make = spawnSync('/usr/bin/python3', [new URL('./exported-forms/ops.py', import.meta.url).pathname, out], { encoding: 'utf8' });
if (make.status !== 0) throw new Error(`ops.py failed: ${make.stderr}`);
const PAIRS = [['einsum_bmm', 'matmul_bmm'], ['einsum_scores', 'matmul_scores'], ['einsum_context', 'matmul_context'], ['attention23', 'attention_matmuls']];

async function time(name) {
  const file = join(out, `${name}.onnx`);
  const { graph } = await loadModel(file);
  const macs = graphCosts(graph).macs;
  const s = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3, extra: { session: { intra_op: { allow_spinning: '0' } } } });
  const feeds = Object.fromEntries(graph.inputs.map((n) => {
    const shape = graph.tensors.get(n).shape;
    return [n, new ort.Tensor('float32', Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i) * 0.1), shape)];
  }));
  for (let i = 0; i < 20; i++) await s.run(feeds);
  const t = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await s.run(feeds);
    t.push(performance.now() - t0);
  }
  await s.release();
  t.sort((a, b) => a - b);
  return { macs, ms: t[t.length >> 1] };
}

console.log(`# modern ops against matrix products: ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, node ${process.version}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; median of ${runs} runs, ${rounds} rounds interleaved`);
const results = new Map();
for (let r = 0; r < rounds; r++) {
  for (const pair of PAIRS) for (const name of pair) {
    const x = await time(name);
    results.set(name, { macs: x.macs, ms: [...(results.get(name)?.ms ?? []), x.ms] });
  }
}
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log('\n| op model | MACs (graphCosts) | ms (median of rounds) | GMAC/s | matrix-product model | its MACs | its ms | time ratio |');
console.log('|---|---:|---:|---:|---|---:|---:|---:|');
for (const [a, b] of PAIRS) {
  const x = results.get(a);
  const y = results.get(b);
  console.log(`| ${a} | ${x.macs} | ${med(x.ms).toFixed(3)} | ${(x.macs / med(x.ms) / 1e6).toFixed(1)} | ${b} | ${y.macs} | ${med(y.ms).toFixed(3)} | ${(med(x.ms) / med(y.ms)).toFixed(2)} |`);
}
console.log(`\n# load after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
