#!/usr/bin/env node
// Real exported models (npm packages, see packages/zoo/src/external.ts): what the load-time passes
// fold, what loading costs with and without them, and the cut sets (downsets) of the DAG before
// and after, counted up to a cap. Needs built packages: `npx tsc -p packages/onnx-graph/tsconfig.json`
// and `npx tsc -p packages/zoo/tsconfig.json` (or `npx turbo run build`).
// Usage: node bench/real-models.mjs [--repeat 5] [--cap 200000]
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { loadModel } from '../packages/onnx-graph/dist/index.js';
import { externalModels } from '../packages/zoo/dist/index.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const repeat = opt('--repeat', 5);
const cap = opt('--cap', 200_000);

/** Downsets (cut sets of a DAG plan) of the graph's node DAG, counted until `cap`; returns cap + 1 past it. */
function countDownsets(graph, cap) {
  const index = new Map(graph.nodes.map((n) => [n.name, n.index]));
  const preds = graph.nodes.map((n) => {
    const p = new Set();
    for (const x of [...n.inputs, ...(n.implicitInputs ?? [])]) {
      const prod = x ? graph.tensors.get(x)?.producer : null;
      if (prod) p.add(index.get(prod));
    }
    return [...p];
  });
  return countPreds(preds, cap);
}

/**
 * The DAG with every node that has one run-time input merged into that input's producer when it is
 * the producer's only reader (activation, affine and SE chains become one block): how wide the
 * graph is once a solver coarsens chains, which folding cannot do. Returns [blocks, downsets].
 */
function chainsMerged(graph, cap) {
  const inits = new Set(graph.initializers);
  const index = new Map(graph.nodes.map((n) => [n.name, n.index]));
  const rep = graph.nodes.map((_, i) => i);
  const find = (i) => (rep[i] === i ? i : (rep[i] = find(rep[i])));
  for (const n of graph.nodes) {
    const rt = [...n.inputs, ...(n.implicitInputs ?? [])].filter((x) => x && !inits.has(x));
    const t = rt.length === 1 ? graph.tensors.get(rt[0]) : undefined;
    if (t?.producer && t.consumers.length === 1) rep[n.index] = find(index.get(t.producer));
  }
  const keep = graph.nodes.filter((n) => find(n.index) === n.index);
  // A graph view whose nodes are the blocks, in the order of their first node (still topological).
  const pos = new Map(keep.map((n, j) => [n.index, j]));
  const preds = keep.map(() => new Set());
  for (const n of graph.nodes) {
    const me = pos.get(find(n.index));
    for (const x of [...n.inputs, ...(n.implicitInputs ?? [])]) {
      const prod = x ? graph.tensors.get(x)?.producer : null;
      if (!prod) continue;
      const q = pos.get(find(index.get(prod)));
      if (q !== me) preds[me].add(q);
    }
  }
  return [keep.length, countPreds(preds.map((p) => [...p]), cap)];
}

/** Downsets of a DAG given as predecessor lists in topological order, counted until `cap`. */
function countPreds(preds, cap) {
  const n = preds.length;
  const inSet = new Uint8Array(n);
  let count = 0;
  const walk = (i) => {
    if (count > cap) return;
    if (i === n) {
      count++;
      return;
    }
    walk(i + 1);
    if (preds[i].every((p) => inSet[p])) {
      inSet[i] = 1;
      walk(i + 1);
      inSet[i] = 0;
    }
  };
  walk(0);
  return count;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const specs = (m) => Object.fromEntries(Object.entries(m.inputs).map(([k, shape]) => [k, m.values[k] ? { shape, value: m.values[k] } : { shape }]));

console.log(`# real models: ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, node ${process.version}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`# load time: median of ${repeat} loads (after one warm-up); cut sets counted up to ${cap}`);
const header = ['model', 'exporter', 'nodes in file', 'Constant', 'folded', 'If inlined', 'Identity', 'dead', 'layers', 'load ms (passes)', 'load ms (none)', 'cut sets before', 'cut sets after', 'chain blocks', 'cut sets, chains merged'];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const m of externalModels()) {
  if (!m.available) {
    console.log(`| ${m.name} | ${m.exporter} | not installed (${m.source.package}@${m.source.version}) |`);
    continue;
  }
  const inputShapes = specs(m);
  const time = async (simplify) => {
    await loadModel(m.file, { inputShapes, simplify });
    const ts = [];
    let model;
    for (let r = 0; r < repeat; r++) {
      const t0 = performance.now();
      model = await loadModel(m.file, { inputShapes, simplify });
      ts.push(performance.now() - t0);
    }
    return { ms: median(ts), model };
  };
  const on = await time(true);
  const off = await time(false);
  const s = on.model.simplified;
  const fmt = (c) => (c > cap ? `> ${cap}` : String(c));
  const row = [
    m.name, m.exporter, s.nodesBefore, s.constants, s.folded, s.inlined, s.identities, s.dead, s.nodesAfter,
    on.ms.toFixed(1), off.ms.toFixed(1), fmt(countDownsets(off.model.graph, cap)), fmt(countDownsets(on.model.graph, cap)),
    ...chainsMerged(on.model.graph, cap).map(fmt),
  ];
  console.log(`| ${row.join(' | ')} |`);
}
console.log(`# load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
