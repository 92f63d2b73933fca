// Benchmark: the main job (`npm start` = `dnnpart start`) end to end in a fresh process: when
// each phase began (from its progress lines), the total, and the process's peak memory.
// Not a test; prints a Markdown table. Usage: npm run build && node bench/start-job.mjs [start options...]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-bench-start-'));
const args = [path.join(root, 'apps/report/bin/dnnpart.js'), 'start', '-o', out, ...process.argv.slice(2)];

const t0 = performance.now();
const phases = [];
// GNU time reports the child's peak RSS; the job's own progress lines give the phases.
const child = spawn('/usr/bin/time', ['-f', 'maxrss=%M', process.execPath, ...args], { cwd: root });
let stdout = '';
let buffer = '';
child.stdout.on('data', (d) => (stdout += d));
child.stderr.on('data', (d) => {
  buffer += String(d);
  let i;
  while ((i = buffer.indexOf('\n')) >= 0) {
    const line = buffer.slice(0, i).replace(/.*\r\x1b\[2K/, '');
    buffer = buffer.slice(i + 1);
    if (/^(exporting|loading|profiling|profile of|estimating|reading|solving|solved|rendering|system)/.test(line)) phases.push({ at: performance.now() - t0, line });
    if (line.startsWith('maxrss=')) phases.maxRssKiB = Number(line.slice(7));
  }
});
const code = await new Promise((resolve) => child.on('close', resolve));
const total = (performance.now() - t0) / 1000;
rmSync(out, { recursive: true, force: true });

console.log(`dnnpart start ${process.argv.slice(2).join(' ')} — exit ${code}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| at (s) | phase |');
console.log('|---:|---|');
for (const p of phases) console.log(`| ${(p.at / 1000).toFixed(1)} | ${p.line.replace(/\|/g, '\\|').replace(out, '<out>')} |`);
console.log(`| **${total.toFixed(1)}** | **total** (peak RSS ${phases.maxRssKiB ? (phases.maxRssKiB / 1024).toFixed(0) + ' MiB' : 'unknown'}) |`);
console.log('\nSummary printed by the job:\n');
console.log('```\n' + stdout.replaceAll(out, 'out').trimEnd() + '\n```');
