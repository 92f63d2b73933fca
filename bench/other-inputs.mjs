#!/usr/bin/env node
// The loaded model, and its stages, computing the file's outputs on inputs other than the sample input:
// where the data decides a size (a detector's boxes over its threshold, a count read by Shape), the
// load measures it on the sample input, and nothing may freeze that count into the model that is split
// and deployed. For each model: load as `dnnpart` does, cut in three along the node order, then run the
// file, the loaded model and the three stages on the sample input, three other seeds and the constant
// fills -1, 0 and 1 (float inputs; others keep the sample's values; the seeds draw token ids as
// `dnnpart accuracy` does); print each run's first output shape and whether all three agree (floats
// within 1e-4, NaN where the file has NaN, shapes exactly).
// Usage: node bench/other-inputs.mjs --manifest <manifest.json> [--only name,name]   (built packages needed)
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { encodeModel, fromHalfBits, loadModel, randomFeeds, runModel, runnableModel, runStages, splitModel } from '@dnnpart/onnx-graph';
import { generatedInputs } from '@dnnpart/accuracy';
import { manifestModels } from './_external.mjs';

const args = process.argv.slice(2);
const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const only = opt('--only')?.split(',') ?? [];
const models = manifestModels(opt('--manifest')).filter((m) => m.available && !m.invalid && (only.length === 0 || only.includes(m.name)));
const INPUTS = ['sample', 'seed 2', 'seed 3', 'seed 4', 'fill -1', 'fill 0', 'fill 1'];

/** Largest difference over `names` (NaN where the other has NaN is no difference; a shape change is Infinity). */
function diff(a, b, names) {
  let max = 0;
  for (const o of names) {
    if (a[o].dims.join() !== b[o].dims.join()) return Infinity;
    const v = a[o].type === 'float16' ? fromHalfBits : Number;
    for (let i = 0; i < a[o].data.length; i++) {
      const [x, y] = [v(a[o].data[i]), v(b[o].data[i])];
      if (Number.isNaN(x) || Number.isNaN(y)) { if (Number.isNaN(x) !== Number.isNaN(y)) return Infinity; continue; }
      max = Math.max(max, x === y ? 0 : Math.abs(x - y));
    }
  }
  return max;
}

console.log(`# other inputs than the sample: ${new Date().toISOString()}`);
console.log(`| model | layers | ${INPUTS.join(' | ')} |`);
console.log(`|---|---:|${INPUTS.map(() => '---').join('|')}|`);
for (const m of models) {
  const inputShapes = Object.fromEntries(Object.entries(m.inputs).map(([k, shape]) => [k, m.values[k] ? { shape, value: m.values[k] } : shape]));
  const model = await loadModel(m.file, { inputShapes });
  const g = model.graph;
  const n = g.nodes.length;
  const split = splitModel(model, { after: [...new Set([Math.floor(n / 3), Math.floor((2 * n) / 3)])].map((i) => g.nodes[Math.min(i, n - 2)].name) });
  const file = readFileSync(m.file);
  const whole = encodeModel(runnableModel(model));
  const cells = [];
  for (const label of INPUTS) {
    const [kind, v] = label.split(' ');
    const feeds = kind === 'seed' ? generatedInputs(g, 1, Number(v))[0] : randomFeeds(g);
    if (kind === 'fill') {
      for (const x of g.inputs) {
        const t = feeds[x];
        if (t.type === 'float32') feeds[x] = new ort.Tensor('float32', new Float32Array(t.size).fill(Number(v)), t.dims);
      }
    }
    const shape = (r) => r[g.outputs[0]].dims.join('x');
    const run = async (f) => { try { return await f(); } catch (e) { return String(e.message).split('\n')[0].slice(0, 160); } };
    const want = await run(() => runModel(file, feeds, g.outputs));
    if (typeof want === 'string') { cells.push(`file fails: ${want}`); continue; }
    const loaded = await run(() => runModel(whole, feeds, g.outputs));
    const stages = await run(() => runStages(split, feeds));
    const verdict = (r) => (typeof r === 'string' ? `fails: ${r}` : diff(want, r, g.outputs) <= 1e-4 ? 'same' : `differs (${shape(r)}, max diff ${diff(want, r, g.outputs)})`);
    const a = verdict(loaded);
    const b = verdict(stages);
    cells.push(a === 'same' && b === 'same' ? `${shape(want)} same` : `${shape(want)}: loaded ${a}; stages ${b}`);
  }
  console.log(`| ${m.name} | ${n} | ${cells.join(' | ')} |`);
}
