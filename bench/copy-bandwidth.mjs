#!/usr/bin/env node
// The copy bandwidth of this machine by size: best of 8 rounds of Buffer.copy (read + write bytes
// over time) at 0.25 MiB to 256 MiB. A board description's memoryBandwidthBytesPerSec is the 256 MiB
// figure (DRAM); its activationBandwidthBytesPerSec the 4 MiB one (a layer's tensors, from cache).
// Usage: node bench/copy-bandwidth.mjs
import { cpus, loadavg } from 'node:os';

console.log(`# Buffer.copy bandwidth: ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, node ${process.version}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('| MiB | GB/s (read + write) |');
console.log('|---|---|');
for (const mib of [0.25, 0.5, 1, 2, 4, 8, 16, 64, 256]) {
  const n = Math.round(mib * 1048576);
  const a = Buffer.alloc(n, 1);
  const b = Buffer.alloc(n);
  const reps = Math.max(3, Math.round(2048 / mib));
  let best = Infinity;
  for (let r = 0; r < 8; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) a.copy(b);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9 / reps);
  }
  console.log(`| ${mib} | ${((2 * n) / best / 1e9).toFixed(1)} |`);
}
