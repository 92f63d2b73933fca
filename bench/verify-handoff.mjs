#!/usr/bin/env node
// What handing a frame from one pipeline stage thread to the next costs on this host (issue 10), copied
// (structured clone) against transferred (ArrayBuffers moved): calibrateHost's synthetic two-stage
// pipeline through `dnnpart verify`'s own stage workers, tensors of 4 B to 4 MB, the two modes
// alternating so that both see the same load.
//
//   node bench/verify-handoff.mjs [--rounds 3] [--frames 100] [--threads 1]
// Needs the built packages. Prints Markdown.
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { calibrateHost } from '@dnnpart/report';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, frames: { type: 'string', default: '100' }, threads: { type: 'string', default: '1' } } });
const rounds = Number(values.rounds);
const sizes = [4, 65536, 1 << 20, 4 << 20];
console.log(`# Stage handoff on this host: copied vs transferred\n`);
console.log(`Machine: ${cpus()[0]?.model.trim()}, ${availableParallelism()} cores; load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${new Date().toISOString()}`);
console.log(`Command: node bench/verify-handoff.mjs --rounds ${rounds} --frames ${values.frames} --threads ${values.threads}\n`);
console.log(`| round | handoff | ${sizes.map((s) => `${s >= 1 << 20 ? `${s / (1 << 20)} MB` : s >= 1024 ? `${s / 1024} kB` : `${s} B`} ms per frame`).join(' | ')} | fit: fixed ms | ms per MB |`);
console.log(`|---:|---|${sizes.map(() => '---:').join('|')}|---:|---:|`);
const all = { copy: sizes.map(() => []), transfer: sizes.map(() => []) };
for (let r = 0; r < rounds; r++) {
  for (const mode of ['copy', 'transfer']) {
    const c = await calibrateHost({ threads: Number(values.threads), sessions: 1, rounds: 1, handoff: mode, sizes, frames: Number(values.frames) });
    c.handoff.samples.forEach((s, i) => all[mode][i].push(s.ms));
    console.log(`| ${r + 1} | ${mode} | ${c.handoff.samples.map((s) => s.ms.toFixed(3)).join(' | ')} | ${c.handoff.fixedMs.toFixed(3)} | ${(c.handoff.msPerByte * 1e6).toFixed(3)} |`);
  }
}
const med = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
for (const mode of ['copy', 'transfer']) console.log(`| median | ${mode} | ${all[mode].map((xs) => med(xs).toFixed(3)).join(' | ')} | | |`);
console.log(`\nload average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
