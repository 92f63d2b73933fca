// How much a model's run time depends on where its session's memory happens to lie: the same model
// timed in several fresh processes, one onnxruntime session each (the profiler's options: 1 thread,
// no spinning, no memory pattern), with onnxruntime's CPU arena on and off. Every process runs
// with glibc reusing memory (REUSE_ENV), as the agent and the timing commands start themselves.
// Models: zoo networks at 1x3x224x224 and the real exported models installed, each whole and as the
// two stages of a split at half its node order.
//
//   npx turbo run build && node bench/arena-lottery.mjs [--nets squeezenet1_1,...] [--external name,...]
//                                                      [--processes 6] [--ms 700] [--json out.json]
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === '--child') {
  const [file, arena, ms] = process.argv.slice(3);
  const ort = await import('onnxruntime-node');
  const { loadModel } = await import('@dnnpart/onnx-graph');
  const { makeFeeds } = await import('../packages/profiler/dist/_feeds.js');
  const { sessionOptions } = await import('../packages/profiler/dist/_session.js');
  const feeds = makeFeeds((await loadModel(file)).graph);
  const session = await ort.InferenceSession.create(file, { ...sessionOptions(1, 'all'), enableCpuMemArena: arena === 'on' });
  for (let i = 0; i < 20; i++) await session.run(feeds);
  const t = [];
  const start = performance.now();
  while (t.length < 30 || performance.now() - start < Number(ms)) {
    const t0 = performance.now();
    await session.run(feeds);
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  const q = (p) => t[Math.min(t.length - 1, Math.floor(p * t.length))];
  process.stdout.write(JSON.stringify({ median: q(0.5), p10: q(0.1), p90: q(0.9), runs: t.length, rss: process.memoryUsage.rss() }));
  process.exit(0);
}

const { values } = parseArgs({
  options: {
    nets: { type: 'string', default: 'squeezenet1_1,resnet18,mobilenet_v2,efficientnet_b0,googlenet' },
    external: { type: 'string', default: 'paddleocr-cls,paddleocr-rec,paddleocr-det,oww-embedding,silero-vad,ddddocr-rec,moonshine-encoder' },
    processes: { type: 'string', default: '6' },
    ms: { type: 'string', default: '700' },
    json: { type: 'string' },
  },
});
const { loadModel, splitModel, encodeModel, runnableModel, REUSE_ENV } = await import('@dnnpart/onnx-graph');
const { buildZooModel, externalModels } = await import('@dnnpart/zoo');
const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
const processes = Number(values.processes);
const tmp = await mkdtemp(join(tmpdir(), 'dnnpart-arena-lottery-'));
const self = fileURLToPath(import.meta.url);

// Each model whole (its inputs fixed) and its two halves, as files.
const files = [];
const add = async (name, model) => {
  const whole = join(tmp, `${name}.onnx`);
  await writeFile(whole, encodeModel(runnableModel(model)));
  files.push({ model: name, part: 'whole', file: whole });
  const nodes = model.graph.nodes;
  const stages = Object.fromEntries(nodes.map((n, i) => [n.name, i < nodes.length / 2 ? 0 : 1]));
  const split = splitModel(model, { stages });
  for (const s of split.stages) {
    const f = join(tmp, `${name}.stage-${s.index}.onnx`);
    await writeFile(f, s.bytes);
    files.push({ model: name, part: `stage ${s.index}`, file: f });
  }
};
for (const net of list(values.nets)) {
  const f = join(tmp, `${net}.zoo.onnx`);
  await writeFile(f, buildZooModel(net, { inputShape: [1, 3, 224, 224] }));
  await add(net, await loadModel(f));
}
const ext = externalModels();
for (const name of list(values.external)) {
  const m = ext.find((x) => x.name === name);
  if (!m?.available) {
    console.error(`skipping ${name}: not installed`);
    continue;
  }
  const inputShapes = Object.fromEntries(Object.entries(m.inputs).map(([k, shape]) => [k, m.values[k] ? { shape, value: m.values[k] } : shape]));
  await add(name, await loadModel(m.file, { inputShapes }));
}

function child(file, arena) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [self, '--child', file, arena, values.ms], { env: { ...process.env, ...REUSE_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${file} arena ${arena}: exit ${code}: ${err.slice(-300)}`))));
  });
}

console.log(`# onnxruntime's CPU arena and the layout lottery\n`);
console.log(`${new Date().toISOString()}, ${cpus()[0]?.model.trim()} x${cpus().length}, node ${process.version}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`${processes} fresh processes per file and setting (alternating), each one session at 1 thread timed for ${values.ms} ms after 20 warm-up runs; figures are each process's median run (ms).\n`);
console.log('| model | part | arena on: min / median / max | spread on | arena off: min / median / max | spread off | off / on (medians) | RSS on / off MB |');
console.log('|---|---|---|---:|---|---:|---:|---|');
const rows = [];
for (const f of files) {
  const on = [];
  const off = [];
  for (let i = 0; i < processes; i++) {
    for (const arena of i % 2 ? ['off', 'on'] : ['on', 'off']) {
      try {
        (arena === 'on' ? on : off).push(await child(f.file, arena));
      } catch (e) {
        console.error(String(e.message ?? e));
      }
    }
  }
  if (!on.length || !off.length) continue;
  const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
  const st = (xs) => { const m = xs.map((x) => x.median); return { min: Math.min(...m), median: med(m), max: Math.max(...m), all: m, rss: med(xs.map((x) => x.rss)) }; };
  const a = st(on);
  const b = st(off);
  rows.push({ ...f, on: a, off: b });
  const r = (x) => (x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
  console.log(`| ${f.model} | ${f.part} | ${r(a.min)} / ${r(a.median)} / ${r(a.max)} | ${(a.max / a.min).toFixed(2)} | ${r(b.min)} / ${r(b.median)} / ${r(b.max)} | ${(b.max / b.min).toFixed(2)} | ${(b.median / a.median).toFixed(2)} | ${(a.rss / 2 ** 20).toFixed(0)} / ${(b.rss / 2 ** 20).toFixed(0)} |`);
}
const spread = (k) => rows.map((x) => x[k].max / x[k].min).sort((p, q) => p - q);
const s1 = spread('on');
const s0 = spread('off');
const ratio = rows.map((x) => x.off.median / x.on.median).sort((p, q) => p - q);
const within = (s, lim) => s.filter((x) => x <= lim).length;
console.log(`\n- ${rows.length} files. Spread (slowest process / fastest): arena on median ${s1[s1.length >> 1].toFixed(2)}, worst ${s1.at(-1).toFixed(2)}, ${within(s1, 1.1)} of ${rows.length} within 1.10; arena off median ${s0[s0.length >> 1].toFixed(2)}, worst ${s0.at(-1).toFixed(2)}, ${within(s0, 1.1)} within 1.10.`);
console.log(`- Arena off / on, median run: median ${ratio[ratio.length >> 1].toFixed(2)}, range ${ratio[0].toFixed(2)}-${ratio.at(-1).toFixed(2)}.`);
console.log(`- load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
if (values.json) await writeFile(values.json, JSON.stringify(rows, null, 1));
await rm(tmp, { recursive: true, force: true });
