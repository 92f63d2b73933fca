// Exact Pareto fronts: front size and time for EfficientNet-B0 on 4 synthetic boards and on the
// paper's data (E,S,E,S). Build first: TURBO_TELEMETRY_DISABLED=1 npx turbo run build --filter=@dnnpart/cnnparted...

import os from 'node:os';
import { CNNPARTED_DATA_DIR, importCnnparted } from '@dnnpart/cnnparted';
import { solvePareto } from '@dnnpart/solver';
import { syntheticProblem, zooParts } from './solver-problems.mjs';

const PAIRS = [['throughput', 'latency'], ['throughput', 'energy'], ['latency', 'energy']];
const parts = await zooParts('efficientnet_b0');
const cases = [];
for (const order of ['fixed', 'free']) cases.push({ label: `efficientnet_b0 x4 synthetic`, order, problem: syntheticProblem('efficientnet_b0', parts, 4, 'throughput', order) });
for (const order of ['fixed', 'free']) {
  cases.push({ label: 'paper efficientnet E,S,E,S', order, problem: await importCnnparted(CNNPARTED_DATA_DIR, { net: 'efficientnet', platforms: ['eyeriss_like', 'simba_like', 'eyeriss_like', 'simba_like'], order }) });
}
const rows = [];
for (const c of cases) {
  for (const pair of PAIRS) {
    const res = await solvePareto({ ...c.problem, boardOrder: c.order }, pair, { timeLimitS: 300 });
    const pts = res.front.map((p) => `${p.throughputFps.toFixed(2)}/${p.latencyMs.toFixed(1)}/${p.energyMj.toFixed(1)}`);
    rows.push({ problem: c.label, order: c.order, pair: pair.join(','), status: res.status, points: res.front.length, seconds: (res.solveMs / 1000).toFixed(2), ends: pts.length > 0 ? `${pts[0]} ... ${pts.at(-1)}` : '' });
    process.stderr.write(`${Object.values(rows.at(-1)).join(' | ')}\n`);
  }
}
const cols = Object.keys(rows[0]);
console.log(`Machine: ${os.cpus()[0]?.model ?? 'unknown'} x ${os.cpus().length}, Node ${process.version}; date ${new Date().toISOString()}\n`);
console.log('`ends`: first and last point as FPS/latency ms/energy mJ.\n');
console.log(`| ${cols.join(' | ')} |`);
console.log(`|${cols.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${cols.map((c) => r[c]).join(' | ')} |`);
