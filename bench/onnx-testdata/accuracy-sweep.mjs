#!/usr/bin/env node
// ONNX's backend test models (Debian's libonnx-testdata) through @dnnpart/accuracy's evaluatePlan,
// with each test's inputs as the evaluation and calibration sample: a model of two layers or more cut
// in two at the middle, stages fp16 then int8 (int8 transfer) and int8 then fp16 (fp16 transfer); a
// one-layer model as one fp16 stage and as one int8 stage. Prints how many models had every run done,
// the untyped exceptions (there should be none) and the coded refusals by message.
// Needs the packages built. Usage: node bench/onnx-testdata/accuracy-sweep.mjs [data dir]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeModel, loadModel, setRuntimeLogLevel, tensorFromProto } from '@dnnpart/onnx-graph';
import { evaluatePlan } from '@dnnpart/accuracy';

setRuntimeLogLevel('fatal');
const DATA = process.argv[2] ?? '/usr/share/libonnx-testdata/data';
const coded = (e) => typeof e?.code === 'string' && /^[A-Z]+_[A-Z_]+$/.test(e.code) && !String(e.message).includes('\n');
const tally = { models: 0, ok: 0, refusals: new Map(), untyped: [] };
for (const group of ['node', 'pytorch-converted', 'pytorch-operator', 'simple']) {
  for (const name of readdirSync(join(DATA, group)).sort()) {
    const dir = join(DATA, group, name);
    const file = join(dir, 'model.onnx');
    if (!existsSync(file)) continue;
    let proto;
    try {
      proto = decodeModel(readFileSync(file), file);
    } catch {
      continue;
    }
    // The test's inputs (tensors only), by the graph's input names in order.
    const inits = new Set(proto.graph.initializer.map((x) => x.name));
    const inputs = proto.graph.input.filter((i) => !inits.has(i.name));
    if (!inputs.every((i) => i.type?.value.case === 'tensorType')) continue;
    const feeds = {};
    let feedable = true;
    for (let i = 0; feedable && i < inputs.length; i++) {
      const f = join(dir, 'test_data_set_0', `input_${i}.pb`);
      let got = null;
      try {
        got = existsSync(f) ? tensorFromProto(readFileSync(f), f) : null;
      } catch {
        got = null;
      }
      if (got === null) feedable = false;
      else feeds[inputs[i].name] = got.tensor;
    }
    if (!feedable) continue;
    // Small integer inputs as values, as `--input name=dims:values` gives them.
    const specs = {};
    for (const [k, v] of Object.entries(feeds)) {
      specs[k] = v.data.length <= 16 && !v.type.startsWith('float') ? { shape: v.dims.map(Number), value: Array.from(v.data, Number) } : { shape: v.dims.map(Number) };
    }
    let model;
    try {
      model = await loadModel(file, { inputShapes: specs });
    } catch {
      continue;
    }
    const live = Object.fromEntries(Object.entries(feeds).filter(([k]) => model.graph.inputs.includes(k)));
    tally.models++;
    const n = model.graph.nodes.length;
    const halves = { stages: Object.fromEntries(model.graph.nodes.map((nd, i) => [nd.name, i < Math.ceil(n / 2) ? 0 : 1])) };
    const whole = { stages: Object.fromEntries(model.graph.nodes.map((nd) => [nd.name, 0])) };
    const runs = n >= 2
      ? [{ split: halves, precision: ['fp16', 'int8'], transfer: 'int8' }, { split: halves, precision: ['int8', 'fp16'], transfer: 'fp16' }]
      : [{ split: whole, precision: 'fp16' }, { split: whole, precision: 'int8', transfer: 'int8' }];
    let all = true;
    for (const r of runs) {
      try {
        await evaluatePlan(model, { ...r, inputs: [live], calibration: [live] });
      } catch (e) {
        all = false;
        if (coded(e)) {
          const key = `${e.code}: ${String(e.message).replaceAll(DATA, '').slice(0, 140)}`;
          tally.refusals.set(key, [...(tally.refusals.get(key) ?? []), name]);
        } else tally.untyped.push(`${group}/${name} ${JSON.stringify(r.precision)}: ${e?.constructor?.name}: ${String(e?.message ?? e).split('\n')[0].slice(0, 200)}`);
      }
    }
    if (all) tally.ok++;
  }
}
console.log(`models ${tally.models}, every run done ${tally.ok}, untyped exceptions ${tally.untyped.length}`);
for (const u of tally.untyped) console.log('UNTYPED', u);
for (const [k, v] of [...tally.refusals].sort((a, b) => b[1].length - a[1].length)) console.log(v.length, k, '|', v.slice(0, 4).join(' '));
