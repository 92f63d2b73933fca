#!/usr/bin/env node
// Every tensor of each model a manifest lists (bench/torch-exports/export.py, export_audio.py) as the
// loaded graph has it (type and shape: what transfers and memory are priced from) against what
// onnxruntime computes for it in one run of the model with every tensor as an output. Prints per model
// the layers, the tensors compared, and those that differ (a tensor whose size the data decides may
// differ: the run feeds other random values than loading measured with).
// Usage: node bench/tensor-shapes.mjs <manifest.json> ...   (built packages needed)
import { readFileSync } from 'node:fs';
import { clone, create } from '@bufbuild/protobuf';
import { ModelProtoSchema, ValueInfoProtoSchema } from 'onnx-buf';
import { edgeDtype, encodeModel, loadModel, randomFeeds, runModel, runnableModel } from '@dnnpart/onnx-graph';
const manifests = process.argv.slice(2);
for (const mf of manifests) for (const m of JSON.parse(readFileSync(mf, 'utf8'))) {
  if (m.invalid) continue;
  const shapes = Object.fromEntries(Object.entries(m.inputs).map(([k, s]) => [k, m.values?.[k] ? { shape: s, value: m.values[k] } : s]));
  try {
    const model = await loadModel(m.file, { inputShapes: shapes });
    const { graph } = model;
    const feeds = randomFeeds(graph, 11);
    const produced = graph.nodes.flatMap((nd) => nd.outputs).filter((o) => { const d = graph.tensors.get(o)?.dtype; return o !== '' && !graph.outputs.includes(o) && d && edgeDtype(d) === d; });
    const all = clone(ModelProtoSchema, runnableModel(model));
    for (const o of produced) all.graph.output.push(create(ValueInfoProtoSchema, { name: o }));
    const res = await runModel(encodeModel(all), feeds, [...graph.outputs, ...produced]);
    const differ = [];
    for (const o of [...graph.outputs, ...produced]) { const x = graph.tensors.get(o); const r = res[o]; if (!r || edgeDtype(x.dtype) !== r.type || x.shape.join() !== r.dims.join()) differ.push(`${o} (${x.producer}): ${x.dtype}[${x.shape}] vs ${r?.type}[${r?.dims}]`); }
    console.log(m.name, graph.nodes.length, 'tensors', produced.length, 'differ', differ.length, differ.slice(0, 4).join(' | '));
  } catch (e) { console.log(m.name, 'ERR', e.message.slice(0, 200)); }
}
