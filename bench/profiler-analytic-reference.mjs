#!/usr/bin/env node
// The analytic roofline for the paper's accelerators (profiles/boards/eyeriss-like.yaml,
// simba-like.yaml) against the reference per-conv latencies simulated with Timeloop
// (packages/cnnparted/data/cnnparted-2024-02/<net>_<acc>_convlayers.csv), joined by ONNX node name.
// Deterministic, no ORT runs. Prints a Markdown table.
//
//   node bench/profiler-analytic-reference.mjs [--reference packages/cnnparted/data/cnnparted-2024-02]
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '@dnnpart/onnx-graph';
import { analyticProfile, calibrateAnalytic, loadBoardDescription } from '@dnnpart/profiler';
import { buildZooModel } from '@dnnpart/zoo';

const root = new URL('../', import.meta.url).pathname;
const { values } = parseArgs({ options: { reference: { type: 'string', default: new URL('../packages/cnnparted/data/cnnparted-2024-02', import.meta.url).pathname } } });
const nets = { alexnet: 'alexnet', efficientnet: 'efficientnet_b0', googlenet: 'googlenet', regnet_x_400mf: 'regnet_x_400mf', resnet50: 'resnet50', squeezenet1_1: 'squeezenet1_1', vgg16: 'vgg16' };
const accs = { eyeriss_like: 'eyeriss-like', simba_like: 'simba-like' };
const pct = (x) => `${(100 * x).toFixed(1)} %`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : NaN;
};

// Reference per-conv latencies as "measured" profiles (only the convolutions: every other op
// costs 0 in the reference model, and calibrateAnalytic counts only the nodes a profile lists).
const graphs = {};
const reference = {};
for (const [refName, zooName] of Object.entries(nets)) {
  graphs[zooName] = await loadModel(buildZooModel(zooName), { name: zooName });
  for (const accFile of Object.keys(accs)) {
    const rows = (await readFile(join(values.reference, `${refName}_${accFile}_convlayers.csv`), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(';'));
    reference[`${zooName}:${accFile}`] = rows.map(([, layer, ms, mj]) => ({ name: layer, ms: Number(ms), mj: Number(mj) }));
  }
}
const fits = {};
for (const [accFile, board] of Object.entries(accs)) {
  const d = await loadBoardDescription(join(root, 'profiles/boards', `${board}.yaml`));
  const pairs = Object.keys(nets).map((r) => nets[r]).map((z) => ({
    graph: graphs[z].graph,
    measured: { nodes: reference[`${z}:${accFile}`].map((r) => ({ name: r.name, latencyMs: { median: r.ms } })) },
  }));
  fits[accFile] = calibrateAnalytic(pairs, d);
  console.log(`${board}: description parameters ${JSON.stringify(d.analytic ? { ...d.analytic, calibration: undefined } : null)}; fitted to all seven networks: ${JSON.stringify(fits[accFile].parameters)} (time-weighted conv error, mean over networks ${pct(fits[accFile].weightedAbsRelError)})`);
}
console.log('');
console.log('| network | accelerator | convs matched | reference conv total ms | analytic conv total ms (description) | total error | per-conv error, median | reference energy mJ | analytic energy mJ |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const zooName of Object.values(nets)) {
  const { graph, sha256 } = graphs[zooName];
  for (const [accFile, board] of Object.entries(accs)) {
    const d = await loadBoardDescription(join(root, 'profiles/boards', `${board}.yaml`));
    const p = analyticProfile(graph, d, { sha256 });
    const byName = new Map(p.nodes.map((n) => [n.name, n]));
    const rows = reference[`${zooName}:${accFile}`];
    let refMs = 0, refMj = 0, anMs = 0, anMj = 0;
    const errs = [];
    let matched = 0;
    for (const { name, ms, mj } of rows) {
      const n = byName.get(name);
      if (!n) continue;
      matched++;
      refMs += ms;
      refMj += mj;
      anMs += n.latencyMs.median;
      anMj += n.energyMj ?? 0;
      errs.push(Math.abs(n.latencyMs.median - ms) / ms);
    }
    console.log(`| ${zooName} | ${board} | ${matched} / ${rows.length} | ${refMs.toFixed(2)} | ${anMs.toFixed(2)} | ${pct((anMs - refMs) / refMs)} | ${pct(median(errs))} | ${refMj.toFixed(2)} | ${anMj.toFixed(2)} |`);
  }
}
