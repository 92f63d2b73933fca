#!/usr/bin/env node
// Measured vs predicted: plans on 2 and 3 agents over loopback and over rate-limited network
// namespaces. The prediction comes from profiles and link measurements taken through the same
// agents (the solver's evaluatePlan on a problem built from them); then the plan runs for real.
// Also: how close a large tensor's transfer comes to the link bandwidth the link test measured.
//
//   npm run build && node bench/runtime-pipeline.mjs [--frames 40] [--only loopback|netns] [--rate 100]
//                                                    [--transfer fp32,int8] [--nets squeezenet1_1,resnet18]
// With --transfer, each plan runs once per encoding of the tensors between stages (dnnpart run
// --transfer), predicted with the encoded bytes (a system file's transfer: int8).
//
// Agents are separate processes (packages/runtime/bin/dnnpart-agent.js). For the namespaces
// (root and iproute2 needed), the coordinator runs inside host a's namespace, as on a camera board.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};

if (process.argv[2] === '--coordinator') {
  const result = await coordinate(JSON.parse(readFileSync(process.argv[3], 'utf8')));
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
}

// ---- the driver: networks, agents, and one coordinator process per setting ----
const { createNetwork, netnsSupport } = await import(path.join(ROOT, 'packages/runtime/scripts/netns.mjs'));
const { buildZooModel } = await import('@dnnpart/zoo');
const frames = Number(arg('frames', '40'));
// The namespaces' link rate (Mbit/s).
const rateMbit = Number(arg('rate', '100'));
const only = arg('only', '');
const transfers = arg('transfer', 'fp32').split(',').filter(Boolean);
const dir = mkdtempSync(path.join(tmpdir(), 'dnnpart-bench-runtime-'));
const nets = arg('nets', 'squeezenet1_1,resnet18').split(',').filter(Boolean).map((name) => {
  const file = path.join(dir, `${name}.onnx`);
  writeFileSync(file, buildZooModel(name));
  return { name, file };
});

async function spawnAgent(id, prefix, listen) {
  const argv = [...prefix, process.execPath, path.join(ROOT, 'packages/runtime/bin/dnnpart-agent.js'), '--listen', listen, '--board', id];
  const proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const address = await new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\S+?)[;\s]/.exec(out);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (c) => reject(new Error(`agent ${id} exited (${c}): ${out}`)));
  });
  return { id, proc, endpoint: { id, peer: { address } } };
}

const support = netnsSupport();
const settings = [];
if (only !== 'netns') settings.push({ name: 'loopback', hosts: () => ({ hosts: [0, 1, 2].map(() => ({ prefix: [], listen: '127.0.0.1:0' })), destroy() {} }) });
if (only !== 'loopback') {
  if (support.ok && (support.netem || support.tbf)) {
    settings.push({
      name: support.netem ? `namespaces, ${rateMbit} Mbit/s + 5 ms (netem)` : `namespaces, ${rateMbit} Mbit/s (tbf; this kernel has no netem, so no added delay)`,
      hosts: () => {
        const net = createNetwork(3, { rateMbit, delayMs: 5, netem: support.netem });
        return { hosts: net.hosts.map((h) => ({ prefix: h.prefix, listen: `${h.address}:7070` })), destroy: net.destroy };
      },
    });
  } else console.error(`namespaces skipped: ${support.why || 'no netem or tbf'}`);
}

const load = () => loadavg().map((x) => x.toFixed(2)).join(', ');
console.log(`# dnnpart runtime: measured vs predicted\n\n${new Date().toISOString()}, node ${process.version}, load averages before: ${load()}\n`);
for (const s of settings) {
  const net = s.hosts();
  const agents = [];
  try {
    for (const [i, id] of ['a', 'b', 'c'].entries()) agents.push(await spawnAgent(id, net.hosts[i].prefix, net.hosts[i].listen));
    const job = path.join(dir, 'job.json');
    writeFileSync(job, JSON.stringify({ agents: agents.map((a) => a.endpoint), nets, frames, transfers }));
    const prefix = net.hosts[0].prefix;
    const t0 = Date.now();
    const stdout = execFileSync(prefix[0] ?? process.execPath, [...prefix.slice(1), ...(prefix.length ? [process.execPath] : []), SELF, '--coordinator', job], { maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
    printSetting(s.name, JSON.parse(String(stdout)), (Date.now() - t0) / 1000);
  } finally {
    for (const a of agents) a.proc.kill('SIGKILL');
    net.destroy();
  }
}
console.log(`load averages after: ${load()}`);

function printSetting(name, r, seconds) {
  const f = (x, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
  const pct = (m, p) => (p ? `${((m / p) * 100).toFixed(0)} %` : '—');
  console.log(`## ${name} (${seconds.toFixed(0)} s)\n`);
  console.log('Links measured through the agents (1 KB .. 16 MB, 3 transfers each; time = latency + bytes / bandwidth):\n');
  console.log('| link | latency ms | bandwidth MB/s | 16 MB transfer ms |\n|---|---:|---:|---:|');
  for (const l of r.links) console.log(`| ${l.from} -> ${l.to} | ${f(l.latencyMs, 3)} | ${f(l.bandwidthBytesPerSec / 1e6, 1)} | ${f(l.samples.at(-1).ms, 1)} |`);
  console.log('\nPlans (predicted from those profiles and links; measured: throughput over all frames in flight, latency p50 of frames sent one at a time):\n');
  console.log('| model | plan | FPS predicted | FPS measured | measured / predicted | latency predicted ms | latency measured ms | max abs diff |\n|---|---|---:|---:|---:|---:|---:|---:|');
  for (const p of r.plans) {
    console.log(`| ${p.model} | ${p.plan} | ${f(p.predicted.throughputFps)} | ${f(p.throughput.throughputFps)} | ${pct(p.throughput.throughputFps, p.predicted.throughputFps)} | ${f(p.predicted.latencyMs)} | ${f(p.latency.latencyMs.p50)} | ${p.throughput.maxAbsDiff.toExponential(1)} |`);
  }
  console.log('\nPer stage (frames one at a time): compute and the transfer into it, measured beside predicted; effective bandwidth = bytes / (transfer - link latency):\n');
  console.log('| model | plan | stage | agent | compute ms meas / pred | hop | bytes | transfer ms meas / pred | effective MB/s | of link bandwidth |\n|---|---|---:|---|---|---|---:|---|---:|---:|');
  for (const p of r.plans) {
    for (const st of p.latency.stages) {
      const link = r.links.find((l) => l.from === st.transferIn.from && l.to === st.agent);
      const eff = link && st.transferIn.measuredMs > link.latencyMs ? st.transferIn.bytes / ((st.transferIn.measuredMs - link.latencyMs) / 1000) : null;
      console.log(`| ${p.model} | ${p.plan} | ${st.stage} | ${st.agent} | ${f(st.computeMs.measured)} / ${f(st.computeMs.predicted)} | ${st.transferIn.from} -> ${st.agent} | ${st.transferIn.bytes} | ${f(st.transferIn.measuredMs)} / ${f(st.transferIn.predictedMs)} | ${eff ? f(eff / 1e6, 1) : '—'} | ${eff && link ? pct(eff, link.bandwidthBytesPerSec) : '—'} |`);
    }
  }
  console.log('');
}

// ---- the coordinator (runs where the input frames are) ----
async function coordinate(job) {
  const { loadModel, cutPoints } = await import('@dnnpart/onnx-graph');
  const { measureLinks, profileOnAgents, runPlan } = await import('@dnnpart/runtime');
  const { evaluatePlan } = await import('@dnnpart/solver');
  const agents = job.agents;
  const links = await measureLinks(agents, { repeats: 3 });
  const plans = [];
  for (const net of job.nets) {
    const model = await loadModel(net.file);
    const g = model.graph;
    // One board at a time: profiles taken together would share the cores.
    const profiles = {};
    for (const a of agents) profiles[a.id] = (await profileOnAgents([a], net.file, { runs: 10, warmup: 2, threads: 1 }))[0].profile;
    const problems = Object.fromEntries((job.transfers ?? ['fp32']).map((enc) => [enc, problemOf(g, agents, profiles, links, enc)]));
    const ms = g.nodes.map((n) => problems[Object.keys(problems)[0]].boards[0].latencyMs[n.name] ?? 0);
    const cuts = cutPoints(g).filter((c) => c.tensors.length === 1).map((c) => g.nodes.findIndex((n) => n.name === c.after));
    const specs = net.name === 'resnet18'
      // The first activation: a 3.2 MB tensor, to see a large transfer against the link.
      ? [
          { plan: 'a > b, cut after the first Relu (3.2 MB)', boards: ['a', 'b'], at: [g.nodes.findIndex((n) => n.op === 'Relu')] },
          // Compute on both sides of a hop of a few hundred kB: whether transfers overlap compute.
          { plan: 'a > b, balanced', boards: ['a', 'b'], at: balanced(ms, cuts, 2) },
        ]
      : [
          { plan: 'a > b, balanced', boards: ['a', 'b'], at: balanced(ms, cuts, 2) },
          { plan: 'a > b > c, balanced', boards: ['a', 'b', 'c'], at: balanced(ms, cuts, 3) },
        ];
    for (const spec of specs) {
      for (const [enc, problem] of Object.entries(problems)) {
        const bounds = [-1, ...spec.at, g.nodes.length - 1];
        const stages = spec.boards.map((board, k) => ({ board, nodes: g.nodes.slice(bounds[k] + 1, bounds[k + 1] + 1).map((n) => n.name) }));
        const m = evaluatePlan(problem, stages);
        const plan = { stages: m.stages, transfers: m.transfers, throughputFps: m.throughputFps, latencyMs: m.latencyMs };
        const n = net.name === 'resnet18' ? Math.min(job.frames, 20) : job.frames;
        const throughput = strip(await runPlan({ model, plan, agents, frames: n, threads: 1, transfer: enc }));
        const latency = strip(await runPlan({ model, plan, agents, frames: 10, inFlight: 1, compareFrames: 0, threads: 1, transfer: enc }));
        plans.push({ model: net.name, plan: enc === 'fp32' ? spec.plan : `${spec.plan}, ${enc} between stages`, predicted: { throughputFps: m.throughputFps, latencyMs: m.latencyMs, bottleneck: m.bottleneck }, throughput, latency });
      }
    }
  }
  return { links, plans };
}

function strip(r) {
  const { trace: _t, ...rest } = r;
  return rest;
}

/** Cut positions (node indices to cut after) that balance the per-node times into k stages. */
function balanced(ms, cuts, k) {
  const prefix = [0];
  for (const x of ms) prefix.push(prefix.at(-1) + x);
  const sum = (a, b) => prefix[b + 1] - prefix[a + 1];
  const last = ms.length - 1;
  let best = null;
  const consider = (at) => {
    const bounds = [-1, ...at, last];
    const worst = Math.max(...at.map((_, i) => sum(bounds[i], bounds[i + 1])), sum(bounds.at(-2), last));
    if (!best || worst < best.worst) best = { at, worst };
  };
  if (k === 2) for (const c of cuts) consider([c]);
  else for (const c1 of cuts) for (const c2 of cuts) if (c2 > c1) consider([c1, c2]);
  return best.at;
}

/** The solver's problem from a graph, the agents' profiles and the measured links. */
function problemOf(g, agents, profiles, links, enc = 'fp32') {
  const tensors = [];
  for (const t of g.tensors.values()) {
    if (t.isInitializer || t.consumers.length === 0) continue;
    if (!t.isGraphInput && t.producer === null) continue;
    // Between stages, float32 tensors travel encoded (the coordinator's input does not: stage 0 is on a).
    const bytes = t.dtype !== 'float32' || t.isGraphInput || enc === 'fp32' ? t.bytes : enc === 'fp16' ? t.bytes / 2 : t.bytes / 4 + 5;
    tensors.push({ id: t.name, producer: t.isGraphInput ? null : t.producer, consumers: [...t.consumers], bytes });
  }
  const boards = agents.map((a) => {
    const latencyMs = {};
    for (const n of profiles[a.id].nodes) latencyMs[n.name] = n.latencyMs.median;
    // Nodes the runtime folded away cost nothing there.
    for (const n of g.nodes) latencyMs[n.name] ??= 0;
    return { id: a.id, memoryBytes: null, latencyMs };
  });
  return {
    version: 1, name: 'bench', nodes: g.nodes.map((n) => ({ id: n.name, memoryBytes: 0 })), tensors, boards,
    links: links.map((l) => ({ from: l.from, to: l.to, bandwidthBytesPerSec: l.bandwidthBytesPerSec, latencyMs: l.latencyMs, powerW: 0, framing: 'none' })),
    inputBoard: agents[0].id, objective: 'throughput', boardOrder: 'free',
  };
}
