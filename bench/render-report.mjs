// Benchmark: renderReport (report.html, report.md, plans.csv, plans.json) on report data of
// growing size, from the hand-written 30-layer fixture up to seven 241-layer systems on four
// boards (the size of the paper's seven networks). Not a test; prints a Markdown table.
// Usage: npm run build && node bench/render-report.mjs
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { renderReport } = await import(path.join(root, 'apps/report/dist/render/index.js'));
const fixture = JSON.parse(readFileSync(path.join(root, 'apps/report/test/fixtures/render/report-data.json'), 'utf8'));

// A deterministic pseudo-random generator, so every run renders the same data.
function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

// A chain of n layers on `boards` boards with plausible costs; plans are contiguous splits
// evaluated with the issue 4 cost model (no solver involved: this measures rendering only).
function syntheticSystem(name, n, boardCount, frontSize, seed) {
  const r = rng(seed);
  const boards = Array.from({ length: boardCount }, (_, i) => ({
    id: ['eyeriss_like', 'simba_like', 'jetson_orin_nano', 'rpi5', 'npu_stick', 'coral', 'hailo8', 'x86'][i],
    source: i % 2 === 0 ? 'imported' : 'measured', memoryBytes: i === 3 ? 8e6 : null, createdAt: '2026-11-20T09:00:00Z',
  }));
  const speed = boards.map(() => 0.5 + r() * 2);
  const layers = Array.from({ length: n }, (_, i) => {
    const macs = r() < 0.4 ? 0 : Math.round(1e6 + r() * 5e7);
    return {
      name: `/features/features.${Math.floor(i / 8)}/block.${i % 8}/Conv`, op: macs > 0 ? 'Conv' : 'Relu', macs, paramBytes: Math.round(macs / 50),
      latencyMs: Object.fromEntries(boards.map((b, k) => [b.id, macs > 0 ? macs / 1e6 / speed[k] : 0])),
    };
  });
  const bytes = layers.map(() => Math.round(5e3 + r() * 8e5));
  const links = boards.flatMap((a) => boards.filter((b) => b !== a).map((b) => ({ from: a.id, to: b.id, bandwidthBytesPerSec: 125e6, latencyMs: 0.05, powerW: 0.6, framing: 'ethernet' })));
  const tms = (b) => 0.05 + ((Math.max(b, 46) + Math.ceil(b / 1500) * 26) / 125e6) * 1000;
  const evaluate = (ids, cuts) => {
    const bounds = [-1, ...cuts, n - 1];
    const stages = ids.map((id, s) => {
      const ls = layers.slice(bounds[s] + 1, bounds[s + 1] + 1);
      const ms = ls.reduce((a, l) => a + l.latencyMs[id], 0);
      return { board: id, nodes: ls.map((l) => l.name), computeMs: ms, energyMj: ms * 3, memoryBytes: ls.reduce((a, l) => a + l.paramBytes, 0) };
    });
    const transfers = cuts.map((c, s) => ({ from: ids[s], to: ids[s + 1], bytes: bytes[c], ms: tms(bytes[c]), energyMj: 0.6 * tms(bytes[c]), tensors: ['t'] }));
    const parts = [...stages.map((s) => [s.board, s.computeMs]), ...transfers.map((t) => [`${t.from}->${t.to}`, t.ms])];
    const worst = parts.reduce((a, p) => (p[1] > a[1] ? p : a));
    return {
      throughputFps: 1000 / worst[1], latencyMs: parts.reduce((a, p) => a + p[1], 0),
      energyMj: stages.reduce((a, s) => a + s.energyMj, 0) + transfers.reduce((a, t) => a + t.energyMj, 0),
      stages, transfers, bottleneck: worst[0],
    };
  };
  const ids = boards.map((b) => b.id);
  const baselines = [
    ...ids.map((id) => ({ name: `single:${id}`, kind: 'single-board', ...evaluate([id], []) })),
    { name: `split:${ids[0]}->${ids[1]}`, kind: 'best-single-split', ...evaluate(ids.slice(0, 2), [Math.floor(n / 2)]) },
    { name: 'even-macs', kind: 'even-split-macs', ...evaluate(ids, ids.slice(1).map((_, k) => Math.floor(((k + 1) * n) / ids.length))) },
  ];
  const plan = (objective, cuts) => ({ status: 'optimal', objective, solveMs: 100 + r() * 900, ...evaluate(ids, cuts), baselines });
  const cutsAt = (f) => ids.slice(1).map((_, k) => Math.min(n - 2, Math.floor(((k + 1) * n * f) / ids.length)));
  const front = (objectives) => ({
    status: 'optimal', objectives, solveMs: 2000,
    front: Array.from({ length: frontSize }, (_, i) => plan(objectives[0], cutsAt(0.6 + (0.8 * i) / frontSize))),
  });
  return {
    name, model: { name, layers: n, params: layers.reduce((a, l) => a + l.paramBytes / 4, 0), macs: layers.reduce((a, l) => a + l.macs, 0) },
    boards, links, inputBoard: ids[0], boardOrder: 'fixed', constraints: {}, objective: 'throughput',
    layers, cuts: layers.slice(0, -1).map((l, i) => ({ after: l.name, bytes: bytes[i], tensors: 1 })),
    plans: { throughput: plan('throughput', cutsAt(1)), latency: plan('latency', cutsAt(0.7)), energy: plan('energy', cutsAt(0.9)) },
    pareto: { 'throughput,energy': front(['throughput', 'energy']), 'latency,energy': front(['latency', 'energy']) },
  };
}

const cases = [
  ['fixture: 2 systems, 30 layers, 3 boards', fixture],
  ['1 system, 241 layers, 2 boards', { ...fixture, systems: [syntheticSystem('efficientnet', 241, 2, 12, 1)] }],
  ['1 system, 600 layers, 8 boards', { ...fixture, systems: [syntheticSystem('big', 600, 8, 30, 2)] }],
  ['7 systems, 241 layers, 4 boards', { ...fixture, systems: Array.from({ length: 7 }, (_, i) => syntheticSystem(`net${i + 1}`, 241, 4, 15, 10 + i)) }],
];

console.log(`| data | render (ms, median of 3) | report.html | report.md | plans.csv | rows |`);
console.log(`|---|---:|---:|---:|---:|---:|`);
for (const [label, data] of cases) {
  const times = [];
  let sizes;
  for (let i = 0; i < 3; i++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-bench-render-'));
    const t0 = performance.now();
    const { files } = await renderReport(data, dir);
    times.push(performance.now() - t0);
    sizes = files.map((f) => statSync(f).size);
    const rows = JSON.parse(readFileSync(path.join(dir, 'plans.json'), 'utf8')).rows.length;
    sizes.push(rows);
    rmSync(dir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  const kb = (b) => `${(b / 1000).toFixed(0)} kB`;
  console.log(`| ${label} | ${times[1].toFixed(0)} | ${kb(sizes[0])} | ${kb(sizes[1])} | ${kb(sizes[2])} | ${sizes[4]} |`);
}
