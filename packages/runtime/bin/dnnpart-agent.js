#!/usr/bin/env node
// The board agent on its own: runs the compiled package (npm run build, or an installed tarball),
// started again with glibc reusing large buffers: a stage's outputs of 32 MiB or more are otherwise
// mapped afresh and faulted in every run (runWithReusedMemory; DNNPART_MALLOC=as-is keeps the
// process as it started).
import { runWithReusedMemory } from '@dnnpart/onnx-graph';

const rerun = await runWithReusedMemory();
if (rerun !== null) process.exitCode = rerun;
else {
  const { agentMain } = await import('../dist/index.js');
  process.exitCode = await agentMain(process.argv.slice(2));
}
