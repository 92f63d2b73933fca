#!/usr/bin/env node
// Nodes of a loaded model outside its main chain: those none of whose inputs (transitively) depend on
// a graph input, i.e. constant work loading did not fold (each such branch can sit in any stage before
// its reader, which multiplies the cut sets an exact DAG solve considers). Prints the layer count, the
// count of such nodes, and the first N of them (env N, default 12) with their output types.
// Usage: node bench/side-branches.mjs <model.onnx> [name=dims[:values] ...]   (built packages needed)
import { loadModel } from '@dnnpart/onnx-graph';
const [file, ...specs] = process.argv.slice(2);
const inputShapes = Object.fromEntries(specs.map((s) => { const [k, v] = s.split('='); const [sh, val] = v.split(':'); return [k, val ? { shape: sh ? sh.split('x').map(Number) : [], value: val.split(',').map(Number) } : sh.split('x').map(Number)]; }));
const m = await loadModel(file, { inputShapes });
const g = m.graph;
const dep = new Set(g.inputs);
const side = [];
for (const n of g.nodes) { if ([...n.inputs, ...(n.implicitInputs ?? [])].some((x) => dep.has(x))) n.outputs.forEach((o) => dep.add(o)); else side.push(`${n.name} ${n.op} -> ${n.outputs.map((o) => `${g.tensors.get(o)?.dtype}[${g.tensors.get(o)?.shape}]`).join(',')}`); }
console.log(file.split('/').pop(), g.nodes.length, 'side', side.length);
console.log(side.slice(0, Number(process.env.N ?? 12)).join('\n'));
