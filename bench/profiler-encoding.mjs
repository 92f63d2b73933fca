#!/usr/bin/env node
// What encoding a stage's float32 tensors for a link costs here, and decoding them (the profiler's
// calibrateEncodings: what `dnnpart profile` and an agent's profile record in boundary.encodings).
// Run under glibc reusing memory, as dnnpart's commands and agents run themselves:
//   npx turbo run build && MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=4294967295 node bench/profiler-encoding.mjs [--rounds 5]
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { calibrateEncodings } from '@dnnpart/profiler';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const mb = (x) => (x * 2 ** 20).toFixed(2);
console.log(`Machine: ${cpus()[0]?.model.trim()}, ${cpus().length} cores; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${new Date().toISOString()}; MALLOC_MMAP_MAX_=${process.env.MALLOC_MMAP_MAX_ ?? 'unset'}\n`);
console.log('| calibration | int8 encode ms/MB | int8 decode | fp16 encode | fp16 decode | per round and size (float32 bytes): int8 encode / decode ms, fp16 encode / decode ms |');
console.log('|---:|---:|---:|---:|---:|---|');
for (let r = 1; r <= Number(values.rounds); r++) {
  const { costs, samples } = calibrateEncodings();
  const per = samples.map((s) => `round ${s.round + 1}, ${s.bytes / 1024} kB: ${s.int8.encodeMs} / ${s.int8.decodeMs}, ${s.fp16.encodeMs} / ${s.fp16.decodeMs}`).join('; ');
  console.log(`| ${r} | ${mb(costs.int8.encodeMsPerByte)} | ${mb(costs.int8.decodeMsPerByte)} | ${mb(costs.fp16.encodeMsPerByte)} | ${mb(costs.fp16.decodeMsPerByte)} | ${per} |`);
}
