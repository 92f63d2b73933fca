#!/usr/bin/env node
// Calibrates the roofline of profiles/boards/<board>.yaml against the committed measured profiles
// (profiles/measured/<board>/<net>.t<threads>.profile.json) and reports its error per network,
// in-sample (fitted on all networks) and held out (fitted on the other networks only).
// Deterministic given the committed profiles; no ORT runs. `--per-op` fits the per-op roofline
// (calibrateAnalyticPerOp: the efficiencies, then one multiplier per op class), as the description's
// opEfficiency block has it.
//
//   node bench/profiler-analytic-calibration.mjs [--board ci-x86-2core] [--threads 2] [--per-op]
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '@dnnpart/onnx-graph';
import { analyticProfile, assertProfileMatchesModel, calibrateAnalytic, calibrateAnalyticPerOp, compareProfiles, loadBoardDescription, readProfile } from '@dnnpart/profiler';
import { buildZooModel } from '@dnnpart/zoo';

const root = new URL('../', import.meta.url).pathname;
const { values } = parseArgs({ options: { board: { type: 'string', default: 'ci-x86-2core' }, threads: { type: 'string', default: '2' }, 'per-op': { type: 'boolean', default: false } } });
const fit = values['per-op'] ? calibrateAnalyticPerOp : calibrateAnalytic;
const description = await loadBoardDescription(join(root, 'profiles/boards', `${values.board}.yaml`));
const dir = join(root, 'profiles/measured', values.board);
const suffix = `.t${values.threads}.profile.json`;
const pct = (x) => `${(100 * x).toFixed(1)} %`;

const pairs = [];
for (const file of (await readdir(dir)).filter((f) => f.endsWith(suffix)).sort()) {
  const net = file.slice(0, -suffix.length);
  const measured = await readProfile(join(dir, file));
  const { graph, sha256 } = await loadModel(buildZooModel(net), { name: net });
  assertProfileMatchesModel(measured, sha256, net);
  pairs.push({ net, graph, sha256, measured });
}

const all = fit(pairs, description, 'fp32');
console.log(`${values.board}, ${values.threads} thread(s), ${pairs.length} networks; fitted on all: ${JSON.stringify(all.parameters)} (time-weighted node error, mean over networks ${pct(all.weightedAbsRelError)})\n`);
console.log('| network | measured node-median sum ms | analytic ms (fit on all) | error | analytic ms (fit on the others) | held-out error | held-out node error, time-weighted |');
console.log('|---|---|---|---|---|---|---|');
for (const p of pairs) {
  const sum = p.measured.nodes.reduce((s, n) => s + n.latencyMs.median, 0);
  const inSample = compareProfiles(analyticProfile(p.graph, description, { sha256: p.sha256, precision: 'fp32', parameters: all.parameters }), p.measured);
  const others = fit(pairs.filter((q) => q !== p), description, 'fp32');
  const heldOut = analyticProfile(p.graph, description, { sha256: p.sha256, precision: 'fp32', parameters: others.parameters });
  const c = compareProfiles(heldOut, p.measured);
  console.log(`| ${p.net} | ${sum.toFixed(2)} | ${(sum * (1 + inSample.nodeSumRelError)).toFixed(2)} | ${pct(inSample.nodeSumRelError)} | ${heldOut.endToEnd.medianMs.toFixed(2)} | ${pct(c.nodeSumRelError)} | ${pct(c.weightedAbsRelError)} |`);
}
