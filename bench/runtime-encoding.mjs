#!/usr/bin/env node
// A plan's stage times with the tensors between stages encoded (a system's transfer: fp16 or int8),
// predicted by the product's join and measured on two agents (separate processes, loopback). Since
// the plan prices a stage's encoding and decoding from its board's profile (profile.boundary.encodings,
// calibrated by the agent when it profiles), each stage's measured session time plus its own coding
// time (run --json: computeMs.measured + computeMs.codingMs) stands beside its predicted computeMs. The
// same plans are also evaluated as the join priced them before (encoded bytes, no coding; boundary
// rates per float32 byte applied to encoded bytes), for the difference.
//
//   npx turbo run build && node bench/runtime-encoding.mjs [--nets resnet18,googlenet] [--frames 30] [--threads 1]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cutPoints, loadModel } from '@dnnpart/onnx-graph';
import { linksYaml, measureLinks, profileOnAgents, runPlan } from '@dnnpart/runtime';
import { buildProblem, parseSystem, resolveSystem } from '@dnnpart/report';
import { writeProfile } from '@dnnpart/profiler';
import { evaluatePlan } from '@dnnpart/solver';
import { buildZooModel } from '@dnnpart/zoo';

const { values } = parseArgs({ options: { nets: { type: 'string', default: 'resnet18,googlenet' }, frames: { type: 'string', default: '30' }, threads: { type: 'string', default: '1' } } });
const CLI = fileURLToPath(new URL('../apps/report/bin/dnnpart.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'bench-encoding-'));
const frames = Number(values.frames);
const threads = Number(values.threads);
const f2 = (x) => (typeof x === 'number' ? x.toFixed(2) : '—');
const pct = (m, p) => `${m >= p ? '+' : ''}${(((m - p) / p) * 100).toFixed(1)} %`;

function startAgent(id, port) {
  const p = spawn(process.execPath, [CLI, 'agent', '--listen', `127.0.0.1:${port}`, '--board', id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  p.stdout.on('data', (d) => (log += d));
  p.stderr.on('data', (d) => (log += d));
  return { proc: p, log: () => log };
}
const procs = [startAgent('a', 7431), startAgent('b', 7432)];
const agents = [{ id: 'a', peer: { address: '127.0.0.1:7431' } }, { id: 'b', peer: { address: '127.0.0.1:7432' } }];
try {
  for (let i = 0; i < 100 && !procs.every((p) => /listening on/.test(p.log())); i++) await new Promise((r) => setTimeout(r, 100));
  console.log(`Machine: ${cpus()[0]?.model.trim()}, ${cpus().length} cores; load ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the start; ${new Date().toISOString()}; ${frames} frames a run, ${threads} thread(s) a stage\n`);
  const links = await measureLinks(agents, { repeats: 3 });
  writeFileSync(join(tmp, 'links.yaml'), linksYaml(links, 'bench'));
  const rows = [];
  for (const name of values.nets.split(',').filter(Boolean)) {
    const file = join(tmp, `${name}.onnx`);
    writeFileSync(file, buildZooModel(name));
    const model = await loadModel(file);
    const g = model.graph;
    // One board at a time (two would share the cores), each calibrating its boundary and encodings.
    const enc = {};
    for (const a of agents) {
      const p = (await profileOnAgents([a], file, { runs: 10, warmup: 3, threads }))[0].profile;
      await writeProfile(join(tmp, `${name}-${a.id}.profile.json`), p);
      enc[a.id] = p.boundary?.encodings;
    }
    console.log(`${name}: encodings calibrated on the agents (ms per MB of float32, encode / decode): ${agents.map((a) => `${a.id} int8 ${f2(enc[a.id].int8.encodeMsPerByte * 2 ** 20)} / ${f2(enc[a.id].int8.decodeMsPerByte * 2 ** 20)}, fp16 ${f2(enc[a.id].fp16.encodeMsPerByte * 2 ** 20)} / ${f2(enc[a.id].fp16.decodeMsPerByte * 2 ** 20)}`).join('; ')}\n`);
    const problemAt = async (transfer) => {
      const yaml = `version: 1\nmodel: { file: ${name}.onnx }\nboards:\n  - { id: a, profile: ${name}-a.profile.json }\n  - { id: b, profile: ${name}-b.profile.json }\nlinksFile: links.yaml\ntransfer: ${transfer}\n`;
      const spec = parseSystem(yaml, join(tmp, `${name}-${transfer}.yaml`));
      return buildProblem(await resolveSystem(spec, { workDir: tmp })).problem;
    };
    // Cuts with one tensor crossing: the largest activation (the first Relu's output) and the middle of the time.
    const single = cutPoints(g).filter((c) => c.tensors.length === 1);
    const first = single.find((c) => g.nodes.find((n) => n.name === c.after)?.op === 'Relu') ?? single[0];
    const fp32 = await problemAt('fp32');
    const ms = g.nodes.map((n) => fp32.boards[0].latencyMs[n.name] ?? 0);
    const total = ms.reduce((s, x) => s + x, 0);
    let acc = 0;
    const prefix = new Map(g.nodes.map((n, i) => [n.name, (acc += ms[i])]));
    const middle = single.reduce((b, c) => (Math.abs(prefix.get(c.after) - total / 2) < Math.abs(prefix.get(b.after) - total / 2) ? c : b));
    for (const cut of [first, middle]) {
      const at = g.nodes.findIndex((n) => n.name === cut.after);
      const stages = [{ board: 'a', nodes: g.nodes.slice(0, at + 1).map((n) => n.name) }, { board: 'b', nodes: g.nodes.slice(at + 1).map((n) => n.name) }];
      for (const transfer of ['fp32', 'fp16', 'int8']) {
        const problem = transfer === 'fp32' ? fp32 : await problemAt(transfer);
        const m = evaluatePlan(problem, stages);
        // How the join priced it before: the same problem with the boundary as profiled (float32 rates on encoded bytes, no coding).
        const before = transfer === 'fp32' ? m : evaluatePlan({ ...problem, boards: problem.boards.map((b, i) => ({ ...b, boundary: { fixedMs: b.boundary.fixedMs, inMsPerByte: fp32.boards[i].boundary.inMsPerByte, outMsPerByte: fp32.boards[i].boundary.outMsPerByte } })) }, stages);
        const plan = { stages: m.stages, transfers: m.transfers, throughputFps: m.throughputFps, latencyMs: m.latencyMs };
        // Frames one at a time: each stage's own times, without another frame's work beside it.
        const r = await runPlan({ model, plan, agents, frames, inFlight: 1, compareFrames: 0, threads, transfer });
        r.stages.forEach((s, k) => rows.push({
          model: name, cut: `${cut.after} (${(cut.bytes / 1e6).toFixed(2)} MB)`, transfer, stage: k,
          session: s.computeMs.measured, coding: s.computeMs.codingMs ?? 0, predicted: m.stages[k].computeMs, before: before.stages[k].computeMs,
        }));
      }
    }
  }
  console.log('| model | cut after | transfer | stage | session ms | coding ms | measured: session + coding | predicted now | error | predicted before | error |');
  console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const meas = r.session + r.coding;
    console.log(`| ${r.model} | ${r.cut} | ${r.transfer} | ${r.stage} | ${f2(r.session)} | ${f2(r.coding)} | ${f2(meas)} | ${f2(r.predicted)} | ${pct(r.predicted, meas)} | ${r.transfer === 'fp32' ? '—' : f2(r.before)} | ${r.transfer === 'fp32' ? '—' : pct(r.before, meas)} |`);
  }
  const coded = rows.filter((r) => r.transfer !== 'fp32');
  const within = (xs, pick) => xs.filter((r) => Math.abs(pick(r) / (r.session + r.coding) - 1) <= 0.15).length;
  const medErr = (xs, pick) => {
    const e = xs.map((r) => Math.abs(pick(r) / (r.session + r.coding) - 1)).sort((a, b) => a - b);
    return `${(e[Math.floor(e.length / 2)] * 100).toFixed(1)} %`;
  };
  console.log(`\nStages with encoded transfers within 15 % of session + coding: predicted now ${within(coded, (r) => r.predicted)} of ${coded.length} (median |error| ${medErr(coded, (r) => r.predicted)}), as priced before ${within(coded, (r) => r.before)} of ${coded.length} (median |error| ${medErr(coded, (r) => r.before)}); float32 stages: ${within(rows.filter((r) => r.transfer === 'fp32'), (r) => r.predicted)} of ${rows.length - coded.length}.`);
  console.log(`Load at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
} finally {
  for (const p of procs) p.proc.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}
