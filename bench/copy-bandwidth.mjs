#!/usr/bin/env node
// The copy bandwidth of this machine by size: best of 8 rounds of Buffer.copy (read + write bytes
// over time) at 0.25 MiB to 256 MiB. A board description's memoryBandwidthBytesPerSec is the 256 MiB
// figure (DRAM); its activationBandwidthBytesPerSec the 4 MiB one (a layer's tensors, from cache).
// bench/analytic-real-models.mjs measures the two the same way for the machine it runs on.
// Usage: node bench/copy-bandwidth.mjs
import { cpus, loadavg } from 'node:os';
import { copyBandwidth } from './_copy-bandwidth.mjs';

console.log(`# Buffer.copy bandwidth: ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, node ${process.version}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('| MiB | GB/s (read + write) |');
console.log('|---|---|');
for (const mib of [0.25, 0.5, 1, 2, 4, 8, 16, 64, 256]) console.log(`| ${mib} | ${(copyBandwidth(mib) / 1e9).toFixed(1)} |`);
