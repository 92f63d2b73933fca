#!/usr/bin/env node
// Predicted against measured stage times (issue 10): for each network, profile it here, cut it into
// 2, 3 and 4 stages at equal shares of the profile's time along the node order, predict each stage
// with the solver's cost model (node medians + the profile's boundary cost, through the same join as
// `dnnpart solve`), then time every stage model here with `dnnpart verify`'s functions: back to back
// (each stage's median) and as a worker-thread pipeline on this machine's cores, against the plan's
// pipeline prediction (a board per stage) and the one for this host (a frame-by-frame simulation of
// the stages, at the plan's times plus the calibrated per-frame handoff, sharing the cores at the
// efficiency calibrateHost measured for pipelines of as many stages; verifyPlan calibrates right
// before each pipeline run, because the load of this shared machine moves from minute to minute).
// Run it as root under `nice -n -10` on a machine shared with niced jobs (and with the kernel's
// autogroup off, /proc/sys/kernel/sched_autogroup_enabled = 0, so that nice counts across sessions).
//
//   node bench/verify-stages.mjs [--nets resnet18,...] [--external paddleocr-cls,...] [--threads 1,2]
//                                [--stages 2,3,4] [--runs 30] [--frames 30] [--profile-runs 20]
//                                [--warmup 20] [--handoff transfer|copy] [--json results.json] [--compare-host] [--repeat 1]
//                                [--rounds 1] [--manifest exports.json --only name,...]
// --manifest adds the models of a manifest (bench/torch-exports/export.py writes one; --only picks some).
// With --rounds N the whole bench runs N times in turn (every model once a round), each round profiling
// again and timing the same plans (cut on the first round's profile); the summary then also compares
// the median of each stage's N predictions with the median of its N measurements (and the same for
// the pipelines), so that a few minutes in which this shared guest ran at another speed than when it
// was profiled weigh less.
// Needs the built packages (npm run build, or tsc -p each package). Prints Markdown.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '@dnnpart/onnx-graph';
import { calibrateBoundary, profileModel } from '@dnnpart/profiler';
import { evaluatePlan } from '@dnnpart/solver';
import { buildZooModel, externalModels } from '@dnnpart/zoo';
import { buildProblem, calibrateHost, hostPrediction, loadSystem, resolveSystem, verifyPlan } from '@dnnpart/report';
import { manifestModels } from './_external.mjs';

const { values } = parseArgs({
  options: {
    nets: { type: 'string', default: 'resnet18,efficientnet_b0,googlenet,squeezenet1_1' },
    external: { type: 'string', default: 'paddleocr-cls,paddleocr-rec' },
    threads: { type: 'string', default: '1,2' },
    stages: { type: 'string', default: '2,3,4' },
    runs: { type: 'string', default: '30' },
    frames: { type: 'string', default: '30' },
    'profile-runs': { type: 'string', default: '20' },
    warmup: { type: 'string', default: '20' },
    'min-ms': { type: 'string', default: '400' },
    handoff: { type: 'string', default: 'transfer' },
    // Every verify result (dnnpart/verify@1) with its model, threads and stage count, for fitting other models offline.
    json: { type: 'string' },
    // Calibrate this host both ways before each pipeline, in turn: the capacity model sized for the plan's
    // stage times (calibrateHost's stageMs) and not; verify gets the one it would make itself (sized at one
    // thread only), and the same measured pipeline is priced with the other too (`otherHost` in --json).
    'compare-host': { type: 'boolean', default: false },
    // Run each pipeline this many times (verify --repeat): its figure is the runs' median, and their spread is the measurement's own.
    repeat: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '1' },
    manifest: { type: 'string' },
    only: { type: 'string', default: '' },
  },
});
const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
const runs = Number(values.runs);
const frames = Number(values.frames);
const profileRuns = Number(values['profile-runs']);
// Sub-millisecond models get more runs, so that every median is over at least this much timing.
const minMs = Number(values['min-ms']);
const atLeast = (n, ms) => Math.max(n, Math.ceil(minMs / Math.max(ms, 1e-3)));
const warmup = Number(values.warmup);
const handoff = values.handoff;
const tmp = await mkdtemp(join(tmpdir(), 'dnnpart-verify-bench-'));
const pct = (x) => (x === null || !Number.isFinite(x) ? '—' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} %`);
const ms = (x) => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(2));

const models = [];
for (const net of list(values.nets)) {
  const file = join(tmp, `${net}.onnx`);
  await writeFile(file, buildZooModel(net, { inputShape: [1, 3, 224, 224] }));
  models.push({ name: net, file, input: ['1x3x224x224'] });
}
const ext = externalModels();
for (const name of list(values.external)) {
  const m = ext.find((x) => x.name === name);
  if (!m || !m.available) {
    console.error(`skipping ${name}: not installed`);
    continue;
  }
  models.push({ name, file: m.file, input: Object.entries(m.inputs).map(([k, v]) => `${k}=${v.join('x')}`) });
}
if (values.manifest) {
  const only = list(values.only);
  for (const m of manifestModels(values.manifest)) {
    if (!m.available || m.invalid || (only.length > 0 && !only.includes(m.name))) continue;
    models.push({ name: m.name, file: m.file, input: Object.entries(m.inputs).map(([k, v]) => `${k}=${v.join('x')}`) });
  }
}

console.log(`# Predicted vs measured stage times (dnnpart verify)\n`);
console.log(`Machine: ${cpus()[0]?.model.trim()}, ${availableParallelism()} cores; load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${new Date().toISOString()}`);
console.log(`Profile: ${profileRuns} runs; verify: ${warmup} warm-up frames, then ${runs} runs back to back (median per stage) and ${frames} frames through the pipeline, each raised to cover at least ${minMs} ms of a model's frames (one worker thread per stage, queues of 1, tensors handed over by ${handoff}).\n`);

// The stage-boundary cost, calibrated once per thread count (the profiler's synthetic models).
const boundaries = new Map();
for (const threads of list(values.threads).map(Number)) {
  const c = await calibrateBoundary({ threads, tempDir: tmp });
  boundaries.set(threads, c.boundary);
  console.log(`Boundary calibration at ${threads} thread${threads > 1 ? 's' : ''}: fixed ${c.boundary.fixedMs} ms, in ${Number((c.boundary.inMsPerByte * 1e6).toPrecision(3))} ms/MB, out ${Number((c.boundary.outMsPerByte * 1e6).toPrecision(3))} ms/MB`);
}
const hostLine = (h) => `handoff (${h.handoff.mode}) ${h.handoff.fixedMs.toFixed(3)} ms + ${(h.handoff.msPerByte * 1e6).toFixed(3)} ms/MB per frame (R² ${h.handoff.fitR2.toFixed(2)}; ${h.handoff.samples.map((x) => `${(x.bytes / 1e3).toFixed(0)} kB ${x.ms.toFixed(3)} ms`).join(', ')}); ${h.capacity.model}${h.capacity.targetMs !== undefined ? ` (sized for stages of ${h.capacity.targetMs.toFixed(2)} ms)` : ''} at ${h.capacity.sessionThreads} thread(s) ${h.capacity.singleMs.toFixed(2)} ms alone (parallelism ${h.capacity.parallelism.toFixed(2)}${h.capacity.speedup !== undefined ? `, speedup from 1 thread ${h.capacity.speedup.toFixed(2)}` : ''}), pipelines of it: ${h.capacity.samples.map((x) => `${x.stages} stages ${x.periodMs.toFixed(2)} ms (fluid ${x.fluidMs.toFixed(2)}, efficiency ${x.efficiency.toFixed(2)})`).join(', ')}; load ${h.loadBefore.toFixed(2)} -> ${h.loadAfter.toFixed(2)}`;
console.log('');

const summary = [];
let compared = 0;
const allResults = [];
const rounds = Number(values.rounds);
// Per model, thread count and stage count: the cut (from the first round's profile), and each round's figures.
const cuts = new Map();
const byRound = new Map();
for (let round = 0; round < rounds; round++) {
for (const m of models) {
  for (const threads of list(values.threads).map(Number)) {
    const profileFile = join(tmp, `${m.name}.t${threads}.profile.json`);
    const inputShapes = Object.fromEntries(m.input.map((s) => (s.includes('=') ? [s.split('=')[0], s.split('=')[1].split('x').map(Number)] : null)).filter(Boolean));
    const single = m.input.length === 1 && !m.input[0].includes('=') ? m.input[0].split('x').map(Number) : undefined;
    // A first short profile says how long a frame takes, for the run counts.
    const probe = await profileModel(m.file, { board: 'here', runs: 5, warmup: 3, threads, sensor: null, boundary: boundaries.get(threads), ...(single ? { inputShapes: single } : { inputShapes }) });
    const frameMs = probe.endToEnd.medianMs;
    const profile = await profileModel(m.file, { board: 'here', runs: atLeast(profileRuns, frameMs), warmup: 3, threads, output: profileFile, sensor: null, boundary: boundaries.get(threads), ...(single ? { inputShapes: single } : { inputShapes }) });
    // The same join as `dnnpart solve --system`: a system with this profile, read back.
    const sysFile = join(tmp, `${m.name}.t${threads}.yaml`);
    const input = m.input.length === 1 && !m.input[0].includes('=') ? `  input: ${m.input[0]}` : `  input: { ${m.input.map((s) => s.replace('=', ': ')).join(', ')} }`;
    await writeFile(sysFile, ['version: 1', `name: ${m.name}`, 'model:', `  file: ${m.file}`, input, 'boards:', `  - { id: here, profile: ${profileFile} }`].join('\n'));
    const resolved = await resolveSystem(loadSystem(sysFile), { workDir: tmp });
    const { problem, warnings } = buildProblem(resolved);
    const loaded = await loadModel(m.file, { inputShapes: resolved.inputShapes });
    const names = loaded.graph.nodes.map((n) => n.name);
    const boundary = problem.boards[0].boundary;
    const method = profile.boundary?.method ?? 'none (default used)';
    // The whole model's prediction on this board: verify times it in the same runs as the stages (the speed reference).
    const wholeMs = evaluatePlan(problem, [{ board: problem.boards[0].id, nodes: names }]).stages[0].computeMs;
    console.log(`## ${m.name}, ${threads} thread${threads > 1 ? 's' : ''}${rounds > 1 ? ` (round ${round + 1} of ${rounds})` : ''}\n`);
    console.log(`${names.length} nodes; ${atLeast(profileRuns, frameMs)} profile runs, ${atLeast(runs, frameMs)} runs back to back; profile end-to-end median ${profile.endToEnd.medianMs.toFixed(2)} ms, node sum ${(profile.nodes.reduce((a, n) => a + n.latencyMs.median, 0)).toFixed(2)} ms; boundary ${method}: fixed ${boundary.fixedMs} ms, in ${Number((boundary.inMsPerByte * 1e6).toPrecision(3))} ms/MB, out ${Number((boundary.outMsPerByte * 1e6).toPrecision(3))} ms/MB${warnings.length ? ` (${warnings.join('; ')})` : ''}\n`);
    console.log('| stages | stage | nodes | in kB | out kB | predicted ms | kernels ms | boundary ms | measured ms (median) | p90 ms | min ms | CPU ms (median) | error | error vs min | whole model measured / predicted (same runs) | error at that speed | alone ms (median) | error alone | whole model alone / predicted | error alone at that speed |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    const pipeRows = [];
    for (const k of [1, ...list(values.stages).map(Number)]) {
      // Cut the node order at equal shares of the (first round's) profile's time.
      const key = `${m.name}|${threads}|${k}`;
      if (!cuts.has(key)) {
        const lat = names.map((n) => problem.boards[0].latencyMs[n] ?? 0);
        const total = lat.reduce((a, x) => a + x, 0);
        const cut = {};
        let acc = 0;
        let s = 0;
        names.forEach((n, i) => {
          if (s < k - 1 && acc + lat[i] / 2 > (total * (s + 1)) / k && i > 0 && Object.values(cut).filter((x) => x === s).length > 0) s++;
          cut[n] = s;
          acc += lat[i];
        });
        cuts.set(key, cut);
      }
      const stageOf = cuts.get(key);
      const count = Math.max(...Object.values(stageOf)) + 1;
      // k copies of this machine, joined by links that cost nothing: the stages' own times only.
      const boards = Array.from({ length: count }, (_, i) => ({ ...problem.boards[0], id: `here${i}` }));
      const links = [];
      for (let a = 0; a + 1 < count; a++) links.push({ from: `here${a}`, to: `here${a + 1}`, bandwidthBytesPerSec: 1e15, latencyMs: 0, powerW: 0 });
      const p = { ...problem, boards, links, inputBoard: 'here0', boardOrder: 'fixed' };
      const plan = boards.map((b, i) => ({ board: b.id, nodes: names.filter((n) => stageOf[n] === i) }));
      const metrics = evaluatePlan(p, plan);
      let result;
      let other;
      try {
        let sized;
        let unsized;
        if (values['compare-host'] && count > 1) {
          // In turn, so that neither calibration is always the one made nearer the pipeline.
          const both = [() => calibrateHost({ threads, sessions: count, handoff }), () => calibrateHost({ threads, sessions: count, handoff, stageMs: metrics.stages.map((x) => x.computeMs) })];
          if (compared++ % 2) [unsized, sized] = [await both[0](), await both[1]()];
          else [sized, unsized] = [await both[1](), await both[0]()];
        }
        ({ result } = await verifyPlan(loaded, m.file, stageOf, boards.map((b) => b.id), metrics.stages, { threads, runs: atLeast(runs, frameMs), warmup, pipelineFrames: count > 1 ? atLeast(frames, frameMs / count) : 0, maxSeconds: 600, handoff, pipelineRepeats: Number(values.repeat), reference: { predictedMs: wholeMs, boards: boards.map((b) => b.id) }, ...(sized ? { host: threads === 1 ? sized : unsized } : {}) }));
        other = sized ? (threads === 1 ? unsized : sized) : undefined;
      } catch (e) {
        console.log(`| ${count} | — | | | | | | | | | failed: ${e.message} |`);
        continue;
      }
      result.stages.forEach((st, i) => {
        const ps = metrics.stages[i];
        console.log(`| ${count} | ${i} | ${st.nodes} | ${(ps.inBytes / 1e3).toFixed(0)} | ${(ps.outBytes / 1e3).toFixed(0)} | ${ms(st.predictedMs)} | ${ms(ps.kernelMs)} | ${ms(ps.boundaryMs)} | ${ms(st.measuredMs)} | ${ms(st.p90Ms)} | ${ms(st.minMs)} | ${ms(st.cpuMs)} | ${pct(st.error)} | ${pct(st.predictedMs / st.minMs - 1)} | ${result.reference ? result.reference.ratio.toFixed(3) : '—'} | ${pct(st.scaledError ?? null)} | ${ms(st.alone?.measuredMs ?? null)} | ${pct(st.alone?.error ?? null)} | ${result.reference?.aloneRatio !== undefined ? result.reference.aloneRatio.toFixed(3) : '—'} | ${pct(st.alone?.scaledError ?? null)} |`);
        if (count > 1) summary.push({ model: m.name, threads, k: count, stage: i, error: st.error, errorMin: st.predictedMs / st.minMs - 1, scaled: st.scaledError ?? null, alone: st.alone?.error ?? null, aloneScaled: st.alone?.scaledError ?? null, turn: st.alone ? st.measuredMs / st.alone.measuredMs - 1 : null });
      });
      if (result.pipeline) pipeRows.push({ count, r: result });
      if (!byRound.has(key)) byRound.set(key, { model: m.name, threads, k: count, rounds: [] });
      byRound.get(key).rounds.push({
        stages: result.stages.map((st) => ({ predictedMs: st.predictedMs, measuredMs: st.measuredMs })),
        host: result.pipeline?.host ? { predictedFps: result.pipeline.host.predictedFps, measuredFps: result.pipeline.measuredFps } : null,
      });
      // The plan's node lists and each stage's tensor names are left out: the figures are what is replayed.
      const { plan: _plan, ...figures } = result;
      allResults.push({ model: m.name, threads, stages: count, ...(rounds > 1 ? { round: round + 1 } : {}), result: { ...figures, stages: result.stages.map(({ inputs: _i, outputs: _o, ...s }) => s) } });
      const q = result.pipeline;
      // The same measured pipeline priced with the calibration verify did not use.
      const alt = other && q?.host
        ? hostPrediction(q.host.stages.map((x) => x.predictedMs), q.host.stages.map((x) => x.handoffBytes), other, {
          fps: q.measuredFps, medianFps: q.measuredMedianFps, queue: result.settings.queue, stageMs: result.stages.map((x) => x.measuredMs),
          ...(result.reference ? { speedRatio: result.stages.map(() => result.reference.ratio) } : {}),
          ...(result.stages.every((x) => x.singleThreadMs !== undefined) ? { speedups: result.stages.map((x) => x.singleThreadMs / x.measuredMs) } : {}),
        })
        : null;
      if (alt) allResults.at(-1).otherHost = { sized: other.capacity.targetMs !== undefined, ...alt };
      if (count > 1) summary.push({ model: m.name, threads, k: count, stage: 'pipeline', runs: q?.runs?.map((x) => x.fps) ?? null, sharing: q?.host?.fromMeasuredStages?.fpsError ?? null, error: q?.host?.fpsError ?? null, errorMedian: q?.host?.fpsErrorMedian ?? null, plan: q?.planFpsError ?? null, b2b: result.backToBack.latencyError, latency: q?.host?.latencyError ?? null, scaled: q?.host?.scaled?.fpsError ?? null, alt });
      if (count === 1) pipeRows.push({ count, r: result });
    }
    console.log('\n| stages | back to back: predicted ms | measured ms | error | pipeline FPS: plan (a board per stage) | this host (predicted) | measured | error, this host | error, plan | measured, median gap | error, this host vs median gap | this host from measured stages: error | this host at the measured speed: error | handoff ms per stage | cores kept busy per stage (speedup from 1 thread) | stages running at once | slowdown | latency ms (queueing incl.) |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|');
    for (const { count, r } of pipeRows) {
      const b = r.backToBack;
      const q = r.pipeline;
      const h = q?.host;
      console.log(`| ${count} | ${ms(b.predictedLatencyMs)} | ${ms(b.measuredLatencyMs)} | ${pct(b.latencyError)} | ${q ? ms(q.planFps) : '—'} | ${h ? ms(h.predictedFps) : '—'} | ${q ? ms(q.measuredFps) : '—'} | ${h ? pct(h.fpsError) : '—'} | ${q ? pct(q.planFpsError) : '—'} | ${q ? ms(q.measuredMedianFps) : '—'} | ${h ? pct(h.fpsErrorMedian) : '—'} | ${h?.fromMeasuredStages ? pct(h.fromMeasuredStages.fpsError) : '—'} | ${h?.scaled ? pct(h.scaled.fpsError) : '—'} | ${h ? h.stages.map((x) => x.handoffMs.toFixed(3)).join(', ') : '—'} | ${h ? h.stages.map((x) => `${x.parallelism.toFixed(2)}${x.speedup !== undefined ? ` (${x.speedup.toFixed(2)})` : ''}`).join(', ') : '—'} | ${h ? h.concurrency.toFixed(2) : '—'} | ${h ? h.slowdown.toFixed(2) : '—'} | ${q ? ms(q.measuredLatencyMs) : '—'} |`);
    }
    console.log('');
    for (const { count, r } of pipeRows) if (r.hostCalibration) console.log(`- host calibration before the ${count}-stage pipeline: ${hostLine(r.hostCalibration)}`);
    console.log(`\nload average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  }
}
}

const stageErrors = summary.filter((x) => x.stage !== 'pipeline' && x.error !== null).map((x) => Math.abs(x.error));
const pipeErrors = summary.filter((x) => x.stage === 'pipeline' && x.error !== null).map((x) => Math.abs(x.error));
const medianGapErrors = summary.filter((x) => x.stage === 'pipeline' && x.errorMedian !== null && Number.isFinite(x.errorMedian)).map((x) => Math.abs(x.errorMedian));
const planErrors = summary.filter((x) => x.stage === 'pipeline' && x.plan !== null).map((x) => Math.abs(x.plan));
const within = (xs, t) => `${xs.filter((x) => x <= t).length} of ${xs.length}`;
const minErrors = summary.filter((x) => x.stage !== 'pipeline' && Number.isFinite(x.errorMin)).map((x) => Math.abs(x.errorMin));
console.log('## Summary\n');
console.log(`- stages of multi-stage plans within 15 % of their measured median: ${within(stageErrors, 0.15)} (median |error| ${pct(stageErrors.sort((a, b) => a - b)[Math.floor(stageErrors.length / 2)] ?? NaN)}, worst ${pct(Math.max(...stageErrors))})`);
console.log(`- the same stages within 15 % of their fastest run: ${within(minErrors, 0.15)} (median |error| ${pct(minErrors.sort((a, b) => a - b)[Math.floor(minErrors.length / 2)] ?? NaN)})`);
{
  const stagesOnly = summary.filter((x) => x.stage !== 'pipeline');
  const alone = stagesOnly.filter((x) => x.alone !== null && x.alone !== undefined).map((x) => Math.abs(x.alone));
  const aloneScaled = stagesOnly.filter((x) => x.aloneScaled !== null && x.aloneScaled !== undefined).map((x) => Math.abs(x.aloneScaled));
  const turn = stagesOnly.filter((x) => x.turn !== null && x.turn !== undefined).map((x) => x.turn).sort((a, b) => a - b);
  console.log(`- the same stages timed alone (each run after run on its own, as a board runs it): ${within(alone, 0.15)} within 15 % of their median (median |error| ${pct(alone.sort((a, b) => a - b)[Math.floor(alone.length / 2)] ?? NaN)}); at the speed the whole model ran alone: ${within(aloneScaled, 0.15)}; run in turn they took ${pct(turn[0] ?? NaN)} to ${pct(turn.at(-1) ?? NaN)} (median ${pct(turn[Math.floor(turn.length / 2)] ?? NaN)}) longer than alone`);
  for (const model of [...new Set(stagesOnly.map((x) => x.model))]) {
    const t = stagesOnly.filter((x) => x.model === model && x.turn !== null).map((x) => x.turn).sort((a, b) => a - b);
    const a = stagesOnly.filter((x) => x.model === model && x.alone !== null).map((x) => Math.abs(x.alone));
    const b = stagesOnly.filter((x) => x.model === model && x.error !== null).map((x) => Math.abs(x.error));
    console.log(`  - ${model}: in turn ${within(b, 0.15)}, alone ${within(a, 0.15)} within 15 %; in turn / alone - 1: median ${pct(t[Math.floor(t.length / 2)] ?? NaN)}`);
  }
}
console.log(`- pipelines whose throughput predicted for this host is within 10 % of the measured one: ${within(pipeErrors, 0.1)} (median |error| ${pct(pipeErrors.sort((a, b) => a - b)[Math.floor(pipeErrors.length / 2)] ?? NaN)}, worst ${pct(Math.max(...pipeErrors))})`);
const latencyErrors = summary.filter((x) => x.stage === 'pipeline' && x.latency !== null && x.latency !== undefined).map((x) => Math.abs(x.latency));
console.log(`- pipelines whose latency (queueing included) predicted for this host is within 15 % of the measured median: ${within(latencyErrors, 0.15)} (median |error| ${pct(latencyErrors.sort((a, b) => a - b)[Math.floor(latencyErrors.length / 2)] ?? NaN)}, worst ${pct(Math.max(...latencyErrors))})`);
const sharingErrors = summary.filter((x) => x.stage === 'pipeline' && x.sharing !== null && x.sharing !== undefined).map((x) => Math.abs(x.sharing));
console.log(`- the same model fed with the measured stage times (the sharing model's own error): ${within(sharingErrors, 0.1)} within 10 % (median |error| ${pct(sharingErrors.sort((a, b) => a - b)[Math.floor(sharingErrors.length / 2)] ?? NaN)})`);
console.log(`- the same against the median gap between frames: ${within(medianGapErrors, 0.1)} (median |error| ${pct(medianGapErrors.sort((a, b) => a - b)[Math.floor(medianGapErrors.length / 2)] ?? NaN)})`);
const scaledSigned = summary.filter((x) => x.stage !== 'pipeline' && x.scaled !== null && x.scaled !== undefined).map((x) => x.scaled);
const scaledStages = scaledSigned.map(Math.abs);
const scaledPipes = summary.filter((x) => x.stage === 'pipeline' && x.scaled !== null && x.scaled !== undefined).map((x) => Math.abs(x.scaled));
const med = (xs) => pct(xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN);
console.log(`- at the speed the whole model ran in the same runs (the prediction scaled by its measured / predicted time): stages ${within(scaledStages, 0.15)} within 15 % (median |error| ${med(scaledStages)}), this host's pipelines ${within(scaledPipes, 0.1)} within 10 % (median |error| ${med(scaledPipes)}); the stages' mean error ${pct(scaledSigned.reduce((a, x) => a + x, 0) / Math.max(1, scaledSigned.length))} (below 0: stages cost more than predicted)`);
console.log(`- the plan's own prediction (a board per stage) within 10 % of the same measurement: ${within(planErrors, 0.1)} (median |error| ${pct(planErrors.sort((a, b) => a - b)[Math.floor(planErrors.length / 2)] ?? NaN)})`);
const repeated = summary.filter((x) => x.stage === 'pipeline' && x.runs);
if (repeated.length > 0) {
  // How far the same pipeline's runs lie from their median: the floor under any prediction's error.
  // The median as verify takes it (the mean of the middle two of an even count).
  const middle = (runs) => { const s = [...runs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  const widest = (x) => Math.max(...x.runs.map((f) => Math.abs(f / middle(x.runs) - 1)));
  const dev = repeated.map(widest);
  const spreads = repeated.map((x) => (Math.max(...x.runs) - Math.min(...x.runs)) / middle(x.runs));
  console.log(`- the pipelines run ${values.repeat} times each: every run within 10 % of their median in ${within(dev, 0.1)} (the widest run's median |deviation| ${med(dev)}); spread (fastest - slowest) / median: median ${med(spreads)}, worst ${pct(Math.max(...spreads))}`);
  for (const t of [...new Set(repeated.map((x) => x.threads))]) {
    const r = repeated.filter((x) => x.threads === t);
    console.log(`  - ${t} thread(s): every run within 10 % of their median in ${within(r.map(widest), 0.1)}; this host's prediction within 10 % of the median in ${within(r.map((x) => Math.abs(x.error)), 0.1)}`);
  }
}
const alts = summary.filter((x) => x.stage === 'pipeline' && x.alt);
const count10 = (errors) => {
  const xs = errors.filter((x) => x !== null && x !== undefined && Number.isFinite(x)).map(Math.abs);
  return `${within(xs, 0.1)} within 10 % (median |error| ${med(xs)})`;
};
const used = (x) => [x.error, x.sharing, x.scaled];
const unused = (x) => [x.alt.fpsError, x.alt.fromMeasuredStages?.fpsError, x.alt.scaled?.fpsError];
const calibrations = [
  ['sized for the plan', (x) => (x.threads === 1 ? used(x) : unused(x))],
  ['not sized (squeezenet1_1 at 160x160, pipelines of 2..N)', (x) => (x.threads === 1 ? unused(x) : used(x))],
];
for (const [name, pick] of alts.length > 0 ? calibrations : []) {
  for (const t of [...new Set(alts.map((x) => x.threads))]) {
    const e = alts.filter((x) => x.threads === t).map(pick);
    console.log(`- this host's capacity calibration ${name}, ${t} thread(s): from the predicted stage times ${count10(e.map((x) => x[0]))}; from the measured ones ${count10(e.map((x) => x[1]))}; at the measured speed ${count10(e.map((x) => x[2]))}`);
  }
}
if (rounds > 1) {
  // Each stage's N predictions and N measurements, one of each per round: the medians compared.
  const mid = (xs) => { const s = [...xs].sort((a, b) => a - b); const h = s.length >> 1; return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };
  const stageRows = [];
  const pipeRows = [];
  console.log(`\n## Across the ${rounds} rounds\n`);
  console.log('| model | threads | stages | stage | predicted ms, each round | measured ms, each round | error, each round | median predicted / median measured - 1 |');
  console.log('|---|---:|---:|---|---|---|---|---:|');
  for (const e of byRound.values()) {
    if (e.k < 2 || e.rounds.length < 2) continue;
    for (let i = 0; i < e.k; i++) {
      const xs = e.rounds.map((r) => r.stages[i]).filter(Boolean);
      if (xs.some((x) => x.predictedMs === null)) continue;
      const error = mid(xs.map((x) => x.predictedMs)) / mid(xs.map((x) => x.measuredMs)) - 1;
      stageRows.push({ ...e, error, each: xs.map((x) => x.predictedMs / x.measuredMs - 1) });
      console.log(`| ${e.model} | ${e.threads} | ${e.k} | ${i} | ${xs.map((x) => ms(x.predictedMs)).join(', ')} | ${xs.map((x) => ms(x.measuredMs)).join(', ')} | ${xs.map((x) => pct(x.predictedMs / x.measuredMs - 1)).join(', ')} | ${pct(error)} |`);
    }
    const hs = e.rounds.map((r) => r.host).filter((h) => h && h.predictedFps !== null);
    if (hs.length >= 2) {
      const error = mid(hs.map((h) => h.predictedFps)) / mid(hs.map((h) => h.measuredFps)) - 1;
      pipeRows.push({ ...e, error, each: hs.map((h) => h.predictedFps / h.measuredFps - 1) });
      console.log(`| ${e.model} | ${e.threads} | ${e.k} | pipeline FPS, this host | ${hs.map((h) => ms(h.predictedFps)).join(', ')} | ${hs.map((h) => ms(h.measuredFps)).join(', ')} | ${hs.map((h) => pct(h.predictedFps / h.measuredFps - 1)).join(', ')} | ${pct(error)} |`);
    }
  }
  const abs = (rows) => rows.map((r) => Math.abs(r.error));
  const eachAbs = (rows) => rows.flatMap((r) => r.each.map(Math.abs));
  console.log(`\n- stages, median of ${rounds} predictions against the median of ${rounds} measurements: ${within(abs(stageRows), 0.15)} within 15 % (median |error| ${med(abs(stageRows))}); one round at a time: ${within(eachAbs(stageRows), 0.15)}`);
  console.log(`- pipelines (this host's prediction), the same: ${within(abs(pipeRows), 0.1)} within 10 % (median |error| ${med(abs(pipeRows))}); one round at a time: ${within(eachAbs(pipeRows), 0.1)}`);
  for (const t of [...new Set(pipeRows.map((r) => r.threads))]) {
    const s = stageRows.filter((r) => r.threads === t);
    const q = pipeRows.filter((r) => r.threads === t);
    console.log(`  - ${t} thread(s): stages ${within(abs(s), 0.15)}, pipelines ${within(abs(q), 0.1)}`);
  }
}
console.log(`- load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
if (values.json) await writeFile(values.json, `${JSON.stringify(allResults, null, 1)}\n`);
await rm(tmp, { recursive: true, force: true });
