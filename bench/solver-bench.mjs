// Solver benchmark: zoo networks (and the paper's imported data) x 2, 4 and 8 boards x each objective,
// both board orders. Prints a Markdown table: status, value, gap, solve time, size before and after reduction.
// Build first: TURBO_TELEMETRY_DISABLED=1 npx turbo run build --filter=@dnnpart/cnnparted...
// Usage: node bench/solver-bench.mjs [--time-limit 30] [--nets efficientnet_b0,resnet50] [--boards 2,4,8]

import os from 'node:os';
import { CNNPARTED_DATA_DIR, importCnnparted } from '@dnnpart/cnnparted';
import { solve } from '@dnnpart/solver';
import { zooNames } from '@dnnpart/zoo';
import { syntheticProblem, zooParts } from './solver-problems.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const timeLimitS = Number(arg('time-limit', '30'));
const nets = arg('nets', zooNames.join(',')).split(',');
const counts = arg('boards', '2,4,8').split(',').map(Number);
const orders = arg('orders', 'fixed,free').split(',');
const objectives = ['throughput', 'latency', 'energy'];
const withPaper = arg('paper', 'yes') === 'yes';

const value = (p, o) => (p.throughputFps === undefined ? '' : o === 'throughput' ? `${p.throughputFps.toFixed(3)} FPS` : o === 'latency' ? `${p.latencyMs.toFixed(3)} ms` : `${p.energyMj.toFixed(3)} mJ`);
const rows = [];
async function run(label, problem, count, order, objective) {
  let plan;
  try {
    plan = await solve({ ...problem, boardOrder: order }, { objective, timeLimitS });
  } catch (e) {
    if (e?.code === undefined) throw e;
    plan = { status: e.code, solveMs: 0 };
  }
  const r = plan.reduction ?? {};
  const row = {
    network: label, nodes: problem.nodes.length, boards: count, order, objective, status: plan.status,
    merged: r.mergedNodes ?? 0, value: value(plan, objective), stages: plan.stages?.length ?? '', gap: plan.gap === undefined ? '' : Number.isNaN(plan.gap) ? 'n/a' : `${(plan.gap * 100).toFixed(2)} %`,
    seconds: (plan.solveMs / 1000).toFixed(2), proof: r.proof ?? '', cutSets: r.cutSets ?? '', candidates: r.cutCandidates ?? '', blocks: r.blocks ?? '', binaries: r.binaries ?? '', rows: r.rows ?? '',
  };
  rows.push(row);
  process.stderr.write(`${Object.values(row).join(' | ')}\n`);
}

for (const name of nets) {
  const parts = await zooParts(name);
  for (const count of counts) for (const order of orders) for (const objective of objectives) {
    await run(name, syntheticProblem(name, parts, count, objective, order), count, order, objective);
  }
}
if (withPaper) {
  const dir = CNNPARTED_DATA_DIR;
  const sets = { 2: ['eyeriss_like', 'simba_like'], 4: ['eyeriss_like', 'simba_like', 'eyeriss_like', 'simba_like'], 8: Array(4).fill(['eyeriss_like', 'simba_like']).flat() };
  for (const count of counts) for (const order of orders) for (const objective of objectives) {
    const p = await importCnnparted(dir, { net: 'efficientnet', platforms: sets[count], order, objective });
    await run('paper efficientnet', p, count, order, objective);
  }
}

const cols = Object.keys(rows[0]);
console.log(`Machine: ${os.cpus()[0]?.model ?? 'unknown'} x ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`);
console.log(`Date: ${new Date().toISOString()}; time limit ${timeLimitS} s per solve; engine GLPK (glpk.js 5)\n`);
console.log(`| ${cols.join(' | ')} |`);
console.log(`|${cols.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${cols.map((c) => r[c]).join(' | ')} |`);
