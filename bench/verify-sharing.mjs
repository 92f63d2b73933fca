#!/usr/bin/env node
// How the stages of a pipeline share this host's cores (issue 10): replays the pipelines of one or more
// `bench/verify-stages.mjs --json` runs through verify's frame-by-frame simulation (hostPipelinePeriodMs)
// with the cores each stage keeps busy set by different rules, against the same measured throughput:
// every thread a core (stageParallelism), and a stage's measured speedup from one thread plus w cores
// per extra thread (stageCores, w = EXTRA_THREAD_CORES), for a few w. Each rule is fed the stages'
// predicted times and, apart, their measured medians (the rule's own error, free of the stage predictions').
//
//   node bench/verify-sharing.mjs run1.json [run2.json ...]
// Needs the built packages. Prints Markdown.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { capacityEfficiency, hostPipelinePeriodMs, stageParallelism, EXTRA_THREAD_CORES } from '@dnnpart/report';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node bench/verify-sharing.mjs <verify-stages --json output> ...');
  process.exit(2);
}
const clamp = (x, a, b) => Math.max(a, Math.min(b, x));
const rules = {
  'every thread a core': (t, c) => stageParallelism(t, c),
  ...Object.fromEntries([0.3, 0.4, EXTRA_THREAD_CORES].map((w) => [`speedup + ${w}`, (t, c, s) => (s === undefined ? stageParallelism(t, c) : clamp(s + w * (stageParallelism(t, c) - 1), 1, stageParallelism(t, c)))])),
  // The same, but never fewer cores than the stage's CPU time over its wall clock, measured back to back.
  [`speedup + ${EXTRA_THREAD_CORES}, at least CPU / wall`]: (t, c, s, st) => (s === undefined ? stageParallelism(t, c) : clamp(Math.max(s + EXTRA_THREAD_CORES * (stageParallelism(t, c) - 1), st.cpuMs / st.measuredMs), 1, stageParallelism(t, c))),
};
const pct = (x) => `${(100 * x).toFixed(1)} %`;
console.log('| run | threads | rule | from predicted stage times: within 10 % | median \\|error\\| | from measured stage times: within 10 % | median \\|error\\| |');
console.log('|---|---:|---|---:|---:|---:|---:|');
for (const file of files) {
  const runs = JSON.parse(readFileSync(file, 'utf8'));
  for (const threads of [...new Set(runs.map((r) => r.threads))]) {
    for (const [name, rule] of Object.entries(rules)) {
      const errs = { pred: [], meas: [] };
      for (const { stages, result: r } of runs.filter((x) => x.threads === threads && x.stages > 1)) {
        const h = r.pipeline?.host;
        const cal = r.hostCalibration;
        if (!h || !cal) continue;
        const cores = h.stages.map((x, i) => rule(cal.threads, cal.cores, x.speedup, r.stages[i]));
        const eff = capacityEfficiency(cal, stages);
        const handoff = h.stages.map((x) => x.handoffMs);
        const err = (ms) => 1000 / hostPipelinePeriodMs(ms, handoff, cores, cal.cores, eff).periodMs / r.pipeline.measuredFps - 1;
        errs.pred.push(Math.abs(err(r.stages.map((s) => s.predictedMs))));
        errs.meas.push(Math.abs(err(r.stages.map((s) => s.measuredMs))));
      }
      const cell = (xs) => { const s = [...xs].sort((a, b) => a - b); return [`${s.filter((x) => x <= 0.1).length} of ${s.length}`, pct(s[s.length >> 1] ?? NaN)]; };
      console.log(`| ${basename(file)} | ${threads} | ${name} | ${cell(errs.pred).join(' | ')} | ${cell(errs.meas).join(' | ')} |`);
    }
  }
}
