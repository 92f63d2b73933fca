#!/usr/bin/env node
// Load + analysis time and peak memory of @dnnpart/onnx-graph per zoo network (1x3x224x224) and
// for a synthetic 300-node residual model. Needs built packages: `npx turbo run build`.
// Each model runs in its own child process so the peak RSS belongs to that model alone.
// Usage: node bench/onnx-graph-load.mjs [--repeat 5] [--only vit_b_16,bert_base,...]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { cutPoints, graphCosts, loadModel } from '../packages/onnx-graph/dist/index.js';
import { buildZooModel, zooNames } from '../packages/zoo/dist/index.js';

const self = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const repeat = Number(args[args.indexOf('--repeat') + 1] || 5);
// A subset of the models (zoo names, synthetic-300), e.g. the transformers alone.
const only = args.includes('--only') ? new Set(args[args.indexOf('--only') + 1].split(',')) : undefined;

/** A residual chain: stem conv, then `blocks` x (Conv, Relu, Add) on 16x32x32 maps, then pool + flatten. */
function synthetic(blocks) {
  const dim = (d) => ({ value: { case: 'dimValue', value: BigInt(d) } });
  const vi = (name, dims) => ({ name, type: { value: { case: 'tensorType', value: { elemType: 1, shape: { dim: dims.map(dim) } } } } });
  const tensor = (name, dims) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (((i * 2654435761) >>> 0) / 2 ** 32 - 0.5) * 0.05;
    return { name, dims: dims.map(BigInt), dataType: 1, rawData: new Uint8Array(data.buffer) };
  };
  const ints = (name, vals) => ({ name, type: 7, ints: vals.map(BigInt) });
  const nodes = [];
  const inits = [tensor('stem.w', [16, 3, 3, 3])];
  nodes.push({ name: 'stem', opType: 'Conv', input: ['x', 'stem.w'], output: ['h0'], attribute: [ints('pads', [1, 1, 1, 1]), { ...ints('kernel_shape', [3, 3]) }] });
  let h = 'h0';
  for (let b = 0; b < blocks; b++) {
    inits.push(tensor(`b${b}.w`, [16, 16, 3, 3]));
    nodes.push({ name: `b${b}.conv`, opType: 'Conv', input: [h, `b${b}.w`], output: [`b${b}.c`], attribute: [ints('pads', [1, 1, 1, 1]), ints('kernel_shape', [3, 3])] });
    nodes.push({ name: `b${b}.relu`, opType: 'Relu', input: [`b${b}.c`], output: [`b${b}.r`] });
    nodes.push({ name: `b${b}.add`, opType: 'Add', input: [`b${b}.r`, h], output: [`b${b}.a`] });
    h = `b${b}.a`;
  }
  nodes.push({ name: 'pool', opType: 'GlobalAveragePool', input: [h], output: ['pool'] });
  nodes.push({ name: 'flat', opType: 'Flatten', input: ['pool'], output: ['y'] });
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, {
    irVersion: 8n, opsetImport: [{ domain: '', version: 17n }],
    graph: { name: 'synthetic', node: nodes, initializer: inits, input: [vi('x', [1, 3, 32, 32])], output: [vi('y', [1, 16])] },
  }));
}

/** Peak RSS of this process in MiB. VmHWM, because getrusage's maxrss survives exec and would include the parent's peak. */
function peakRssMiB() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {}
  return process.resourceUsage().maxRSS / 1024;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Child: load and analyse one model file `repeat` times; print one JSON line. */
async function measure(file) {
  const load = [], costs = [], cuts = [];
  let nodes = 0, macs = 0, ncuts = 0;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    const m = await loadModel(file);
    const t1 = performance.now();
    const c = graphCosts(m.graph);
    const t2 = performance.now();
    const cp = cutPoints(m.graph);
    const t3 = performance.now();
    load.push(t1 - t0); costs.push(t2 - t1); cuts.push(t3 - t2);
    nodes = m.graph.nodes.length; macs = c.macs; ncuts = cp.filter((x) => x.tensors.length > 1).length;
  }
  const total = load.map((l, i) => l + costs[i] + cuts[i]);
  process.stdout.write(`${JSON.stringify({
    nodes, macs, multi: ncuts, load: median(load), costs: median(costs), cuts: median(cuts), total: median(total),
    first: total[0], maxRssMiB: peakRssMiB(),
  })}\n`);
}

if (args[0] === '--one') {
  await measure(args[1]);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'onnx-graph-bench-'));
  const models = [...zooNames.map((n) => [n, () => buildZooModel(n)]), ['synthetic-300', () => synthetic(99)]].filter(([n]) => !only || only.has(n));
  const rows = [];
  for (const [name, build] of models) {
    const file = join(dir, `${name}.onnx`);
    const bytes = build();
    writeFileSync(file, bytes);
    const out = execFileSync(process.execPath, [self, '--one', file, '--repeat', String(repeat)], { encoding: 'utf8', maxBuffer: 1 << 20 });
    rows.push({ name, mb: bytes.length / 2 ** 20, ...JSON.parse(out.trim().split('\n').pop()) });
    rmSync(file);
  }
  rmSync(dir, { recursive: true, force: true });
  const f = (x, d = 1) => x.toFixed(d);
  console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), median of ${repeat} runs, each network's default input (images 1x3x224x224, text 1x128; synthetic: 1x3x32x32), load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end\n`);
  console.log('| model | file MB | nodes | GMACs | multi-tensor cuts | load+shapes ms | costs ms | cut points ms | total ms | first run ms | peak RSS MiB |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.name} | ${f(r.mb)} | ${r.nodes} | ${f(r.macs / 1e9, 3)} | ${r.multi} | ${f(r.load)} | ${f(r.costs, 2)} | ${f(r.cuts, 2)} | ${f(r.total)} | ${f(r.first)} | ${f(r.maxRssMiB, 0)} |`);
  }
}
