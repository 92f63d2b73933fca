#!/usr/bin/env node
// What handing back an output costs per run, by size (issue 10's boundary cost, past the 16 MB the
// boundary calibration measures). A one-kernel model (Expand of one float to n) writes an output of
// 1 to 128 MB; each size runs in a Node process of its own (the C allocator's state is per process),
// with preallocated outputs (what verify and the agents give onnxruntime-node) and without. Per run:
// session.run wall time, ORT's own model_run (its profiler), the minor page faults the run took, and
// whether the tensor handed back is the one preallocated. A JavaScript baseline times a fresh
// Float32Array of the same size, filled once (the cost of memory never touched before). Each size runs
// under glibc as the process starts and with the runtime's REUSE_ENV (mmap off: freed buffers reused),
// the remedy the agent, verify and run advise for outputs of 32 MiB or more.
//
//   node bench/output-copy.mjs [--sizes 1,4,16,32,48,64,128] [--runs 12] [--threads 2] [--allocators started,reuse]
// Needs python3-onnx (to write the models). Prints Markdown.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REUSE_ENV, REUSE_PREFIX } from '@dnnpart/onnx-graph';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1,4,16,32,48,64,128' },
    runs: { type: 'string', default: '12' },
    threads: { type: 'string', default: '2' },
    allocators: { type: 'string', default: 'started,reuse' },
    child: { type: 'string' },
    mode: { type: 'string' },
    allocator: { type: 'string', default: 'started' },
    dir: { type: 'string' },
  },
});
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[(s.length - 1) >> 1]; };
const MB = 1 << 20;

if (values.child) {
  // One size in this process: the model's runs, then the JavaScript baseline.
  const ort = await import('onnxruntime-node');
  const mb = Number(values.child);
  const pre = values.mode === 'preallocated';
  const n = (mb * MB) / 4;
  const prefix = join(values.dir, `run-${mb}-${values.allocator}-${values.mode}`);
  const s = await ort.InferenceSession.create(join(values.dir, `out${mb}.onnx`), {
    intraOpNumThreads: Number(values.threads), enableProfiling: true, profileFilePrefix: prefix,
    extra: { session: { 'session.intra_op.allow_spinning': '0' } },
  });
  const feeds = { x: new ort.Tensor('float32', Float32Array.of(1), [1]) };
  const fetches = pre ? { y: new ort.Tensor('float32', new Float32Array(n), [n]) } : undefined;
  const wall = [];
  const faults = [];
  let same = false;
  for (let r = 0; r < Number(values.runs); r++) {
    const f0 = process.resourceUsage().minorPageFault;
    const t0 = performance.now();
    const out = pre ? await s.run(feeds, fetches) : await s.run(feeds);
    wall.push(performance.now() - t0);
    faults.push(process.resourceUsage().minorPageFault - f0);
    same = pre && out.y.data.buffer === fetches.y.data.buffer;
  }
  s.endProfiling();
  await s.release();
  const file = readdirSync(values.dir).find((f) => f.startsWith(`run-${mb}-${values.allocator}-${values.mode}_`) && f.endsWith('.json'));
  const runs = JSON.parse(readFileSync(join(values.dir, file), 'utf8')).filter((e) => e.name === 'model_run').map((e) => e.dur / 1000);
  const js = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    new Float32Array(n).fill(1);
    js.push(performance.now() - t0);
  }
  // The first four runs warm the session up; the rest are measured.
  const tail = (xs) => xs.slice(4);
  console.log(JSON.stringify({ mb, mode: values.mode, wallMs: median(tail(wall)), modelRunMs: median(tail(runs)), faults: median(tail(faults)), same, freshFillMs: median(js) }));
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'dnnpart-output-copy-'));
const sizes = values.sizes.split(',').map(Number);
const make = spawnSync('/usr/bin/python3', ['-c', `
import onnx, numpy as np, sys
from onnx import helper as h, TensorProto as T, numpy_helper as nh
for mb in [${sizes.join(',')}]:
    n = mb * ${MB} // 4
    g = h.make_graph([h.make_node('Expand', ['x', 'shape'], ['y'], name='expand')], 'g', [h.make_tensor_value_info('x', T.FLOAT, [1])],
                     [h.make_tensor_value_info('y', T.FLOAT, [n])], [nh.from_array(np.array([n], np.int64), 'shape')])
    m = h.make_model(g, opset_imports=[h.make_opsetid('', 17)]); m.ir_version = 8
    onnx.save(m, f'${dir}/out{mb}.onnx')
`], { encoding: 'utf8' });
if (make.status !== 0) throw new Error(`writing the models failed: ${make.stderr}`);

console.log(`# output handback cost by size: ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`\n${values.threads} thread(s), ${values.runs} runs per size (the first 4 unmeasured), each size and mode in a process of its own.\n`);
console.log(`allocator "started": glibc as the process starts (no MALLOC_ settings); "reuse": ${REUSE_PREFIX}.\n`);
console.log('| output MB | allocator | outputs | session.run ms | ORT model_run ms | outside model_run ms | ms per MB outside | page faults per run (MB of pages) | same tensor back | fresh Float32Array + fill ms |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
const plain = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MALLOC_') && k !== 'GLIBC_TUNABLES'));
for (const mb of sizes) {
  for (const allocator of values.allocators.split(',')) {
    for (const mode of ['preallocated', 'allocated']) {
      const env = allocator === 'reuse' ? { ...plain, ...REUSE_ENV } : plain;
      const r = spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--child', String(mb), '--mode', mode, '--allocator', allocator, '--dir', dir, '--runs', values.runs, '--threads', values.threads], { encoding: 'utf8', env });
      if (r.status !== 0) throw new Error(`size ${mb} ${allocator} ${mode}: ${r.stderr}`);
      const x = JSON.parse(r.stdout.trim().split('\n').pop());
      const outside = x.wallMs - x.modelRunMs;
      console.log(`| ${mb} | ${allocator} | ${mode} | ${x.wallMs.toFixed(2)} | ${x.modelRunMs.toFixed(2)} | ${outside.toFixed(2)} | ${(outside / mb).toFixed(3)} | ${x.faults} (${((x.faults * 4096) / MB).toFixed(1)}) | ${mode === 'preallocated' ? (x.same ? 'yes' : 'no') : '—'} | ${x.freshFillMs.toFixed(1)} |`);
    }
  }
}
console.log(`\nload average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
