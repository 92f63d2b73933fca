#!/usr/bin/env node
// The newcomer's command on every real exported model (packages/zoo/src/external.ts):
// `dnnpart start --model <file> --input ...` (= `npm start -- --model ...`), the main job on the
// default boards (this machine measured, a Jetson Orin Nano and a Raspberry Pi 5 described,
// Gigabit Ethernet): profile, solve each objective, two exact Pareto fronts, the report. Prints one
// row per model: exit code, wall time, peak memory, the plan per objective, the fronts' sizes, and
// the first error line (anything but exit 0 is a bug to fix). Needs the CLI built.
// Usage: node bench/real-models-start.mjs [--only name,name] [--out dir] [--timeout 900]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { inputArgs, installedExternal } from './_external.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const only = opt('--only', '').split(',').filter(Boolean);
const out = opt('--out', join(tmpdir(), 'dnnpart-real-models-start'));
const timeoutS = Number(opt('--timeout', '900'));
const CLI = new URL('../apps/report/bin/dnnpart.js', import.meta.url).pathname;

console.log(`# dnnpart start --model on the real models: ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, node ${process.version}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`# each: dnnpart start --model <file> --input ... -o ${out}/<model> --json -q (default runs and boards), timeout ${timeoutS} s`);
const header = ['model', 'exporter', 'exit', 'seconds', 'peak RSS MiB', 'layers', 'throughput plan (FPS)', 'latency plan (ms)', 'energy plan (mJ)', 'front points', 'report', 'first error line'];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
let failed = 0;
for (const m of installedExternal(only)) {
  const dir = join(out, m.name);
  mkdirSync(dir, { recursive: true });
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'maxrss=%M', process.execPath, CLI, 'start', '--model', m.file, ...inputArgs(m), '-o', dir, '--json', '-q'], {
    encoding: 'utf8', maxBuffer: 256 << 20, timeout: timeoutS * 1000, killSignal: 'SIGKILL',
  });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const rss = Number(/maxrss=(\d+)/.exec(r.stderr ?? '')?.[1] ?? NaN) / 1024;
  const code = r.status ?? (r.signal ? `killed (${r.signal}, timeout)` : -1);
  if (code !== 0) failed++;
  let data = null;
  try {
    data = JSON.parse(r.stdout);
  } catch {}
  const sys = data?.systems?.[0];
  const objective = (name) => {
    const o = sys?.objectives?.find((x) => x.objective === name);
    if (!o) return '-';
    const fig = { throughput: o.throughputFps, latency: o.latencyMs, energy: o.energyMj }[name];
    return `${o.status}${typeof o.gap === 'number' ? ` (gap ${(o.gap * 100).toFixed(2)} %)` : ''}${typeof fig === 'number' ? ` ${fig.toPrecision(4)}` : ''}${o.stages?.length ? `, ${o.stages.join(' > ')}` : ''}${typeof o.gainOverBestSingleBoard === 'number' ? ` (${o.gainOverBestSingleBoard >= 0 ? '+' : ''}${(o.gainOverBestSingleBoard * 100).toFixed(1)} % on the best board alone)` : ''}`;
  };
  const fronts = Object.entries(sys?.pareto ?? {}).map(([k, f]) => `${k}: ${f.status} ${f.plans}`).join('; ') || '-';
  const err = (r.stderr ?? '').split('\n').find((l) => l.startsWith('dnnpart:') || /Error|at .*\(/.test(l)) ?? '';
  console.log(`| ${m.name} | ${m.exporter} | ${code} | ${s.toFixed(1)} | ${Number.isFinite(rss) ? rss.toFixed(0) : '-'} | ${sys?.nodes ?? '-'} | ${objective('throughput')} | ${objective('latency')} | ${objective('energy')} | ${fronts} | ${existsSync(join(dir, 'report.html')) ? 'yes' : 'no'} | ${err.replace(/\|/g, '\\|').slice(0, 160)} |`);
}
console.log(`# ${failed} failed; load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
process.exitCode = failed > 0 ? 1 : 0;
