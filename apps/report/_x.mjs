import { writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { buildZooModel } from '@dnnpart/zoo';
import { profileSessionOptions } from '@dnnpart/profiler';
const { workerSession, mainThreadSession } = await import('../../packages/runtime/dist/stage-session.js');
writeFileSync('/tmp/sq.onnx', buildZooModel('squeezenet1_1'));
const x = new ort.Tensor('float32', new Float32Array(3*224*224).fill(0.5), [1,3,224,224]);
const med = (a) => a.sort((p, q) => p - q)[a.length >> 1];
const m = mainThreadSession(await ort.InferenceSession.create('/tmp/sq.onnx', profileSessionOptions(1, 'all')));
const w = await workerSession('/tmp/sq.onnx', profileSessionOptions(1, 'all'));
for (const round of [1, 2, 3]) for (const [k, s] of [['main', m], ['worker', w]]) {
  for (let i = 0; i < 20; i++) await s.run({ input: x }, ['output']);
  const t = [];
  for (let i = 0; i < 200; i++) { const t0 = performance.now(); await s.run({ input: x }, ['output']); t.push(performance.now() - t0); }
  console.log(round, k, med(t).toFixed(3), 'ms');
}
await m.release(); await w.release();
