// The plan's memory of each stage against what the stage takes (dnnpart verify's memory check).
//
// For the zoo's networks and the real exported models: the system join as `dnnpart solve --system`
// builds it (described boards; a stage's memory is its weights plus ACTIVATION_FACTOR x the most
// activation bytes alive at once while its nodes run, plus STAGE_RUNTIME_BYTES), plans of 1, 2 and 3
// stages cut along the node order at equal shares of the former figure (params + every output, so the
// stages are those of the earlier runs recorded in bench/results/verify-memory.md), each measured by
// verifyPlan's memory check: loaded and run in a Node process of its own, the resident memory its
// session and its runs add to a process already running onnxruntime. Beside the plan's figure, two
// others computed from the graph, to see what the measurement follows: the former plan figure (each
// node's parameters and outputs summed), and the stage's parameters plus the most activation bytes
// alive at once when its own nodes run in order (the stage's inputs from its start, its outputs to its end).
// The summary gives, from the same measurements, the count within 25 % for other factors and constants.
//
//   node bench/verify-memory.mjs [--nets a,b] [--external a,b] [--stages 2,3] [--threads 1]
// Built packages needed (npx turbo run build).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { graphCosts, loadModel } from '@dnnpart/onnx-graph';
import { evaluatePlan } from '@dnnpart/solver';
import { buildZooModel } from '@dnnpart/zoo';
import { installedExternal, systemInput } from './_external.mjs';
import { ACTIVATION_FACTOR, buildProblem, loadSystem, resolveSystem, STAGE_RUNTIME_BYTES, verifyPlan } from '@dnnpart/report';

const { values } = parseArgs({
  options: {
    nets: { type: 'string', default: 'resnet18,efficientnet_b0,googlenet,squeezenet1_1,mobilenet_v2,vgg16' },
    external: { type: 'string', default: 'paddleocr-det,paddleocr-rec,paddleocr-cls,moonshine-encoder,moonshine-decoder,ddddocr-det,ddddocr-rec,silero-vad,oww-embedding' },
    stages: { type: 'string', default: '2,3' },
    threads: { type: 'string', default: '1' },
  },
});
const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
const MB = (b) => (b / 1048576).toFixed(1);
const pct = (x) => (x === null || !Number.isFinite(x) ? '—' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(0)} %`);
const threads = Number(values.threads);
const tmp = await mkdtemp(join(tmpdir(), 'bench-memory-'));

const models = [];
for (const net of list(values.nets)) {
  const file = join(tmp, `${net}.onnx`);
  await writeFile(file, buildZooModel(net, { inputShape: [1, 3, 224, 224] }));
  models.push({ name: net, file, input: '1x3x224x224' });
}
for (const m of installedExternal(list(values.external))) models.push({ name: m.name, file: m.file, input: systemInput(m) });

console.log(`# verify's memory check: the plan's memory of a stage against what it takes\n`);
console.log(`Machine: ${cpus()[0]?.model.trim()}, ${cpus().length} cores; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${new Date().toISOString()}; ${threads} thread(s) a stage\n`);
console.log(`The plan: weights + ${ACTIVATION_FACTOR} x the most activation bytes alive at once (the model's node order) + ${MB(STAGE_RUNTIME_BYTES)} MB.\n`);
console.log('| model | stages | stage | nodes | plan MB | former plan MB (params + outputs) | params MB | params + peak live in the stage MB | measured: session MB | measured: peak MB | plan error | former plan error | params + live error |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');

const rows = [];
for (const m of models) {
  const sysFile = join(tmp, `${m.name}.yaml`);
  await writeFile(sysFile, ['version: 1', `name: ${m.name}`, 'model:', `  file: ${m.file}`, `  input: ${m.input}`, 'boards:', '  - { id: a, describe: raspberry-pi-5 }', '  - { id: b, describe: raspberry-pi-5 }', '  - { id: c, describe: raspberry-pi-5 }', 'network: ethernet-1000base-t'].join('\n'));
  let resolved;
  try {
    resolved = await resolveSystem(loadSystem(sysFile), { workDir: tmp });
  } catch (e) {
    console.error(`skipping ${m.name}: ${e.message}`);
    continue;
  }
  const { problem } = buildProblem(resolved);
  const model = await loadModel(m.file, { inputShapes: resolved.inputShapes });
  const graph = model.graph;
  const names = graph.nodes.map((n) => n.name);
  const costs = graphCosts(graph).nodes;
  // The former figure of a node: its parameters and outputs (the stages are cut at equal shares of it).
  const mem = new Map(graph.nodes.map((n) => [n.name, (costs.get(n.name)?.paramBytes ?? 0) + (costs.get(n.name)?.outputBytes ?? 0)]));
  for (const k of [1, ...list(values.stages).map(Number)]) {
    // Equal shares of the plan's memory along the node order.
    const total = names.reduce((a, n) => a + (mem.get(n) ?? 0), 0);
    const stageOf = {};
    let acc = 0;
    let s = 0;
    names.forEach((n, i) => {
      if (s < k - 1 && acc >= (total * (s + 1)) / k && i > 0) s++;
      stageOf[n] = s;
      acc += mem.get(n) ?? 0;
    });
    const count = Math.max(...Object.values(stageOf)) + 1;
    const boards = ['a', 'b', 'c'].slice(0, count);
    const plan = boards.map((b, i) => ({ board: b, nodes: names.filter((n) => stageOf[n] === i) }));
    const metrics = evaluatePlan({ ...problem, boardOrder: 'fixed' }, plan);
    // The plan's figure without the frames in flight its board's agent holds (a stage alone holds none): verify subtracts framesBytes.
    const predicted = metrics.stages.map((x) => ({ computeMs: x.computeMs, memoryBytes: x.memoryBytes, ...(x.framesBytes !== undefined ? { framesBytes: x.framesBytes } : {}) }));
    let result;
    try {
      ({ result } = await verifyPlan(model, m.file, stageOf, boards, predicted, { threads, runs: 2, warmup: 1, pipelineFrames: 0, memory: true }));
    } catch (e) {
      console.error(`${m.name}, ${count} stages: ${e.message}`);
      continue;
    }
    for (const st of result.stages) {
      const nodes = plan[st.index].nodes;
      const params = nodes.reduce((a, n) => a + (costs.get(n)?.paramBytes ?? 0), 0);
      const live = peakLive(graph, new Set(nodes));
      const measured = st.memory.peakBytes;
      const former = nodes.reduce((a, n) => a + (mem.get(n) ?? 0), 0);
      const row = { model: m.name, stages: count, stage: st.index, nodes: nodes.length, plan: st.predictedMemoryBytes, former, params, live: params + live, session: st.memory.sessionBytes, peak: measured };
      rows.push(row);
      console.log(`| ${m.name} | ${count} | ${st.index} | ${nodes.length} | ${MB(row.plan)} | ${MB(former)} | ${MB(params)} | ${MB(row.live)} | ${MB(row.session)} | ${MB(measured)} | ${pct(row.plan / measured - 1)} | ${pct(former / measured - 1)} | ${pct(row.live / measured - 1)} |`);
    }
  }
}

// Summary: how far each predictor is from the measured peak, over every stage.
const within = (key, r) => rows.filter((x) => Math.abs(x[key] / x.peak - 1) <= r).length;
const ratios = (key) => rows.map((x) => x[key] / x.peak).sort((a, b) => a - b);
const q = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
console.log('');
const low = (key) => rows.filter((x) => x[key] / x.peak - 1 < -0.25).length;
for (const [key, label] of [['plan', 'the plan'], ['former', 'the former plan (params + every output)'], ['params', 'params alone'], ['live', 'params + peak live activations in the stage']]) {
  const r = ratios(key);
  console.log(`- ${label}: within 25 % of the measured peak for ${within(key, 0.25)} of ${rows.length} stages, more than 25 % low for ${low(key)}; predicted / measured: min ${q(r, 0).toFixed(2)}, median ${q(r, 0.5).toFixed(2)}, max ${r.at(-1).toFixed(2)}`);
}
// Other factors and constants on the same measurements: the plan's live term recovered from its figure.
const sweep = [];
for (const k of [1, 1.5, 2, 2.5, 3]) {
  for (const c of [0, 1e6, 2e6, 3e6]) {
    let ok = 0;
    let under = 0;
    for (const x of rows) {
      const liveTerm = (x.plan - x.params - STAGE_RUNTIME_BYTES) / ACTIVATION_FACTOR;
      const e = (x.params + k * liveTerm + c) / x.peak - 1;
      if (Math.abs(e) <= 0.25) ok++;
      if (e < -0.25) under++;
    }
    sweep.push(`${k} x live + ${c / 1e6} MB: ${ok} within, ${under} low`);
  }
}
console.log(`- the plan's form with other factors (within 25 % / more than 25 % low, of ${rows.length}): ${sweep.join('; ')}`);
await rm(tmp, { recursive: true, force: true });

/** The most bytes of activations alive at once when a stage's nodes run in graph order (its inputs from the start, its outputs to the end). */
function peakLive(graph, stage) {
  const order = graph.nodes.filter((n) => stage.has(n.name));
  const last = new Map();
  order.forEach((n, i) => { for (const x of n.inputs) if (x) last.set(x, i); });
  const isActivation = (t) => t && !t.isInitializer;
  const alive = new Map();
  // Inputs from outside the stage are alive from the start.
  for (const n of order) for (const x of n.inputs) {
    const t = graph.tensors.get(x);
    if (isActivation(t) && !(t.producer && stage.has(t.producer))) alive.set(x, t.bytes);
  }
  let sum = [...alive.values()].reduce((a, b) => a + b, 0);
  let peak = sum;
  order.forEach((n, i) => {
    for (const o of n.outputs) {
      const t = graph.tensors.get(o);
      if (isActivation(t) && !alive.has(o)) { alive.set(o, t.bytes); sum += t.bytes; }
    }
    peak = Math.max(peak, sum);
    for (const [x, b] of alive) {
      const t = graph.tensors.get(x);
      // A tensor read later in the stage, or read outside it (a stage output), stays.
      const readOutside = t.isGraphOutput || t.consumers.some((c) => !stage.has(c));
      if (!readOutside && (last.get(x) ?? -1) <= i) { alive.delete(x); sum -= b; }
    }
  });
  return peak;
}
