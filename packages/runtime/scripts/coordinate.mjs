// A coordinator in a child process (inside a network namespace, for the rate-limited tests and
// the benchmark): reads a job (JSON file named by argv[2]), prints the results as JSON.
//   { agents: [{id, peer}], model: "m.onnx", links?: {sizes, repeats}, plans?: [{name, stages, ...}],
//     frames?, rate?, threads? }
import { readFileSync } from 'node:fs';
import { loadModel } from '@dnnpart/onnx-graph';
import { measureLinks, runPlan } from '@dnnpart/runtime';

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const out = {};
if (job.links) out.links = await measureLinks(job.agents, job.links);
if (job.plans) {
  const model = await loadModel(job.model);
  out.runs = [];
  for (const plan of job.plans) {
    const { trace: _t, ...r } = await runPlan({ model, plan, agents: job.agents, frames: job.frames ?? 20, ...(job.rate ? { rate: job.rate } : {}), ...(job.threads ? { threads: job.threads } : {}) });
    out.runs.push({ name: plan.name, ...r });
  }
}
process.stdout.write(JSON.stringify(out));
