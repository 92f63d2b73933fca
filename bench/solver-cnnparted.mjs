// Exact optima on the paper's data (itiv-kit/cnn-parted results): all seven networks, the paper's two
// platforms (fixed order, its own search space) and 3 and 4 platforms in fixed and free order, every objective.
// Build first: TURBO_TELEMETRY_DISABLED=1 npx turbo run build --filter=@dnnpart/cnnparted...
// Usage: node bench/solver-cnnparted.mjs [--time-limit 60]

import os from 'node:os';
import { CNNPARTED_DATA_DIR, CNNPARTED_NETWORKS, importCnnparted, readCnnpartedResults } from '@dnnpart/cnnparted';
import { solve } from '@dnnpart/solver';

const DIR = CNNPARTED_DATA_DIR;
const i = process.argv.indexOf('--time-limit');
const timeLimitS = i >= 0 ? Number(process.argv[i + 1]) : 60;
const E = 'eyeriss_like';
const S = 'simba_like';
const SETS = [
  { platforms: [E, S], orders: ['fixed'] },
  { platforms: [E, S, E], orders: ['fixed', 'free'] },
  { platforms: [E, S, E, S], orders: ['fixed', 'free'] },
];
const OBJECTIVES = ['throughput', 'latency', 'energy'];
const short = (id) => id.replace('eyeriss_like', 'E').replace('simba_like', 'S');

const rows = [];
for (const net of Object.keys(CNNPARTED_NETWORKS)) {
  const paper = readCnnpartedResults(DIR, net);
  const paperBest = {
    throughput: Math.max(...paper.map((r) => r.throughputFps)),
    latency: Math.min(...paper.map((r) => r.latencyMs)),
    energy: Math.min(...paper.map((r) => r.energyMj)),
  };
  for (const set of SETS) {
    for (const order of set.orders) {
      for (const objective of OBJECTIVES) {
        const problem = await importCnnparted(DIR, { net, platforms: set.platforms, order, objective });
        const plan = await solve(problem, { timeLimitS });
        const simba = plan.baselines.find((b) => b.name === `single:${S}`);
        rows.push({
          network: net,
          platforms: set.platforms.map(short).join(','),
          order,
          objective,
          status: plan.status,
          fps: plan.throughputFps?.toFixed(3) ?? '',
          latencyMs: plan.latencyMs?.toFixed(3) ?? '',
          energyMj: plan.energyMj?.toFixed(3) ?? '',
          plan: plan.stages?.map((s) => `${short(s.board)}:${s.nodes.length}`).join(' ') ?? plan.reason ?? '',
          paperBest: set.platforms.length === 2 ? (objective === 'throughput' ? paperBest.throughput.toFixed(3) : objective === 'latency' ? paperBest.latency.toFixed(3) : paperBest.energy.toFixed(3)) : '',
          allOnSimbaFps: simba?.throughputFps.toFixed(3) ?? '',
          seconds: (plan.solveMs / 1000).toFixed(2),
          proof: plan.reduction?.proof ?? '',
          candidates: plan.reduction ? `${plan.reduction.cutCandidates}/${plan.reduction.cutSets}` : '',
        });
        process.stderr.write(`${Object.values(rows.at(-1)).join(' | ')}\n`);
      }
    }
  }
}
const cols = Object.keys(rows[0]);
console.log(`Machine: ${os.cpus()[0]?.model ?? 'unknown'} x ${os.cpus().length}, Node ${process.version}; date ${new Date().toISOString()}; time limit ${timeLimitS} s per solve\n`);
console.log(`| ${cols.join(' | ')} |`);
console.log(`|${cols.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${cols.map((c) => r[c]).join(' | ')} |`);
