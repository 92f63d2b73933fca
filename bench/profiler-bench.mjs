#!/usr/bin/env node
// Profiler measurements on this machine, per zoo network: profiling time, the profiler's overhead,
// node-sum / end-to-end ratio, run-to-run spread of node medians between two profiles of the same
// model, and the analytic roofline's error after calibrating it against the measured profiles.
//
//   node bench/profiler-bench.mjs [--nets a,b] [--runs 20] [--warmup 3] [--threads 2] [--board ci-x86-2core]
// Needs the built packages (npm run build). Prints Markdown tables.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '@dnnpart/onnx-graph';
import { analyticProfile, calibrateAnalytic, compareProfiles, loadBoardDescription, profileModel } from '@dnnpart/profiler';
import { buildZooModel, zooNames } from '@dnnpart/zoo';

const root = new URL('../', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    nets: { type: 'string', default: zooNames.join(',') },
    runs: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    board: { type: 'string', default: 'ci-x86-2core' },
    levels: { type: 'string', default: 'resnet18,mobilenet_v2' },
  },
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const threads = Number(values.threads);
const description = await loadBoardDescription(join(root, 'profiles/boards', `${values.board}.yaml`));
const tmp = await mkdtemp(join(tmpdir(), 'dnnpart-bench-'));

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (i - lo);
};
const pct = (x) => `${(100 * x).toFixed(1)} %`;

console.log(`machine: ${cpus()[0]?.model} x ${availableParallelism()}, node ${process.version}, ${new Date().toISOString()}, load average at start ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log(`settings: runs ${runs}, warmup ${warmup}, threads ${threads}, graph optimisation "all", board ${values.board}\n`);
console.log('| network | nodes | profiling s (1st) | e2e median ms (1st / 2nd) | profiler overhead | node-sum / e2e | unattributed | node median spread, median (p90) | nodes compared |');
console.log('|---|---|---|---|---|---|---|---|---|');
const pairs = [];
try {
  for (const net of values.nets.split(',')) {
    const model = join(tmp, `${net}.onnx`);
    await writeFile(model, buildZooModel(net));
    const opts = { board: values.board, runs, warmup, threads, sensor: null, boardDescription: description };
    const t0 = performance.now();
    const a = await profileModel(model, opts);
    const seconds = (performance.now() - t0) / 1000;
    const b = await profileModel(model, opts);
    // Nodes under 50 µs are dominated by the trace's 1 µs resolution and scheduling; leave them out.
    const bMed = new Map(b.nodes.map((n) => [n.name, n.latencyMs.median]));
    const spreads = a.nodes
      .filter((n) => n.latencyMs.median >= 0.05 && (bMed.get(n.name) ?? 0) >= 0.05)
      .map((n) => {
        const x = n.latencyMs.median;
        const y = bMed.get(n.name);
        return Math.abs(x - y) / ((x + y) / 2);
      });
    console.log(
      `| ${net} | ${a.nodes.length} | ${seconds.toFixed(1)} | ${a.endToEnd.medianMs.toFixed(2)} / ${b.endToEnd.medianMs.toFixed(2)} | ${a.overhead.ratio.toFixed(3)} | ${a.nodeSumToEndToEnd.toFixed(3)} | ${pct(a.unattributedShare)} | ${pct(quantile(spreads, 0.5))} (${pct(quantile(spreads, 0.9))}) | ${spreads.length} |`,
    );
    const { graph } = await loadModel(model);
    pairs.push({ net, graph, measured: a, second: b });
  }

  const fit = calibrateAnalytic(pairs.map(({ graph, measured }) => ({ graph, measured })), description, 'fp32');
  console.log(`\nanalytic calibration on the first profiles (fp32 peak ${description.peakGops.fp32} GOPS, ${description.memoryBandwidthBytesPerSec / 1e9} GB/s): ${JSON.stringify(fit.parameters)}; time-weighted node error, mean over networks ${pct(fit.weightedAbsRelError)}\n`);
  console.log('| network | analytic e2e ms | measured e2e ms (2nd profile) | e2e error | error vs node-median sum | node error, median | node error, time-weighted |');
  console.log('|---|---|---|---|---|---|---|');
  for (const { net, graph, second } of pairs) {
    // Compared with the second profile, which the calibration did not see.
    const p = analyticProfile(graph, description, { sha256: second.model.sha256, precision: 'fp32', parameters: fit.parameters });
    const c = compareProfiles(p, second);
    console.log(`| ${net} | ${p.endToEnd.medianMs.toFixed(2)} | ${second.endToEnd.medianMs.toFixed(2)} | ${pct(c.endToEndRelError)} | ${pct(c.nodeSumRelError)} | ${pct(c.medianAbsRelError)} | ${pct(c.weightedAbsRelError)} |`);
  }
  // End-to-end latency per graph optimisation level: why profiles are made at "all".
  console.log(`\n| network | ${['disabled', 'basic', 'extended', 'all'].map((l) => `e2e median ms, "${l}"`).join(' | ')} |`);
  console.log('|---|---|---|---|---|');
  for (const net of values.levels.split(',').filter(Boolean)) {
    const model = join(tmp, `${net}.onnx`);
    await writeFile(model, buildZooModel(net));
    const cells = [];
    for (const level of ['disabled', 'basic', 'extended', 'all']) {
      const p = await profileModel(model, { board: values.board, runs, warmup, threads, sensor: null, graphOptimizationLevel: level });
      cells.push(p.endToEnd.medianMs.toFixed(2));
    }
    console.log(`| ${net} | ${cells.join(' | ')} |`);
  }
  console.log(`\nload average at end ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
} finally {
  await rm(tmp, { recursive: true, force: true });
}
