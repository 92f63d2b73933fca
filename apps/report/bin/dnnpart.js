#!/usr/bin/env node
import { runWithReusedMemory } from '@dnnpart/onnx-graph';

// The commands that time models or run stages start again with glibc reusing large buffers, as
// dnnpart-agent does, so that a board's profile and its agent run under the same allocator
// (runWithReusedMemory; DNNPART_MALLOC=as-is keeps the process as it started).
const TIMED = new Set(['profile', 'verify', 'run', 'start', 'agent']);
const rerun = TIMED.has(process.argv[2] ?? '') ? await runWithReusedMemory() : null;
if (rerun !== null) process.exitCode = rerun;
else {
  const { main } = await import('../dist/cli/main.js');
  process.exitCode = await main(process.argv.slice(2));
}
