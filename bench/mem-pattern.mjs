// onnxruntime's memory pattern (enableMemPattern) on and off: each model's run time and resident
// memory, one session a process, 1 thread, optimised, the two settings alternated `--rounds` times.
// node bench/mem-pattern.mjs [--rounds 2] [--min-ms 1500] [--only a,b]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildZooModel } from '@dnnpart/zoo';
import { installedExternal } from './_external.mjs';

const { values: o } = parseArgs({ options: { rounds: { type: 'string', default: '2' }, 'min-ms': { type: 'string', default: '1500' }, only: { type: 'string' } } });
const dir = mkdtempSync(join(tmpdir(), 'mem-pattern-'));
const models = [];
for (const net of ['resnet18', 'squeezenet1_1', 'efficientnet_b0', 'mobilenet_v2', 'googlenet']) {
  const file = join(dir, `${net}.onnx`);
  writeFileSync(file, buildZooModel(net, { inputShape: [1, 3, 224, 224] }));
  models.push({ name: net, file, spec: { inputs: {} } });
}
for (const m of installedExternal([])) models.push({ name: m.name, file: m.file, spec: { inputs: m.inputs, values: m.values } });
for (const [name, file] of [['isnet-quint8', 'bench/.models/isnet-quint8.onnx']]) {
  if (existsSync(file)) models.push({ name, file, spec: { inputs: { input: [1, 3, 1024, 1024] } } });
}
const only = o.only ? new Set(o.only.split(',')) : null;
const MB = (b) => (b / 2 ** 20).toFixed(1);
console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${new Date().toISOString()}`);
console.log('| model | ms, pattern on | ms, off | time off/on | steady MiB, on | off | memory off/on | peak MiB, on | off |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const m of models) {
  if (only && !only.has(m.name)) continue;
  const r = { on: [], off: [] };
  for (let i = 0; i < Number(o.rounds); i++) {
    for (const p of i % 2 === 0 ? ['on', 'off'] : ['off', 'on']) {
      try {
        const out = execFileSync(process.execPath, ['bench/_mem-pattern-child.mjs', m.file, JSON.stringify(m.spec), p, o['min-ms']], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        r[p].push(JSON.parse(out.trim().split('\n').pop()));
      } catch (e) {
        console.error(`${m.name} (${p}): ${String(e.stderr ?? e.message).split('\n').find((l) => l.trim()) ?? e.message}`);
      }
    }
  }
  if (r.on.length === 0 || r.off.length === 0) continue;
  const med = (xs, k) => { const s = xs.map((x) => x[k]).sort((a, b) => a - b); return s[(s.length - 1) >> 1]; };
  const [tOn, tOff, sOn, sOff, pOn, pOff] = [med(r.on, 'ms'), med(r.off, 'ms'), med(r.on, 'steady'), med(r.off, 'steady'), med(r.on, 'peak'), med(r.off, 'peak')];
  console.log(`| ${m.name} | ${tOn.toFixed(2)} | ${tOff.toFixed(2)} | ${(tOff / tOn).toFixed(3)} | ${MB(sOn)} | ${MB(sOff)} | ${(sOff / sOn).toFixed(2)} | ${MB(pOn)} | ${MB(pOff)} |`);
}
console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${new Date().toISOString()}`);
