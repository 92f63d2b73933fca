// Solver benchmark for wide graphs (issue 9): real exported models (`externalModels()` of @dnnpart/zoo)
// and the zoo's transformers and detectors-like CNNs, on 4 and 8 boards (a homogeneous set of
// Raspberry Pi 5, and a mixed set RPi5 / Jetson Orin Nano / RPi4 / Jetson Nano, repeated for 8), free
// board order, 1000BASE-T between every pair, analytic profiles from profiles/boards/*.yaml. For each:
// the throughput solve and both Pareto fronts (throughput-energy, latency-energy), each with a 10 s
// limit, in a child process with --max-old-space-size=1024: time, status, gap, method, the plan
// against the best baseline, peak RSS. Prints a Markdown table.
// Build first: npx tsc -p <each package>/tsconfig.json (onnx-graph, zoo, profiler, solver, cnnparted, apps/report).
// Usage: node bench/solver-wide.mjs [--time-limit 10] [--models a,b] [--sets rpi5x4,mixed4,rpi5x8,mixed8]
// With --force-coarse N: instead, the throughput plan of the coarsened path forced by maxCutSets N
// against the exact method's optimum (60 s), on graphs the exact method still takes: the true gap.
// With --pareto-only: only the two fronts (no throughput solve), their time, status, whether the time
// limit cut them short, and a table of their own. --fronts-out F.json writes every front's points
// ([a, b] values) for a before/after comparison; --solver P imports the solver from P (a module path,
// e.g. an older build) instead of @dnnpart/solver; --problems-dir D keeps the problem files there, and
// --problems-from D reads them from there instead of building them (the same problems for two builds).
// node bench/solver-wide.mjs --compare-fronts before.json after.json: a Markdown table of the two.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const solverModule = arg('solver', '@dnnpart/solver');
const paretoOnly = process.argv.includes('--pareto-only');

if (process.argv[2] === '--compare-fronts') {
  // Two --fronts-out files (before, after) of the same problems: times, statuses, points; a front exact
  // before must be exact and identical after; unproven fronts compared point by point (dominance).
  const [bf, af] = process.argv.slice(3, 5).map((f) => JSON.parse(readFileSync(f, 'utf8')));
  const key = (r) => `${r.model} ${r.set}`;
  const after = new Map(af.rows.map((r) => [key(r), r]));
  const close = (x, y) => Math.abs(x - y) <= 1e-6 * Math.max(1, Math.abs(x), Math.abs(y));
  const dominatesOrEq = (p, q) => p[0] <= q[0] * (1 + 1e-9) && p[1] <= q[1] * (1 + 1e-9);
  const lines = [];
  let maxB = 0, maxA = 0;
  for (const b of bf.rows) {
    const a = after.get(key(b));
    if (!a || b.error || a.error) { lines.push(`| ${b.model} | ${b.set} | error ${b.error ?? ''} ${a?.error ?? ''} |`); continue; }
    const cells = [];
    for (const pair of ['throughput-energy', 'latency-energy']) {
      const x = b[pair], y = a[pair];
      maxB = Math.max(maxB, x.s); maxA = Math.max(maxA, y.s);
      let cmp;
      if (x.status === 'optimal') {
        const same = y.status === 'optimal' && x.pts.length === y.pts.length && x.pts.every((p, i) => close(p[0], y.pts[i][0]) && close(p[1], y.pts[i][1]));
        cmp = same ? 'identical (exact)' : `**DIFFERS** (${y.status} ${y.pts.length})`;
      } else {
        // Unproven before: how many of the before points does the after front match or dominate, and vice versa.
        const covB = x.pts.filter((p) => y.pts.some((q) => dominatesOrEq(q, p))).length;
        const covA = y.pts.filter((q) => x.pts.some((p) => dominatesOrEq(p, q))).length;
        // "covers": a point of one front equals or dominates the other's point.
      cmp = `after covers ${covB}/${x.pts.length} before, before covers ${covA}/${y.pts.length} after${y.status === 'optimal' ? '; now exact' : ''}`;
      }
      cells.push(`${x.s.toFixed(2)} -> ${y.s.toFixed(2)} | ${x.status} ${x.points} -> ${y.status} ${y.points}${y.timeLimited ? ' (time-limited)' : ''} | ${cmp}`);
    }
    lines.push(`| ${b.model} | ${b.set} | ${cells.join(' | ')} |`);
  }
  console.log(`before: ${bf.date}, load ${bf.loadBefore} -> ${bf.loadAfter}; after: ${af.date}, load ${af.loadBefore} -> ${af.loadAfter}; time limit ${bf.timeLimitS} / ${af.timeLimitS} s\n`);
  console.log('| model | boards | thr-energy s before -> after | status, points | points compared | lat-energy s before -> after | status, points | points compared |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const l of lines) console.log(l);
  console.log(`\nlongest front: before ${maxB.toFixed(2)} s, after ${maxA.toFixed(2)} s`);
  process.exit(0);
}

if (process.argv[2] === '--compare') {
  const { solve, objectiveValue } = await import(solverModule);
  const problem = JSON.parse(readFileSync(process.argv[3], 'utf8'));
  const t0 = performance.now();
  const coarse = await solve(problem, { objective: 'throughput', timeLimitS: Number(process.argv[4]), maxCutSets: Number(process.argv[5]) });
  const t1 = performance.now();
  const exact = await solve(problem, { objective: 'throughput', timeLimitS: 60 });
  const v = (p) => objectiveValue(p, 'throughput');
  process.stdout.write(JSON.stringify({
    coarse: { s: (t1 - t0) / 1000, status: coarse.status, method: coarse.method, fps: coarse.throughputFps, gap: coarse.gap, boundFps: 1000 / coarse.lowerBound, clusters: coarse.reduction?.coarseNodes },
    exact: { s: (performance.now() - t1) / 1000, status: exact.status, method: exact.method, fps: exact.throughputFps, cutSets: exact.reduction?.cutSets },
    trueGap: (v(coarse) - v(exact)) / v(coarse),
  }));
  process.exit(0);
}

if (process.argv[2] === '--child') {
  // One problem: throughput, then the two fronts; peak RSS sampled every 50 ms.
  const { solve, solvePareto, objectiveValue } = await import(process.argv[5] ?? '@dnnpart/solver');
  const problem = JSON.parse(readFileSync(process.argv[3], 'utf8'));
  const timeLimitS = Number(process.argv[4]);
  const onlyFronts = process.argv[6] === 'pareto-only';
  let peak = 0;
  const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
  const timer = setInterval(sample, 50);
  const out = {};
  const t0 = performance.now();
  const plan = onlyFronts ? undefined : await solve(problem, { objective: 'throughput', timeLimitS });
  if (plan !== undefined) {
    const bestBase = plan.baselines.filter((b) => b.meetsConstraints !== false).sort((a, b) => b.throughputFps - a.throughputFps)[0];
    out.throughput = {
      s: (performance.now() - t0) / 1000, status: plan.status, method: plan.method, gap: plan.gap, fps: plan.throughputFps,
      boundFps: plan.lowerBound > 0 ? 1000 / plan.lowerBound : undefined, stages: plan.stages?.length,
      base: bestBase?.name, baseFps: bestBase?.throughputFps, cutSets: plan.reduction?.cutSets, budget: plan.reduction?.cutSetBudget,
      coarse: plan.reduction?.coarseNodes, nodes: plan.reduction?.nodes, merged: plan.reduction?.mergedNodes,
    };
  }
  for (const pair of [['throughput', 'energy'], ['latency', 'energy']]) {
    const t1 = performance.now();
    const res = await solvePareto(problem, pair, { timeLimitS });
    out[pair.join('-')] = {
      s: (performance.now() - t1) / 1000, status: res.status, points: res.front.length, methods: [...new Set(res.front.map((p) => p.method))].join('/'),
      timeLimited: res.timeLimited === true, pts: res.front.map((p) => pair.map((o) => objectiveValue(p, o))),
    };
  }
  sample();
  clearInterval(timer);
  out.peakMiB = peak / 2 ** 20;
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
}

const timeLimitS = Number(arg('time-limit', '10'));
const root = fileURLToPath(new URL('..', import.meta.url));
const { parseSystem, resolveSystem, buildProblem } = await import('@dnnpart/report');
const { externalModels } = await import('@dnnpart/zoo');

const SETS = {
  rpi5x4: ['raspberry-pi-5', 'raspberry-pi-5', 'raspberry-pi-5', 'raspberry-pi-5'],
  mixed4: ['raspberry-pi-5', 'jetson-orin-nano', 'raspberry-pi-4', 'jetson-nano'],
  rpi5x8: Array(8).fill('raspberry-pi-5'),
  mixed8: [...Array(2)].flatMap(() => ['raspberry-pi-5', 'jetson-orin-nano', 'raspberry-pi-4', 'jetson-nano']),
  rpi5x16: Array(16).fill('raspberry-pi-5'),
};
const sets = arg('sets', 'rpi5x4,mixed4,rpi5x8,mixed8').split(',');
const shape = (dims) => (dims.length === 0 ? 'scalar' : dims.join('x'));
const models = [
  ...externalModels().filter((m) => m.available && m.name !== 'silero-vad-op15' && m.name !== 'silero-vad-op18').map((m) => ({
    // A fixed value where the model needs one (the merged decoder's use_cache_branch), as `shape:value`.
    name: m.name, model: { file: m.file, input: Object.fromEntries(Object.entries(m.inputs).filter(([, d]) => d.length > 0).map(([k, d]) => [k, `${shape(d)}${m.values?.[k] ? `:${m.values[k].join(',')}` : ''}`])) },
  })),
  { name: 'vit_b_16', model: { zoo: 'vit_b_16' } },
  { name: 'bert_base', model: { zoo: 'bert_base' } },
  { name: 'minilm_l6', model: { zoo: 'minilm_l6' } },
  { name: 'googlenet', model: { zoo: 'googlenet' } },
  { name: 'yolov8n', model: { zoo: 'yolov8n' } },
  { name: 'yolo11n', model: { zoo: 'yolo11n' } },
];
const wanted = arg('models', models.map((m) => m.name).join(',')).split(',');
const work = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-bench-wide-'));
const yamlOf = (m, set) => {
  const lines = ['version: 1', `name: ${m.name}-${set}`, 'model:'];
  if (m.model.zoo) lines.push(`  zoo: ${m.model.zoo}`);
  else {
    lines.push(`  file: ${m.model.file}`);
    // Quoted: names with dots and values such as `1:1` stay strings.
    if (Object.keys(m.model.input).length > 0) lines.push(`  input: { ${Object.entries(m.model.input).map(([k, v]) => `'${k}': '${v}'`).join(', ')} }`);
  }
  lines.push('boards:');
  SETS[set].forEach((d, i) => lines.push(`  - id: ${d.replace(/-/g, '')}-${i}`, `    describe: ${d}`));
  lines.push('network: ethernet-1000base-t', 'objective: throughput', 'boardOrder: free');
  return `${lines.join('\n')}\n`;
};

const rows = [];
const uptime = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const loadBefore = uptime();
for (const m of models.filter((x) => wanted.includes(x.name))) {
  for (const set of sets) {
    const file = path.join(work, `${m.name}-${set}.yaml`);
    writeFileSync(file, yamlOf(m, set));
    let problemFile = arg('problems-from', undefined) === undefined ? undefined : path.join(arg('problems-from'), `${m.name}-${set}.problem.json`);
    if (problemFile === undefined) try {
      const spec = parseSystem(readFileSync(file, 'utf8'), file);
      const resolved = await resolveSystem(spec, { workDir: path.join(work, 'w') });
      const { problem } = buildProblem(resolved);
      problemFile = path.join(arg('problems-dir', work), `${m.name}-${set}.problem.json`);
      mkdirSync(path.dirname(problemFile), { recursive: true });
      writeFileSync(problemFile, JSON.stringify(problem));
    } catch (e) {
      rows.push({ model: m.name, set, error: `${e.code ?? 'error'}: ${String(e.message).slice(0, 120)}` });
      process.stderr.write(`${m.name} ${set}: ${e.message}\n`);
      continue;
    }
    const force = arg('force-coarse', undefined);
    const mode = force === undefined ? ['--child', problemFile, String(timeLimitS), solverModule, paretoOnly ? 'pareto-only' : 'all'] : ['--compare', problemFile, String(timeLimitS), force];
    const child = spawn('/usr/bin/time', ['-f', 'maxrss=%M', process.execPath, '--max-old-space-size=1024', self, ...mode], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((resolve) => child.on('close', resolve));
    const rss = /maxrss=(\d+)/.exec(stderr);
    if (code !== 0) {
      rows.push({ model: m.name, set, error: `exit ${code}: ${stderr.split('\n').filter((l) => l && !l.startsWith('maxrss')).slice(-2).join(' ').slice(0, 160)}` });
    } else {
      rows.push({ model: m.name, set, ...JSON.parse(stdout), maxRssMiB: rss ? Number(rss[1]) / 1024 : undefined });
    }
    process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`);
  }
}
const loadAfter = uptime();
rmSync(work, { recursive: true, force: true });
const frontsOut = arg('fronts-out', undefined);
if (frontsOut !== undefined) {
  writeFileSync(frontsOut, `${JSON.stringify({ date: new Date().toISOString(), timeLimitS, solver: solverModule, loadBefore, loadAfter, rows }, null, 1)}\n`);
}

if (arg('force-coarse', undefined) !== undefined) {
  const f2 = (x, d = 2) => (x === undefined || x === null || Number.isNaN(x) ? '' : Number(x).toFixed(d));
  console.log(`Machine: ${os.cpus()[0]?.model ?? 'unknown'} x ${os.cpus().length}; Node ${process.version}; ${new Date().toISOString()}; coarsened path: --time-limit ${timeLimitS}, maxCutSets ${arg('force-coarse')}; exact: 60 s; load average before ${loadBefore}, after ${loadAfter}\n`);
  console.log('| model | boards | exact cut sets | exact status | exact FPS | exact s | coarse clusters | coarse method | coarse status | coarse FPS | coarse s | reported gap | true gap |');
  console.log('|---|---|---:|---|---:|---:|---:|---|---|---:|---:|---:|---:|');
  for (const r of rows) {
    if (r.error) { console.log(`| ${r.model} | ${r.set} | ${r.error.replace(/\|/g, '/')} |||||||||||`); continue; }
    console.log(`| ${r.model} | ${r.set} | ${r.exact.cutSets} | ${r.exact.status} ${r.exact.method} | ${f2(r.exact.fps)} | ${f2(r.exact.s)} | ${r.coarse.clusters} | ${r.coarse.method} | ${r.coarse.status} | ${f2(r.coarse.fps)} | ${f2(r.coarse.s)} | ${r.coarse.gap === undefined ? '0' : f2(r.coarse.gap * 100)} % | ${f2(r.trueGap * 100)} % |`);
  }
  process.exit(0);
}
const f = (x, d = 2) => (x === undefined || x === null || Number.isNaN(x) ? '' : Number(x).toFixed(d));
if (paretoOnly) {
  console.log(`Machine: ${os.cpus()[0]?.model ?? 'unknown'} x ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; solver ${solverModule}`);
  console.log(`Date: ${new Date().toISOString()}; time limit ${timeLimitS} s per front; load average (1/5/15 min) before ${loadBefore}, after ${loadAfter}\n`);
  console.log('| model | boards | thr-energy s | status | pts | time-limited | lat-energy s | status | pts | time-limited | peak RSS MiB |');
  console.log('|---|---|---:|---|---:|---|---:|---|---:|---|---:|');
  for (const r of rows) {
    if (r.error) { console.log(`| ${r.model} | ${r.set} | ${r.error.replace(/\|/g, '/')} |||||||||`); continue; }
    const fr = (x) => `${f(x.s)} | ${x.status} | ${x.points} | ${x.timeLimited ? 'yes' : ''}`;
    console.log(`| ${r.model} | ${r.set} | ${fr(r['throughput-energy'])} | ${fr(r['latency-energy'])} | ${f(Math.max(r.peakMiB, r.maxRssMiB ?? 0), 0)} |`);
  }
  process.exit(0);
}
console.log(`Machine: ${os.cpus()[0]?.model ?? 'unknown'} x ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`);
console.log(`Date: ${new Date().toISOString()}; time limit ${timeLimitS} s per solve / front; load average (1/5/15 min) before ${loadBefore}, after ${loadAfter}\n`);
console.log('| model | boards | nodes (merged) | cut sets | method | status | gap | s | FPS | bound FPS | best baseline | baseline FPS | stages | thr-energy front | lat-energy front | peak RSS MiB |');
console.log('|---|---|---:|---:|---|---|---:|---:|---:|---:|---|---:|---:|---|---|---:|');
for (const r of rows) {
  if (r.error) { console.log(`| ${r.model} | ${r.set} | | | | ${r.error.replace(/\|/g, '/')} | | | | | | | | | | |`); continue; }
  const t = r.throughput;
  const cut = t.budget !== undefined ? `> ${t.budget} (coarse ${t.coarse} nodes)` : String(t.cutSets);
  const fr = (x) => `${x.status} ${x.points} pts ${f(x.s, 1)} s ${x.methods}`;
  console.log(`| ${r.model} | ${r.set} | ${t.nodes} (${t.merged ?? 0}) | ${cut} | ${t.method} | ${t.status} | ${t.gap === undefined ? '' : `${f(t.gap * 100)} %`} | ${f(t.s)} | ${f(t.fps)} | ${f(t.boundFps)} | ${t.base} | ${f(t.baseFps)} | ${t.stages} | ${fr(r['throughput-energy'])} | ${fr(r['latency-energy'])} | ${f(Math.max(r.peakMiB, r.maxRssMiB ?? 0), 0)} |`);
}
