// Solve time with and without frame buffers (the join's FRAME_BUFFERS) on system problems whose boards have
// memory caps (described boards: Raspberry Pi 4 with the input, Pi 5, Jetson Orin Nano, Jetson Nano; Wi-Fi 802.11n).
// node bench/solver-frames.mjs <zoo name or model.onnx:NxCxHxW> ...   (built packages needed)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProblem, loadSystem, resolveSystem } from '@dnnpart/report';
import { solve } from '@dnnpart/solver';
const nets = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'solver-frames-'));
for (const net of nets) {
  const file = join(dir, `${net.replace(/[^a-z0-9_]/gi, '_')}.yaml`);
  writeFileSync(file, [`version: 1`, `name: ${net}`, net.includes('/') ? `model: { file: ${net.split(':')[0]}, input: ${net.split(':')[1]} }` : `model: { zoo: ${net}, input: 1x3x224x224 }`, 'boards:', '  - { id: pi5, describe: raspberry-pi-5 }', '  - { id: orin, describe: jetson-orin-nano }', '  - { id: pi4, describe: raspberry-pi-4 }', '  - { id: nano, describe: jetson-nano }', 'network: wifi-802.11n', 'inputBoard: pi4', 'objective: throughput', 'boardOrder: free'].join('\n'));
  const sys = await resolveSystem(await loadSystem(file), { workDir: dir });
  const { problem } = buildProblem(sys);
  const plain = { ...problem, boards: problem.boards.map(({ frameBuffers: _f, ...b }) => b) };
  for (const objective of ['throughput', 'latency', 'energy']) {
    const row = [net, objective];
    for (const [what, p] of [['frames', problem], ['none', plain], ['frames', problem], ['none', plain]]) {
      const t0 = performance.now();
      const r = await solve(p, { objective, timeLimitS: 60 });
      row.push(`${what} ${r.status} ${(performance.now() - t0).toFixed(0)} ms ${r.stages?.length ?? 0} stages`);
    }
    console.log(row.join(' | '));
  }
}
