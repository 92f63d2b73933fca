// Benchmark: time to build each zoo network's ONNX bytes (seeded weights included) at its default
// input, the model size, and the peak memory of a fresh process that builds it. Not a test; prints a table.
// Usage: npx turbo run build --filter=@dnnpart/zoo && node bench/zoo-build.mjs [--runs 3] [names...]

import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const dist = new URL('../packages/zoo/dist/index.js', import.meta.url);
const { buildZooModel, buildZooModelProto, listZoo, zooModelInfo, zooNames } = await import(dist.href);

const args = process.argv.slice(2);

if (args[0] === '--child-proto') {
  // The naive path for comparison: a ModelProto with one Float32Array per tensor, then toBinary.
  const { toBinary } = await import('@bufbuild/protobuf');
  const { ModelProtoSchema } = await import('onnx-buf');
  const t0 = process.hrtime.bigint();
  const bytes = toBinary(ModelProtoSchema, buildZooModelProto(args[1])).byteLength;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({ ms, bytes, maxRssKiB: process.resourceUsage().maxRSS }));
} else if (args[0] === '--child') {
  // One network in a fresh process, so the peak RSS belongs to this build alone.
  const [, name, runsArg] = args;
  const runs = Number(runsArg);
  const times = [];
  let bytes = 0;
  let maxRssKiB = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const model = buildZooModel(name);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    bytes = model.byteLength;
    // Peak of the first build only: later runs overlap with garbage the GC has not freed yet.
    if (i === 0) maxRssKiB = process.resourceUsage().maxRSS;
  }
  const info = zooModelInfo(name);
  process.stdout.write(
    JSON.stringify({
      name,
      times,
      bytes,
      nodes: info.nodes.length,
      input: info.inputShape.join('x'),
      initializerElements: info.initializerElements,
      maxRssKiB,
    }),
  );
} else {
  let runs = 3;
  const names = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--runs') runs = Number(args[++i]);
    else names.push(args[i]);
  }
  const selected = names.length > 0 ? names : [...zooNames];
  const t0 = process.hrtime.bigint();
  const listed = new Map(listZoo().map((e) => [e.name, e]));
  const listMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const rows = [];
  for (const name of selected) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', name, String(runs)], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    const proto = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child-proto', name], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    rows.push({ ...JSON.parse(out), proto: JSON.parse(proto) });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const fmt = (n) => n.toLocaleString('en-US');
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at start`);
  console.log(`date: ${new Date().toISOString()}; default input (1x3x224x224 images, 1x128 tokens), default seed; build = buildZooModel() to bytes; ${runs} runs per network, median and min`);
  console.log('');
  console.log('| network | input | nodes | params (reference) | GMACs | ONNX initializer elements | ONNX bytes | build ms (median) | build ms (min) | peak RSS MiB (first build) | proto+toBinary ms | proto+toBinary peak RSS MiB |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const e = listed.get(r.name);
    console.log(
      `| ${r.name} | ${r.input} | ${r.nodes} | ${fmt(e.params)} | ${(e.macs / 1e9).toFixed(3)} | ${fmt(r.initializerElements)} | ${fmt(r.bytes)} | ${median(r.times).toFixed(0)} | ${Math.min(...r.times).toFixed(0)} | ${(r.maxRssKiB / 1024).toFixed(0)} | ${r.proto.ms.toFixed(0)} | ${(r.proto.maxRssKiB / 1024).toFixed(0)} |`,
    );
  }
  console.log('');
  console.log(`listZoo(): first call (all ${listed.size} topologies at their default input, no weights) ${listMs.toFixed(0)} ms; later calls are cached.`);
}
