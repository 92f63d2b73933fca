#!/usr/bin/env node
// Profiles the zoo networks on this machine and writes profiles/measured/<board>/<net>.t<threads>.profile.json.
// Each network is exported with the zoo's defaults (input 1x3x224x224, default seed), so the
// profile's model.sha256 equals the zoo's default export and joins with it. The stage-boundary
// cost is calibrated once per thread count and recorded in every profile of that thread count.
//
//   node packages/profiler/scripts/profile-zoo.mjs [--board ci-x86-2core] [--nets a,b] [--threads 1,2]
//        [--runs 20] [--warmup 3] [--out profiles/measured]
// Needs the built packages (npm run build).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { calibrateBoundary, loadBoardDescription, profileModel } from '@dnnpart/profiler';
import { buildZooModel, zooNames } from '@dnnpart/zoo';

const root = new URL('../../../', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    board: { type: 'string', default: 'ci-x86-2core' },
    nets: { type: 'string', default: zooNames.join(',') },
    threads: { type: 'string', default: '1,2' },
    runs: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    out: { type: 'string', default: join(root, 'profiles/measured') },
  },
});
const description = await loadBoardDescription(join(root, 'profiles/boards', `${values.board}.yaml`));
const tmp = await mkdtemp(join(tmpdir(), 'dnnpart-zoo-'));
const ac = new AbortController();
process.once('SIGINT', () => ac.abort());
try {
  const boundaries = new Map();
  for (const threads of values.threads.split(',').map(Number)) {
    const { boundary } = await calibrateBoundary({ threads, signal: ac.signal });
    boundaries.set(threads, boundary);
    console.log(`boundary at ${threads} thread(s): ${boundary.fixedMs} ms + ${(boundary.inMsPerByte * 1e6).toFixed(4)} ms/MB in + ${(boundary.outMsPerByte * 1e6).toFixed(4)} ms/MB out (fit R² ${boundary.fitR2})`);
  }
  console.log();
  console.log('| network | threads | nodes | e2e median ms | node-sum/e2e (as profiled) | profiler overhead | unattributed | profiling s | file |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const net of values.nets.split(',')) {
    const model = join(tmp, `${net}.onnx`);
    await writeFile(model, buildZooModel(net));
    for (const threads of values.threads.split(',').map(Number)) {
      const output = join(values.out, values.board, `${net}.t${threads}.profile.json`);
      const t0 = performance.now();
      const p = await profileModel(model, {
        board: values.board,
        runs: Number(values.runs),
        warmup: Number(values.warmup),
        threads,
        boardDescription: description,
        boundary: boundaries.get(threads),
        output,
        signal: ac.signal,
      });
      const s = (performance.now() - t0) / 1000;
      console.log(
        `| ${net} | ${threads} | ${p.nodes.length} | ${p.endToEnd.medianMs.toFixed(2)} | ${p.nodeSumToEndToEnd?.toFixed(3)} (${p.correction?.rawNodeSumToEndToEnd.toFixed(3)}) | ${p.overhead?.ratio.toFixed(3)} | ${p.unattributedShare?.toFixed(3)} | ${s.toFixed(1)} | ${relative(root, output)} |`,
      );
    }
  }
} finally {
  await rm(tmp, { recursive: true, force: true });
}
