// Load time of every real exported model (loadModel with its table shapes and fixed values: the passes and
// the shape analysis), median of 3 loads. Needs the packages built. Usage: node bench/real-models-load.mjs
import { loadModel } from '../packages/onnx-graph/dist/index.js';
import { externalModels } from '../packages/zoo/dist/index.js';
for (const m of externalModels()) {
  const specs = Object.fromEntries(Object.entries(m.inputs).map(([k, s]) => [k, m.values[k] ? { shape: s, value: m.values[k] } : s]));
  const t = [];
  let nodes = 0;
  for (let i = 0; i < 3; i++) { const t0 = performance.now(); const l = await loadModel(m.file, { inputShapes: specs }); t.push(performance.now() - t0); nodes = l.graph.nodes.length; }
  t.sort((a, b) => a - b);
  console.log(m.name.padEnd(20), nodes, t[1].toFixed(0), 'ms');
}
